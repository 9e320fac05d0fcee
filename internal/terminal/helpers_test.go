package terminal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// harness is a Manager behind a real HTTP server on loopback.
type harness struct {
	*httptest.Server
	m    *Manager
	root string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	if !Supported {
		t.Skip("terminals are not supported on this system")
	}
	root := t.TempDir()
	m := NewManager(Options{
		Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Shell:     []string{"/bin/sh"},
		RootDir:   root,
		KillGrace: 500 * time.Millisecond,
		ResolveCwd: func(p string) (string, error) {
			rel := filepath.FromSlash(p)
			if !filepath.IsLocal(rel) {
				return "", errors.New("outside the root")
			}
			dir := filepath.Join(root, rel)
			for {
				if st, err := os.Stat(dir); err == nil && st.IsDir() {
					return dir, nil
				}
				dir = filepath.Dir(dir)
			}
		},
	})
	mux := http.NewServeMux()
	m.Register(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("closing the manager: %v", err)
		}
		ts.Close()
	})
	return &harness{Server: ts, m: m, root: root}
}

// do sends a request with a JSON body (none when body is nil) and returns
// the status and the response body.
func (h *harness) do(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, h.URL+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// create starts a terminal through the API and returns its name.
func (h *harness) create(t *testing.T, body any) string {
	t.Helper()
	status, data := h.do(t, "POST", "/api/terminals", body)
	if status != http.StatusOK {
		t.Fatalf("POST /api/terminals = %d %s, want 200", status, data)
	}
	var m struct{ Name string }
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m.Name
}

// termConn is a test client of a terminal's WebSocket. It keeps the text
// of every stdout message it has read.
type termConn struct {
	t      *testing.T
	ws     *websocket.Conn
	output strings.Builder
}

// dial connects to terminal name and reads the setup message.
func (h *harness) dial(t *testing.T, name string) *termConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.URL, "http")+"/terminals/websocket/"+name, nil)
	if err != nil {
		t.Fatalf("dialing terminal %s: %v", name, err)
	}
	ws.SetReadLimit(4 << 20)
	t.Cleanup(func() { ws.CloseNow() })
	c := &termConn{t: t, ws: ws}
	if kind, _ := c.next(ctx); kind != kindSetup {
		t.Fatalf("first message is %q, want setup", kind)
	}
	return c
}

// send writes the message kind with its arguments.
func (c *termConn) send(kind string, args ...any) {
	c.t.Helper()
	frame := encodeMessage(kind, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, frame); err != nil {
		c.t.Fatalf("sending %.40s: %v", frame, err)
	}
}

// next reads one message and returns its kind and arguments; stdout text
// is added to c.output.
func (c *termConn) next(ctx context.Context) (string, []json.RawMessage) {
	c.t.Helper()
	_, frame, err := c.ws.Read(ctx)
	if err != nil {
		c.t.Fatalf("reading from the terminal: %v (output so far %q)", err, c.output.String())
	}
	var parts []json.RawMessage
	var kind string
	if json.Unmarshal(frame, &parts) != nil || len(parts) == 0 || json.Unmarshal(parts[0], &kind) != nil {
		c.t.Fatalf("server sent %q, not a terminado message", frame)
	}
	if kind == kindStdout {
		var text string
		json.Unmarshal(parts[1], &text)
		c.output.WriteString(text)
	}
	return kind, parts[1:]
}

// waitFor reads until the output matches want and returns the output.
func (c *termConn) waitFor(want func(string) bool, what string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !want(c.output.String()) {
		if ctx.Err() != nil {
			c.t.Fatalf("no %s in the output %q", what, c.output.String())
		}
		c.next(ctx)
	}
	return c.output.String()
}

// waitOutput reads until the output contains s.
func (c *termConn) waitOutput(s string) string {
	c.t.Helper()
	return c.waitFor(func(out string) bool { return strings.Contains(out, s) }, strconv.Quote(s))
}

// run types a command line and waits for the text want in the output that
// follows.
func (c *termConn) run(line, want string) {
	c.t.Helper()
	c.output.Reset()
	c.send(kindStdin, line+"\r")
	c.waitOutput(want)
}

// closeStatus reads until the server closes the WebSocket and returns the
// close status and reason.
func (c *termConn) closeStatus() (websocket.StatusCode, string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, _, err := c.ws.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Reason
		}
		c.t.Fatalf("WebSocket ended without a close frame: %v", err)
	}
}

var pidLine = regexp.MustCompile(`pid=([0-9]+)=`)

// pidOf runs a command line that starts a background job and returns the
// job's pid, which the shell prints.
func (c *termConn) pidOf(line string) int {
	c.t.Helper()
	c.output.Reset()
	c.send(kindStdin, line+" echo pid=$!=\r")
	out := c.waitFor(pidLine.MatchString, "pid")
	pid, _ := strconv.Atoi(pidLine.FindStringSubmatch(out)[1])
	return pid
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || !bytes.HasPrefix(bytes.TrimSpace(stat[i+1:]), []byte("Z"))
}

// waitGone waits up to 5 s for pid to end.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkSchema validates a JSON body against a definition of
// testdata/terminal.schema.json.
func checkSchema(t *testing.T, def string, body []byte) {
	t.Helper()
	c := jsonschema.NewCompiler()
	data, err := os.ReadFile("testdata/terminal.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("urn:terminal", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("urn:terminal#/$defs/" + def)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if err := schema.Validate(v); err != nil {
		t.Errorf("body %s is not a %s: %v", body, def, err)
	}
}
