//go:build !nohub

package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/jupygo/jupygo/internal/hub/auth/fakegithub"
	"github.com/jupygo/jupygo/internal/testutil/sysaccount"
)

// writeHubConfig writes a hub configuration file into a temporary folder
// and returns its path.
func writeHubConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jupygo_hub.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// clearOAuthEnv empties the variables that the OAuth keys fall back to, so
// the hub reads only what a test sets.
func clearOAuthEnv(t *testing.T) {
	for _, name := range []string{"GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET", "OAUTH_CLIENT_ID",
		"OAUTH_CLIENT_SECRET", "OAUTH_CALLBACK_URL", "GITHUB_URL", "OAUTH2_AUTHORIZE_URL",
		"OAUTH2_TOKEN_URL", "OAUTH2_USERDATA_URL", "OAUTH2_USERNAME_KEY", "LOGIN_SERVICE"} {
		t.Setenv(name, "")
	}
}

// startFakeGitHub starts a fake GitHub that requires PKCE, with users, and
// points the hub's client credentials at it through the environment.
func startFakeGitHub(t *testing.T, users ...fakegithub.User) *fakegithub.Server {
	t.Helper()
	gh := fakegithub.Start(fakegithub.Options{RequirePKCE: true})
	t.Cleanup(gh.Close)
	for _, u := range users {
		gh.AddUser(u)
	}
	clearOAuthEnv(t)
	t.Setenv("GITHUB_CLIENT_ID", gh.ClientID)
	t.Setenv("GITHUB_CLIENT_SECRET", gh.ClientSecret)
	return gh
}

// hubCallbackPath returns the hub path of a redirect to the hub's
// oauth_callback, failing the test for any other page.
func hubCallbackPath(t *testing.T, hp *hubProcess, p hubPage) string {
	t.Helper()
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, hp.url+"/hub/oauth_callback?") {
		t.Fatalf("provider reply = %d %q, want a redirect to the hub's callback", p.status, p.location)
	}
	return strings.TrimPrefix(p.location, hp.url)
}

func TestHubGitHubSignIn(t *testing.T) {
	bin := buildJupygo(t)
	gh := startFakeGitHub(t, fakegithub.User{Login: "Octocat", Name: "The Octocat"},
		fakegithub.User{Login: "member", Orgs: []string{"jupyter"}},
		fakegithub.User{Login: "stranger"})
	cfg := writeHubConfig(t, `[JupyterHub]
authenticator_class = "oauthenticator.GitHubOAuthenticator"

[Authenticator]
admin_users = ["octocat"]

[GitHubOAuthenticator]
github_url = "`+gh.URL+`"
allowed_organizations = ["jupyter"]
scope = ["read:org"]
`)
	dataDir := t.TempDir()
	hp := startHubProcess(t, bin, dataDir, "-f", cfg)
	if hp.password != "" {
		t.Error("the hub printed a first admin password, which GitHub sign-in has no use for")
	}

	signIn := func(login string) (*hubBrowser, hubPage) {
		return signInWithGitHub(t, hp, gh, login, "/hub/token")
	}

	for _, login := range []string{"OCTOCAT", "member"} {
		b, p := signIn(login)
		if p.status != http.StatusFound || p.location != "/hub/token" {
			t.Fatalf("callback of %s = %d %q, want a redirect to /hub/token: %s", login, p.status,
				p.location, p.body)
		}
		if p := b.send("GET", "/hub/home", nil); p.status != http.StatusOK {
			t.Errorf("home of %s = %d", login, p.status)
		}
	}
	if _, p := signIn("stranger"); p.status != http.StatusForbidden {
		t.Errorf("callback of a user in no allowed organization = %d, want 403", p.status)
	}
}

// TestHubLocalGitHubSignIn runs a hub with authenticator_class
// local-github and no spawner_class, as a jupyterhub_config.py for
// LocalGitHubOAuthenticator is written. Users sign in through GitHub as
// with github, and their servers are system accounts: a login that cannot
// be an account name is rejected at sign-in, and without
// create_system_users a start for a missing account is rejected. The test
// creates no account.
func TestHubLocalGitHubSignIn(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildJupygo(t)
	// A name that no system account has.
	login := sysaccount.NewName()
	gh := startFakeGitHub(t, fakegithub.User{Login: login}, fakegithub.User{Login: "9lives"},
		fakegithub.User{Login: "stranger"})
	cfg := writeHubConfig(t, `[JupyterHub]
authenticator_class = "oauthenticator.LocalGitHubOAuthenticator"

[Authenticator]
allowed_users = ["`+login+`", "9lives"]

[GitHubOAuthenticator]
github_url = "`+gh.URL+`"

[LocalAuthenticator]
create_system_users = false
`)
	hp := startHubProcess(t, bin, t.TempDir(), "-f", cfg)

	b, p := signInWithGitHub(t, hp, gh, login, "/hub/home")
	if p.status != http.StatusFound || p.location != "/hub/home" {
		t.Fatalf("callback of %s = %d %q, want a redirect to /hub/home: %s", login, p.status,
			p.location, p.body)
	}
	if p := b.send("GET", "/hub/home", nil); p.status != http.StatusOK {
		t.Errorf("home of %s = %d", login, p.status)
	}
	if _, p := signInWithGitHub(t, hp, gh, "stranger", "/hub/home"); p.status != http.StatusForbidden {
		t.Errorf("callback of a user not in allowed_users = %d, want 403", p.status)
	}
	_, p = signInWithGitHub(t, hp, gh, "9lives", "/hub/home")
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "system account") {
		t.Errorf("callback of 9lives = %d, want 403 naming the system account rule: %s",
			p.status, p.body)
	}

	// The spawner is localprocess, so without create_system_users the hub
	// rejects the start of a user who has no account before anything runs.
	r := apiRequest(t, "POST", hp.url+"/hub/api/users/"+login+"/server", hubToken(t, b), "")
	if r.status != http.StatusBadRequest {
		t.Fatalf("starting the server of %s = %d, want 400: %s", login, r.status, r.body)
	}
	want := "not as root"
	if os.Geteuid() == 0 {
		want = "create_system_users"
	}
	if !strings.Contains(r.body, want) {
		t.Errorf("starting the server of %s: %s, want a message with %q", login, r.body, want)
	}
}

// signInWithGitHub signs a new browser in at the fake GitHub as login,
// from the hub's login page with next, and returns the browser and the
// hub's reply to the callback.
func signInWithGitHub(t *testing.T, hp *hubProcess, gh *fakegithub.Server, login,
	next string) (*hubBrowser, hubPage) {
	t.Helper()
	b := newHubBrowser(t, hp.url)
	if p := b.send("GET", "/hub/login", nil); !strings.Contains(p.body, "Sign in with GitHub") {
		t.Fatalf("login page = %d, lacks the GitHub button: %s", p.status, p.body)
	}
	p := b.send("GET", "/hub/oauth_login?next="+url.QueryEscape(next), nil)
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, gh.URL+"/login/oauth/authorize?") {
		t.Fatalf("oauth_login = %d %q, want the fake GitHub", p.status, p.location)
	}
	p = b.send("POST", p.location, url.Values{"login": {login}})
	return b, b.send("GET", hubCallbackPath(t, hp, p), nil)
}

// labIdentity starts user's default server, opens JupyterLab through the
// OAuth flow of the server, and returns the identity of its /api/me.
func labIdentity(t *testing.T, b *hubBrowser, user string) map[string]any {
	t.Helper()
	lab := "/user/" + user + "/lab"
	p, at := b.follow("/hub/spawn/" + user + "?next=" + url.QueryEscape(lab))
	if p.status != http.StatusOK || at != lab {
		t.Fatalf("JupyterLab of %s = %d at %s: %.500s", user, p.status, at, p.body)
	}
	p = b.send("GET", "/user/"+user+"/api/me", nil)
	if p.status != http.StatusOK {
		t.Fatalf("/api/me of %s = %d %s", user, p.status, p.body)
	}
	var me struct {
		Identity map[string]any `json:"identity"`
	}
	if err := json.Unmarshal([]byte(p.body), &me); err != nil {
		t.Fatalf("/api/me of %s: %v: %s", user, err, p.body)
	}
	return me.Identity
}

// checkIdentity compares the fields of an /api/me identity with want.
func checkIdentity(t *testing.T, got map[string]any, want map[string]any) {
	t.Helper()
	for key, value := range want {
		if got[key] != value {
			t.Errorf("identity %s = %#v, want %#v (identity %v)", key, got[key], value, got)
		}
	}
}

func TestHubGitHubIdentityInLab(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildJupygo(t)
	gh := startFakeGitHub(t, fakegithub.User{Login: "nameless"})
	avatar := gh.URL + "/avatars/u/583231?v=4"
	gh.AddUser(fakegithub.User{Login: "Octocat", Name: "The Octocat", AvatarURL: avatar})
	cfg := writeHubConfig(t, `[JupyterHub]
authenticator_class = "github"

[Authenticator]
allowed_users = ["octocat", "nameless"]

[GitHubOAuthenticator]
github_url = "`+gh.URL+`"
`)
	hp := startHubProcess(t, bin, t.TempDir(), "-f", cfg)

	b, p := signInWithGitHub(t, hp, gh, "octocat", "/hub/home")
	if p.status != http.StatusFound {
		t.Fatalf("callback = %d: %s", p.status, p.body)
	}
	checkIdentity(t, labIdentity(t, b, "octocat"), map[string]any{
		"username":     "octocat",
		"name":         "The Octocat",
		"display_name": "The Octocat",
		"initials":     "TO",
		"avatar_url":   avatar,
	})

	// A GitHub account without a name shows its hub name and no avatar.
	b, p = signInWithGitHub(t, hp, gh, "nameless", "/hub/home")
	if p.status != http.StatusFound {
		t.Fatalf("callback = %d: %s", p.status, p.body)
	}
	checkIdentity(t, labIdentity(t, b, "nameless"), map[string]any{
		"username":     "nameless",
		"name":         "nameless",
		"display_name": "nameless",
		"initials":     "N",
		"avatar_url":   nil,
	})
}

func TestHubGitHubMissingCredentials(t *testing.T) {
	bin := buildJupygo(t)
	clearOAuthEnv(t)
	cfg := writeHubConfig(t, "[JupyterHub]\nauthenticator_class = \"github\"\n")
	raw, err := exec.Command(bin, "hub", "--port", "0", "--data-dir", t.TempDir(), "-f", cfg).
		CombinedOutput()
	out := string(raw)
	if err == nil {
		t.Fatalf("the hub started without client credentials:\n%s", out)
	}
	for _, want := range []string{"OAuthenticator.client_id", "GITHUB_CLIENT_ID",
		"OAuthenticator.client_secret"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestHubOIDCSignIn(t *testing.T) {
	bin := buildJupygo(t)
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown()
	m.QueueUser(&mockoidc.MockUser{Subject: "7", Email: "Ada@Example.org", EmailVerified: true})

	clearOAuthEnv(t)
	t.Setenv("OAUTH_CLIENT_ID", m.ClientID)
	t.Setenv("OAUTH_CLIENT_SECRET", m.ClientSecret)
	cfg := writeHubConfig(t, `[JupyterHub]
authenticator_class = "generic-oauth"

[Authenticator]
allowed_users = ["ada@example.org"]

[GenericOAuthenticator]
oidc_issuer = "`+m.Issuer()+`"
username_claim = "email"
scope = ["email"]
login_service = "Example SSO"
`)
	hp := startHubProcess(t, bin, t.TempDir(), "-f", cfg)
	b := newHubBrowser(t, hp.url)
	if p := b.send("GET", "/hub/login", nil); !strings.Contains(p.body, "Sign in with Example SSO") {
		t.Errorf("login page lacks the provider's button: %s", p.body)
	}
	signInWithOIDC(t, hp, m, b)
	if p := b.send("GET", "/hub/home", nil); p.status != http.StatusOK ||
		!strings.Contains(p.body, "ada@example.org") {
		t.Errorf("home after the OIDC sign-in = %d", p.status)
	}
}

// signInWithOIDC signs b in at mockoidc as the next user of its queue and
// fails the test unless the hub's callback signs the browser in.
func signInWithOIDC(t *testing.T, hp *hubProcess, m *mockoidc.MockOIDC, b *hubBrowser) {
	t.Helper()
	p := b.send("GET", "/hub/oauth_login", nil)
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, m.AuthorizationEndpoint()) {
		t.Fatalf("oauth_login = %d %q, want mockoidc's authorize endpoint", p.status, p.location)
	}
	p = b.send("GET", hubCallbackPath(t, hp, b.send("GET", p.location, nil)), nil)
	if p.status != http.StatusFound {
		t.Fatalf("callback = %d: %s", p.status, p.body)
	}
}

// profileUser is a mockoidc user whose userinfo reply has the OpenID
// Connect profile claims name and picture, which mockoidc's MockUser
// leaves out.
type profileUser struct {
	*mockoidc.MockUser
	name, picture string
}

func (u *profileUser) Userinfo(scope []string) ([]byte, error) {
	raw, err := u.MockUser.Userinfo(scope)
	if err != nil {
		return nil, err
	}
	claims := map[string]any{}
	if err := json.Unmarshal(raw, &claims); err != nil {
		return nil, err
	}
	claims["name"], claims["picture"] = u.name, u.picture
	return json.Marshal(claims)
}

func TestHubOIDCIdentityInLab(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildJupygo(t)
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown()
	picture := m.Addr() + "/pictures/ada.png"
	m.QueueUser(&profileUser{MockUser: &mockoidc.MockUser{Subject: "7", PreferredUsername: "ada"},
		name: "Ada Lovelace", picture: picture})

	clearOAuthEnv(t)
	t.Setenv("OAUTH_CLIENT_ID", m.ClientID)
	t.Setenv("OAUTH_CLIENT_SECRET", m.ClientSecret)
	cfg := writeHubConfig(t, `[JupyterHub]
authenticator_class = "generic-oauth"

[Authenticator]
allowed_users = ["ada"]

[GenericOAuthenticator]
oidc_issuer = "`+m.Issuer()+`"
username_claim = "preferred_username"
scope = ["profile"]
`)
	hp := startHubProcess(t, bin, t.TempDir(), "-f", cfg)
	b := newHubBrowser(t, hp.url)
	signInWithOIDC(t, hp, m, b)
	checkIdentity(t, labIdentity(t, b, "ada"), map[string]any{
		"username":     "ada",
		"name":         "Ada Lovelace",
		"display_name": "Ada Lovelace",
		"initials":     "AL",
		"avatar_url":   picture,
	})
}
