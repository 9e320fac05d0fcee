package contents

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRenameOntoExisting(t *testing.T) {
	full := "{\n \"cells\": [\n  {\n   \"cell_type\": \"markdown\",\n   \"metadata\": {},\n" +
		"   \"source\": [\n    \"1\"\n   ]\n  }\n ],\n \"metadata\": {},\n \"nbformat\": 4,\n \"nbformat_minor\": 5\n}\n"
	tests := []struct {
		name, from, to string
	}{
		{"notebook onto notebook", "Untitled.ipynb", "full.ipynb"},
		{"file onto file", "a.txt", "b.txt"},
		{"folder onto empty folder", "d1", "empty"},
		{"folder onto folder", "d1", "d2"},
		{"file onto folder", "a.txt", "d2"},
		{"folder onto file", "d1", "b.txt"},
		{"into another folder onto a file", "a.txt", "d2/x.txt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, Options{})
			s.writeFile("full.ipynb", full)
			s.writeFile("Untitled.ipynb", "{}")
			s.writeFile("a.txt", "A")
			s.writeFile("b.txt", "B")
			s.writeFile("d1/one.txt", "1")
			s.writeFile("d2/x.txt", "2")
			if err := os.Mkdir(filepath.Join(s.root, "empty"), 0o755); err != nil {
				t.Fatal(err)
			}
			before := treeDigest(t, s.root)
			status, msg := s.status("PATCH", "/api/contents/"+tc.from, map[string]any{"path": tc.to})
			if status != http.StatusConflict {
				t.Errorf("status %d (%s), want 409", status, msg)
			}
			if diff := cmp.Diff(before, treeDigest(t, s.root)); diff != "" {
				t.Errorf("files changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestRenameCaseOnly(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("a.txt", "A")
	model := s.call("PATCH", "/api/contents/a.txt", map[string]any{"path": "A.txt"}, http.StatusOK)
	if model["path"] != "A.txt" {
		t.Errorf("renamed to %v", model["path"])
	}
	if s.readFile("A.txt") != "A" || s.readFile("a.txt") != "<missing>" {
		t.Error("case-only rename did not move the file")
	}
	s.call("PATCH", "/api/contents/A.txt", map[string]any{"path": "A.txt"}, http.StatusOK)
}

// TestRenameRace renames two files onto one name at the same time: one
// rename wins, the other gets 409, and both files survive.
func TestRenameRace(t *testing.T) {
	s := newTestServer(t, Options{})
	const iterations = 100
	for i := range iterations {
		dir := fmt.Sprintf("race%d", i)
		s.writeFile(dir+"/x", "X")
		s.writeFile(dir+"/y", "Y")
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for j, from := range []string{"x", "y"} {
			wg.Go(func() {
				statuses[j], _ = s.status("PATCH", "/api/contents/"+dir+"/"+from,
					map[string]any{"path": dir + "/z"})
			})
		}
		wg.Wait()

		ok, conflict := 0, 0
		for _, st := range statuses {
			switch st {
			case http.StatusOK:
				ok++
			case http.StatusConflict:
				conflict++
			}
		}
		if ok != 1 || conflict != 1 {
			t.Fatalf("iteration %d: statuses %v, want one 200 and one 409", i, statuses)
		}
		got := treeDigest(t, filepath.Join(s.root, dir))
		delete(got, ".")
		winner, loser := "x", "y"
		if statuses[1] == http.StatusOK {
			winner, loser = "y", "x"
		}
		want := map[string]string{"z": sha256Hex(map[string]string{"x": "X", "y": "Y"}[winner]),
			loser: sha256Hex(map[string]string{"x": "X", "y": "Y"}[loser])}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("iteration %d: files (-want +got):\n%s", i, diff)
		}
	}
}

func TestCopyNeverReplaces(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("a.txt", "A")
	const n = 6
	var wg sync.WaitGroup
	paths := make([]string, n)
	for i := range n {
		wg.Go(func() {
			model, err := s.m.Copy("a.txt", "")
			if err != nil {
				t.Errorf("Copy: %v", err)
				return
			}
			paths[i] = model.Path
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, p := range paths {
		if seen[p] {
			t.Errorf("two copies at %s", p)
		}
		seen[p] = true
	}
	if got := len(treeDigest(t, s.root)); got != n+2 {
		t.Errorf("%d entries after %d copies, want %d", got, n, n+2)
	}
}

// linkState returns the target of every link under root, for checking
// that a failed rename moved none.
func linkState(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.Type()&os.ModeSymlink == 0 {
			return err
		}
		target, err := os.Readlink(p)
		rel, _ := filepath.Rel(root, p)
		out[rel] = target
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRenameLinks(t *testing.T) {
	root, _ := symlinkLayout(t)
	for name, target := range map[string]string{"dot-a": "./a.txt", "sub/up-a": "../a.txt"} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	s := serveRoot(t, root, root, Options{})

	failures := []struct {
		name, from, to string
		status         int
	}{
		{"link out of the root", "link-file-out", "out-renamed", http.StatusNotFound},
		{"folder link out of the root", "link-out", "folder-renamed", http.StatusNotFound},
		{"relative link out of the root", "link-rel-out", "rel-renamed", http.StatusNotFound},
		{"dangling link", "broken", "broken-renamed", http.StatusNotFound},
		{"relative link into a subfolder", "link-file-in", "sub/link", http.StatusBadRequest},
		{"dot link into a subfolder", "dot-a", "sub/dot-a", http.StatusBadRequest},
		{"relative link out of its folder", "sub/up-a", "up-a", http.StatusBadRequest},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			before := linkState(t, root)
			status, msg := s.status("PATCH", "/api/contents/"+tc.from, map[string]any{"path": tc.to})
			if status != tc.status {
				t.Errorf("status %d (%s), want %d", status, msg, tc.status)
			}
			if diff := cmp.Diff(before, linkState(t, root)); diff != "" {
				t.Errorf("links changed by a failed rename (-before +after):\n%s", diff)
			}
		})
	}

	successes := []struct {
		name, from, to, content string
	}{
		{"relative link in its folder", "link-file-in", "link-file-in2", "A"},
		{"absolute link into a subfolder", "link-abs-file", "sub/abs", "AB"},
		{"relative link beside its target", "sub/up-a", "sub/up-b", "A"},
	}
	for _, tc := range successes {
		t.Run(tc.name, func(t *testing.T) {
			model := s.call("PATCH", "/api/contents/"+tc.from, map[string]any{"path": tc.to}, http.StatusOK)
			if model["path"] != tc.to {
				t.Errorf("model path %v, want %s", model["path"], tc.to)
			}
			if _, err := os.Lstat(filepath.Join(root, tc.from)); !os.IsNotExist(err) {
				t.Errorf("old name still present: %v", err)
			}
			got := s.call("GET", "/api/contents/"+tc.to, nil, http.StatusOK)["content"]
			if got != tc.content {
				t.Errorf("renamed link gives %v, want %s", got, tc.content)
			}
		})
	}
}
