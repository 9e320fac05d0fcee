package hub

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/jupygo/jupygo/internal/store"
)

func TestAPIRoot(t *testing.T) {
	th := startHub(t, hubOptions{})
	for _, path := range []string{"/hub/api", "/hub/api/"} {
		r := th.api("GET", path, "", nil)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s = %d", path, r.status)
		}
		var body map[string]string
		r.json(t, &body)
		if body["version"] != APIVersion {
			t.Errorf("version = %q, want %q", body["version"], APIVersion)
		}
		if got := r.header.Get("X-JupyterHub-Version"); got != APIVersion {
			t.Errorf("X-JupyterHub-Version = %q", got)
		}
	}
	if r := th.api("GET", "/hub/health", "", nil); r.status != http.StatusOK {
		t.Errorf("GET /hub/health = %d", r.status)
	}
}

func TestAPIErrorShape(t *testing.T) {
	th := startHub(t, hubOptions{})
	r := th.api("GET", "/hub/api/users", "", nil)
	if r.status != http.StatusForbidden {
		t.Fatalf("GET /hub/api/users without a token = %d, want 403", r.status)
	}
	var body map[string]any
	r.json(t, &body)
	if body["status"] != float64(403) || body["message"] == "" {
		t.Errorf("error body = %v, want status 403 and a message", body)
	}
	r = th.api("GET", "/hub/api/users", "not-a-token", nil)
	if r.status != http.StatusForbidden {
		t.Errorf("GET /hub/api/users with a wrong token = %d, want 403", r.status)
	}
}

func TestAPIUser(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	r := th.api("GET", "/hub/api/user", th.token("alice"), nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /hub/api/user = %d %s", r.status, r.body)
	}
	var m struct {
		Kind   string   `json:"kind"`
		Name   string   `json:"name"`
		Admin  bool     `json:"admin"`
		Groups []string `json:"groups"`
		Scopes []string `json:"scopes"`
	}
	r.json(t, &m)
	if m.Kind != "user" || m.Name != "alice" || m.Admin || m.Groups == nil {
		t.Errorf("model = %+v", m)
	}
	for _, want := range []string{"access:servers!user=alice", "read:users:name!user=alice",
		"servers!user=alice"} {
		if !slices.Contains(m.Scopes, want) {
			t.Errorf("scopes %v lack %s", m.Scopes, want)
		}
	}
	if slices.Contains(m.Scopes, "admin:users") {
		t.Errorf("a user holds admin:users: %v", m.Scopes)
	}
}

func TestAPIUsersCRUD(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	admin := th.token("root")

	r := th.api("POST", "/hub/api/users", admin, map[string]any{"usernames": []string{"Bob", "carol"}})
	if r.status != http.StatusCreated {
		t.Fatalf("POST /hub/api/users = %d %s", r.status, r.body)
	}
	var created []map[string]any
	r.json(t, &created)
	if len(created) != 2 || created[0]["name"] != "bob" {
		t.Errorf("created = %v, want bob and carol", created)
	}
	if r := th.api("POST", "/hub/api/users", admin, map[string]any{"usernames": []string{"bob"}}); r.status != http.StatusConflict {
		t.Errorf("POST of existing users = %d, want 409", r.status)
	}
	if r := th.api("POST", "/hub/api/users/dave", admin, nil); r.status != http.StatusCreated {
		t.Errorf("POST /hub/api/users/dave = %d %s", r.status, r.body)
	}
	if r := th.api("POST", "/hub/api/users/dave", admin, nil); r.status != http.StatusConflict {
		t.Errorf("second POST /hub/api/users/dave = %d, want 409", r.status)
	}

	r = th.api("GET", "/hub/api/users?offset=1&limit=2", admin, nil)
	var page []map[string]any
	r.json(t, &page)
	if len(page) != 2 || page[0]["name"] != "bob" || page[1]["name"] != "carol" {
		t.Errorf("page = %v, want bob and carol", page)
	}

	r = th.api("PATCH", "/hub/api/users/bob", admin, map[string]any{"admin": true})
	var bob map[string]any
	r.json(t, &bob)
	if r.status != http.StatusOK || bob["admin"] != true {
		t.Errorf("PATCH bob admin = %d %v", r.status, bob)
	}
	if r := th.api("DELETE", "/hub/api/users/carol", admin, nil); r.status != http.StatusNoContent {
		t.Errorf("DELETE carol = %d", r.status)
	}
	if r := th.api("GET", "/hub/api/users/carol", admin, nil); r.status != http.StatusNotFound {
		t.Errorf("GET deleted carol = %d, want 404", r.status)
	}
}

func TestDeleteUserSelf(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	r := th.api("DELETE", "/hub/api/users/root", th.token("root"), nil)
	if r.status != http.StatusBadRequest {
		t.Errorf("root deleting root = %d %s, want 400", r.status, r.body)
	}
	if !strings.Contains(string(r.body), "Cannot delete yourself") {
		t.Errorf("root deleting root = %s, want a message saying why", r.body)
	}
	if _, err := th.store.GetUser(t.Context(), "root"); err != nil {
		t.Errorf("root after deleting itself: %v", err)
	}
}

func TestAPIPagination(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	admin := th.token("root")
	for i := range 4 {
		th.api("POST", fmt.Sprintf("/hub/api/users/u%d", i), admin, nil)
	}
	req, _ := http.NewRequest("GET", th.url+"/hub/api/users?limit=2", nil)
	req.Header.Set("Authorization", "token "+admin)
	req.Header.Set("Accept", "application/jupyterhub-pagination+json")
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	var body struct {
		Items      []map[string]any `json:"items"`
		Pagination struct {
			Offset, Limit, Total int
			Next                 map[string]any
		} `json:"_pagination"`
	}
	r := apiResult{status: resp.StatusCode}
	r.body = readAll(t, resp)
	r.json(t, &body)
	if len(body.Items) != 2 || body.Pagination.Total != 5 || body.Pagination.Next == nil {
		t.Errorf("pagination = %+v", body.Pagination)
	}
}

func TestScopedTokenLimits(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	th.addUser("bob", false)
	limited := th.token("root", "admin:users")

	if r := th.api("GET", "/hub/api/users", limited, nil); r.status != http.StatusOK {
		t.Errorf("admin:users token listing users = %d, want 200", r.status)
	}
	if r := th.api("PATCH", "/hub/api/users/bob", limited, map[string]any{"admin": true}); r.status != http.StatusForbidden {
		t.Errorf("admin:users token making bob an admin = %d, want 403", r.status)
	}
	if r := th.api("POST", "/hub/api/users", limited, map[string]any{"usernames": []string{"eve"}, "admin": true}); r.status != http.StatusForbidden {
		t.Errorf("admin:users token creating an admin = %d, want 403", r.status)
	}
	// tokens is not among admin:users' scopes, so it cannot mint tokens.
	r := th.api("POST", "/hub/api/users/root/tokens", limited, map[string]any{"scopes": []string{"admin:servers"}})
	if r.status != http.StatusForbidden {
		t.Errorf("admin:users token minting a token = %d, want 403", r.status)
	}
	tokens := th.token("root", "tokens!user=root", "read:users!user=root")
	r = th.api("POST", "/hub/api/users/root/tokens", tokens, map[string]any{"scopes": []string{"admin:servers"}})
	if r.status != http.StatusForbidden {
		t.Errorf("token minting a stronger token = %d %s, want 403", r.status, r.body)
	}
	if !strings.Contains(string(r.body), "not held by the token of user root") {
		t.Errorf("token minting a stronger token = %s, want a message naming the token", r.body)
	}
	r = th.api("POST", "/hub/api/users/root/tokens", tokens, map[string]any{"scopes": []string{"read:users!user=root"}})
	if r.status != http.StatusCreated {
		t.Errorf("token minting a weaker token = %d %s, want 201", r.status, r.body)
	}
	// bob's scopes are filtered to bob, so root is not found, as in JupyterHub.
	if r := th.api("GET", "/hub/api/users/root", th.token("bob"), nil); r.status != http.StatusNotFound {
		t.Errorf("bob reading root = %d, want 404", r.status)
	}
}

func TestUserTokensAPI(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	tok := th.token("alice")
	r := th.api("POST", "/hub/api/users/alice/tokens", tok, map[string]any{"note": "ci", "expires_in": 3600})
	if r.status != http.StatusCreated {
		t.Fatalf("POST tokens = %d %s", r.status, r.body)
	}
	var created map[string]any
	r.json(t, &created)
	if created["token"] == "" || created["note"] != "ci" || created["expires_at"] == nil {
		t.Errorf("new token = %v", created)
	}
	newToken := created["token"].(string)
	if r := th.api("GET", "/hub/api/user", newToken, nil); r.status != http.StatusOK {
		t.Errorf("new token does not work: %d", r.status)
	}
	r = th.api("GET", "/hub/api/users/alice/tokens", tok, nil)
	var list struct {
		APITokens []map[string]any `json:"api_tokens"`
	}
	r.json(t, &list)
	if len(list.APITokens) != 2 {
		t.Errorf("tokens = %v, want 2", list.APITokens)
	}
	path := fmt.Sprintf("/hub/api/users/alice/tokens/%v", created["id"])
	if r := th.api("DELETE", path, tok, nil); r.status != http.StatusNoContent {
		t.Errorf("DELETE token = %d", r.status)
	}
	if r := th.api("GET", "/hub/api/user", newToken, nil); r.status != http.StatusForbidden {
		t.Errorf("revoked token still works: %d", r.status)
	}
}

func TestServicesFromConfig(t *testing.T) {
	th := startHub(t, hubOptions{config: `
[[JupyterHub.services]]
name = "culler"
api_token = "culler-secret-token-0123"

[[JupyterHub.load_roles]]
name = "culler-role"
scopes = ["list:users", "read:users:activity", "servers"]
services = ["culler"]
`})
	th.addUser("alice", false)
	if r := th.api("GET", "/hub/api/users", "culler-secret-token-0123", nil); r.status != http.StatusOK {
		t.Errorf("service listing users = %d %s", r.status, r.body)
	}
	if r := th.api("POST", "/hub/api/users/eve", "culler-secret-token-0123", nil); r.status != http.StatusForbidden {
		t.Errorf("service creating a user = %d, want 403", r.status)
	}
	r := th.api("GET", "/hub/api/user", "culler-secret-token-0123", nil)
	var m map[string]any
	r.json(t, &m)
	if m["kind"] != "service" || m["name"] != "culler" {
		t.Errorf("service identity = %v", m)
	}
}

func TestConfigUsersAtStart(t *testing.T) {
	th := startHub(t, hubOptions{config: `
[Authenticator]
allowed_users = ["alice"]
admin_users = ["Root"]
`})
	root := th.api("GET", "/hub/api/user", th.token("root"), nil)
	var m map[string]any
	root.json(t, &m)
	if m["admin"] != true {
		t.Errorf("admin_users member root is not an admin: %v", m)
	}
	if _, err := th.store.GetUser(t.Context(), "alice"); err != nil {
		t.Errorf("allowed user alice not created: %v", err)
	}
}

func TestAPIUserProfile(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.addUser("bob", false)
	state := []byte(`{"github_user":{"login":"alice","name":"Alice Liddell",` +
		`"avatar_url":"https://avatars.example.com/u/7"},"scope":["read:org"]}`)
	if _, err := th.store.UpdateUser(t.Context(), "alice",
		store.UserUpdate{AuthState: &state}); err != nil {
		t.Fatal(err)
	}

	var alice map[string]any
	th.api("GET", "/hub/api/user", th.token("alice"), nil).json(t, &alice)
	if got := alice["display_name"]; got != "Alice Liddell" {
		t.Errorf("display_name = %v, want Alice Liddell", got)
	}
	if got := alice["avatar_url"]; got != "https://avatars.example.com/u/7" {
		t.Errorf("avatar_url = %v, want the GitHub avatar", got)
	}
	for _, key := range []string{"auth_state", "github_user", "scope"} {
		if _, ok := alice[key]; ok {
			t.Errorf("the model exposes %s of the auth state: %v", key, alice)
		}
	}

	// Without an auth state the model has neither field.
	var bob map[string]any
	th.api("GET", "/hub/api/user", th.token("bob"), nil).json(t, &bob)
	for _, key := range []string{"display_name", "avatar_url"} {
		if _, ok := bob[key]; ok {
			t.Errorf("model of a user without auth state has %s: %v", key, bob)
		}
	}
}
