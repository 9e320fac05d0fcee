package spawn

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// threadCount returns the number of OS threads of this process.
func threadCount(t *testing.T) int {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("reading /proc/self/status: %v", err)
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("parsing %q: %v", line, err)
			}
			return n
		}
	}
	t.Fatal("no Threads line in /proc/self/status")
	return 0
}

// Waiting for many running processes holds no OS thread per process.
func TestAwaitExitHoldsNoThread(t *testing.T) {
	const processes = 200
	before := threadCount(t)
	// Each process exits when it reads end of file from the pipe, once
	// release is closed.
	stdin, release, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer release.Close()

	var wg sync.WaitGroup
	cmds := make([]*exec.Cmd, processes)
	for i := range cmds {
		cmd := exec.Command("/bin/sh", "-c", "read x || true")
		cmd.Stdin = stdin
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
		wg.Go(func() {
			if !awaitExit(cmd.Process.Pid) {
				t.Errorf("awaitExit(%d) could not use a pidfd", cmd.Process.Pid)
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("process %d: %v", cmd.Process.Pid, err)
			}
		})
	}
	stdin.Close()

	time.Sleep(200 * time.Millisecond) // let every waiter block
	during := threadCount(t)
	release.Close()

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the waits did not end after every process exited")
	}

	if grown := during - before; grown > processes/4 {
		t.Errorf("waiting for %d processes added %d OS threads, want far fewer than one each",
			processes, grown)
	}
}
