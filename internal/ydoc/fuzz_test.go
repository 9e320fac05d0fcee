package ydoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/jupygo/jupygo/internal/contents"
	"github.com/jupygo/jupygo/yjs"
)

// FuzzNotebookSet sets fresh and loaded documents to arbitrary bytes. Set
// must never panic, and a notebook it accepts must save and load again to
// the same bytes.
func FuzzNotebookSet(f *testing.F) {
	files := testNotebooks(f)
	for _, file := range files {
		f.Add(file)
	}
	f.Add([]byte(`{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`))
	f.Add([]byte(`{"cells": [{"cell_type": "code", "id": "a", "metadata": {}, "outputs": [{"output_type": "stream", "name": "stdout", "text": "x"}], "source": "", "execution_count": null}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`))
	loaded := files["v4.5.ipynb"]
	f.Fuzz(func(t *testing.T, data []byte) {
		doc := yjs.NewDoc()
		if err := (Notebook{}).Set(doc, data); err != nil {
			return
		}
		saved, err := Notebook{}.Content(doc)
		if err != nil {
			t.Fatalf("Content of an accepted notebook: %v", err)
		}
		again := yjs.NewDoc()
		if err := (Notebook{}).Set(again, saved); err != nil {
			t.Fatalf("Set of our own output: %v\n%s", err, saved)
		}
		if got, _ := (Notebook{}).Content(again); !bytes.Equal(got, saved) {
			t.Fatalf("saving twice differs:\n%s\n%s", saved, got)
		}

		// The same bytes as a reload of another notebook.
		doc = yjs.NewDoc()
		if err := (Notebook{}).Set(doc, loaded); err != nil {
			t.Fatal(err)
		}
		if err := (Notebook{}).Set(doc, data); err != nil {
			t.Fatalf("reload of an accepted notebook: %v", err)
		}
		if _, err := (Notebook{}).Content(doc); err != nil {
			t.Fatalf("Content after reload: %v", err)
		}
	})
}

// FuzzFileSet sets text documents to arbitrary bytes, fresh and over
// another text.
func FuzzFileSet(f *testing.F) {
	for _, s := range []string{"", "a\r\nb", "é😀\n", "\xff"} {
		f.Add([]byte(s), []byte("é😀 old\r\n"))
	}
	f.Fuzz(func(t *testing.T, data, before []byte) {
		doc := yjs.NewDoc()
		_ = File{}.Set(doc, before)
		if err := (File{}).Set(doc, data); err != nil {
			return
		}
		got, err := File{}.Content(doc)
		want := bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Content = %q, %v; want %q", got, err, want)
		}
	})
}

// FuzzNotebookContent applies an arbitrary update, as a client may send
// one, and saves the result. Content must return a notebook or an error,
// never panic.
func FuzzNotebookContent(f *testing.F) {
	for _, file := range testNotebooks(f) {
		doc := yjs.NewDoc()
		if err := (Notebook{}).Set(doc, file); err != nil {
			f.Fatal(err)
		}
		f.Add(doc.EncodeStateAsUpdate(nil))
	}
	f.Fuzz(func(t *testing.T, update []byte) {
		doc := yjs.NewDoc()
		if err := doc.ApplyUpdate(update, nil); err != nil {
			return
		}
		data, err := (Notebook{}).Content(doc)
		if err != nil {
			t.Fatalf("Content of a doc outside the schema: %v", err)
		}
		nb, err := contents.ReadNotebook(data)
		if err != nil {
			t.Fatalf("the saved notebook does not read: %v\n%s", err, data)
		}
		if nb["nbformat"] == json.Number("4") {
			if err := contents.ValidateNotebook(nb); err != nil {
				t.Fatalf("the saved notebook is not valid: %v\n%s", err, data)
			}
		}
		_, _ = File{}.Content(yjs.NewDoc())
	})
}

// FuzzCheckUpdate checks updates against a loaded notebook. One that
// passes must leave a document that saves without repairs.
func FuzzCheckUpdate(f *testing.F) {
	loaded := testNotebooks(f)["v4.5.ipynb"]
	for _, file := range testNotebooks(f) {
		f.Add(setNew(f, Notebook{}, file).EncodeStateAsUpdate(nil))
	}
	server := setNew(f, Notebook{}, loaded)
	f.Add(change(f, peer(f, server), func(doc *yjs.Doc) error { return newCell(doc, 1, validCode) }))
	f.Add(change(f, peer(f, server), func(doc *yjs.Doc) error {
		return cellAt(doc, 0).Set("execution_count", "x")
	}))
	f.Fuzz(func(t *testing.T, update []byte) {
		doc := setNew(t, Notebook{}, loaded)
		if err := CheckUpdate(TypeNotebook, doc, update); err != nil {
			return
		}
		if err := doc.ApplyUpdate(update, nil); err != nil {
			t.Fatalf("an update that passed the check does not apply: %v", err)
		}
		_, repairs, err := Notebook{}.ContentRepairs(doc)
		if err != nil || len(repairs) > 0 {
			t.Fatalf("an update that passed the check needs repairs: %v %v", err, repairs)
		}
	})
}

// FuzzNotebookReload builds two notebooks from the input and sets a
// document to the first and then to the second. The result must save as
// the second notebook does from a fresh document.
func FuzzNotebookReload(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, []byte{9, 8, 7, 6, 5, 4, 3, 2, 1, 0})
	f.Add([]byte{0x10, 0x21, 0x32}, []byte{0x32, 0x10})
	f.Add([]byte{0x80, 0x81, 0x82, 0x83}, []byte{0x83, 0x80, 0x82})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		first, second := fuzzNotebook(t, a), fuzzNotebook(t, b)
		doc := yjs.NewDoc()
		if err := (Notebook{}).Set(doc, first); err != nil {
			t.Fatalf("Set of the first notebook: %v\n%s", err, first)
		}
		if err := (Notebook{}).Set(doc, second); err != nil {
			t.Fatalf("reload: %v\n%s", err, second)
		}
		want := content(t, Notebook{}, setNew(t, Notebook{}, second))
		got := content(t, Notebook{}, doc)
		if !bytes.Equal(got, want) && !sameButIDs(t, got, want) {
			t.Fatalf("reload saves\n%s\nwant\n%s", got, want)
		}
	})
}

// fuzzNotebook makes a notebook with a cell per input byte. The low bits
// choose the source and the outputs, the high bits the id and the type,
// and the first byte the format version (4.4 without ids, or 4.5).
func fuzzNotebook(t *testing.T, data []byte) []byte {
	sources := []string{"", "a\n", "a\nb\n", "b\n", "x = 1\nprint(x)\n", "é😀\n"}
	var cells []map[string]any
	for _, c := range data {
		source := sources[int(c&7)%len(sources)]
		id := fmt.Sprintf("id%d", c>>5)
		if c>>5 == 7 {
			id = ""
		}
		switch c >> 3 & 3 {
		case 0:
			cells = append(cells, markdown(id, source))
		case 1:
			cells = append(cells, code(id, source))
		default:
			cells = append(cells, code(id, source, stream(source), stream("out\n"+source)))
		}
	}
	minor := 5
	if len(data) > 0 && data[0]&0x80 != 0 {
		minor = 4
		for _, c := range cells {
			delete(c, "id")
		}
	}
	return notebookFile(t, minor, cells...)
}

// sameButIDs reports whether two saved notebooks differ only in the ids
// of cells that have none in the notebook file, which a reload may take
// from the cells they replace. want is the notebook saved from a fresh
// document, where such cells have derived ids.
func sameButIDs(t *testing.T, got, want []byte) bool {
	read := func(data []byte) []any {
		nb, err := contents.ReadNotebook(data)
		if err != nil {
			t.Fatal(err)
		}
		return nb["cells"].([]any)
	}
	a, b := read(got), read(want)
	if len(a) != len(b) {
		return false
	}
	for i := range b {
		if id, _ := b[i].(map[string]any)["id"].(string); !strings.HasPrefix(id, "id") {
			delete(a[i].(map[string]any), "id")
			delete(b[i].(map[string]any), "id")
		}
	}
	return reflect.DeepEqual(a, b)
}
