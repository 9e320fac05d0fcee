package contents

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// bigNotebook returns a notebook of about size bytes, with label in its
// one output so that versions differ.
func bigNotebook(t *testing.T, size int, label string) map[string]any {
	t.Helper()
	nb := NewNotebook()
	line := strings.Repeat(label, 99) + "\n"
	nb["cells"] = []any{map[string]any{
		"cell_type": "code", "execution_count": json.Number("1"), "metadata": map[string]any{}, "source": "x",
		"outputs": []any{map[string]any{"output_type": "stream", "name": "stdout",
			"text": strings.Repeat(line, size/(len(line)+10))}},
	}}
	return nb
}

// smallFS mounts a 2 MB tmpfs for the test, or skips the test when the
// process may not mount.
func smallFS(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a small tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func TestDiskFull(t *testing.T) {
	mnt := smallFS(t)
	root := filepath.Join(mnt, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	old, err := WriteNotebook(bigNotebook(t, 1200<<10, "a"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "big.ipynb"), string(old))
	writeFile(t, filepath.Join(root, "small.txt"), "keep")
	s := serveRoot(t, root, root, Options{})
	before := treeDigest(t, root)

	tests := []struct {
		name, path string
		body       any
	}{
		{"notebook", "/api/contents/big.ipynb",
			map[string]any{"type": "notebook", "content": bigNotebook(t, 1500<<10, "b")}},
		{"file", "/api/contents/small.txt",
			map[string]any{"type": "file", "format": "text", "content": strings.Repeat("x", 1500<<10)}},
		{"upload", "/api/contents/new.bin",
			map[string]any{"type": "file", "format": "base64",
				"content": base64.StdEncoding.EncodeToString(make([]byte, 1500<<10))}},
		{"first chunk", "/api/contents/small.txt",
			map[string]any{"type": "file", "format": "text", "content": strings.Repeat("x", 1500<<10), "chunk": 1}},
		{"checkpoint", "/api/contents/big.ipynb/checkpoints", nil},
		{"copy", "/api/contents/", map[string]any{"copy_from": "big.ipynb"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := "PUT"
			if strings.HasSuffix(tc.path, "/") || strings.HasSuffix(tc.path, "checkpoints") {
				method = "POST"
			}
			status, msg := s.status(method, tc.path, tc.body)
			if status != http.StatusInsufficientStorage {
				t.Errorf("status %d, want 507", status)
			}
			if !strings.Contains(msg, "no space left on device") {
				t.Errorf("message %q does not name the cause", msg)
			}
			listing := s.call("GET", "/api/contents/", nil, http.StatusOK)
			if diff := cmp.Diff([]string{"big.ipynb", "small.txt"}, names(listing)); diff != "" {
				t.Errorf("listing (-want +got):\n%s", diff)
			}
		})
	}
	after := treeDigest(t, root)
	for p := range after {
		if strings.HasPrefix(filepath.Base(p), ".~") {
			t.Errorf("temporary file left: %s", p)
		}
	}
	delete(after, ".ipynb_checkpoints")
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("files changed (-before +after):\n%s", diff)
	}
}

// TestSaveNeverTruncated reads a file while it is saved over and over in
// versions of different sizes. Every read must return one whole version.
func TestSaveNeverTruncated(t *testing.T) {
	s := newTestServer(t, Options{})
	versions := []string{strings.Repeat("a", 10), strings.Repeat("b", 300<<10), strings.Repeat("c", 64<<10)}
	s.writeFile("f.txt", versions[0])
	valid := map[string]bool{}
	for _, v := range versions {
		valid[v] = true
	}

	const saves = 60
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for i := range saves {
			req := SaveRequest{Type: "file", Format: "text", Content: versions[i%len(versions)]}
			if _, err := s.m.Save("f.txt", req); err != nil {
				t.Errorf("Save: %v", err)
				return
			}
		}
	})
	reads := 0
	for {
		select {
		case <-done:
			wg.Wait()
			if reads == 0 {
				t.Error("no read happened")
			}
			return
		default:
		}
		data, err := os.ReadFile(filepath.Join(s.root, "f.txt"))
		if err != nil {
			t.Fatalf("read %d: %v", reads, err)
		}
		if !valid[string(data)] {
			t.Fatalf("read %d saw %d bytes that are no whole version", reads, len(data))
		}
		reads++
	}
}

func TestChunkedUpload(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("up.bin", "OLD")
	chunk := func(path string, n int, content string, want int) map[string]any {
		t.Helper()
		return s.call("PUT", "/api/contents/"+path, map[string]any{"type": "file", "format": "base64",
			"content": base64.StdEncoding.EncodeToString([]byte(content)), "chunk": n}, want)
	}
	chunk("up.bin", 1, "one-", http.StatusOK)
	chunk("up.bin", 2, "two-", http.StatusOK)
	if got := s.readFile("up.bin"); got != "OLD" {
		t.Errorf("before the last chunk the file holds %q", got)
	}
	if got := s.call("GET", "/api/contents/up.bin", nil, http.StatusOK)["content"]; got != "OLD" {
		t.Errorf("GET before the last chunk gives %v", got)
	}
	if diff := cmp.Diff([]string{"up.bin"}, names(s.call("GET", "/api/contents/", nil, http.StatusOK))); diff != "" {
		t.Errorf("listing during the upload (-want +got):\n%s", diff)
	}
	model := s.call("PUT", "/api/contents/up.bin?hash=1", map[string]any{"type": "file", "format": "base64",
		"content": base64.StdEncoding.EncodeToString([]byte("end")), "chunk": -1}, http.StatusOK)
	if got := s.readFile("up.bin"); got != "one-two-end" {
		t.Errorf("after the last chunk the file holds %q", got)
	}
	if model["hash"] != sha256Hex("one-two-end") || model["size"] != 11.0 {
		t.Errorf("last chunk model: hash %v, size %v", model["hash"], model["size"])
	}
	entries, err := os.ReadDir(s.root)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries after the upload, want 1", len(entries))
	}

	// A new file appears only with its last chunk, and chunk 1 restarts.
	chunk("new.bin", 1, "x", http.StatusCreated)
	chunk("new.bin", 1, "a", http.StatusCreated)
	if got := s.readFile("new.bin"); got != "<missing>" {
		t.Errorf("new file visible before its last chunk: %q", got)
	}
	// jupyter_server has created the file with chunk 1, so it answers the
	// later chunks with 200.
	chunk("new.bin", 2, "b", http.StatusOK)
	chunk("new.bin", -1, "c", http.StatusOK)
	if got := s.readFile("new.bin"); got != "abc" {
		t.Errorf("new file holds %q", got)
	}
}

func TestChunkedUploadErrors(t *testing.T) {
	s := newTestServer(t, Options{})
	tests := []struct {
		name string
		body map[string]any
	}{
		{"no first chunk", map[string]any{"type": "file", "format": "text", "content": "x", "chunk": 2}},
		{"last without first", map[string]any{"type": "file", "format": "text", "content": "x", "chunk": -1}},
		{"notebook", map[string]any{"type": "notebook", "content": map[string]any{}, "chunk": 1}},
		{"no format", map[string]any{"type": "file", "content": "x", "chunk": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if status, msg := s.status("PUT", "/api/contents/u.bin", tc.body); status != http.StatusBadRequest {
				t.Errorf("status %d (%s), want 400", status, msg)
			}
			if got := s.readFile("u.bin"); got != "<missing>" {
				t.Errorf("file created: %q", got)
			}
		})
	}
}

// TestNotebookByteStabilityThroughAPI opens each notebook as JupyterLab
// does, parsing numbers into doubles, saves it back unchanged, and checks
// that no byte changed.
func TestNotebookByteStabilityThroughAPI(t *testing.T) {
	fixtures := readFixtures(t)
	if python, err := exec.LookPath("/usr/bin/python3"); err == nil &&
		exec.Command(python, "-c", "import nbformat").Run() == nil {
		dir := t.TempDir()
		if out, err := exec.Command(python, "-c", nbformatScript, dir).CombinedOutput(); err != nil {
			t.Fatalf("generating notebooks: %v\n%s", err, out)
		}
		paths, _ := filepath.Glob(filepath.Join(dir, "*.ipynb"))
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			fixtures[filepath.Base(p)] = data
		}
	}
	s := newTestServer(t, Options{})
	for name, data := range fixtures {
		t.Run(name, func(t *testing.T) {
			s.writeFile(name, string(data))
			model := s.call("GET", "/api/contents/"+urlEscape(name), nil, http.StatusOK)
			s.call("PUT", "/api/contents/"+urlEscape(name),
				map[string]any{"type": "notebook", "format": "json", "content": model["content"]}, http.StatusOK)
			if got := s.readFile(name); !bytes.Equal([]byte(got), data) {
				t.Errorf("saving the unchanged notebook changed it:\n%s", cmp.Diff(string(data), got))
			}
		})
	}
}

func TestKeepNumberLiterals(t *testing.T) {
	previous := map[string]any{
		"a": json.Number("1.0"), "b": json.Number("1e-05"), "c": json.Number("2"),
		"list": []any{json.Number("0.50"), "x"}, "nested": map[string]any{"d": json.Number("-0.0")},
		"big": json.Number("12345678901234567890"),
	}
	nb := map[string]any{
		"a": json.Number("1"), "b": 1e-05, "c": json.Number("3"),
		"list": []any{0.5, "x", json.Number("4")}, "nested": map[string]any{"d": json.Number("0")},
		"big": json.Number("12345678901234567000"), "new": json.Number("1.0"),
	}
	got := KeepNumberLiterals(nb, previous)
	want := map[string]any{
		"a": json.Number("1.0"), "b": json.Number("1e-05"), "c": json.Number("3"),
		"list": []any{json.Number("0.50"), "x", json.Number("4")}, "nested": map[string]any{"d": json.Number("-0.0")},
		"big": json.Number("12345678901234567890"), "new": json.Number("1.0"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("KeepNumberLiterals (-want +got):\n%s", diff)
	}
	if nb["a"] != json.Number("1") {
		t.Error("KeepNumberLiterals modified its argument")
	}
}

func TestSaveInReadOnlyFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may create files in any folder")
	}
	s := newTestServer(t, Options{})
	s.writeFile("ro/a.txt", "old")
	dir := filepath.Join(s.root, "ro")
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	s.call("PUT", "/api/contents/ro/a.txt", map[string]any{"type": "file", "format": "text", "content": "new"},
		http.StatusOK)
	if got := s.readFile("ro/a.txt"); got != "new" {
		t.Errorf("file holds %q", got)
	}
	if status, _ := s.status("PUT", "/api/contents/ro/b.txt",
		map[string]any{"type": "file", "format": "text", "content": "x"}); status != http.StatusForbidden {
		t.Errorf("new file in a read-only folder: status %d, want 403", status)
	}
}
