package kernel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

// framings names the two WebSocket framings for table-driven tests.
var framings = []struct {
	name string
	v1   bool
}{
	{"v1", true},
	{"legacy", false},
}

// onePixelPNG is a 1×1 PNG, base64-encoded.
const onePixelPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

// TestKernelMessaging runs the message-level checks against one ipykernel.
func TestKernelMessaging(t *testing.T) {
	skipWithoutIPyKernel(t)
	ts := newTestServer(t, Options{})
	kernelID := ts.startKernel("python3").ID

	t.Run("stream output", func(t *testing.T) {
		for _, f := range framings {
			t.Run(f.name, func(t *testing.T) {
				c := ts.dial(kernelID, "", f.v1)
				r := c.execute("print('hello')")
				if got := replyStatus(r.reply); got != "ok" {
					t.Errorf("execute_reply status = %q, want ok", got)
				}
				if diff := cmp.Diff("hello\n", r.streams("stdout")); diff != "" {
					t.Errorf("stdout (-want +got):\n%s", diff)
				}
				if r.reply.Channel != channelShell {
					t.Errorf("reply channel = %q, want shell", r.reply.Channel)
				}
			})
		}
	})

	t.Run("display_data png", func(t *testing.T) {
		c := ts.dial(kernelID, "", true)
		r := c.execute("import base64\nfrom IPython.display import Image, display\n" +
			"display(Image(data=base64.b64decode('" + onePixelPNG + "')))")
		shown := r.ofType("display_data")
		if len(shown) != 1 {
			t.Fatalf("got %d display_data messages, want 1", len(shown))
		}
		var content struct {
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(shown[0].Content, &content); err != nil {
			t.Fatal(err)
		}
		if got, _ := content.Data["image/png"].(string); strings.TrimSpace(got) != onePixelPNG {
			t.Errorf("image/png = %q, want %q", got, onePixelPNG)
		}
	})

	t.Run("error with traceback", func(t *testing.T) {
		c := ts.dial(kernelID, "", false)
		r := c.execute("1/0")
		if got := replyStatus(r.reply); got != "error" {
			t.Errorf("execute_reply status = %q, want error", got)
		}
		errs := r.ofType("error")
		if len(errs) != 1 {
			t.Fatalf("got %d error messages, want 1", len(errs))
		}
		var content struct {
			Ename     string   `json:"ename"`
			Traceback []string `json:"traceback"`
		}
		json.Unmarshal(errs[0].Content, &content)
		if content.Ename != "ZeroDivisionError" {
			t.Errorf("ename = %q, want ZeroDivisionError", content.Ename)
		}
		if len(content.Traceback) == 0 {
			t.Error("traceback is empty")
		}
	})

	t.Run("input over stdin", func(t *testing.T) {
		for _, f := range framings {
			t.Run(f.name, func(t *testing.T) {
				c := ts.dial(kernelID, "", f.v1)
				id := c.send(channelShell, "execute_request",
					executeContent("x = input('name? ')\nprint('hi', x)", true))
				prompts := 0
				r := c.collect(id, func(m *Message) {
					if m.MsgType == "input_request" {
						prompts++
						c.send(channelStdin, "input_reply", map[string]string{"value": "alice"})
					}
				})
				if prompts != 1 {
					t.Errorf("got %d input_request messages, want 1; reply %s", prompts, r.reply.Content)
				}
				if diff := cmp.Diff("hi alice\n", r.streams("stdout")); diff != "" {
					t.Errorf("stdout (-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("interrupt busy loop", func(t *testing.T) {
		c := ts.dial(kernelID, "", true)
		id := c.startBusyLoop()
		if status, body, _ := ts.do("POST", "/api/kernels/"+kernelID+"/interrupt", nil); status != http.StatusNoContent {
			t.Fatalf("interrupt: status %d: %s", status, body)
		}
		r := c.collect(id, nil)
		var content struct {
			Status string `json:"status"`
			Ename  string `json:"ename"`
		}
		json.Unmarshal(r.reply.Content, &content)
		if content.Status != "error" || content.Ename != "KeyboardInterrupt" {
			t.Errorf("reply = %s, want status error with KeyboardInterrupt", r.reply.Content)
		}
	})

	t.Run("two websockets", func(t *testing.T) {
		a := ts.dial(kernelID, "", true)
		b := ts.dial(kernelID, "", false)
		id := a.send(channelShell, "execute_request",
			executeContent("x = input('? ')\nprint('from a', x)", true))
		r := a.collect(id, func(m *Message) {
			a.send(channelStdin, "input_reply", map[string]string{"value": "1"})
		})
		if diff := cmp.Diff("from a 1\n", r.streams("stdout")); diff != "" {
			t.Errorf("stdout of a (-want +got):\n%s", diff)
		}

		// b's own request comes after a's, so anything of a's meant only
		// for a would have reached b before b's own reply.
		own := b.send(channelShell, "kernel_info_request", struct{}{})
		seen := b.until(func(m *Message) bool { return m.ParentID == own && m.Channel == channelShell })
		var streamOfA bool
		for _, m := range seen {
			if m.ParentID == id && m.Channel != channelIOPub {
				t.Errorf("b got %s %s of a's request", m.Channel, m.MsgType)
			}
			if m.ParentID == id && m.MsgType == "stream" {
				streamOfA = true
			}
		}
		if !streamOfA {
			t.Error("b did not get the IOPub stream of a's request")
		}
	})

	t.Run("comm buffers", func(t *testing.T) {
		setup := ts.dial(kernelID, "", true).execute(`
def _echo_target(comm, open_msg):
    @comm.on_msg
    def _recv(msg):
        comm.send({"echo": msg["content"]["data"]}, buffers=msg["buffers"])
get_ipython().kernel.comm_manager.register_target("echo", _echo_target)
`)
		if got := replyStatus(setup.reply); got != "ok" {
			t.Fatalf("registering comm target: %s", setup.reply.Content)
		}
		for _, f := range framings {
			t.Run(f.name, func(t *testing.T) {
				c := ts.dial(kernelID, "", f.v1)
				commID := uuid.NewString()
				c.send(channelShell, "comm_open",
					map[string]any{"comm_id": commID, "target_name": "echo", "data": map[string]any{}})
				buffers := [][]byte{{0, 1, 2, 255}, bytes.Repeat([]byte{7}, 70000)}
				id := c.send(channelShell, "comm_msg",
					map[string]any{"comm_id": commID, "data": map[string]any{"x": 1}}, buffers...)
				msgs := c.until(func(m *Message) bool { return m.ParentID == id && m.MsgType == "comm_msg" })
				echo := msgs[len(msgs)-1]
				if diff := cmp.Diff(buffers, echo.Buffers); diff != "" {
					t.Errorf("echoed buffers (-want +got):\n%s", diff)
				}
				var content struct {
					Data struct {
						Echo map[string]int `json:"echo"`
					} `json:"data"`
				}
				json.Unmarshal(echo.Content, &content)
				if diff := cmp.Diff(map[string]int{"x": 1}, content.Data.Echo); diff != "" {
					t.Errorf("echoed data (-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("10 MB messages", func(t *testing.T) {
		for _, f := range framings {
			t.Run(f.name, func(t *testing.T) {
				c := ts.dial(kernelID, "", f.v1)
				r := c.execute("len('" + strings.Repeat("a", 10_000_000) + "')")
				if got := r.executeResult(); got != "10000000" {
					t.Errorf("result of a 10 MB request = %q, want 10000000", got)
				}
				r = c.execute("'x' * 10_000_000")
				if got := len(r.executeResult()); got != 10_000_002 {
					t.Errorf("10 MB result has %d bytes, want 10000002", got)
				}
			})
		}
	})

	t.Run("garbage frames dropped", func(t *testing.T) {
		c := ts.dial(kernelID, "", true)
		for _, frame := range [][]byte{{}, {1, 2, 3}, bytes.Repeat([]byte{0xff}, 64)} {
			if err := c.ws.Write(t.Context(), websocket.MessageBinary, frame); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.ws.Write(t.Context(), websocket.MessageText, []byte("not v1")); err != nil {
			t.Fatal(err)
		}
		if got := c.execute("1+1").executeResult(); got != "2" {
			t.Errorf("1+1 after garbage frames = %q, want 2", got)
		}
	})
}

// TestKernelModel checks the REST model as messages flow.
func TestKernelModel(t *testing.T) {
	skipWithoutIPyKernel(t)
	ts := newTestServer(t, Options{})
	model := ts.postKernel("")
	if model.Name != "python3" {
		t.Errorf("default kernel name = %q, want python3", model.Name)
	}
	if model.ExecutionState != "starting" && model.ExecutionState != "idle" {
		t.Errorf("execution_state in the start response = %q, want starting", model.ExecutionState)
	}
	if model = ts.waitReady(model.ID); model.ExecutionState != "idle" {
		t.Errorf("execution_state once ready = %q, want idle", model.ExecutionState)
	}
	c := ts.dial(model.ID, "", true)
	id := c.send(channelShell, "execute_request", executeContent("import time; time.sleep(1)", false))
	c.until(func(m *Message) bool {
		return m.ParentID == id && m.MsgType == "status" && executionState(m.Content) == "busy"
	})
	// The state follows IOPub under the channels' lock, which delivered
	// the busy status to this client after recording it.
	got, _ := ts.m.Get(model.ID)
	if got.ExecutionState != "busy" || got.Connections != 1 {
		t.Errorf("while running: state %q, connections %d; want busy, 1",
			got.ExecutionState, got.Connections)
	}
	c.collect(id, nil)
	got, _ = ts.m.Get(model.ID)
	if got.ExecutionState != "idle" || !got.LastActivity.After(model.LastActivity) {
		t.Errorf("after running: state %q, last_activity %v; want idle, after %v",
			got.ExecutionState, got.LastActivity, model.LastActivity)
	}
	conns, last, running := ts.m.ActivityStats()
	if conns != 1 || running != 1 || !last.Equal(got.LastActivity) {
		t.Errorf("ActivityStats = %d, %v, %d; want 1, %v, 1", conns, last, running, got.LastActivity)
	}
}

// TestKernelEnv checks the spec's env with ${VAR} substitution and the cwd
// from the contents path.
func TestKernelEnv(t *testing.T) {
	skipWithoutIPyKernel(t)
	t.Setenv("JUPYGO_TEST_BASE", "base")
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "work", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, Options{ResolveCwd: func(p string) (string, error) {
		return filepath.Join(root, filepath.FromSlash(p)), nil
	}})
	status, body, _ := ts.do("POST", "/api/kernels",
		map[string]string{"name": "python3", "path": "work/sub/notebook.ipynb"})
	if status != http.StatusCreated {
		t.Fatalf("POST /api/kernels: %d %s", status, body)
	}
	var model Model
	json.Unmarshal(body, &model)
	c := ts.dial(model.ID, "", true)
	r := c.execute("import os; print(os.environ['JUPYGO_TEST_ENV']); print(os.getcwd())")
	want := "base-expanded\n" + filepath.Join(root, "work", "sub") + "\n"
	if diff := cmp.Diff(want, r.streams("stdout")); diff != "" {
		t.Errorf("env and cwd (-want +got):\n%s", diff)
	}
}

// TestInterruptMessageMode interrupts a kernel whose spec asks for
// interrupt_request on control.
func TestInterruptMessageMode(t *testing.T) {
	skipWithoutIPyKernel(t)
	ts := newTestServer(t, Options{})
	id := ts.startKernel("python3-message").ID
	c := ts.dial(id, "", true)
	msgID := c.startBusyLoop()
	if err := ts.m.Interrupt(id); err != nil {
		t.Fatal(err)
	}
	r := c.collect(msgID, nil)
	if !strings.Contains(string(r.reply.Content), "KeyboardInterrupt") {
		t.Errorf("reply = %s, want KeyboardInterrupt", r.reply.Content)
	}
}

// TestRestartKeepsWebSocket restarts through the REST API and runs code on
// the WebSocket opened before, as C23 of the kernel lifecycle cases asks:
// every request right after a restart gets all of its messages.
func TestRestartKeepsWebSocket(t *testing.T) {
	skipWithoutIPyKernel(t)
	ts := newTestServer(t, Options{})
	model := ts.startKernel("python3")
	k, _ := ts.m.kernel(model.ID)
	connFile := k.connFile
	before, _ := os.ReadFile(connFile)
	clients := map[string]*wsClient{
		"v1":     ts.dial(model.ID, "", true),
		"legacy": ts.dial(model.ID, "", false),
	}
	for n := range 10 {
		status, body, _ := ts.do("POST", "/api/kernels/"+model.ID+"/restart", nil)
		if status != http.StatusOK {
			t.Fatalf("restart %d: status %d: %s", n, status, body)
		}
		var restarted Model
		json.Unmarshal(body, &restarted)
		if restarted.ID != model.ID {
			t.Fatalf("restart %d changed the id to %s", n, restarted.ID)
		}
		name := "v1"
		if n%2 == 1 {
			name = "legacy"
		}
		r := clients[name].execute(fmt.Sprintf("print(%d)", n))
		if replyStatus(r.reply) != "ok" || r.streams("stdout") != fmt.Sprintf("%d\n", n) {
			t.Errorf("restart %d (%s): reply %s, stdout %q", n, name, r.reply.Content, r.streams("stdout"))
		}
		statuses := r.ofType("status")
		if len(statuses) != 2 {
			t.Errorf("restart %d: got %d status messages of the request, want busy and idle", n, len(statuses))
		}
	}
	after, _ := os.ReadFile(connFile)
	if !bytes.Equal(before, after) {
		t.Error("restart changed the connection file")
	}
}

// TestNewWebSocketOnBusyKernel opens a WebSocket while the kernel is busy:
// it opens at once and gets the output of the running cell.
func TestNewWebSocketOnBusyKernel(t *testing.T) {
	skipWithoutIPyKernel(t)
	ts := newTestServer(t, Options{})
	id := ts.startKernel("python3").ID

	// The first frame of a WebSocket opened right after the start.
	a := ts.dial(id, "", true)
	msgID := a.send(channelShell, "execute_request",
		executeContent("import time; time.sleep(3); print('done')", false))
	a.until(func(m *Message) bool {
		return m.ParentID == msgID && m.MsgType == "status" && executionState(m.Content) == "busy"
	})

	b := ts.dial(id, "", false)
	msgs := b.until(func(m *Message) bool { return m.ParentID == msgID && m.MsgType == "stream" })
	var c struct{ Text string }
	json.Unmarshal(msgs[len(msgs)-1].Content, &c)
	if c.Text != "done\n" {
		t.Errorf("b got stream %q, want done", c.Text)
	}
	if r := a.collect(msgID, nil); r.streams("stdout") != "done\n" {
		t.Errorf("a got stdout %q, want done", r.streams("stdout"))
	}
}

// TestKernelDeathRestarts lets the kernel exit on its own: clients get
// status restarting and the same WebSocket works after.
func TestKernelDeathRestarts(t *testing.T) {
	skipWithoutIPyKernel(t)
	ts := newTestServer(t, Options{})
	id := ts.startKernel("python3").ID
	c := ts.dial(id, "", true)
	c.send(channelShell, "execute_request", executeContent("import os; os._exit(1)", false))
	c.until(isStatus("restarting"))
	if got := c.execute("1+1").executeResult(); got != "2" {
		t.Errorf("1+1 after the restart = %q, want 2", got)
	}
	if model, _ := ts.m.Get(id); model.ExecutionState != "idle" {
		t.Errorf("state after the restart = %q, want idle", model.ExecutionState)
	}
}

func isStatus(state string) func(*Message) bool {
	return func(m *Message) bool {
		return m.MsgType == "status" && m.ParentID == "" && executionState(m.Content) == state
	}
}

// TestKernelKilledTooOften kills the kernel six times in a row: five
// automatic restarts, then the kernel is dead until a requested restart.
func TestKernelKilledTooOften(t *testing.T) {
	skipWithoutIPyKernel(t)
	ts := newTestServer(t, Options{})
	id := ts.startKernel("python3").ID
	k, _ := ts.m.kernel(id)
	c := ts.dial(id, "", true)
	// The state leaves starting at the first IOPub status, before the
	// server's own kernel_info exchange; a reply to ours comes after it.
	ready := c.send(channelShell, "kernel_info_request", struct{}{})
	c.until(func(m *Message) bool { return m.ParentID == ready && m.MsgType == "kernel_info_reply" })
	for n := 1; n <= restartLimit+1; n++ {
		pid := k.currentProc().pid
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if n > restartLimit {
			c.until(isStatus("dead"))
			break
		}
		c.until(isStatus("restarting"))
		// Held until the new process is ready, then answered.
		own := c.send(channelShell, "kernel_info_request", struct{}{})
		c.until(func(m *Message) bool { return m.ParentID == own && m.MsgType == "kernel_info_reply" })
	}
	if model, _ := ts.m.Get(id); model.ExecutionState != "dead" {
		t.Fatalf("state = %q, want dead", model.ExecutionState)
	}
	if status, body, _ := ts.do("POST", "/api/kernels/"+id+"/restart", nil); status != http.StatusOK {
		t.Fatalf("restart of a dead kernel: %d %s", status, body)
	}
	if got := c.execute("1+1").executeResult(); got != "2" {
		t.Errorf("1+1 after restarting a dead kernel = %q, want 2", got)
	}
}

// TestShutdownLeavesNoProcess checks that neither the kernel nor a child
// it started survives DELETE and Close.
func TestShutdownLeavesNoProcess(t *testing.T) {
	skipWithoutIPyKernel(t)
	ts := newTestServer(t, Options{})
	deleted := ts.startKernel("python3").ID
	closed := ts.startKernel("python3").ID
	var groups []int
	var connFiles []string
	for _, id := range []string{deleted, closed} {
		k, _ := ts.m.kernel(id)
		groups = append(groups, k.currentProc().pid)
		connFiles = append(connFiles, k.connFile)
		r := ts.dial(id, "", true).execute("import subprocess; print(subprocess.Popen(['sleep', '300']).pid)")
		child, err := strconv.Atoi(strings.TrimSpace(r.streams("stdout")))
		if err != nil || !processExists(child) {
			t.Fatalf("child process %q not running: %v", r.streams("stdout"), err)
		}
	}

	if status, body, _ := ts.do("DELETE", "/api/kernels/"+deleted, nil); status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", status, body)
	}
	if status, _, _ := ts.do("GET", "/api/kernels/"+deleted, nil); status != http.StatusNotFound {
		t.Errorf("GET after DELETE: status %d, want 404", status)
	}
	checkGroupGone(t, groups[0])
	if err := ts.m.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkGroupGone(t, groups[1])
	for _, f := range connFiles {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("connection file %s still exists: %v", f, err)
		}
	}
	if _, err := ts.m.Start(t.Context(), StartOptions{Name: "python3"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: %v, want ErrClosed", err)
	}
}

func processExists(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

// checkGroupGone fails the test when the kernel process pgid, which the
// manager reaps itself, is still listed in /proc, or when a process of its
// group still runs. The group's other processes are orphans that init reaps:
// they may stay a moment as zombies, so they get until testTimeout to die.
func checkGroupGone(t *testing.T, pgid int) {
	t.Helper()
	if processExists(pgid) {
		t.Errorf("kernel process %d still exists", pgid)
	}
	deadline := time.Now().Add(testTimeout)
	for {
		alive := runningInGroup(pgid)
		if len(alive) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes %v of kernel group %d still run", alive, pgid)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runningInGroup returns the processes of group pgid that are not zombies.
func runningInGroup(pgid int) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The fields after the command, which is in parentheses, start with
		// state, ppid and pgrp.
		i := bytes.LastIndexByte(stat, ')')
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" && fields[0] != "X" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestOutputFlood floods IOPub as C25 of the kernel lifecycle cases does:
// the server stays up, the client gets all output or a stderr notice, and
// 1+1 works after.
func TestOutputFlood(t *testing.T) {
	skipWithoutIPyKernel(t)
	ts := newTestServer(t, Options{})
	id := ts.startKernel("python3").ID
	c := ts.dial(id, "", true)

	var want strings.Builder
	for i := range 100_000 {
		fmt.Fprintf(&want, "%d\n", i)
	}
	r := c.execute("for i in range(100_000): print(i)")
	if out := r.streams("stdout"); out != want.String() && !strings.Contains(r.streams("stderr"), "rate exceeded") {
		t.Errorf("100k prints: %d of %d bytes and no rate notice", len(out), want.Len())
	}

	r = c.execute("print('x' * 10_000_000)")
	out, notice := r.streams("stdout"), r.streams("stderr")
	if len(out) != 10_000_001 && !strings.Contains(notice, "IOPub data rate exceeded") {
		t.Errorf("10 MB line: %d bytes of stdout and stderr %q", len(out), notice)
	}
	if len(out) != 10_000_001 && !strings.Contains(notice, "resumed") {
		t.Errorf("10 MB line: no resumed notice in stderr %q", notice)
	}

	if got := c.execute("1+1").executeResult(); got != "2" {
		t.Errorf("1+1 after the flood = %q, want 2", got)
	}
}

// TestOfflineReplay reconnects with the same session_id and receives what
// arrived while no WebSocket was open.
func TestOfflineReplay(t *testing.T) {
	skipWithoutIPyKernel(t)
	ts := newTestServer(t, Options{})
	id := ts.startKernel("python3").ID
	session := uuid.NewString()
	watcher := ts.dial(id, "", true)

	a := ts.dial(id, session, true)
	msgID := a.send(channelShell, "execute_request",
		executeContent("import time; time.sleep(2); print('late')", false))
	a.ws.CloseNow()
	watcher.until(func(m *Message) bool { return m.ParentID == msgID && m.MsgType == "stream" })
	watcher.until(func(m *Message) bool {
		return m.ParentID == msgID && m.MsgType == "status" && executionState(m.Content) == "idle"
	})

	again := ts.dial(id, session, false)
	r := again.collect(msgID, nil)
	if r.streams("stdout") != "late\n" || replyStatus(r.reply) != "ok" {
		t.Errorf("replay: stdout %q, reply %s; want late and ok", r.streams("stdout"), r.reply.Content)
	}
}

// TestStartRetriesTakenPort takes the shell port of a new kernel before it
// starts: the kernel fails to bind it and exits, and the start is retried
// with new ports.
func TestStartRetriesTakenPort(t *testing.T) {
	skipWithoutIPyKernel(t)
	ts := newTestServer(t, Options{})
	spec, err := ts.m.Spec("python3")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ts.m.newKernel(spec, "")
	if err != nil {
		t.Fatal(err)
	}
	taken := k.info.ShellPort
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(taken))
	if err != nil {
		t.Fatalf("taking port %d: %v", taken, err)
	}
	defer l.Close()
	ts.m.mu.Lock()
	ts.m.kernels[k.id] = k
	ts.m.mu.Unlock()

	if err := k.start(); err != nil {
		t.Fatalf("start with a taken port: %v", err)
	}
	// The start finishes in the background, holding opMu until then.
	k.opMu.Lock()
	port := k.info.ShellPort
	k.opMu.Unlock()
	if port == taken {
		t.Errorf("shell port still %d after the retry", taken)
	}
	if got := ts.dial(k.id, "", true).execute("1+1").executeResult(); got != "2" {
		t.Errorf("1+1 = %q, want 2", got)
	}
}
