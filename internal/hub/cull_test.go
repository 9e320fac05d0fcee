package hub

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/store"
)

// startServers starts each "user" or "user/name" server through the API,
// and fails the test unless each is ready when the API returns.
func (th *testHub) startServers(t *testing.T, servers ...string) {
	t.Helper()
	for _, s := range servers {
		user, name, _ := strings.Cut(s, "/")
		path := "/hub/api/users/" + user + "/server"
		if name != "" {
			path += "s/" + name
		}
		if r := th.api("POST", path, th.token(user), nil); r.status != http.StatusCreated {
			t.Fatalf("start %s = %d %s", s, r.status, r.body)
		}
	}
}

// serverState returns whether the server is running, and whether its
// record exists.
func (th *testHub) serverState(t *testing.T, user, name string) (running, exists bool) {
	t.Helper()
	sv, err := th.store.GetServer(t.Context(), user, name)
	if errors.Is(err, store.ErrNotFound) {
		return false, false
	}
	must(t, err)
	return sv.Active(), true
}

// waitStopped waits until the server is no longer active.
func (th *testHub) waitStopped(t *testing.T, user, name string) {
	t.Helper()
	waitFor(t, user+"/"+name+" stopped", func() bool {
		running, _ := th.serverState(t, user, name)
		return !running && th.hub.runOf(user, name) == nil
	})
}

// reportActivity posts a last activity for the user's default server, as
// the server does.
func (th *testHub) reportActivity(t *testing.T, user string, at time.Time) {
	t.Helper()
	r := th.api("POST", "/hub/api/users/"+user+"/activity", th.token(user), map[string]any{
		"servers": map[string]any{"": map[string]any{"last_activity": at.UTC().Format(time.RFC3339)}}})
	if r.status >= 300 {
		t.Fatalf("activity of %s = %d %s", user, r.status, r.body)
	}
}

// cullerConfig sets [IdleCuller] with a long cull_every, so that only the
// test's own calls of cullServers cull.
const cullerConfig = `
[JupyterHub]
allow_named_servers = true
[IdleCuller]
cull_every = 600
`

func TestCullIdleServer(t *testing.T) {
	logs := &lockedBuffer{}
	th := startHub(t, hubOptions{config: cullerConfig + "timeout = 3600\n",
		log: slog.New(slog.NewTextHandler(logs, nil))})
	th.addUser("alice", false)
	th.addUser("bob", false)
	th.startServers(t, "alice", "bob")
	now := time.Now()
	// bob's server reports activity 50 minutes from now; alice's none.
	th.reportActivity(t, "bob", now.Add(50*time.Minute))

	th.hub.cullServers(t.Context(), now.Add(30*time.Minute))
	for _, u := range []string{"alice", "bob"} {
		if running, _ := th.serverState(t, u, ""); !running {
			t.Fatalf("%s's server culled after 30 minutes of a 60 minute timeout", u)
		}
	}

	th.hub.cullServers(t.Context(), now.Add(90*time.Minute))
	th.waitStopped(t, "alice", "")
	if running, _ := th.serverState(t, "bob", ""); !running {
		t.Error("bob's server, active 40 minutes ago, was culled")
	}
	if n := th.spawner.running(); n != 1 {
		t.Errorf("%d server processes run, want bob's only", n)
	}
	if _, ok := th.hub.routes.Get(th.hub.routeSpec("alice", "")); ok {
		t.Error("alice's route is left after the cull")
	}
	log := logs.String()
	if !strings.Contains(log, `msg="culling server" user=alice server="" reason=idle idle=1h30m`) {
		t.Errorf("log lacks the cull of alice's server:\n%s", log)
	}
	if n := culledCount(t, th, "idle"); n != 1 {
		t.Errorf("jupygo_culled_servers_total{reason=\"idle\"} = %v, want 1", n)
	}
}

// TestCullCountsProxyActivity checks that a request through the proxy
// keeps a server from being culled before its activity reaches the store.
func TestCullCountsProxyActivity(t *testing.T) {
	th := startHub(t, hubOptions{config: cullerConfig + "timeout = 0.5\n"})
	th.addUser("alice", false)
	th.addUser("bob", false)
	th.startServers(t, "alice", "bob")
	time.Sleep(600 * time.Millisecond)
	resp, err := http.Get(th.url + "/user/alice/lab")
	must(t, err)
	resp.Body.Close()
	th.hub.cullServers(t.Context(), time.Now())
	th.waitStopped(t, "bob", "")
	if running, _ := th.serverState(t, "alice", ""); !running {
		t.Error("alice's server, just used through the proxy, was culled")
	}
}

func TestCullSkipsAdmins(t *testing.T) {
	th := startHub(t, hubOptions{config: cullerConfig + "timeout = 60\ncull_admin_users = false\n"})
	th.addUser("alice", true)
	th.addUser("bob", false)
	th.startServers(t, "alice", "bob")
	th.hub.cullServers(t.Context(), time.Now().Add(time.Hour))
	th.waitStopped(t, "bob", "")
	if running, _ := th.serverState(t, "alice", ""); !running {
		t.Error("the admin's server was culled with cull_admin_users = false")
	}
}

func TestCullNamedServers(t *testing.T) {
	for _, remove := range []bool{false, true} {
		name := "keep records"
		conf := cullerConfig + "timeout = 60\n"
		if remove {
			name = "remove_named_servers"
			conf += "remove_named_servers = true\n"
		}
		t.Run(name, func(t *testing.T) {
			th := startHub(t, hubOptions{config: conf})
			th.addUser("alice", false)
			th.startServers(t, "alice", "alice/work")
			th.hub.cullServers(t.Context(), time.Now().Add(time.Hour))
			th.waitStopped(t, "alice", "")
			th.waitStopped(t, "alice", "work")
			if _, exists := th.serverState(t, "alice", ""); !exists {
				t.Error("the default server's record was deleted")
			}
			waitFor(t, "the named server's record", func() bool {
				_, exists := th.serverState(t, "alice", "work")
				return exists != remove
			})
			if th.spawner.running() != 0 {
				t.Errorf("%d server processes run after the cull", th.spawner.running())
			}
		})
	}
}

func TestCullMaxAge(t *testing.T) {
	th := startHub(t, hubOptions{config: cullerConfig + "max_age = 3600\n"})
	th.addUser("alice", false)
	th.startServers(t, "alice")
	now := time.Now()
	th.reportActivity(t, "alice", now.Add(55*time.Minute))
	th.hub.cullServers(t.Context(), now.Add(50*time.Minute))
	if running, _ := th.serverState(t, "alice", ""); !running {
		t.Fatal("server culled before max_age")
	}
	// Active a minute ago, but older than max_age.
	th.hub.cullServers(t.Context(), now.Add(56*time.Minute+time.Hour))
	th.waitStopped(t, "alice", "")
}

// TestCullLoop checks that the hub culls on its own, every cull_every,
// and that a stop of the hub ends the loop.
func TestCullLoop(t *testing.T) {
	th := startHub(t, hubOptions{config: "[IdleCuller]\ntimeout = 0.2\n"})
	if got := th.hub.cfg.IdleCuller.CullEvery; got != 100*time.Millisecond {
		t.Errorf("cull_every = %v, want half the timeout", got)
	}
	th.addUser("alice", false)
	th.startServers(t, "alice")
	th.waitStopped(t, "alice", "")
	th.stop()
}

// TestCullAfterRestart checks that a restarted hub culls, in its first
// check at start, a server that was idle before the restart, although it
// adds the server's route anew.
func TestCullAfterRestart(t *testing.T) {
	th := startHub(t, hubOptions{config: cullerConfig + "timeout = 0.5\n"})
	th.addUser("alice", false)
	th.startServers(t, "alice")
	th.stop()
	time.Sleep(600 * time.Millisecond)

	th2 := startHub(t, hubOptions{config: cullerConfig + "timeout = 0.5\n",
		store: th.store, spawn: th.spawner})
	th2.waitStopped(t, "alice", "")
	if th.spawner.running() != 0 {
		t.Error("alice's server process runs after the cull")
	}
}

// TestRestoredRouteNoActivity checks that the route a restarted hub adds
// for a running server is not copied to the store as activity.
func TestRestoredRouteNoActivity(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.startServers(t, "alice")
	th.stop()
	before, err := th.store.GetServer(t.Context(), "alice", "")
	must(t, err)
	time.Sleep(10 * time.Millisecond)

	th2 := startHub(t, hubOptions{store: th.store, spawn: th.spawner})
	th2.hub.copyRouteActivity(t.Context())
	after, err := th2.store.GetServer(t.Context(), "alice", "")
	must(t, err)
	if !after.Active() {
		t.Fatal("the restarted hub did not restore alice's server")
	}
	if !after.LastActivity.Equal(before.LastActivity) {
		t.Errorf("activity moved from %v to %v with no request", before.LastActivity, after.LastActivity)
	}

	// The proxy records activity in steps of at least a millisecond, so a
	// request in the same millisecond as the restore would not move it.
	time.Sleep(5 * time.Millisecond)
	resp, err := http.Get(th2.url + "/user/alice/lab")
	must(t, err)
	resp.Body.Close()
	th2.hub.copyRouteActivity(t.Context())
	after, err = th2.store.GetServer(t.Context(), "alice", "")
	must(t, err)
	if !after.LastActivity.After(before.LastActivity) {
		t.Errorf("activity %v not moved by a request through the proxy", after.LastActivity)
	}
}

// culledCount returns jupygo_culled_servers_total for reason.
func culledCount(t *testing.T, th *testHub, reason string) float64 {
	t.Helper()
	return float64(th.hub.metrics.culledCount(reason))
}
