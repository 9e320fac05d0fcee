package contents

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// oddNames are names that URLs, shells and Unicode normalization tend to
// break. "unicodé" is spelled twice: NFC (é as U+00E9) and NFD (e and
// U+0301); the two are different files.
var oddNames = []string{
	"A B.ipynb",
	"A%20B.ipynb",
	"A%2520B.txt",
	"a#b.ipynb",
	"q?.txt",
	"x&y=z.txt",
	"c++.txt",
	"semi;colon.txt",
	"unicod\u00e9.ipynb",
	"unicode\u0301.ipynb",
	"å b/ç d.ipynb",
	"日本語/ノート.ipynb",
	"😀.txt",
	"quote'\"back\\slash.txt",
	"100%.txt",
}

// oddContent returns the content stored in the file p: a notebook whose
// one cell holds the path, or the path itself.
func oddContent(t *testing.T, p string) string {
	t.Helper()
	if !strings.HasSuffix(p, ".ipynb") {
		return p
	}
	nb := NewNotebook()
	nb["cells"] = []any{map[string]any{"cell_type": "markdown", "metadata": map[string]any{}, "source": p}}
	data, err := WriteNotebook(nb)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestOddNames(t *testing.T) {
	s := newTestServer(t, Options{})
	for _, p := range oddNames {
		s.writeFile(p, oddContent(t, p))
	}
	for _, p := range oddNames {
		t.Run(p, func(t *testing.T) {
			dir, name := splitPath(p)
			listing := s.call("GET", "/api/contents/"+urlEscape(dir), nil, http.StatusOK)
			if !slices.Contains(names(listing), name) {
				t.Errorf("listing of %q lacks %q: %q", dir, name, names(listing))
			}

			model := s.call("GET", "/api/contents/"+urlEscape(p), nil, http.StatusOK)
			if model["path"] != p || model["name"] != name {
				t.Errorf("model path %q, name %q", model["path"], model["name"])
			}
			checkOddContent(t, p, model)

			resp, data := s.do("GET", "/files/"+urlEscape(p), nil)
			if resp.StatusCode != http.StatusOK || string(data) != oddContent(t, p) {
				t.Errorf("/files: status %d, %d bytes", resp.StatusCode, len(data))
			}

			renamed := joinPath(dir, "renamed "+name)
			s.call("PATCH", "/api/contents/"+urlEscape(p), map[string]any{"path": renamed}, http.StatusOK)
			if got := s.readFile(renamed); got != oddContent(t, p) {
				t.Errorf("renamed file holds %q", got)
			}
			s.call("PATCH", "/api/contents/"+urlEscape(renamed), map[string]any{"path": p}, http.StatusOK)

			cp := s.call("POST", "/api/contents/"+urlEscape(dir), map[string]any{"copy_from": p}, http.StatusCreated)
			copyPath, _ := cp["path"].(string)
			if got := s.readFile(copyPath); got != oddContent(t, p) {
				t.Errorf("copy %q holds %q", copyPath, got)
			}
			s.call("DELETE", "/api/contents/"+urlEscape(copyPath), nil, http.StatusNoContent)
			if got := s.readFile(copyPath); got != "<missing>" {
				t.Errorf("copy %q left after delete", copyPath)
			}
		})
	}
}

func checkOddContent(t *testing.T, p string, model map[string]any) {
	t.Helper()
	if !strings.HasSuffix(p, ".ipynb") {
		if model["content"] != p {
			t.Errorf("content %q, want %q", model["content"], p)
		}
		return
	}
	cells := model["content"].(map[string]any)["cells"].([]any)
	if got := cells[0].(map[string]any)["source"]; got != p {
		t.Errorf("cell source %q, want %q", got, p)
	}
}

// TestPathDecodedOnce checks that a percent sign in a name survives: the
// API path is decoded exactly once.
func TestPathDecodedOnce(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("A B.txt", "space")
	s.writeFile("A%20B.txt", "percent")
	s.writeFile("a#b.txt", "hash")
	s.writeFile("a?b.txt", "question")
	tests := []struct{ raw, wantPath, wantContent string }{
		{"/api/contents/A%20B.txt", "A B.txt", "space"},
		{"/api/contents/A%2520B.txt", "A%20B.txt", "percent"},
		{"/api/contents/a%23b.txt", "a#b.txt", "hash"},
		{"/api/contents/a%3Fb.txt", "a?b.txt", "question"},
		{"/api/contents/a%3Fb.txt?content=1", "a?b.txt", "question"},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			model := s.call("GET", tc.raw, nil, http.StatusOK)
			if model["path"] != tc.wantPath || model["content"] != tc.wantContent {
				t.Errorf("got %q = %q, want %q = %q", model["path"], model["content"], tc.wantPath, tc.wantContent)
			}
		})
	}
}

func TestOddNamesCreatedThroughAPI(t *testing.T) {
	s := newTestServer(t, Options{})
	for i, p := range oddNames {
		dir, _ := splitPath(p)
		if dir != "" {
			s.call("PUT", "/api/contents/"+urlEscape(dir), map[string]any{"type": "directory"}, http.StatusCreated)
		}
		body := map[string]any{"type": "file", "format": "text", "content": fmt.Sprint(i)}
		if strings.HasSuffix(p, ".ipynb") {
			body = map[string]any{"type": "notebook", "content": NewNotebook()}
		}
		model := s.call("PUT", "/api/contents/"+urlEscape(p), body, http.StatusCreated)
		if model["path"] != p {
			t.Errorf("PUT %q answered path %q", p, model["path"])
		}
		if _, err := os.Stat(filepath.Join(s.root, p)); err != nil {
			t.Errorf("%q not on disk under its own name: %v", p, err)
		}
	}
	entries, err := os.ReadDir(s.root)
	if err != nil {
		t.Fatal(err)
	}
	var onDisk []string
	for _, e := range entries {
		if e.Name() != checkpointDir {
			onDisk = append(onDisk, e.Name())
		}
	}
	var want []string
	for _, p := range oddNames {
		if d, _ := splitPath(p); d == "" {
			want = append(want, p)
		} else if first := strings.Split(p, "/")[0]; !slices.Contains(want, first) {
			want = append(want, first)
		}
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, onDisk); diff != "" {
		t.Errorf("names on disk (-want +got):\n%s", diff)
	}
}

func TestFilesHeaders(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("secret.js", `var s = "TOPSECRET";`)
	s.writeFile("page.html", "<script>alert(document.cookie)</script>")
	s.writeFile("n.ipynb", "{}")
	s.writeFile("a.txt", "0123456789")
	s.writeFile("café ü.txt", "x")
	s.writeFile("archive.tar.gz", "gz")
	s.writeFile("blob", "\x00")
	s.writeFile("sub/x", "")
	tests := []struct {
		path                     string
		status                   int
		contentType, disposition string
	}{
		{"secret.js", 200, "text/javascript", ""},
		{"page.html", 200, "text/html", ""},
		{"n.ipynb", 200, "application/x-ipynb+json", `attachment; filename="n.ipynb"; filename*=utf-8''n.ipynb`},
		{"a.txt", 200, "text/plain; charset=UTF-8", ""},
		{"a.txt?download=1", 200, "text/plain; charset=UTF-8",
			`attachment; filename="a.txt"; filename*=utf-8''a.txt`},
		{"caf%C3%A9%20%C3%BC.txt?download=1", 200, "text/plain; charset=UTF-8",
			"attachment; filename*=utf-8''caf%C3%A9%20%C3%BC.txt"},
		{"archive.tar.gz", 200, "application/gzip", ""},
		{"blob", 200, "application/octet-stream", ""},
		{"sub", 403, "application/json", ""},
		{"missing", 404, "application/json", ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp, _ := s.do("GET", "/files/"+tc.path, nil)
			h := resp.Header
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
			if got := h.Get("Content-Security-Policy"); !strings.Contains(got, "sandbox allow-scripts") {
				t.Errorf("Content-Security-Policy = %q", got)
			}
			if got := h.Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tc.contentType)
			}
			if got := h.Get("Content-Disposition"); got != tc.disposition {
				t.Errorf("Content-Disposition = %q, want %q", got, tc.disposition)
			}
		})
	}
}

func TestFilesRangesAndConditions(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("a.txt", "0123456789")
	req, _ := http.NewRequest("GET", s.url+"/files/a.txt", nil)
	req.Header.Set("Range", "bytes=2-4")
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || string(data) != "234" {
		t.Errorf("range: status %d, body %q", resp.StatusCode, data)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache", got)
	}

	req, _ = http.NewRequest("GET", s.url+"/files/a.txt", nil)
	req.Header.Set("If-Modified-Since", resp.Header.Get("Last-Modified"))
	resp, err = s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: status %d, want 304", resp.StatusCode)
	}

	resp, err = s.client.Head(s.url + "/files/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	data, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(data) != 0 || resp.ContentLength != 10 {
		t.Errorf("HEAD: status %d, %d body bytes, length %d", resp.StatusCode, len(data), resp.ContentLength)
	}
}

func TestGuessType(t *testing.T) {
	// The expected values are those of Python 3.11's mimetypes.guess_type
	// on Debian.
	tests := []struct{ name, mimetype, encoding string }{
		{"a.py", "text/x-python", ""},
		{"a.txt", "text/plain", ""},
		{"a.ipynb", "", ""},
		{"a.md", "text/markdown", ""},
		{"a.csv", "text/csv", ""},
		{"a.json", "application/json", ""},
		{"a.js", "text/javascript", ""},
		{"a.png", "image/png", ""},
		{"a.svg", "image/svg+xml", ""},
		{"a.html", "text/html", ""},
		{"a.tar.gz", "application/x-tar", "gzip"},
		{"a.tgz", "application/x-tar", "gzip"},
		{"a.bz2", "", "bzip2"},
		{"a.pdf", "application/pdf", ""},
		{"a.PNG", "image/png", ""},
		{"noext", "", ""},
		{".bashrc", "", ""},
	}
	for _, tc := range tests {
		mimetype, encoding := guessType(tc.name)
		if mimetype != tc.mimetype || encoding != tc.encoding {
			t.Errorf("guessType(%q) = %q, %q; want %q, %q", tc.name, mimetype, encoding, tc.mimetype, tc.encoding)
		}
	}
}
