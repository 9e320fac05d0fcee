package spawn

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The test binary doubles as the server processes of the tests: started
// with helperModeVar set, TestMain runs that helper instead of the tests.
const (
	helperModeVar = "SPAWN_TEST_HELPER"
	// runMarkerVar is set in the environment of every process the tests
	// start, so that TestMain can find any left running.
	runMarkerVar = "SPAWN_TEST_RUN"
	// hubSecretVar is in the tests' own environment and must not reach a
	// server.
	hubSecretVar = "SPAWN_TEST_HUB_SECRET"
)

var (
	// runMarker is this run's value of runMarkerVar.
	runMarker string
	// jupygoBinary is the jupygo command built for the tests.
	jupygoBinary string
)

func TestMain(m *testing.M) {
	// The spawners start every server as this binary's LaunchCommand.
	if len(os.Args) > 1 && os.Args[1] == LaunchCommand {
		os.Exit(RunLaunch(os.Args[2:], os.Stderr))
	}
	if mode := os.Getenv(helperModeVar); mode != "" {
		runHelper(mode)
		return
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	runMarker = randomHex(8)
	os.Setenv(hubSecretVar, "hub-secret-"+runMarker)
	dir, err := os.MkdirTemp("", "spawn-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// The system accounts of the LocalProcess tests run the binaries in
	// this folder.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	jupygoBinary = filepath.Join(dir, "jupygo")
	build := exec.Command("go", "build", "-o", jupygoBinary, "github.com/jupygo/jupygo/cmd/jupygo")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building jupygo: %v\n%s", err, out)
		return 1
	}

	code := m.Run()
	if left := markedProcesses(); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "processes left running by the tests: %v\n", left)
		for _, pid := range left {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		code = 1
	}
	return code
}

// markedProcesses returns the live processes whose environment holds this
// run's marker.
func markedProcesses() []int {
	entries, _ := os.ReadDir("/proc")
	marker := []byte(runMarkerVar + "=" + runMarker + "\x00")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !bytes.Contains(env, marker) {
			continue
		}
		if stat, err := readProcStat(pid); err == nil && stat.state != 'Z' {
			pids = append(pids, pid)
		}
	}
	return pids
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Helper modes.
const (
	helperServe       = "serve"       // serve HTTP, exit on SIGINT or SIGTERM
	helperIgnoreTerm  = "ignore-term" // serve HTTP, ignore SIGTERM
	helperAPIOnly     = "api-only"    // 503 on the prefix, 200 on {prefix}api
	helperSilent      = "silent"      // print a line, never listen
	helperExit        = "exit"        // print 30 lines, exit with status 7
	helperHub         = "hub"         // start a serve helper, print its state, block
	helperWriteHome   = "write-home"  // write homeFileName in $HOME, then serve
	helperOwnHub      = "own-hub"     // a hub without root: try LocalProcess, print JSON
	helperExitCode    = 7
	helperOutputLines = 30
)

// Helper modes that print each signal they ignore, and a hub helper that
// dies before it stores the state of its server.
const (
	helperIgnoreInt     = "ignore-int"      // serve HTTP, ignore SIGINT
	helperIgnoreIntTerm = "ignore-int-term" // serve HTTP, ignore SIGINT and SIGTERM
	// helperHubUnstored starts a serve helper, prints its state from the
	// progress event and blocks there, so that the state is never stored.
	helperHubUnstored = "hub-unstored"
)

// runHelper runs the helper process of mode and exits.
func runHelper(mode string) {
	switch mode {
	case helperServe, helperIgnoreTerm, helperAPIOnly:
		if mode == helperIgnoreTerm {
			signal.Ignore(syscall.SIGTERM)
		}
		serveHelper(mode)
	case helperIgnoreInt:
		printSignals(syscall.SIGINT)
		serveHelper(mode)
	case helperIgnoreIntTerm:
		printSignals(syscall.SIGINT, syscall.SIGTERM)
		serveHelper(mode)
	case helperSilent:
		fmt.Println("silent helper started")
		select {}
	case helperExit:
		for i := 1; i <= helperOutputLines; i++ {
			fmt.Fprintf(os.Stderr, "line %d\n", i)
		}
		os.Exit(helperExitCode)
	case helperHub:
		hubHelper()
	case helperHubUnstored:
		unstoredHubHelper()
	case helperWriteHome:
		writeHomeHelper()
	case helperOwnHub:
		ownHubHelper()
	default:
		fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
		os.Exit(2)
	}
}

// serveHelper serves the environment as JSON at the service URL's prefix.
func serveHelper(mode string) {
	u, err := url.Parse(os.Getenv("JUPYTERHUB_SERVICE_URL"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad JUPYTERHUB_SERVICE_URL:", err)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println("helper listening on", ln.Addr())
	prefix := u.Path
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case mode == helperAPIOnly && r.URL.Path == prefix:
			http.Error(w, "not ready", http.StatusServiceUnavailable)
		case r.URL.Path == prefix || r.URL.Path == prefix+"api":
			json.NewEncoder(w).Encode(os.Environ())
		default:
			http.NotFound(w, r)
		}
	}))
}

// printSignals makes the process print a line for each of sigs it
// receives, and not end on them.
func printSignals(sigs ...os.Signal) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, sigs...)
	go func() {
		for sig := range ch {
			fmt.Println("received", unix.SignalName(sig.(syscall.Signal)))
		}
	}()
}

// hubHelperRequest is the request of a serve helper that the hub helpers
// start.
func hubHelperRequest() Request {
	exe, _ := os.Executable()
	return Request{
		User:   "alice",
		Cmd:    []string{exe},
		Env:    map[string]string{helperModeVar: helperServe, runMarkerVar: os.Getenv(runMarkerVar)},
		Prefix: "/user/alice/",
	}
}

// hubHelper is a hub that starts one server and then waits to be killed.
// It prints the server's state as one line on stdout.
func hubHelper() {
	s := &SimpleLocalProcess{UsersDir: os.Getenv("SPAWN_TEST_USERS_DIR")}
	started, err := s.Start(context.Background(), hubHelperRequest(), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("%s\n", started.State)
	select {}
}

// unstoredHubHelper is a hub that starts one server and blocks in the
// progress event that carries the server's state, before any store could
// keep it. It prints the state as one line on stdout and waits to be
// killed.
func unstoredHubHelper() {
	s := &SimpleLocalProcess{UsersDir: os.Getenv("SPAWN_TEST_USERS_DIR")}
	s.Start(context.Background(), hubHelperRequest(), func(e Event) {
		if len(e.State) > 0 {
			fmt.Printf("%s\n", e.State)
			select {}
		}
	})
	fmt.Fprintln(os.Stderr, "Start returned before the state was reported")
	os.Exit(2)
}

// newSpawner returns a spawner whose home folders are in a temporary
// folder, and the recorder of its log.
func newSpawner(t *testing.T) (*SimpleLocalProcess, *logRecorder) {
	t.Helper()
	rec := newLogRecorder()
	s := &SimpleLocalProcess{UsersDir: filepath.Join(t.TempDir(), "users"), Log: slog.New(rec)}
	return s, rec
}

// helperRequest returns a request that starts the test binary in mode.
func helperRequest(t testing.TB, user, mode string) Request {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Request{
		User:   user,
		Cmd:    []string{exe},
		Env:    map[string]string{helperModeVar: mode, runMarkerVar: runMarker},
		Prefix: "/user/" + user + "/",
	}
}

// startServer starts r and arranges for the server to be killed at the
// end of the test.
func startServer(t *testing.T, s Spawner, r Request) Started {
	t.Helper()
	started, err := s.Start(t.Context(), r, nil)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	st := mustState(t, started.State)
	t.Cleanup(func() { killGroup(t, st) })
	return started
}

// killGroup kills the process group of st, if it still runs, and waits
// until no live process of the group is left. Zombies do not count: the
// init process of some machines reaps orphans only about once a second.
func killGroup(t *testing.T, st processState) {
	t.Helper()
	signalGroup(st, bootID(), syscall.SIGKILL)
	waitFor(t, "process group "+strconv.Itoa(st.PID)+" to end", func() bool {
		return len(liveGroupMembers(st.PID)) == 0
	})
}

// liveGroupMembers returns the processes of group pgid that are not
// zombies.
func liveGroupMembers(pgid int) []int {
	return liveProcesses(func(_ int, stat procStat) bool { return stat.pgrp == pgid })
}

// liveProcesses returns the processes that are not zombies and for which
// keep returns true.
func liveProcesses(keep func(pid int, stat procStat) bool) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := readProcStat(pid)
		if err == nil && stat.state != 'Z' && stat.state != 'X' && keep(pid, stat) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func mustState(t *testing.T, raw json.RawMessage) processState {
	t.Helper()
	st, err := parseState(raw)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logRecorder is a slog.Handler that keeps every record.
type logRecorder struct {
	mu    *sync.Mutex
	recs  *[]slog.Record
	attrs []slog.Attr
}

func newLogRecorder() *logRecorder {
	return &logRecorder{mu: &sync.Mutex{}, recs: &[]slog.Record{}}
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.attrs...)
	h.mu.Lock()
	*h.recs = append(*h.recs, r)
	h.mu.Unlock()
	return nil
}

func (h *logRecorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = append(append([]slog.Attr{}, h.attrs...), attrs...)
	return &h2
}

func (h *logRecorder) WithGroup(string) slog.Handler { return h }

// find returns the attributes of the first record with message msg whose
// attributes include all of want, or nil.
func (h *logRecorder) find(msg string, want map[string]string) map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range *h.recs {
		if r.Message != msg {
			continue
		}
		got := map[string]string{}
		r.Attrs(func(a slog.Attr) bool {
			got[a.Key] = a.Value.String()
			return true
		})
		match := true
		for k, v := range want {
			match = match && got[k] == v
		}
		if match {
			return got
		}
	}
	return nil
}

// messages returns the messages of the records, in order.
func (h *logRecorder) messages() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range *h.recs {
		out = append(out, r.Message)
	}
	return out
}

// serverEnv fetches the environment a serve helper reports.
func serverEnv(t *testing.T, started Started, prefix string) map[string]string {
	t.Helper()
	resp, err := http.Get(started.URL + prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []string
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range list {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return env
}
