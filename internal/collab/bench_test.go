package collab

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/jupygo/jupygo/internal/contents"
	"github.com/jupygo/jupygo/yjs"
	"github.com/jupygo/jupygo/yjs/yprotocol"
)

// BenchmarkFirstSync times the server's share of a new client's first
// sync of a 2,000-cell notebook: from the client's SyncStep1 to the last
// byte of the SyncStep2, which the client reads without applying it.
func BenchmarkFirstSync(b *testing.B) {
	root := b.TempDir()
	if err := os.WriteFile(filepath.Join(root, "n.ipynb"), benchNotebook(b, 2000, 15), 0o644); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	m, err := contents.New(root, contents.Options{Log: log})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	svc, err := New(Options{Files: ContentsFiles(m), DataDir: b.TempDir(), RootDir: root,
		Version: "bench", Log: log, SaveDelay: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close(context.Background())
	mux := http.NewServeMux()
	svc.Register(mux)
	server := httptest.NewServer(mux)
	defer server.Close()

	id, _, err := svc.store.indexPath(context.Background(), "n.ipynb")
	if err != nil {
		b.Fatal(err)
	}
	u := "ws" + strings.TrimPrefix(server.URL, "http") + "/api/collaboration/room/json:notebook:" +
		id + "?sessionId=" + svc.session
	syncOnce(b, u) // loads the room
	b.ResetTimer()
	for b.Loop() {
		syncOnce(b, u)
	}
}

// syncOnce dials the room at u, sends an empty SyncStep1 and reads frames
// until the SyncStep2.
func syncOnce(b *testing.B, u string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(-1)
	step1 := yprotocol.AppendSync([]byte{yprotocol.MessageSync}, yprotocol.SyncStep1, []byte{0})
	if err := ws.Write(ctx, websocket.MessageBinary, step1); err != nil {
		b.Fatal(err)
	}
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(data) > 1 && data[0] == yprotocol.MessageSync && data[1] == yprotocol.SyncStep2 {
			return
		}
	}
}

// BenchmarkStoreAppend times the history write of one update, queued
// and committed alone as the writer commits a keystroke.
func BenchmarkStoreAppend(b *testing.B) {
	st, err := openStore(b.TempDir(), "", slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer st.close()
	update := []byte{1, 1, 201, 1, 5, 132, 201, 1, 4, 1, 120, 0}
	for b.Loop() {
		st.appendUpdate("r", update)
		st.flush()
	}
}

// BenchmarkCompaction times the compaction of a history that begins with
// a 2 MB document and goes on with 500 typed characters, as a room's history
// is after 500 edits. Only the characters are merged.
func BenchmarkCompaction(b *testing.B) {
	st, err := openStore(b.TempDir(), "", slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer st.close()
	doc := yjs.NewDoc()
	text := doc.GetText("source")
	if err := text.Insert(0, strings.Repeat("x", 2<<20), nil); err != nil {
		b.Fatal(err)
	}
	base := doc.EncodeStateAsUpdate(nil)

	var edits [][]byte
	doc.OnUpdate(func(update []byte, _ any, _ *yjs.Transaction) { edits = append(edits, update) })
	for i := range 500 {
		if err := text.Insert(i, "y", nil); err != nil {
			b.Fatal(err)
		}
	}

	room := 0
	for b.Loop() {
		b.StopTimer()
		room++
		name := fmt.Sprintf("r%d", room)
		st.appendUpdate(name, base)
		for _, u := range edits {
			st.appendUpdate(name, u)
		}
		st.flush()
		b.StartTimer()
		st.compact(name)
		st.flush()
	}
}

// BenchmarkFanOut times the relay of one typed character to 50 clients of
// a room: from the typist's write of the update to its receipt by every
// listener. The listeners read frames without applying them. Besides the
// time per edit it reports the CPU time of the whole process per edit,
// user and system apart, which includes the clients' reads.
func BenchmarkFanOut(b *testing.B) {
	const listeners = 50
	ts := newTestService(b, "", "", func(o *Options) { o.SaveDelay = -1 })
	ts.writeFile(b, "t.txt", "")
	room, session := ts.openSession(b, "t.txt")
	typist := ts.join(b, room, session)

	got := make(chan struct{}, listeners)
	for range listeners {
		listen(b, ts.dialURL(room, session), got)
	}
	r := ts.room(b, room)
	waitUntil(b, "the listeners to join", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.clients) == listeners+1
	})
	edit := func(i int) {
		typist.edit(insert(i, "x"))
		for range listeners {
			<-got
		}
	}
	edit(0)

	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	i := 1
	for b.Loop() {
		edit(i)
		i++
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	perOp := func(a, b syscall.Timeval) float64 {
		return float64(a.Nano()-b.Nano()) / 1e3 / float64(i-1)
	}
	b.ReportMetric(perOp(after.Utime, before.Utime), "user-µs/op")
	b.ReportMetric(perOp(after.Stime, before.Stime), "sys-µs/op")
}

// listen connects to the room at u and sends to got for every update
// frame it reads, until the connection closes.
func listen(b *testing.B, u string, got chan<- struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ws.CloseNow() })
	go func() {
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			if len(data) > 1 && data[0] == msgSync && data[1] == yprotocol.SyncUpdate {
				got <- struct{}{}
			}
		}
	}()
}

// BenchmarkSave times the save of a 2,000-cell notebook after one typed
// character, as a room's autosave runs it: reading the doc, encoding the
// file, writing it through the contents manager and keeping the base
// state.
func BenchmarkSave(b *testing.B) {
	r := openBenchRoom(b)
	edit := func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		src, _ := firstCell(r.doc).Get("source")
		r.doc.Transact(func(*yjs.Transaction) { _ = src.(*yjs.Text).Insert(0, "#", nil) }, nil)
		r.dirty = true
	}
	edit()
	if status := r.save(); status != saveSuccess { // the first save reads the file it replaces
		b.Fatal(status)
	}
	b.ReportAllocs()
	for b.Loop() {
		edit()
		if status := r.save(); status != saveSuccess {
			b.Fatal(status)
		}
	}
}

// BenchmarkLoad times the load of a 2,000-cell notebook into a new room,
// as its first client's join starts it: reading and parsing the file,
// building the doc and storing its first update.
func BenchmarkLoad(b *testing.B) {
	ts := newTestService(b, "", "", func(o *Options) { o.SaveDelay = -1 })
	ts.writeFile(b, "n.ipynb", string(benchNotebook(b, 2000, 15)))
	textRoom, _ := ts.openSession(b, "n.ipynb")
	name := "json:notebook:" + strings.TrimPrefix(textRoom, "text:file:")
	b.ReportAllocs()
	for b.Loop() {
		r, err := ts.svc.openRoom(context.Background(), name)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if !r.tryClose() {
			b.Fatal("room not closed")
		}
		if err := ts.svc.store.deleteRoom(name); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkKeystroke times a room's handling of one typed character in a
// 2,000-cell notebook, with no other client to relay it to: parsing the
// frame, checking the update against the schema, applying it, and
// journalling it.
func BenchmarkKeystroke(b *testing.B) {
	r := openBenchRoom(b)
	r.mu.Lock()
	state := r.doc.EncodeStateAsUpdate(nil)
	r.mu.Unlock()
	typist := yjs.NewDoc()
	if err := typist.ApplyUpdate(state, nil); err != nil {
		b.Fatal(err)
	}
	var frames [][]byte
	typist.OnUpdate(func(update []byte, _ any, _ *yjs.Transaction) {
		frames = append(frames, yprotocol.UpdateFrame(update))
	})
	src, _ := firstCell(typist).Get("source")
	for i := range 20000 {
		if err := src.(*yjs.Text).Insert(i, "x", nil); err != nil {
			b.Fatal(err)
		}
	}
	c := newConn(nil, nil)
	i := 0
	for b.Loop() {
		if err := r.handle(c, frames[i%len(frames)]); err != nil {
			b.Fatal(err)
		}
		i++
		if i == len(frames) {
			b.Fatal("out of frames")
		}
	}
}

// openBenchRoom opens the room of a 2,000-cell notebook, without autosave.
func openBenchRoom(b *testing.B) *room {
	b.Helper()
	ts := newTestService(b, "", "", func(o *Options) { o.SaveDelay = -1 })
	ts.writeFile(b, "n.ipynb", string(benchNotebook(b, 2000, 15)))
	textRoom, _ := ts.openSession(b, "n.ipynb")
	name := "json:notebook:" + strings.TrimPrefix(textRoom, "text:file:")
	r, err := ts.svc.openRoom(context.Background(), name)
	if err != nil {
		b.Fatal(err)
	}
	return r
}
