package contents

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// siblingLayout makes <base>/test as the root, with a.txt, a..b.txt and
// sub/ inside, and <base>/testtest/secret.txt beside it: a sibling whose
// name starts with the root's name.
func siblingLayout(t *testing.T) (root, sibling string) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "test")
	sibling = filepath.Join(base, "testtest")
	writeFile(t, filepath.Join(root, "a.txt"), "A")
	writeFile(t, filepath.Join(root, "a..b.txt"), "AB")
	writeFile(t, filepath.Join(root, "sub", "c.txt"), "C")
	writeFile(t, filepath.Join(sibling, "secret.txt"), "SECRET")
	return root, sibling
}

func TestTraversalOutsideRoot(t *testing.T) {
	roots := []struct {
		name   string
		suffix string
	}{
		{"root", ""},
		{"root with trailing slash", "/"},
	}
	requests := []struct {
		name, method, path string
		body               any
	}{
		{"dot dot", "GET", "/api/contents/../testtest/secret.txt", nil},
		{"encoded dot dot", "GET", "/api/contents/%2e%2e/testtest/secret.txt", nil},
		{"encoded slashes", "GET", "/api/contents/%2E%2E%2Ftesttest%2Fsecret.txt", nil},
		{"from a subfolder", "GET", "/api/contents/sub/%2e%2e/%2e%2e/testtest/secret.txt", nil},
		{"listing", "GET", "/api/contents/%2e%2e/testtest", nil},
		{"parent listing", "GET", "/api/contents/%2e%2e", nil},
		{"files", "GET", "/files/%2e%2e/testtest/secret.txt", nil},
		{"files dot dot", "GET", "/files/../testtest/secret.txt", nil},
		{"rename out", "PATCH", "/api/contents/a.txt", map[string]any{"path": "../testtest/stolen.txt"}},
		{"rename out with slash", "PATCH", "/api/contents/a.txt", map[string]any{"path": "/../testtest/stolen.txt"}},
		{"rename in", "PATCH", "/api/contents/%2e%2e/testtest/secret.txt", map[string]any{"path": "got.txt"}},
		{"copy from", "POST", "/api/contents/", map[string]any{"copy_from": "../testtest/secret.txt"}},
		{"copy to", "POST", "/api/contents/%2e%2e/testtest", map[string]any{"copy_from": "a.txt"}},
		{"untitled", "POST", "/api/contents/%2e%2e/testtest", map[string]any{"type": "file"}},
		{"save new", "PUT", "/api/contents/%2e%2e/testtest/new.txt",
			map[string]any{"type": "file", "format": "text", "content": "x"}},
		{"overwrite", "PUT", "/api/contents/%2e%2e/testtest/secret.txt",
			map[string]any{"type": "file", "format": "text", "content": "x"}},
		{"chunk", "PUT", "/api/contents/%2e%2e/testtest/up.bin",
			map[string]any{"type": "file", "format": "base64", "content": "AA==", "chunk": 1}},
		{"delete", "DELETE", "/api/contents/%2e%2e/testtest/secret.txt", nil},
		{"delete folder", "DELETE", "/api/contents/%2e%2e/testtest", nil},
		{"checkpoint", "POST", "/api/contents/%2e%2e/testtest/secret.txt/checkpoints", nil},
		{"list checkpoints", "GET", "/api/contents/%2e%2e/testtest/secret.txt/checkpoints", nil},
		{"restore", "POST", "/api/contents/%2e%2e/testtest/secret.txt/checkpoints/checkpoint", nil},
		{"trust", "POST", "/api/contents/%2e%2e/testtest/secret.txt/trust", nil},
	}
	for _, rc := range roots {
		t.Run(rc.name, func(t *testing.T) {
			root, sibling := siblingLayout(t)
			s := serveRoot(t, root, root+rc.suffix, Options{})
			before := treeDigest(t, sibling)
			for _, tc := range requests {
				t.Run(tc.name, func(t *testing.T) {
					resp, data := s.do(tc.method, tc.path, tc.body)
					switch resp.StatusCode {
					case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound:
					case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
						// ServeMux redirects a literal ".." to the cleaned
						// path, which is outside /api/contents and /files.
						if loc := resp.Header.Get("Location"); strings.HasPrefix(loc, "/api/contents/") ||
							strings.HasPrefix(loc, "/files/") {
							t.Errorf("redirect to %s", loc)
						}
					default:
						t.Errorf("status %d, want 400, 403 or 404: %s", resp.StatusCode, data)
					}
					if strings.Contains(string(data), "SECRET") {
						t.Errorf("response reveals the secret: %s", data)
					}
				})
			}
			if diff := cmp.Diff(before, treeDigest(t, sibling)); diff != "" {
				t.Errorf("sibling folder changed (-before +after):\n%s", diff)
			}
			if _, err := s.m.ResolveDir("../testtest/x.ipynb"); err == nil {
				t.Error("ResolveDir of a path in the sibling succeeded")
			}
			if s.readFile("a.txt") != "A" {
				t.Error("a.txt changed")
			}
		})
	}
}

func TestTraversalInsideRoot(t *testing.T) {
	root, _ := siblingLayout(t)
	s := serveRoot(t, root, root, Options{})
	tests := []struct {
		path, wantPath, wantContent string
	}{
		{"/api/contents/a..b.txt", "a..b.txt", "AB"},
		{"/api/contents/sub/%2e%2e/a.txt", "a.txt", "A"},
		{"/api/contents/%2e%2e/test/a.txt", "a.txt", "A"},
		{"/api/contents/sub/.%2Fc.txt", "sub/c.txt", "C"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			model := s.call("GET", tc.path, nil, http.StatusOK)
			if model["path"] != tc.wantPath || model["content"] != tc.wantContent {
				t.Errorf("got %v = %q, want %s = %q", model["path"], model["content"], tc.wantPath, tc.wantContent)
			}
		})
	}
	s.call("PATCH", "/api/contents/a..b.txt", map[string]any{"path": "c..d.txt"}, http.StatusOK)
	if s.readFile("c..d.txt") != "AB" {
		t.Error("rename of a name with dots failed")
	}
}

func TestRootIsFilesystemRoot(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.txt"), "A")
	s := serveRoot(t, dir, "/", Options{AllowHidden: true})
	apiDir := strings.TrimPrefix(filepath.ToSlash(dir), "/")

	model := s.call("GET", "/api/contents/"+apiDir+"/a.txt", nil, http.StatusOK)
	if model["path"] != apiDir+"/a.txt" || model["content"] != "A" {
		t.Errorf("model %v = %v", model["path"], model["content"])
	}
	listing := s.call("GET", "/api/contents/", nil, http.StatusOK)
	if len(names(listing)) == 0 {
		t.Error("listing of / is empty")
	}
	s.call("PUT", "/api/contents/"+apiDir+"/b.txt", map[string]any{"type": "file", "format": "text", "content": "B"},
		http.StatusCreated)
	if data, err := os.ReadFile(filepath.Join(dir, "b.txt")); err != nil || string(data) != "B" {
		t.Errorf("save under root /: %q, %v", data, err)
	}
	s.call("GET", "/api/contents/%2e%2e/"+apiDir+"/a.txt", nil, http.StatusOK)
	if got, err := s.m.ResolveDir(apiDir + "/a.txt"); err != nil || got != dir {
		t.Errorf("ResolveDir = %q, %v; want %q", got, err, dir)
	}
	if got, err := s.m.ResolveDir(""); err != nil || got != "/" {
		t.Errorf("ResolveDir(\"\") = %q, %v; want /", got, err)
	}
}

func TestHiddenPaths(t *testing.T) {
	tests := []struct {
		name, method, path string
		body               any
		want, wantAllowed  int
	}{
		{"get hidden file", "GET", "/api/contents/.hidden.txt", nil, 404, 200},
		{"get in hidden folder", "GET", "/api/contents/.hiddendir/x.txt", nil, 404, 200},
		{"files hidden", "GET", "/files/.hidden.txt", nil, 404, 200},
		{"save hidden", "PUT", "/api/contents/.new.txt",
			map[string]any{"type": "file", "format": "text", "content": "x"}, 400, 201},
		{"rename to hidden", "PATCH", "/api/contents/a.txt", map[string]any{"path": ".a.txt"}, 400, 200},
		{"rename hidden", "PATCH", "/api/contents/.hidden.txt", map[string]any{"path": "b.txt"}, 400, 200},
		{"copy hidden", "POST", "/api/contents/", map[string]any{"copy_from": ".hidden.txt"}, 400, 201},
		{"delete hidden", "DELETE", "/api/contents/.hidden.txt", nil, 400, 204},
		{"get checkpoint", "GET", "/api/contents/.ipynb_checkpoints/a-checkpoint.txt", nil, 404, 404},
		{"list checkpoints folder", "GET", "/api/contents/.ipynb_checkpoints", nil, 404, 404},
		{"files checkpoint", "GET", "/files/.ipynb_checkpoints/a-checkpoint.txt", nil, 404, 404},
		{"save checkpoint", "PUT", "/api/contents/.ipynb_checkpoints/a-checkpoint.txt",
			map[string]any{"type": "file", "format": "text", "content": "x"}, 400, 400},
		{"delete checkpoint folder", "DELETE", "/api/contents/.ipynb_checkpoints", nil, 400, 400},
		{"get temporary file", "GET", "/api/contents/.~jupygo-0011", nil, 404, 404},
	}
	for _, allow := range []bool{false, true} {
		for _, tc := range tests {
			name := tc.name
			want := tc.want
			if allow {
				name += " allowed"
				want = tc.wantAllowed
			}
			t.Run(name, func(t *testing.T) {
				s := newTestServer(t, Options{AllowHidden: allow})
				for _, p := range []string{"a.txt", ".hidden.txt", ".hiddendir/x.txt",
					".ipynb_checkpoints/a-checkpoint.txt", ".~jupygo-0011"} {
					s.writeFile(p, "x")
				}
				if status, msg := s.status(tc.method, tc.path, tc.body); status != want {
					t.Errorf("status %d (%s), want %d", status, msg, want)
				}
			})
		}
	}
}

// symlinkLayout adds links to siblingLayout: out of the root to a folder
// and to a file, into the root, and a broken one.
func symlinkLayout(t *testing.T) (root, sibling string) {
	t.Helper()
	root, sibling = siblingLayout(t)
	links := map[string]string{
		"link-out":      sibling,
		"link-file-out": filepath.Join(sibling, "secret.txt"),
		"link-rel-out":  "../testtest/secret.txt",
		"link-in":       "sub",
		"link-file-in":  "a.txt",
		"link-abs-in":   filepath.Join(root, "sub"),
		"link-abs-file": filepath.Join(root, "a..b.txt"),
		"broken":        "nowhere",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	return root, sibling
}

func TestSymlinksOutsideRootRefused(t *testing.T) {
	root, sibling := symlinkLayout(t)
	s := serveRoot(t, root, root, Options{})
	before := treeDigest(t, sibling)

	listing := s.call("GET", "/api/contents/", nil, http.StatusOK)
	want := []string{"a..b.txt", "a.txt", "link-abs-file", "link-abs-in", "link-file-in", "link-in", "sub"}
	if diff := cmp.Diff(want, names(listing)); diff != "" {
		t.Errorf("listing (-want +got):\n%s", diff)
	}

	requests := []struct {
		name, method, path string
		body               any
	}{
		{"get file link", "GET", "/api/contents/link-file-out", nil},
		{"get relative link", "GET", "/api/contents/link-rel-out", nil},
		{"get through folder link", "GET", "/api/contents/link-out/secret.txt", nil},
		{"list folder link", "GET", "/api/contents/link-out", nil},
		{"files", "GET", "/files/link-file-out", nil},
		{"files through folder link", "GET", "/files/link-out/secret.txt", nil},
		{"write through link", "PUT", "/api/contents/link-file-out",
			map[string]any{"type": "file", "format": "text", "content": "x"}},
		{"write through relative link", "PUT", "/api/contents/link-rel-out",
			map[string]any{"type": "file", "format": "text", "content": "x"}},
		{"create through folder link", "PUT", "/api/contents/link-out/new.txt",
			map[string]any{"type": "file", "format": "text", "content": "x"}},
		{"rename into folder link", "PATCH", "/api/contents/a.txt", map[string]any{"path": "link-out/stolen.txt"}},
		{"copy from link", "POST", "/api/contents/", map[string]any{"copy_from": "link-file-out"}},
		{"copy into folder link", "POST", "/api/contents/link-out", map[string]any{"copy_from": "a.txt"}},
		{"checkpoint of link", "POST", "/api/contents/link-file-out/checkpoints", nil},
		{"upload through link", "PUT", "/api/contents/link-file-out",
			map[string]any{"type": "file", "format": "text", "content": "x", "chunk": 1}},
		{"delete through folder link", "DELETE", "/api/contents/link-out/secret.txt", nil},
	}
	for _, tc := range requests {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := s.do(tc.method, tc.path, tc.body)
			if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 404 or 400: %s", resp.StatusCode, data)
			}
			if strings.Contains(string(data), "SECRET") {
				t.Errorf("response reveals the secret: %s", data)
			}
		})
	}
	if diff := cmp.Diff(before, treeDigest(t, sibling)); diff != "" {
		t.Errorf("sibling folder changed (-before +after):\n%s", diff)
	}
	if _, err := s.m.ResolveDir("link-out"); err == nil {
		t.Error("ResolveDir through a link out of the root succeeded")
	}
}

func TestSymlinksInsideRoot(t *testing.T) {
	root, sibling := symlinkLayout(t)
	s := serveRoot(t, root, root, Options{})
	if got := s.call("GET", "/api/contents/link-file-in", nil, http.StatusOK)["content"]; got != "A" {
		t.Errorf("link to a.txt gives %v", got)
	}
	if got := s.call("GET", "/api/contents/link-in/c.txt", nil, http.StatusOK)["content"]; got != "C" {
		t.Errorf("sub/c.txt through the link gives %v", got)
	}
	if got := s.call("GET", "/api/contents/link-abs-in/c.txt", nil, http.StatusOK)["content"]; got != "C" {
		t.Errorf("sub/c.txt through the absolute link gives %v", got)
	}
	if names := names(s.call("GET", "/api/contents/link-abs-in", nil, http.StatusOK)); len(names) != 1 {
		t.Errorf("listing through the absolute link: %v", names)
	}

	s.call("PUT", "/api/contents/link-abs-file", map[string]any{"type": "file", "format": "text", "content": "AB2"},
		http.StatusOK)
	if s.readFile("a..b.txt") != "AB2" {
		t.Errorf("save through an absolute link left a..b.txt = %q", s.readFile("a..b.txt"))
	}
	s.call("PUT", "/api/contents/link-abs-in/d.txt", map[string]any{"type": "file", "format": "text", "content": "D"},
		http.StatusCreated)
	if s.readFile("sub/d.txt") != "D" {
		t.Error("save into a folder through an absolute link failed")
	}

	s.call("PUT", "/api/contents/link-file-in", map[string]any{"type": "file", "format": "text", "content": "A2"},
		http.StatusOK)
	if s.readFile("a.txt") != "A2" {
		t.Errorf("save through a link left a.txt = %q", s.readFile("a.txt"))
	}
	if fi, err := os.Lstat(filepath.Join(root, "link-file-in")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("save replaced the link with a file")
	}

	s.call("DELETE", "/api/contents/link-out", nil, http.StatusNoContent)
	if _, err := os.Stat(filepath.Join(sibling, "secret.txt")); err != nil {
		t.Errorf("deleting a link removed its target: %v", err)
	}
}

func TestSymlinksOutsideRootAllowed(t *testing.T) {
	root, sibling := symlinkLayout(t)
	s := serveRoot(t, root, root, Options{AllowSymlinksOutsideRoot: true})
	for _, p := range []string{"/api/contents/link-file-out", "/api/contents/link-out/secret.txt",
		"/api/contents/link-rel-out"} {
		if got := s.call("GET", p, nil, http.StatusOK)["content"]; got != "SECRET" {
			t.Errorf("GET %s gives %v", p, got)
		}
	}
	listing := s.call("GET", "/api/contents/", nil, http.StatusOK)
	want := []string{"a..b.txt", "a.txt", "link-abs-file", "link-abs-in", "link-file-in", "link-file-out",
		"link-in", "link-out", "link-rel-out", "sub"}
	if diff := cmp.Diff(want, names(listing)); diff != "" {
		t.Errorf("listing (-want +got):\n%s", diff)
	}
	s.call("PUT", "/api/contents/link-file-out", map[string]any{"type": "file", "format": "text", "content": "NEW"},
		http.StatusOK)
	if data, _ := os.ReadFile(filepath.Join(sibling, "secret.txt")); string(data) != "NEW" {
		t.Errorf("save through an outside link left %q", data)
	}
	if status, _ := s.status("GET", "/api/contents/%2e%2e/testtest/secret.txt", nil); status != 404 {
		t.Errorf("dot dot with links allowed: status %d, want 404", status)
	}
}

func TestCleanPath(t *testing.T) {
	tests := []struct {
		root, in, want string
		wantErr        error
	}{
		{"/srv/test", "", "", nil},
		{"/srv/test", "/", "", nil},
		{"/srv/test", "a/b", "a/b", nil},
		{"/srv/test", "/a//b/", "a/b", nil},
		{"/srv/test", "a/./b", "a/b", nil},
		{"/srv/test", "a/../b", "b", nil},
		{"/srv/test", "a..b", "a..b", nil},
		{"/srv/test", "..a", "..a", nil},
		{"/srv/test", "/etc/passwd", "etc/passwd", nil},
		{"/srv/test", "..", "", errOutsideRoot},
		{"/srv/test", "../testtest/secret.txt", "", errOutsideRoot},
		{"/srv/test", "a/../../x", "", errOutsideRoot},
		{"/srv/test", "../test/x", "x", nil},
		{"/srv/test", "a\x00b", "", errInvalidPath},
		{"/", "../etc", "etc", nil},
		{"/", "", "", nil},
	}
	for _, tc := range tests {
		got, err := cleanRelative(tc.root, tc.in)
		if got != tc.want || err != tc.wantErr {
			t.Errorf("cleanRelative(%q, %q) = %q, %v; want %q, %v", tc.root, tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

// FuzzResolvePath checks that a path is served exactly when joining it to
// the root and cleaning it stays inside the root, and that nothing outside
// is ever read.
func FuzzResolvePath(f *testing.F) {
	for _, seed := range []string{"", "a.txt", "../testtest/secret.txt", "sub/../a.txt", "/etc/passwd",
		"a..b.txt", "..", "sub/../../testtest", "../test/a.txt", "link-out/secret.txt", ".hidden", "a\x00"} {
		f.Add(seed)
	}
	base := f.TempDir()
	root := filepath.Join(base, "test")
	for p, content := range map[string]string{"test/a.txt": "A", "test/a..b.txt": "AB", "test/sub/c.txt": "C",
		"testtest/secret.txt": "SECRET"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(base, p)), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(base, p), []byte(content), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(base, "testtest"), filepath.Join(root, "link-out")); err != nil {
		f.Fatal(err)
	}
	m, err := New(root, Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { m.Close() })

	f.Fuzz(func(t *testing.T, p string) {
		got, err := m.cleanPath(p)
		if strings.IndexByte(p, 0) >= 0 {
			if err == nil {
				t.Fatalf("path with NUL accepted: %q", p)
			}
			return
		}
		rel, relErr := filepath.Rel(root, filepath.Join(root, p))
		inside := relErr == nil && rel != ".." && !strings.HasPrefix(rel, "../")
		if inside != (err == nil) {
			t.Fatalf("path %q: inside root %v, but cleanPath gives %q, %v", p, inside, got, err)
		}
		if err == nil && filepath.Join(root, got) != filepath.Join(root, p) {
			t.Fatalf("path %q cleans to %q, another file", p, got)
		}
		model, err := m.Get(p, GetOptions{Content: true})
		if err != nil {
			return
		}
		if s, ok := model.Content.(string); ok && s == "SECRET" {
			t.Fatalf("path %q reads the file outside the root", p)
		}
	})
}
