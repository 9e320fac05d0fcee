package collab

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jupygo-collab-spills-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	spillFolders = func() []string { return []string{dir} }
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// useSpillFolders makes the stores that the test opens spill to dirs.
func useSpillFolders(t *testing.T, dirs ...string) {
	before := spillFolders
	spillFolders = func() []string { return dirs }
	t.Cleanup(func() { spillFolders = before })
}

// TestSpillKeepsLostEdits closes a store while its database is full and
// its journal stopped, as a stop while the data disk is full does. The
// edits go to a spill file in the first folder that takes one, here past
// a link that is refused, and the next start adds them.
func TestSpillKeepsLostEdits(t *testing.T) {
	dataDir := t.TempDir()
	linked, spillDir := t.TempDir(), t.TempDir()
	useSpillFolders(t, linked, spillDir)
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(linked, spillName(abs))); err != nil {
		t.Fatal(err)
	}

	st, err := openStore(dataDir, t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	st.appendUpdate("r", []byte("committed"))
	if err := st.flush(); err != nil {
		t.Fatal(err)
	}
	fillDatabase(t, st)
	st.journal.mu.Lock()
	st.journal.fail("writing the update journal failed", fmt.Errorf("no space left on device"))
	st.journal.lastResume = time.Now() // no append tries to start it again
	st.journal.mu.Unlock()
	// Updates larger than a page need new pages, which the full database
	// refuses.
	var lost []string
	for i := range 3 {
		lost = append(lost, fmt.Sprintf("lost %d %s", i, strings.Repeat("x", 8000)))
		st.appendUpdate("r", []byte(lost[i]))
	}
	st.close()

	if data, err := os.ReadFile(target); err != nil || len(data) != 0 {
		t.Errorf("linked file holds %d bytes (%v), want it untouched", len(data), err)
	}
	path := filepath.Join(spillDir, spillName(abs))
	if got := journalUpdates(t, path); !slices.Equal(got, lost) {
		t.Errorf("spill file holds %d updates, want the %d lost", len(got), len(lost))
	}

	again, err := openStore(dataDir, t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer again.close()
	rows, err := readUpdates(context.Background(), again.db, "r")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, string(r))
	}
	if want := append([]string{"committed"}, lost...); !slices.Equal(got, want) {
		t.Errorf("history after the restart has %d updates, want %d", len(got), len(want))
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("spill file still there after the start added it: %v", err)
	}
}

// TestSpillOfAnotherUserIgnored places a spill file that another user
// owns, and one that others may write, under the store's name: the start
// adds neither, and leaves them.
func TestSpillOfAnotherUserIgnored(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a file to another user needs root")
	}
	dataDir, spillDir := t.TempDir(), t.TempDir()
	useSpillFolders(t, spillDir)
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(spillDir, spillName(abs))
	for _, tc := range []struct {
		name string
		set  func() error
	}{
		{"other owner", func() error { return os.Chown(path, 65534, 65534) }},
		{"writable by all", func() error { return os.Chmod(path, 0o666) }},
	} {
		if err := os.WriteFile(path, appendRecord(nil, "r", []byte("planted")), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := tc.set(); err != nil {
			t.Fatal(err)
		}
		st, err := openStore(dataDir, t.TempDir(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := readUpdates(context.Background(), st.db, "r")
		st.close()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 0 {
			t.Errorf("%s: start added %d updates of the spill file, want none", tc.name, len(rows))
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s: spill file removed: %v", tc.name, err)
		}
		os.Remove(path)
	}
}
