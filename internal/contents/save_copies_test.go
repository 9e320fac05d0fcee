package contents

import (
	"encoding/base64"
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
