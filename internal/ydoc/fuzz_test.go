package ydoc

import (
	"bytes"
	"testing"

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
		if _, err := (Notebook{}).Content(doc); err != nil {
			return
		}
		_, _ = File{}.Content(yjs.NewDoc())
	})
}
