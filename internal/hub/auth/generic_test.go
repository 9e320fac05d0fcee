package auth

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/jupygo/jupygo/internal/hub/auth/fakegithub"
)

func startMockOIDC(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return m
}

func newTestOIDC(t *testing.T, m *mockoidc.MockOIDC, edit func(*GenericOptions)) *Generic {
	t.Helper()
	opts := GenericOptions{
		OAuthOptions:  OAuthOptions{ClientID: m.ClientID, ClientSecret: m.ClientSecret},
		OIDCIssuer:    m.Issuer(),
		UsernameClaim: "preferred_username",
	}
	opts.Scope = []string{"profile", "email"}
	if edit != nil {
		edit(&opts)
	}
	g, err := NewGeneric(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// follow sends GET loginURL, to which mockoidc replies with a redirect to the
// callback, and returns the redirect's query.
func follow(t *testing.T, loginURL string) url.Values {
	t.Helper()
	resp, err := noRedirects.Get(loginURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("GET %s = %d %s", loginURL, resp.StatusCode, body)
	}
	return loc.Query()
}

func TestGenericOIDCSignIn(t *testing.T) {
	m := startMockOIDC(t)
	m.QueueUser(&mockoidc.MockUser{Subject: "s-42", PreferredUsername: "Jane.Doe",
		Email: "jane@example.org", EmailVerified: true})
	g := newTestOIDC(t, m, nil)

	login, err := url.Parse(g.LoginURL("state-1", testCallback))
	if err != nil {
		t.Fatal(err)
	}
	if got := login.Scheme + "://" + login.Host + login.Path; got != m.AuthorizationEndpoint() {
		t.Errorf("login URL = %q, want the discovered %q", got, m.AuthorizationEndpoint())
	}
	q := login.Query()
	if q.Get("scope") != "openid profile email" {
		t.Errorf("scope = %q, want openid added first", q.Get("scope"))
	}
	if q.Get("nonce") == "" || q.Get("code_challenge") == "" {
		t.Errorf("login URL lacks a nonce or a PKCE challenge: %s", login)
	}

	u, err := g.Callback(t.Context(), follow(t, login.String()), testCallback)
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "jane.doe" {
		t.Errorf("Name = %q, want jane.doe", u.Name)
	}
	var st GenericAuthState
	if err := json.Unmarshal(u.AuthState, &st); err != nil {
		t.Fatal(err)
	}
	if st.OAuthUser["sub"] != "s-42" || st.OAuthUser["email"] != "jane@example.org" {
		t.Errorf("oauth_user = %v, want the ID token's and userinfo's claims", st.OAuthUser)
	}
	if g.Class() != GenericClass || g.LoginService() != "OAuth 2.0" {
		t.Errorf("Class, LoginService = %q, %q", g.Class(), g.LoginService())
	}
}

func TestGenericOIDCRejects(t *testing.T) {
	m := startMockOIDC(t)

	t.Run("nonce of another sign-in", func(t *testing.T) {
		g := newTestOIDC(t, m, func(o *GenericOptions) { o.DisablePKCE = true })
		q := follow(t, g.LoginURL("s1", testCallback))
		q.Set("state", "s2")
		_, err := g.Callback(t.Context(), q, testCallback)
		if err == nil || !strings.Contains(err.Error(), "nonce") {
			t.Errorf("Callback error = %v, want a nonce mismatch", err)
		}
	})
	t.Run("PKCE verifier of another sign-in", func(t *testing.T) {
		g := newTestOIDC(t, m, nil)
		q := follow(t, g.LoginURL("s1", testCallback))
		q.Set("state", "s2")
		_, err := g.Callback(t.Context(), q, testCallback)
		if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("Callback error = %v, want the provider's invalid_grant", err)
		}
	})
	t.Run("missing username claim", func(t *testing.T) {
		g := newTestOIDC(t, m, func(o *GenericOptions) { o.UsernameClaim = "nickname" })
		_, err := g.Callback(t.Context(), follow(t, g.LoginURL("s", testCallback)), testCallback)
		if err == nil || !strings.Contains(err.Error(), `"nickname" is missing`) ||
			!strings.Contains(err.Error(), "preferred_username") {
			t.Errorf("Callback error = %v, want the claim and the claim names sent", err)
		}
	})
	t.Run("forged ID token signature", func(t *testing.T) {
		forger := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			resp, err := http.PostForm(m.TokenEndpoint(), r.PostForm)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			var reply map[string]any
			json.NewDecoder(resp.Body).Decode(&reply)
			raw, _ := reply["id_token"].(string)
			parts := strings.Split(raw, ".")
			if len(parts) == 3 {
				parts[2] = strings.Repeat("A", len(parts[2]))
				reply["id_token"] = strings.Join(parts, ".")
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(reply)
		}))
		defer forger.Close()
		g := newTestOIDC(t, m, func(o *GenericOptions) { o.TokenURL = forger.URL })
		_, err := g.Callback(t.Context(), follow(t, g.LoginURL("s", testCallback)), testCallback)
		if err == nil || !strings.Contains(err.Error(), "verifying the ID token") {
			t.Errorf("Callback error = %v, want a failed ID token verification", err)
		}
	})
}

func TestNewGenericDiscoveryFails(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := NewGeneric(t.Context(), GenericOptions{
		OAuthOptions: OAuthOptions{ClientID: "i", ClientSecret: "s"}, OIDCIssuer: srv.URL})
	if err == nil || !strings.Contains(err.Error(), "discovery document of "+srv.URL) {
		t.Errorf("NewGeneric error = %v, want the failed discovery", err)
	}
}

// TestGenericPlainOAuth2 signs in through a provider without OpenID
// Connect: the fake GitHub, whose /user reply has the login claim.
func TestGenericPlainOAuth2(t *testing.T) {
	gh := startFakeGitHub(t, fakegithub.User{Login: "Bob"})
	g, err := NewGeneric(t.Context(), GenericOptions{
		OAuthOptions:  OAuthOptions{ClientID: gh.ClientID, ClientSecret: gh.ClientSecret},
		AuthorizeURL:  gh.URL + "/login/oauth/authorize",
		TokenURL:      gh.URL + "/login/oauth/access_token",
		UserdataURL:   gh.APIURL + "/user",
		UsernameClaim: "login",
		LoginService:  "Forge",
	})
	if err != nil {
		t.Fatal(err)
	}
	u, err := g.Callback(t.Context(), approve(t, g.LoginURL("s", testCallback), "bob"), testCallback)
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "bob" {
		t.Errorf("Name = %q, want bob", u.Name)
	}
	if g.LoginService() != "Forge" {
		t.Errorf("LoginService = %q", g.LoginService())
	}
}

func TestNewGenericInvalid(t *testing.T) {
	creds := OAuthOptions{ClientID: "i", ClientSecret: "s"}
	for _, tc := range []struct {
		name string
		opts GenericOptions
		want string
	}{
		{"no userdata_url", GenericOptions{OAuthOptions: creds, AuthorizeURL: "https://p/a",
			TokenURL: "https://p/t"}, "userdata_url is missing"},
		{"no token_url", GenericOptions{OAuthOptions: creds, AuthorizeURL: "https://p/a",
			UserdataURL: "https://p/u"}, "token_url is missing"},
		{"relative authorize_url", GenericOptions{OAuthOptions: creds, AuthorizeURL: "/a",
			TokenURL: "https://p/t", UserdataURL: "https://p/u"}, "authorize_url \"/a\" is invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewGeneric(t.Context(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewGeneric error = %v, want %q", err, tc.want)
			}
		})
	}
}
