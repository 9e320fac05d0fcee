package hub

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jupygo/jupygo/internal/hub/spawn"
	"github.com/jupygo/jupygo/internal/store"
)

// echo is the reply of a fake server.
type echo struct {
	User    string              `json:"user"`
	Path    string              `json:"path"`
	Headers map[string][]string `json:"headers"`
}

func TestServerStartProxyStop(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	tok := th.token("alice")
	if r := th.api("POST", "/hub/api/users/alice/server", tok, nil); r.status != http.StatusCreated {
		t.Fatalf("POST server = %d %s", r.status, r.body)
	}
	if r := th.api("POST", "/hub/api/users/alice/server", tok, nil); r.status != http.StatusBadRequest {
		t.Errorf("second POST server = %d, want 400", r.status)
	}
	req := th.spawner.lastRequest()
	for k, want := range map[string]string{
		"JUPYTERHUB_USER":               "alice",
		"JUPYTERHUB_CLIENT_ID":          "jupyterhub-user-alice",
		"JUPYTERHUB_SERVICE_PREFIX":     "/user/alice/",
		"JUPYTERHUB_API_URL":            th.url + "/hub/api",
		"JUPYTERHUB_ACTIVITY_URL":       th.url + "/hub/api/users/alice/activity",
		"JUPYTERHUB_OAUTH_CALLBACK_URL": "/user/alice/oauth_callback",
	} {
		if req.Env[k] != want {
			t.Errorf("%s = %q, want %q", k, req.Env[k], want)
		}
	}
	if req.Prefix != "/user/alice/" {
		t.Errorf("prefix = %q", req.Prefix)
	}

	hr, _ := http.NewRequest("GET", th.url+"/user/alice/lab?x=1", nil)
	hr.Header.Set("X-Forwarded-For", "10.9.9.9")
	resp, err := http.DefaultClient.Do(hr)
	must(t, err)
	var got echo
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || got.User != "alice" || got.Path != "/user/alice/lab" {
		t.Fatalf("proxied request = %d %+v", resp.StatusCode, got)
	}
	if xff := got.Headers["X-Forwarded-For"]; len(xff) != 1 || xff[0] != "127.0.0.1" {
		t.Errorf("X-Forwarded-For = %v, want only the client's address", xff)
	}
	if got.Headers["X-Forwarded-Proto"] == nil {
		t.Error("X-Forwarded-Proto not set")
	}

	r := th.api("GET", "/hub/api/users/alice", tok, nil)
	var model map[string]any
	r.json(t, &model)
	if model["server"] != "/user/alice/" {
		t.Errorf("model server = %v, want /user/alice/", model["server"])
	}
	if r := th.api("DELETE", "/hub/api/users/alice/server", tok, nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE server = %d %s", r.status, r.body)
	}
	if th.spawner.running() != 0 {
		t.Error("the server still runs after the stop")
	}
	b := th.browser()
	p := b.get("/user/alice/lab")
	if p.status != http.StatusFound || p.location != "/hub/user/alice/lab" {
		t.Errorf("stopped server = %d %q, want a redirect to /hub/user/alice/lab", p.status, p.location)
	}
	// The server's API token is revoked at the stop.
	if r := th.api("GET", "/hub/api/user", req.Env["JUPYTERHUB_API_TOKEN"], nil); r.status != http.StatusForbidden {
		t.Errorf("the stopped server's token = %d, want 403", r.status)
	}
}

func TestNotRunningPage(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.addUser("bob", false)
	b := th.browser()
	b.mustLogin("alice")
	p := b.get("/hub/user/alice/lab")
	if p.status != http.StatusFailedDependency || !strings.Contains(p.body, "/hub/spawn/alice?next=") {
		t.Fatalf("not-running page = %d, want 424 with a start link: %s", p.status, p.body)
	}
	if p := b.get("/hub/user/alice/api/status"); p.status != http.StatusFailedDependency ||
		!strings.Contains(p.header.Get("Content-Type"), "json") {
		t.Errorf("not-running API call = %d %s, want 424 JSON", p.status, p.header.Get("Content-Type"))
	}
	if p := b.get("/hub/user/bob/lab"); p.status != http.StatusNotFound {
		t.Errorf("alice opening bob's server = %d, want 404", p.status)
	}
	// The start link starts the server and ends up at next.
	p = b.get("/hub/spawn/alice?next=" + url.QueryEscape("/user/alice/lab"))
	if p.status != http.StatusSeeOther || p.location != "/user/alice/lab" {
		t.Errorf("spawn = %d %q, want a redirect to /user/alice/lab", p.status, p.location)
	}
	if p := b.get("/user/alice/lab"); p.status != http.StatusOK {
		t.Errorf("started server through the proxy = %d", p.status)
	}
	if p := b.get("/hub/spawn/bob"); p.status != http.StatusForbidden {
		t.Errorf("alice starting bob's server = %d, want 403", p.status)
	}
}

// JupyterLab keeps sending its server's token after the server stopped
// and the token was revoked. Its polls must still get the 424 JSON that
// makes it offer a restart, by the login cookie, not the login page.
func TestNotRunningWithRevokedToken(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.addUser("bob", false)
	b := th.browser()
	b.mustLogin("alice")
	if p := b.withToken(http.MethodGet, "/hub/user/alice/api/kernels", "revoked-token"); p.status != http.StatusFailedDependency ||
		!strings.Contains(p.header.Get("Content-Type"), "json") {
		t.Errorf("poll with a revoked token = %d %q %s, want 424 JSON", p.status, p.location,
			p.header.Get("Content-Type"))
	}
	if p := b.withToken(http.MethodGet, "/hub/user/bob/api/kernels", "revoked-token"); p.status != http.StatusNotFound {
		t.Errorf("alice polling bob's server with a revoked token = %d, want 404", p.status)
	}
	// A valid token is not overridden by the cookie: bob's token stays bob's.
	if p := b.withToken(http.MethodGet, "/hub/user/alice/api/kernels", th.token("bob")); p.status != http.StatusNotFound {
		t.Errorf("bob's token at alice's server = %d, want 404", p.status)
	}
	// Without a cookie, a wrong token is still no identity.
	if r := th.api("GET", "/hub/api/user", "revoked-token", nil); r.status != http.StatusForbidden {
		t.Errorf("GET /hub/api/user with a wrong token and no cookie = %d, want 403", r.status)
	}
}

// A cookie-authenticated API request whose token names no one still needs
// the XSRF token for unsafe methods.
func TestRevokedTokenCookieNeedsXSRF(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	b := th.browser()
	b.mustLogin("alice")
	p := b.withToken(http.MethodPost, "/hub/api/users/alice/server", "revoked-token")
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "_xsrf") {
		t.Errorf("POST with a revoked token and no XSRF = %d %s, want 403 about _xsrf", p.status, p.body)
	}
	if n := th.spawner.running(); n != 0 {
		t.Errorf("%d servers running after the rejected start", n)
	}
}

// JupyterLab's Restart button, shown when its server is gone, opens
// /hub/spawn with no user name: it starts the signed-in user's server.
func TestSpawnWithoutUser(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	b := th.browser()
	if p := b.get("/hub/spawn"); p.status != http.StatusFound ||
		!strings.HasPrefix(p.location, "/hub/login") {
		t.Errorf("/hub/spawn signed out = %d %q, want the login page", p.status, p.location)
	}
	b.mustLogin("alice")
	p := b.get("/hub/spawn")
	if p.status != http.StatusSeeOther || p.location != "/user/alice/" {
		t.Fatalf("/hub/spawn = %d %q, want a redirect to /user/alice/", p.status, p.location)
	}
	if n := th.spawner.running(); n != 1 {
		t.Errorf("%d servers running after /hub/spawn, want 1", n)
	}
	if p := b.get("/user/alice/api/status"); p.status != http.StatusOK {
		t.Errorf("alice's server through the proxy = %d", p.status)
	}
	p = b.get("/hub/spawn?next=" + url.QueryEscape("/user/alice/lab/tree/a.ipynb"))
	if p.status != http.StatusSeeOther || p.location != "/user/alice/lab/tree/a.ipynb" {
		t.Errorf("/hub/spawn with next for a running server = %d %q", p.status, p.location)
	}
}

func TestSpawnProgress(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	gate := make(chan struct{})
	th.spawner.gate = gate
	th.hub.slowSpawn = 0 // reply 202 at once
	tok := th.token("alice")
	r := th.api("POST", "/hub/api/users/alice/server", tok, nil)
	if r.status != http.StatusAccepted {
		t.Fatalf("POST server = %d, want 202", r.status)
	}
	req, _ := http.NewRequest("GET", th.url+"/hub/api/users/alice/server/progress", nil)
	req.Header.Set("Authorization", "token "+tok)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q", ct)
	}
	events := readEvents(t, bufio.NewScanner(resp.Body), 2)
	if events[0].Message != "Server requested" || events[1].Progress != 50 {
		t.Errorf("first events = %+v", events)
	}
	close(gate)
	last := readEvents(t, bufio.NewScanner(resp.Body), 1)[0]
	if !last.Ready || last.URL != "/user/alice/" {
		t.Errorf("last event = %+v, want ready at /user/alice/", last)
	}
}

func readEvents(t *testing.T, sc *bufio.Scanner, n int) []progressEvent {
	t.Helper()
	var out []progressEvent
	for len(out) < n && sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var e progressEvent
		must(t, json.Unmarshal([]byte(line), &e))
		out = append(out, e)
	}
	if len(out) < n {
		t.Fatalf("stream ended after %d events, want %d", len(out), n)
	}
	return out
}

func TestSpawnFailure(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.spawner.fail = errors.New("exit status 1")
	r := th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil)
	if r.status != http.StatusInternalServerError || !strings.Contains(string(r.body), "exit status 1") {
		t.Errorf("failed start = %d %s", r.status, r.body)
	}
	sv, err := th.store.GetServer(t.Context(), "alice", "")
	must(t, err)
	if sv.Active() {
		t.Errorf("failed server is still active: %+v", sv)
	}
	b := th.browser()
	b.mustLogin("alice")
	if p := b.get("/hub/spawn-pending/alice"); !strings.Contains(p.body, "exit status 1") {
		t.Errorf("pending page after the failure lacks its message: %s", p.body)
	}
}

func TestNamedServers(t *testing.T) {
	th := startHub(t, hubOptions{config: `
[JupyterHub]
allow_named_servers = true
named_server_limit_per_user = 1
`})
	th.addUser("alice", false)
	tok := th.token("alice")
	if r := th.api("POST", "/hub/api/users/alice/servers/Bad_Name", tok, nil); r.status != http.StatusBadRequest {
		t.Errorf("invalid name = %d, want 400", r.status)
	}
	if r := th.api("POST", "/hub/api/users/alice/servers/work", tok, nil); r.status != http.StatusCreated {
		t.Fatalf("POST named server = %d %s", r.status, r.body)
	}
	if r := th.api("POST", "/hub/api/users/alice/servers/more", tok, nil); r.status != http.StatusBadRequest {
		t.Errorf("over the limit = %d, want 400", r.status)
	}
	if r := th.api("POST", "/hub/api/users/alice/server", tok, nil); r.status != http.StatusCreated {
		t.Errorf("default beside named = %d", r.status)
	}
	resp, err := http.Get(th.url + "/user/alice/work/tree")
	must(t, err)
	var got echo
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if got.Path != "/user/alice/work/tree" {
		t.Errorf("named server got %q", got.Path)
	}
	if env := th.spawner.requests[0].Env; env["JUPYTERHUB_CLIENT_ID"] != "jupyterhub-user-alice-work" ||
		env["JUPYTERHUB_SERVICE_PREFIX"] != "/user/alice/work/" {
		t.Errorf("named server env = %v", env)
	}
	r := th.api("DELETE", "/hub/api/users/alice/servers/work", tok, map[string]any{"remove": true})
	if r.status != http.StatusNoContent {
		t.Errorf("DELETE remove = %d %s", r.status, r.body)
	}
	if _, err := th.store.GetServer(t.Context(), "alice", "work"); err == nil {
		t.Error("removed server still in the store")
	}
	if r := th.api("DELETE", "/hub/api/users/alice/server", tok, map[string]any{"remove": true}); r.status != http.StatusBadRequest {
		t.Errorf("removing the default server = %d, want 400", r.status)
	}
}

func TestNamedServersOff(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	r := th.api("POST", "/hub/api/users/alice/servers/work", th.token("alice"), nil)
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "not enabled") {
		t.Errorf("named server while off = %d %s", r.status, r.body)
	}
}

func TestRestartRestoresServers(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.addUser("bob", false)
	for _, u := range []string{"alice", "bob"} {
		if r := th.api("POST", "/hub/api/users/"+u+"/server", th.token(u), nil); r.status != http.StatusCreated {
			t.Fatalf("start %s = %d", u, r.status)
		}
	}
	th.stop()
	if th.spawner.running() != 2 {
		t.Fatalf("stopping the hub stopped servers: %d running", th.spawner.running())
	}
	// bob's server dies while the hub is down.
	bob, err := th.store.GetServer(t.Context(), "bob", "")
	must(t, err)
	must(t, th.spawner.Stop(t.Context(), bob.State))

	th2 := startHub(t, hubOptions{store: th.store, spawn: th.spawner})
	resp, err := http.Get(th2.url + "/user/alice/lab")
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("alice's server after the restart = %d, want 200", resp.StatusCode)
	}
	sv, err := th2.store.GetServer(t.Context(), "bob", "")
	must(t, err)
	if sv.Active() {
		t.Errorf("bob's dead server is still active: %+v", sv)
	}
}

// The state of a server process is stored as soon as the spawner reports
// it, while the start is still pending.
func TestStartStoresStateEarly(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.spawner.reportState = true
	gate := make(chan struct{})
	th.spawner.gate = gate
	th.hub.slowSpawn = 0
	if r := th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil); r.status != http.StatusAccepted {
		t.Fatalf("start = %d %s, want 202", r.status, r.body)
	}
	waitFor(t, "the process state in the store", func() bool {
		sv, err := th.store.GetServer(t.Context(), "alice", "")
		return err == nil && len(sv.State) > 0
	})
	sv, err := th.store.GetServer(t.Context(), "alice", "")
	must(t, err)
	if sv.Pending != store.PendingSpawn || !sv.Started.IsZero() {
		t.Errorf("server while starting = pending %q, started %v; want a pending spawn",
			sv.Pending, sv.Started)
	}
	close(gate)
	waitFor(t, "the server to be ready", func() bool {
		sv, err := th.store.GetServer(t.Context(), "alice", "")
		return err == nil && sv.Ready()
	})
}

// A hub that crashed during a start leaves a pending row with the process's
// state. The next hub stops that process instead of orphaning it.
func TestRestartStopsInterruptedStart(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.stop()
	started := th.spawner.launch(spawn.Request{User: "alice"})
	_, err := th.store.CreateServer(t.Context(), "alice", "")
	must(t, err)
	pending := store.PendingSpawn
	_, err = th.store.UpdateServer(t.Context(), "alice", "", store.ServerUpdate{
		Pending: &pending, State: &started.State})
	must(t, err)

	th2 := startHub(t, hubOptions{store: th.store, spawn: th.spawner})
	if n := th.spawner.running(); n != 0 {
		t.Errorf("%d processes run after the restart, want the interrupted one stopped", n)
	}
	sv, err := th2.store.GetServer(t.Context(), "alice", "")
	must(t, err)
	if sv.Active() || len(sv.State) > 0 {
		t.Errorf("interrupted server after the restart = %+v, want stopped with no state", sv)
	}
}

func TestActivity(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	tok := th.token("alice")
	th.api("POST", "/hub/api/users/alice/server", tok, nil)
	serverToken := th.spawner.lastRequest().Env["JUPYTERHUB_API_TOKEN"]
	body := map[string]any{"last_activity": "2026-01-02T03:04:05.000000Z",
		"servers": map[string]any{"": map[string]any{"last_activity": "2026-01-02T03:04:05.000000Z"}}}
	if r := th.api("POST", "/hub/api/users/alice/activity", serverToken, body); r.status != http.StatusOK {
		t.Fatalf("activity = %d %s", r.status, r.body)
	}
	sv, _ := th.store.GetServer(t.Context(), "alice", "")
	if sv.LastActivity.Year() < 2026 {
		t.Errorf("server activity = %v", sv.LastActivity)
	}
	for name, bad := range map[string]any{
		"empty":          map[string]any{},
		"unknown server": map[string]any{"servers": map[string]any{"nope": map[string]any{"last_activity": "2026-01-02T03:04:05Z"}}},
		"bad time":       map[string]any{"last_activity": "yesterday"},
		"future":         map[string]any{"last_activity": "2999-01-01T00:00:00Z"},
	} {
		if r := th.api("POST", "/hub/api/users/alice/activity", serverToken, bad); r.status != http.StatusBadRequest {
			t.Errorf("%s: activity = %d, want 400", name, r.status)
		}
	}
	th.addUser("bob", false)
	if r := th.api("POST", "/hub/api/users/bob/activity", serverToken, body); r.status != http.StatusNotFound {
		t.Errorf("alice's server reporting bob's activity = %d, want 404", r.status)
	}
}

func TestDeadServerIsNoticed(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil)
	th.spawner.kill()
	resp, err := http.Get(th.url + "/user/alice/lab")
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dead server = %d, want 503", resp.StatusCode)
	}
	waitFor(t, "the dead server to be marked stopped", func() bool {
		sv, err := th.store.GetServer(t.Context(), "alice", "")
		return err == nil && !sv.Active()
	})
	p := th.browser().get("/user/alice/lab")
	if p.status != http.StatusFound || p.location != "/hub/user/alice/lab" {
		t.Errorf("after the check = %d %q, want the hub's redirect", p.status, p.location)
	}
}

func TestRouteActivityRecorded(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil)
	resp, err := http.Get(th.url + "/user/alice/lab")
	must(t, err)
	resp.Body.Close()
	rt, ok := th.hub.routes.Get("/user/alice/")
	if !ok {
		t.Fatal("no route")
	}
	th.hub.copyRouteActivity(t.Context())
	sv, err := th.store.GetServer(t.Context(), "alice", "")
	must(t, err)
	if sv.LastActivity.Before(rt.LastActivity.Truncate(time.Microsecond)) {
		t.Errorf("server activity %v is before the route's %v", sv.LastActivity, rt.LastActivity)
	}
	u, err := th.store.GetUser(t.Context(), "alice")
	must(t, err)
	if u.LastActivity.IsZero() {
		t.Error("user activity not recorded")
	}
}

func TestBaseURL(t *testing.T) {
	th := startHub(t, hubOptions{config: `
[JupyterHub]
base_url = "/jh/"
`})
	th.addUser("alice", false)
	b := th.browser()
	if p := b.login("alice", testPassword, "/jh/hub/token"); p.status != http.StatusFound ||
		p.location != "/jh/hub/token" {
		t.Fatalf("login = %d %q", p.status, p.location)
	}
	p := b.get("/jh/user/alice/lab")
	if p.status != http.StatusFound || p.location != "/jh/hub/user/alice/lab" {
		t.Fatalf("stopped server = %d %q", p.status, p.location)
	}
	p = b.get(p.location)
	if p.status != http.StatusFailedDependency ||
		!strings.Contains(p.body, "/jh/hub/spawn/alice?next=%2fjh%2fuser%2falice%2flab") &&
			!strings.Contains(p.body, "/jh/hub/spawn/alice?next=%2Fjh%2Fuser%2Falice%2Flab") {
		t.Fatalf("not-running page = %d: %s", p.status, p.body)
	}
	p = b.get("/jh/hub/spawn/alice?next=%2Fjh%2Fuser%2Falice%2Flab")
	if p.status != http.StatusSeeOther || p.location != "/jh/user/alice/lab" {
		t.Fatalf("spawn = %d %q", p.status, p.location)
	}
	if env := th.spawner.lastRequest().Env; env["JUPYTERHUB_SERVICE_PREFIX"] != "/jh/user/alice/" ||
		env["JUPYTERHUB_BASE_URL"] != "/jh/" || env["JUPYTERHUB_API_URL"] != th.url+"/jh/hub/api" {
		t.Errorf("env = %v", env)
	}
	resp, err := http.Get(th.url + "/jh/user/alice/lab")
	must(t, err)
	var got echo
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if got.Path != "/jh/user/alice/lab" {
		t.Errorf("proxied path = %q", got.Path)
	}
	if r := th.api("GET", "/jh/hub/api/", "", nil); r.status != http.StatusOK {
		t.Errorf("API root under the base URL = %d", r.status)
	}
}

func TestNoRouteRedirectUnderBaseURL(t *testing.T) {
	th := startHub(t, hubOptions{config: `
[JupyterHub]
base_url = "/jupyter/"
`})
	b := th.browser()
	tests := []struct{ path, want string }{
		{"/jupyter/user/alice/lab", "/jupyter/hub/user/alice/lab"},
		{"/jupyter/user/alice/lab?x=1", "/jupyter/hub/user/alice/lab?x=1"},
		{"/jupyter/user/al%20ice/", "/jupyter/hub/user/al%20ice/"},
		{"/jupyter", "/jupyter/hub/"},
		{"/jupyterx/user/alice/lab", "/jupyter/hub/"},
		{"/jupyterx", "/jupyter/hub/"},
		{"/jupyter%2Fuser/alice/", "/jupyter/hub/"},
		{"/other/jupyter/user/alice/", "/jupyter/hub/"},
		{"/", "/jupyter/hub/"},
	}
	for _, tt := range tests {
		p := b.get(tt.path)
		if p.status != http.StatusFound || p.location != tt.want {
			t.Errorf("GET %s = %d %q, want 302 to %q", tt.path, p.status, p.location, tt.want)
		}
	}
}

func TestPathAfterBaseBySegment(t *testing.T) {
	tests := []struct {
		base, path, want string
		under            bool
	}{
		{"/", "/user/alice/lab", "user/alice/lab", true},
		{"/", "/", "", true},
		{"/jupyter/", "/jupyter/user/a%3Fb/", "user/a%3Fb/", true},
		{"/jupyter/", "/jupyter/", "", true},
		{"/jupyter/", "/jupyter", "", true},
		{"/jupyter/", "/jupyterx/user/alice/", "", false},
		{"/jupyter/", "/jupyterx", "", false},
		{"/jupyter/", "/jupyter%2Fuser/alice/", "", false},
		{"/jupyter/", "/Jupyter/user/alice/", "", false},
		{"/jupyter/", "/", "", false},
		{"/a/b/", "/a/b/user/alice/", "user/alice/", true},
		{"/a/b/", "/a/bc/user/alice/", "", false},
		{"/a/b/", "/a/", "", false},
		{"/a/b/", "/a", "", false},
		{"/my hub/", "/my%20hub/user/alice/", "user/alice/", true},
		{"/j%/", "/j%25/user/", "user/", true},
	}
	for _, tt := range tests {
		h := &Hub{base: tt.base}
		r := httptest.NewRequest(http.MethodGet, "http://hub.test"+tt.path, nil)
		got, under := h.pathAfterBase(r)
		if got != tt.want || under != tt.under {
			t.Errorf("base %q, path %q: pathAfterBase = %q, %v, want %q, %v", tt.base, tt.path, got,
				under, tt.want, tt.under)
		}
	}
}

func TestActiveServerLimit(t *testing.T) {
	th := startHub(t, hubOptions{config: `
[JupyterHub]
active_server_limit = 1
`})
	th.addUser("alice", false)
	th.addUser("bob", false)
	if r := th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil); r.status != http.StatusCreated {
		t.Fatalf("first start = %d", r.status)
	}
	if r := th.api("POST", "/hub/api/users/bob/server", th.token("bob"), nil); r.status != http.StatusTooManyRequests {
		t.Errorf("start over the limit = %d, want 429", r.status)
	}
}

func TestWebSocketThroughHub(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil)
	ctx := t.Context()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(th.url, "http")+"/user/alice/ws", nil)
	if err != nil {
		t.Fatalf("dial through the hub: %v", err)
	}
	defer c.CloseNow()
	must(t, c.Write(ctx, websocket.MessageText, []byte("ping")))
	_, data, err := c.Read(ctx)
	must(t, err)
	if string(data) != "ping" {
		t.Errorf("echo = %q, want ping", data)
	}
}

func TestShutdownEndsProgressStreams(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.spawner.gate = make(chan struct{})
	th.hub.slowSpawn = 0
	tok := th.token("alice")
	th.api("POST", "/hub/api/users/alice/server", tok, nil)
	req, _ := http.NewRequest("GET", th.url+"/hub/api/users/alice/server/progress", nil)
	req.Header.Set("Authorization", "token "+tok)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	readEvents(t, sc, 1)
	th.stop()
	// The stream must end when shutdown begins. A stream left open lasts
	// until Shutdown gives up waiting and the hub abandons the start,
	// whose failed event would then arrive here.
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"failed":true`) {
			t.Errorf("the stream stayed open until the start was abandoned: %s", sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Errorf("progress stream ended with %v, want a clean end", err)
	}
}

func TestPollMarksDeadServers(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil)
	th.hub.pollServers(t.Context())
	// checkRoute works in the background, so give a live server's poll
	// the same chance to (wrongly) stop it that the dead one gets below.
	waitFor(t, "the poll of the live server", func() bool {
		th.hub.mu.Lock()
		defer th.hub.mu.Unlock()
		return len(th.hub.checking) == 0
	})
	if sv, _ := th.store.GetServer(t.Context(), "alice", ""); !sv.Ready() {
		t.Fatal("polling stopped a live server")
	}
	th.spawner.kill()
	th.hub.pollServers(t.Context())
	waitFor(t, "the dead server to be marked stopped", func() bool {
		sv, err := th.store.GetServer(t.Context(), "alice", "")
		return err == nil && !sv.Active()
	})
}

// exitingSpawner is a fakeSpawner that reports its servers' exits, as
// SimpleLocalProcess reports its children's.
type exitingSpawner struct {
	*fakeSpawner
	exited chan struct{}
}

func (e *exitingSpawner) Exited() <-chan struct{} { return e.exited }

// TestExitMarksServerStopped kills a server of a spawner that reports
// exits. The hub marks it stopped without waiting for its 30 s poll.
func TestExitMarksServerStopped(t *testing.T) {
	fake := newFakeSpawner()
	sp := &exitingSpawner{fakeSpawner: fake, exited: make(chan struct{}, 1)}
	th := startHub(t, hubOptions{spawn: fake, spawner: sp})
	th.addUser("alice", false)
	th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil)
	if sv, _ := th.store.GetServer(t.Context(), "alice", ""); !sv.Ready() {
		t.Fatal("the server is not ready after its start")
	}

	fake.kill()
	sp.exited <- struct{}{}
	waitFor(t, "the exited server to be marked stopped", func() bool {
		sv, err := th.store.GetServer(t.Context(), "alice", "")
		return err == nil && !sv.Active()
	})
}

// barrierStore holds the calls of GetServer, once armed, until n of them
// arrived, so that concurrent starts all find no server before any of them
// creates one.
type barrierStore struct {
	store.Store
	mu      sync.Mutex
	waiting int
	release chan struct{}
}

// arm makes the next n calls of GetServer wait for each other.
func (b *barrierStore) arm(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.waiting, b.release = n, make(chan struct{})
}

func (b *barrierStore) GetServer(ctx context.Context, user, name string) (store.Server, error) {
	sv, err := b.Store.GetServer(ctx, user, name)
	b.mu.Lock()
	held, release := b.waiting > 0, b.release
	if held {
		b.waiting--
		if b.waiting == 0 {
			close(release)
		}
	}
	b.mu.Unlock()
	if held {
		<-release
	}
	return sv, err
}

func TestConcurrentFirstStarts(t *testing.T) {
	const starts = 10
	st, err := store.Open(t.Context(), "sqlite:///"+filepath.Join(t.TempDir(), "hub.sqlite"),
		store.Options{})
	must(t, err)
	t.Cleanup(func() { st.Close() })
	barrier := &barrierStore{Store: st}
	th := startHub(t, hubOptions{store: barrier})
	th.addUser("alice", false)
	token := th.token("alice")

	barrier.arm(starts)
	type result struct {
		status int
		body   string
	}
	results := make(chan result, starts)
	for range starts {
		go func() {
			req, _ := http.NewRequest("POST", th.url+"/hub/api/users/alice/server", nil)
			req.Header.Set("Authorization", "token "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				results <- result{body: err.Error()}
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			results <- result{resp.StatusCode, string(body)}
		}()
	}
	counts := map[int]int{}
	for range starts {
		r := <-results
		counts[r.status]++
		switch r.status {
		case http.StatusCreated, http.StatusAccepted:
		case http.StatusBadRequest:
			if !strings.Contains(r.body, "already running") {
				t.Errorf("400 = %s, want already running", r.body)
			}
		default:
			t.Errorf("concurrent start = %d %s", r.status, r.body)
		}
	}
	if counts[http.StatusCreated] != 1 {
		t.Errorf("statuses = %v, want one 201", counts)
	}
	th.spawner.mu.Lock()
	spawned := len(th.spawner.requests)
	th.spawner.mu.Unlock()
	if spawned != 1 {
		t.Errorf("spawner starts = %d, want 1", spawned)
	}
}
