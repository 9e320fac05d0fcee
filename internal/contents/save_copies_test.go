package contents

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestPutHashOfSavedBytes saves text and base64 files larger than the
// pieces that fileData.sum256 hashes, and a notebook, with hash=1, and
// checks the hash and the bytes on disk.
func TestPutHashOfSavedBytes(t *testing.T) {
	s := newTestServer(t, Options{})
	text := strings.Repeat("line é 😀 \"quoted\" \\ tab\t\n", 10<<10) + "end"
	binary := []byte(strings.Repeat("\x00\x01\xfe\xff binary", 20<<10))
	for _, tc := range []struct {
		name  string
		model map[string]any
		want  string
	}{
		{"text.txt", map[string]any{"type": "file", "format": "text", "content": text}, text},
		{"empty.txt", map[string]any{"type": "file", "format": "text", "content": ""}, ""},
		{"data.bin", map[string]any{"type": "file", "format": "base64",
			"content": base64.StdEncoding.EncodeToString(binary)}, string(binary)},
		{"nb.ipynb", map[string]any{"type": "notebook", "content": NewNotebook()}, ""},
	} {
		model := s.call("PUT", "/api/contents/"+tc.name+"?hash=1", tc.model, 201)
		saved := s.readFile(tc.name)
		if tc.name != "nb.ipynb" && saved != tc.want {
			t.Errorf("%s: saved %d bytes, want the %d bytes sent", tc.name, len(saved), len(tc.want))
		}
		if model["hash"] != sha256Hex(saved) || model["hash_algorithm"] != "sha256" {
			t.Errorf("%s: hash %v (%v), want the sha256 %s of the saved bytes",
				tc.name, model["hash"], model["hash_algorithm"], sha256Hex(saved))
		}
	}
}

// TestSaveTextAllocatesNoCopy saves a 4 MiB text file and checks that the
// text is written from the request's string, without a copy of it.
func TestSaveTextAllocatesNoCopy(t *testing.T) {
	root := t.TempDir()
	m, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	text := strings.Repeat("a line of a large text file\n", 150<<10)
	save := SaveRequest{Type: "file", Format: "text", Content: text, Hash: true}
	if _, err := m.Save("big.txt", save); err != nil { // allocations of the first call only
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := m.Save("big.txt", save); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > uint64(len(text))/4 {
		t.Errorf("saving %d bytes of text allocated %d bytes, want at most %d",
			len(text), allocated, len(text)/4)
	}
	data, err := os.ReadFile(filepath.Join(root, "big.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != text {
		t.Errorf("saved %d bytes, want the %d bytes of the text", len(data), len(text))
	}
}

// TestSaveEncodedNotebook saves notebooks as EncodedNotebook values and
// checks that the file holds what saving the plain notebook writes: the
// literals of the file it replaces kept, and missing cell ids added.
func TestSaveEncodedNotebook(t *testing.T) {
	root := t.TempDir()
	m, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cell := func(id any, count string) map[string]any {
		c := map[string]any{"cell_type": "code", "execution_count": json.Number(count),
			"metadata": map[string]any{}, "outputs": []any{}, "source": "x = 1"}
		if id != nil {
			c["id"] = id
		}
		return c
	}
	notebook := func(scale string, cells ...any) map[string]any {
		return map[string]any{"cells": cells, "metadata": map[string]any{"scale": json.Number(scale)},
			"nbformat": json.Number("4"), "nbformat_minor": json.Number("5")}
	}
	tests := []struct {
		name     string
		previous string // the file's bytes before the save, or "" for none
		nb       map[string]any
		want     string
	}{
		{
			name: "new file",
			nb:   notebook("2", cell("a", "1")),
		},
		{
			name:     "literal of the replaced file kept",
			previous: `{"cells": [], "metadata": {"scale": 1.0}, "nbformat": 4, "nbformat_minor": 5}`,
			nb:       notebook("1", cell("a", "1")),
			want:     `"scale": 1.0`,
		},
		{
			name: "missing and repeated ids repaired",
			nb:   notebook("2", cell("a", "1"), cell(nil, "2"), cell("a", "3")),
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("n%d.ipynb", i)
			if tt.previous != "" {
				if err := os.WriteFile(filepath.Join(root, name), []byte(tt.previous), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			enc, err := EncodeNotebook(tt.nb, 0)
			if err != nil {
				t.Fatal(err)
			}
			model, err := m.Save(name, SaveRequest{Type: "notebook", Content: enc, Hash: true})
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(root, name))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(got), tt.want) {
				t.Errorf("saved file lacks %q:\n%s", tt.want, got)
			}
			read, err := ReadNotebook(got)
			if err != nil {
				t.Fatal(err)
			}
			if err := ValidateNotebook(read); err != nil {
				t.Errorf("saved notebook is invalid: %v\n%s", err, got)
			}
			ids := map[any]bool{}
			for _, c := range read["cells"].([]any) {
				id := c.(map[string]any)["id"]
				if id == nil || ids[id] {
					t.Errorf("cell id %v missing or repeated:\n%s", id, got)
				}
				ids[id] = true
			}
			if sum := sha256.Sum256(got); model.Hash == nil || *model.Hash != hex.EncodeToString(sum[:]) {
				t.Errorf("hash %v is not the file's", model.Hash)
			}
		})
	}
}
