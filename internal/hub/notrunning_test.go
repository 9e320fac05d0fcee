package hub

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/store"
)

const namedServersConfig = `
[JupyterHub]
allow_named_servers = true
`

// getAccept sends a GET with an Accept header.
func (b *browser) getAccept(path, accept string) pageResult {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return b.do(req)
}

// notRunningMessage decodes the JSON 424 of a request to a stopped server.
func notRunningMessage(t *testing.T, p pageResult) string {
	t.Helper()
	var e struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
	}
	if !strings.Contains(p.header.Get("Content-Type"), "json") {
		t.Fatalf("response %d has Content-Type %q, want JSON: %s", p.status,
			p.header.Get("Content-Type"), p.body)
	}
	if err := json.Unmarshal([]byte(p.body), &e); err != nil {
		t.Fatalf("response %d is not JSON: %v: %s", p.status, err, p.body)
	}
	if e.Status != p.status {
		t.Errorf("JSON status = %d, response status %d", e.Status, p.status)
	}
	return e.Message
}

// proxiedTo returns the server a request through the proxy reached, or ""
// with the response when it reached none.
func proxiedTo(t *testing.T, b *browser, path string) (string, pageResult) {
	t.Helper()
	p := b.get(path)
	var got struct {
		Server string `json:"server"`
		Path   string `json:"path"`
	}
	if p.status != http.StatusOK || json.Unmarshal([]byte(p.body), &got) != nil {
		return "", p
	}
	if got.Path != path {
		t.Errorf("server got path %q, want %q", got.Path, path)
	}
	return got.Server, p
}

// startByAPI starts a user's server, the default one when server is "".
func startByAPI(t *testing.T, th *testHub, tok, user, server string) {
	t.Helper()
	path := "/hub/api/users/" + user + "/server"
	if server != "" {
		path = "/hub/api/users/" + user + "/servers/" + server
	}
	if r := th.api("POST", path, tok, nil); r.status != http.StatusCreated {
		t.Fatalf("POST %s = %d %s", path, r.status, r.body)
	}
}

// startWithStoppedWork starts a hub where alice's default server runs and
// her named server work is stopped. It returns alice's token too.
func startWithStoppedWork(t *testing.T) (*testHub, string) {
	t.Helper()
	th := startHub(t, hubOptions{config: namedServersConfig})
	th.addUser("alice", false)
	tok := th.token("alice")
	startByAPI(t, th, tok, "alice", "")
	startByAPI(t, th, tok, "alice", "work")
	if r := th.api("DELETE", "/hub/api/users/alice/servers/work", tok, nil); r.status != http.StatusNoContent {
		t.Fatalf("stopping work = %d %s", r.status, r.body)
	}
	return th, tok
}

func TestStoppedNamedServerBesideDefault(t *testing.T) {
	th, tok := startWithStoppedWork(t)
	anonymous := th.browser()

	server, p := proxiedTo(t, anonymous, "/user/alice/work/lab")
	if server != "" || p.status != http.StatusFound || p.location != "/hub/user/alice/work/lab" {
		t.Errorf("stopped work = server %q, %d %q, want a redirect to /hub/user/alice/work/lab",
			server, p.status, p.location)
	}
	if server, p := proxiedTo(t, anonymous, "/user/alice/lab"); server != "" || p.status != http.StatusOK {
		t.Errorf("default server's own path = server %q, %d, want the default server", server, p.status)
	}
	if server, p := proxiedTo(t, anonymous, "/user/alice/other/lab"); server != "" || p.status != http.StatusOK {
		t.Errorf("path of no named server = server %q, %d, want the default server", server, p.status)
	}

	b := th.browser()
	b.mustLogin("alice")
	p = b.get("/hub/user/alice/work/lab")
	if p.status != http.StatusFailedDependency ||
		!strings.Contains(p.body, "/hub/spawn/alice/work?next="+url.QueryEscape("/user/alice/work/lab")) {
		t.Errorf("not-running page of work = %d, want 424 with a link that starts work: %s", p.status, p.body)
	}
	p = b.get("/hub/user/alice/work/api/kernels?x=1")
	if p.status != http.StatusFailedDependency {
		t.Fatalf("JupyterLab's poll of work = %d, want 424", p.status)
	}
	message := notRunningMessage(t, p)
	for _, want := range []string{"/user/alice/work/api/kernels.", "/hub/spawn/alice/work"} {
		if !strings.Contains(message, want) {
			t.Errorf("424 message %q lacks %q", message, want)
		}
	}

	startByAPI(t, th, tok, "alice", "work")
	if server, p := proxiedTo(t, anonymous, "/user/alice/work/lab"); server != "work" {
		t.Errorf("restarted work = server %q, %d %q, want work", server, p.status, p.location)
	}
	if p := b.get("/hub/user/alice/work/lab?a=b"); p.status != http.StatusFound ||
		p.location != "/user/alice/work/lab?a=b" {
		t.Errorf("hub page of a running work = %d %q, want a redirect to it", p.status, p.location)
	}
}

func TestNamedServerCacheFollowsChanges(t *testing.T) {
	th := startHub(t, hubOptions{config: namedServersConfig})
	th.addUser("alice", false)
	tok := th.token("alice")
	startByAPI(t, th, tok, "alice", "")
	anonymous := th.browser()
	if server, p := proxiedTo(t, anonymous, "/user/alice/work/x"); server != "" || p.status != http.StatusOK {
		t.Fatalf("work before it exists = server %q, %d, want the default server", server, p.status)
	}

	gate := make(chan struct{})
	th.spawner.gate = gate
	th.hub.slowSpawn = 0 // reply 202 at once
	if r := th.api("POST", "/hub/api/users/alice/servers/work", tok, nil); r.status != http.StatusAccepted {
		t.Fatalf("slow start of work = %d %s, want 202", r.status, r.body)
	}
	if _, p := proxiedTo(t, anonymous, "/user/alice/work/x"); p.status != http.StatusFound ||
		p.location != "/hub/user/alice/work/x" {
		t.Errorf("work while starting = %d %q, want a redirect to the hub", p.status, p.location)
	}
	b := th.browser()
	b.mustLogin("alice")
	if p := b.get("/hub/user/alice/work/x"); p.status != http.StatusSeeOther ||
		!strings.HasPrefix(p.location, "/hub/spawn-pending/alice/work?next=") {
		t.Errorf("hub page of work while starting = %d %q, want the pending page", p.status, p.location)
	}
	if p := b.get("/hub/user/alice/work/api/status"); p.status != http.StatusFailedDependency {
		t.Errorf("API request to work while starting = %d, want 424", p.status)
	}
	close(gate)
	waitFor(t, "work to start", func() bool { return th.hub.runOf("alice", "work") == nil })
	th.hub.slowSpawn = 5 * time.Second // wait for the stop below

	r := th.api("DELETE", "/hub/api/users/alice/servers/work", tok, map[string]any{"remove": true})
	if r.status != http.StatusNoContent {
		t.Fatalf("removing work = %d %s", r.status, r.body)
	}
	if server, p := proxiedTo(t, anonymous, "/user/alice/work/x"); server != "" || p.status != http.StatusOK {
		t.Errorf("work after its removal = server %q, %d %q, want the default server",
			server, p.status, p.location)
	}
}

// A named server deleted behind the cache's back, as a slow stop with
// remove does, costs one round trip through the hub, never a loop.
func TestNamedServerCacheHealsItself(t *testing.T) {
	th, _ := startWithStoppedWork(t)
	b := th.browser()
	b.mustLogin("alice")
	if _, p := proxiedTo(t, b, "/user/alice/work/x"); p.status != http.StatusFound {
		t.Fatalf("stopped work = %d, want a redirect to the hub", p.status)
	}
	must(t, th.store.DeleteServer(t.Context(), "alice", "work"))

	path := "/user/alice/work/x"
	for hops := 0; ; hops++ {
		server, p := proxiedTo(t, b, path)
		if p.status == http.StatusOK && server == "" {
			break
		}
		if p.status != http.StatusFound || hops == 2 {
			t.Fatalf("request %d for %s = %d %q, want the default server within 2 redirects",
				hops, path, p.status, p.location)
		}
		path = p.location
	}
}

func TestNotRunningAccess(t *testing.T) {
	th := startHub(t, hubOptions{config: namedServersConfig})
	th.addUser("root", true)
	th.addUser("alice", false)
	th.addUser("bob", false)
	if _, err := th.store.CreateServer(t.Context(), "alice", "work"); err != nil {
		t.Fatal(err)
	}
	bob := th.browser()
	bob.mustLogin("bob")
	root := th.browser()
	root.mustLogin("root")
	anonymous := th.browser()

	for _, tc := range []struct {
		name, path, token string
		b                 *browser
		status            int
		body              string
	}{
		{"bob at alice's server", "/hub/user/alice/work/lab", "", bob, http.StatusNotFound, ""},
		{"bob at a missing user", "/hub/user/nosuch/lab", "", bob, http.StatusNotFound, ""},
		{"admin at alice's server", "/hub/user/alice/work/lab", "", root, http.StatusFailedDependency,
			"Launch server of alice"},
		{"admin at a missing user", "/hub/user/nosuch/lab", "", root, http.StatusNotFound,
			"No such user: nosuch"},
		{"token without access:servers", "/hub/user/alice/work/lab", th.token("root", "read:users"),
			anonymous, http.StatusForbidden, ""},
		{"token for alice's work", "/hub/user/alice/work/lab",
			th.token("root", "access:servers!server=alice/work"), anonymous, http.StatusFailedDependency,
			"/hub/spawn/alice/work?next="},
		{"no credentials", "/hub/user/alice/work/lab", "", anonymous, http.StatusFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p pageResult
			if tc.token != "" {
				p = tc.b.withToken(http.MethodGet, tc.path, tc.token)
			} else {
				p = tc.b.get(tc.path)
			}
			if p.status != tc.status {
				t.Fatalf("GET %s = %d %q, want %d: %s", tc.path, p.status, p.location, tc.status, p.body)
			}
			if !strings.Contains(p.body, tc.body) {
				t.Errorf("GET %s lacks %q: %s", tc.path, tc.body, p.body)
			}
			if strings.Contains(p.body, "/user/alice/work/lab\"") || p.location == "/user/alice/work/lab" {
				t.Errorf("GET %s leads to alice's server", tc.path)
			}
		})
	}
	if p := anonymous.get("/hub/user/alice/work/lab"); !strings.HasPrefix(p.location, "/hub/login?next=") {
		t.Errorf("no credentials = %q, want the login page", p.location)
	}
}

func TestNotRunningOtherMethods(t *testing.T) {
	th := startHub(t, hubOptions{config: namedServersConfig})
	th.addUser("alice", false)
	if _, err := th.store.CreateServer(t.Context(), "alice", "work"); err != nil {
		t.Fatal(err)
	}
	alice := th.browser()
	alice.mustLogin("alice")
	anonymous := th.browser()
	for _, tc := range []struct {
		name      string
		b         *browser
		spawnPath string
	}{
		{"owner", alice, "/hub/spawn/alice/work"},
		// Without credentials the message names no server, so it does not
		// tell whether alice has one called work.
		{"no credentials", anonymous, "/hub/spawn/alice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPut, th.url+"/hub/user/alice/work/api/contents/a.txt",
				strings.NewReader("{}"))
			p := tc.b.do(req)
			if p.status != http.StatusFailedDependency {
				t.Fatalf("PUT = %d %q, want 424", p.status, p.location)
			}
			if message := notRunningMessage(t, p); !strings.HasSuffix(message, " "+tc.spawnPath) {
				t.Errorf("message %q does not end with %q", message, tc.spawnPath)
			}
		})
	}
}

func TestWantsJSON(t *testing.T) {
	for _, tc := range []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"*/*", false},
		{"application/json", true},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false},
		{"application/json, text/html", true},
		{"text/html, application/json", false},
		{"application/json;q=0.5, text/html", false},
		{"text/html;q=0.5, application/json", true},
		{"application/vnd.jupyter+json", true},
		{"application/jupyterhub-pagination+json", false},
		{"application/json;q=x", false},
	} {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept", tc.accept)
		if got := wantsJSON(r); got != tc.want {
			t.Errorf("wantsJSON(Accept: %q) = %v, want %v", tc.accept, got, tc.want)
		}
	}
}

func TestNotRunningAPIRequests(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	b := th.browser()
	b.mustLogin("alice")
	for _, tc := range []struct {
		path, accept string
		json         bool
	}{
		{"/hub/user/alice/lab", "application/json", true},
		{"/hub/user/alice/lab", "text/html", false},
		{"/hub/user/alice/api/status", "text/html", true},
		{"/hub/user/alice/files/api", "", true},
		{"/hub/user/alice/files/myapi/x", "", false},
	} {
		p := b.getAccept(tc.path, tc.accept)
		if p.status != http.StatusFailedDependency {
			t.Errorf("GET %s (Accept %q) = %d, want 424", tc.path, tc.accept, p.status)
		}
		if got := strings.Contains(p.header.Get("Content-Type"), "json"); got != tc.json {
			t.Errorf("GET %s (Accept %q) Content-Type = %q, want JSON %v", tc.path, tc.accept,
				p.header.Get("Content-Type"), tc.json)
		}
	}
}

func TestNotRunningFailedStart(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.spawner.fail = errors.New("no such command")
	b := th.browser()
	b.mustLogin("alice")
	b.get("/hub/spawn/alice")
	waitFor(t, "the start to fail", func() bool { return th.hub.runOf("alice", "") == nil })

	p := b.get("/hub/user/alice/lab")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/hub/spawn-pending/alice?next=") {
		t.Fatalf("after a failed start = %d %q, want the pending page", p.status, p.location)
	}
	p = b.get(p.location)
	if p.status != http.StatusOK || !strings.Contains(p.body, "no such command") ||
		!strings.Contains(p.body, "Try again") {
		t.Errorf("pending page after the failure = %d, want its message and a retry: %s", p.status, p.body)
	}
}

func TestNotRunningWhileStopping(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	b := th.browser()
	b.mustLogin("alice")
	rn := newRun("alice", "", store.PendingStop)
	th.hub.mu.Lock()
	th.hub.runs[runKey("alice", "")] = rn
	th.hub.mu.Unlock()

	p := b.get("/hub/user/alice/lab")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/hub/spawn-pending/alice?next=") {
		t.Fatalf("while stopping = %d %q, want the pending page", p.status, p.location)
	}
	pending := b.get(p.location)
	if pending.status != http.StatusOK || !strings.Contains(pending.body, "Stopping alice&#39;s server") ||
		!strings.Contains(pending.body, `http-equiv="refresh"`) {
		t.Errorf("pending page while stopping = %d, want a page that reloads: %s", pending.status, pending.body)
	}

	th.hub.endRun(rn)
	pending = b.get(p.location)
	if !strings.Contains(pending.body, "is not running") || !strings.Contains(pending.body, "Start it") ||
		strings.Contains(pending.body, "did not start") {
		t.Errorf("pending page once stopped lacks the start button: %s", pending.body)
	}
}

func TestLegacyStoppedServerStatus(t *testing.T) {
	th := startHub(t, hubOptions{config: `
[JupyterHub]
use_legacy_stopped_server_status_code = true
`})
	th.addUser("alice", false)
	b := th.browser()
	b.mustLogin("alice")
	if p := b.get("/hub/user/alice/lab"); p.status != http.StatusServiceUnavailable {
		t.Errorf("not-running page = %d, want 503", p.status)
	}
	p := b.get("/hub/user/alice/api/status")
	if p.status != http.StatusServiceUnavailable {
		t.Fatalf("not-running API request = %d, want 503", p.status)
	}
	notRunningMessage(t, p)
}

func TestReadyServerRouteRestored(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	startByAPI(t, th, th.token("alice"), "alice", "")
	want, _ := th.hub.routes.Get("/user/alice/")
	th.hub.routes.Remove("/user/alice/")
	b := th.browser()
	b.mustLogin("alice")
	if p := b.get("/hub/user/alice/lab"); p.status != http.StatusFound || p.location != "/user/alice/lab" {
		t.Errorf("ready server without a route = %d %q, want a redirect to it", p.status, p.location)
	}
	if rt, ok := th.hub.routes.Get("/user/alice/"); !ok || rt.Target != want.Target {
		t.Errorf("route after the visit = %+v %v, want target %s", rt, ok, want.Target)
	}
}

// BenchmarkUnroutedNamedServerCheck measures what serveUserPath adds to a
// proxied request for a default server's path when named servers are on.
func BenchmarkUnroutedNamedServerCheck(b *testing.B) {
	th := startHub(b, hubOptions{config: namedServersConfig})
	th.addUser("alice", false)
	if _, err := th.store.CreateServer(b.Context(), "alice", "work"); err != nil {
		b.Fatal(err)
	}
	r, _ := http.NewRequest(http.MethodGet, "/user/alice/api/kernels/0123", nil)
	b.ReportAllocs()
	for b.Loop() {
		if th.hub.isUnroutedNamedServer(r) {
			b.Fatal("a default server's path counted as a named server's")
		}
	}
}
