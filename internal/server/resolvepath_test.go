package server

import (
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestResolvePath(t *testing.T) {
	requireIPyKernel(t)
	ts := newTestServer(t, nil)
	os.MkdirAll(filepath.Join(ts.root, "nb"), 0o755)
	os.WriteFile(filepath.Join(ts.root, "top.txt"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(ts.root, "nb", "data.csv"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(ts.root, ".hidden"), []byte("x"), 0o644)
	outside := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(outside, []byte("x"), 0o644)

	resp, body := ts.do(t, "POST", "/api/sessions", map[string]any{"path": "nb/a.ipynb",
		"type": "notebook", "kernel": map[string]any{"name": "python3"}}, true)
	if resp.StatusCode != 201 {
		t.Fatalf("POST /api/sessions = %d %s", resp.StatusCode, body)
	}
	kernelID := decode[testSession](t, body).Kernel.ID

	tests := []struct {
		name, path, kernel string
		want               resolvedPath
	}{
		{"relative to the root", "top.txt", "",
			resolvedPath{Resolved: []pathScope{{"server", "top.txt"}}}},
		{"absolute inside the root", filepath.Join(ts.root, "nb", "data.csv"), "",
			resolvedPath{Resolved: []pathScope{{"server", "nb/data.csv"}}}},
		{"relative to the kernel's folder", "data.csv", kernelID,
			resolvedPath{Resolved: []pathScope{{"kernel", "nb/data.csv"}}}},
		{"up from the kernel's folder", "../top.txt", kernelID,
			resolvedPath{Resolved: []pathScope{{"kernel", "top.txt"}}}},
		{"missing file", "nothere.txt", "", resolvedPath{Resolved: []pathScope{}}},
		{"hidden file", ".hidden", "", resolvedPath{Resolved: []pathScope{}}},
		{"absolute outside the root", outside, "", resolvedPath{Resolved: []pathScope{}}},
		{"climbing out of the root", "../" + filepath.Base(filepath.Dir(outside)), "",
			resolvedPath{Resolved: []pathScope{}}},
		{"unknown kernel", "top.txt", "no-such-kernel", resolvedPath{
			Resolved:   []pathScope{{"server", "top.txt"}},
			Unresolved: []scopeError{{"kernel", "no session has the kernel no-such-kernel"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{"path": {tt.path}}
			if tt.kernel != "" {
				q.Set("kernel", tt.kernel)
			}
			resp, body := ts.do(t, "GET", "/api/resolvePath?"+q.Encode(), nil, true)
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d %s", resp.StatusCode, body)
			}
			if got := decode[resolvedPath](t, body); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if resp, _ := ts.do(t, "GET", "/api/resolvePath", nil, true); resp.StatusCode != 400 {
		t.Errorf("without a path = %d, want 400", resp.StatusCode)
	}
}
