package ydoc

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jupygo/jupygo/yjs"
)

func TestForTypes(t *testing.T) {
	for _, tc := range []struct {
		docType string
		want    Model
	}{
		{"notebook", Notebook{}}, {"file", File{}}, {"unicode", File{}}, {"blob", Blob{}}, {"markdown", File{}}, {"", File{}},
	} {
		if got := For(tc.docType); got != tc.want {
			t.Errorf("For(%q) = %T, want %T", tc.docType, got, tc.want)
		}
	}
}

func TestVersion(t *testing.T) {
	for docType, want := range map[string]string{"notebook": "2.0.0", "blob": "2.0.0", "file": "1.0.0", "unicode": "1.0.0", "x": "1.0.0"} {
		if got := Version(docType); got != want {
			t.Errorf("Version(%q) = %q, want %q", docType, got, want)
		}
	}
}

func TestFileCRLF(t *testing.T) {
	doc := setNew(t, File{}, []byte("a\r\nb\rc\r\n"))
	if got := doc.GetText("source").String(); got != "a\nb\rc\n" {
		t.Errorf("source = %q, want CRLF turned into LF only", got)
	}
	if got := content(t, File{}, doc); string(got) != "a\nb\rc\n" {
		t.Errorf("Content = %q", got)
	}
}

func TestFileDeterministic(t *testing.T) {
	data := []byte("print('héllo 😀')\n")
	a := setNew(t, File{}, data).EncodeStateAsUpdate(nil)
	b := setNew(t, File{}, data).EncodeStateAsUpdate(nil)
	if !bytes.Equal(a, b) {
		t.Error("two loads of the same text differ")
	}
}

func TestFileReload(t *testing.T) {
	for _, tc := range []struct{ name, before, after string }{
		{"insert", "abc\n", "abXc\n"},
		{"delete", "abc\n", "ac\n"},
		{"replace astral", "a😀b", "a😁b"},
		{"same prefix byte of a character", "é", "è"},
		{"append", "line\n", "line\nmore\n"},
		{"clear", "x", ""},
		{"from empty", "", "y"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := setNew(t, File{}, []byte(tc.before))
			var updates int
			doc.OnUpdate(func([]byte, any, *yjs.Transaction) { updates++ })
			if err := (File{}).Set(doc, []byte(tc.after)); err != nil {
				t.Fatal(err)
			}
			if got := string(content(t, File{}, doc)); got != tc.after {
				t.Errorf("Content = %q, want %q", got, tc.after)
			}
			if updates != 1 {
				t.Errorf("%d updates, want 1", updates)
			}
		})
	}
}

func TestFileReloadKeepsText(t *testing.T) {
	doc := setNew(t, File{}, []byte("first line\nsecond line\n"))
	var deltas [][]yjs.Delta
	doc.GetText("source").Observe(func(e *yjs.Event) { deltas = append(deltas, e.Delta()) })
	if err := (File{}).Set(doc, []byte("first line\nsecond line\nthird\n")); err != nil {
		t.Fatal(err)
	}
	want := [][]yjs.Delta{{{Retain: 23}, {Insert: "third\n"}}}
	if diff := cmp.Diff(want, deltas); diff != "" {
		t.Errorf("deltas (-want +got):\n%s", diff)
	}
	if err := (File{}).Set(doc, []byte("first line\nsecond line\nthird\n")); err != nil {
		t.Fatal(err)
	}
	if len(deltas) != 1 {
		t.Error("setting the same text changed the document")
	}
}

func TestFileNotText(t *testing.T) {
	doc := yjs.NewDoc()
	if err := (File{}).Set(doc, []byte{0xff, 0xfe}); !errors.Is(err, ErrNotText) {
		t.Errorf("Set of invalid UTF-8: %v, want ErrNotText", err)
	}
	if len(doc.StateVector()) != 0 {
		t.Error("a failed Set changed the document")
	}
}

func TestFileEmptyDoc(t *testing.T) {
	got, err := File{}.Content(yjs.NewDoc())
	if err != nil || len(got) != 0 {
		t.Errorf("Content of an empty doc = %q, %v", got, err)
	}
}

func TestFileLoneSurrogate(t *testing.T) {
	// A V2 update can leave half of a surrogate pair in a Y.Text.
	doc := yjs.NewDoc()
	doc.GetText("source").Insert(0, "a\xed\xa0\xbdb", nil)
	if got := string(content(t, File{}, doc)); got != "a\uFFFDb" {
		t.Errorf("Content = %q, want the lone surrogate as U+FFFD", got)
	}
}

func TestBlob(t *testing.T) {
	data := []byte{0, 1, 2, 0xff}
	doc := setNew(t, Blob{}, data)
	if got := content(t, Blob{}, doc); !bytes.Equal(got, data) {
		t.Errorf("Content = %x", got)
	}
	if !bytes.Equal(doc.EncodeStateAsUpdate(nil), setNew(t, Blob{}, data).EncodeStateAsUpdate(nil)) {
		t.Error("two loads of the same blob differ")
	}
	var updates int
	doc.OnUpdate(func([]byte, any, *yjs.Transaction) { updates++ })
	for _, b := range [][]byte{data, {9}} {
		if err := (Blob{}).Set(doc, b); err != nil {
			t.Fatal(err)
		}
	}
	if updates != 1 {
		t.Errorf("%d updates, want 1 for the changed bytes only", updates)
	}
	if got := content(t, Blob{}, doc); !bytes.Equal(got, []byte{9}) {
		t.Errorf("Content after reload = %x", got)
	}
}

func TestBlobSchemaError(t *testing.T) {
	doc := yjs.NewDoc()
	doc.GetMap("source").Set("bytes", "text")
	if _, err := (Blob{}).Content(doc); !errors.Is(err, ErrSchema) {
		t.Errorf("Content with a string under bytes: %v, want ErrSchema", err)
	}
}
