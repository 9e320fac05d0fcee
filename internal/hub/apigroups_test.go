package hub

import (
	"net/http"
	"slices"
	"strings"
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
	if r := th.api("POST", "/hub/api/users/eve/server", tok, nil); r.status != http.StatusNotFound {
		t.Errorf("teacher starting a non-student's server = %d, want 404", r.status)
	}
}

// groupadminConfig gives gina admin:groups alone, while the group ops holds
// admin:users and teachers hold admin:servers over the members of students.
const groupadminConfig = `
[[JupyterHub.load_roles]]
name = "groupadmin"
scopes = ["admin:groups"]
users = ["gina"]

[[JupyterHub.load_roles]]
name = "useradmin"
scopes = ["admin:users"]
groups = ["ops"]

[[JupyterHub.load_roles]]
name = "teachers"
scopes = ["admin:servers!group=students"]
users = ["tina"]
`

func TestGroupMembersNoEscalation(t *testing.T) {
	th := startHub(t, hubOptions{config: groupadminConfig})
	th.addUser("root", true)
	th.addUser("gina", false)
	th.addUser("bob", false)
	th.addUser("tina", false)
	for _, g := range []string{"students", "plain"} {
		if _, err := th.store.CreateGroup(t.Context(), g, nil); err != nil {
			t.Fatal(err)
		}
	}
	gina, root := th.token("gina"), th.token("root")
	users := func(names ...string) map[string]any { return map[string]any{"users": names} }

	for _, c := range []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"gina joins ops", "POST", "/hub/api/groups/ops/users", gina, users("gina"), 403},
		{"gina adds bob to ops", "POST", "/hub/api/groups/ops/users", gina, users("bob"), 403},
		{"gina adds root to students", "POST", "/hub/api/groups/students/users", gina,
			users("root"), 403},
		{"gina adds bob to plain", "POST", "/hub/api/groups/plain/users", gina, users("bob"), 200},
		{"root adds bob to ops", "POST", "/hub/api/groups/ops/users", root, users("bob"), 200},
		{"gina adds bob to ops again", "POST", "/hub/api/groups/ops/users", gina, users("bob"), 200},
		{"gina removes bob from ops", "DELETE", "/hub/api/groups/ops/users", gina, users("bob"), 200},
		{"gina sets properties of ops", "PUT", "/hub/api/groups/ops/properties", gina,
			map[string]any{"course": "go"}, 200},
		{"root deletes students", "DELETE", "/hub/api/groups/students", root, nil, 204},
		{"gina creates students with root", "POST", "/hub/api/groups/students", gina,
			users("root"), 403},
		{"gina creates team with herself", "POST", "/hub/api/groups/team", gina, users("gina"), 201},
		{"root adds gina to ops", "POST", "/hub/api/groups/ops/users", root, users("gina"), 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := th.api(c.method, c.path, c.token, c.body)
			if r.status != c.want {
				t.Errorf("%s %s = %d %s, want %d", c.method, c.path, r.status, r.body, c.want)
			}
		})
	}
	if _, err := th.store.GetGroup(t.Context(), "students"); err == nil {
		t.Errorf("group students exists after the rejected create")
	}
	u, err := th.store.GetUser(t.Context(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"plain"}; !slices.Equal(u.Groups, want) {
		t.Errorf("bob's groups = %q, want %q", u.Groups, want)
	}
}

// A request naming a user that does not exist changes nothing and names
// that user.
func TestGroupUnknownMember(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	th.addUser("bob", false)
	admin := th.token("root")
	r := th.api("POST", "/hub/api/groups/g9", admin, map[string]any{"users": []string{"bob", "nosuch"}})
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "No such user: nosuch") {
		t.Errorf("creating a group with an unknown member = %d %s, want 400 naming nosuch", r.status, r.body)
	}
	if r := th.api("GET", "/hub/api/groups/g9", admin, nil); r.status != http.StatusNotFound {
		t.Errorf("group after the rejected create = %d, want 404", r.status)
	}
	if r := th.api("POST", "/hub/api/groups/g1", admin, nil); r.status != http.StatusCreated {
		t.Fatalf("creating g1 = %d %s", r.status, r.body)
	}
	r = th.api("POST", "/hub/api/groups/g1/users", admin, map[string]any{"users": []string{"bob", "nosuch"}})
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "No such user: nosuch") {
		t.Errorf("adding an unknown member = %d %s, want 400 naming nosuch", r.status, r.body)
	}
	var g struct {
		Users []string `json:"users"`
	}
	th.api("GET", "/hub/api/groups/g1", admin, nil).json(t, &g)
	if len(g.Users) != 0 {
		t.Errorf("members after the rejected add = %v, want none", g.Users)
	}
}
