package hub

import (
	"net/http"
	"testing"
)

func TestGroupsAPI(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	th.addUser("alice", false)
	admin := th.token("root")
	r := th.api("POST", "/hub/api/groups/staff", admin, map[string]any{"users": []string{"alice"}})
	if r.status != http.StatusCreated {
		t.Fatalf("POST group = %d %s", r.status, r.body)
	}
	if r := th.api("POST", "/hub/api/groups/staff", admin, nil); r.status != http.StatusConflict {
		t.Errorf("second POST group = %d, want 409", r.status)
	}
	r = th.api("GET", "/hub/api/groups/staff", admin, nil)
	var g struct {
		Name  string   `json:"name"`
		Users []string `json:"users"`
	}
	r.json(t, &g)
	if g.Name != "staff" || len(g.Users) != 1 || g.Users[0] != "alice" {
		t.Errorf("group = %+v", g)
	}
	r = th.api("DELETE", "/hub/api/groups/staff/users", admin, map[string]any{"users": []string{"alice"}})
	r.json(t, &g)
	if r.status != http.StatusOK || len(g.Users) != 0 {
		t.Errorf("removing alice = %d %+v", r.status, g)
	}
	r = th.api("PUT", "/hub/api/groups/staff/properties", admin, map[string]any{"course": "go"})
	if r.status != http.StatusOK {
		t.Errorf("PUT properties = %d %s", r.status, r.body)
	}
	if r := th.api("GET", "/hub/api/groups", th.token("alice"), nil); r.status != http.StatusForbidden {
		t.Errorf("alice listing groups = %d, want 403", r.status)
	}
	if r := th.api("DELETE", "/hub/api/groups/staff", admin, nil); r.status != http.StatusNoContent {
		t.Errorf("DELETE group = %d", r.status)
	}
	if r := th.api("GET", "/hub/api/groups/staff", admin, nil); r.status != http.StatusNotFound {
		t.Errorf("deleted group = %d, want 404", r.status)
	}
}

func TestGroupRoleGrantsScopes(t *testing.T) {
	th := startHub(t, hubOptions{config: `
[[JupyterHub.load_roles]]
name = "teachers"
scopes = ["admin:servers!group=students", "list:users"]
groups = ["teachers"]
`})
	th.addUser("tina", false)
	th.addUser("sam", false)
	th.addUser("eve", false)
	if _, err := th.store.AddGroupMembers(t.Context(), "teachers", "tina"); err != nil {
		t.Fatal(err)
	}
	if _, err := th.store.CreateGroup(t.Context(), "students", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := th.store.AddGroupMembers(t.Context(), "students", "sam"); err != nil {
		t.Fatal(err)
	}
	tok := th.token("tina")
	if r := th.api("POST", "/hub/api/users/sam/server", tok, nil); r.status != http.StatusCreated {
		t.Errorf("teacher starting a student's server = %d %s", r.status, r.body)
	}
	if r := th.api("POST", "/hub/api/users/eve/server", tok, nil); r.status != http.StatusForbidden {
		t.Errorf("teacher starting a non-student's server = %d, want 403", r.status)
	}
}
