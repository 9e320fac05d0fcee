package kernel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
)

// testTimeout bounds every wait for a kernel in the tests. It is a deadline
// against hangs, not a performance check.
const testTimeout = 90 * time.Second

// testLogWriter sends log records to the test log. Set KERNEL_TEST_LOG=debug
// to see every record; by default only warnings and errors are shown.
type testLogWriter struct {
	mu sync.Mutex
	t  testing.TB
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("KERNEL_TEST_LOG") == "debug" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(&testLogWriter{t: t}, &slog.HandlerOptions{Level: level}))
}

// testSpecDirs returns the folder of the test kernel specs.
func testSpecDirs(t testing.TB) []string {
	dir, err := filepath.Abs(filepath.Join("testdata", "kernels"))
	if err != nil {
		t.Fatal(err)
	}
	return []string{dir}
}

// skipWithoutIPyKernel skips tests that need a real kernel when the Debian
// ipykernel is missing.
func skipWithoutIPyKernel(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real ipykernel; skipped with -short")
	}
	if _, err := os.Stat(defaultPython); err != nil {
		t.Skipf("%s not found", defaultPython)
	}
}

// testServer is a Manager mounted on an httptest server.
type testServer struct {
	t   testing.TB
	m   *Manager
	srv *httptest.Server
}

func newTestServer(t testing.TB, opts Options) *testServer {
	t.Helper()
	if opts.Log == nil {
		opts.Log = testLogger(t)
	}
	if opts.RuntimeDir == "" {
		opts.RuntimeDir = t.TempDir()
	}
	if opts.SpecDirs == nil {
		opts.SpecDirs = testSpecDirs(t)
	}
	m, err := NewManager(opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	m.Register(mux)
	srv := httptest.NewServer(mux)
	ts := &testServer{t: t, m: m, srv: srv}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("closing manager: %v", err)
		}
		srv.Close()
	})
	return ts
}

// do sends a request with an optional JSON body and returns the status and
// body of the response.
func (ts *testServer) do(method, path string, body any) (int, []byte, http.Header) {
	ts.t.Helper()
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			ts.t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, ts.srv.URL+path, r)
	if err != nil {
		ts.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return resp.StatusCode, data, resp.Header
}

// startKernel starts a kernel through the REST API and waits until it is
// ready, so that tests begin with a kernel that has replied.
func (ts *testServer) startKernel(name string) Model {
	ts.t.Helper()
	model := ts.postKernel(name)
	return ts.waitReady(model.ID)
}

// postKernel starts a kernel through the REST API and returns the model of
// the response, whose state is starting.
func (ts *testServer) postKernel(name string) Model {
	ts.t.Helper()
	status, body, _ := ts.do("POST", "/api/kernels", map[string]string{"name": name})
	if status != http.StatusCreated {
		ts.t.Fatalf("POST /api/kernels: status %d: %s", status, body)
	}
	var model Model
	if err := json.Unmarshal(body, &model); err != nil {
		ts.t.Fatalf("decoding kernel model %s: %v", body, err)
	}
	return model
}

// waitReady polls the kernel's model until it leaves the starting state.
func (ts *testServer) waitReady(id string) Model {
	ts.t.Helper()
	deadline := time.Now().Add(ts.m.startWait)
	for {
		model, ok := ts.m.Get(id)
		if !ok {
			ts.t.Fatalf("kernel %s is gone while starting", id)
		}
		if model.ExecutionState != stateStarting {
			return model
		}
		if time.Now().After(deadline) {
			ts.t.Fatalf("kernel %s still starting after %s", id, ts.m.startWait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wsClient is a test client of a kernel WebSocket.
type wsClient struct {
	t       testing.TB
	ws      *websocket.Conn
	framing framing
	session string
	msgs    chan *Message
	readErr chan error
}

// dial opens a kernel WebSocket. v1 selects the v1 subprotocol; otherwise
// the client offers none and gets the legacy framing.
func (ts *testServer) dial(kernelID, session string, v1 bool) *wsClient {
	ts.t.Helper()
	if session == "" {
		session = uuid.NewString()
	}
	url := "ws" + strings.TrimPrefix(ts.srv.URL, "http") +
		"/api/kernels/" + kernelID + "/channels?session_id=" + session
	opts := &websocket.DialOptions{}
	if v1 {
		opts.Subprotocols = []string{protocolV1}
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		ts.t.Fatalf("dialing kernel WebSocket: %v", err)
	}
	ws.SetReadLimit(256 << 20)
	want := ""
	if v1 {
		want = protocolV1
	}
	if got := ws.Subprotocol(); got != want {
		ts.t.Fatalf("subprotocol = %q, want %q", got, want)
	}
	c := &wsClient{
		t: ts.t, ws: ws, framing: framingFor(ws.Subprotocol()), session: session,
		msgs: make(chan *Message, 1<<16), readErr: make(chan error, 1),
	}
	go c.readLoop()
	ts.t.Cleanup(func() { ws.CloseNow() })
	return c
}

// readLoop decodes frames into c.msgs until the WebSocket ends. Frames from
// the server carry iopub too, which decodeV1 and decodeLegacyJSON accept.
func (c *wsClient) readLoop() {
	defer close(c.msgs)
	for {
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.readErr <- err
			return
		}
		m, err := decodeServerFrame(c.framing, typ, data)
		if err != nil {
			c.readErr <- fmt.Errorf("decoding server frame: %w", err)
			return
		}
		c.msgs <- m
	}
}

// decodeServerFrame decodes a frame from the server.
func decodeServerFrame(f framing, typ websocket.MessageType, data []byte) (*Message, error) {
	if _, ok := f.(v1Framing); ok {
		return decodeV1(data)
	}
	if typ == websocket.MessageText {
		return decodeLegacyJSON(data, nil)
	}
	return decodeLegacyBinary(data)
}

// send sends a message from the client and returns its msg_id.
func (c *wsClient) send(channel, msgType string, content any, buffers ...[]byte) string {
	c.t.Helper()
	m := c.message(channel, msgType, content, buffers...)
	c.sendMessage(m)
	return m.MsgID
}

func (c *wsClient) message(channel, msgType string, content any, buffers ...[]byte) *Message {
	m := newMessage(channel, msgType, c.session, nil, content)
	m.Buffers = buffers
	return m
}

func (c *wsClient) sendMessage(m *Message) {
	c.t.Helper()
	typ, data, err := encodeClientFrame(c.framing, m)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, typ, data); err != nil {
		c.t.Fatalf("writing to kernel WebSocket: %v", err)
	}
}

// encodeClientFrame encodes a message as a client of framing f sends it.
func encodeClientFrame(f framing, m *Message) (websocket.MessageType, []byte, error) {
	return f.encode(m)
}

// next returns the next message, failing the test after testTimeout.
func (c *wsClient) next() *Message {
	c.t.Helper()
	timer := time.NewTimer(testTimeout)
	defer timer.Stop()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			c.t.Fatalf("kernel WebSocket closed: %v", <-c.readErr)
		}
		return m
	case <-timer.C:
		c.t.Fatal("no message from the kernel WebSocket")
	}
	return nil
}

// until returns the messages up to and including the first for which done
// returns true.
func (c *wsClient) until(done func(*Message) bool) []*Message {
	c.t.Helper()
	var got []*Message
	for {
		m := c.next()
		got = append(got, m)
		if done(m) {
			return got
		}
	}
}

// result is what a request produced: its reply and its IOPub messages.
type result struct {
	reply *Message
	iopub []*Message
	other []*Message // messages with another parent, such as nudges
}

// streams returns the text of the stream messages of name.
func (r result) streams(name string) string {
	var b strings.Builder
	for _, m := range r.iopub {
		if m.MsgType != "stream" {
			continue
		}
		var c struct{ Name, Text string }
		json.Unmarshal(m.Content, &c)
		if c.Name == name {
			b.WriteString(c.Text)
		}
	}
	return b.String()
}

// ofType returns the IOPub messages of msgType.
func (r result) ofType(msgType string) []*Message {
	var out []*Message
	for _, m := range r.iopub {
		if m.MsgType == msgType {
			out = append(out, m)
		}
	}
	return out
}

// collect reads until the reply to id and its status idle have arrived.
// onStdin handles the stdin messages of the request.
func (c *wsClient) collect(id string, onStdin func(*Message)) result {
	c.t.Helper()
	var r result
	idle := false
	for r.reply == nil || !idle {
		m := c.next()
		switch {
		case m.ParentID != id:
			r.other = append(r.other, m)
		case m.Channel == channelIOPub:
			r.iopub = append(r.iopub, m)
			if m.MsgType == "status" && executionState(m.Content) == "idle" {
				idle = true
			}
		case m.Channel == channelStdin && onStdin != nil:
			onStdin(m)
		case m.Channel == channelShell || m.Channel == channelControl:
			r.reply = m
		}
	}
	return r
}

// execute runs code and returns its result.
func (c *wsClient) execute(code string) result {
	c.t.Helper()
	id := c.send(channelShell, "execute_request", executeContent(code, false))
	return c.collect(id, nil)
}

func executeContent(code string, allowStdin bool) map[string]any {
	return map[string]any{
		"code": code, "silent": false, "store_history": true,
		"user_expressions": map[string]any{}, "allow_stdin": allowStdin,
		// ipykernel aborts requests that arrive just after an error when
		// stop_on_error is set, which would couple the tests.
		"stop_on_error": false,
	}
}

// replyStatus returns content.status of a reply.
func replyStatus(m *Message) string {
	var c struct{ Status string }
	json.Unmarshal(m.Content, &c)
	return c.Status
}

// executeResult returns data["text/plain"] of the execute_result in r.
func (r result) executeResult() string {
	for _, m := range r.ofType("execute_result") {
		var c struct {
			Data map[string]any `json:"data"`
		}
		json.Unmarshal(m.Content, &c)
		s, _ := c.Data["text/plain"].(string)
		return s
	}
	return ""
}

// startBusyLoop runs a cell that loops forever and returns its msg_id once
// the cell's own code runs, so that an interrupt from then on is a
// KeyboardInterrupt in the cell.
//
// ipykernel 6.17 publishes status busy and execute_input before the cell's
// code runs. A SIGINT that comes before its handler is installed is ignored,
// and one that comes while IPython compiles the cell escapes the request:
// the kernel logs "KeyboardInterrupt caught in kernel." and sends no
// execute_reply. jupyter_client's interrupt_kernel hits the same window, so
// the cell prints first and the test waits for that stream.
func (c *wsClient) startBusyLoop() string {
	c.t.Helper()
	id := c.send(channelShell, "execute_request",
		executeContent("print('looping', flush=True)\nwhile True: pass", false))
	c.until(func(m *Message) bool { return m.ParentID == id && m.MsgType == "stream" })
	return id
}
