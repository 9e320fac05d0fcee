package hub

import (
	"net/http"
	"strings"
	"testing"
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
