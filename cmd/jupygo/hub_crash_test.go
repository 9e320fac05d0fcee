//go:build !nohub

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/testutil/sysaccount"
)

// Bounds of TestHubCrashDuringStart.
const (
	crashTries    = 20
	crashMaxDelay = 300 * time.Millisecond
	// crashSettle bounds the wait for a process that the restarted hub
	// does not list to exit on its own.
	crashSettle = 10 * time.Second
)

// TestHubCrashDuringStart kills a real hub with SIGKILL at many points of
// a server start, restarts it on the same data folder, and checks that
// every server process left running is one that the restarted hub lists.
// A hub that dies before it stored a server's state must leave no server
// behind, since no later hub could find or stop it.
func TestHubCrashDuringStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, dataDir := buildJupygo(t), filepath.Join(t.TempDir(), "data")
	marker := "crash-test-" + randomHexString(8)
	const serviceToken = "crash-test-service-token-0123456789abcdef"
	cfg := writeHubConfig(t, `[[JupyterHub.services]]
name = "crash-test"
api_token = "`+serviceToken+`"

[[JupyterHub.load_roles]]
name = "crash-test"
scopes = ["admin:users", "admin:servers", "admin:server_state"]
services = ["crash-test"]

[Spawner]
environment = { JUPYGO_CRASH_TEST = "`+marker+`" }
`)
	t.Cleanup(func() { killMarked(t, marker) })

	hp := startHubProcess(t, bin, dataDir, "-f", cfg)
	hubURL, err := url.Parse(hp.url)
	if err != nil {
		t.Fatal(err)
	}
	admin, port := hp.admin, hubURL.Port()
	hp.stop()

	outcomes := map[string]int{}
	for try := range crashTries {
		// Even tries kill the hub as soon as it has a child process,
		// where the state is not stored yet, and odd ones after a random
		// delay from then.
		var delay time.Duration
		if try%2 == 1 {
			delay = rand.N(crashMaxDelay)
		}
		hp := startHubProcess(t, bin, dataDir, "-f", cfg, "--port", port)
		go postQuietly(hp.url+"/hub/api/users/"+admin+"/server", serviceToken)
		if !awaitChild(hp.cmd.Process.Pid, crashSettle) {
			t.Fatalf("try %d: the hub started no process within %v", try, crashSettle)
		}
		time.Sleep(delay)
		// A child the hub forked has no marker in its environment until it
		// execs, so the check watches the hub's children by pid too.
		children := hubChildren(hp.cmd.Process.Pid)
		hp.cmd.Process.Kill()
		hp.cmd.Wait()

		// A child forked just before the kill holds the hub's listener
		// until it execs.
		awaitPortFree(t, port)
		hp = startHubProcess(t, bin, dataDir, "-f", cfg, "--port", port)
		listed := listedServerPID(t, hp.url, admin, serviceToken)
		checkNoOrphans(t, marker, listed, children)
		outcome := crashOutcome(t, filepath.Join(dataDir, "users", admin), listed)
		outcomes[outcome]++
		t.Logf("try %d, killed %v after the first child: %s", try, delay, outcome)

		killMarked(t, marker)
		hp.stop()
	}
	t.Logf("outcomes of %d tries: %v", crashTries, outcomes)
}

// postQuietly sends an API POST and ignores the result, because the hub
// may die before it responds.
func postQuietly(target, token string) {
	req, err := http.NewRequest("POST", target, nil)
	if err != nil {
		return
	}
	req.Header.Set("Authorization", "token "+token)
	client := &http.Client{Timeout: 30 * time.Second}
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
	}
}

// awaitChild waits until process ppid has a child that has not exited, up
// to timeout, and reports whether it had one. Go's first fork in a process
// is a check of clone(CLONE_PIDFD) whose child exits at once, which this
// skips.
func awaitChild(ppid int, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); {
		for _, pid := range hubChildren(ppid) {
			if !sysaccount.Gone(pid) {
				return true
			}
		}
	}
	return false
}

// hubChildren returns the children of process ppid. It reads the children
// files of ppid's threads (Linux 3.5 and later), which is quicker than a
// scan of /proc, so that a kill can come soon after a fork.
func hubChildren(ppid int) []int {
	tasks := "/proc/" + strconv.Itoa(ppid) + "/task/"
	entries, _ := os.ReadDir(tasks)
	var pids []int
	for _, e := range entries {
		data, _ := os.ReadFile(tasks + e.Name() + "/children")
		for _, field := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(field); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// awaitPortFree waits until port on 127.0.0.1 can be bound, failing t after
// crashSettle.
func awaitPortFree(t *testing.T, port string) {
	t.Helper()
	for deadline := time.Now().Add(crashSettle); ; {
		ln, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err == nil {
			ln.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("port %s is still taken %v after the hub died: %v", port, crashSettle, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// listedServerPID returns the pid in the state of user's default server as
// the hub at hubURL lists it, or 0 when the hub lists no such server.
func listedServerPID(t *testing.T, hubURL, user, token string) int {
	t.Helper()
	p := apiRequest(t, "GET", hubURL+"/hub/api/users/"+user, token, "")
	if p.status != http.StatusOK {
		t.Fatalf("GET user %s = %d %s", user, p.status, p.body)
	}
	var model struct {
		Servers map[string]struct {
			State struct {
				PID int `json:"pid"`
			} `json:"state"`
		} `json:"servers"`
	}
	if err := json.Unmarshal([]byte(p.body), &model); err != nil {
		t.Fatalf("user model %s: %v", p.body, err)
	}
	return model.Servers[""].State.PID
}

// checkNoOrphans fails t for each process that is not the listed server
// (pid listed, 0 for none) and runs the server command. Such a process has
// marker in its environment. It also fails when an unreleased process,
// one in LaunchCommand or a child of the killed hub that has not exec'd
// yet, still runs crashSettle after the hub died. children are the killed
// hub's children.
func checkNoOrphans(t *testing.T, marker string, listed int, children []int) {
	t.Helper()
	reported := map[int]bool{}
	for deadline := time.Now().Add(crashSettle); ; {
		var pending []int
		for _, pid := range append(markedProcesses(marker), children...) {
			if sysaccount.Gone(pid) || (listed != 0 && (pid == listed || processGroup(pid) == listed)) {
				continue
			}
			cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
			switch {
			case bytes.Contains(cmdline, []byte("\x00spawn-launch\x00")),
				bytes.Contains(cmdline, []byte("\x00hub\x00")):
				pending = append(pending, pid)
			case hasMarker(pid, marker) && !reported[pid]:
				reported[pid] = true
				t.Errorf("server process %d (%q) runs, but the restarted hub lists pid %d",
					pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}), listed)
			}
		}
		if len(pending) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("unreleased server processes %v still run %v after the hub died",
				pending, crashSettle)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// crashOutcome names the step of the start that the kill ended, from the
// server's output file in home and the listed pid.
func crashOutcome(t *testing.T, home string, listed int) string {
	t.Helper()
	out, err := os.ReadFile(filepath.Join(home, ".jupygo-server.log"))
	switch {
	case errors.Is(err, os.ErrNotExist), err == nil && len(out) == 0:
		return "before the process"
	case err != nil:
		t.Fatal(err)
	case bytes.Contains(out, []byte("the hub ended before it stored the state")):
		return "before the release"
	case listed != 0:
		return "server listed"
	}
	return "after the release, stopped"
}

// processGroup returns the process group of pid, or 0 when it cannot be
// read.
func processGroup(pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The fields after the command name start with state, ppid, pgrp.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(fields) < 3 {
		return 0
	}
	pgrp, _ := strconv.Atoi(fields[2])
	return pgrp
}

// markedProcesses returns the live processes whose environment holds
// JUPYGO_CRASH_TEST=marker.
func markedProcesses(marker string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && hasMarker(pid, marker) && !sysaccount.Gone(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// hasMarker reports whether the environment of pid holds
// JUPYGO_CRASH_TEST=marker.
func hasMarker(pid int, marker string) bool {
	env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	return err == nil && bytes.Contains(env, []byte("JUPYGO_CRASH_TEST="+marker+"\x00"))
}

// killMarked kills the processes with marker in their environment and waits
// until they are gone.
func killMarked(t *testing.T, marker string) {
	t.Helper()
	for deadline := time.Now().Add(crashSettle); ; {
		left := markedProcesses(marker)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("server processes %v still run after SIGKILL", left)
			return
		}
		for _, pid := range left {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
