package collab

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jupygo/jupygo/yjs"
)

func TestAutosaveDebounces(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.SaveDelay = 300 * time.Millisecond })
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	c := ts.join(t, room, session)
	for i := range 5 {
		c.edit(insert(i, "x"))
	}
	waitUntil(t, "the autosave", func() bool { return ts.readFile(t, "a.txt") == "xxxxx" })
	if n := ts.files.writeCount(); n != 1 {
		t.Errorf("%d writes for five quick edits, want 1", n)
	}
	sum := sha256Hex([]byte("xxxxx"))
	c.waitFor("the state after the save", func() bool {
		return c.stateLocked(stateHash) == sum && c.stateLocked(stateDirty) == false
	})
}

func TestAutosaveWaitsForTheLastEdit(t *testing.T) {
	const delay = 400 * time.Millisecond
	ts := newTestService(t, "", "", func(o *Options) { o.SaveDelay = delay })
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	c := ts.join(t, room, session)

	// Edits 100 ms apart span three save delays. Each one moves the save.
	var last time.Time
	for i := range 12 {
		if i > 0 && time.Since(last) >= delay {
			t.Skipf("edit %d came %v after the one before: the machine is too slow for this test", i, time.Since(last))
		}
		c.edit(insert(i, "x"))
		last = time.Now()
		if n := ts.files.writeCount(); n != 0 {
			t.Fatalf("a save after edit %d, within %v of the edit before", i, delay)
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitUntil(t, "the autosave", func() bool { return ts.readFile(t, "a.txt") == strings.Repeat("x", 12) })
	if waited := time.Since(last); waited < delay {
		t.Errorf("saved %v after the last edit, want at least %v", waited, delay)
	}
	if n := ts.files.writeCount(); n != 1 {
		t.Errorf("%d writes, want 1", n)
	}
}

func TestAutosaveOffInAwareness(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.SaveDelay = 20 * time.Millisecond })
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	c := ts.join(t, room, session)
	c.send(awarenessFrame(9, 1, `{"autosave":false}`))
	c.waitFor("the awareness echo", func() bool { return len(c.awareness) == 1 })
	c.edit(insert(0, "unsaved"))
	// Ten save delays without a save.
	time.Sleep(200 * time.Millisecond)
	if got := ts.readFile(t, "a.txt"); got != "" {
		t.Fatalf("file %q autosaved, want it untouched while autosave is off", got)
	}
	// A restart would save the edits of a marked room.
	if rooms := ts.unsavedRooms(t); len(rooms) > 0 {
		t.Errorf("rooms marked unsaved with autosave off: %q, want none", rooms)
	}
	c.send(saveFrame(1))
	c.waitFor("the save reply", func() bool { return len(c.raw) == 1 })
	if got := ts.readFile(t, "a.txt"); got != "unsaved" {
		t.Errorf("file %q after a save request, want %q", got, "unsaved")
	}
}

// TestAutosaveOffOutlivesTheTab checks that a room whose last client had
// autosave off does not save at cleanup after that client removes its
// state, as JupyterLab does when the document's tab closes, whatever the
// user chose in its "Save changes" dialog. Nor does a restart save it.
func TestAutosaveOffOutlivesTheTab(t *testing.T) {
	root, dataDir := t.TempDir(), t.TempDir()
	opts := func(o *Options) {
		o.SaveDelay = 20 * time.Millisecond
		o.CleanupDelay = 50 * time.Millisecond
	}
	ts := newTestService(t, root, dataDir, opts)
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	c := ts.join(t, room, session)
	c.send(awarenessFrame(9, 1, `{"autosave":false}`))
	c.waitFor("the awareness echo", func() bool { return len(c.awareness) == 1 })
	c.edit(insert(0, "discarded"))
	waitDirty(t, ts.room(t, room), "the edit at the server")
	c.send(awarenessFrame(9, 2, `null`))
	c.ws.Close(websocket.StatusNormalClosure, "")
	ts.waitRoomClosed(t, room)
	if got := ts.readFile(t, "a.txt"); got != "" {
		t.Fatalf("file %q after the tab closed, want it untouched while autosave is off", got)
	}
	if err := ts.svc.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	second := newTestService(t, root, dataDir, opts)
	// Ten poll intervals, in which a marked room would be saved.
	time.Sleep(500 * time.Millisecond)
	if got := second.readFile(t, "a.txt"); got != "" {
		t.Errorf("file %q after a restart, want it untouched", got)
	}
	if got := second.join(t, room, session).text(); got != "discarded" {
		t.Errorf("text in the reopened room %q, want the edit kept in its history", got)
	}
}

func TestChangeOnDiskReachesClients(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "one\ntwo\n")
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)
	b := ts.join(t, room, session)
	a.edit(func(doc *yjs.Doc) { doc.GetMap("state").Set(stateDirty, true) })

	ts.writeFile(t, "a.txt", "one\n2\ntwo\n")
	future := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(ts.root, "a.txt"), future, future); err != nil {
		t.Fatal(err)
	}
	sum := sha256Hex([]byte("one\n2\ntwo\n"))
	for _, c := range []*client{a, b} {
		c.waitFor("the file's new text", func() bool {
			return c.doc.GetText("source").String() == "one\n2\ntwo\n" &&
				c.stateLocked(stateHash) == sum && c.stateLocked(stateDirty) == false
		})
	}
	if n := ts.files.writeCount(); n != 0 {
		t.Errorf("the server wrote the file %d times after a change on disk, want 0", n)
	}
}

func TestTouchDisturbsNobody(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "same")
	room, session := ts.openSession(t, "a.txt")
	c := ts.join(t, room, session)
	c.mu.Lock()
	before := c.frames
	c.mu.Unlock()

	future := time.Now().Add(time.Minute).Truncate(time.Second)
	if err := os.Chtimes(filepath.Join(ts.root, "a.txt"), future, future); err != nil {
		t.Fatal(err)
	}
	r := ts.room(t, room)
	waitUntil(t, "the poll to see the touch", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.modTime.Equal(future)
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frames != before {
		t.Errorf("the client received %d frames after a touch, want 0", c.frames-before)
	}
	if got := c.doc.GetText("source").String(); got != "same" {
		t.Errorf("text %q, want %q", got, "same")
	}
}

func TestOwnSaveDisturbsNobody(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	c := ts.join(t, room, session)
	c.edit(insert(0, "typed"))
	waitUntil(t, "the autosave", func() bool { return ts.readFile(t, "a.txt") == "typed" })
	// Several polls after the save.
	time.Sleep(300 * time.Millisecond)
	if strings.Contains(ts.logs.String(), "document reloaded") {
		t.Error("the server reloaded its own save")
	}
	if got := c.text(); got != "typed" {
		t.Errorf("text %q, want %q", got, "typed")
	}
}

func TestCleanupSavesThenCloses(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) {
		o.SaveDelay = time.Hour
		o.CleanupDelay = 50 * time.Millisecond
	})
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	c := ts.join(t, room, session)
	c.edit(insert(0, "before leaving"))
	r := ts.room(t, room)
	waitDirty(t, r, "the edit at the server")
	c.ws.CloseNow()
	ts.waitRoomClosed(t, room)
	if got := ts.readFile(t, "a.txt"); got != "before leaving" {
		t.Errorf("file %q after cleanup, want the edit saved", got)
	}
	if got := ts.join(t, room, session).text(); got != "before leaving" {
		t.Errorf("text in the reopened room %q, want %q", got, "before leaving")
	}
}

func TestRestartKeepsEdits(t *testing.T) {
	root, dataDir := t.TempDir(), t.TempDir()
	first := newTestService(t, root, dataDir, func(o *Options) { o.SaveDelay = -1 })
	first.writeFile(t, "a.txt", "base\n")
	room, session := first.openSession(t, "a.txt")
	a := first.join(t, room, session)
	want := typeTwentyEdits(a, first.join(t, room, session))
	first.kill(t)
	if got := first.readFile(t, "a.txt"); got != "base\n" {
		t.Fatalf("file %q before the restart, want the edits unsaved", got)
	}

	second := newTestService(t, root, dataDir, func(o *Options) { o.SaveDelay = -1 })
	checkRestored(t, second, room, session, a, want)
}

// typeTwentyEdits inserts twenty letters after "base\n" at a, waits
// until b has them all, and returns the text.
func typeTwentyEdits(a, b *client) string {
	a.t.Helper()
	for i := range 20 {
		a.edit(insert(5+i, string(rune('a'+i))))
	}
	want := "base\nabcdefghijklmnopqrst"
	b.waitFor("every edit at B", func() bool { return b.doc.GetText("source").String() == want })
	return want
}

// checkRestored checks that a new client of ts gets the text want, and
// that old, a client whose doc predates the restart, merges back
// without duplicating anything.
func checkRestored(t *testing.T, ts *testService, room, session string, old *client, want string) {
	t.Helper()
	fresh := ts.join(t, room, session)
	if got := fresh.text(); got != want {
		t.Errorf("text after the restart %q, want %q", got, want)
	}
	old.mu.Lock()
	oldDoc := old.doc
	old.mu.Unlock()
	back := ts.joinDoc(t, room, session, oldDoc)
	back.send(syncStep2For(t, back, fresh))
	fresh.edit(insert(0, ">"))
	back.waitFor("the fresh client's edit", func() bool {
		return back.doc.GetText("source").String() == ">"+want
	})
	fresh.waitFor("one copy of every edit", func() bool {
		return fresh.doc.GetText("source").String() == ">"+want
	})
}

// syncStep2For returns an update frame with what from's doc has and
// to's lacks, as a reconnecting client sends its state.
func syncStep2For(t *testing.T, from, to *client) []byte {
	t.Helper()
	to.mu.Lock()
	sv := to.doc.StateVector()
	to.mu.Unlock()
	from.mu.Lock()
	defer from.mu.Unlock()
	return updateFrame(from.doc.EncodeStateAsUpdate(sv))
}

// TestRestartMergesFileChange changes the file while the server is down
// with an edit not saved: the restarted room keeps both.
func TestRestartMergesFileChange(t *testing.T) {
	root, dataDir := t.TempDir(), t.TempDir()
	first := newTestService(t, root, dataDir, func(o *Options) { o.SaveDelay = -1 })
	first.writeFile(t, "a.txt", "one\ntwo\n")
	room, session := first.openSession(t, "a.txt")
	a := first.join(t, room, session)
	a.edit(insert(8, "three\n"))
	r := first.room(t, room)
	waitDirty(t, r, "the edit at the server")
	first.kill(t)
	first.writeFile(t, "a.txt", "zero\none\ntwo\n")

	second := newTestService(t, root, dataDir, nil)
	c := second.join(t, room, session)
	if got, want := c.text(), "zero\none\ntwo\nthree\n"; got != want {
		t.Errorf("text %q, want %q: the change on disk and the unsaved edit", got, want)
	}
}

func TestHistoryCompacts(t *testing.T) {
	root, dataDir := t.TempDir(), t.TempDir()
	ts := newTestService(t, root, dataDir, func(o *Options) {
		o.SaveDelay = -1
		o.CompactAfter = 5
	})
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)
	b := ts.join(t, room, session)
	for i := range 30 {
		a.edit(insert(i, "x"))
	}
	want := strings.Repeat("x", 30)
	b.waitFor("every edit", func() bool { return b.doc.GetText("source").String() == want })
	ts.svc.store.flush()
	var rows int
	if err := ts.svc.store.db.QueryRow(`SELECT count(*) FROM updates WHERE room = ?`, room).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	// Merges leave a few rows, each at least as large as those after it
	// together, and at most CompactAfter-1 updates stored since.
	if rows >= 10 {
		t.Errorf("%d stored updates of 31, want fewer than 10 after compaction", rows)
	}
	ts.kill(t)
	again := newTestService(t, root, dataDir, nil)
	if got := again.join(t, room, session).text(); got != want {
		t.Errorf("text after compaction and restart %q, want %q", got, want)
	}
}

func TestPollFollowsFileID(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "x")
	room, session := ts.openSession(t, "a.txt")
	c := ts.join(t, room, session)
	// A rename the room did not see: the file and its id move together.
	if err := os.Rename(filepath.Join(ts.root, "a.txt"), filepath.Join(ts.root, "b.txt")); err != nil {
		t.Fatal(err)
	}
	if err := ts.svc.store.movePaths(t.Context(), "a.txt", "b.txt"); err != nil {
		t.Fatal(err)
	}
	c.waitFor("state path", func() bool { return c.stateLocked(statePath) == "b.txt" })
}

func TestRestartKeepsCRLFFile(t *testing.T) {
	root, dataDir := t.TempDir(), t.TempDir()
	first := newTestService(t, root, dataDir, nil)
	first.writeFile(t, "a.txt", "one\r\ntwo\r\n")
	room, session := first.openSession(t, "a.txt")
	first.join(t, room, session)
	first.kill(t)

	second := newTestService(t, root, dataDir, func(o *Options) { o.SaveDelay = 20 * time.Millisecond })
	c := second.join(t, room, session)
	if got := c.text(); got != "one\ntwo\n" {
		t.Errorf("text %q, want LF line ends", got)
	}
	// Ten save delays.
	time.Sleep(200 * time.Millisecond)
	if n := second.files.writeCount(); n != 0 {
		t.Errorf("%d writes of an unedited file, want 0", n)
	}
	if got := second.readFile(t, "a.txt"); got != "one\r\ntwo\r\n" {
		t.Errorf("file %q, want it unchanged", got)
	}
}

func TestCloseSavesAndDisconnects(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.SaveDelay = time.Hour })
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	c := ts.join(t, room, session)
	c.edit(insert(0, "unsaved"))
	r := ts.room(t, room)
	waitDirty(t, r, "the edit at the server")
	if err := ts.svc.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if code, _ := c.waitClose(); code != 1001 {
		t.Errorf("closed with %d, want 1001", code)
	}
	if got := ts.readFile(t, "a.txt"); got != "unsaved" {
		t.Errorf("file %q after Close, want the edit saved", got)
	}
}

// TestChangeOnDiskMergesUnsavedEdits changes the file on disk before an
// edit is saved. Whether the poll or a save finds the change, the doc
// keeps the edit and takes the change, and the next save writes both.
func TestChangeOnDiskMergesUnsavedEdits(t *testing.T) {
	for _, finder := range []string{"poll", "save"} {
		t.Run(finder, func(t *testing.T) {
			ts := newTestService(t, "", "", func(o *Options) {
				o.SaveDelay = time.Hour
				if finder == "save" {
					o.PollInterval = time.Hour
				}
			})
			ts.writeFile(t, "a.txt", "one\ntwo\n")
			room, session := ts.openSession(t, "a.txt")
			a := ts.join(t, room, session)
			b := ts.join(t, room, session)
			a.edit(insert(0, "zero\n"))
			b.waitFor("A's edit", func() bool { return b.doc.GetText("source").String() == "zero\none\ntwo\n" })

			ts.writeFile(t, "a.txt", "one\ntwo\nthree\n")
			future := time.Now().Add(time.Minute)
			if err := os.Chtimes(filepath.Join(ts.root, "a.txt"), future, future); err != nil {
				t.Fatal(err)
			}
			var saves uint64
			if finder == "save" {
				saves++
				a.send(saveFrame(saves))
				a.waitFor("the save reply", func() bool { return uint64(len(a.raw)) == saves })
			}
			const want = "zero\none\ntwo\nthree\n"
			for _, c := range []*client{a, b} {
				c.waitFor("the edit and the change on disk", func() bool {
					return c.doc.GetText("source").String() == want && c.stateLocked(stateDirty) == true
				})
			}
			saves++
			a.send(saveFrame(saves))
			a.waitFor("the save reply", func() bool { return uint64(len(a.raw)) == saves })
			if got := ts.readFile(t, "a.txt"); got != want {
				t.Errorf("file after the save = %q, want %q", got, want)
			}
		})
	}
}

// TestDiskChangeKeepsEditInCellWithoutID edits a cell to which the
// nbformat 4.5 file gives no id, then changes the file on disk before the
// edit is saved. The merge must keep the edit in that cell.
func TestDiskChangeKeepsEditInCellWithoutID(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.SaveDelay = time.Hour })
	cell := func(id, source string) string {
		if id != "" {
			id = `"id": "` + id + `", `
		}
		return `{` + id + `"cell_type": "markdown", "metadata": {}, "source": "` + source + `"}`
	}
	file := func(cells ...string) string {
		return `{"cells": [` + strings.Join(cells, ", ") +
			`], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}` + "\n"
	}
	ts.writeFile(t, "n.ipynb", file(cell("", "x"), cell("b", "y")))
	textRoom, session := ts.openSession(t, "n.ipynb")
	name := "json:notebook:" + strings.TrimPrefix(textRoom, "text:file:")
	a := ts.join(t, name, session)
	a.edit(func(doc *yjs.Doc) {
		src, _ := firstCell(doc).Get("source")
		_ = src.(*yjs.Text).Insert(1, " typed", nil)
	})
	r := ts.room(t, name)
	a.waitFor("the room to apply the edit", func() bool { return roomSource(r) == "x typed" })

	ts.writeFile(t, "n.ipynb", file(cell("", "x"), cell("b", "y"), cell("c", "z")))
	future := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(ts.root, "n.ipynb"), future, future); err != nil {
		t.Fatal(err)
	}
	a.waitFor("the change on disk", func() bool { return a.doc.GetArray("cells").Len() == 3 })
	if got := roomSource(r); got != "x typed" {
		t.Errorf("first cell's source after the merge = %q, want %q", got, "x typed")
	}
}

// TestRemovedOnDiskWrittenAgain removes the file behind the room's back:
// the next save writes it again with the edits, and nothing is doubled.
func TestRemovedOnDiskWrittenAgain(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.SaveDelay = 200 * time.Millisecond })
	ts.writeFile(t, "a.txt", "one\n")
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)
	if err := os.Remove(filepath.Join(ts.root, "a.txt")); err != nil {
		t.Fatal(err)
	}
	a.edit(insert(4, "two\n"))
	waitUntil(t, "the file written again", func() bool { return fileExists(ts, "a.txt") })
	if got := ts.readFile(t, "a.txt"); got != "one\ntwo\n" {
		t.Errorf("file = %q, want the edit once", got)
	}
}

// TestFileWithDocContentAdopted writes the doc's unsaved content to the
// file, as a client saving through the contents API does: the room takes
// the file as saved and applies nothing twice.
func TestFileWithDocContentAdopted(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.SaveDelay = time.Hour })
	ts.writeFile(t, "a.txt", "one\n")
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)
	a.edit(insert(4, "two\n"))
	r := ts.room(t, room)
	waitDirty(t, r, "the edit in the room")
	ts.writeFile(t, "a.txt", "one\ntwo\n")
	future := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(ts.root, "a.txt"), future, future); err != nil {
		t.Fatal(err)
	}
	a.waitFor("the file's hash", func() bool { return a.stateLocked(stateHash) == sha256Hex([]byte("one\ntwo\n")) })
	if got := a.text(); got != "one\ntwo\n" {
		t.Errorf("doc = %q, want the edit once", got)
	}
}

// TestRestartAfterUnrecordedSave restarts a room whose last save wrote the
// file while its database still names the file before it, as a server
// killed between the file's rename and the commit of its hash leaves
// them. The restarted room must hold each edit once.
func TestRestartAfterUnrecordedSave(t *testing.T) {
	tests := []struct {
		name string
		// recorded sets the record of the save under way, as the save
		// commits it before it writes the file.
		recorded bool
		// after is typed after the save, and reaches the history.
		after string
	}{
		{"save under way recorded", true, ""},
		{"no record of the save", false, ""},
		{"edit after the save", true, "more\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, dataDir := t.TempDir(), t.TempDir()
			first := newTestService(t, root, dataDir, func(o *Options) { o.SaveDelay = -1 })
			first.writeFile(t, "a.txt", "one\n")
			room, session := first.openSession(t, "a.txt")
			a := first.join(t, room, session)
			r := first.room(t, room)
			first.svc.store.flush()
			ctx := context.Background()
			oldHash, oldBase, err := first.svc.store.fileState(ctx, room)
			if err != nil {
				t.Fatal(err)
			}

			var underWay string
			first.files.mu.Lock()
			first.files.onWrite = func(string, Content) {
				underWay, _, _ = first.svc.store.savingState(ctx, room)
			}
			first.files.mu.Unlock()
			a.edit(insert(4, "EDIT0\n"))
			waitDirty(t, r, "the edit in the room")
			if status := r.save(); status != saveSuccess {
				t.Fatalf("save: %s", status)
			}
			want := "one\nEDIT0\n"
			if got := first.readFile(t, "a.txt"); got != want {
				t.Fatalf("file %q after the save, want %q", got, want)
			}
			if underWay != sha256Hex([]byte(want)) {
				t.Errorf("save under way %q when the file was written, want the new file's hash",
					underWay)
			}
			if tt.after != "" {
				a.edit(insert(len(want), tt.after))
				waitDirty(t, r, "the edit after the save")
			}
			first.svc.store.flush()
			newHash, newBase, err := first.svc.store.fileState(ctx, room)
			if err != nil {
				t.Fatal(err)
			}
			first.kill(t)

			db, err := sql.Open("sqlite3", filepath.Join(dataDir, dbFileName))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			stmts := []struct {
				query string
				args  []any
			}{
				{`UPDATE room_files SET hash = ? WHERE room = ?`, []any{oldHash, room}},
				{`UPDATE room_bases SET base = ? WHERE room = ?`, []any{[]byte(oldBase), room}},
			}
			if tt.recorded {
				stmts = append(stmts, struct {
					query string
					args  []any
				}{`INSERT INTO room_saves (room, hash, base) VALUES (?, ?, ?)`,
					[]any{room, newHash, []byte(newBase)}})
			}
			for _, st := range stmts {
				if _, err := db.Exec(st.query, st.args...); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()

			second := newTestService(t, root, dataDir, func(o *Options) { o.SaveDelay = -1 })
			c := second.join(t, room, session)
			if got := c.text(); got != want+tt.after {
				t.Errorf("text after the restart %q, want %q", got, want+tt.after)
			}
			if got := second.readFile(t, "a.txt"); got != want {
				t.Errorf("file %q after the restart, want %q", got, want)
			}
		})
	}
}

// TestTwoViewsOfOneFileSaveBoth edits a notebook in its notebook room and
// in its text room, as JupyterLab's notebook view and "Open With > Editor"
// do, and saves both rooms at once, again and again. Each room checks the
// file and writes it, so without a lock across the rooms, one save could
// overwrite the other's, which then took the file as changed on disk and
// dropped its edit.
func TestTwoViewsOfOneFileSaveBoth(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	// Written by the contents API, the file is as the notebook room writes
	// it, so a save changes only what was edited. A text merge of a file
	// reformatted meanwhile is another matter, which this test leaves out.
	status, body := ts.request(t, "PUT", "/api/contents/n.ipynb", map[string]any{
		"type": "notebook", "format": "json", "content": map[string]any{
			"cells": []any{
				map[string]any{"id": "a", "cell_type": "markdown", "metadata": map[string]any{}, "source": "first"},
				map[string]any{"id": "b", "cell_type": "markdown", "metadata": map[string]any{}, "source": "second"},
			},
			"metadata": map[string]any{}, "nbformat": 4, "nbformat_minor": 5,
		}})
	if status != http.StatusCreated && status != http.StatusOK {
		t.Fatalf("PUT n.ipynb: %d %s", status, body)
	}
	textRoom, session := ts.openSession(t, "n.ipynb")
	notebook := ts.join(t, "json:notebook:"+strings.TrimPrefix(textRoom, "text:file:"), session)
	text := ts.join(t, textRoom, session)

	notebookText := func() string {
		notebook.mu.Lock()
		defer notebook.mu.Unlock()
		b, _ := json.Marshal(notebook.doc.GetArray("cells").ToJSON())
		return string(b)
	}
	textText := func() string {
		text.mu.Lock()
		defer text.mu.Unlock()
		return text.doc.GetText("source").String()
	}

	for i := range 20 {
		nbTag, textTag := fmt.Sprintf("nb%d ", i), fmt.Sprintf("tx%d ", i)
		notebook.edit(func(doc *yjs.Doc) {
			src, _ := firstCell(doc).Get("source")
			_ = src.(*yjs.Text).Insert(0, nbTag, nil)
		})
		text.edit(func(doc *yjs.Doc) {
			src := doc.GetText("source")
			_ = src.Insert(strings.Index(src.String(), "second"), textTag, nil)
		})
		notebook.send(saveFrame(uint64(i + 1)))
		text.send(saveFrame(uint64(i + 1)))
		waitUntil(t, fmt.Sprintf("edits %q and %q in the file and both rooms", nbTag, textTag), func() bool {
			file := ts.readFile(t, "n.ipynb")
			for _, s := range []string{file, notebookText(), textText()} {
				if !strings.Contains(s, nbTag) || !strings.Contains(s, textTag) {
					return false
				}
			}
			return true
		})
	}
}

// TestSessionEvents checks the session events of a room: its load, a save,
// a change on disk, a failed save, reported once however often the save
// fails again with the same error, and a save to a read-only file.
func TestSessionEvents(t *testing.T) {
	var mu sync.Mutex
	var events []map[string]any
	ts := newTestService(t, "", "", func(o *Options) {
		o.Emit = func(schemaID string, data map[string]any) {
			if schemaID != sessionEventSchema {
				t.Errorf("event schema %q, want %q", schemaID, sessionEventSchema)
			}
			mu.Lock()
			events = append(events, data)
			mu.Unlock()
		}
	})
	ts.writeFile(t, "a.txt", "one")
	room, session := ts.openSession(t, "a.txt")
	c := ts.join(t, room, session)
	count := func(level, action, msg string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, e := range events {
			if e["level"] == level && e["room"] == room && e["path"] == "a.txt" &&
				(action == "" && e["action"] == nil || e["action"] == action) &&
				strings.Contains(e["msg"].(string), msg) {
				n++
			}
		}
		return n
	}
	waitFor := func(what, level, action, msg string) {
		t.Helper()
		waitUntil(t, what, func() bool { return count(level, action, msg) > 0 })
	}
	waitFor("the load event", "INFO", "load", "Content loaded from disk.")
	waitFor("the initialize event", "INFO", "initialize", "Room initialized")

	c.edit(insert(0, "x"))
	waitFor("the save event", "INFO", "save", "Content saved.")

	ts.writeFile(t, "a.txt", "two")
	future := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(ts.root, "a.txt"), future, future); err != nil {
		t.Fatal(err)
	}
	waitFor("the overwrite event", "INFO", "overwrite", "changed on disk")
	c.waitFor("the file's text", func() bool { return c.doc.GetText("source").String() == "two" })

	ts.files.failWrites(errors.New("disk full"))
	for i := range 3 {
		writes := ts.files.writeCount()
		c.edit(insert(0, "y"))
		waitUntil(t, "a failed save", func() bool { return ts.files.writeCount() > writes })
		if i == 0 {
			waitFor("the error event", "ERROR", "save", "Error saving file: a.txt\ndisk full")
		}
	}
	if n := count("ERROR", "save", "disk full"); n != 1 {
		t.Errorf("3 saves failing with one error sent %d error events, want 1", n)
	}
	ts.files.failWrites(nil)
	waitUntil(t, "the save after the error", func() bool { return ts.readFile(t, "a.txt") == "yyytwo" })
	ts.files.failWrites(errors.New("disk full"))
	c.edit(insert(0, "z"))
	waitUntil(t, "a second error event", func() bool { return count("ERROR", "save", "disk full") == 2 })
	ts.files.failWrites(nil)
	waitUntil(t, "the save of z", func() bool { return ts.readFile(t, "a.txt") == "zyyytwo" })

	saves := count("INFO", "save", "Content saved.")
	ts.files.setReadOnly(true)
	c.edit(insert(0, "r"))
	waitFor("the read-only event", "ERROR", "save", "Error saving file: a.txt\nthe file is read-only")
	ts.files.setReadOnly(false)
	waitUntil(t, "the save once the file is writable", func() bool {
		return ts.readFile(t, "a.txt") == "rzyyytwo"
	})
	waitUntil(t, "the save event", func() bool { return count("INFO", "save", "Content saved.") > saves })
}

// TestReadOnlyFileKeepsEdits checks that a room whose file is read-only
// closes when its last client leaves, that the edits the file lacks are
// saved once the file can be written, with no client in the room, and that
// they are in the room when it opens again.
func TestReadOnlyFileKeepsEdits(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.CleanupDelay = 50 * time.Millisecond })
	ts.writeFile(t, "a.txt", "file")
	room, session := ts.openSession(t, "a.txt")
	c := ts.join(t, room, session)
	ts.files.setReadOnly(true)
	c.edit(insert(0, "edit "))
	r := ts.room(t, room)
	waitUntil(t, "the skipped save", func() bool {
		r.saveMu.Lock()
		defer r.saveMu.Unlock()
		return r.readOnly
	})
	c.ws.CloseNow()
	ts.waitRoomClosed(t, room)
	if got := ts.readFile(t, "a.txt"); got != "file" {
		t.Errorf("read-only file %q, want it unchanged", got)
	}

	ts.files.setReadOnly(false)
	waitUntil(t, "the edit saved with no client in the room", func() bool {
		return ts.readFile(t, "a.txt") == "edit file"
	})
	if got := ts.join(t, room, session).text(); got != "edit file" {
		t.Errorf("text in the reopened room %q, want the edit kept", got)
	}
}

// TestUnsavedEditsSavedAfterRestart stops a server while a room holds
// edits that its file lacks and autosave owes it, in three ways. The
// restarted server opens the room with no client, saves the edits, closes
// the room and clears its mark.
func TestUnsavedEditsSavedAfterRestart(t *testing.T) {
	for _, tt := range []struct {
		name string
		// opts are the stopped server's options, and stop stops it.
		opts func(*Options)
		stop func(*testing.T, *testService)
	}{
		{"stopped while read-only", func(o *Options) { o.SaveDelay = time.Hour },
			func(t *testing.T, ts *testService) {
				ts.files.setReadOnly(true)
				if err := ts.svc.Close(t.Context()); err != nil {
					t.Fatal(err)
				}
			}},
		{"killed", func(o *Options) { o.SaveDelay = time.Hour },
			func(t *testing.T, ts *testService) { ts.kill(t) }},
		{"killed within the commit window", func(o *Options) {
			o.SaveDelay = time.Hour
			o.CommitWindow = time.Hour
		}, func(t *testing.T, ts *testService) {
			// The mark is committed at once. The edit is not, and only
			// the journal holds it.
			waitUntil(t, "the mark", func() bool {
				rooms, err := ts.svc.store.unsavedRooms(t.Context())
				return err == nil && len(rooms) == 1
			})
			st := ts.svc.store
			st.w.mu.Lock()
			st.w.abandon = true
			st.w.mu.Unlock()
			ts.killNow(t)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root, dataDir := t.TempDir(), t.TempDir()
			first := newTestService(t, root, dataDir, tt.opts)
			first.writeFile(t, "a.txt", "file")
			room, session := first.openSession(t, "a.txt")
			first.svc.store.flush()
			c := first.join(t, room, session)
			c.edit(insert(0, "edit "))
			r := first.room(t, room)
			waitDirty(t, r, "the edit at the server")
			tt.stop(t, first)
			if got := first.readFile(t, "a.txt"); got != "file" {
				t.Fatalf("file %q before the restart, want the edit unsaved", got)
			}

			second := newTestService(t, root, dataDir, func(o *Options) {
				o.CleanupDelay = 50 * time.Millisecond
			})
			waitUntil(t, "the edit saved with no client", func() bool {
				return second.readFile(t, "a.txt") == "edit file"
			})
			second.waitRoomClosed(t, room)
			if rooms := second.unsavedRooms(t); len(rooms) > 0 {
				t.Errorf("rooms marked unsaved after the save: %q, want none", rooms)
			}
		})
	}
}

// TestReadOnlyFileMergesDiskChange checks that edits a read-only file could
// not take are merged with a change made on disk once it is writable, as
// other unsaved edits are, and that a client's save request gets "failed"
// while the file is read-only.
func TestReadOnlyFileMergesDiskChange(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.SaveDelay = time.Hour })
	ts.writeFile(t, "a.txt", "one\ntwo\n")
	room, session := ts.openSession(t, "a.txt")
	c := ts.join(t, room, session)
	ts.files.setReadOnly(true)
	c.edit(insert(0, "edit\n"))
	c.send(saveFrame(7))
	c.waitFor("the save reply", func() bool { return len(c.raw) == 1 })
	if !strings.Contains(c.raw[0], `"status":"failed"`) {
		t.Errorf("save reply %s for a read-only file, want status failed", c.raw[0])
	}

	ts.files.setReadOnly(false)
	ts.writeFile(t, "a.txt", "one\ntwo\nthree\n")
	future := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(ts.root, "a.txt"), future, future); err != nil {
		t.Fatal(err)
	}
	c.waitFor("the change on disk", func() bool {
		return strings.Contains(c.doc.GetText("source").String(), "three")
	})
	if got, want := c.text(), "edit\none\ntwo\nthree\n"; got != want {
		t.Errorf("text %q after the change on disk, want %q: the edit made while the file "+
			"was read-only merged with it", got, want)
	}
}
