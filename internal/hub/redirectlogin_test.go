package hub

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/jupygo/jupygo/internal/hub/auth"
	"github.com/jupygo/jupygo/internal/hub/auth/fakegithub"
	"github.com/jupygo/jupygo/internal/store"
)

// fakeProvider is a redirect authenticator whose provider signs in the
// user named by the callback's user parameter when its code is "ok".
type fakeProvider struct{}

func (fakeProvider) Class() string                     { return "fake" }
func (fakeProvider) NormalizeUsername(s string) string { return strings.ToLower(s) }

func (fakeProvider) LoginService() string { return "Fake" }

func (fakeProvider) LoginURL(state, callback string) string {
	return "https://provider.example/authorize?" +
		url.Values{"state": {state}, "redirect_uri": {callback}}.Encode()
}

func (fakeProvider) Callback(_ context.Context, q url.Values, _ string) (auth.User, error) {
	if q.Get("code") != "ok" {
		return auth.User{}, errors.New("bad code")
	}
	return auth.User{Name: q.Get("user")}, nil
}

func TestRedirectSignIn(t *testing.T) {
	th := startHub(t, hubOptions{auth: fakeProvider{}, config: `
[Authenticator]
allowed_users = ["alice"]
`})
	b := th.browser()
	login := b.get("/hub/login?next=/hub/token")
	if !strings.Contains(login.body, "/hub/oauth_login?next=%2fhub%2ftoken") &&
		!strings.Contains(login.body, "/hub/oauth_login?next=%2Fhub%2Ftoken") {
		t.Fatalf("login page lacks the provider link: %s", login.body)
	}
	p := b.get("/hub/oauth_login?next=/hub/token")
	u, err := url.Parse(p.location)
	if p.status != http.StatusFound || err != nil || u.Host != "provider.example" {
		t.Fatalf("oauth_login = %d %q", p.status, p.location)
	}
	state := u.Query().Get("state")
	if got := u.Query().Get("redirect_uri"); got != th.url+"/hub/oauth_callback" {
		t.Errorf("redirect_uri = %q", got)
	}
	if p := b.get("/hub/oauth_callback?" + url.Values{"state": {"forged"}, "code": {"ok"},
		"user": {"alice"}}.Encode()); p.status != http.StatusBadRequest {
		t.Errorf("callback with a forged state = %d, want 400", p.status)
	}
	p = b.get("/hub/oauth_callback?" + url.Values{"state": {state}, "code": {"ok"},
		"user": {"Alice"}}.Encode())
	if p.status != http.StatusFound || p.location != "/hub/token" {
		t.Fatalf("callback = %d %q, want a redirect to /hub/token", p.status, p.location)
	}
	if p := b.get("/hub/home"); p.status != http.StatusOK {
		t.Errorf("home after the redirect sign-in = %d", p.status)
	}

	// A user the provider knows but the hub does not allow.
	other := th.browser()
	p = other.get("/hub/oauth_login")
	u, _ = url.Parse(p.location)
	p = other.get("/hub/oauth_callback?" + url.Values{"state": {u.Query().Get("state")},
		"code": {"ok"}, "user": {"mallory"}}.Encode())
	if p.status != http.StatusForbidden {
		t.Errorf("callback of a user not allowed = %d, want 403", p.status)
	}
	if _, err := th.store.GetUser(t.Context(), "mallory"); err == nil {
		t.Error("a user who is not allowed got a record")
	}
}

func TestOAuthCallbackProviderError(t *testing.T) {
	logs := &lockedBuffer{}
	th := startHub(t, hubOptions{auth: fakeProvider{}, log: slog.New(slog.NewTextHandler(logs, nil)),
		config: `
[Authenticator]
allow_all = true
`})
	const description = "Call +1 555 0100 to restore your account"
	tests := []struct {
		code       string
		wantStatus int
		wantText   string // a part of the page
	}{
		{"access_denied", http.StatusForbidden, "access_denied"},
		{"server_error", http.StatusBadRequest, "server_error"},
		{"invalid_scope", http.StatusBadRequest, "invalid_scope"},
		{"Visit evil.example to sign in", http.StatusBadRequest, "The provider reported an error"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			b := th.browser()
			p := b.get("/hub/oauth_login")
			u, err := url.Parse(p.location)
			if err != nil {
				t.Fatal(err)
			}
			p = b.get("/hub/oauth_callback?" + url.Values{"state": {u.Query().Get("state")},
				"error": {tt.code}, "error_description": {description}}.Encode())
			if p.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", p.status, tt.wantStatus)
			}
			if !strings.Contains(p.body, tt.wantText) {
				t.Errorf("page lacks %q: %s", tt.wantText, p.body)
			}
			if strings.Contains(p.body, description) {
				t.Errorf("page shows the provider's error_description: %s", p.body)
			}
			if strings.Contains(p.body, "evil.example") {
				t.Errorf("page shows an unknown error code: %s", p.body)
			}
			if len(logLines(logs, "provider returned an error", description)) == 0 {
				t.Errorf("log lacks the provider's error_description: %s", logs)
			}
		})
	}
}

func TestTruncateAtRuneBoundary(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc…"},
		{"aé", 2, "a…"}, // é is two bytes, so the cut moves before it
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// getURL sends GET to an absolute URL, such as the provider's, with the
// browser's cookies.
func (b *browser) getURL(raw string) pageResult {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, raw, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// postURL posts a form to an absolute URL with the browser's cookies.
func (b *browser) postURL(raw string, form url.Values) pageResult {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, raw, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// startGitHubHub starts a fake GitHub and a hub that signs in through it.
func startGitHubHub(t *testing.T, config string, edit func(*auth.GitHubOptions),
	users ...fakegithub.User) (*testHub, *fakegithub.Server) {
	t.Helper()
	gh := fakegithub.Start(fakegithub.Options{RequirePKCE: true})
	t.Cleanup(gh.Close)
	for _, u := range users {
		gh.AddUser(u)
	}
	opts := auth.GitHubOptions{
		OAuthOptions: auth.OAuthOptions{ClientID: gh.ClientID, ClientSecret: gh.ClientSecret},
		GitHubURL:    gh.URL,
	}
	if edit != nil {
		edit(&opts)
	}
	g, err := auth.NewGitHub(opts)
	if err != nil {
		t.Fatal(err)
	}
	return startHub(t, hubOptions{auth: g, config: config}), gh
}

// startGitHubLogin opens /hub/oauth_login in b and returns the URL of the
// fake GitHub's authorize page that it redirects to.
func startGitHubLogin(t *testing.T, b *browser, gh *fakegithub.Server, next string) string {
	t.Helper()
	p := b.get("/hub/oauth_login?next=" + url.QueryEscape(next))
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, gh.URL+"/login/oauth/authorize?") {
		t.Fatalf("oauth_login = %d %q, want a redirect to the fake GitHub", p.status, p.location)
	}
	return p.location
}

// authorizeAt signs in at the fake GitHub's authorize page as login and
// returns the hub path of the callback it redirects to.
func authorizeAt(t *testing.T, b *browser, th *testHub, authorizeURL, login string) string {
	t.Helper()
	p := b.postURL(authorizeURL, url.Values{"login": {login}})
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, th.url+"/hub/oauth_callback?") {
		t.Fatalf("authorize as %s = %d %q, want a redirect to the hub's callback", login, p.status,
			p.location)
	}
	return strings.TrimPrefix(p.location, th.url)
}

func TestGitHubSignInThroughHub(t *testing.T) {
	th, gh := startGitHubHub(t, `
[Authenticator]
allowed_users = ["alice"]
admin_users = ["alice"]
`, func(o *auth.GitHubOptions) {
		o.AllowedOrganizations = []string{"jupyter"}
		o.Scope = []string{"read:org"}
	},
		fakegithub.User{Login: "Alice", Name: "Alice Liddell", AvatarURL: "http://127.0.0.1:1/a.png"},
		fakegithub.User{Login: "Bob", Orgs: []string{"jupyter"}},
		fakegithub.User{Login: "carol"},
	)
	alice, bob := th.browser(), th.browser()
	if p := alice.get("/hub/login"); !strings.Contains(p.body, "Sign in with GitHub") {
		t.Errorf("login page lacks the GitHub button: %s", p.body)
	}

	// Both sign-ins start before either finishes: each state cookie
	// belongs to its own browser.
	aliceAuthorize := startGitHubLogin(t, alice, gh, "/hub/token")
	bobAuthorize := startGitHubLogin(t, bob, gh, "/hub/home")
	bobCallback := authorizeAt(t, bob, th, bobAuthorize, "bob")
	aliceCallback := authorizeAt(t, alice, th, aliceAuthorize, "ALICE")

	if p := alice.get(bobCallback); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, "did not start in this browser") {
		t.Errorf("alice's browser with bob's callback = %d, want the 400 page: %s", p.status, p.body)
	}
	if p := alice.get(aliceCallback); p.status != http.StatusFound || p.location != "/hub/token" {
		t.Fatalf("alice's callback = %d %q, want a redirect to /hub/token", p.status, p.location)
	}
	if p := bob.get(bobCallback); p.status != http.StatusFound || p.location != "/hub/home" {
		t.Fatalf("bob's callback = %d %q: a member of allowed_organizations, want /hub/home",
			p.status, p.location)
	}
	for _, b := range []*browser{alice, bob} {
		if p := b.get("/hub/home"); p.status != http.StatusOK {
			t.Errorf("home after the GitHub sign-in = %d", p.status)
		}
	}

	u, err := th.store.GetUser(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !u.Admin {
		t.Error("alice of admin_users is not an admin")
	}
	var st auth.GitHubAuthState
	if err := json.Unmarshal(u.AuthState, &st); err != nil {
		t.Fatalf("auth state %q: %v", u.AuthState, err)
	}
	if st.GitHubUser.Name != "Alice Liddell" || st.GitHubUser.AvatarURL != "http://127.0.0.1:1/a.png" {
		t.Errorf("auth state github_user = %+v, want the name and avatar", st.GitHubUser)
	}

	// The same person with their login in other letter case is the same
	// user.
	again := th.browser()
	if p := again.get(authorizeAt(t, again, th, startGitHubLogin(t, again, gh, "/hub/home"),
		"aLiCe")); p.status != http.StatusFound {
		t.Fatalf("second sign-in of alice = %d %s", p.status, p.body)
	}
	users, _, err := th.store.ListUsers(t.Context(), store.UserQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.Name)
	}
	if diff := cmp.Diff([]string{"alice", "bob"}, names); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}

	carol := th.browser()
	p := carol.get(authorizeAt(t, carol, th, startGitHubLogin(t, carol, gh, "/hub/home"), "carol"))
	if p.status != http.StatusForbidden {
		t.Errorf("callback of carol, in no allowed organization = %d, want 403", p.status)
	}
	if _, err := th.store.GetUser(t.Context(), "carol"); err == nil {
		t.Error("carol, who is not allowed, got a record")
	}
}

func TestGitHubCallbackFailuresThroughHub(t *testing.T) {
	th, gh := startGitHubHub(t, `
[Authenticator]
allow_all = true
blocked_users = ["Mallory"]
`, func(o *auth.GitHubOptions) { o.AllowedOrganizations = []string{"jupyter"} },
		fakegithub.User{Login: "alice"},
		fakegithub.User{Login: "mallory", Orgs: []string{"jupyter"}, PublicOrgs: []string{"jupyter"}})

	t.Run("no state cookie", func(t *testing.T) {
		p := th.browser().get("/hub/oauth_callback?code=x&state=y")
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Sign-in failed") {
			t.Errorf("callback without a state cookie = %d, want the 400 page: %s", p.status, p.body)
		}
	})
	t.Run("no state parameter", func(t *testing.T) {
		b := th.browser()
		callback := authorizeAt(t, b, th, startGitHubLogin(t, b, gh, "/hub/home"), "alice")
		u, _ := url.Parse(callback)
		q := u.Query()
		q.Del("state")
		if p := b.get(u.Path + "?" + q.Encode()); p.status != http.StatusBadRequest {
			t.Errorf("callback without state = %d, want 400", p.status)
		}
	})
	t.Run("denied at GitHub", func(t *testing.T) {
		b := th.browser()
		p := b.postURL(startGitHubLogin(t, b, gh, "/hub/home"), url.Values{"deny": {"1"}})
		p = b.get(strings.TrimPrefix(p.location, th.url))
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "access_denied") {
			t.Errorf("callback after a denial = %d, want 403 naming access_denied: %s", p.status, p.body)
		}
	})
	t.Run("bad verification code", func(t *testing.T) {
		b := th.browser()
		callback := authorizeAt(t, b, th, startGitHubLogin(t, b, gh, "/hub/home"), "alice")
		u, _ := url.Parse(callback)
		q := u.Query()
		q.Set("code", "expired")
		if p := b.get(u.Path + "?" + q.Encode()); p.status != http.StatusForbidden {
			t.Errorf("callback with a bad code = %d, want 403", p.status)
		}
	})
	t.Run("blocked member of an allowed organization", func(t *testing.T) {
		b := th.browser()
		p := b.get(authorizeAt(t, b, th, startGitHubLogin(t, b, gh, "/hub/home"), "mallory"))
		if p.status != http.StatusForbidden {
			t.Errorf("callback of blocked mallory = %d, want 403", p.status)
		}
	})
}

// startMockOIDC starts an OpenID Connect provider, stopped at the end of
// t, and returns it with an authenticator named "Example SSO" that signs
// in through it by preferred_username.
func startMockOIDC(t *testing.T) (*mockoidc.MockOIDC, *auth.Generic) {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	g, err := auth.NewGeneric(t.Context(), auth.GenericOptions{
		OAuthOptions: auth.OAuthOptions{ClientID: m.ClientID, ClientSecret: m.ClientSecret,
			Scope: []string{"profile"}},
		OIDCIssuer:    m.Issuer(),
		UsernameClaim: "preferred_username",
		LoginService:  "Example SSO",
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, g
}

func TestOIDCSignInThroughHub(t *testing.T) {
	m, g := startMockOIDC(t)
	m.QueueUser(&mockoidc.MockUser{Subject: "1", PreferredUsername: "Dana"})
	th := startHub(t, hubOptions{auth: g, config: "[Authenticator]\nallowed_users = [\"dana\"]\n"})
	b := th.browser()
	if p := b.get("/hub/login"); !strings.Contains(p.body, "Sign in with Example SSO") {
		t.Errorf("login page lacks the provider's button: %s", p.body)
	}
	p := b.get("/hub/oauth_login")
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, m.AuthorizationEndpoint()) {
		t.Fatalf("oauth_login = %d %q", p.status, p.location)
	}
	p = b.getURL(p.location)
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, th.url+"/hub/oauth_callback?") {
		t.Fatalf("authorize = %d %q", p.status, p.location)
	}
	if p = b.get(strings.TrimPrefix(p.location, th.url)); p.status != http.StatusFound {
		t.Fatalf("callback = %d %s", p.status, p.body)
	}
	if p := b.get("/hub/home"); p.status != http.StatusOK || !strings.Contains(p.body, "dana") {
		t.Errorf("home after the OIDC sign-in = %d", p.status)
	}
}
