package hub

import (
	"net/http"
	"testing"
)

func TestFilteredScopeNotFound(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.addUser("bob", false)
	th.addUser("root", true)
	th.api("POST", "/hub/api/groups/staff", th.token("root"), nil)
	readAlice := th.token("root", "read:users!user=alice", "read:groups!group=other",
		"read:services!service=other")
	noScopes := th.token("root", "read:hub")

	for _, tc := range []struct {
		name, path, token string
		status            int
		message           string
	}{
		{"other user", "/hub/api/users/bob", readAlice, http.StatusNotFound,
			"No access to resources or resources not found"},
		{"missing user", "/hub/api/users/nobody", readAlice, http.StatusNotFound,
			"No access to resources or resources not found"},
		{"other group", "/hub/api/groups/staff", readAlice, http.StatusNotFound,
			"No access to resources or resources not found"},
		{"other service", "/hub/api/services/cull", readAlice, http.StatusNotFound,
			"No access to resources or resources not found"},
		{"no scope for users", "/hub/api/users/bob", noScopes, http.StatusForbidden,
			"Action is not authorized with current scopes; requires any of " +
				"[read:users, read:users:name, read:servers]"},
		{"no scope for groups", "/hub/api/groups/staff", noScopes, http.StatusForbidden,
			"Action is not authorized with current scopes; requires any of [read:groups]"},
		{"no scope for the proxy", "/hub/api/proxy", noScopes, http.StatusForbidden,
			"Action is not authorized with current scopes; requires any of [proxy]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := th.api("GET", tc.path, tc.token, nil)
			if r.status != tc.status {
				t.Errorf("GET %s = %d %s, want %d", tc.path, r.status, r.body, tc.status)
			}
			var body struct{ Message string }
			r.json(t, &body)
			if body.Message != tc.message {
				t.Errorf("GET %s message = %q, want %q", tc.path, body.Message, tc.message)
			}
		})
	}
	if r := th.api("GET", "/hub/api/users/alice", readAlice, nil); r.status != http.StatusOK {
		t.Errorf("GET /users/alice with read:users!user=alice = %d %s, want 200", r.status, r.body)
	}
}
