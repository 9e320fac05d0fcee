package hub

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// authorize runs the authorize step for a server's client and returns the
// response.
func authorize(b *browser, client, redirect string) pageResult {
	q := url.Values{"client_id": {client}, "redirect_uri": {redirect},
		"response_type": {"code"}, "state": {"s1"}}
	return b.get("/hub/api/oauth2/authorize?" + q.Encode())
}

// exchange posts the code to the token endpoint.
func exchange(t *testing.T, th *testHub, client, secret, code, redirect string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"client_id": {client}, "client_secret": {secret},
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
	resp, err := http.PostForm(th.url+"/hub/api/oauth2/token", form)
	must(t, err)
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestOAuthFlow(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.addUser("bob", false)
	th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil)
	env := th.spawner.lastRequest().Env
	client, secret, redirect := env["JUPYTERHUB_CLIENT_ID"], env["JUPYTERHUB_API_TOKEN"],
		env["JUPYTERHUB_OAUTH_CALLBACK_URL"]

	anon := th.browser()
	if p := authorize(anon, client, redirect); p.status != http.StatusFound ||
		!strings.HasPrefix(p.location, "/hub/login?next=") {
		t.Errorf("authorize without login = %d %q, want the login page", p.status, p.location)
	}

	b := th.browser()
	b.mustLogin("alice")
	p := authorize(b, client, redirect)
	loc, err := url.Parse(p.location)
	if p.status != http.StatusFound || err != nil || loc.Path != redirect {
		t.Fatalf("authorize = %d %q, want a redirect to %s", p.status, p.location, redirect)
	}
	code := loc.Query().Get("code")
	if code == "" || loc.Query().Get("state") != "s1" {
		t.Fatalf("callback query = %q", loc.RawQuery)
	}
	if status, _ := exchange(t, th, client, "wrong secret", code, redirect); status != http.StatusUnauthorized {
		t.Errorf("exchange with a wrong secret = %d, want 401", status)
	}
	status, tok := exchange(t, th, client, secret, code, redirect)
	access, _ := tok["access_token"].(string)
	if status != http.StatusOK || access == "" || tok["token_type"] != "Bearer" {
		t.Fatalf("exchange = %d %v", status, tok)
	}
	if status, _ := exchange(t, th, client, secret, code, redirect); status != http.StatusBadRequest {
		t.Errorf("second exchange of one code = %d, want 400", status)
	}

	r := th.api("GET", "/hub/api/user", access, nil)
	var identity struct {
		Name   string   `json:"name"`
		Scopes []string `json:"scopes"`
	}
	r.json(t, &identity)
	if identity.Name != "alice" || !slices.Contains(identity.Scopes, "access:servers!server=alice/") {
		t.Errorf("OAuth token identity = %+v", identity)
	}
	if slices.Contains(identity.Scopes, "admin:users") || slices.Contains(identity.Scopes, "servers!user=alice") {
		t.Errorf("OAuth token holds more than access: %v", identity.Scopes)
	}

	// Logging out revokes the OAuth tokens of the session.
	b.get("/hub/logout")
	if r := th.api("GET", "/hub/api/user", access, nil); r.status != http.StatusForbidden {
		t.Errorf("OAuth token after logout = %d, want 403", r.status)
	}
}

func TestOAuthOtherUserDenied(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.addUser("bob", false)
	th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil)
	env := th.spawner.lastRequest().Env
	b := th.browser()
	b.mustLogin("bob")
	p := authorize(b, env["JUPYTERHUB_CLIENT_ID"], env["JUPYTERHUB_OAUTH_CALLBACK_URL"])
	if p.status != http.StatusForbidden {
		t.Errorf("bob authorizing at alice's server = %d %q, want 403", p.status, p.location)
	}
}

func TestOAuthBadRequests(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil)
	env := th.spawner.lastRequest().Env
	b := th.browser()
	b.mustLogin("alice")
	if p := authorize(b, "no-such-client", "/x"); p.status != http.StatusBadRequest {
		t.Errorf("unknown client = %d, want 400", p.status)
	}
	if p := authorize(b, env["JUPYTERHUB_CLIENT_ID"], "https://evil.example/cb"); p.status != http.StatusBadRequest {
		t.Errorf("foreign redirect_uri = %d %q, want 400", p.status, p.location)
	}
}

func TestOAuthAdminConfirms(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.addUser("root", true)
	th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil)
	env := th.spawner.lastRequest().Env
	client, redirect := env["JUPYTERHUB_CLIENT_ID"], env["JUPYTERHUB_OAUTH_CALLBACK_URL"]
	b := th.browser()
	b.mustLogin("root")
	p := authorize(b, client, redirect)
	if p.status != http.StatusOK || !strings.Contains(p.body, "Authorize access") {
		t.Fatalf("admin at alice's server = %d %q, want the confirmation page", p.status, p.location)
	}
	action := regexp1(`<form method="post" action="([^"]+)"`, p.body)
	action = strings.ReplaceAll(action, "&amp;", "&")
	if p := b.post(action, url.Values{}); p.status != http.StatusForbidden {
		t.Errorf("confirmation without _xsrf = %d, want 403", p.status)
	}
	token := regexp1(`name="_xsrf" value="([^"]+)"`, p.body)
	p = b.post(action, url.Values{"_xsrf": {token}})
	loc, _ := url.Parse(p.location)
	if p.status != http.StatusFound || loc.Path != redirect || loc.Query().Get("code") == "" {
		t.Errorf("confirmed = %d %q, want a redirect with a code", p.status, p.location)
	}
}

// A role filtered to a group opens the servers of that group's members in
// the browser, as it does through the API.
func TestOAuthGroupFilteredAccess(t *testing.T) {
	th := startHub(t, hubOptions{config: `
[[JupyterHub.load_roles]]
name = "ta"
scopes = ["access:servers!group=students"]
users = ["tara"]
`})
	th.addUser("tara", false)
	th.addUser("sam", false)
	th.addUser("eve", false)
	if _, err := th.store.CreateGroup(t.Context(), "students", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := th.store.AddGroupMembers(t.Context(), "students", "sam"); err != nil {
		t.Fatal(err)
	}
	b := th.browser()
	b.mustLogin("tara")
	for _, tt := range []struct {
		user string
		ok   bool
	}{{"sam", true}, {"eve", false}} {
		th.api("POST", "/hub/api/users/"+tt.user+"/server", th.token(tt.user), nil)
		env := th.spawner.lastRequest().Env
		client, secret, redirect := env["JUPYTERHUB_CLIENT_ID"], env["JUPYTERHUB_API_TOKEN"],
			env["JUPYTERHUB_OAUTH_CALLBACK_URL"]
		p := authorize(b, client, redirect)
		if !tt.ok {
			if p.status != http.StatusForbidden {
				t.Errorf("tara at %s's server = %d %q, want 403", tt.user, p.status, p.location)
			}
			continue
		}
		if p.status != http.StatusOK || !strings.Contains(p.body, "Authorize access") {
			t.Fatalf("tara at %s's server = %d %q, want the confirmation page", tt.user, p.status, p.location)
		}
		action := strings.ReplaceAll(regexp1(`<form method="post" action="([^"]+)"`, p.body), "&amp;", "&")
		p = b.post(action, url.Values{"_xsrf": {regexp1(`name="_xsrf" value="([^"]+)"`, p.body)}})
		loc, _ := url.Parse(p.location)
		status, tok := exchange(t, th, client, secret, loc.Query().Get("code"), redirect)
		access, _ := tok["access_token"].(string)
		if status != http.StatusOK || access == "" {
			t.Fatalf("exchange = %d %v", status, tok)
		}
		// The user server checks these scopes from GET /hub/api/user.
		var identity struct {
			Name   string   `json:"name"`
			Scopes []string `json:"scopes"`
		}
		th.api("GET", "/hub/api/user", access, nil).json(t, &identity)
		if want := "access:servers!server=" + tt.user + "/"; identity.Name != "tara" ||
			!slices.Contains(identity.Scopes, want) {
			t.Errorf("tara's OAuth token for %s's server = %+v, want %s", tt.user, identity, want)
		}
	}
}
