//go:build !nohub

package main

import (
	"bufio"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// runHubProcess runs `jupygo hub ARGS...` until it exits and returns its
// exit code, stdout and stderr. A hub that starts serving is stopped with
// SIGTERM, so a test of a start that should fail ends either way.
func runHubProcess(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"hub"}, args...)...)
	cmd.Dir = t.TempDir()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		stdout.WriteString(sc.Text() + "\n")
		if runningAt.MatchString(sc.Text() + "\n") {
			cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

func TestHubSecondOnSameDataDir(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, dataDir := buildJupygo(t), filepath.Join(t.TempDir(), "data")
	first := startHubProcess(t, bin, dataDir)
	code, stdout, stderr := runHubProcess(t, bin, "--port", "0", "--data-dir", dataDir)
	if code != exitInUse {
		t.Fatalf("a second hub on the same data folder exited %d, want %d:\n%s",
			code, exitInUse, stdout)
	}
	if strings.Contains(stdout, "running at") {
		t.Errorf("the second hub served:\n%s", stdout)
	}
	if !strings.Contains(stderr, dataDir) {
		t.Errorf("the error does not name the data folder %s:\n%s", dataDir, stderr)
	}
	pid := "process " + strconv.Itoa(first.cmd.Process.Pid)
	if !strings.Contains(stderr, pid) {
		t.Errorf("the error does not name the first hub, %s:\n%s", pid, stderr)
	}
}

func TestHubOneTimePasswordAfterFailedStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, dataDir := buildJupygo(t), filepath.Join(t.TempDir(), "data")
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)
	code, stdout, _ := runHubProcess(t, bin, "--port", takenPort, "--data-dir", dataDir)
	if code == 0 {
		t.Fatal("a hub on a port in use exited 0")
	}
	if strings.Contains(stdout, "one-time password") {
		t.Errorf("a start that failed printed a password:\n%s", stdout)
	}

	first := startHubProcess(t, bin, dataDir)
	if first.password == "" {
		t.Fatalf("the start after a failed one printed no password:\n%s", first.stdout)
	}
	first.stop()
	second := startHubProcess(t, bin, dataDir)
	if second.password == "" || second.password == first.password {
		t.Fatalf("second start printed %q after %q, want a new password:\n%s",
			second.password, first.password, second.stdout)
	}
	if !strings.Contains(second.stdout, "no longer works") {
		t.Errorf("the second start does not say the old password stopped working:\n%s",
			second.stdout)
	}
	b := newHubBrowser(t, second.url)
	b.replacePassword(second.admin, second.password, "the admin's own password")
	second.stop()
	third := startHubProcess(t, bin, dataDir)
	if third.password != "" {
		t.Errorf("a start after the admin chose a password printed one:\n%s", third.stdout)
	}
}

func TestHubLogsStopSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildJupygo(t)
	code, _, stderr := runHubProcess(t, bin, "--port", "0", "--data-dir",
		filepath.Join(t.TempDir(), "data"))
	if code != 0 {
		t.Errorf("the hub exited %d after SIGTERM:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, `msg="hub stopping; user servers keep running" signal=terminated`) {
		t.Errorf("the log lacks the stop line with the signal:\n%s", stderr)
	}
}
