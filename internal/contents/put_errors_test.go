package contents

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPutRejectsMissingOrInvalidModel(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("d/a.txt", "keep")
	tests := []struct {
		name, path string
		body       any
		want       string // a part of the error message
	}{
		{"no body to file", "/api/contents/d/a.txt", nil, "PUT needs a JSON body with the model to save"},
		{"no body to new file", "/api/contents/d/new.txt", nil, "PUT needs a JSON body"},
		{"no body to folder", "/api/contents/d", nil, "PUT needs a JSON body"},
		{"null body", "/api/contents/d/a.txt", "null", "PUT needs a JSON body"},
		{"empty object", "/api/contents/d/a.txt", "{}", "PUT needs a JSON body"},
		{"unknown type", "/api/contents/d/a.txt",
			map[string]any{"type": "banana", "format": "text", "content": "x"},
			`Invalid type 'banana': the type of a model must be "notebook", "file" or "directory"`},
		{"unknown type to new file", "/api/contents/d/new.txt",
			map[string]any{"type": "banana", "format": "text", "content": "x"}, "Invalid type 'banana'"},
		{"chunk 0", "/api/contents/d/a.txt",
			map[string]any{"type": "file", "format": "text", "content": "x", "chunk": 0},
			"Invalid chunk 0: the pieces of an upload are numbered from 1, and the last one is -1"},
		{"chunk 0 to new file", "/api/contents/d/new.txt",
			map[string]any{"type": "file", "format": "base64", "content": "AA==", "chunk": 0}, "Invalid chunk 0"},
	}
	before := treeDigest(t, s.root)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, msg := s.status("PUT", tc.path, tc.body)
			if status != http.StatusBadRequest {
				t.Errorf("status %d (%s), want 400", status, msg)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("message %q does not contain %q", msg, tc.want)
			}
		})
	}
	if diff := cmp.Diff(before, treeDigest(t, s.root)); diff != "" {
		t.Errorf("files changed (-before +after):\n%s", diff)
	}
}

// An upload still goes through for the chunk numbers that are valid.
func TestPutChunkNumbers(t *testing.T) {
	s := newTestServer(t, Options{})
	for _, chunk := range []int{1, 2, 5, -1} {
		want := http.StatusOK
		if chunk == 1 {
			want = http.StatusCreated
		}
		s.call("PUT", "/api/contents/up.txt",
			map[string]any{"type": "file", "format": "text", "content": "x", "chunk": chunk}, want)
	}
	if got := s.readFile("up.txt"); got != "xxxx" {
		t.Errorf("uploaded file holds %q, want xxxx", got)
	}
}
