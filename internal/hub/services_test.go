package hub

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jupygo/jupygo/internal/hub/config"
)

// serviceToken is the api_token of the services in these tests.
const serviceToken = "whoami-service-token-0123456789abcdef"

// serviceConfig configures the service whoami at url, with extra keys,
// and a role that lets alice sign in to it.
func serviceConfig(url, extra string) string {
	return fmt.Sprintf(`
[[JupyterHub.services]]
name = "whoami"
url = %q
api_token = %q
%s
[[JupyterHub.load_roles]]
name = "whoami-users"
scopes = ["access:services!service=whoami"]
users = ["alice"]
`, url, serviceToken, extra)
}

// confirmAuthorize posts the confirmation form of an authorize page.
func confirmAuthorize(t *testing.T, b *browser, p pageResult) pageResult {
	t.Helper()
	if p.status != http.StatusOK || !strings.Contains(p.body, "Authorize access") {
		t.Fatalf("authorize = %d %q, want the confirmation page", p.status, p.location)
	}
	action := strings.ReplaceAll(regexp1(`<form method="post" action="([^"]+)"`, p.body), "&amp;", "&")
	return b.post(action, url.Values{"_xsrf": {regexp1(`name="_xsrf" value="([^"]+)"`, p.body)}})
}

func TestServiceOAuthFlow(t *testing.T) {
	th := startHub(t, hubOptions{config: serviceConfig("http://127.0.0.1:1",
		`oauth_client_allowed_scopes = ["read:users!user", "admin:users", "list:users"]

[[JupyterHub.load_roles]]
name = "listers"
scopes = ["list:users"]
users = ["alice"]`)})
	th.addUser("alice", false)
	th.addUser("bob", false)
	const client, redirect = "service-whoami", "/services/whoami/oauth_callback"

	b := th.browser()
	b.mustLogin("alice")
	page := authorize(b, client, redirect)
	// Each scope is listed once, with its !user filter resolved.
	listed := regexpAll(`<li><code>([^<]+)</code></li>`, page.body)
	if slices.Contains(listed, "read:users!user") || !slices.Contains(listed, "read:users!user=alice") {
		t.Errorf("confirmation page lists %q, want read:users!user=alice and not read:users!user", listed)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(listed)))) != len(listed) {
		t.Errorf("confirmation page lists a scope twice: %q", listed)
	}
	p := confirmAuthorize(t, b, page)
	loc, err := url.Parse(p.location)
	if p.status != http.StatusFound || err != nil || loc.Path != redirect {
		t.Fatalf("confirmed = %d %q, want a redirect to %s", p.status, p.location, redirect)
	}
	code := loc.Query().Get("code")
	if status, _ := exchange(t, th, client, "wrong secret", code, redirect); status != http.StatusUnauthorized {
		t.Errorf("exchange with a wrong secret = %d, want 401", status)
	}
	p = confirmAuthorize(t, b, authorize(b, client, redirect))
	loc, _ = url.Parse(p.location)
	status, tok := exchange(t, th, client, serviceToken, loc.Query().Get("code"), redirect)
	access, _ := tok["access_token"].(string)
	if status != http.StatusOK || access == "" {
		t.Fatalf("exchange with the service's api_token = %d %v", status, tok)
	}

	var identity struct {
		Kind   string   `json:"kind"`
		Name   string   `json:"name"`
		Scopes []string `json:"scopes"`
	}
	th.api("GET", "/hub/api/user", access, nil).json(t, &identity)
	if identity.Kind != "user" || identity.Name != "alice" {
		t.Errorf("the service's token identifies %s %q, want user alice", identity.Kind, identity.Name)
	}
	for _, want := range []string{"access:services!service=whoami", "read:users!user=alice",
		"read:users:name!user=alice"} {
		if !slices.Contains(identity.Scopes, want) {
			t.Errorf("the service's token lacks %s: %v", want, identity.Scopes)
		}
	}
	for _, unwanted := range []string{"admin:users", "access:servers!user=alice", "tokens!user=alice"} {
		if slices.Contains(identity.Scopes, unwanted) {
			t.Errorf("the service's token has %s: %v", unwanted, identity.Scopes)
		}
	}

	// bob holds no access:services scope for whoami.
	bob := th.browser()
	bob.mustLogin("bob")
	if p := authorize(bob, client, redirect); p.status != http.StatusForbidden {
		t.Errorf("bob at whoami = %d %q, want 403", p.status, p.location)
	}
	if p := authorize(b, client, "http://elsewhere.example/cb"); p.status != http.StatusBadRequest {
		t.Errorf("foreign redirect_uri = %d %q, want 400", p.status, p.location)
	}
}

func TestServiceOAuthNoConfirm(t *testing.T) {
	th := startHub(t, hubOptions{config: serviceConfig("http://127.0.0.1:1",
		`oauth_no_confirm = true
oauth_client_id = "service-whoami-app"
oauth_redirect_uri = "http://127.0.0.1:1/app/callback"`)})
	th.addUser("alice", false)
	b := th.browser()
	b.mustLogin("alice")
	if p := authorize(b, "service-whoami", "/services/whoami/oauth_callback"); p.status != http.StatusBadRequest {
		t.Errorf("the default client ID with another oauth_client_id = %d, want 400", p.status)
	}
	p := authorize(b, "service-whoami-app", "http://127.0.0.1:1/app/callback")
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, "http://127.0.0.1:1/app/callback?code=") {
		t.Errorf("authorize with oauth_no_confirm = %d %q, want a redirect with a code",
			p.status, p.location)
	}
}

func TestServiceRoute(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		fmt.Fprint(w, "whoami here")
	}))
	defer upstream.Close()
	th := startHub(t, hubOptions{config: serviceConfig(upstream.URL, "")})

	resp, err := http.Get(th.url + "/services/whoami/some/page")
	must(t, err)
	body := string(readAll(t, resp))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || body != "whoami here" {
		t.Errorf("GET /services/whoami/some/page = %d %q, want the service's page", resp.StatusCode, body)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(paths, []string{"/services/whoami/some/page"}) {
		t.Errorf("the service got paths %q, want the whole path", paths)
	}

	th.addUser("root", true)
	var routes map[string]map[string]any
	th.api("GET", "/hub/api/proxy", th.token("root"), nil).json(t, &routes)
	if rt := routes["/services/whoami/"]; rt == nil || rt["target"] != upstream.URL {
		t.Errorf("proxy routes = %v, want /services/whoami/ to %s", routes, upstream.URL)
	}
}

// A service that leaves the configuration loses its OAuth client and the
// tokens issued to it.
func TestServiceOAuthClientRemoved(t *testing.T) {
	th := startHub(t, hubOptions{config: serviceConfig("http://127.0.0.1:1", "")})
	if _, err := th.store.GetOAuthClient(t.Context(), "service-whoami"); err != nil {
		t.Fatalf("the service's OAuth client: %v", err)
	}
	th.hub.cfg.JupyterHub.Services = nil
	if err := th.hub.syncServices(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := th.store.GetOAuthClient(t.Context(), "service-whoami"); err == nil {
		t.Error("the OAuth client of a removed service is still stored")
	}
}

// A scope parameter narrows the token to the allowed scopes it names.
func TestServiceOAuthRequestedScopes(t *testing.T) {
	th := startHub(t, hubOptions{config: serviceConfig("http://127.0.0.1:1",
		`oauth_no_confirm = true
oauth_client_allowed_scopes = ["read:users!user", "read:servers!user"]`)})
	th.addUser("alice", false)
	const client, redirect = "service-whoami", "/services/whoami/oauth_callback"
	b := th.browser()
	b.mustLogin("alice")
	q := url.Values{"client_id": {client}, "redirect_uri": {redirect}, "response_type": {"code"},
		"state": {"s1"}, "scope": {"read:servers!user admin:users"}}
	p := b.get("/hub/api/oauth2/authorize?" + q.Encode())
	loc, err := url.Parse(p.location)
	if p.status != http.StatusFound || err != nil {
		t.Fatalf("authorize = %d %q, want a redirect with a code", p.status, p.location)
	}
	status, tok := exchange(t, th, client, serviceToken, loc.Query().Get("code"), redirect)
	access, _ := tok["access_token"].(string)
	if status != http.StatusOK || access == "" {
		t.Fatalf("exchange = %d %v", status, tok)
	}
	var identity struct {
		Scopes []string `json:"scopes"`
	}
	th.api("GET", "/hub/api/user", access, nil).json(t, &identity)
	for _, want := range []string{"read:servers!user=alice", "access:services!service=whoami"} {
		if !slices.Contains(identity.Scopes, want) {
			t.Errorf("the token lacks %s: %v", want, identity.Scopes)
		}
	}
	for _, unwanted := range []string{"read:users!user=alice", "admin:users"} {
		if slices.Contains(identity.Scopes, unwanted) {
			t.Errorf("the token has %s, which the request did not name or alice lacks: %v",
				unwanted, identity.Scopes)
		}
	}
}

// A service allowed inherit gets tokens with all of the user's scopes.
func TestServiceOAuthInherit(t *testing.T) {
	th := startHub(t, hubOptions{config: serviceConfig("http://127.0.0.1:1",
		`oauth_no_confirm = true
oauth_client_allowed_scopes = ["inherit"]`)})
	th.addUser("alice", false)
	const client, redirect = "service-whoami", "/services/whoami/oauth_callback"
	b := th.browser()
	b.mustLogin("alice")
	p := authorize(b, client, redirect)
	loc, err := url.Parse(p.location)
	if p.status != http.StatusFound || err != nil {
		t.Fatalf("authorize = %d %q, want a redirect with a code", p.status, p.location)
	}
	_, tok := exchange(t, th, client, serviceToken, loc.Query().Get("code"), redirect)
	access, _ := tok["access_token"].(string)
	var identity struct {
		Scopes []string `json:"scopes"`
	}
	th.api("GET", "/hub/api/user", access, nil).json(t, &identity)
	if !slices.Contains(identity.Scopes, "access:servers!user=alice") {
		t.Errorf("a token of a service allowed inherit lacks alice's access:servers!user=alice: %v",
			identity.Scopes)
	}
}

func TestServiceOAuthUnknownScope(t *testing.T) {
	cfg, err := config.Parse([]byte(serviceConfig("http://127.0.0.1:1",
		`oauth_client_allowed_scopes = ["read:userz"]`)), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	err = CheckConfig(cfg, strings.ToLower)
	if err == nil || !strings.Contains(err.Error(), "oauth_client_allowed_scopes") ||
		!strings.Contains(err.Error(), "read:userz") {
		t.Errorf("CheckConfig with an unknown allowed scope = %v, want an error naming it", err)
	}
}

// Under a base URL, the service's prefix and route are below it.
func TestServiceBaseURL(t *testing.T) {
	th := startHub(t, hubOptions{config: "[JupyterHub]\nbase_url = \"/jupyter/\"\n" +
		serviceConfig("http://127.0.0.1:1", "")})
	th.addUser("root", true)
	var service map[string]any
	th.api("GET", "/jupyter/hub/api/services/whoami", th.token("root"), nil).json(t, &service)
	if service["prefix"] != "/jupyter/services/whoami/" {
		t.Errorf("the service's prefix = %v, want /jupyter/services/whoami/", service["prefix"])
	}
	if _, ok := th.hub.routes.Get("/jupyter/services/whoami/"); !ok {
		t.Error("no route at /jupyter/services/whoami/")
	}
	client, err := th.store.GetOAuthClient(t.Context(), "service-whoami")
	if err != nil || client.RedirectURI != "/jupyter/services/whoami/oauth_callback" {
		t.Errorf("the OAuth client = %+v, %v, want the redirect URI under /jupyter/", client, err)
	}
}
