package contents

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// testServer is a Manager mounted on a loopback HTTP server.
type testServer struct {
	t      *testing.T
	root   string
	m      *Manager
	url    string
	client *http.Client
}

// newTestServer serves a fresh folder.
func newTestServer(t *testing.T, opts Options) *testServer {
	t.Helper()
	root := filepath.Join(t.TempDir(), "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	return serveRoot(t, root, root, opts)
}

// serveRoot serves the folder root, given to New as rootArg.
func serveRoot(t *testing.T, root, rootArg string, opts Options) *testServer {
	t.Helper()
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m, err := New(rootArg, opts)
	if err != nil {
		t.Fatalf("New(%q): %v", rootArg, err)
	}
	t.Cleanup(func() { m.Close() })
	mux := http.NewServeMux()
	m.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &testServer{
		t: t, root: root, m: m, url: srv.URL,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
}

// do sends a request to rawPath, which goes on the wire as written. A body
// of type []byte or string is sent as is; anything else as JSON.
func (s *testServer) do(method, rawPath string, body any) (*http.Response, []byte) {
	s.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.url+rawPath, r)
	if err != nil {
		s.t.Fatal(err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, rawPath, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp, data
}

// call sends a request, checks its status and decodes the JSON response.
func (s *testServer) call(method, rawPath string, body any, wantStatus int) map[string]any {
	s.t.Helper()
	resp, data := s.do(method, rawPath, body)
	if resp.StatusCode != wantStatus {
		s.t.Fatalf("%s %s: status %d, want %d; body %s", method, rawPath, resp.StatusCode, wantStatus, data)
	}
	if len(data) == 0 {
		return nil
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		s.t.Fatalf("%s %s: response is not a JSON object: %v\n%s", method, rawPath, err, data)
	}
	return v
}

// status sends a request and returns the status and error message.
func (s *testServer) status(method, rawPath string, body any) (int, string) {
	s.t.Helper()
	resp, data := s.do(method, rawPath, body)
	var v struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(data, &v)
	return resp.StatusCode, v.Message
}

// writeFile creates a file under the root, with its folders.
func (s *testServer) writeFile(rel, content string) {
	s.t.Helper()
	writeFile(s.t, filepath.Join(s.root, rel), content)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readFile returns a file under the root, or "<missing>".
func (s *testServer) readFile(rel string) string {
	s.t.Helper()
	data, err := os.ReadFile(filepath.Join(s.root, rel))
	if os.IsNotExist(err) {
		return "<missing>"
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return string(data)
}

// names returns the names in a listing model.
func names(model map[string]any) []string {
	var out []string
	entries, _ := model["content"].([]any)
	for _, e := range entries {
		out = append(out, e.(map[string]any)["name"].(string))
	}
	sort.Strings(out)
	return out
}

// treeDigest returns a digest of every entry under dir, for checking that
// nothing there changed.
func treeDigest(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel] = "dir"
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			out[rel] = "unreadable"
			return nil
		}
		sum := sha256.Sum256(data)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
