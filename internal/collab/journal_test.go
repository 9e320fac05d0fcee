package collab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func newJournal(t *testing.T) (*journal, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), journalFileName)
	j, records, err := openJournal(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.close() })
	if len(records) != 0 {
		t.Fatalf("new journal holds %d records", len(records))
	}
	return j, path
}

func readJournalFile(t *testing.T, path string) ([]journalRecord, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return readJournal(bufio.NewReader(bytes.NewReader(data)))
}

// journalUpdates returns the updates of the journal at path, as strings.
func journalUpdates(t *testing.T, path string) []string {
	t.Helper()
	records, err := readJournalFile(t, path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range records {
		got = append(got, string(r.update))
	}
	return got
}

func TestJournalRoundTrip(t *testing.T) {
	j, path := newJournal(t)
	want := []journalRecord{
		{"json:notebook:a", []byte{1, 2, 3}},
		{"text:file:b", bytes.Repeat([]byte{7}, 70000)},
		{"json:notebook:a", nil},
	}
	for _, r := range want {
		if !j.append(r.room, r.update) {
			t.Fatal("append failed")
		}
	}
	got, err := readJournalFile(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(journalRecord{}),
		cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })); diff != "" {
		t.Errorf("records read back (-want +got):\n%s", diff)
	}
}

func TestJournalEmptiedWhenAllCommitted(t *testing.T) {
	j, path := newJournal(t)
	j.append("r", []byte("one"))
	j.append("r", []byte("two"))
	j.committed(1)
	if info, _ := os.Stat(path); info.Size() == 0 {
		t.Fatal("journal emptied with a record still uncommitted")
	}
	j.committed(1)
	if info, _ := os.Stat(path); info.Size() != 0 {
		t.Fatalf("journal of %d bytes after every record was committed, want empty", info.Size())
	}
	// Appends after the emptying start the file again.
	j.append("r", []byte("three"))
	got, err := readJournalFile(t, path)
	if err != nil || len(got) != 1 || string(got[0].update) != "three" {
		t.Errorf("records after the emptying %v, %v, want the one appended since", got, err)
	}
}

func TestJournalDamagedEnd(t *testing.T) {
	j, path := newJournal(t)
	j.append("r", []byte("kept"))
	j.append("r", []byte("cut"))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	first := 1 + len("r") + 1 + len("kept") + 4
	tests := []struct {
		name string
		data []byte
	}{
		{"cut short", data[:len(data)-2]},
		{"checksum", append(bytes.Clone(data[:len(data)-1]), data[len(data)-1]^0xff)},
		{"length past the bound", append(bytes.Clone(data[:first]), 0xff, 0xff, 0xff, 0xff, 0x7f)},
		// Six zero bytes have the checksum of empty fields.
		{"zeros", append(bytes.Clone(data[:first]), make([]byte, 60)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readJournal(bufio.NewReader(bytes.NewReader(tt.data)))
			if err == nil {
				t.Error("damaged record read without an error")
			}
			if len(got) != 1 || string(got[0].update) != "kept" {
				t.Errorf("records %v, want the first only", got)
			}
		})
	}
}

// TestJournalNotAFile links the journal to /dev/full, which reads as zero
// bytes without end: the start must not read it.
func TestJournalNotAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), journalFileName)
	if err := os.Symlink("/dev/full", path); err != nil {
		t.Fatal(err)
	}
	if _, _, err := openJournal(path, slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("journal linked to /dev/full: %v, want an error", err)
	}
}

// TestJournalRemovedReplaced removes the journal while it is open: once
// its records are committed, a new file takes its place, so later records
// reach a file that the next start reads.
func TestJournalRemovedReplaced(t *testing.T) {
	j, path := newJournal(t)
	j.append("r", []byte("first"))
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	j.committed(1)
	j.append("r", []byte("second"))
	got, err := readJournalFile(t, path)
	if err != nil || len(got) != 1 || string(got[0].update) != "second" {
		t.Errorf("records %v, %v, want the one appended after the removal", got, err)
	}
}

// TestJournalResumesAfterFailure stops the journal, as a failed write on
// a full disk does, while updates wait for the writer. When it starts again
// it takes the updates it left out that are not committed yet, in order,
// then the new ones, and it is emptied once they are committed.
func TestJournalResumesAfterFailure(t *testing.T) {
	dataDir := t.TempDir()
	st, err := openStore(dataDir, t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	st.setCommitWindow(time.Hour)
	j := st.journal
	j.mu.Lock()
	j.fail("writing the update journal failed", errors.New("no space left on device"))
	j.lastResume = time.Now() // the next append does not try to start it
	j.mu.Unlock()
	path := filepath.Join(dataDir, journalFileName)
	readBack := func() []string {
		t.Helper()
		return journalUpdates(t, path)
	}

	st.appendUpdate("r", []byte("left out"))
	if got := readBack(); len(got) != 0 {
		t.Errorf("stopped journal holds %q", got)
	}
	j.mu.Lock()
	j.lastResume = time.Time{}
	j.mu.Unlock()
	st.appendUpdate("r", []byte("after"))
	if got := readBack(); !slices.Equal(got, []string{"left out", "after"}) {
		t.Errorf("journal started again with %q, want [left out after]", got)
	}
	if err := st.flush(); err != nil {
		t.Fatal(err)
	}
	if got := readBack(); len(got) != 0 {
		t.Errorf("journal holds %q after every update was committed, want nothing", got)
	}
}

// TestJournalShrinks commits a batch while more updates wait, as under
// steady edits in many rooms, so that the journal never empties. Past its
// limit, it is rewritten with only the updates not committed.
func TestJournalShrinks(t *testing.T) {
	for _, fail := range []bool{false, true} {
		dataDir := t.TempDir()
		st, err := openStore(dataDir, t.TempDir(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		st.setCommitWindow(0)
		path := filepath.Join(dataDir, journalFileName)
		if fail {
			// A folder in the way of the new file makes the shrink fail.
			if err := os.Mkdir(path+".new", 0o700); err != nil {
				t.Fatal(err)
			}
		}
		st.journal.mu.Lock()
		st.journal.shrinkLimit = 100
		st.journal.mu.Unlock()

		// The writer stops before its first and second batches.
		reached := make(chan int)
		release := make(chan struct{})
		batches := 0
		hook := func(e string) {
			if e == "batch" && batches < 2 {
				batches++
				reached <- batches
				<-release
			}
		}
		st.w.hookForTest.Store(&hook)
		long := strings.Repeat("x", 100)
		st.appendUpdate("r", []byte("first "+long))
		<-reached
		st.appendUpdate("r", []byte("second"))
		st.appendUpdate("r", []byte("third"))
		release <- struct{}{}
		<-reached

		want := []string{"second", "third"}
		if fail {
			want = []string{"first " + long, "second", "third"}
		}
		if got := journalUpdates(t, path); !slices.Equal(got, want) {
			t.Errorf("failing %v: journal after the first commit holds %q, want %q", fail, got, want)
		}
		if _, err := os.Stat(path + ".new"); !fail && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("new journal file left beside the journal: %v", err)
		}
		st.appendUpdate("r", []byte("fourth"))
		if got := journalUpdates(t, path); !slices.Equal(got, append(want, "fourth")) {
			t.Errorf("failing %v: journal after another append holds %q, want %q", fail, got,
				append(want, "fourth"))
		}
		release <- struct{}{}
		if err := st.flush(); err != nil {
			t.Fatal(err)
		}
		if got := journalUpdates(t, path); len(got) != 0 {
			t.Errorf("failing %v: journal holds %q after every update was committed", fail, got)
		}
		rows, err := readUpdates(context.Background(), st.db, "r")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 {
			t.Errorf("failing %v: %d stored updates, want 4", fail, len(rows))
		}
		st.close()
	}
}

func TestJournalHeldByOneServer(t *testing.T) {
	_, path := newJournal(t)
	if _, _, err := openJournal(path, slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "another server") {
		t.Errorf("second open of a journal in use: %v, want an error naming another server", err)
	}
}

// TestKillWithinWindowKeepsEdits kills the server while its updates wait
// for a commit window of an hour, with no client left to send them back:
// the restart finds them in the journal.
func TestKillWithinWindowKeepsEdits(t *testing.T) {
	root, dataDir := t.TempDir(), t.TempDir()
	first := newTestService(t, root, dataDir, hourWindow)
	first.writeFile(t, "a.txt", "base\n")
	room, session := first.openSession(t, "a.txt")
	a := first.join(t, room, session)
	b := first.join(t, room, session)
	first.svc.store.flush()
	typeText(a, b, "typed", "base\ntyped")
	// The writer commits nothing more: the clients' leaving would end the
	// window.
	st := first.svc.store
	st.w.mu.Lock()
	st.w.abandon = true
	st.w.mu.Unlock()
	first.killNow(t)
	if got := storedTextAt(t, dataDir, room); got != "base\n" {
		t.Fatalf("committed text %q before the restart, want the edits uncommitted", got)
	}

	second := newTestService(t, root, dataDir, hourWindow)
	if got, want := second.join(t, room, session).text(), "base\ntyped"; got != want {
		t.Errorf("text after the restart %q, want %q", got, want)
	}
	if info, err := os.Stat(filepath.Join(dataDir, journalFileName)); err != nil || info.Size() != 0 {
		t.Errorf("journal after the restart: %v, %v, want it empty", info, err)
	}
}

func FuzzReadJournal(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 'r', 1, 'x', 0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		records, _ := readJournal(bufio.NewReader(bytes.NewReader(data)))
		total := 0
		for _, r := range records {
			total += len(r.room) + len(r.update)
			if r.room == "" {
				t.Fatalf("record %q without a room name", r)
			}
		}
		if total > len(data) {
			t.Fatalf("%d bytes of records from %d bytes of input", total, len(data))
		}
	})
}

// TestJournalDamagedTailEmptied opens a store whose journal ends with a
// damaged record: the store empties it, so the records appended later are
// read back at the next start.
func TestJournalDamagedTailEmptied(t *testing.T) {
	dataDir := t.TempDir()
	path := filepath.Join(dataDir, journalFileName)
	if err := os.WriteFile(path, []byte{5, 'r', 'o', 'o', 'm', '1', 3, 'a', 'b', 'c', 0, 0, 0, 0}, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := openStore(dataDir, t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(path); err != nil || info.Size() != 0 {
		t.Fatalf("journal after the start: %v, %v, want it empty", info, err)
	}
	st.journal.append("r", []byte("later"))
	got, err := readJournalFile(t, path)
	if err != nil || len(got) != 1 || string(got[0].update) != "later" {
		t.Errorf("records %v, %v, want the one appended after the start", got, err)
	}
	if err := st.close(); err != nil {
		t.Error(err)
	}
}
