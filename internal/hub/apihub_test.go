package hub

import (
	"net/http"
	"strings"
	"testing"
)

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
