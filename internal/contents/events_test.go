package contents

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOnChangeReportsChanges(t *testing.T) {
	ts := newTestServer(t, Options{})
	if err := os.WriteFile(filepath.Join(ts.root, "a.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []Change
	ts.m.OnChange(func(c Change) {
		mu.Lock()
		got = append(got, c)
		mu.Unlock()
	})

	if _, err := ts.m.Rename("a.txt", "b.txt"); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.m.Copy("b.txt", "c.txt"); err != nil {
		t.Fatal(err)
	}
	if err := ts.m.Delete("/b.txt"); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.m.Rename("missing.txt", "d.txt"); err == nil {
		t.Fatal("renaming a missing file succeeded")
	}

	want := []Change{
		{Op: Renamed, Path: "a.txt", NewPath: "b.txt"},
		{Op: Copied, Path: "b.txt", NewPath: "c.txt"},
		{Op: Deleted, Path: "b.txt"},
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}
