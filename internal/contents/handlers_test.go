package contents

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var isoTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$`)

func TestGetFileModel(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("a.txt", "hello")
	resp, data := s.do("GET", "/api/contents/a.txt", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, data)
	}
	var model map[string]any
	if err := json.Unmarshal(data, &model); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"created", "last_modified"} {
		if !isoTime.MatchString(model[key].(string)) {
			t.Errorf("%s = %q, want ISO 8601 in UTC", key, model[key])
		}
		delete(model, key)
	}
	want := map[string]any{
		"name": "a.txt", "path": "a.txt", "type": "file", "writable": true,
		"size": 5.0, "mimetype": "text/plain", "content": "hello", "format": "text",
		"hash": nil, "hash_algorithm": nil,
	}
	if diff := cmp.Diff(want, model); diff != "" {
		t.Errorf("model (-want +got):\n%s", diff)
	}
	if resp.Header.Get("Last-Modified") == "" {
		t.Error("no Last-Modified header")
	}
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
}

func TestGetQueryOptions(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("a.txt", "hello")
	s.writeFile("blob", "\x00\x01\x02\xff")
	tests := []struct {
		name, path string
		want       map[string]any // the fields to compare
	}{
		{"binary as base64", "/api/contents/blob",
			map[string]any{"content": "AAEC/w==\n", "format": "base64", "mimetype": "application/octet-stream"}},
		{"text as base64", "/api/contents/a.txt?format=base64",
			map[string]any{"content": "aGVsbG8=\n", "format": "base64", "mimetype": "text/plain"}},
		{"no content", "/api/contents/a.txt?content=0",
			map[string]any{"content": nil, "format": nil, "mimetype": "text/plain", "hash": nil}},
		{"hash", "/api/contents/a.txt?content=0&hash=1",
			map[string]any{"content": nil, "hash": sha256Hex("hello"), "hash_algorithm": "sha256"}},
		{"hash with content", "/api/contents/a.txt?hash=1",
			map[string]any{"content": "hello", "hash": sha256Hex("hello")}},
		{"unknown type means file", "/api/contents/a.txt?type=bogus",
			map[string]any{"type": "file", "content": "hello"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			model := s.call("GET", tc.path, nil, http.StatusOK)
			got := map[string]any{}
			for k := range tc.want {
				got[k] = model[k]
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("model fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGetErrors(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("a.txt", "hello")
	s.writeFile("blob", "\xff\xfe")
	s.writeFile("sub/x", "")
	tests := []struct {
		name, path string
		status     int
		reason     any
	}{
		{"missing", "/api/contents/nope.txt", http.StatusNotFound, nil},
		{"binary as text", "/api/contents/blob?format=text", http.StatusBadRequest, "bad format"},
		{"bad format", "/api/contents/a.txt?format=zip", http.StatusBadRequest, nil},
		{"bad content flag", "/api/contents/a.txt?content=2", http.StatusBadRequest, nil},
		{"bad hash flag", "/api/contents/a.txt?hash=yes", http.StatusBadRequest, nil},
		{"file as directory", "/api/contents/a.txt?type=directory", http.StatusBadRequest, "bad type"},
		{"directory as file", "/api/contents/sub?type=file", http.StatusBadRequest, "bad type"},
		{"text as notebook", "/api/contents/a.txt?type=notebook", http.StatusBadRequest, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := s.do("GET", tc.path, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, data)
			}
			var body map[string]any
			if err := json.Unmarshal(data, &body); err != nil {
				t.Fatalf("error body is not JSON: %s", data)
			}
			if msg, _ := body["message"].(string); msg == "" {
				t.Errorf("error body has no message: %s", data)
			}
			if diff := cmp.Diff(tc.reason, body["reason"]); diff != "" {
				t.Errorf("reason (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDirectoryListing(t *testing.T) {
	setup := func(s *testServer) {
		for _, p := range []string{"a.txt", ".hidden", "sub/b.ipynb", ".ipynb_checkpoints/a-checkpoint.txt",
			"__pycache__/x.pyc", "x.pyc", ".~jupygo-0123", "backup~", ".hiddendir/c.txt"} {
			s.writeFile(p, "{}")
		}
	}
	tests := []struct {
		name string
		opts Options
		path string
		want []string
	}{
		{"root", Options{}, "/api/contents/", []string{"a.txt", "sub"}},
		{"root without slash", Options{}, "/api/contents", []string{"a.txt", "sub"}},
		{"subfolder", Options{}, "/api/contents/sub", []string{"b.ipynb"}},
		{"hidden allowed", Options{AllowHidden: true}, "/api/contents/",
			[]string{".hidden", ".hiddendir", "a.txt", "sub"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, tc.opts)
			setup(s)
			model := s.call("GET", tc.path, nil, http.StatusOK)
			if model["type"] != "directory" || model["format"] != "json" || model["size"] != nil {
				t.Errorf("directory model: type %v, format %v, size %v", model["type"], model["format"], model["size"])
			}
			if diff := cmp.Diff(tc.want, names(model)); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
			for _, e := range model["content"].([]any) {
				entry := e.(map[string]any)
				if entry["content"] != nil || entry["format"] != nil {
					t.Errorf("entry %v has content", entry["name"])
				}
			}
		})
	}
}

func TestListingEntryTypes(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("sub/b.ipynb", "{}")
	s.writeFile("sub/c.py", "x")
	s.writeFile("sub/d/e", "x")
	model := s.call("GET", "/api/contents/sub", nil, http.StatusOK)
	got := map[string][2]any{}
	for _, e := range model["content"].([]any) {
		entry := e.(map[string]any)
		got[entry["path"].(string)] = [2]any{entry["type"], entry["mimetype"]}
	}
	want := map[string][2]any{
		"sub/b.ipynb": {"notebook", nil},
		"sub/c.py":    {"file", "text/x-python"},
		"sub/d":       {"directory", nil},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestGetNotebookModel(t *testing.T) {
	s := newTestServer(t, Options{})
	data, err := os.ReadFile("testdata/notebooks/v4.5.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	s.writeFile("n.ipynb", string(data))
	model := s.call("GET", "/api/contents/n.ipynb?hash=1", nil, http.StatusOK)
	if model["type"] != "notebook" || model["format"] != "json" || model["mimetype"] != nil {
		t.Errorf("type %v, format %v, mimetype %v", model["type"], model["format"], model["mimetype"])
	}
	if model["hash"] != sha256Hex(string(data)) {
		t.Errorf("hash %v, want the sha256 of the file", model["hash"])
	}
	nb := model["content"].(map[string]any)
	cells := nb["cells"].([]any)
	code := cells[1].(map[string]any)
	if code["source"] != "import ipywidgets as w\nw.IntSlider()" {
		t.Errorf("source = %q, want the joined lines", code["source"])
	}
	if code["metadata"].(map[string]any)["trusted"] != false {
		t.Errorf("code cell trusted = %v, want false", code["metadata"].(map[string]any)["trusted"])
	}
	if _, ok := cells[0].(map[string]any)["metadata"].(map[string]any)["trusted"]; ok {
		t.Error("markdown cell has a trusted mark")
	}
}

func TestSaveFiles(t *testing.T) {
	s := newTestServer(t, Options{})
	s.call("PUT", "/api/contents/a.txt", map[string]any{"type": "file", "format": "text", "content": "one"},
		http.StatusCreated)
	if got := s.readFile("a.txt"); got != "one" {
		t.Errorf("after upload: %q", got)
	}
	model := s.call("PUT", "/api/contents/a.txt", map[string]any{"type": "file", "format": "text", "content": "two"},
		http.StatusOK)
	if model["content"] != nil || model["path"] != "a.txt" {
		t.Errorf("save response content %v, path %v", model["content"], model["path"])
	}
	if got := s.readFile("a.txt"); got != "two" {
		t.Errorf("after save: %q", got)
	}
	s.call("PUT", "/api/contents/b.bin", map[string]any{"type": "file", "format": "base64", "content": "AAEC\n/w=="},
		http.StatusCreated)
	if got := s.readFile("b.bin"); got != "\x00\x01\x02\xff" {
		t.Errorf("base64 upload: %q", got)
	}
	s.call("PUT", "/api/contents/newdir", map[string]any{"type": "directory"}, http.StatusCreated)
	if fi, err := os.Stat(filepath.Join(s.root, "newdir")); err != nil || !fi.IsDir() {
		t.Errorf("directory not created: %v", err)
	}
	s.call("PUT", "/api/contents/empty.ipynb", map[string]any{"type": "notebook"}, http.StatusCreated)
	want, _ := WriteNotebook(NewNotebook())
	if got := s.readFile("empty.ipynb"); got != string(want) {
		t.Errorf("new notebook without content: %q", got)
	}
}

func TestSavePreservesMode(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("script.sh", "echo 1")
	if err := os.Chmod(filepath.Join(s.root, "script.sh"), 0o750); err != nil {
		t.Fatal(err)
	}
	s.call("PUT", "/api/contents/script.sh", map[string]any{"type": "file", "format": "text", "content": "echo 2"},
		http.StatusOK)
	fi, err := os.Stat(filepath.Join(s.root, "script.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o750 {
		t.Errorf("mode after save = %v, want 0750", fi.Mode().Perm())
	}
}

func TestSaveErrors(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("a.txt", "keep")
	s.writeFile("n.ipynb", "{\n \"cells\": [],\n \"metadata\": {},\n \"nbformat\": 4,\n \"nbformat_minor\": 5\n}\n")
	tests := []struct {
		name, path string
		body       any
		status     int
	}{
		{"no type", "/api/contents/a.txt", map[string]any{"format": "text", "content": "x"}, http.StatusBadRequest},
		{"no content", "/api/contents/a.txt", map[string]any{"type": "file", "format": "text"}, http.StatusBadRequest},
		{"no format", "/api/contents/a.txt", map[string]any{"type": "file", "content": "x"}, http.StatusBadRequest},
		{"bad base64", "/api/contents/a.txt", map[string]any{"type": "file", "format": "base64", "content": "!!"},
			http.StatusBadRequest},
		{"content not string", "/api/contents/a.txt", map[string]any{"type": "file", "format": "text", "content": 5},
			http.StatusBadRequest},
		{"copy with put", "/api/contents/a.txt", map[string]any{"copy_from": "n.ipynb"}, http.StatusBadRequest},
		{"invalid json", "/api/contents/a.txt", "{", http.StatusBadRequest},
		{"notebook cells not list", "/api/contents/n.ipynb",
			map[string]any{"type": "notebook", "content": map[string]any{"nbformat": 4, "nbformat_minor": 5,
				"metadata": map[string]any{}, "cells": "x"}}, http.StatusBadRequest},
		{"notebook content string", "/api/contents/n.ipynb",
			map[string]any{"type": "notebook", "content": "x"}, http.StatusBadRequest},
		{"notebook version 3", "/api/contents/n.ipynb",
			map[string]any{"type": "notebook", "content": map[string]any{"nbformat": 3, "nbformat_minor": 0,
				"metadata": map[string]any{}, "cells": []any{}}}, http.StatusBadRequest},
		{"notebook cell without metadata", "/api/contents/n.ipynb",
			map[string]any{"type": "notebook", "content": map[string]any{"nbformat": 4, "nbformat_minor": 5,
				"metadata": map[string]any{}, "cells": []any{map[string]any{"cell_type": "code", "source": ""}}}},
			http.StatusBadRequest},
	}
	before := treeDigest(t, s.root)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, msg := s.status("PUT", tc.path, tc.body)
			if status != tc.status {
				t.Errorf("status %d (%s), want %d", status, msg, tc.status)
			}
			if msg == "" {
				t.Error("no error message")
			}
		})
	}
	if diff := cmp.Diff(before, treeDigest(t, s.root)); diff != "" {
		t.Errorf("files changed (-before +after):\n%s", diff)
	}
}

func TestSaveNotebookAndHash(t *testing.T) {
	s := newTestServer(t, Options{})
	data, err := os.ReadFile("testdata/notebooks/v4.4.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	s.writeFile("n.ipynb", string(data))
	model := s.call("GET", "/api/contents/n.ipynb", nil, http.StatusOK)

	saved := s.call("PUT", "/api/contents/n.ipynb?hash=1",
		map[string]any{"type": "notebook", "format": "json", "content": model["content"]}, http.StatusOK)
	if got := s.readFile("n.ipynb"); got != string(data) {
		t.Errorf("saving the unchanged notebook changed its bytes:\n%s", cmp.Diff(string(data), got))
	}
	after := s.call("GET", "/api/contents/n.ipynb?content=0&hash=1", nil, http.StatusOK)
	for _, key := range []string{"hash", "last_modified"} {
		if saved[key] != after[key] || saved[key] == nil {
			t.Errorf("%s: save returned %v, GET returns %v", key, saved[key], after[key])
		}
	}
	if _, err := os.Stat(filepath.Join(s.root, ".ipynb_checkpoints", "n-checkpoint.ipynb")); err != nil {
		t.Errorf("first save made no checkpoint: %v", err)
	}
}

func TestNewUntitled(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("sub/keep", "")
	tests := []struct {
		body         any
		path, want   string
		wantType     string
		wantLocation string
	}{
		{map[string]any{"type": "notebook"}, "/api/contents/", "Untitled.ipynb", "notebook",
			"/api/contents/Untitled.ipynb"},
		{map[string]any{"type": "notebook"}, "/api/contents/", "Untitled1.ipynb", "notebook", ""},
		{map[string]any{"ext": ".ipynb"}, "/api/contents/", "Untitled2.ipynb", "notebook", ""},
		{map[string]any{"type": "file", "ext": ".txt"}, "/api/contents/", "untitled.txt", "file", ""},
		{map[string]any{"type": "file", "ext": ".txt"}, "/api/contents/", "untitled1.txt", "file", ""},
		{map[string]any{"type": "file"}, "/api/contents/", "untitled", "file", ""},
		{map[string]any{"type": "directory"}, "/api/contents/", "Untitled Folder", "directory",
			"/api/contents/Untitled%20Folder"},
		{map[string]any{"type": "directory"}, "/api/contents/", "Untitled Folder 1", "directory", ""},
		{nil, "/api/contents/sub", "sub/untitled", "file", ""},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			resp, data := s.do("POST", tc.path, tc.body)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("status %d: %s", resp.StatusCode, data)
			}
			var model map[string]any
			_ = json.Unmarshal(data, &model)
			if model["path"] != tc.want || model["type"] != tc.wantType {
				t.Errorf("created %v (%v), want %s (%s)", model["path"], model["type"], tc.want, tc.wantType)
			}
			if tc.wantLocation != "" && resp.Header.Get("Location") != tc.wantLocation {
				t.Errorf("Location = %q, want %q", resp.Header.Get("Location"), tc.wantLocation)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(s.root, ".ipynb_checkpoints", "Untitled-checkpoint.ipynb")); err != nil {
		t.Errorf("new notebook has no checkpoint: %v", err)
	}
	if status, _ := s.status("POST", "/api/contents/sub/keep", map[string]any{"type": "file"}); status != 400 {
		t.Errorf("POST to a file: status %d, want 400", status)
	}
	if status, _ := s.status("POST", "/api/contents/nowhere", map[string]any{"type": "file"}); status != 404 {
		t.Errorf("POST to a missing folder: status %d, want 404", status)
	}
}

func TestNewUntitledConcurrent(t *testing.T) {
	s := newTestServer(t, Options{})
	const n = 8
	paths := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			model, err := s.m.NewUntitled("", "file", ".txt")
			if err != nil {
				t.Errorf("NewUntitled: %v", err)
				return
			}
			paths[i] = model.Path
		})
	}
	wg.Wait()
	sort.Strings(paths)
	want := []string{"untitled.txt"}
	for i := 1; i < n; i++ {
		want = append(want, fmt.Sprintf("untitled%d.txt", i))
	}
	sort.Strings(want)
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

func TestCopy(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("a.txt", "A")
	s.writeFile("x.tar.gz", "X")
	s.writeFile("nb.v1.ipynb", "{\n \"cells\": [],\n \"metadata\": {},\n \"nbformat\": 4,\n \"nbformat_minor\": 5\n}\n")
	s.writeFile("d/one.txt", "1")
	s.writeFile("d/e/two.txt", "2")
	s.writeFile("sub/keep", "")

	tests := []struct {
		name, path, from, want string
	}{
		{"first copy", "/api/contents/", "a.txt", "a-Copy1.txt"},
		{"second copy", "/api/contents/", "a.txt", "a-Copy2.txt"},
		{"copy of a copy", "/api/contents/", "a-Copy1.txt", "a-Copy3.txt"},
		{"into another folder", "/api/contents/sub", "a.txt", "sub/a.txt"},
		{"multi-part extension", "/api/contents/", "x.tar.gz", "x-Copy1.tar.gz"},
		{"notebook with dots", "/api/contents/", "nb.v1.ipynb", "nb.v1-Copy1.ipynb"},
		{"to a new path", "/api/contents/sub/b.txt", "a.txt", "sub/b.txt"},
		{"folder", "/api/contents/", "d", "d-Copy1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			model := s.call("POST", tc.path, map[string]any{"copy_from": tc.from}, http.StatusCreated)
			if model["path"] != tc.want {
				t.Errorf("copy at %v, want %s", model["path"], tc.want)
			}
		})
	}

	if got := s.readFile("sub/b.txt"); got != "A" {
		t.Errorf("copied bytes %q", got)
	}
	if got := s.readFile("d-Copy1/e/two.txt"); got != "2" {
		t.Errorf("copied folder file %q", got)
	}
	if status, _ := s.status("POST", "/api/contents/", map[string]any{"copy_from": "missing.txt"}); status != 404 {
		t.Errorf("copy of a missing file: status %d, want 404", status)
	}
	if status, _ := s.status("POST", "/api/contents/nowhere/b.txt", map[string]any{"copy_from": "a.txt"}); status != 404 {
		t.Errorf("copy into a missing folder: status %d, want 404", status)
	}
}

func TestRenameAndDelete(t *testing.T) {
	s := newTestServer(t, Options{AlwaysDeleteDir: true})
	s.writeFile("a.txt", "A")
	s.writeFile("sub/keep", "")
	s.writeFile("d/x/y.txt", "y")
	s.call("POST", "/api/contents/a.txt/checkpoints", nil, http.StatusCreated)

	resp, data := s.do("PATCH", "/api/contents/a.txt", map[string]any{"path": "sub/b.txt"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("rename: status %d: %s", resp.StatusCode, data)
	}
	if got := resp.Header.Get("Location"); got != "/api/contents/sub/b.txt" {
		t.Errorf("Location = %q", got)
	}
	if s.readFile("a.txt") != "<missing>" || s.readFile("sub/b.txt") != "A" {
		t.Error("file not moved")
	}
	if s.readFile("sub/.ipynb_checkpoints/b-checkpoint.txt") != "A" {
		t.Error("checkpoint not moved with the file")
	}

	errorCases := []struct {
		name, path string
		body       any
		status     int
	}{
		{"missing source", "/api/contents/nope.txt", map[string]any{"path": "z.txt"}, http.StatusNotFound},
		{"missing target folder", "/api/contents/sub/b.txt", map[string]any{"path": "no/z.txt"}, http.StatusNotFound},
		{"no body", "/api/contents/sub/b.txt", nil, http.StatusBadRequest},
		{"folder into itself", "/api/contents/d", map[string]any{"path": "d/x/d"}, http.StatusBadRequest},
		{"root", "/api/contents/", map[string]any{"path": "r"}, http.StatusBadRequest},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			if status, msg := s.status("PATCH", tc.path, tc.body); status != tc.status {
				t.Errorf("status %d (%s), want %d", status, msg, tc.status)
			}
		})
	}

	s.call("DELETE", "/api/contents/sub/b.txt", nil, http.StatusNoContent)
	if s.readFile("sub/b.txt") != "<missing>" || s.readFile("sub/.ipynb_checkpoints/b-checkpoint.txt") != "<missing>" {
		t.Error("file or its checkpoint left after delete")
	}
	s.call("DELETE", "/api/contents/d", nil, http.StatusNoContent)
	if _, err := os.Stat(filepath.Join(s.root, "d")); !os.IsNotExist(err) {
		t.Errorf("non-empty folder left after delete: %v", err)
	}
	if status, _ := s.status("DELETE", "/api/contents/d", nil); status != http.StatusNotFound {
		t.Errorf("delete of a missing path: status %d, want 404", status)
	}
	if status, _ := s.status("DELETE", "/api/contents/", nil); status != http.StatusBadRequest {
		t.Errorf("delete of the root: status %d, want 400", status)
	}
}

func TestCheckpointsAPI(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("dir/archive.tar.gz", "v1")

	list := func() []any {
		t.Helper()
		resp, data := s.do("GET", "/api/contents/dir/archive.tar.gz/checkpoints", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("list: status %d: %s", resp.StatusCode, data)
		}
		var v []any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("list is not a JSON array: %s", data)
		}
		return v
	}
	if got := list(); len(got) != 0 {
		t.Errorf("checkpoints before creation: %v", got)
	}

	resp, data := s.do("POST", "/api/contents/dir/archive.tar.gz/checkpoints", nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: status %d: %s", resp.StatusCode, data)
	}
	if got := resp.Header.Get("Location"); got != "/api/contents/dir/archive.tar.gz/checkpoints/checkpoint" {
		t.Errorf("Location = %q", got)
	}
	var cp map[string]any
	_ = json.Unmarshal(data, &cp)
	if cp["id"] != "checkpoint" || !isoTime.MatchString(fmt.Sprint(cp["last_modified"])) {
		t.Errorf("checkpoint model %v", cp)
	}
	if got := s.readFile("dir/.ipynb_checkpoints/archive.tar-checkpoint.gz"); got != "v1" {
		t.Errorf("checkpoint file holds %q", got)
	}
	if got := list(); len(got) != 1 {
		t.Errorf("checkpoints after creation: %v", got)
	}

	s.writeFile("dir/archive.tar.gz", "v2")
	s.call("POST", "/api/contents/dir/archive.tar.gz/checkpoints/checkpoint", nil, http.StatusNoContent)
	if got := s.readFile("dir/archive.tar.gz"); got != "v1" {
		t.Errorf("after restore the file holds %q", got)
	}
	s.call("DELETE", "/api/contents/dir/archive.tar.gz/checkpoints/checkpoint", nil, http.StatusNoContent)
	if got := list(); len(got) != 0 {
		t.Errorf("checkpoints after deletion: %v", got)
	}
	for _, method := range []string{"DELETE", "POST"} {
		if status, _ := s.status(method, "/api/contents/dir/archive.tar.gz/checkpoints/checkpoint", nil); status != 404 {
			t.Errorf("%s of a missing checkpoint: status %d, want 404", method, status)
		}
	}
	if status, _ := s.status("POST", "/api/contents/nope/checkpoints", nil); status != 404 {
		t.Errorf("checkpoint of a missing file: status %d, want 404", status)
	}
}

func TestCheckpointNames(t *testing.T) {
	tests := []struct{ path, want string }{
		{"a.ipynb", ".ipynb_checkpoints/a-checkpoint.ipynb"},
		{"d/archive.tar.gz", "d/.ipynb_checkpoints/archive.tar-checkpoint.gz"},
		{"noext", ".ipynb_checkpoints/noext-checkpoint"},
		{"..dots", ".ipynb_checkpoints/..dots-checkpoint"},
		{"a.", ".ipynb_checkpoints/a-checkpoint."},
	}
	m := &Manager{}
	for _, tc := range tests {
		dir, name := m.checkpointFile(tc.path, CheckpointID)
		if got := filepath.Join(dir, name); got != tc.want {
			t.Errorf("checkpoint of %s = %s, want %s", tc.path, got, tc.want)
		}
	}
}

func TestTrust(t *testing.T) {
	s := newTestServer(t, Options{})
	nb := NewNotebook()
	nb["cells"] = []any{map[string]any{
		"cell_type": "code", "execution_count": json.Number("1"), "metadata": map[string]any{}, "source": "x",
		"outputs": []any{map[string]any{"output_type": "display_data", "metadata": map[string]any{},
			"data": map[string]any{"text/html": "<script>1</script>"}}},
	}}
	data, err := WriteNotebook(nb)
	if err != nil {
		t.Fatal(err)
	}
	s.writeFile("n.ipynb", string(data))
	trusted := func() any {
		t.Helper()
		model := s.call("GET", "/api/contents/n.ipynb", nil, http.StatusOK)
		cell := model["content"].(map[string]any)["cells"].([]any)[0].(map[string]any)
		return cell["metadata"].(map[string]any)["trusted"]
	}
	if got := trusted(); got != false {
		t.Fatalf("unknown notebook trusted = %v, want false", got)
	}
	s.call("POST", "/api/contents/n.ipynb/trust", nil, http.StatusCreated)
	if got := trusted(); got != true {
		t.Errorf("after the trust request trusted = %v, want true", got)
	}

	model := s.call("GET", "/api/contents/n.ipynb", nil, http.StatusOK)
	content := model["content"].(map[string]any)
	content["cells"].([]any)[0].(map[string]any)["source"] = "y"
	s.call("PUT", "/api/contents/n.ipynb", map[string]any{"type": "notebook", "content": content}, http.StatusOK)
	if got := trusted(); got != true {
		t.Errorf("after saving trusted cells trusted = %v, want true", got)
	}
	s.writeFile("n.ipynb", string(data)+" ")
	if got := trusted(); got != true {
		t.Errorf("whitespace change: trusted = %v, want true (signatures cover content)", got)
	}
}

func TestResolveDirAndExists(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("sub/n.ipynb", "{}")
	s.writeFile(".hid/x", "")
	tests := []struct {
		path, want string
		exists     bool
	}{
		{"", s.root, true},
		{"sub", filepath.Join(s.root, "sub"), true},
		{"sub/n.ipynb", filepath.Join(s.root, "sub"), true},
		{"sub/new/Untitled.ipynb", filepath.Join(s.root, "sub"), false},
		{"console-1", s.root, false},
		{".hid/x", filepath.Join(s.root, ".hid"), false},
	}
	for _, tc := range tests {
		got, err := s.m.ResolveDir(tc.path)
		if err != nil || got != tc.want {
			t.Errorf("ResolveDir(%q) = %q, %v; want %q", tc.path, got, err, tc.want)
		}
		if got := s.m.Exists(tc.path); got != tc.exists {
			t.Errorf("Exists(%q) = %v, want %v", tc.path, got, tc.exists)
		}
	}
	if _, err := s.m.ResolveDir("../x"); err == nil {
		t.Error("ResolveDir(../x) succeeded")
	}
	if s.m.Root() != s.root {
		t.Errorf("Root() = %q, want %q", s.m.Root(), s.root)
	}
}

func TestLocationUnderBaseURL(t *testing.T) {
	root := t.TempDir()
	m, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	mux := http.NewServeMux()
	m.Register(mux)
	srv := httptest.NewServer(http.StripPrefix("/user/alice", mux))
	t.Cleanup(srv.Close)
	s := &testServer{t: t, root: root, m: m, url: srv.URL, client: srv.Client()}

	resp, data := s.do("POST", "/user/alice/api/contents/", map[string]any{"type": "directory"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d: %s", resp.StatusCode, data)
	}
	if got, want := resp.Header.Get("Location"), "/user/alice/api/contents/Untitled%20Folder"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
}
