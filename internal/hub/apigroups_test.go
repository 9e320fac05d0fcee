package hub

import (
	"net/http"
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
	if r := th.api("POST", "/hub/api/users/eve/server", tok, nil); r.status != http.StatusForbidden {
		t.Errorf("teacher starting a non-student's server = %d, want 403", r.status)
	}
}

func TestProxyAndServicesAPI(t *testing.T) {
	th := startHub(t, hubOptions{config: `
[[JupyterHub.services]]
name = "announce"
url = "http://127.0.0.1:1"
`})
	th.addUser("root", true)
	th.addUser("alice", false)
	th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil)
	admin := th.token("root")
	r := th.api("GET", "/hub/api/proxy", admin, nil)
	var routes map[string]map[string]any
	r.json(t, &routes)
	if rt, ok := routes["/user/alice/"]; !ok || rt["target"] == "" {
		t.Errorf("proxy routes = %v, want /user/alice/", routes)
	}
	if r := th.api("GET", "/hub/api/proxy", th.token("alice"), nil); r.status != http.StatusForbidden {
		t.Errorf("alice reading the proxy = %d, want 403", r.status)
	}
	r = th.api("GET", "/hub/api/services", admin, nil)
	var services map[string]map[string]any
	r.json(t, &services)
	if services["announce"]["url"] != "http://127.0.0.1:1" {
		t.Errorf("services = %v", services)
	}
	if r := th.api("GET", "/hub/api/services/announce", admin, nil); r.status != http.StatusOK {
		t.Errorf("GET service = %d", r.status)
	}
}

func TestMetrics(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	th.addUser("alice", false)
	th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil)
	r := th.api("GET", "/hub/metrics", th.token("root"), nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /hub/metrics = %d %s", r.status, r.body)
	}
	body := string(r.body)
	for _, want := range []string{"jupyterhub_total_users 2", "jupyterhub_running_servers 1",
		`jupyterhub_server_spawn_duration_seconds_count{status="success"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if r := th.api("GET", "/hub/metrics", th.token("alice"), nil); r.status != http.StatusForbidden {
		t.Errorf("alice reading metrics = %d, want 403", r.status)
	}
}

func TestShutdownAPI(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	th.addUser("alice", false)
	th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil)
	if r := th.api("POST", "/hub/api/shutdown", th.token("alice"), nil); r.status != http.StatusForbidden {
		t.Errorf("alice shutting the hub down = %d, want 403", r.status)
	}
	r := th.api("POST", "/hub/api/shutdown", th.token("root"), map[string]any{"servers": true})
	if r.status != http.StatusAccepted {
		t.Fatalf("shutdown = %d %s", r.status, r.body)
	}
	waitFor(t, "the hub to stop", func() bool {
		_, err := http.Get(th.url + "/hub/health")
		return err != nil
	})
	if th.spawner.running() != 0 {
		t.Error("servers still run after a shutdown with servers: true")
	}
}
