package hub

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jupygo/jupygo/internal/store"
)

const readOnlyRoleConfig = `
[[JupyterHub.load_roles]]
name = "read-only"
scopes = ["read:users!user", "read:servers!user"]
`

func TestCreateTokenScopeChecks(t *testing.T) {
	th := startHub(t, hubOptions{config: readOnlyRoleConfig})
	th.addUser("root", true)
	th.addUser("alice", false)
	alice := th.token("alice")
	root := th.token("root")

	for _, c := range []struct {
		name, token, user string
		body              map[string]any
		want              int
		message           string
	}{
		{"admin scope", alice, "alice", map[string]any{"scopes": []string{"admin:users"}},
			400, "not held by user alice"},
		{"admin role", alice, "alice", map[string]any{"roles": []string{"admin"}},
			400, "not held by user alice"},
		{"unknown scope", alice, "alice", map[string]any{"scopes": []string{"nosuchscope"}},
			400, "scope 'nosuchscope' does not exist"},
		{"unknown filter", alice, "alice", map[string]any{"scopes": []string{"read:users!owner=alice"}},
			400, "filter '!owner=alice'"},
		{"unknown role", alice, "alice", map[string]any{"roles": []string{"read-only-typo"}},
			400, "No such role: read-only-typo"},
		{"unfiltered scope", alice, "alice", map[string]any{"scopes": []string{"read:users"}},
			400, "not held by user alice"},
		{"admin for alice", root, "alice", map[string]any{"scopes": []string{"admin:users"}},
			400, "not held by user alice"},
		{"own scope", alice, "alice", map[string]any{"scopes": []string{"read:users!user=alice"}},
			201, ""},
		{"bare filter", alice, "alice", map[string]any{"scopes": []string{"read:users!user"}},
			201, ""},
		{"configured role", alice, "alice", map[string]any{"roles": []string{"read-only"}},
			201, ""},
		{"scopes and roles", alice, "alice", map[string]any{"scopes": []string{"read:users!user"},
			"roles": []string{"read-only"}}, 400, "Can only assign one of scopes or roles"},
		{"empty scopes and roles", alice, "alice", map[string]any{"scopes": []string{},
			"roles": []string{}}, 400, "Can only assign one of scopes or roles"},
		{"scopes and null roles", alice, "alice", map[string]any{"scopes": []string{"read:users!user"},
			"roles": nil}, 201, ""},
		{"default", alice, "alice", map[string]any{}, 201, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := th.api("POST", "/hub/api/users/"+c.user+"/tokens", c.token, c.body)
			if r.status != c.want {
				t.Fatalf("POST tokens %v = %d %s, want %d", c.body, r.status, r.body, c.want)
			}
			if !strings.Contains(string(r.body), c.message) {
				t.Errorf("POST tokens %v = %s, want a message containing %q", c.body, r.body, c.message)
			}
		})
	}
}

func TestCreateTokenStoresRequestedScopes(t *testing.T) {
	th := startHub(t, hubOptions{config: readOnlyRoleConfig})
	th.addUser("alice", false)
	r := th.api("POST", "/hub/api/users/alice/tokens", th.token("alice"),
		map[string]any{"roles": []string{"read-only"}})
	if r.status != http.StatusCreated {
		t.Fatalf("POST tokens = %d %s, want 201", r.status, r.body)
	}
	var created struct {
		Token string `json:"token"`
	}
	r.json(t, &created)
	if r := th.api("GET", "/hub/api/users/alice", created.Token, nil); r.status != http.StatusOK {
		t.Errorf("read-only token reading alice = %d %s, want 200", r.status, r.body)
	}
	r = th.api("POST", "/hub/api/users/alice/server", created.Token, nil)
	if r.status != http.StatusForbidden {
		t.Errorf("read-only token starting alice's server = %d %s, want 403", r.status, r.body)
	}
}

func TestCreateTokenExpiresInBounds(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	alice := th.token("alice")
	const maxText = "at most 3153600000 seconds (100 years)"
	tests := []struct {
		name, body string
		want       int
		message    string
	}{
		{"1e30", `{"expires_in": 1e30}`, 400, maxText},
		{"2^63", `{"expires_in": 9223372036854775808}`, 400, maxText},
		{"2^64", `{"expires_in": 18446744073709551616}`, 400, maxText},
		{"beyond float64", `{"expires_in": 1e400}`, 400, maxText},
		{"one past the maximum", `{"expires_in": 3153600001}`, 400, maxText},
		{"zero", `{"expires_in": 0}`, 400, "positive"},
		{"negative", `{"expires_in": -5}`, 400, "positive"},
		{"negative beyond float64", `{"expires_in": -1e400}`, 400, "positive"},
		{"string", `{"expires_in": "60"}`, 400, `field \"expires_in\" must be a number, not string`},
		{"beyond float64 near zero", `{"expires_in": 1e-400}`, 400, "positive"},
		{"maximum", `{"expires_in": 3153600000}`, 201, ""},
		{"one minute", `{"expires_in": 60}`, 201, ""},
		{"null", `{"expires_in": null}`, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := th.api("POST", "/hub/api/users/alice/tokens", alice, json.RawMessage(tt.body))
			if r.status != tt.want {
				t.Fatalf("POST tokens %s = %d %s, want %d", tt.body, r.status, r.body, tt.want)
			}
			if !strings.Contains(string(r.body), tt.message) {
				t.Errorf("POST tokens %s = %s, want a message containing %q", tt.body, r.body, tt.message)
			}
		})
	}
}

func TestTokenPageExpiresInBounds(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	b := th.browser()
	b.mustLogin("alice")
	xsrf := b.xsrf("/hub/token")
	for _, value := range []string{"1e30", "9223372036854775808", "1e400", "Inf", "NaN", "-1", "0"} {
		t.Run(value, func(t *testing.T) {
			p := b.post("/hub/token", url.Values{"_xsrf": {xsrf}, "expires_in": {value}})
			if p.status != http.StatusBadRequest {
				t.Errorf("expires_in %s = %d, want 400", value, p.status)
			}
			if !strings.Contains(p.body, "at most 3153600000 seconds") {
				t.Errorf("expires_in %s: the page does not name the maximum: %s", value, p.body)
			}
		})
	}
	tokens, err := th.store.ListTokens(t.Context(), store.Owner{User: "alice"})
	must(t, err)
	for _, tok := range tokens {
		if tok.Note == "Requested via token page" {
			t.Errorf("token %d created despite an invalid expires_in, expiring %v", tok.ID, tok.ExpiresAt)
		}
	}
}
