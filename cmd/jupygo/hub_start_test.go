package main

import (
	"bufio"
	"errors"
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
	if code == 0 {
		t.Fatalf("a second hub on the same data folder exited 0:\n%s", stdout)
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
