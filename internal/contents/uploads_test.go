package contents

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// uploadFiles returns the names of the upload files in dir.
func uploadFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), uploadPrefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// saveChunkOf sends one piece of an upload of text to m.
func saveChunkOf(t *testing.T, m *Manager, p string, chunk int) error {
	t.Helper()
	_, err := m.Save(p, SaveRequest{Type: "file", Format: "text", Content: "x", Chunk: chunk})
	return err
}

func TestUploadIdleRemoved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		root := t.TempDir()
		m, err := New(root, Options{UploadIdleTimeout: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		for _, p := range []string{"abandoned.bin", "active.bin"} {
			if err := saveChunkOf(t, m, p, 1); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(50 * time.Minute)
		if err := saveChunkOf(t, m, "active.bin", 2); err != nil {
			t.Fatal(err)
		}
		time.Sleep(15 * time.Minute)
		synctest.Wait()

		want := []string{uploadName("active.bin")}
		if diff := cmp.Diff(want, uploadFiles(t, root)); diff != "" {
			t.Errorf("upload files after 65 minutes (-want +got):\n%s", diff)
		}
		if err := saveChunkOf(t, m, "abandoned.bin", 2); err == nil {
			t.Error("a piece of a removed upload was accepted")
		}
		if err := saveChunkOf(t, m, "active.bin", -1); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		if got := uploadFiles(t, root); len(got) != 0 {
			t.Errorf("upload files left: %v", got)
		}
		if data, err := os.ReadFile(filepath.Join(root, "active.bin")); err != nil || string(data) != "xxx" {
			t.Errorf("finished upload holds %q, %v; want xxx", data, err)
		}
		if _, err := os.Stat(filepath.Join(root, "abandoned.bin")); !os.IsNotExist(err) {
			t.Errorf("abandoned upload created its target: %v", err)
		}
	})
}

func TestUploadsRemovedOnClose(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "sub", "keep.txt"), "K")
	m, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a.bin", "sub/b.bin"} {
		if err := saveChunkOf(t, m, p, 1); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(uploadFiles(t, root)) + len(uploadFiles(t, filepath.Join(root, "sub"))); got != 2 {
		t.Fatalf("%d upload files during the uploads, want 2", got)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{".": "dir", "sub": "dir", "sub/keep.txt": sha256Hex("K")}
	if diff := cmp.Diff(want, treeDigest(t, root)); diff != "" {
		t.Errorf("files after Close (-want +got):\n%s", diff)
	}
}

func TestStaleUploadFilesRemoved(t *testing.T) {
	s := newTestServer(t, Options{})
	stale, recent := uploadPrefix+"0123456789abcdef", uploadPrefix+"fedcba9876543210"
	s.writeFile(stale, "old")
	s.writeFile(recent, "new")
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(filepath.Join(s.root, stale), old, old); err != nil {
		t.Fatal(err)
	}

	s.call("PUT", "/api/contents/up.bin",
		map[string]any{"type": "file", "format": "text", "content": "x", "chunk": 1}, http.StatusCreated)
	want := []string{uploadName("up.bin"), recent}
	if want[0] > want[1] {
		want[0], want[1] = want[1], want[0]
	}
	if diff := cmp.Diff(want, uploadFiles(t, s.root)); diff != "" {
		t.Errorf("upload files after chunk 1 (-want +got):\n%s", diff)
	}
}

func TestChunkReply(t *testing.T) {
	s := newTestServer(t, Options{})
	put := func(chunk, status int) map[string]any {
		t.Helper()
		return s.call("PUT", "/api/contents/d/new.txt",
			map[string]any{"type": "file", "format": "text", "content": "abc", "chunk": chunk}, status)
	}
	s.writeFile("d/other", "")

	for i, tc := range []struct{ chunk, status int }{{1, http.StatusCreated}, {2, http.StatusOK}} {
		model := put(tc.chunk, tc.status)
		want := map[string]any{
			"name": "new.txt", "path": "d/new.txt", "type": "file", "writable": true,
			"size": float64(3 * (i + 1)), "mimetype": "text/plain",
			"content": nil, "format": nil, "hash": nil, "hash_algorithm": nil,
		}
		delete(model, "created")
		delete(model, "last_modified")
		if diff := cmp.Diff(want, model); diff != "" {
			t.Errorf("reply to chunk %d (-want +got):\n%s", tc.chunk, diff)
		}
	}
	if got := put(-1, http.StatusOK)["size"]; got != 9.0 {
		t.Errorf("size after the last chunk %v, want 9", got)
	}
}
