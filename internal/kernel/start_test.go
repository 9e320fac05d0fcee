package kernel

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// argvSpecDirs writes a kernel spec called name with argv and returns the
// spec folders to search for it.
func argvSpecDirs(t *testing.T, name string, argv ...string) []string {
	t.Helper()
	data, err := json.Marshal(map[string]any{"argv": argv, "display_name": name, "language": "none"})
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	writeSpec(t, dataDir, name, string(data))
	return []string{filepath.Join(dataDir, "kernels")}
}

// logBuffer collects log records for tests that check what was logged.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogBuffer() (*logBuffer, *slog.Logger) {
	b := &logBuffer{}
	return b, slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// waitDead waits until the kernel id is dead and returns its model.
func (ts *testServer) waitDead(id string) Model {
	ts.t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		model, ok := ts.m.Get(id)
		if !ok {
			ts.t.Fatalf("kernel %s is gone; a dead kernel stays listed", id)
		}
		if model.ExecutionState == stateDead {
			return model
		}
		if time.Now().After(deadline) {
			ts.t.Fatalf("kernel %s still %s after %s", id, model.ExecutionState, testTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// channelsIdle reports whether the kernel's channels have no nudge, no open
// socket, no socket in their poll set and no held client message.
func channelsIdle(t *testing.T, k *Kernel) {
	t.Helper()
	var nudging bool
	var open, polled, pending int
	k.ch.call(func() {
		nudging = k.ch.nudge != nil
		for _, z := range k.ch.socks {
			if z != nil {
				open++
			}
		}
		polled = len(k.ch.polled)
		pending = len(k.ch.pending)
	})
	if nudging {
		t.Error("channels still nudge the dead kernel")
	}
	if open != 0 {
		t.Errorf("%d sockets still open to the dead kernel", open)
	}
	if polled != 0 {
		t.Errorf("%d sockets still in the poll set of the dead kernel", polled)
	}
	if pending != 0 {
		t.Errorf("%d client messages still held for the dead kernel", pending)
	}
}

// processGone reports whether no process is left in the group of pid.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(-pid, 0), syscall.ESRCH)
}

// TestStartTimeoutKillsKernel starts a kernel that never replies: at the
// start timeout its process group is killed, the nudge stops, and the
// kernel stays listed as dead with a reason until it is deleted.
func TestStartTimeoutKillsKernel(t *testing.T) {
	logs, log := newLogBuffer()
	ts := newTestServer(t, Options{
		Log: log, SpecDirs: argvSpecDirs(t, "sleeper", "/bin/sleep", "1000"),
		StartTimeout: 300 * time.Millisecond,
	})
	model := ts.postKernel("sleeper")
	k, _ := ts.m.kernel(model.ID)
	pid := k.currentProc().pid
	c := ts.dial(model.ID, "", true)
	c.until(isStatus(stateDead))

	dead := ts.waitDead(model.ID)
	if !strings.Contains(dead.Reason, "did not reply to kernel_info_request within 300ms") {
		t.Errorf("reason = %q, want the start timeout", dead.Reason)
	}
	if !processGone(pid) {
		t.Errorf("process group %d still runs after the start timeout", pid)
	}
	channelsIdle(t, k)
	if got := logs.String(); !strings.Contains(got, "kernel failed to start") ||
		!strings.Contains(got, "within 300ms") {
		t.Errorf("log does not say why the kernel is dead:\n%s", got)
	}

	// Requests to the dead kernel are dropped, not held, and a new
	// WebSocket learns that the kernel is dead.
	c.send(channelShell, "kernel_info_request", struct{}{})
	ts.dial(model.ID, "", false).until(isStatus(stateDead))
	channelsIdle(t, k)

	status, body, _ := ts.do("GET", "/api/kernels", nil)
	var list []Model
	if err := json.Unmarshal(body, &list); err != nil || status != http.StatusOK {
		t.Fatalf("GET /api/kernels: %d %s", status, body)
	}
	if len(list) != 1 || list[0].ExecutionState != stateDead || list[0].Reason == "" {
		t.Errorf("GET /api/kernels = %s, want the kernel, dead with a reason", body)
	}

	// A requested restart waits the start timeout again and fails.
	if status, body, _ := ts.do("POST", "/api/kernels/"+model.ID+"/restart", nil); status != http.StatusInternalServerError {
		t.Errorf("restart of a kernel that never answers: %d %s, want 500", status, body)
	}
	if got, _ := ts.m.Get(model.ID); got.ExecutionState != stateDead {
		t.Errorf("state after the failed restart = %q, want dead", got.ExecutionState)
	}
	channelsIdle(t, k)

	if status, body, _ := ts.do("DELETE", "/api/kernels/"+model.ID, nil); status != http.StatusNoContent {
		t.Fatalf("DELETE of a dead kernel: %d %s", status, body)
	}
	if _, ok := ts.m.Get(model.ID); ok {
		t.Error("kernel still listed after DELETE")
	}
}

// TestStartExitStopsNudge starts a kernel that exits at once: after the
// retries the kernel is dead without waiting for the start timeout.
func TestStartExitStopsNudge(t *testing.T) {
	ts := newTestServer(t, Options{
		SpecDirs: argvSpecDirs(t, "quitter", "/bin/sh", "-c", "exit 3"),
		// Longer than the wait in waitDead, so only the exit can end the start.
		StartTimeout: 2 * testTimeout,
	})
	model := ts.postKernel("quitter")
	k, _ := ts.m.kernel(model.ID)
	dead := ts.waitDead(model.ID)
	if !strings.Contains(dead.Reason, "exited before it was ready") ||
		!strings.Contains(dead.Reason, "exit status 3") {
		t.Errorf("reason = %q, want the early exit and its status", dead.Reason)
	}
	channelsIdle(t, k)
}

// TestStartMissingProgram starts kernels whose program does not exist: the
// start fails with a 500 whose message names the program, and no kernel
// is left listed.
func TestStartMissingProgram(t *testing.T) {
	for _, program := range []string{"/nonexistent/kernel-program", "jupygo-no-such-kernel"} {
		t.Run(filepath.Base(program), func(t *testing.T) {
			ts := newTestServer(t, Options{SpecDirs: argvSpecDirs(t, "missing", program, "{connection_file}")})
			status, body, _ := ts.do("POST", "/api/kernels", map[string]string{"name": "missing"})
			if status != http.StatusInternalServerError {
				t.Errorf("status = %d, want 500", status)
			}
			var e struct{ Message string }
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("error body %s: %v", body, err)
			}
			if !strings.Contains(e.Message, program) {
				t.Errorf("message %q does not name %s", e.Message, program)
			}
			if n := len(ts.m.List()); n != 0 {
				t.Errorf("%d kernels listed after a failed start, want 0", n)
			}
		})
	}
}

// TestStartSessionName checks JPY_SESSION_NAME in the environment of a
// kernel process: the session name joined to the kernel's folder, absent
// without a session name, and the spec's own value when its env sets one.
func TestStartSessionName(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The server's own environment must not decide the result; t.Setenv
	// restores the variable after the test.
	t.Setenv("JPY_SESSION_NAME", "")
	os.Unsetenv("JPY_SESSION_NAME")
	script := `printf '%s' "${JPY_SESSION_NAME-unset}" > "$OUT.tmp" && mv "$OUT.tmp" "$OUT"; exec sleep 1000`
	tests := []struct {
		name, sessionName, specEnv, want string
	}{
		{"session", "a.ipynb", "", filepath.Join(root, "sub", "a.ipynb")},
		{"no session", "", "", "unset"},
		{"spec env wins", "a.ipynb", "from-spec", "from-spec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "env")
			env := map[string]string{"OUT": out}
			if tt.specEnv != "" {
				env["JPY_SESSION_NAME"] = tt.specEnv
			}
			spec, err := json.Marshal(map[string]any{
				"argv": []string{"/bin/sh", "-c", script}, "display_name": "env", "language": "none",
				"env": env,
			})
			if err != nil {
				t.Fatal(err)
			}
			dataDir := t.TempDir()
			writeSpec(t, dataDir, "env", string(spec))
			ts := newTestServer(t, Options{
				SpecDirs: []string{filepath.Join(dataDir, "kernels")},
				ResolveCwd: func(p string) (string, error) {
					return filepath.Join(root, filepath.FromSlash(p)), nil
				},
			})
			model, err := ts.m.Start(t.Context(), StartOptions{
				Name: "env", Path: "sub/a.ipynb", SessionName: tt.sessionName,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer ts.m.Shutdown(t.Context(), model.ID)
			got := readWhenWritten(t, out)
			if got != tt.want {
				t.Errorf("JPY_SESSION_NAME = %q, want %q", got, tt.want)
			}
		})
	}
}

// readWhenWritten waits until the file at name exists and returns its
// content.
func readWhenWritten(t *testing.T, name string) string {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		data, err := os.ReadFile(name)
		if err == nil {
			return string(data)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not written after %s: %v", name, testTimeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
