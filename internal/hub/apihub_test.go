package hub

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestProxyAndServicesAPI(t *testing.T) {
	th := startHub(t, hubOptions{config: `
[[JupyterHub.services]]
name = "announce"
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
	if services["announce"]["name"] != "announce" {
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
		"# TYPE jupyterhub_server_spawn_duration_seconds histogram\n",
		`jupyterhub_server_spawn_duration_seconds_bucket{status="success",le="+Inf"} 1`,
		`jupyterhub_server_spawn_duration_seconds_count{status="success"} 1`,
		"\ngo_goroutines ", "\nprocess_resident_memory_bytes ", "\nprocess_cpu_seconds_total "} {
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

func TestProxyCheckRepairsRoutes(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	th.addUser("alice", false)
	if r := th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil); r.status != http.StatusCreated {
		t.Fatalf("starting alice's server = %d %s", r.status, r.body)
	}
	good, ok := th.hub.routes.Get("/user/alice/")
	if !ok {
		t.Fatal("alice's server has no route after its start")
	}
	admin := th.token("root")
	check := func(what string) {
		t.Helper()
		r := th.api("POST", "/hub/api/proxy", admin, nil)
		if r.status != http.StatusOK || len(r.body) != 0 {
			t.Fatalf("POST /hub/api/proxy after %s = %d %q, want 200 and no body", what, r.status, r.body)
		}
	}

	th.hub.routes.Remove("/user/alice/")
	check("removing alice's route")
	if rt, ok := th.hub.routes.Get("/user/alice/"); !ok || rt.Target != good.Target {
		t.Errorf("alice's route after the check = %+v %v, want target %s", rt, ok, good.Target)
	}

	must(t, th.hub.routes.Add("/user/alice/", "http://127.0.0.1:1", good.Data))
	check("pointing alice's route elsewhere")
	if rt, _ := th.hub.routes.Get("/user/alice/"); rt.Target != good.Target {
		t.Errorf("alice's route target after the check = %s, want %s", rt.Target, good.Target)
	}

	must(t, th.hub.routes.Add("/user/bob/", "http://127.0.0.1:1",
		map[string]any{"user": "bob", "server_name": ""}))
	must(t, th.hub.routes.Add("/extra/", "http://127.0.0.1:2", nil))
	check("adding a route of a user without a server")
	if _, ok := th.hub.routes.Get("/user/bob/"); ok {
		t.Error("the route of bob, who has no server, is still there")
	}
	if _, ok := th.hub.routes.Get("/extra/"); !ok {
		t.Error("a route whose data names no user was removed")
	}
	if _, ok := th.hub.routes.Get("/user/alice/"); !ok {
		t.Error("alice's route was removed")
	}
}

func TestProxyCheckLeavesPendingServers(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	th.addUser("alice", false)
	gate := make(chan struct{})
	th.spawner.gate = gate
	defer close(gate)
	th.hub.slowSpawn = 0 // reply 202 at once
	if r := th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil); r.status != http.StatusAccepted {
		t.Fatalf("slow start = %d %s, want 202", r.status, r.body)
	}
	must(t, th.hub.routes.Add("/user/alice/", "http://127.0.0.1:1",
		map[string]any{"user": "alice", "server_name": ""}))
	if r := th.api("POST", "/hub/api/proxy", th.token("root"), nil); r.status != http.StatusOK {
		t.Fatalf("POST /hub/api/proxy = %d %s", r.status, r.body)
	}
	if _, ok := th.hub.routes.Get("/user/alice/"); !ok {
		t.Error("the check removed the route of a pending server")
	}
}

func TestProxyAPIScope(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	th.addUser("alice", false)
	for _, method := range []string{"POST", "PATCH"} {
		if r := th.api(method, "/hub/api/proxy", th.token("alice"), map[string]any{}); r.status != http.StatusForbidden {
			t.Errorf("%s /hub/api/proxy by alice = %d, want 403", method, r.status)
		}
		if r := th.api(method, "/hub/api/proxy", th.token("root", "proxy"), map[string]any{}); r.status != http.StatusOK {
			t.Errorf("%s /hub/api/proxy with the proxy scope = %d %s, want 200", method, r.status, r.body)
		}
		if r := th.api(method, "/hub/api/proxy", th.token("root", "read:users"), map[string]any{}); r.status != http.StatusForbidden {
			t.Errorf("%s /hub/api/proxy without the proxy scope = %d, want 403", method, r.status)
		}
	}
}

func TestProxyPatch(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	admin := th.token("root")
	stale := map[string]any{"user": "bob", "server_name": ""}
	must(t, th.hub.routes.Add("/user/bob/", "http://127.0.0.1:1", stale))

	for _, tc := range []struct {
		name string
		body any
		want []string // words of the message
	}{
		{"api_url", map[string]any{"api_url": "http://127.0.0.1:8001"}, []string{"built into", "api_url"}},
		{"both keys", map[string]any{"api_url": "http://127.0.0.1:8001", "auth_token": "secret"},
			[]string{"api_url, auth_token"}},
		{"key of the API description", map[string]any{"port": "8001"}, []string{"port"}},
		{"empty body", nil, []string{"empty"}},
		{"array", json.RawMessage(`["api_url"]`), []string{"object"}},
		{"null", json.RawMessage(`null`), []string{"object"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := th.api("PATCH", "/hub/api/proxy", admin, tc.body)
			if r.status != http.StatusBadRequest {
				t.Fatalf("PATCH = %d %s, want 400", r.status, r.body)
			}
			var e struct {
				Status  int    `json:"status"`
				Message string `json:"message"`
			}
			r.json(t, &e)
			for _, w := range tc.want {
				if !strings.Contains(e.Message, w) {
					t.Errorf("message %q lacks %q", e.Message, w)
				}
			}
			if strings.Contains(e.Message, "secret") {
				t.Errorf("message %q repeats the auth token", e.Message)
			}
			if _, ok := th.hub.routes.Get("/user/bob/"); !ok {
				t.Error("a rejected PATCH changed the routing table")
			}
		})
	}

	r := th.api("PATCH", "/hub/api/proxy", admin, map[string]any{"other": 1})
	if r.status != http.StatusOK || len(r.body) != 0 {
		t.Fatalf("PATCH with no proxy key = %d %q, want 200 and no body", r.status, r.body)
	}
	if _, ok := th.hub.routes.Get("/user/bob/"); ok {
		t.Error("PATCH with no proxy key left a stale route")
	}
}
