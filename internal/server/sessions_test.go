package server

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
)

func requireIPyKernel(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/usr/share/jupyter/kernels/python3/kernel.json"); err != nil {
		t.Skip("Debian's python3-ipykernel is not installed")
	}
}

type testSession struct {
	ID     string `json:"id"`
	Path   string `json:"path"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	Kernel struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"kernel"`
}

func TestSessionLifecycle(t *testing.T) {
	requireIPyKernel(t)
	ts := newTestServer(t, nil)

	create := map[string]any{"path": "a.ipynb", "name": "a.ipynb", "type": "notebook",
		"kernel": map[string]any{"name": "python3"}}
	resp, body := ts.do(t, "POST", "/api/sessions", create, true)
	if resp.StatusCode != 201 {
		t.Fatalf("POST /api/sessions = %d %s", resp.StatusCode, body)
	}
	s1 := decode[testSession](t, body)
	if resp.Header.Get("Location") != "/api/sessions/"+s1.ID {
		t.Errorf("Location = %q", resp.Header.Get("Location"))
	}
	if s1.Kernel.ID == "" || s1.Kernel.Name != "python3" || s1.Path != "a.ipynb" {
		t.Errorf("session = %+v", s1)
	}

	// Creating again for the same path returns the same session.
	_, body = ts.do(t, "POST", "/api/sessions", create, true)
	if again := decode[testSession](t, body); again.ID != s1.ID {
		t.Errorf("second POST made session %s, want %s", again.ID, s1.ID)
	}

	_, body = ts.do(t, "GET", "/api/sessions", nil, true)
	if list := decode[[]testSession](t, body); len(list) != 1 || list[0].ID != s1.ID {
		t.Errorf("list = %+v", list)
	}

	// Renaming the document moves the session.
	resp, body = ts.do(t, "PATCH", "/api/sessions/"+s1.ID, map[string]any{"path": "b.ipynb"}, true)
	if resp.StatusCode != 200 || decode[testSession](t, body).Path != "b.ipynb" {
		t.Errorf("PATCH path = %d %s", resp.StatusCode, body)
	}

	// Changing the kernel starts a new one and ends the old one.
	resp, body = ts.do(t, "PATCH", "/api/sessions/"+s1.ID,
		map[string]any{"kernel": map[string]any{"name": "python3"}}, true)
	s2 := decode[testSession](t, body)
	if resp.StatusCode != 200 || s2.Kernel.ID == s1.Kernel.ID {
		t.Fatalf("PATCH kernel = %d %s", resp.StatusCode, body)
	}
	if resp, _ := ts.do(t, "GET", "/api/kernels/"+s1.Kernel.ID, nil, true); resp.StatusCode != 404 {
		t.Errorf("old kernel still there: GET = %d", resp.StatusCode)
	}

	resp, _ = ts.do(t, "DELETE", "/api/sessions/"+s1.ID, nil, true)
	if resp.StatusCode != 204 {
		t.Errorf("DELETE = %d, want 204", resp.StatusCode)
	}
	if resp, _ := ts.do(t, "GET", "/api/kernels/"+s2.Kernel.ID, nil, true); resp.StatusCode != 404 {
		t.Errorf("kernel of deleted session still there: GET = %d", resp.StatusCode)
	}
	if resp, _ := ts.do(t, "GET", "/api/sessions/"+s1.ID, nil, true); resp.StatusCode != 404 {
		t.Errorf("deleted session GET = %d, want 404", resp.StatusCode)
	}
}

func TestSessionBadRequests(t *testing.T) {
	ts := newTestServer(t, nil)
	tests := []struct {
		name string
		body any
		want int
	}{
		{"no path", map[string]any{"type": "notebook"}, 400},
		{"no type", map[string]any{"path": "a.ipynb"}, 400},
		{"path outside root", map[string]any{"path": "../x/a.ipynb", "type": "notebook"}, 400},
		{"unknown kernel id", map[string]any{"path": "a.ipynb", "type": "notebook",
			"kernel": map[string]any{"id": "nope"}}, 400},
		{"not an object", []int{1}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := ts.do(t, "POST", "/api/sessions", tt.body, true)
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d %s, want %d", resp.StatusCode, body, tt.want)
			}
			if msg := decode[map[string]any](t, body)["message"]; msg == nil {
				t.Errorf("error body has no message: %s", body)
			}
		})
	}
	for _, m := range []string{"GET", "DELETE"} {
		if resp, _ := ts.do(t, m, "/api/sessions/nope", nil, true); resp.StatusCode != 404 {
			t.Errorf("%s unknown session = %d, want 404", m, resp.StatusCode)
		}
	}
}

func TestSessionUnknownKernelName(t *testing.T) {
	ts := newTestServer(t, nil)
	resp, body := ts.do(t, "POST", "/api/sessions", map[string]any{"path": "a.ipynb",
		"type": "notebook", "kernel": map[string]any{"name": "nope"}}, true)
	if resp.StatusCode != 501 {
		t.Errorf("unknown kernel name = %d %s, want 501", resp.StatusCode, body)
	}
	if !strings.Contains(string(body), `\"nope\" kernel is not available`) {
		t.Errorf("unknown kernel name: body %s does not name the kernel", body)
	}
}

// TestSessionNameInKernelEnv checks that a kernel started by a session gets
// JPY_SESSION_NAME: the session name joined to the kernel's folder, or the
// document's name when the session has none.
func TestSessionNameInKernelEnv(t *testing.T) {
	requireIPyKernel(t)
	ts := newTestServer(t, nil)
	if err := os.Mkdir(filepath.Join(ts.root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, sessionName, want string
	}{
		{"named", "sub/a.ipynb", "a.ipynb", filepath.Join(ts.root, "sub", "a.ipynb")},
		{"unnamed", "sub/b.ipynb", "", filepath.Join(ts.root, "sub", "b.ipynb")},
		{"console", "sub/console-1-x", "Console 1", filepath.Join(ts.root, "sub", "Console 1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			create := map[string]any{"path": tt.path, "name": tt.sessionName, "type": "notebook",
				"kernel": map[string]any{"name": "python3"}}
			resp, body := ts.do(t, "POST", "/api/sessions", create, true)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("POST /api/sessions = %d %s", resp.StatusCode, body)
			}
			s := decode[testSession](t, body)
			defer ts.do(t, "DELETE", "/api/sessions/"+s.ID, nil, true)
			got := ts.runCode(t, s.Kernel.ID, `import os; print(os.environ.get("JPY_SESSION_NAME"))`)
			if got != tt.want+"\n" {
				t.Errorf("JPY_SESSION_NAME = %q, want %q", got, tt.want)
			}
		})
	}
}

// runCode runs code in the kernel id over its WebSocket and returns what it
// printed to stdout.
func (ts *testServer) runCode(t *testing.T, id, code string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	ws := "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/kernels/" + id + "/channels"
	conn, _, err := websocket.Dial(ctx, ws+"?token="+testToken, nil)
	if err != nil {
		t.Fatalf("kernel WebSocket: %v", err)
	}
	defer conn.Close(websocket.StatusNormalClosure, "")
	conn.SetReadLimit(1 << 24)

	request, err := json.Marshal(map[string]any{
		"header": map[string]string{"msg_id": "run-1", "username": "test", "session": "s1",
			"msg_type": "execute_request", "version": "5.3", "date": ""},
		"parent_header": map[string]any{}, "metadata": map[string]any{}, "channel": "shell",
		"content": map[string]any{"code": code, "silent": false, "store_history": false,
			"user_expressions": map[string]any{}, "allow_stdin": false},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Write(ctx, websocket.MessageText, request); err != nil {
		t.Fatal(err)
	}

	var stdout strings.Builder
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for the output of %q: %v", code, err)
		}
		msg := decode[struct {
			Header struct {
				MsgType string `json:"msg_type"`
			} `json:"header"`
			Parent struct {
				MsgID string `json:"msg_id"`
			} `json:"parent_header"`
			Content struct {
				Name           string `json:"name"`
				Text           string `json:"text"`
				ExecutionState string `json:"execution_state"`
			} `json:"content"`
		}](t, data)
		if msg.Parent.MsgID != "run-1" {
			continue
		}
		switch {
		case msg.Header.MsgType == "stream" && msg.Content.Name == "stdout":
			stdout.WriteString(msg.Content.Text)
		case msg.Header.MsgType == "status" && msg.Content.ExecutionState == "idle":
			return stdout.String()
		}
	}
}
