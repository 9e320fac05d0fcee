package ydoc

import (
	"errors"
	"strings"
	"testing"

	"github.com/jupygo/jupygo/yjs"
	"github.com/jupygo/jupygo/yjs/lib0"
)

// peer returns a document of another client that holds doc's state.
func peer(t testing.TB, doc *yjs.Doc) *yjs.Doc {
	t.Helper()
	p := yjs.NewDoc()
	if err := p.ApplyUpdate(doc.EncodeStateAsUpdate(nil), nil); err != nil {
		t.Fatal(err)
	}
	return p
}

// change runs edit in one transaction of doc and returns its update.
func change(t testing.TB, doc *yjs.Doc, edit func(doc *yjs.Doc) error) []byte {
	t.Helper()
	var update []byte
	cancel := doc.OnUpdate(func(u []byte, _ any, _ *yjs.Transaction) { update = u })
	defer cancel()
	var err error
	doc.Transact(func(*yjs.Transaction) { err = edit(doc) }, nil)
	if err != nil {
		t.Fatal(err)
	}
	return update
}

func cellAt(doc *yjs.Doc, i int) *yjs.Map {
	v, _ := doc.GetArray("cells").Get(i)
	return v.(*yjs.Map)
}

// newCell inserts a Y.Map at index i of cells and sets fields on it, a
// key "source", "metadata" or "outputs" given as nil getting an empty
// Y.Text, Y.Map or Y.Array.
func newCell(doc *yjs.Doc, i int, fields map[string]any) error {
	if err := doc.GetArray("cells").Insert(i, yjs.NewMap()); err != nil {
		return err
	}
	cell := cellAt(doc, i)
	for _, k := range sortedKeys(fields) {
		v := fields[k]
		if v == nil {
			switch k {
			case "source":
				v = yjs.NewText()
			case "metadata":
				v = yjs.NewMap()
			case "outputs":
				v = yjs.NewArray()
			}
		}
		if err := cell.Set(k, v); err != nil {
			return err
		}
	}
	return nil
}

var validCode = map[string]any{
	"cell_type": "code", "id": "fresh", "source": nil, "metadata": nil, "outputs": nil,
	"execution_count": nil,
}

func TestCheckUpdateNotebook(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(doc *yjs.Doc) error
		want string // "" for a valid update
	}{
		{"type in a source", func(doc *yjs.Doc) error {
			return getText(cellAt(doc, 1), "source").Insert(0, "x = 1\n", nil)
		}, ""},
		{"insert a code cell", func(doc *yjs.Doc) error { return newCell(doc, 1, validCode) }, ""},
		{"delete a cell", func(doc *yjs.Doc) error { return doc.GetArray("cells").Delete(0, 1) }, ""},
		{"set execution_count", func(doc *yjs.Doc) error {
			return cellAt(doc, 1).Set("execution_count", float64(7))
		}, ""},
		{"add a stream output", func(doc *yjs.Doc) error {
			return insertOutput(getArray(cellAt(doc, 1), "outputs"), 0,
				map[string]any{"output_type": "stream", "name": "stdout", "text": "hi\n"})
		}, ""},
		{"set metadata", func(doc *yjs.Doc) error {
			return getMap(cellAt(doc, 1), "metadata").Set("tags", []any{"a"})
		}, ""},
		{"string in cells", func(doc *yjs.Doc) error {
			return doc.GetArray("cells").Insert(0, "not a map")
		}, "cells[new] is a string, not a Y.Map"},
		{"number as source", func(doc *yjs.Doc) error {
			return newCell(doc, 1, map[string]any{"cell_type": "code", "id": "n", "source": float64(42),
				"metadata": nil, "outputs": nil})
		}, "cells[new].source is a number, not a Y.Text"},
		{"cell without cell_type", func(doc *yjs.Doc) error {
			return newCell(doc, 1, map[string]any{"id": "nocelltype", "source": nil})
		}, "cells[new] has no cell_type"},
		{"unknown cell_type", func(doc *yjs.Doc) error {
			return newCell(doc, 1, map[string]any{"cell_type": "evil", "id": "bad", "source": nil,
				"metadata": nil})
		}, `cells[new].cell_type is "evil", not code, markdown or raw`},
		{"nbformat as a string", func(doc *yjs.Doc) error {
			return doc.GetMap("meta").Set("nbformat", "four")
		}, "meta.nbformat is a string, not an integer"},
		{"metadata as an array", func(doc *yjs.Doc) error {
			return doc.GetMap("meta").Set("metadata", yjs.NewArray())
		}, "meta.metadata is a Y.Array, not a Y.Map"},
		{"garbage in outputs", func(doc *yjs.Doc) error {
			c := cellAt(doc, 0)
			if err := c.Set("outputs", yjs.NewArray()); err != nil {
				return err
			}
			return getArray(c, "outputs").Insert(0, "garbage", float64(5),
				lib0.NewObject(lib0.Field{Key: "output_type", Value: "stream"}))
		}, "cells[0].outputs[new] is a string, not an output"},
		{"source as a Y.Map", func(doc *yjs.Doc) error {
			return cellAt(doc, 1).Set("source", yjs.NewMap())
		}, "cells[1].source is a Y.Map, not a Y.Text"},
		{"execution_count as a string", func(doc *yjs.Doc) error {
			return cellAt(doc, 1).Set("execution_count", "lots")
		}, "cells[1].execution_count is a string, not an integer or null"},
		{"change cell_type in place", func(doc *yjs.Doc) error {
			return cellAt(doc, 1).Set("cell_type", "raw")
		}, ""},
		{"delete cell_type", func(doc *yjs.Doc) error {
			return cellAt(doc, 1).Delete("cell_type")
		}, "cells[1].cell_type is deleted"},
		{"delete source", func(doc *yjs.Doc) error {
			return cellAt(doc, 1).Delete("source")
		}, "cells[1].source is deleted"},
		{"replace source", func(doc *yjs.Doc) error {
			return cellAt(doc, 1).Set("source", yjs.NewText())
		}, ""},
		{"attachments as a string", func(doc *yjs.Doc) error {
			return cellAt(doc, 1).Set("attachments", "zzz")
		}, "cells[1].attachments is a string, not an object"},
		{"attachments as an object", func(doc *yjs.Doc) error {
			return cellAt(doc, 1).Set("attachments", lib0.NewObject())
		}, ""},
		{"unknown output_type", func(doc *yjs.Doc) error {
			return insertOutput(getArray(cellAt(doc, 1), "outputs"), 0,
				map[string]any{"output_type": "evil"})
		}, `cells[1].outputs[new].output_type is "evil", not an output type`},
		{"map in a source", func(doc *yjs.Doc) error {
			return getText(cellAt(doc, 0), "source").InsertEmbed(0, yjs.NewMap(), nil)
		}, "cells[0].source contains a Y.Map"},
		{"binary in metadata", func(doc *yjs.Doc) error {
			return getMap(cellAt(doc, 0), "metadata").Set("blob", []byte{1})
		}, "cells[0].metadata.blob is a binary, which has no JSON form"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server := setNew(t, Notebook{}, testNotebooks(t)["v4.5.ipynb"])
			update := change(t, peer(t, server), tc.edit)
			err := CheckUpdate(TypeNotebook, server, update)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckUpdate: %v", err)
				}
				if err := server.ApplyUpdate(update, nil); err != nil {
					t.Fatal(err)
				}
				if _, err := (Notebook{}).Content(server); err != nil {
					t.Errorf("Content after a valid update: %v", err)
				}
				return
			}
			var ue *UpdateError
			if !errors.As(err, &ue) || !errors.Is(err, ErrSchema) {
				t.Fatalf("CheckUpdate error = %v, want an UpdateError", err)
			}
			if want := "update does not follow the notebook schema: " + tc.want; err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
		})
	}
}

func TestCheckUpdateFullState(t *testing.T) {
	// A client's sync step 2 to a doc that has not loaded the file.
	client := setNew(t, Notebook{}, testNotebooks(t)["v4.5.ipynb"])
	server := yjs.NewDoc()
	server.GetArray("cells")
	server.GetMap("meta")
	if err := CheckUpdate(TypeNotebook, server, client.EncodeStateAsUpdate(nil)); err != nil {
		t.Errorf("CheckUpdate of a whole notebook: %v", err)
	}
}

func TestCheckUpdateUnresolved(t *testing.T) {
	server := setNew(t, Notebook{}, testNotebooks(t)["v4.5.ipynb"])
	client := peer(t, server)
	change(t, client, func(doc *yjs.Doc) error { return newCell(doc, 0, validCode) })
	// Typing into the new cell depends on the cell, which the server lacks.
	update := change(t, client, func(doc *yjs.Doc) error {
		return getText(cellAt(doc, 0), "source").Insert(0, "x", nil)
	})
	if err := CheckUpdate(TypeNotebook, server, update); !errors.Is(err, ErrUnresolved) {
		t.Errorf("CheckUpdate = %v, want ErrUnresolved", err)
	}
}

func TestCheckUpdateFile(t *testing.T) {
	for _, tc := range []struct {
		name, docType string
		edit          func(doc *yjs.Doc) error
		want          string
	}{
		{"typing", TypeFile, func(doc *yjs.Doc) error {
			return doc.GetText("source").Insert(0, "abc", nil)
		}, ""},
		{"map in a text file", TypeFile, func(doc *yjs.Doc) error {
			return doc.GetText("source").InsertEmbed(0, yjs.NewMap(), nil)
		}, "update does not follow the text file schema: source contains a Y.Map"},
		{"string as blob bytes", TypeBlob, func(doc *yjs.Doc) error {
			return doc.GetMap("source").Set("bytes", "text")
		}, "update does not follow the blob schema: source.bytes is a string, not binary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server := yjs.NewDoc()
			if err := For(tc.docType).Set(server, []byte("hello\n")); err != nil {
				t.Fatal(err)
			}
			update := change(t, peer(t, server), tc.edit)
			err := CheckUpdate(tc.docType, server, update)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("CheckUpdate = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCheckUpdateLeavesDocAlone(t *testing.T) {
	server := setNew(t, Notebook{}, testNotebooks(t)["v4.5.ipynb"])
	before := server.EncodeStateAsUpdate(nil)
	client := yjs.NewDoc()
	update := change(t, client, func(doc *yjs.Doc) error { return doc.GetMap("other").Set("k", "v") })
	if err := CheckUpdate(TypeNotebook, server, update); err != nil {
		t.Fatal(err)
	}
	if _, ok := server.RootKind("other"); ok {
		t.Error("CheckUpdate created a root type")
	}
	if after := server.EncodeStateAsUpdate(nil); string(after) != string(before) {
		t.Error("CheckUpdate changed the document")
	}
	if !strings.Contains(ErrUnresolved.Error(), "lacks") {
		t.Error("ErrUnresolved does not say what is missing")
	}
}
