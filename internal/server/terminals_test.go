package server

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/jupygo/jupygo/internal/terminal"
)

// termClient is a test client of a terminal WebSocket.
type termClient struct {
	t      *testing.T
	ws     *websocket.Conn
	output strings.Builder
}

// dialTerminal opens the WebSocket of terminal name below base (a ws://
// URL ending in a slash).
func dialTerminal(t *testing.T, base, name string, opts *websocket.DialOptions) *termClient {
	t.Helper()
	ws, resp, err := websocket.Dial(t.Context(), base+"terminals/websocket/"+name, opts)
	if err != nil {
		t.Fatalf("terminal WebSocket: %v (response %v)", err, resp)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return &termClient{t: t, ws: ws}
}

// run types line and reads until the output contains want.
func (c *termClient) run(line, want string) string {
	c.t.Helper()
	return c.runUntil(line, regexp.MustCompile(regexp.QuoteMeta(want)))
}

// runUntil types line and reads until the output matches want.
func (c *termClient) runUntil(line string, want *regexp.Regexp) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	frame, _ := json.Marshal([]string{"stdin", line + "\r"})
	if err := c.ws.Write(ctx, websocket.MessageText, frame); err != nil {
		c.t.Fatal(err)
	}
	for !want.MatchString(c.output.String()) {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			c.t.Fatalf("no %s in the terminal output %q: %v", want, c.output.String(), err)
		}
		var msg []any
		json.Unmarshal(data, &msg)
		if len(msg) == 2 && msg[0] == "stdout" {
			c.output.WriteString(msg[1].(string))
		}
	}
	return c.output.String()
}

func wsBase(httpURL string) string {
	return "ws" + strings.TrimPrefix(httpURL, "http") + "/"
}

func newTerminalServer(t *testing.T) *testServer {
	t.Helper()
	t.Setenv("SHELL", "/bin/sh")
	ts := newTestServer(t, nil)
	t.Cleanup(func() { ts.srv.terminals.Close(context.Background()) })
	return ts
}

func TestTerminalWithToken(t *testing.T) {
	ts := newTerminalServer(t)
	before := decode[status](t, must200(t, ts, "GET", "/api/status"))

	resp, body := ts.do(t, "POST", "/api/terminals", nil, true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/terminals = %d %s, want 200", resp.StatusCode, body)
	}
	name := decode[map[string]any](t, body)["name"].(string)
	auth := http.Header{"Authorization": {"token " + testToken}}
	c := dialTerminal(t, wsBase(ts.URL), name, &websocket.DialOptions{HTTPHeader: auth})
	c.run("echo $((6*7))", "42")
	c.run("echo $JUPYTER_SERVER_ROOT", ts.root)

	after := decode[status](t, must200(t, ts, "GET", "/api/status"))
	if after.LastActivity <= before.LastActivity {
		t.Errorf("last_activity %s did not move past %s with terminal use", after.LastActivity, before.LastActivity)
	}
	if resp, body = ts.do(t, "DELETE", "/api/terminals/"+name, nil, true); resp.StatusCode != 204 {
		t.Errorf("DELETE = %d %s, want 204", resp.StatusCode, body)
	}
	resp, body = ts.do(t, "GET", "/api/terminals/"+name, nil, true)
	if resp.StatusCode != 404 || decode[map[string]any](t, body)["message"] != "Terminal not found: "+name {
		t.Errorf("GET of a deleted terminal = %d %s, want a 404 JSON error", resp.StatusCode, body)
	}
}

func must200(t *testing.T, ts *testServer, method, path string) []byte {
	t.Helper()
	resp, body := ts.do(t, method, path, nil, true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s = %d %s", method, path, resp.StatusCode, body)
	}
	return body
}

func TestTerminalsNeedAuthentication(t *testing.T) {
	ts := newTerminalServer(t)
	name := decode[map[string]any](t, must200(t, ts, "POST", "/api/terminals"))["name"].(string)
	for _, tt := range []struct{ method, path string }{
		{"GET", "/api/terminals"}, {"POST", "/api/terminals"},
		{"GET", "/api/terminals/" + name}, {"DELETE", "/api/terminals/" + name},
	} {
		if resp, _ := ts.do(t, tt.method, tt.path, nil, false); resp.StatusCode != 403 {
			t.Errorf("%s %s without a token = %d, want 403", tt.method, tt.path, resp.StatusCode)
		}
	}
	_, resp, err := websocket.Dial(t.Context(), wsBase(ts.URL)+"terminals/websocket/"+name, nil)
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Errorf("terminal WebSocket without a token: %v, want 403", err)
	}
}

func TestTerminalsInBrowserSession(t *testing.T) {
	ts := newTerminalServer(t)
	c := ts.browser(t)
	if resp, _ := send(t, c, mustRequest(t, "POST", ts.URL+"/api/terminals", nil)); resp.StatusCode != 403 {
		t.Errorf("cookie POST /api/terminals without X-XSRFToken = %d, want 403", resp.StatusCode)
	}
	req := mustRequest(t, "POST", ts.URL+"/api/terminals", strings.NewReader(`{"cwd": ""}`))
	req.Header.Set("X-XSRFToken", xsrfCookie(t, c, ts.URL))
	resp, body := send(t, c, req)
	if resp.StatusCode != 200 {
		t.Fatalf("cookie POST /api/terminals with X-XSRFToken = %d %s, want 200", resp.StatusCode, body)
	}
	name := decode[map[string]any](t, body)["name"].(string)

	dial := func(origin string) (*http.Response, error) {
		h := http.Header{"Origin": {origin}}
		ws, resp, err := websocket.Dial(t.Context(), wsBase(ts.URL)+"terminals/websocket/"+name,
			&websocket.DialOptions{HTTPClient: c, HTTPHeader: h})
		if err == nil {
			ws.Close(websocket.StatusNormalClosure, "")
		}
		return resp, err
	}
	if resp, err := dial("https://evil.example"); err == nil || resp.StatusCode != 403 {
		t.Errorf("cookie terminal WebSocket from a foreign origin: %v, want 403", err)
	}
	if _, err := dial(ts.URL); err != nil {
		t.Errorf("cookie terminal WebSocket from the page's origin: %v", err)
	}
}

func TestTerminalsInPageConfig(t *testing.T) {
	ts := newTerminalServer(t)
	config := ts.srv.pageConfig(mustRequest(t, "GET", ts.URL+"/lab", nil))
	if config["terminalsAvailable"] != terminal.Supported {
		t.Errorf("terminalsAvailable = %v, want %v", config["terminalsAvailable"], terminal.Supported)
	}
}

var pidPattern = regexp.MustCompile(`pid=([0-9]+)=`)

func TestShutdownEndsTerminals(t *testing.T) {
	t.Setenv("SHELL", "/bin/sh")
	ss := startServing(t, Config{
		RootDir: t.TempDir(), Token: testToken, RuntimeDir: t.TempDir(), ConfigDir: t.TempDir(),
	})

	resp, body := ss.request(t, "POST", "api/terminals", testToken)
	if resp.StatusCode != 200 {
		t.Fatalf("POST /api/terminals = %d %s", resp.StatusCode, body)
	}
	name := decode[map[string]any](t, body)["name"].(string)
	auth := http.Header{"Authorization": {"token " + testToken}}
	c := dialTerminal(t, wsBase(strings.TrimSuffix(ss.base, "/")), name,
		&websocket.DialOptions{HTTPHeader: auth})
	out := c.runUntil("sleep 1000 & echo pid=$!=", pidPattern)
	pid, _ := strconv.Atoi(pidPattern.FindStringSubmatch(out)[1])

	ss.stop(t)
	if syscall.Kill(pid, 0) == nil && !isZombie(pid) {
		t.Errorf("background job %d of a terminal outlived the server", pid)
	}
}

// isZombie reports whether pid has exited and waits for its parent.
func isZombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // gone
	}
	data := string(stat)
	i := strings.LastIndexByte(data, ')')
	return i >= 0 && strings.HasPrefix(strings.TrimSpace(data[i+1:]), "Z")
}

func TestHubTerminalScopes(t *testing.T) {
	t.Setenv("SHELL", "/bin/sh")
	hub := newFakeHub(t)
	hs := startHubServer(t, hub, nil)
	t.Cleanup(func() { hs.srv.terminals.Close(context.Background()) })
	base := hs.direct + "/user/alice/"
	post := func(token string) (*http.Response, []byte) {
		req := mustRequest(t, "POST", base+"api/terminals", nil)
		req.Header.Set("Authorization", "token "+token)
		return send(t, http.DefaultClient, req)
	}
	if resp, _ := post(hub.newToken("bob")); resp.StatusCode != 403 {
		t.Errorf("POST /api/terminals with bob's token = %d, want 403", resp.StatusCode)
	}
	resp, body := post(hub.newToken("alice"))
	if resp.StatusCode != 200 {
		t.Fatalf("POST /api/terminals with alice's token = %d %s, want 200", resp.StatusCode, body)
	}
	name := decode[map[string]any](t, body)["name"].(string)

	ws := wsBase(hs.direct) + "user/alice/terminals/websocket/" + name
	_, resp, err := websocket.Dial(t.Context(), ws+"?token="+hub.newToken("bob"), nil)
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Errorf("terminal WebSocket with bob's token: %v, want 403", err)
	}
	c := dialTerminal(t, wsBase(hs.direct)+"user/alice/", name+"?token="+hub.newToken("alice"), nil)
	c.run("echo $((6*7))", "42")
}
