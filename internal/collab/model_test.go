package collab

import (
	"bytes"
	"os"
	"testing"

	"github.com/jupygo/jupygo/yjs"
)

func TestTextModelLoadIsDeterministic(t *testing.T) {
	content := []byte("print('hi')\r\n# é 😀\r\n")
	var updates [][]byte
	for range 2 {
		doc := yjs.NewDoc()
		if err := setDeterministic(modelFor("file"), doc, content, nil); err != nil {
			t.Fatal(err)
		}
		updates = append(updates, doc.EncodeStateAsUpdate(nil))
		got, err := modelFor("file").Content(doc)
		if err != nil {
			t.Fatal(err)
		}
		if want := "print('hi')\n# é 😀\n"; string(got) != want {
			t.Errorf("content %q, want %q", got, want)
		}
	}
	if !bytes.Equal(updates[0], updates[1]) {
		t.Errorf("two loads of one file gave different histories:\n%x\n%x", updates[0], updates[1])
	}
}

func TestTextModelSetChangesLeast(t *testing.T) {
	tests := []struct {
		name, old, new string
		inserted       string
		deleted        int // UTF-16 code units
	}{
		{"append", "ab", "abc", "c", 0},
		{"middle", "a😀b", "a😀xb", "x", 0},
		{"replace emoji", "a😀b", "a😁b", "😁", 2},
		{"delete line", "one\ntwo\nthree\n", "one\nthree\n", "", 4},
		{"same", "same", "same", "", 0},
		{"CRLF only", "a\nb", "a\r\nb", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := yjs.NewDoc()
			text := doc.GetText("source")
			if err := text.Insert(0, tt.old, nil); err != nil {
				t.Fatal(err)
			}
			var inserted string
			var deleted int
			text.Observe(func(e *yjs.Event) {
				for _, d := range e.Delta() {
					if s, ok := d.Insert.(string); ok {
						inserted += s
					}
					deleted += d.Delete
				}
			})
			if err := modelFor("file").Set(doc, []byte(tt.new)); err != nil {
				t.Fatal(err)
			}
			want := string(bytes.ReplaceAll([]byte(tt.new), []byte("\r\n"), []byte("\n")))
			if got := text.String(); got != want {
				t.Errorf("text %q, want %q", got, want)
			}
			if inserted != tt.inserted || deleted != tt.deleted {
				t.Errorf("inserted %q and deleted %d, want %q and %d",
					inserted, deleted, tt.inserted, tt.deleted)
			}
		})
	}
}

func TestTextModelRejectsInvalidUTF8(t *testing.T) {
	if err := modelFor("file").Set(yjs.NewDoc(), []byte{0xff}); err == nil {
		t.Error("Set accepted bytes that are not UTF-8")
	}
}

// FuzzTextModelSet loads one text and then another into a doc: the doc
// must end with the second, with LF line ends.
func FuzzTextModelSet(f *testing.F) {
	f.Add("ab", "abc")
	f.Add("a😀b", "a😁b")
	f.Add("x\r\ny", "x\ny\n")
	f.Fuzz(func(t *testing.T, old, new string) {
		doc := yjs.NewDoc()
		if err := modelFor("file").Set(doc, []byte(old)); err != nil {
			return
		}
		if err := modelFor("file").Set(doc, []byte(new)); err != nil {
			return
		}
		want := string(bytes.ReplaceAll([]byte(new), []byte("\r\n"), []byte("\n")))
		if got := doc.GetText("source").String(); got != want {
			t.Fatalf("text %q, want %q", got, want)
		}
	})
}

// TestDeterministicLoadMatchesFreshDoc loads files into a doc with a client
// id of its own. The doc must hold the state that the model builds in a
// fresh doc of client id 0, from one update, and keep its own id.
func TestDeterministicLoadMatchesFreshDoc(t *testing.T) {
	v3, err := os.ReadFile("../ydoc/testdata/v3/ipython2.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, docType string
		content       []byte
	}{
		{"notebook", "notebook", benchNotebook(t, 20, 3)},
		{"notebook without cells", "notebook",
			[]byte(`{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}` + "\n")},
		{"version 3 notebook", "notebook", v3},
		{"text", "file", []byte("print('hi')\r\n# é 😀\r\n")},
		{"empty text", "file", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := modelFor(tt.docType)
			fresh := yjs.NewDoc(yjs.WithClientID(0))
			if err := m.Set(fresh, tt.content); err != nil {
				t.Fatal(err)
			}
			doc := yjs.NewDoc(yjs.WithClientID(42))
			updates := 0
			doc.OnUpdate(func([]byte, any, *yjs.Transaction) { updates++ })
			if err := setDeterministic(m, doc, tt.content, nil); err != nil {
				t.Fatal(err)
			}
			if got, want := doc.EncodeStateAsUpdate(nil), fresh.EncodeStateAsUpdate(nil); !bytes.Equal(got, want) {
				t.Errorf("loaded state differs from a fresh doc's:\n%x\n%x", got, want)
			}
			if updates > 1 {
				t.Errorf("the load made %d updates, want at most 1", updates)
			}
			if id := doc.ClientID(); id != 42 {
				t.Errorf("client id after the load is %d, want 42", id)
			}
		})
	}
}

// TestDeterministicLoadErrorLeavesDocEmpty loads an invalid notebook and
// checks that the doc stays empty.
func TestDeterministicLoadErrorLeavesDocEmpty(t *testing.T) {
	doc := yjs.NewDoc(yjs.WithClientID(42))
	err := setDeterministic(modelFor("notebook"), doc, []byte(`{"cells": 3}`), nil)
	if err == nil {
		t.Fatal("an invalid notebook loaded without error")
	}
	if sv := doc.StateVector(); len(sv) != 0 {
		t.Errorf("the failed load left state %v", sv)
	}
}
