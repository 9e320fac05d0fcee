package kernel

import (
	"strings"
	"testing"
	"time"
)

func TestCullPolicy(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	idle := func(state string, conns int, age time.Duration) Model {
		return Model{ExecutionState: state, Connections: conns, LastActivity: now.Add(-age)}
	}
	const timeout = time.Minute
	tests := []struct {
		name   string
		policy cullPolicy
		model  Model
		want   bool
	}{
		{"off", cullPolicy{}, idle("idle", 0, time.Hour), false},
		{"off keeps dead", cullPolicy{}, idle(stateDead, 0, time.Hour), false},
		{"idle past timeout", cullPolicy{timeout: timeout}, idle("idle", 0, 2*timeout), true},
		{"idle at timeout", cullPolicy{timeout: timeout}, idle("idle", 0, timeout), false},
		{"recent activity", cullPolicy{timeout: timeout}, idle("idle", 0, time.Second), false},
		{"starting past timeout", cullPolicy{timeout: timeout}, idle(stateStarting, 0, 2*timeout), true},
		{"dead however recent", cullPolicy{timeout: timeout}, idle(stateDead, 3, 0), true},
		{"busy kept", cullPolicy{timeout: timeout}, idle("busy", 0, 2*timeout), false},
		{"busy culled with cull busy", cullPolicy{timeout: timeout, busy: true},
			idle("busy", 0, 2*timeout), true},
		{"connected kept", cullPolicy{timeout: timeout}, idle("idle", 1, 2*timeout), false},
		{"connected culled with cull connected", cullPolicy{timeout: timeout, connected: true},
			idle("idle", 2, 2*timeout), true},
		{"busy and connected need both", cullPolicy{timeout: timeout, connected: true},
			idle("busy", 1, 2*timeout), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.policy.shouldCull(tc.model, now); got != tc.want {
				t.Errorf("shouldCull = %v, want %v", got, tc.want)
			}
		})
	}
}

// waitGone polls until the kernel id is no longer listed.
func (ts *testServer) waitGone(id string, within time.Duration) {
	ts.t.Helper()
	deadline := time.Now().Add(within)
	for {
		if _, ok := ts.m.Get(id); !ok {
			return
		}
		if time.Now().After(deadline) {
			ts.t.Fatalf("kernel %s still listed after %s", id, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stillListed fails the test when the kernel id disappears within d.
func (ts *testServer) stillListed(id string, d time.Duration) {
	ts.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, ok := ts.m.Get(id); !ok {
			ts.t.Fatalf("kernel %s was culled", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cullTestTimeout is the idle timeout of the culling tests. It must exceed
// the time a kernel takes to start on a loaded machine, because a kernel
// still starting after the timeout is culled, as in jupyter_server.
const cullTestTimeout = 5 * time.Second

func TestCullIdleKernels(t *testing.T) {
	skipWithoutIPyKernel(t)
	logs, log := newLogBuffer()
	ts := newTestServer(t, Options{
		Log:             log,
		CullIdleTimeout: cullTestTimeout,
		CullInterval:    100 * time.Millisecond,
	})
	lonely := ts.startKernel("python3")
	watched := ts.startKernel("python3")
	c := ts.dial(watched.ID, "", true)
	c.execute("1+1")

	ts.waitGone(lonely.ID, 20*time.Second)
	if !strings.Contains(logs.String(), `msg="culling idle kernel" kernel_id=`+lonely.ID) {
		t.Errorf("no log record of the culling in:\n%s", logs)
	}
	// The kernel with a WebSocket has been idle as long, and stays.
	ts.stillListed(watched.ID, 1500*time.Millisecond)

	c.ws.CloseNow()
	ts.waitGone(watched.ID, 20*time.Second)
	if st, _, _ := ts.do("GET", "/api/kernels", nil); st != 200 {
		t.Errorf("GET /api/kernels after culling = %d", st)
	}
}

func TestCullBusyKernel(t *testing.T) {
	skipWithoutIPyKernel(t)
	for _, cullBusy := range []bool{false, true} {
		name := "busy kept"
		if cullBusy {
			name = "busy culled"
		}
		t.Run(name, func(t *testing.T) {
			ts := newTestServer(t, Options{
				CullIdleTimeout: cullTestTimeout,
				CullInterval:    100 * time.Millisecond,
				CullConnected:   true,
				CullBusy:        cullBusy,
			})
			k := ts.startKernel("python3")
			c := ts.dial(k.ID, "", true)
			c.startBusyLoop()
			if cullBusy {
				ts.waitGone(k.ID, 20*time.Second)
				return
			}
			ts.stillListed(k.ID, cullTestTimeout+1500*time.Millisecond)
			if m, _ := ts.m.Get(k.ID); m.ExecutionState != "busy" {
				t.Errorf("execution_state = %q, want busy", m.ExecutionState)
			}
		})
	}
}
