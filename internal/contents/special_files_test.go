package contents

import (
	"net"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// newSpecialFilesServer serves a folder d that holds a regular file, a
// unix socket and a FIFO.
func newSpecialFilesServer(t *testing.T) *testServer {
	t.Helper()
	s := newTestServer(t, Options{})
	s.writeFile("d/a.txt", "x")
	l, err := net.Listen("unix", filepath.Join(s.root, "d", "sock.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if err := syscall.Mkfifo(filepath.Join(s.root, "d", "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestListingLeavesOutSocketsAndFIFOs(t *testing.T) {
	s := newSpecialFilesServer(t)
	model := s.call("GET", "/api/contents/d", nil, http.StatusOK)
	if diff := cmp.Diff([]string{"a.txt"}, names(model)); diff != "" {
		t.Errorf("listing (-want +got):\n%s", diff)
	}
}

func TestSocketsAndFIFOsAreNotRead(t *testing.T) {
	s := newSpecialFilesServer(t)
	tests := []struct {
		name, method, path string
		body               any
		status             int
		message            string
	}{
		{"get socket", "GET", "/api/contents/d/sock.ipynb", nil, http.StatusBadRequest,
			"Cannot read non-file 'd/sock.ipynb'"},
		{"get socket as file", "GET", "/api/contents/d/sock.ipynb?type=file&format=text", nil,
			http.StatusBadRequest, "Cannot read non-file 'd/sock.ipynb'"},
		{"hash of socket", "GET", "/api/contents/d/sock.ipynb?content=0&hash=1", nil, http.StatusBadRequest,
			"Cannot read non-file 'd/sock.ipynb'"},
		{"get fifo", "GET", "/api/contents/d/fifo", nil, http.StatusBadRequest, "Cannot read non-file 'd/fifo'"},
		{"download socket", "GET", "/files/d/sock.ipynb", nil, http.StatusForbidden,
			"'d/sock.ipynb' is not a file"},
		{"download fifo", "GET", "/files/d/fifo", nil, http.StatusForbidden, "'d/fifo' is not a file"},
		{"checkpoint socket", "POST", "/api/contents/d/sock.ipynb/checkpoints", nil, http.StatusBadRequest,
			"cannot create a checkpoint of 'd/sock.ipynb': it is not a file"},
		{"copy socket", "POST", "/api/contents/d", map[string]any{"copy_from": "d/sock.ipynb"},
			http.StatusBadRequest, "cannot copy 'd/sock.ipynb': it is not a file"},
		{"copy fifo", "POST", "/api/contents/d", map[string]any{"copy_from": "d/fifo"},
			http.StatusBadRequest, "cannot copy 'd/fifo': it is not a file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, msg := s.status(tc.method, tc.path, tc.body)
			if status != tc.status {
				t.Errorf("status %d, want %d", status, tc.status)
			}
			if msg != tc.message {
				t.Errorf("message %q, want %q", msg, tc.message)
			}
		})
	}
}

// A model without content needs no read, so jupyter_server gives one for
// any kind of file.
func TestFIFOModelWithoutContent(t *testing.T) {
	s := newSpecialFilesServer(t)
	model := s.call("GET", "/api/contents/d/fifo?content=0", nil, http.StatusOK)
	if model["type"] != "file" || model["content"] != nil {
		t.Errorf("model type %v, content %v; want a file model without content", model["type"], model["content"])
	}
}
