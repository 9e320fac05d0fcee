package spawn

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLaunchArgsRoundTrip(t *testing.T) {
	tests := []launchSpec{
		{program: "/usr/bin/jupygo", argv: []string{"jupygo", "server"}, umask: launchUmaskUnchanged},
		{program: "/bin/x", argv: []string{"x", "-umask", "--", "-"}, umask: 0o077},
		{program: "bin/relative", argv: []string{"relative"}, umask: 0},
	}
	for _, spec := range tests {
		args := launchArgs(spec)
		if args[1] != LaunchCommand {
			t.Fatalf("launchArgs = %q, want %q second", args, LaunchCommand)
		}
		got, err := parseLaunchArgs(args[2:])
		if err != nil {
			t.Fatalf("parseLaunchArgs(%q): %v", args[2:], err)
		}
		if diff := cmp.Diff(spec, got, cmp.AllowUnexported(launchSpec{})); diff != "" {
			t.Errorf("parseLaunchArgs(launchArgs(spec)) (-want +got):\n%s", diff)
		}
	}
}

func TestParseLaunchArgsInvalid(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"--"},
		{"--", "/bin/true"},
		{"--", "", "true"},
		{"-umask", "0800", "--", "/bin/true", "true"},
		{"-umask", "abc", "--", "/bin/true", "true"},
		{"-unknown", "--", "/bin/true", "true"},
	} {
		if spec, err := parseLaunchArgs(args); err == nil {
			t.Errorf("parseLaunchArgs(%q) = %+v, want an error", args, spec)
		}
	}
}

// TestLaunchWithoutPipe runs LaunchCommand by hand, without the hub's
// release pipe: it must exit without running the command.
func TestLaunchWithoutPipe(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "ran")
	cmd := exec.Command(exe, LaunchCommand, "--", "/usr/bin/touch", "touch", marker)
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != launchFailedExit {
		t.Errorf("%s without a pipe: %v, want exit status %d", LaunchCommand, err, launchFailedExit)
	}
	if !strings.Contains(string(out), "not the release pipe") {
		t.Errorf("%s without a pipe printed %q, want the reason", LaunchCommand, out)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran without a release")
	}
}

// TestLaunchAbandonedWhenHubDies kills a hub process while it reports the
// state of a new server process and before it could store it. The process
// must then exit without running the server's command, because no later
// hub could find the server.
func TestLaunchAbandonedWhenHubDies(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users")
	hub, stdout := startHubHelper(t, helperHubUnstored, users)
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		t.Fatalf("reading the state from the hub: %v", err)
	}
	st := mustState(t, json.RawMessage(line))
	t.Cleanup(func() { killGroup(t, st) })

	if err := hub.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	hub.Wait()
	waitFor(t, "the unreleased server process to exit", func() bool {
		return errors.Is(checkProcess(st, bootID()), errProcessGone)
	})
	out, err := os.ReadFile(outputPath(filepath.Join(users, "alice"), ""))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "the hub ended before it stored the state") {
		t.Errorf("output of the abandoned launch = %q, want the reason", out)
	}
	if strings.Contains(string(out), "helper listening on") {
		t.Errorf("the server command ran although the hub died first: %q", out)
	}
}

// startHubHelper runs the test binary as the hub helper of mode, in its own
// process group, with home folders under users, and returns it with its
// stdout.
func startHubHelper(t *testing.T, mode, users string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	hub := exec.Command(exe)
	hub.Env = append(os.Environ(), helperModeVar+"="+mode,
		runMarkerVar+"="+runMarker, "SPAWN_TEST_USERS_DIR="+users)
	hub.Stderr = os.Stderr
	hub.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := hub.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		hub.Process.Kill()
		hub.Wait()
	})
	return hub, bufio.NewReader(stdout)
}

// TestLaunchedServerSignals checks that the server that LaunchCommand
// becomes has the signal mask and ignored signals of a command the test
// process runs directly, so that the wait in a Go program changes neither.
func TestLaunchedServerSignals(t *testing.T) {
	s, _ := newSpawner(t)
	started := startServer(t, s, helperRequest(t, "uma", helperServe))
	st := mustState(t, started.State)
	launched, err := readProcStatus(st.PID)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("cat", "/proc/self/status").Output()
	if err != nil {
		t.Fatal(err)
	}
	direct := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		if key, value, ok := strings.Cut(line, ":"); ok {
			direct[key] = strings.Fields(value)
		}
	}
	for _, key := range []string{"SigBlk", "SigIgn"} {
		if diff := cmp.Diff(direct[key], launched[key]); diff != "" {
			t.Errorf("%s of the launched server (-direct child +launched):\n%s", key, diff)
		}
	}
}

// TestLaunchKeepsArgv0 checks that the server runs with the argv[0] of its
// command, not with that of LaunchCommand.
func TestLaunchKeepsArgv0(t *testing.T) {
	s, _ := newSpawner(t)
	r := helperRequest(t, "vic", helperServe)
	r.Args = []string{"-umask", "--"}
	st := mustState(t, startServer(t, s, r).State)
	data, err := os.ReadFile("/proc/" + strconv.Itoa(st.PID) + "/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
	want := append([]string{r.Cmd[0]}, r.Args...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("server's command line (-want +got):\n%s", diff)
	}
}

// TestStartAbandonedBeforeRelease ends Start's context in the progress
// event that carries the state, as the hub does when it cannot store the
// state. The server's command must not run.
func TestStartAbandonedBeforeRelease(t *testing.T) {
	s, _ := newSpawner(t)
	ctx, cancel := context.WithCancelCause(t.Context())
	storeErr := errors.New("store unavailable")
	r := helperRequest(t, "wes", helperServe)
	_, err := s.Start(ctx, r, func(e Event) {
		if len(e.State) > 0 {
			cancel(storeErr)
		}
	})
	if !errors.Is(err, storeErr) || !strings.Contains(err.Error(), "before the server command ran") {
		t.Errorf("Start abandoned in the state event: err = %v, want the cause %v", err, storeErr)
	}
	assertNoChildren(t, s)
	out, err := os.ReadFile(outputPath(filepath.Join(s.UsersDir, r.User), ""))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "helper listening on") {
		t.Errorf("the server command ran although the start was abandoned: %q", out)
	}
}
