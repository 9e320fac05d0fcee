package spawn

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeHub serves the two hub endpoints a jupygo server calls on its own:
// the API root at start and activity reports.
type fakeHub struct {
	*httptest.Server
	rootCalls atomic.Int32
	// rootCalled is closed at the first call of the API root.
	rootCalled chan struct{}
	rootOnce   sync.Once
}

func newFakeHub(t testing.TB) *fakeHub {
	h := &fakeHub{rootCalled: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hub/api/{$}", func(w http.ResponseWriter, r *http.Request) {
		h.rootCalls.Add(1)
		h.rootOnce.Do(func() { close(h.rootCalled) })
		w.Header().Set("X-JupyterHub-Version", "5.5.1")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"version": "5.5.1"}`))
	})
	mux.HandleFunc("POST /hub/api/users/{name}/activity", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	})
	h.Server = httptest.NewServer(mux)
	t.Cleanup(h.Close)
	return h
}

// jupygoRequest returns a request that starts jupygo server as alice's
// server "analysis", with the hub at hubURL.
func jupygoRequest(hubURL string) Request {
	return jupygoRequestFor(hubURL, "alice", "analysis")
}

// jupygoRequestFor returns a request that starts jupygo server as the
// server of user, with the hub at hubURL.
func jupygoRequestFor(hubURL, user, server string) Request {
	prefix := "/user/" + user + "/"
	clientID := "jupyterhub-user-" + user
	if server != "" {
		prefix += server + "/"
		clientID += "-" + server
	}
	return Request{
		User:   user,
		Server: server,
		Cmd:    []string{jupygoBinary, "server"},
		Prefix: prefix,
		Env: map[string]string{
			"JUPYTERHUB_API_TOKEN":          "0123456789abcdef0123456789abcdef",
			"JUPYTERHUB_CLIENT_ID":          clientID,
			"JUPYTERHUB_API_URL":            hubURL + "/hub/api",
			"JUPYTERHUB_ACTIVITY_URL":       hubURL + "/hub/api/users/" + user + "/activity",
			"JUPYTERHUB_BASE_URL":           "/",
			"JUPYTERHUB_SERVICE_PREFIX":     prefix,
			"JUPYTERHUB_OAUTH_CALLBACK_URL": prefix + "oauth_callback",
			"JUPYTERHUB_USER":               user,
			"JUPYTERHUB_SERVER_NAME":        server,
			runMarkerVar:                    runMarker,
		},
	}
}

func TestStartJupygoServer(t *testing.T) {
	hub := newFakeHub(t)
	s, rec := newSpawner(t)
	r := jupygoRequest(hub.URL)
	var events []Event
	started, err := s.Start(t.Context(), r, func(e Event) { events = append(events, e) })
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	st := mustState(t, started.State)
	t.Cleanup(func() { killGroup(t, st) })

	if got := hub.rootCalls.Load(); got == 0 {
		t.Error("the server never called the hub's API root")
	}
	resp, err := http.Get(started.URL + "/user/alice/analysis/api")
	if err != nil {
		t.Fatal(err)
	}
	var info struct{ Version string }
	err = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || info.Version == "" {
		t.Fatalf("GET api: status %d, version %q, err %v", resp.StatusCode, info.Version, err)
	}
	for i := 1; i < len(events); i++ {
		if events[i].Progress <= events[i-1].Progress {
			t.Errorf("progress went from %d to %d: %+v", events[i-1].Progress, events[i].Progress, events)
		}
	}
	if len(events) < 2 {
		t.Errorf("got %d progress events, want several: %+v", len(events), events)
	}

	start := time.Now()
	if err := s.Stop(t.Context(), started.State); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if running, err := s.Poll(t.Context(), started.State); running || err != nil {
		t.Errorf("Poll after Stop = %v, %v; want false, nil", running, err)
	}
	if rec.find("server stopped", map[string]string{"signal": "SIGINT"}) == nil {
		t.Errorf("jupygo server did not stop on SIGINT; Stop took %v and logged %q",
			time.Since(start), stopMessages(rec))
	}
	out, err := os.ReadFile(filepath.Join(s.UsersDir, "alice", ".jupygo-server-analysis.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "jupygo server started") {
		t.Errorf("output file lacks the server's start line:\n%s", out)
	}
	// The output is logged by a goroutine that finishes soon after the exit.
	waitFor(t, "server output logged with user and server", func() bool {
		return rec.find("server output", map[string]string{"user": "alice", "server": "analysis"}) != nil
	})
}

func TestStartEnvironment(t *testing.T) {
	t.Setenv("LANG", "C.UTF-8")
	s, _ := newSpawner(t)
	r := helperRequest(t, "bob", helperServe)
	r.Env["JUPYTERHUB_USER"] = "bob"
	r.Env["JUPYTERHUB_SERVICE_URL"] = "http://127.0.0.1:1/ignored/"
	started := startServer(t, s, r)
	env := serverEnv(t, started, r.Prefix)

	home := filepath.Join(s.UsersDir, "bob")
	want := map[string]string{
		"HOME":                   home,
		"USER":                   "bob",
		"PATH":                   os.Getenv("PATH"),
		"LANG":                   "C.UTF-8",
		"JUPYTERHUB_ROOT_DIR":    home,
		"JUPYTERHUB_USER":        "bob",
		"JUPYTERHUB_SERVICE_URL": started.URL + "/user/bob/",
		helperModeVar:            helperServe,
		runMarkerVar:             runMarker,
	}
	if diff := cmp.Diff(want, env); diff != "" {
		t.Errorf("server environment (-want +got):\n%s", diff)
	}
	if _, ok := env[hubSecretVar]; ok {
		t.Errorf("the hub's %s reached the server", hubSecretVar)
	}
	info, err := os.Stat(home)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("home folder mode = %v, want 0700", perm)
	}
	if !strings.HasPrefix(started.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q, want a loopback URL", started.URL)
	}
}

func TestStartNotebookDir(t *testing.T) {
	s, _ := newSpawner(t)
	r := helperRequest(t, "carol", helperServe)
	home := filepath.Join(s.UsersDir, "carol")
	if err := os.MkdirAll(filepath.Join(home, "work"), 0o700); err != nil {
		t.Fatal(err)
	}
	r.NotebookDir = "~/work"
	env := serverEnv(t, startServer(t, s, r), r.Prefix)
	if got, want := env["JUPYTERHUB_ROOT_DIR"], filepath.Join(home, "work"); got != want {
		t.Errorf("JUPYTERHUB_ROOT_DIR = %q, want %q", got, want)
	}

	r.NotebookDir = "missing"
	r.Server = "other"
	if _, err := s.Start(t.Context(), r, nil); err == nil || !strings.Contains(err.Error(), "notebook folder") {
		t.Errorf("Start with a missing notebook folder: err = %v", err)
	}
}

func TestStartAPIFallback(t *testing.T) {
	s, _ := newSpawner(t)
	started := startServer(t, s, helperRequest(t, "dave", helperAPIOnly))
	if running, err := s.Poll(t.Context(), started.State); !running || !errors.Is(err, ErrNotResponding) {
		t.Errorf("Poll of a server whose prefix returns 503 = %v, %v; want true, ErrNotResponding",
			running, err)
	}
}

func TestStartTimeout(t *testing.T) {
	s, rec := newSpawner(t)
	r := helperRequest(t, "erin", helperSilent)
	r.HTTPTimeout = 300 * time.Millisecond
	start := time.Now()
	_, err := s.Start(t.Context(), r, nil)
	if !errors.Is(err, ErrStartTimeout) {
		t.Fatalf("Start of a server that never listens: err = %v, want ErrStartTimeout", err)
	}
	if elapsed := time.Since(start); elapsed < r.HTTPTimeout {
		t.Errorf("Start gave up after %v, before the HTTP timeout %v", elapsed, r.HTTPTimeout)
	}
	var startErr *StartError
	if !errors.As(err, &startErr) {
		t.Fatalf("err is %T, want *StartError", err)
	}
	if diff := cmp.Diff([]string{"silent helper started"}, startErr.Output); diff != "" {
		t.Errorf("output tail (-want +got):\n%s", diff)
	}
	if !strings.Contains(err.Error(), "silent helper started") {
		t.Errorf("error message lacks the output: %v", err)
	}
	assertNoChildren(t, s)
	assertLogged(t, rec, "server process started")
}

func TestStartEarlyExit(t *testing.T) {
	s, _ := newSpawner(t)
	r := helperRequest(t, "frank", helperExit)
	_, err := s.Start(t.Context(), r, nil)
	var startErr *StartError
	if !errors.As(err, &startErr) {
		t.Fatalf("Start of a server that exits: err = %v, want a *StartError", err)
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != helperExitCode {
		t.Errorf("err = %v, want exit status %d", err, helperExitCode)
	}
	var want []string
	for i := helperOutputLines - tailLines + 1; i <= helperOutputLines; i++ {
		want = append(want, "line "+strconv.Itoa(i))
	}
	if diff := cmp.Diff(want, startErr.Output); diff != "" {
		t.Errorf("output tail (-want +got):\n%s", diff)
	}
	if errors.Is(err, ErrStartTimeout) {
		t.Error("an early exit is reported as a timeout")
	}
	assertNoChildren(t, s)
}

func TestStartCancel(t *testing.T) {
	s, _ := newSpawner(t)
	ctx, cancel := context.WithCancel(t.Context())
	events := 0
	_, err := s.Start(ctx, helperRequest(t, "gina", helperSilent), func(e Event) {
		events++
		if events == 2 { // the process has started
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Start after cancel: err = %v, want context.Canceled", err)
	}
	assertNoChildren(t, s)
}

// The process state comes with a progress event as soon as the process
// runs, so that a hub which crashes before the server responds leaves
// enough behind for the next hub, here another spawner value, to stop it.
func TestStartReportsStateEarly(t *testing.T) {
	s, _ := newSpawner(t)
	early := make(chan json.RawMessage, 1)
	result := make(chan error, 1)
	go func() {
		_, err := s.Start(t.Context(), helperRequest(t, "ivan", helperSilent), func(e Event) {
			if len(e.State) > 0 {
				early <- e.State
			}
		})
		result <- err
	}()
	state := <-early
	st := mustState(t, state)
	t.Cleanup(func() { killGroup(t, st) })
	if st.PID <= 0 || st.StartTime == 0 || st.URL == "" || st.Prefix != "/user/ivan/" {
		t.Errorf("early state = %+v, want a pid, start time, URL and prefix", st)
	}

	next, _ := newSpawner(t)
	if running, _ := next.Poll(t.Context(), state); !running {
		t.Error("Poll of the early state: the starting process is not running")
	}
	if err := next.Stop(t.Context(), state); err != nil {
		t.Fatalf("Stop from the early state: %v", err)
	}
	if err := <-result; err == nil || errors.Is(err, ErrStartTimeout) {
		t.Errorf("Start after its process was stopped: err = %v, want an early exit", err)
	}
	assertNoChildren(t, s)
}

func TestStartStateMatchesEarlyState(t *testing.T) {
	s, _ := newSpawner(t)
	var early json.RawMessage
	started, err := s.Start(t.Context(), helperRequest(t, "jill", helperServe), func(e Event) {
		if len(e.State) > 0 {
			early = e.State
		}
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { killGroup(t, mustState(t, started.State)) })
	if string(early) != string(started.State) {
		t.Errorf("early state %s, final state %s: want the same", early, started.State)
	}
}

func TestStartTwice(t *testing.T) {
	s, _ := newSpawner(t)
	r := helperRequest(t, "hank", helperServe)
	startServer(t, s, r)
	_, err := s.Start(t.Context(), r, nil)
	if err == nil || !strings.Contains(err.Error(), "still runs") {
		t.Errorf("second Start of a running server: err = %v", err)
	}
	out, err := os.ReadFile(outputPath(filepath.Join(s.UsersDir, r.User), ""))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "helper listening on") {
		t.Errorf("the second Start truncated the first server's output, now %q", out)
	}
}

func TestStartInvalidRequest(t *testing.T) {
	s, _ := newSpawner(t)
	tests := []struct {
		name   string
		change func(*Request)
		want   string
	}{
		{"user with slash", func(r *Request) { r.User = "a/b" }, "invalid user name"},
		{"user dot-dot", func(r *Request) { r.User = ".." }, "invalid user name"},
		{"bad server name", func(r *Request) { r.Server = "My Server" }, "invalid server name"},
		{"prefix without slash", func(r *Request) { r.Prefix = "/user/ivy" }, "invalid URL prefix"},
		{"env name with =", func(r *Request) { r.Env["A=B"] = "c" }, "invalid environment variable"},
		{"env value with NUL", func(r *Request) { r.Env["A"] = "b\x00" }, "invalid environment variable"},
		{"missing command", func(r *Request) { r.Cmd = []string{"/nonexistent/jupygo"} }, "/nonexistent/jupygo"},
		{"negative timeout", func(r *Request) { r.HTTPTimeout = -time.Second }, "invalid timeouts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := helperRequest(t, "ivy", helperServe)
			tt.change(&r)
			_, err := s.Start(t.Context(), r, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start: err = %v, want one containing %q", err, tt.want)
			}
			assertNoChildren(t, s)
		})
	}
}

func TestStartHomeDirFunc(t *testing.T) {
	dir := t.TempDir()
	s := &SimpleLocalProcess{HomeDir: func(user string) (string, error) {
		if user == "nobody" {
			return "", errors.New("no home for nobody")
		}
		return filepath.Join(dir, "homes", user+"-home"), nil
	}}
	env := serverEnv(t, startServer(t, s, helperRequest(t, "olga", helperServe)), "/user/olga/")
	if got, want := env["HOME"], filepath.Join(dir, "homes", "olga-home"); got != want {
		t.Errorf("HOME = %q, want %q", got, want)
	}
	_, err := s.Start(t.Context(), helperRequest(t, "nobody", helperServe), nil)
	if err == nil || !strings.Contains(err.Error(), "no home for nobody") {
		t.Errorf("Start with a failing HomeDir: err = %v", err)
	}
}

func TestStartWithoutUsersDir(t *testing.T) {
	s := &SimpleLocalProcess{}
	_, err := s.Start(t.Context(), helperRequest(t, "jack", helperServe), nil)
	if err == nil || !strings.Contains(err.Error(), "UsersDir") {
		t.Errorf("Start without UsersDir: err = %v", err)
	}
}

func TestStopTerm(t *testing.T) {
	s, rec := newSpawner(t)
	started := startServer(t, s, helperRequest(t, "kate", helperServe))
	if err := s.Stop(t.Context(), started.State); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertNoChildren(t, s)
	assertGroupEmpty(t, started)
	assertLogged(t, rec, "server stopped")
	if err := s.Stop(t.Context(), started.State); err != nil {
		t.Errorf("second Stop: %v, want nil", err)
	}
}

// TestStopSequence stops servers that ignore some of the signals of
// Stop, and checks which signals each received and which log records
// Stop wrote.
func TestStopSequence(t *testing.T) {
	tests := []struct {
		name string
		mode string
		// received lists the signals the server reports, in order.
		received []string
		// logged lists the log messages of Stop, in order.
		logged []string
		// minWait is how long Stop must wait before it succeeds.
		minWait time.Duration
	}{
		{
			name:   "exits on SIGINT",
			mode:   helperServe,
			logged: []string{"server stopped"},
		},
		{
			name:   "ignores SIGTERM",
			mode:   helperIgnoreTerm,
			logged: []string{"server stopped"},
		},
		{
			name:     "ignores SIGINT",
			mode:     helperIgnoreInt,
			received: []string{"received SIGINT"},
			logged:   []string{"server still runs after SIGINT, sending SIGTERM", "server stopped"},
			minWait:  stopTestInterrupt,
		},
		{
			name:     "ignores SIGINT and SIGTERM",
			mode:     helperIgnoreIntTerm,
			received: []string{"received SIGINT", "received SIGTERM"},
			logged: []string{"server still runs after SIGINT, sending SIGTERM",
				"server still runs after SIGTERM, sending SIGKILL", "server killed"},
			minWait: stopTestInterrupt + stopTestTerm,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, rec := newSpawner(t)
			s.InterruptTimeout, s.TermTimeout = stopTestInterrupt, stopTestTerm
			r := helperRequest(t, "liam", tt.mode)
			started := startServer(t, s, r)
			output := outputPath(filepath.Join(s.UsersDir, r.User), "")
			awaitListening(t, output)

			start := time.Now()
			if err := s.Stop(t.Context(), started.State); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if elapsed := time.Since(start); elapsed < tt.minWait {
				t.Errorf("Stop returned after %v, before the timeouts of %v", elapsed, tt.minWait)
			}
			if diff := cmp.Diff(tt.logged, stopMessages(rec)); diff != "" {
				t.Errorf("log of Stop (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.received, receivedSignals(t, output)); diff != "" {
				t.Errorf("signals the server reported (-want +got):\n%s", diff)
			}
			assertNoChildren(t, s)
			assertGroupEmpty(t, started)
			if running, err := s.Poll(t.Context(), started.State); running || err != nil {
				t.Errorf("Poll after Stop = %v, %v; want false, nil", running, err)
			}
		})
	}
}

// Timeouts of the Stop tests, short to keep them fast and long enough for
// a loaded machine to deliver a signal and run the handler.
const (
	stopTestInterrupt = time.Second
	stopTestTerm      = time.Second
)

// awaitListening waits until the output file at path shows that the
// helper's signal handlers are in place, which happens before it listens.
func awaitListening(t *testing.T, path string) {
	t.Helper()
	waitFor(t, "the server to listen", func() bool {
		data, _ := os.ReadFile(path)
		return strings.Contains(string(data), "helper listening on")
	})
}

// stopMessages returns the messages of rec that Stop writes.
func stopMessages(rec *logRecorder) []string {
	var out []string
	for _, msg := range rec.messages() {
		if strings.HasPrefix(msg, "server still runs") || msg == "server stopped" ||
			msg == "server killed" {
			out = append(out, msg)
		}
	}
	return out
}

// receivedSignals returns the "received SIG..." lines of the output file
// at path.
func receivedSignals(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for line := range strings.Lines(string(data)) {
		if strings.HasPrefix(line, "received ") {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

func TestPollAfterExit(t *testing.T) {
	s, _ := newSpawner(t)
	started := startServer(t, s, helperRequest(t, "mia", helperServe))
	if running, err := s.Poll(t.Context(), started.State); !running || err != nil {
		t.Fatalf("Poll of a running server = %v, %v; want true, nil", running, err)
	}
	st := mustState(t, started.State)
	if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the server to be reaped", func() bool { return s.child(st) == nil })
	if running, err := s.Poll(t.Context(), started.State); running || err != nil {
		t.Errorf("Poll of a killed server = %v, %v; want false, nil", running, err)
	}
}

func TestExitedAfterExit(t *testing.T) {
	s, _ := newSpawner(t)
	started := startServer(t, s, helperRequest(t, "mia", helperServe))
	select {
	case <-s.Exited():
		t.Fatal("Exited received while the server runs")
	default:
	}
	st := mustState(t, started.State)
	if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("Exited received nothing within 10 s of the server's exit")
	}
}

func TestReattachSecondSpawner(t *testing.T) {
	s, _ := newSpawner(t)
	started := startServer(t, s, helperRequest(t, "noah", helperServe))

	other := &SimpleLocalProcess{}
	if running, err := other.Poll(t.Context(), started.State); !running || err != nil {
		t.Fatalf("Poll from a new spawner = %v, %v; want true, nil", running, err)
	}
	if err := other.Stop(t.Context(), started.State); err != nil {
		t.Fatalf("Stop from a new spawner: %v", err)
	}
	if running, err := other.Poll(t.Context(), started.State); running || err != nil {
		t.Errorf("Poll after Stop = %v, %v; want false, nil", running, err)
	}
	waitFor(t, "the first spawner to reap the server", func() bool {
		return s.child(mustState(t, started.State)) == nil
	})
}

// TestReattachAfterHubExit starts a server from a hub process, ends that
// hub with a signal to its whole process group, as a terminal's Ctrl-C
// would, and finds the server still running.
func TestReattachAfterHubExit(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			state := startFromHubProcess(t, sig)
			s := &SimpleLocalProcess{}
			if running, err := s.Poll(t.Context(), state); !running || err != nil {
				t.Fatalf("Poll after the hub died = %v, %v; want true, nil", running, err)
			}
			if err := s.Stop(t.Context(), state); err != nil {
				t.Fatalf("Stop after the hub died: %v", err)
			}
			assertGroupEmpty(t, Started{State: state})
			if running, err := s.Poll(t.Context(), state); running || err != nil {
				t.Errorf("Poll after Stop = %v, %v; want false, nil", running, err)
			}
		})
	}
}

// startFromHubProcess runs a hub helper process that starts a server,
// sends sig to the hub's process group once the server runs, and returns
// the server's state.
func startFromHubProcess(t *testing.T, sig syscall.Signal) json.RawMessage {
	t.Helper()
	hub, stdout := startHubHelper(t, helperHub, filepath.Join(t.TempDir(), "users"))
	line, err := stdout.ReadBytes('\n')
	if err != nil {
		t.Fatalf("reading the state from the hub: %v", err)
	}
	state := json.RawMessage(line)
	st := mustState(t, state)
	t.Cleanup(func() { killGroup(t, st) })

	if err := syscall.Kill(-hub.Process.Pid, sig); err != nil {
		t.Fatal(err)
	}
	if err := hub.Wait(); err == nil {
		t.Fatalf("the hub process exited normally, want death by %v", sig)
	}
	return state
}

// TestPIDReuseGuard gives Poll and Stop the pid of a live process that is
// not the one the state recorded.
func TestPIDReuseGuard(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	other := exec.Command(exe)
	other.Env = append(os.Environ(), helperModeVar+"="+helperSilent, runMarkerVar+"="+runMarker)
	other.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-other.Process.Pid, syscall.SIGKILL)
		other.Wait()
	})
	stat, err := readProcStat(other.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	real := processState{PID: other.Process.Pid, StartTime: stat.startTime, BootID: bootID(),
		URL: "http://127.0.0.1:1", Prefix: "/"}
	if err := checkProcess(real, bootID()); err != nil {
		t.Fatalf("checkProcess of the live process: %v", err)
	}

	tests := []struct {
		name  string
		state processState
	}{
		{"other start time", func() processState { st := real; st.StartTime++; return st }()},
		{"other boot", func() processState { st := real; st.BootID = "another-boot"; return st }()},
	}
	s := &SimpleLocalProcess{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, _ := json.Marshal(tt.state)
			if running, err := s.Poll(t.Context(), raw); running || err != nil {
				t.Errorf("Poll = %v, %v; want false, nil", running, err)
			}
			if err := s.Stop(t.Context(), raw); err != nil {
				t.Errorf("Stop = %v, want nil", err)
			}
			if err := checkProcess(real, bootID()); err != nil {
				t.Errorf("the unrelated process was stopped: %v", err)
			}
		})
	}
}

func TestPollStopEmptyState(t *testing.T) {
	s := &SimpleLocalProcess{}
	for _, raw := range []string{"", "null", "{}"} {
		if running, err := s.Poll(t.Context(), json.RawMessage(raw)); running || err != nil {
			t.Errorf("Poll(%q) = %v, %v; want false, nil", raw, running, err)
		}
		if err := s.Stop(t.Context(), json.RawMessage(raw)); err != nil {
			t.Errorf("Stop(%q) = %v, want nil", raw, err)
		}
	}
	if _, err := s.Poll(t.Context(), json.RawMessage(`{"pid": "x"}`)); err == nil {
		t.Error("Poll of invalid state: no error")
	}
	if err := s.Stop(t.Context(), json.RawMessage(`{"pid": 5, "url": "http://127.0.0.1:1"}`)); err == nil {
		t.Error("Stop of a state without start_time: no error")
	}
}

// assertNoChildren fails unless every process s started has been reaped.
func assertNoChildren(t *testing.T, s *SimpleLocalProcess) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var pids []int
	for pid := range s.children {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	if len(pids) > 0 {
		t.Errorf("processes still running: %v", pids)
	}
}

func assertLogged(t *testing.T, rec *logRecorder, msg string) {
	t.Helper()
	if rec.find(msg, nil) == nil {
		t.Errorf("no %q in the log: %q", msg, rec.messages())
	}
}

// assertGroupEmpty fails if a live process is left in the process group
// of the server started.
func assertGroupEmpty(t *testing.T, started Started) {
	t.Helper()
	st := mustState(t, started.State)
	if pids := liveGroupMembers(st.PID); len(pids) > 0 {
		t.Errorf("processes left in the server's group %d: %v", st.PID, pids)
	}
}

func TestFixedPort(t *testing.T) {
	s, _ := newSpawner(t)
	port, err := freePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	s.Port = port
	want := "http://127.0.0.1:" + strconv.Itoa(port)
	alice := startServer(t, s, helperRequest(t, "alice", helperServe))
	if alice.URL != want {
		t.Errorf("alice's server at %s, want %s", alice.URL, want)
	}

	_, err = s.Start(t.Context(), helperRequest(t, "bob", helperServe), nil)
	if !errors.Is(err, ErrPortInUse) {
		t.Fatalf("second start on the fixed port = %v, want ErrPortInUse", err)
	}
	for _, word := range []string{strconv.Itoa(port), "alice", "Spawner.port"} {
		if !strings.Contains(err.Error(), word) {
			t.Errorf("error %q lacks %q", err, word)
		}
	}

	if err := s.Stop(t.Context(), alice.State); err != nil {
		t.Fatal(err)
	}
	if bob := startServer(t, s, helperRequest(t, "bob", helperServe)); bob.URL != want {
		t.Errorf("bob's server after alice's stopped at %s, want %s", bob.URL, want)
	}
}

func TestFixedPortTakenByAnotherProgram(t *testing.T) {
	s, _ := newSpawner(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	s.Port = port
	_, err = s.Start(t.Context(), helperRequest(t, "alice", helperServe), nil)
	if !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Fatalf("start on a port another program holds = %v, want ErrPortInUse naming %d", err, port)
	}
	ln.Close()
	// The failed start leaves the port to the next one.
	if started := startServer(t, s, helperRequest(t, "alice", helperServe)); !strings.HasSuffix(started.URL, ":"+strconv.Itoa(port)) {
		t.Errorf("start after the program exited at %s, want port %d", started.URL, port)
	}
}

// No home folder may expose the hub's data folder, whatever
// home_dir_template says.
func TestHomeOutsideDataFolder(t *testing.T) {
	data := t.TempDir()
	users := filepath.Join(data, "users")
	for _, tt := range []struct {
		home string
		ok   bool
	}{
		{filepath.Join(users, "alice"), true},
		{filepath.Join(filepath.Dir(data), "alice"), true},
		{filepath.Join(data+"x", "alice"), true}, // a sibling whose name starts alike
		{data, false},
		{filepath.Dir(data), false},
		{users, false},
		{filepath.Join(data, "alice"), false},
		{filepath.Join(data, "deleted-users", "alice"), false},
	} {
		s := &SimpleLocalProcess{UsersDir: users, DataDir: data,
			HomeDir: func(string) (string, error) { return tt.home, nil }}
		_, err := s.homePath("alice")
		if tt.ok && err != nil {
			t.Errorf("home %s: %v, want it accepted", tt.home, err)
		}
		if !tt.ok && (err == nil || !strings.Contains(err.Error(), "data folder")) {
			t.Errorf("home %s: %v, want an error naming the data folder", tt.home, err)
		}
	}
}
