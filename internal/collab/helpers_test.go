package collab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/jupygo/jupygo/internal/contents"
	"github.com/jupygo/jupygo/yjs"
	"github.com/jupygo/jupygo/yjs/lib0"
	"github.com/jupygo/jupygo/yjs/yprotocol"
)

// waitTimeout bounds every wait for something a server does, so a broken
// server fails a test instead of hanging it.
const waitTimeout = 10 * time.Second

// testService is a Service with a contents manager on a loopback server.
// A testService for a server process has only baseURL and token set.
type testService struct {
	*httptest.Server
	// baseURL is the server's URL; token, when set, authenticates.
	baseURL string
	token   string
	svc     *Service
	root    string
	dataDir string
	files   *gatedFiles
	logs    *syncBuffer
}

// syncBuffer is a log sink that tests read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// gatedFiles wraps Files so tests can hold reads back and count writes.
type gatedFiles struct {
	Files
	mu       sync.Mutex
	gate     chan struct{} // reads wait for it to close when non-nil
	readErr  error         // returned by reads when non-nil
	writeErr error         // returned by writes when non-nil
	readOnly bool          // makes Stat report files read-only
	writes   int
	onWrite  func(p string, content Content) // called before each write when non-nil
}

func (f *gatedFiles) Read(p string) ([]byte, FileInfo, error) {
	f.mu.Lock()
	gate, readErr := f.gate, f.readErr
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if readErr != nil {
		return nil, FileInfo{}, readErr
	}
	return f.Files.Read(p)
}

func (f *gatedFiles) Write(p, docType string, content Content) (FileInfo, error) {
	f.mu.Lock()
	f.writes++
	onWrite, writeErr := f.onWrite, f.writeErr
	f.mu.Unlock()
	if onWrite != nil {
		onWrite(p, content)
	}
	if writeErr != nil {
		return FileInfo{}, writeErr
	}
	return f.Files.Write(p, docType, content)
}

func (f *gatedFiles) Stat(p string) (FileInfo, error) {
	info, err := f.Files.Stat(p)
	f.mu.Lock()
	if f.readOnly {
		info.Writable = false
	}
	f.mu.Unlock()
	return info, err
}

func (f *gatedFiles) setReadOnly(readOnly bool) {
	f.mu.Lock()
	f.readOnly = readOnly
	f.mu.Unlock()
}

func (f *gatedFiles) failWrites(err error) {
	f.mu.Lock()
	f.writeErr = err
	f.mu.Unlock()
}

func (f *gatedFiles) writeCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes
}

// newTestService starts a service on a fresh root folder. mutate may
// change the options; root and dataDir, when not empty, are reused.
func newTestService(t testing.TB, root, dataDir string, mutate func(*Options)) *testService {
	t.Helper()
	if root == "" {
		root = t.TempDir()
	}
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := contents.New(root, contents.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	files := &gatedFiles{Files: ContentsFiles(m)}

	opts := Options{
		Files: files, DataDir: dataDir, RootDir: root, Version: "test", Log: log,
		SaveDelay: 50 * time.Millisecond, PollInterval: 50 * time.Millisecond,
		CleanupDelay: time.Hour,
	}
	if mutate != nil {
		mutate(&opts)
	}
	svc, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	m.OnChange(svc.ContentsChanged)

	mux := http.NewServeMux()
	m.Register(mux)
	svc.Register(mux)
	server := httptest.NewServer(mux)
	ts := &testService{Server: server, baseURL: server.URL, svc: svc, root: root, dataDir: dataDir,
		files: files, logs: logs}
	t.Cleanup(func() {
		ts.Close()
		if err := svc.Close(context.Background()); err != nil && !strings.Contains(err.Error(), "closed") {
			t.Errorf("closing the service: %v", err)
		}
		m.Close()
	})
	return ts
}

// waitRoomClosed waits until the room name has left the service's table.
func (ts *testService) waitRoomClosed(t testing.TB, name string) {
	t.Helper()
	waitUntil(t, "the room to close", func() bool {
		ts.svc.mu.Lock()
		defer ts.svc.mu.Unlock()
		return ts.svc.rooms[name] == nil
	})
}

// writeFile writes a file below the root.
func (ts *testService) writeFile(t testing.TB, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(ts.root, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (ts *testService) readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ts.root, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// request sends a request and returns the status and body.
func (ts *testService) request(t testing.TB, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, ts.baseURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ts.token != "" {
		req.Header.Set("Authorization", "token "+ts.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// openSession requests a document session for a text file and returns
// the room name and session id.
func (ts *testService) openSession(t testing.TB, path string) (room, session string) {
	t.Helper()
	status, body := ts.request(t, http.MethodPut,
		"/api/collaboration/session/"+strings.ReplaceAll(path, "/", "%2F"),
		map[string]string{"format": "text", "type": "file"})
	if status != http.StatusOK && status != http.StatusCreated {
		t.Fatalf("PUT session %s: %d %s", path, status, body)
	}
	var reply sessionReply
	if err := json.Unmarshal(body, &reply); err != nil {
		t.Fatal(err)
	}
	return "text:file:" + reply.FileID, reply.SessionID
}

// client is a y-websocket client built on the yjs package that behaves
// as @jupyter/docprovider does: it replies to SyncStep1, applies updates
// and sends its own changes.
type client struct {
	t  testing.TB
	ws *websocket.Conn

	mu        sync.Mutex
	doc       *yjs.Doc
	synced    bool
	awareness [][]byte // awareness updates received
	raw       []string // RAW strings received
	frames    int      // frames received
	// textAtSync is the text when the first SyncStep2 was applied.
	textAtSync string

	closed   chan struct{}
	closeErr error
}

// dial connects to a room without waiting for the first sync.
func (ts *testService) dial(t testing.TB, room, session string) *client {
	t.Helper()
	return ts.dialDoc(t, room, session, nil)
}

// dialDoc connects to a room with an existing doc, as a client that
// reconnects does; nil starts with an empty doc.
func (ts *testService) dialDoc(t testing.TB, room, session string, doc *yjs.Doc) *client {
	t.Helper()
	u := ts.dialURL(room, session)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		t.Fatalf("dialing room %s: %v", room, err)
	}
	ws.SetReadLimit(-1)

	if doc == nil {
		doc = yjs.NewDoc()
	}
	c := &client{t: t, ws: ws, doc: doc, closed: make(chan struct{})}
	c.doc.OnUpdate(func(update []byte, origin any, _ *yjs.Transaction) {
		if origin != c {
			c.send(yprotocol.UpdateFrame(update))
		}
	})
	go c.readLoop()
	t.Cleanup(func() { ws.CloseNow() })
	return c
}

// dialURL returns the WebSocket URL of a room.
func (ts *testService) dialURL(room, session string) string {
	u := "ws" + strings.TrimPrefix(ts.baseURL, "http") + "/api/collaboration/room/" + room
	query := url.Values{}
	if session != "" {
		query.Set("sessionId", session)
	}
	if ts.token != "" {
		query.Set("token", ts.token)
	}
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

// join connects and waits until the first SyncStep2 arrived.
func (ts *testService) join(t testing.TB, room, session string) *client {
	t.Helper()
	return ts.joinDoc(t, room, session, nil)
}

func (ts *testService) joinDoc(t testing.TB, room, session string, doc *yjs.Doc) *client {
	t.Helper()
	c := ts.dialDoc(t, room, session, doc)
	c.send(yprotocol.SyncStep1Frame(c.doc))
	c.waitFor("the first sync", func() bool { return c.synced })
	return c
}

func (c *client) send(frame []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	_ = c.ws.Write(ctx, websocket.MessageBinary, frame)
}

func (c *client) readLoop() {
	defer close(c.closed)
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.closeErr = err
			return
		}
		c.mu.Lock()
		c.frames++
		c.handle(data)
		c.mu.Unlock()
	}
}

// handle acts on a frame from the server; c.mu is held.
func (c *client) handle(data []byte) {
	d := lib0.NewDecoder(data)
	switch d.ReadVarUint() {
	case msgSync:
		m, err := yprotocol.ReadSync(d)
		if err != nil {
			c.t.Errorf("server sent a bad sync message: %v", err)
			return
		}
		reply, err := yprotocol.HandleSync(c.doc, m, c)
		if err != nil {
			c.t.Errorf("applying the server's sync message: %v", err)
		}
		if m.Type == yprotocol.SyncStep2 && !c.synced {
			c.synced = true
			c.textAtSync = c.doc.GetText("source").String()
		}
		if reply != nil {
			go c.send(reply)
		}
	case msgAwareness:
		c.awareness = append(c.awareness, d.ReadVarUint8Array())
	case msgRaw:
		c.raw = append(c.raw, d.ReadVarString())
	}
}

// edit changes the client's doc under its lock; the change goes to the
// server.
func (c *client) edit(f func(doc *yjs.Doc)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c.doc)
}

func (c *client) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.doc.GetText("source").String()
}

func (c *client) state(key string) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, _ := c.doc.GetMap("state").Get(key)
	return v
}

// waitFor polls cond, under the client's lock, until it holds.
func (c *client) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		c.mu.Lock()
		ok := cond()
		c.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitClose waits for the server to close the connection and returns the
// close status and reason.
func (c *client) waitClose() (websocket.StatusCode, string) {
	c.t.Helper()
	select {
	case <-c.closed:
	case <-time.After(waitTimeout):
		c.t.Fatal("timed out waiting for the server to close the connection")
	}
	var ce websocket.CloseError
	if errors.As(c.closeErr, &ce) {
		return ce.Code, ce.Reason
	}
	return -1, ""
}

// waitUntil polls cond until it holds.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// awarenessFrame returns the frame of an awareness update that sets
// client's state.
func awarenessFrame(client, clock uint64, state string) []byte {
	e := &lib0.Encoder{}
	e.WriteVarUint(1)
	e.WriteVarUint(client)
	e.WriteVarUint(clock)
	e.WriteVarString(state)
	return yprotocol.AwarenessFrame(e.Bytes())
}

// kill stops the service as a process killed after its writer committed
// every queued write: connections drop, nothing is saved, and only what
// reached the database survives.
func (ts *testService) kill(t testing.TB) {
	t.Helper()
	ts.svc.store.flush()
	ts.killNow(t)
}

// killNow stops the service as a killed process stops, dropping the
// history writes that the writer has not begun.
func (ts *testService) killNow(t testing.TB) {
	t.Helper()
	ts.CloseClientConnections()
	ts.Close()
	ts.svc.mu.Lock()
	rooms := make([]*room, 0, len(ts.svc.rooms))
	for _, r := range ts.svc.rooms {
		rooms = append(rooms, r)
	}
	ts.svc.mu.Unlock()
	for _, r := range rooms {
		r.mu.Lock()
		r.noSave = true
		r.mu.Unlock()
		r.shutdown()
	}
	ts.svc.store.stopWriter(true)
	if j := ts.svc.store.journal; j != nil {
		j.close()
	}
	if err := ts.svc.store.db.Close(); err != nil {
		t.Fatal(err)
	}
}

// room returns the open room name.
func (ts *testService) room(t testing.TB, name string) *room {
	t.Helper()
	ts.svc.mu.Lock()
	defer ts.svc.mu.Unlock()
	r := ts.svc.rooms[name]
	if r == nil {
		t.Fatalf("room %s is not open", name)
	}
	return r
}

// waitDirty waits until the room r holds edits not saved yet, such as
// the one a client just sent, which the wait is named after.
func waitDirty(t testing.TB, r *room, what string) {
	t.Helper()
	waitUntil(t, what, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.dirty
	})
}

// unsavedRooms returns the rooms that the database marks as holding
// unsaved edits, once the writes queued before the call are committed.
func (ts *testService) unsavedRooms(t testing.TB) []string {
	t.Helper()
	ts.svc.store.flush()
	rooms, err := ts.svc.store.unsavedRooms(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rooms
}

// insert returns an edit that inserts s at index i of the text.
func insert(i int, s string) func(*yjs.Doc) {
	return func(doc *yjs.Doc) {
		if err := doc.GetText("source").Insert(i, s, nil); err != nil {
			panic(err)
		}
	}
}

func updateFrame(update []byte) []byte { return yprotocol.UpdateFrame(update) }
