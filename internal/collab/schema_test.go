package collab

import (
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/jupygo/jupygo/internal/contents"
	"github.com/jupygo/jupygo/yjs"
	"github.com/jupygo/jupygo/yjs/lib0"
)

func firstCell(doc *yjs.Doc) *yjs.Map {
	v, _ := doc.GetArray("cells").Get(0)
	return v.(*yjs.Map)
}

// insertCell inserts a cell map at index 1 with the fields given; a nil
// source, metadata or outputs gets an empty shared type.
func insertCell(doc *yjs.Doc, fields map[string]any) error {
	cells := doc.GetArray("cells")
	if err := cells.Insert(1, yjs.NewMap()); err != nil {
		return err
	}
	v, _ := cells.Get(1)
	cell := v.(*yjs.Map)
	for _, k := range []string{"cell_type", "id", "source", "metadata", "outputs"} {
		x, ok := fields[k]
		if !ok {
			continue
		}
		if x == nil {
			x = map[string]any{"source": yjs.NewText(), "metadata": yjs.NewMap(),
				"outputs": yjs.NewArray()}[k]
		}
		if err := cell.Set(k, x); err != nil {
			return err
		}
	}
	return nil
}

// schemaAttacks are well-formed updates that break the notebook schema,
// with the close reason each gets.
var schemaAttacks = []struct {
	name   string
	edit   func(doc *yjs.Doc) error
	reason string
}{
	{"string in cells", func(doc *yjs.Doc) error {
		return doc.GetArray("cells").Insert(0, "not a map")
	}, "cells[new] is a string, not a Y.Map"},
	{"number as source", func(doc *yjs.Doc) error {
		return insertCell(doc, map[string]any{"cell_type": "code", "id": "numsrc",
			"source": float64(42), "metadata": nil, "outputs": nil})
	}, "cells[new].source is a number, not a Y.Text"},
	{"cell without cell_type", func(doc *yjs.Doc) error {
		return insertCell(doc, map[string]any{"id": "nocelltype", "source": nil})
	}, "cells[new] has no cell_type"},
	{"unknown cell_type", func(doc *yjs.Doc) error {
		return insertCell(doc, map[string]any{"cell_type": "evil", "id": "bad", "source": nil,
			"metadata": nil})
	}, `cells[new].cell_type is "evil"`},
	{"nbformat as a string", func(doc *yjs.Doc) error {
		return doc.GetMap("meta").Set("nbformat", "four")
	}, "meta.nbformat is a string, not an integer"},
	{"metadata as an array", func(doc *yjs.Doc) error {
		return doc.GetMap("meta").Set("metadata", yjs.NewArray())
	}, "meta.metadata is a Y.Array, not a Y.Map"},
	{"garbage in outputs", func(doc *yjs.Doc) error {
		c := firstCell(doc)
		if err := c.Set("outputs", yjs.NewArray()); err != nil {
			return err
		}
		v, _ := c.Get("outputs")
		return v.(*yjs.Array).Insert(0, "garbage", float64(5),
			lib0.NewObject(lib0.Field{Key: "output_type", Value: "stream"}))
	}, "cells[0].outputs[new] is a string, not an output"},
	{"source as a Y.Map", func(doc *yjs.Doc) error {
		return firstCell(doc).Set("source", yjs.NewMap())
	}, "cells[0].source is a Y.Map, not a Y.Text"},
	{"deleted cell_type", func(doc *yjs.Doc) error {
		return firstCell(doc).Delete("cell_type")
	}, "cells[0].cell_type is deleted"},
	{"execution_count as a string", func(doc *yjs.Doc) error {
		return firstCell(doc).Set("execution_count", "lots")
	}, "cells[0].execution_count is a string, not an integer or null"},
}

func TestRoomRejectsSchemaBreakingUpdates(t *testing.T) {
	for _, tc := range schemaAttacks {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestService(t, "", "", func(o *Options) { o.SaveDelay = 20 * time.Millisecond })
			ts.writeFile(t, "n.ipynb", notebookFile)
			textRoom, session := ts.openSession(t, "n.ipynb")
			room := "json:notebook:" + strings.TrimPrefix(textRoom, "text:file:")
			honest := ts.join(t, room, session)
			attacker := ts.join(t, room, session)

			var err error
			attacker.edit(func(doc *yjs.Doc) {
				doc.Transact(func(*yjs.Transaction) { err = tc.edit(doc) }, nil)
			})
			if err != nil {
				t.Fatal(err)
			}
			code, reason := attacker.waitClose()
			if code != websocket.StatusUnsupportedData {
				t.Errorf("close code %d, want 1003", code)
			}
			want := "update does not follow the notebook schema: " + tc.reason
			if !strings.HasPrefix(reason, want) {
				t.Errorf("close reason %q, want %q", reason, want)
			}

			// The other client keeps editing, and its edits are saved.
			honest.edit(func(doc *yjs.Doc) {
				src, _ := firstCell(doc).Get("source")
				if err := src.(*yjs.Text).Insert(5, "\nafter = 2", nil); err != nil {
					t.Error(err)
				}
			})
			waitUntil(t, "the honest edit on disk", func() bool {
				return strings.Contains(ts.readFile(t, "n.ipynb"), "after = 2")
			})
			nb, err := contents.ReadNotebook([]byte(ts.readFile(t, "n.ipynb")))
			if err != nil {
				t.Fatalf("the file is not a notebook: %v", err)
			}
			if err := contents.ValidateNotebook(nb); err != nil {
				t.Errorf("the file is not valid nbformat: %v", err)
			}
			if n := len(nb["cells"].([]any)); n != 1 {
				t.Errorf("the file has %d cells, want 1", n)
			}
			if got := honest.cellSource(0); got != "x = 1\nafter = 2" {
				t.Errorf("the honest client's cell = %q", got)
			}
			if honest.closeErr != nil {
				t.Errorf("the honest client was closed: %v", honest.closeErr)
			}
		})
	}
}

func TestRoomRejectsUncheckableUpdate(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "n.ipynb", notebookFile)
	textRoom, session := ts.openSession(t, "n.ipynb")
	room := "json:notebook:" + strings.TrimPrefix(textRoom, "text:file:")
	a := ts.join(t, room, session)

	// An edit on top of a cell the server has not received.
	a.mu.Lock()
	offline := yjs.NewDoc()
	if err := offline.ApplyUpdate(a.doc.EncodeStateAsUpdate(nil), nil); err != nil {
		t.Fatal(err)
	}
	a.mu.Unlock()
	if err := insertCell(offline, map[string]any{"cell_type": "code", "id": "c2", "source": nil,
		"metadata": nil, "outputs": nil}); err != nil {
		t.Fatal(err)
	}
	before := offline.StateVector()
	v, _ := offline.GetArray("cells").Get(1)
	src, _ := v.(*yjs.Map).Get("source")
	if err := src.(*yjs.Text).Insert(0, "y", nil); err != nil {
		t.Fatal(err)
	}
	a.send(updateFrame(offline.EncodeStateAsUpdate(before)))
	if code, reason := a.waitClose(); code != websocket.StatusTryAgainLater {
		t.Errorf("closed with %d %q, want 1013", code, reason)
	}

	// The client's next sync carries the update with what it depends on.
	b := ts.joinDoc(t, room, session, offline)
	b.waitFor("the server's state", func() bool { return b.synced })
	c := ts.join(t, room, session)
	c.waitFor("the offline cell", func() bool {
		v, ok := c.doc.GetArray("cells").Get(1)
		if !ok {
			return false
		}
		src, _ := v.(*yjs.Map).Get("source")
		text, _ := src.(*yjs.Text)
		return text != nil && text.String() == "y"
	})
}
