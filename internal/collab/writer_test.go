package collab

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jupygo/jupygo/yjs"
)

// gateWriter makes the store's writer wait at event until release is
// closed, and returns a channel closed when it first gets there.
func gateWriter(st *store, event string) (reached, release chan struct{}) {
	reached, release = make(chan struct{}), make(chan struct{})
	first := true
	hook := func(e string) {
		if e != event || !first {
			return
		}
		first = false
		close(reached)
		<-release
	}
	st.w.hookForTest.Store(&hook)
	return reached, release
}

// typeText appends s to the text at a, one edit per letter, and waits
// until b has the text want.
func typeText(a, b *client, s, want string) {
	a.t.Helper()
	for _, ch := range s {
		a.mu.Lock()
		n := a.doc.GetText("source").Len()
		a.mu.Unlock()
		a.edit(insert(n, string(ch)))
	}
	b.waitFor("the typed text at B", func() bool { return b.doc.GetText("source").String() == want })
}

func TestRelayDoesNotWaitForWriter(t *testing.T) {
	root, dataDir := t.TempDir(), t.TempDir()
	first := newTestService(t, root, dataDir, func(o *Options) { o.SaveDelay = -1 })
	first.writeFile(t, "a.txt", "base\n")
	room, session := first.openSession(t, "a.txt")
	a := first.join(t, room, session)
	b := first.join(t, room, session)
	typeText(a, b, "abcde", "base\nabcde")
	first.svc.store.flush()

	// The writer stops before its next batch, and the server dies before
	// it commits: B still gets the edits, which the database never does.
	st := first.svc.store
	reached, release := gateWriter(st, "batch")
	typeText(a, b, "fghij", "base\nabcdefghij")
	<-reached
	st.w.mu.Lock()
	st.w.abandon = true
	st.w.mu.Unlock()
	close(release)
	first.killNow(t)
	if got := storedTextAt(t, dataDir, room); got != "base\nabcde" {
		t.Fatalf("committed text after the kill %q, want the edits before the gate", got)
	}

	// The restart adds the edits from the journal.
	second := newTestService(t, root, dataDir, func(o *Options) { o.SaveDelay = -1 })
	fresh := second.join(t, room, session)
	if got, want := fresh.text(), "base\nabcdefghij"; got != want {
		t.Errorf("text after the restart %q, want every edit %q", got, want)
	}
	// A client that kept its doc sends back what the server has: nothing
	// comes twice.
	a.mu.Lock()
	oldDoc := a.doc
	a.mu.Unlock()
	back := second.joinDoc(t, room, session, oldDoc)
	back.send(syncStep2For(t, back, fresh))
	fresh.edit(insert(0, ">"))
	back.waitFor("the fresh client's edit", func() bool {
		return back.doc.GetText("source").String() == ">base\nabcdefghij"
	})
	if got := fresh.text(); got != ">base\nabcdefghij" {
		t.Errorf("text after the old client's sync %q, want each edit once", got)
	}
}

// storedTextAt returns the text of a room's history in the database of
// dataDir, for a service that is stopped.
func storedTextAt(t *testing.T, dataDir, room string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", filepath.Join(dataDir, dbFileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return historyText(t, db, room)
}

func TestUpdateDuringCompactionKept(t *testing.T) {
	root, dataDir := t.TempDir(), t.TempDir()
	ts := newTestService(t, root, dataDir, func(o *Options) {
		o.SaveDelay = -1
		o.CompactAfter = 10
	})
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)
	b := ts.join(t, room, session)
	reached, release := gateWriter(ts.svc.store, "compacting")
	typeText(a, b, strings.Repeat("x", 10), strings.Repeat("x", 10))
	<-reached

	// The writer is merging the history: edits still reach B, and wait
	// in the queue.
	want := strings.Repeat("x", 10) + strings.Repeat("y", 20)
	typeText(a, b, strings.Repeat("y", 20), want)
	close(release)
	ts.svc.store.flush()

	rows, err := readUpdates(context.Background(), ts.svc.store.db, room)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) >= 10+20 {
		t.Errorf("%d stored updates, want fewer after the compaction", len(rows))
	}
	ts.kill(t)
	again := newTestService(t, root, dataDir, nil)
	if got := again.join(t, room, session).text(); got != want {
		t.Errorf("text after compaction and restart %q, want %q", got, want)
	}
}

func TestStoreCloseCommitsQueue(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	st, err := openStore(dir, "", log)
	if err != nil {
		t.Fatal(err)
	}
	var updates [][]byte
	doc := yjs.NewDoc()
	doc.OnUpdate(func(u []byte, _ any, _ *yjs.Transaction) { updates = append(updates, u) })
	for i := range 100 {
		if err := doc.GetText("source").Insert(i, "x", nil); err != nil {
			t.Fatal(err)
		}
	}

	// close begins while the writer holds its first batch and the rest
	// is queued.
	reached, release := gateWriter(st, "batch")
	st.appendUpdate("r", updates[0])
	<-reached
	for _, u := range updates[1:] {
		st.appendUpdate("r", u)
	}
	closed := make(chan error)
	go func() { closed <- st.close() }()
	waitUntil(t, "close to begin", func() bool {
		st.w.mu.Lock()
		defer st.w.mu.Unlock()
		return st.w.closing
	})
	close(release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}

	st, err = openStore(dir, "", log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	rows, err := st.updates(context.Background(), "r")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(updates) {
		t.Fatalf("%d stored updates after close, want %d", len(rows), len(updates))
	}
	got := yjs.NewDoc()
	for _, u := range rows {
		if err := got.ApplyUpdate(u, nil); err != nil {
			t.Fatal(err)
		}
	}
	if s := got.GetText("source").String(); s != strings.Repeat("x", 100) {
		t.Errorf("stored text %q, want 100 x", s)
	}
}

func TestStoreWriteAfterClose(t *testing.T) {
	st, err := openStore(t.TempDir(), "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.close(); err != nil {
		t.Fatal(err)
	}
	st.appendUpdate("r", []byte{0, 0})
	if err := st.deleteRoom("r"); err != errStoreClosed {
		t.Errorf("deleteRoom after close: %v, want %v", err, errStoreClosed)
	}
}

func TestStoreAbandonRejectsWaiters(t *testing.T) {
	st, err := openStore(t.TempDir(), "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.db.Close()
	reached, release := gateWriter(st, "batch")
	st.appendUpdate("r", []byte{0, 0})
	<-reached
	deleted := make(chan error)
	go func() { deleted <- st.deleteRoom("r") }()
	waitUntil(t, "the delete in the queue", func() bool {
		st.w.mu.Lock()
		defer st.w.mu.Unlock()
		return len(st.w.queue) == 1
	})

	st.w.mu.Lock()
	st.w.abandon = true
	st.w.mu.Unlock()
	close(release)
	st.stopWriter(true)
	if err := <-deleted; err != errStoreClosed {
		t.Errorf("deleteRoom dropped by an abandoned writer: %v, want %v", err, errStoreClosed)
	}
}

// countBatches counts the batches the store's writer writes.
func countBatches(st *store) *atomic.Int32 {
	var n atomic.Int32
	hook := func(e string) {
		if e == "batch" {
			n.Add(1)
		}
	}
	st.w.hookForTest.Store(&hook)
	return &n
}

// storedCount returns the number of committed rows in a room's history,
// without waiting for the writes queued.
func storedCount(t *testing.T, st *store, room string) int {
	t.Helper()
	rows, err := readUpdates(context.Background(), st.db, room)
	if err != nil {
		t.Fatal(err)
	}
	return len(rows)
}

// TestCommitWindowEndsEarly gives the writer a window of an hour: writes
// gather in one batch, and a flush, a write that a caller waits for and
// close each commit the queue at once.
func TestCommitWindowEndsEarly(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	st, err := openStore(dir, "", log)
	if err != nil {
		t.Fatal(err)
	}
	st.setCommitWindow(time.Hour)
	batches := countBatches(st)

	for range 3 {
		st.appendUpdate("r", []byte{0, 0})
	}
	st.flush()
	if n := storedCount(t, st, "r"); n != 3 {
		t.Errorf("%d rows after flush, want 3", n)
	}
	if n := batches.Load(); n != 1 {
		t.Errorf("%d batches for three writes and a flush, want 1", n)
	}

	st.appendUpdate("r", []byte{0, 0})
	st.appendUpdate("s", []byte{0, 0})
	if err := st.deleteRoom("r"); err != nil {
		t.Fatal(err)
	}
	if n := storedCount(t, st, "s"); n != 1 {
		t.Errorf("%d rows of room s after a delete that was waited for, want 1", n)
	}

	st.appendUpdate("s", []byte{0, 0})
	if err := st.close(); err != nil {
		t.Fatal(err)
	}
	st, err = openStore(dir, "", log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	if n := storedCount(t, st, "s"); n != 2 {
		t.Errorf("%d rows of room s after close, want 2", n)
	}
}

// TestCommitWindowCommits waits for a write to be committed with no flush,
// once its window has passed.
func TestCommitWindowCommits(t *testing.T) {
	st, err := openStore(t.TempDir(), "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	st.setCommitWindow(20 * time.Millisecond)
	batches := countBatches(st)
	st.appendUpdate("r", []byte{0, 0})
	st.appendUpdate("r", []byte{0, 0})
	waitUntil(t, "the writes committed", func() bool { return storedCount(t, st, "r") == 2 })
	if n := batches.Load(); n > 2 {
		t.Errorf("%d batches for two writes, want at most 2", n)
	}
}

// A save commits the history before it writes the file, and the file's
// hash before it returns, even with a long commit window. A process killed
// right after then finds the file recorded as saved, and a restart does not
// merge the file's content into the doc a second time.
func TestSaveCommitsAroundTheFileWrite(t *testing.T) {
	root, dataDir := t.TempDir(), t.TempDir()
	opts := func(o *Options) {
		o.SaveDelay = -1
		o.CommitWindow = time.Hour
	}
	first := newTestService(t, root, dataDir, opts)
	first.writeFile(t, "a.txt", "")
	room, session := first.openSession(t, "a.txt")
	a := first.join(t, room, session)
	b := first.join(t, room, session)
	typeText(a, b, "hello", "hello")
	if status := first.room(t, room).save(); status != saveSuccess {
		t.Fatalf("save: %s", status)
	}
	hash, _, err := first.svc.store.fileState(context.Background(), room)
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256Hex([]byte("hello")); hash != want {
		t.Errorf("committed hash after the save %q, want the file's %q", hash, want)
	}
	first.killNow(t)

	second := newTestService(t, root, dataDir, opts)
	fresh := second.join(t, room, session)
	if got := fresh.text(); got != "hello" {
		t.Errorf("text after the restart %q, want %q", got, "hello")
	}
}

// storedText returns the text of the room's history as committed.
func storedText(t *testing.T, st *store, room string) string {
	t.Helper()
	return historyText(t, st.db, room)
}

// historyText returns the text of the room's history in q.
func historyText(t *testing.T, q queryer, room string) string {
	t.Helper()
	rows, err := readUpdates(context.Background(), q, room)
	if err != nil {
		t.Fatal(err)
	}
	doc := yjs.NewDoc()
	for _, u := range rows {
		if err := doc.ApplyUpdate(u, nil); err != nil {
			t.Fatal(err)
		}
	}
	return doc.GetText("source").String()
}

// hourWindow turns autosave off and sets a commit window of an hour.
func hourWindow(o *Options) {
	o.SaveDelay = -1
	o.CommitWindow = time.Hour
}

// TestLeaveCommitsHistory gives the writer a window of an hour. The edits
// of a client that leaves are committed without a flush, because no client
// would send them to a restarted server.
func TestLeaveCommitsHistory(t *testing.T) {
	ts := newTestService(t, "", "", hourWindow)
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)
	b := ts.join(t, room, session)
	typeText(a, b, "abc", "abc")
	if got := storedText(t, ts.svc.store, room); got != "" {
		t.Fatalf("history %q while the window runs, want it empty", got)
	}

	a.ws.Close(websocket.StatusNormalClosure, "")
	waitUntil(t, "the edits of the client that left in the history", func() bool {
		return storedText(t, ts.svc.store, room) == "abc"
	})
}

// TestMergeCommitsHistory changes a file on disk while its room is open,
// with a commit window of an hour. The merge and the file's hash are
// committed without a flush, so that a restart does not merge the file
// again.
func TestMergeCommitsHistory(t *testing.T) {
	ts := newTestService(t, "", "", hourWindow)
	ts.writeFile(t, "a.txt", "base\n")
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)
	ts.svc.store.flush()

	ts.writeFile(t, "a.txt", "base\nfrom disk\n")
	a.waitFor("the change on disk", func() bool { return a.doc.GetText("source").String() == "base\nfrom disk\n" })
	want := sha256Hex([]byte("base\nfrom disk\n"))
	waitUntil(t, "the merge and the hash in the database", func() bool {
		hash, _, err := ts.svc.store.fileState(context.Background(), room)
		if err != nil {
			t.Fatal(err)
		}
		return hash == want && storedText(t, ts.svc.store, room) == "base\nfrom disk\n"
	})
}

func TestMergeStartSizes(t *testing.T) {
	for _, tc := range []struct {
		sizes []int
		want  int
	}{
		{nil, 0},
		{[]int{100}, 0},
		{[]int{1000, 10, 10, 10}, 1},
		{[]int{1000, 20, 10, 10}, 1},
		{[]int{1000, 40, 10, 10}, 2},
		{[]int{30, 10, 10, 10}, 0},
		{[]int{1000, 500, 300, 100, 100}, 3},
		{[]int{1000, 500, 300, 100, 100, 100, 100}, 0},
	} {
		if got := mergeStart(tc.sizes); got != tc.want {
			t.Errorf("mergeStart(sizes %v) = %d, want %d", tc.sizes, got, tc.want)
		}
	}
}

func TestCompactionKeepsLargeBase(t *testing.T) {
	root, dataDir := t.TempDir(), t.TempDir()
	ts := newTestService(t, root, dataDir, func(o *Options) {
		o.SaveDelay = -1
		o.CompactAfter = 10
	})
	start := strings.Repeat("line of the file as it was loaded\n", 200)
	ts.writeFile(t, "a.txt", start)
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)
	b := ts.join(t, room, session)
	ts.svc.store.flush()
	before, err := readUpdates(context.Background(), ts.svc.store.db, room)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) == 0 || len(before[0]) < len(start) {
		t.Fatalf("stored history after the load does not begin with the document: %d updates", len(before))
	}

	typeText(a, b, strings.Repeat("x", 25), start+strings.Repeat("x", 25))
	ts.svc.store.flush()
	after, err := readUpdates(context.Background(), ts.svc.store.db, room)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) >= len(before)+25 {
		t.Errorf("%d stored updates after 25 edits, want some merged", len(after))
	}
	if !bytes.Equal(after[0], before[0]) {
		t.Error("the compaction rewrote the loaded document, want it left as stored")
	}
	ts.kill(t)
	again := newTestService(t, root, dataDir, nil)
	if got, want := again.join(t, room, session).text(), start+strings.Repeat("x", 25); got != want {
		t.Errorf("text after compaction and restart has %d bytes, want %d", len(got), len(want))
	}
}

// TestFailedWritesKeptInOrder fills the database, as a full disk would,
// while a client types. The writer keeps the failed writes and saves fail
// meanwhile. Once the database has room again, the history holds every
// edit in order and the next save writes them all.
func TestFailedWritesKeptInOrder(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.SaveDelay = -1 })
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)
	b := ts.join(t, room, session)
	typeText(a, b, "a", "a")
	st := ts.svc.store
	if err := st.flush(); err != nil {
		t.Fatal(err)
	}

	lift := fillDatabase(t, st)
	paste := strings.Repeat("p", 20000)
	a.edit(insert(1, paste))
	typeText(a, b, "bc", "a"+paste+"bc")
	waitUntil(t, "the writer to fail", func() bool {
		st.w.mu.Lock()
		defer st.w.mu.Unlock()
		return st.w.failure != nil
	})
	if err := st.flush(); err == nil || !strings.Contains(err.Error(), "full") {
		t.Errorf("flush while the database is full: %v, want the error", err)
	}
	a.send(saveFrame(1))
	a.waitFor("the save reply", func() bool { return len(a.raw) == 1 })
	if !strings.Contains(a.raw[0], `"status":"failed"`) {
		t.Errorf("save while the database is full: %s, want failed", a.raw[0])
	}
	if got := ts.readFile(t, "a.txt"); got != "" {
		t.Errorf("file %q after a failed save, want it unchanged", got)
	}

	lift()
	waitUntil(t, "the kept writes to commit", func() bool { return st.flush() == nil })
	if got := storedText(t, st, ts.room(t, room).name); got != "a"+paste+"bc" {
		t.Errorf("history holds %d characters, want %d", len(got), len(paste)+3)
	}
	a.send(saveFrame(2))
	a.waitFor("the save reply", func() bool { return len(a.raw) == 2 })
	if got := ts.readFile(t, "a.txt"); got != "a"+paste+"bc" {
		t.Errorf("file holds %d characters after the writes committed, want %d", len(got), len(paste)+3)
	}
}

// fillDatabase makes the store's database refuse to grow, as on a full
// disk: SQLite fails with "database or disk is full" past max_page_count.
// It returns the function that gives the database room again.
func fillDatabase(t *testing.T, st *store) (lift func()) {
	t.Helper()
	var pages int
	if err := st.db.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := st.db.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := st.db.Exec(`PRAGMA max_page_count = 1073741823`); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAutosaveRetriedAfterFailure fills the database while a client
// types, with autosave on: once the database has room again, the edits
// reach the file with no further edit to start a save.
func TestAutosaveRetriedAfterFailure(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)
	b := ts.join(t, room, session)
	st := ts.svc.store
	lift := fillDatabase(t, st)
	paste := strings.Repeat("p", 20000)
	a.edit(insert(0, paste))
	b.waitFor("the paste at B", func() bool { return b.doc.GetText("source").Len() == len(paste) })
	waitUntil(t, "the writer to fail", func() bool {
		st.w.mu.Lock()
		defer st.w.mu.Unlock()
		return st.w.failure != nil
	})
	time.Sleep(200 * time.Millisecond) // the autosave fails meanwhile
	lift()
	waitUntil(t, "the paste in the file", func() bool { return ts.readFile(t, "a.txt") == paste })
}

// TestLockedDatabaseRetried holds the database's write lock in another
// connection past the busy timeout, so that the writer's transaction
// cannot begin, then lets it go: the server keeps running and commits
// every edit.
func TestLockedDatabaseRetried(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.SaveDelay = -1 })
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)
	b := ts.join(t, room, session)
	st := ts.svc.store
	st.setCommitWindow(time.Hour) // the edits share a batch
	if _, err := st.db.Exec(`PRAGMA busy_timeout = 20`); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite3", filepath.Join(ts.svc.opts.DataDir, dbFileName))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}

	typeText(a, b, "xyz", "xyz")
	if err := st.flush(); err == nil {
		t.Error("flush while another connection holds the lock: nil, want an error")
	}
	if _, err := conn.ExecContext(context.Background(), `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the kept writes to commit", func() bool { return st.flush() == nil })
	if got := storedText(t, st, ts.room(t, room).name); got != "xyz" {
		t.Errorf("history holds %q, want xyz", got)
	}
}

// TestStoreRelativeFolder opens the database in a data folder named by a
// relative path, as JUPYTER_DATA_DIR may give it.
func TestStoreRelativeFolder(t *testing.T) {
	t.Chdir(t.TempDir())
	st, err := openStore(filepath.Join("data", "jupyter"), "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.close(); err != nil {
		t.Error(err)
	}
}

// TestStoreOpenedLater starts the service while its data folder cannot
// hold the database, as on a full disk: requests get 503 with the reason
// until the folder is fixed, and then the service works without a restart.
func TestStoreOpenedLater(t *testing.T) {
	before := storeRetry
	storeRetry = 50 * time.Millisecond
	t.Cleanup(func() { storeRetry = before })
	dataDir := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(dataDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ts := newTestService(t, "", dataDir, nil)
	ts.writeFile(t, "a.txt", "text")

	status, body := ts.request(t, "PUT", "/api/collaboration/session/a.txt",
		map[string]string{"format": "text", "type": "file"})
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), "database") {
		t.Errorf("session while the database is missing: %d %s, want 503 with the reason", status, body)
	}
	checkRefused(t, ts, "text:file:0", "")

	if err := os.Remove(dataDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the database to open", func() bool { return ts.svc.available() == nil })
	room, session := ts.openSession(t, "a.txt")
	if got := ts.join(t, room, session).text(); got != "text" {
		t.Errorf("document %q after the database opened, want %q", got, "text")
	}
}
