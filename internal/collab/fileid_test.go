package collab

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

type fileIDReply struct {
	ID   string `json:"id"`
	Path string `json:"path"`
}

func (ts *testService) idOf(t *testing.T, path string) (int, fileIDReply) {
	t.Helper()
	status, body := ts.request(t, http.MethodGet, "/api/fileid/id?path="+url.QueryEscape(path), nil)
	var reply fileIDReply
	if status == http.StatusOK {
		if err := json.Unmarshal(body, &reply); err != nil {
			t.Fatal(err)
		}
	}
	return status, reply
}

func (ts *testService) pathOf(t *testing.T, id string) (int, fileIDReply) {
	t.Helper()
	status, body := ts.request(t, http.MethodGet, "/api/fileid/path?id="+url.QueryEscape(id), nil)
	var reply fileIDReply
	if status == http.StatusOK {
		if err := json.Unmarshal(body, &reply); err != nil {
			t.Fatal(err)
		}
	}
	return status, reply
}

func TestSessionIndexesFile(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	if err := os.Mkdir(filepath.Join(ts.root, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	ts.writeFile(t, "dir/a b.txt", "x")
	put := func(path string, body any) (int, sessionReply) {
		status, data := ts.request(t, http.MethodPut, "/api/collaboration/session/"+path, body)
		var reply sessionReply
		if status < 300 {
			if err := json.Unmarshal(data, &reply); err != nil {
				t.Fatal(err)
			}
		}
		return status, reply
	}
	body := map[string]string{"format": "text", "type": "file"}

	status, first := put("dir%2Fa%20b.txt", body)
	if status != http.StatusCreated {
		t.Fatalf("first PUT: status %d, want 201", status)
	}
	status, second := put("dir%2Fa%20b.txt", body)
	if status != http.StatusOK {
		t.Errorf("second PUT: status %d, want 200", status)
	}
	if second.FileID != first.FileID || first.FileID == "" {
		t.Errorf("file ids %q and %q, want one non-empty id", first.FileID, second.FileID)
	}
	if first.SessionID != ts.svc.session || first.Format != "text" || first.Type != "file" {
		t.Errorf("reply %+v, want format, type and the server's session", first)
	}
	if status, got := ts.idOf(t, "dir/a b.txt"); status != http.StatusOK || got.ID != first.FileID {
		t.Errorf("GET fileid/id: %d %+v, want id %s", status, got, first.FileID)
	}
	if status, got := ts.pathOf(t, first.FileID); status != http.StatusOK || got.Path != "dir/a b.txt" {
		t.Errorf("GET fileid/path: %d %+v, want dir/a b.txt", status, got)
	}

	if status, _ := put("missing.txt", body); status != http.StatusNotFound {
		t.Errorf("PUT for a missing file: status %d, want 404", status)
	}
	if status, _ := put("dir", body); status != http.StatusBadRequest {
		t.Errorf("PUT for a folder: status %d, want 400", status)
	}
	if status, _ := put("dir%2Fa%20b.txt", map[string]string{"format": "text"}); status != http.StatusBadRequest {
		t.Errorf("PUT without a type: status %d, want 400", status)
	}
}

func TestFileIDQueries(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	tests := []struct {
		name, path string
		want       int
	}{
		{"id without path", "/api/fileid/id", http.StatusBadRequest},
		{"path without id", "/api/fileid/path", http.StatusBadRequest},
		{"unknown path", "/api/fileid/id?path=nothing.txt", http.StatusNotFound},
		{"unknown id", "/api/fileid/path?id=0000", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, body := ts.request(t, http.MethodGet, tt.path, nil); status != tt.want {
				t.Errorf("GET %s: %d %s, want %d", tt.path, status, body, tt.want)
			}
		})
	}
}

func TestFileIDFollowsContentsAPI(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	if err := os.MkdirAll(filepath.Join(ts.root, "old", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	ts.writeFile(t, "old/sub/é.txt", "x")
	ts.writeFile(t, "a.txt", "y")
	room, _ := ts.openSession(t, "old/sub/é.txt")
	nested := room[len("text:file:"):]
	room, _ = ts.openSession(t, "a.txt")
	plain := room[len("text:file:"):]

	patch := func(from, to string) {
		t.Helper()
		status, body := ts.request(t, http.MethodPatch, "/api/contents/"+from, map[string]string{"path": to})
		if status != http.StatusOK {
			t.Fatalf("renaming %s: %d %s", from, status, body)
		}
	}
	patch("a.txt", "b.txt")
	if _, got := ts.pathOf(t, plain); got.Path != "b.txt" {
		t.Errorf("after a rename the id names %q, want b.txt", got.Path)
	}
	patch("old", "new")
	if _, got := ts.pathOf(t, nested); got.Path != "new/sub/é.txt" {
		t.Errorf("after a folder rename the id names %q, want new/sub/é.txt", got.Path)
	}

	status, body := ts.request(t, http.MethodPost, "/api/contents/new/sub",
		map[string]string{"copy_from": "b.txt"})
	if status != http.StatusCreated {
		t.Fatalf("copying: %d %s", status, body)
	}
	if status, _ := ts.idOf(t, "new/sub/b.txt"); status != http.StatusNotFound {
		t.Errorf("a copy has an id before it is opened: status %d, want 404", status)
	}

	if status, body := ts.request(t, http.MethodDelete, "/api/contents/new/sub/é.txt", nil); status != http.StatusNoContent {
		t.Fatalf("deleting: %d %s", status, body)
	}
	if status, _ := ts.pathOf(t, nested); status != http.StatusNotFound {
		t.Errorf("the id of a deleted file: status %d, want 404", status)
	}
	if status, got := ts.pathOf(t, plain); status != http.StatusOK || got.Path != "b.txt" {
		t.Errorf("an unrelated id after a delete: %d %+v", status, got)
	}
}
