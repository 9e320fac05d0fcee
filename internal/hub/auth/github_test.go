package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jupygo/jupygo/internal/hub/auth/fakegithub"
)

const testCallback = "http://127.0.0.1:1/hub/oauth_callback"

// noRedirects is a client that returns redirects instead of following
// them, as a test of a browser's steps needs.
var noRedirects = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func startFakeGitHub(t *testing.T, users ...fakegithub.User) *fakegithub.Server {
	t.Helper()
	gh := fakegithub.Start(fakegithub.Options{CallbackURL: testCallback, RequirePKCE: true})
	t.Cleanup(gh.Close)
	for _, u := range users {
		gh.AddUser(u)
	}
	return gh
}

func newTestGitHub(t *testing.T, gh *fakegithub.Server, edit func(*GitHubOptions)) *GitHub {
	t.Helper()
	opts := GitHubOptions{
		OAuthOptions: OAuthOptions{ClientID: gh.ClientID, ClientSecret: gh.ClientSecret},
		GitHubURL:    gh.URL,
	}
	if edit != nil {
		edit(&opts)
	}
	g, err := NewGitHub(opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// approve signs in at the provider's authorize URL as login and returns
// the query of the redirect to the callback.
func approve(t *testing.T, authorizeURL, login string) url.Values {
	t.Helper()
	resp, err := noRedirects.PostForm(authorizeURL, url.Values{"login": {login}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("POST %s = %d %q, want a redirect", authorizeURL, resp.StatusCode, loc)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != testCallback {
		t.Fatalf("redirect to %q, want the callback %q", got, testCallback)
	}
	return loc.Query()
}

func TestGitHubSignIn(t *testing.T) {
	gh := startFakeGitHub(t, fakegithub.User{Login: "Alice", ID: 7, Name: "Alice Liddell",
		AvatarURL: "http://127.0.0.1:1/avatars/7"})
	g := newTestGitHub(t, gh, func(o *GitHubOptions) { o.Scope = []string{"read:user"} })

	login, err := url.Parse(g.LoginURL("state-1", testCallback))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := login.Scheme+"://"+login.Host+login.Path, gh.URL+"/login/oauth/authorize"; got != want {
		t.Errorf("login URL = %q, want %q", got, want)
	}
	q := login.Query()
	for k, want := range map[string]string{"client_id": gh.ClientID, "redirect_uri": testCallback,
		"state": "state-1", "scope": "read:user", "code_challenge_method": "S256"} {
		if q.Get(k) != want {
			t.Errorf("login URL %s = %q, want %q", k, q.Get(k), want)
		}
	}
	if len(q.Get("code_challenge")) != 43 {
		t.Errorf("code_challenge = %q, want 43 characters", q.Get("code_challenge"))
	}

	cb := approve(t, login.String(), "alice")
	if cb.Get("state") != "state-1" {
		t.Errorf("callback state = %q", cb.Get("state"))
	}
	u, err := g.Callback(t.Context(), cb, testCallback)
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "alice" {
		t.Errorf("Name = %q, want the lower-case login alice", u.Name)
	}
	if u.Allowed {
		t.Error("Allowed without allowed_organizations")
	}
	var st GitHubAuthState
	if err := json.Unmarshal(u.AuthState, &st); err != nil {
		t.Fatal(err)
	}
	want := GitHubUser{Login: "Alice", ID: 7, Name: "Alice Liddell",
		AvatarURL: "http://127.0.0.1:1/avatars/7", HTMLURL: gh.URL + "/Alice"}
	if diff := cmp.Diff(want, st.GitHubUser); diff != "" {
		t.Errorf("github_user (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"read:user"}, st.Scope); diff != "" {
		t.Errorf("scope (-want +got):\n%s", diff)
	}
	if strings.Contains(string(u.AuthState), "gho_") {
		t.Errorf("auth state holds the access token: %s", u.AuthState)
	}
	if all, asJSON := gh.TokenRequests(); all != 1 || asJSON != 1 {
		t.Errorf("token requests = %d, %d accepting JSON; want 1, 1", all, asJSON)
	}
}

func TestGitHubCallbackErrors(t *testing.T) {
	gh := startFakeGitHub(t, fakegithub.User{Login: "alice"})
	g := newTestGitHub(t, gh, nil)
	wrongSecret := newTestGitHub(t, gh, func(o *GitHubOptions) { o.ClientSecret = "wrong" })
	fresh := func() url.Values { return approve(t, g.LoginURL("s1", testCallback), "alice") }

	used := fresh()
	if _, err := g.Callback(t.Context(), used, testCallback); err != nil {
		t.Fatal(err)
	}
	otherState := fresh()
	otherState.Set("state", "s2")

	for _, tc := range []struct {
		name     string
		auth     *GitHub
		query    url.Values
		callback string
		want     string
	}{
		{"unknown code", g, url.Values{"code": {"nope"}, "state": {"s1"}}, testCallback,
			"bad_verification_code"},
		{"code used twice", g, used, testCallback, "bad_verification_code"},
		{"wrong client secret", wrongSecret, fresh(), testCallback, "incorrect_client_credentials"},
		{"other redirect_uri", g, fresh(), testCallback + "/elsewhere", "redirect_uri_mismatch"},
		{"verifier of another state", g, otherState, testCallback, "bad_verification_code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.auth.Callback(t.Context(), tc.query, tc.callback)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Callback error = %v, want one naming %s", err, tc.want)
			}
		})
	}
	t.Run("no code", func(t *testing.T) {
		_, err := g.Callback(t.Context(), url.Values{"state": {"s1"}}, testCallback)
		if !errors.Is(err, ErrMissingCode) {
			t.Errorf("Callback error = %v, want ErrMissingCode", err)
		}
	})
}

func TestGitHubAllowedOrganizations(t *testing.T) {
	gh := startFakeGitHub(t,
		fakegithub.User{Login: "private", Orgs: []string{"jupyter"}},
		fakegithub.User{Login: "public", Orgs: []string{"jupyter"}, PublicOrgs: []string{"jupyter"}},
		fakegithub.User{Login: "teamed", Orgs: []string{"hub"}, Teams: []string{"hub:ops"}},
		fakegithub.User{Login: "invited", Orgs: []string{"hub"}, PendingTeams: []string{"hub:ops"}},
		fakegithub.User{Login: "outsider", Orgs: []string{"other"}, PublicOrgs: []string{"other"}},
	)
	orgs := []string{"Jupyter", "hub:ops"}
	for _, tc := range []struct {
		login   string
		scope   []string
		allowed bool
	}{
		{"private", []string{"read:org"}, true},
		{"private", nil, false},
		{"public", nil, true},
		{"teamed", []string{"read:org"}, true},
		{"invited", []string{"read:org"}, false},
		{"outsider", []string{"read:org"}, false},
	} {
		t.Run(fmt.Sprintf("%s %v", tc.login, tc.scope), func(t *testing.T) {
			g := newTestGitHub(t, gh, func(o *GitHubOptions) {
				o.AllowedOrganizations = orgs
				o.Scope = tc.scope
			})
			u, err := g.Callback(t.Context(), approve(t, g.LoginURL("s", testCallback), tc.login),
				testCallback)
			if err != nil {
				t.Fatal(err)
			}
			if u.Allowed != tc.allowed {
				t.Errorf("Allowed = %v, want %v", u.Allowed, tc.allowed)
			}
		})
	}
}

func TestGitHubTeamsInAuthState(t *testing.T) {
	var teams []string
	for i := range 130 {
		teams = append(teams, fmt.Sprintf("org%d:team%d", i%3, i))
	}
	gh := startFakeGitHub(t, fakegithub.User{Login: "alice", Teams: teams})
	g := newTestGitHub(t, gh, func(o *GitHubOptions) {
		o.PopulateTeamsInAuthState = true
		o.Scope = []string{"read:org"}
	})
	u, err := g.Callback(t.Context(), approve(t, g.LoginURL("s", testCallback), "alice"), testCallback)
	if err != nil {
		t.Fatal(err)
	}
	var st GitHubAuthState
	if err := json.Unmarshal(u.AuthState, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Teams) != len(teams) {
		t.Fatalf("auth state has %d teams, want %d over two pages", len(st.Teams), len(teams))
	}
	last := st.Teams[len(st.Teams)-1]
	if last.Slug != "team129" || last.Organization.Login != "org0" {
		t.Errorf("last team = %+v", last)
	}
}

func TestGitHubTeamsNeedReadOrg(t *testing.T) {
	gh := startFakeGitHub(t, fakegithub.User{Login: "alice", Teams: []string{"a:b"}})
	g := newTestGitHub(t, gh, func(o *GitHubOptions) { o.PopulateTeamsInAuthState = true })
	_, err := g.Callback(t.Context(), approve(t, g.LoginURL("s", testCallback), "alice"), testCallback)
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("Callback error = %v, want the 403 of /user/teams", err)
	}
}

func TestNewGitHubEndpoints(t *testing.T) {
	for _, tc := range []struct {
		web, api          string
		wantAuth, wantAPI string
	}{
		{"", "", "https://github.com/login/oauth/authorize", "https://api.github.com"},
		{"https://ghe.example/", "", "https://ghe.example/login/oauth/authorize",
			"https://ghe.example/api/v3"},
		{"https://ghe.example", "https://api.ghe.example/", "https://ghe.example/login/oauth/authorize",
			"https://api.ghe.example"},
	} {
		g, err := NewGitHub(GitHubOptions{OAuthOptions: OAuthOptions{ClientID: "id", ClientSecret: "s"},
			GitHubURL: tc.web, GitHubAPI: tc.api})
		if err != nil {
			t.Fatal(err)
		}
		if got := g.oauth.config.Endpoint.AuthURL; got != tc.wantAuth {
			t.Errorf("github_url %q: authorize URL = %q, want %q", tc.web, got, tc.wantAuth)
		}
		if g.api != tc.wantAPI {
			t.Errorf("github_url %q, github_api %q: API = %q, want %q", tc.web, tc.api, g.api, tc.wantAPI)
		}
	}
}

func TestNewGitHubInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts GitHubOptions
		want string
	}{
		{"no client id", GitHubOptions{OAuthOptions: OAuthOptions{ClientSecret: "s"}}, "client_id"},
		{"no secret", GitHubOptions{OAuthOptions: OAuthOptions{ClientID: "i"}}, "client_secret"},
		{"bad url", GitHubOptions{OAuthOptions: OAuthOptions{ClientID: "i", ClientSecret: "s"},
			GitHubURL: "ftp://x"}, "github_url"},
		{"bad org", GitHubOptions{OAuthOptions: OAuthOptions{ClientID: "i", ClientSecret: "s"},
			AllowedOrganizations: []string{"org:"}}, "allowed_organizations"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewGitHub(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewGitHub error = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestNextLink(t *testing.T) {
	for header, want := range map[string]string{
		"": "",
		`<https://api.github.com/user/teams?page=2>; rel="next", <https://api.github.com/user/teams?page=5>; rel="last"`: "https://api.github.com/user/teams?page=2",
		`<https://x/?page=1>; rel="prev first"`: "",
		`<https://x/?page=3>; rel="last next"`:  "https://x/?page=3",
		`garbage; rel="next"`:                   "",
	} {
		if got := nextLink(header); got != want {
			t.Errorf("nextLink(%q) = %q, want %q", header, got, want)
		}
	}
}

func FuzzNextLink(f *testing.F) {
	f.Add(`<https://api.github.com/user/teams?page=2>; rel="next"`)
	f.Add(`<a>; rel=next, <b>; rel="last"`)
	f.Add(`<>;`)
	f.Fuzz(func(t *testing.T, header string) {
		next := nextLink(header)
		if next != "" && !strings.Contains(header, next) {
			t.Errorf("nextLink(%q) = %q, which the header does not contain", header, next)
		}
	})
}
