package terminal

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
)

func TestRunCommand(t *testing.T) {
	h := newHarness(t)
	c := h.dial(t, h.create(t, nil))
	c.run("echo $((6*7))", "42")
	c.run("echo $TERM", "xterm-256color")
	c.run("pwd", h.root)
}

func TestRESTModels(t *testing.T) {
	h := newHarness(t)
	status, body := h.do(t, "GET", "/api/terminals", nil)
	if status != http.StatusOK || strings.TrimSpace(string(body)) != "[]" {
		t.Errorf("GET /api/terminals = %d %s, want 200 []", status, body)
	}

	before := time.Now().UTC().Add(-time.Second)
	status, body = h.do(t, "POST", "/api/terminals", nil)
	if status != http.StatusOK {
		t.Fatalf("POST /api/terminals = %d %s, want 200", status, body)
	}
	checkSchema(t, "Terminal", body)
	var model struct {
		Name         string    `json:"name"`
		LastActivity time.Time `json:"last_activity"`
	}
	json.Unmarshal(body, &model)
	if model.Name != "1" || model.LastActivity.Before(before) {
		t.Errorf("first terminal = %s, want name 1 and a recent last_activity", body)
	}
	h.create(t, map[string]any{}) // an empty object is no name either

	status, body = h.do(t, "GET", "/api/terminals", nil)
	checkSchema(t, "TerminalList", body)
	var list []struct{ Name string }
	json.Unmarshal(body, &list)
	if diff := cmp.Diff([]struct{ Name string }{{"1"}, {"2"}}, list); status != 200 || diff != "" {
		t.Errorf("GET /api/terminals = %d, names (-want +got):\n%s", status, diff)
	}
	status, body = h.do(t, "GET", "/api/terminals/2", nil)
	checkSchema(t, "Terminal", body)
	if status != http.StatusOK || !strings.Contains(string(body), `"name":"2"`) {
		t.Errorf("GET /api/terminals/2 = %d %s", status, body)
	}

	if status, body = h.do(t, "DELETE", "/api/terminals/1", nil); status != http.StatusNoContent {
		t.Errorf("DELETE /api/terminals/1 = %d %s, want 204", status, body)
	}
	if name := h.create(t, nil); name != "1" {
		t.Errorf("terminal started after deleting 1 is %q, want the free name 1", name)
	}
}

func TestUnknownTerminal(t *testing.T) {
	h := newHarness(t)
	for _, method := range []string{"GET", "DELETE"} {
		status, body := h.do(t, method, "/api/terminals/nope", nil)
		if status != http.StatusNotFound {
			t.Errorf("%s of an unknown terminal = %d, want 404", method, status)
		}
		checkSchema(t, "Error", body)
		if !strings.Contains(string(body), "Terminal not found: nope") {
			t.Errorf("%s of an unknown terminal: body %s", method, body)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.URL, "http")+"/terminals/websocket/nope", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("WebSocket to an unknown terminal: %v, want a 404", err)
	}
}

func TestCreateOptions(t *testing.T) {
	h := newHarness(t)
	os.MkdirAll(filepath.Join(h.root, "sub", "dir"), 0o755)
	tests := []struct {
		name   string
		body   map[string]any
		status int
		cwd    string // for 200: the folder the shell starts in
	}{
		{"chosen name", map[string]any{"name": "mine"}, 200, h.root},
		{"taken name", map[string]any{"name": "mine"}, 409, ""},
		{"name with a dash", map[string]any{"name": "a-b"}, 400, ""},
		{"name with a slash", map[string]any{"name": "a/b"}, 400, ""},
		{"name too long", map[string]any{"name": strings.Repeat("x", 256)}, 400, ""},
		{"name not a string", map[string]any{"name": 5}, 400, ""},
		{"relative folder", map[string]any{"cwd": "sub/dir"}, 200, filepath.Join(h.root, "sub", "dir")},
		{"absolute folder inside the root", map[string]any{"cwd": filepath.Join(h.root, "sub")}, 200, filepath.Join(h.root, "sub")},
		{"missing folder", map[string]any{"cwd": "sub/gone"}, 200, filepath.Join(h.root, "sub")},
		{"folder outside the root", map[string]any{"cwd": "../.."}, 400, ""},
		{"null fields", map[string]any{"name": nil, "cwd": nil}, 200, h.root},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := h.do(t, "POST", "/api/terminals", tt.body)
			if status != tt.status {
				t.Fatalf("POST %v = %d %s, want %d", tt.body, status, body, tt.status)
			}
			if status != 200 {
				checkSchema(t, "Error", body)
				return
			}
			var m struct{ Name string }
			json.Unmarshal(body, &m)
			c := h.dial(t, m.Name)
			c.run("pwd -P", tt.cwd+"\r")
		})
	}
	if status, _ := h.do(t, "POST", "/api/terminals", "not an object"); status != 400 {
		t.Errorf("POST with a string body = %d, want 400", status)
	}
}

func TestResize(t *testing.T) {
	h := newHarness(t)
	name := h.create(t, nil)
	a := h.dial(t, name)
	a.run("stty size", "24 80")
	a.send(kindSetSize, 33, 101, 600, 900) // JupyterLab adds the size in pixels
	a.run("stty size", "33 101")

	// The PTY fits the smallest screen.
	b := h.dial(t, name)
	b.send(kindSetSize, 40, 90)
	// B's size reaches the PTY through B's connection, which A's command
	// does not wait for.
	a.run("sleep 0.2; stty size", "33 90")
	b.ws.Close(websocket.StatusNormalClosure, "")
	a.run("sleep 0.2; stty size", "33 101")
}

func TestBadSizeIgnored(t *testing.T) {
	h := newHarness(t)
	c := h.dial(t, h.create(t, nil))
	c.send(kindSetSize, 30, 100)
	for _, size := range [][2]float64{{0, 80}, {-1, 80}, {24, 0}, {1e9, 80}, {24, 70000}} {
		c.send(kindSetSize, size[0], size[1])
	}
	c.run("stty size", "30 100")
}

func TestClientsShareOutput(t *testing.T) {
	h := newHarness(t)
	name := h.create(t, nil)
	a, b := h.dial(t, name), h.dial(t, name)
	a.run("echo shared-$((6*7))", "shared-42")
	b.waitOutput("shared-42")
}

func TestReconnectReplaysOutput(t *testing.T) {
	h := newHarness(t)
	name := h.create(t, nil)
	a := h.dial(t, name)
	a.run("echo before-$((40+2))", "before-42")
	a.ws.Close(websocket.StatusNormalClosure, "page reloaded")

	status, body := h.do(t, "GET", "/api/terminals", nil)
	if status != 200 || !strings.Contains(string(body), `"name":"`+name+`"`) {
		t.Fatalf("terminal %s is not listed after its client left: %s", name, body)
	}
	b := h.dial(t, name)
	b.waitOutput("before-42")
	b.run("echo after-$((6*7))", "after-42")
}

func TestShellExitDisconnects(t *testing.T) {
	h := newHarness(t)
	name := h.create(t, nil)
	c := h.dial(t, name)
	c.send(kindStdin, "exit\r")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		kind, args := c.next(ctx)
		if kind == kindDisconnect {
			if len(args) != 1 || string(args[0]) != "1" {
				t.Errorf("disconnect arguments %s, want [1]", args)
			}
			break
		}
	}
	if code, _ := c.closeStatus(); code != websocket.StatusNormalClosure {
		t.Errorf("close status %v, want normal closure", code)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if status, _ := h.do(t, "GET", "/api/terminals/"+name, nil); status == 404 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("terminal still listed after its shell exited")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDeleteEndsSession(t *testing.T) {
	h := newHarness(t)
	name := h.create(t, nil)
	c := h.dial(t, name)
	job := c.pidOf("sleep 1000 &")
	deaf := c.pidOf("(trap '' HUP; exec sleep 1001) &") // ignores SIGHUP, needs SIGKILL
	for _, pid := range []int{job, deaf} {
		if !alive(pid) {
			t.Fatalf("background job %d is not running", pid)
		}
	}

	start := time.Now()
	if status, body := h.do(t, "DELETE", "/api/terminals/"+name, nil); status != 204 {
		t.Fatalf("DELETE = %d %s", status, body)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("DELETE took %v", d)
	}
	for _, pid := range []int{job, deaf} {
		if alive(pid) {
			t.Errorf("process %d of the deleted terminal still runs", pid)
		}
	}
	if status, _ := h.do(t, "GET", "/api/terminals/"+name, nil); status != 404 {
		t.Errorf("GET of the deleted terminal = %d, want 404", status)
	}
	c.closeStatus()
}

func TestCloseEndsEverything(t *testing.T) {
	h := newHarness(t)
	var pids []int
	for range 2 {
		c := h.dial(t, h.create(t, nil))
		pids = append(pids, c.pidOf("sleep 1000 &"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d outlived the manager", pid)
		}
	}
	if _, err := h.m.Create(CreateOptions{}); err == nil {
		t.Error("Create after Close succeeded")
	}
}

func TestBadFrames(t *testing.T) {
	h := newHarness(t)
	name := h.create(t, nil)
	tests := []struct {
		name  string
		frame string
		code  websocket.StatusCode
	}{
		{"not JSON", "hello", websocket.StatusUnsupportedData},
		{"object", `{"stdin": "x"}`, websocket.StatusUnsupportedData},
		{"empty array", `[]`, websocket.StatusUnsupportedData},
		{"kind not a string", `[1, 2]`, websocket.StatusUnsupportedData},
		{"stdin without text", `["stdin"]`, websocket.StatusUnsupportedData},
		{"stdin with a number", `["stdin", 5]`, websocket.StatusUnsupportedData},
		{"size not numbers", `["set_size", "a", "b"]`, websocket.StatusUnsupportedData},
		{"size too short", `["set_size", 24]`, websocket.StatusUnsupportedData},
		{"too big", `["stdin", "` + strings.Repeat("x", maxFrameBytes) + `"]`, websocket.StatusMessageTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.dial(t, name)
			// The server closes as soon as it has read a frame's header
			// over the limit, while the client may still be writing the
			// payload and then fail on the reset. So the frame is written
			// beside the read of the close status, and a failed write
			// counts for nothing.
			written := make(chan struct{})
			go func() {
				defer close(written)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				c.ws.Write(ctx, websocket.MessageText, []byte(tt.frame))
			}()
			code, reason := c.closeStatus()
			<-written
			if code != tt.code || reason == "" {
				t.Errorf("closed with %v %q, want %v and a reason", code, reason, tt.code)
			}
		})
	}
	// The terminal survives its clients' mistakes, and unknown kinds are
	// ignored.
	c := h.dial(t, name)
	c.send("disconnect")
	c.send("future_kind", 1, 2)
	c.run("echo still-$((6*7))", "still-42")
}

// TestInputToBusyShell floods a shell that does not read its input: the
// clients wait, and deleting the terminal still ends it at once.
func TestInputToBusyShell(t *testing.T) {
	h := newHarness(t)
	name := h.create(t, nil)
	c := h.dial(t, name)
	c.send(kindStdin, "sleep 1000\r")
	chunk := strings.Repeat("y", 512<<10)
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for range 64 {
			if c.ws.Write(ctx, websocket.MessageText, encodeMessage(kindStdin, chunk)) != nil {
				return
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if status, _ := h.do(t, "DELETE", "/api/terminals/"+name, nil); status != 204 {
		t.Fatalf("DELETE = %d", status)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("DELETE of a flooded terminal took %v", d)
	}
	<-sent
}

func TestActivity(t *testing.T) {
	h := newHarness(t)
	if last, n := h.m.ActivityStats(); !last.IsZero() || n != 0 {
		t.Errorf("ActivityStats of a new manager = %v, %d", last, n)
	}
	c := h.dial(t, h.create(t, nil))
	first, n := h.m.ActivityStats()
	if n != 1 || first.IsZero() {
		t.Fatalf("ActivityStats after a start = %v, %d", first, n)
	}
	time.Sleep(10 * time.Millisecond)
	c.run("echo $((6*7))", "42")
	if last, _ := h.m.ActivityStats(); !last.After(first) {
		t.Errorf("activity %v did not move past %v with input and output", last, first)
	}
}
