package ydoc

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jupygo/jupygo/internal/contents"
	"github.com/jupygo/jupygo/yjs"
	"github.com/jupygo/jupygo/yjs/lib0"
)

// The notebooks in testdata/notebooks are copies of those in
// internal/contents/testdata/notebooks: nbformat 4.0, 4.1, 4.2, 4.4 and 4.5
// files as nbformat writes them.
func testNotebooks(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("testdata/notebooks/*.ipynb")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no test notebooks: %v", err)
	}
	files := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = data
	}
	return files
}

// setNew returns a new document set to content.
func setNew(t testing.TB, m Model, content []byte) *yjs.Doc {
	t.Helper()
	doc := yjs.NewDoc()
	if err := m.Set(doc, content); err != nil {
		t.Fatalf("Set: %v", err)
	}
	return doc
}

func content(t testing.TB, m Model, doc *yjs.Doc) []byte {
	t.Helper()
	data, err := m.Content(doc)
	if err != nil {
		t.Fatalf("Content: %v", err)
	}
	return data
}

func TestNotebookRoundTrip(t *testing.T) {
	for name, file := range testNotebooks(t) {
		t.Run(name, func(t *testing.T) {
			doc := setNew(t, Notebook{}, file)

			// Literals such as 1.0 do not survive a float64; the
			// contents manager keeps them from the file it replaces.
			nb, err := Notebook{}.JSON(doc)
			if err != nil {
				t.Fatal(err)
			}
			previous, err := contents.ReadNotebook(file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := contents.WriteNotebook(contents.KeepNumberLiterals(nb, previous))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(file), string(got)); diff != "" {
				t.Errorf("saved notebook differs (-file +saved):\n%s", diff)
			}
		})
	}
}

func TestNotebookContentPlainLiterals(t *testing.T) {
	for name, file := range testNotebooks(t) {
		if name == "v4.4.ipynb" { // has 1.0, -0.0 and a 20-digit integer
			continue
		}
		t.Run(name, func(t *testing.T) {
			got := content(t, Notebook{}, setNew(t, Notebook{}, file))
			if diff := cmp.Diff(string(file), string(got)); diff != "" {
				t.Errorf("Content differs (-file +content):\n%s", diff)
			}
		})
	}
}

func TestNotebookContentNumbers(t *testing.T) {
	file := testNotebooks(t)["v4.4.ipynb"]
	got := string(content(t, Notebook{}, setNew(t, Notebook{}, file)))
	for _, want := range []string{`"scale": 1,`, `"neg": 0,`, `"tiny": 1e-05`, `"big": 1.2345678901234567e+19,`} {
		if !strings.Contains(got, want) {
			t.Errorf("Content lacks %s", want)
		}
	}
}

func TestNotebookDeterministic(t *testing.T) {
	for name, file := range testNotebooks(t) {
		t.Run(name, func(t *testing.T) {
			a := setNew(t, Notebook{}, file).EncodeStateAsUpdate(nil)
			b := setNew(t, Notebook{}, file).EncodeStateAsUpdate(nil)
			if !bytes.Equal(a, b) {
				t.Fatalf("two loads of the same file differ: %d and %d bytes", len(a), len(b))
			}
			meta, err := yjs.ParseUpdateMeta(a)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := meta.To[0]; len(meta.To) != 1 || !ok {
				t.Errorf("update clients = %v, want client 0 only", meta.To)
			}
		})
	}
}

func TestNotebookSetReconnect(t *testing.T) {
	// A client that synced with an earlier server process merges its
	// state into the new one without duplicating anything.
	file := testNotebooks(t)["v4.5.ipynb"]
	client := setNew(t, Notebook{}, file)
	server := setNew(t, Notebook{}, file)
	if err := server.ApplyUpdate(client.EncodeStateAsUpdate(nil), nil); err != nil {
		t.Fatal(err)
	}
	if got := content(t, Notebook{}, server); !bytes.Equal(got, file) {
		t.Errorf("merged notebook differs from the file:\n%s", got)
	}
}

func TestNotebookSchema(t *testing.T) {
	doc := setNew(t, Notebook{}, testNotebooks(t)["v4.5.ipynb"])
	meta := doc.GetMap("meta")
	if v, _ := meta.Get("nbformat"); v != float64(4) {
		t.Errorf("meta.nbformat = %v", v)
	}
	if v, _ := meta.Get("nbformat_minor"); v != float64(5) {
		t.Errorf("meta.nbformat_minor = %v", v)
	}
	if v, _ := meta.Get("metadata"); !isMap(v) {
		t.Errorf("meta.metadata is %s, want Y.Map", describe(v))
	}
	for i, v := range doc.GetArray("cells").Slice() {
		c, ok := v.(*yjs.Map)
		if !ok {
			t.Fatalf("cells[%d] is %s", i, describe(v))
		}
		if _, ok := getAny(c, "source").(*yjs.Text); !ok {
			t.Errorf("cells[%d].source is %s", i, describe(getAny(c, "source")))
		}
		if !isMap(getAny(c, "metadata")) {
			t.Errorf("cells[%d].metadata is %s", i, describe(getAny(c, "metadata")))
		}
		if getAny(c, "cell_type") != "code" {
			continue
		}
		if s := getAny(c, "execution_state"); s != "idle" {
			t.Errorf("cells[%d].execution_state = %v", i, s)
		}
		for j, o := range getArray(c, "outputs").Slice() {
			out, ok := o.(*yjs.Map)
			if !ok {
				t.Fatalf("cells[%d].outputs[%d] is %s", i, j, describe(o))
			}
			if getAny(out, "output_type") == "stream" {
				if _, ok := getAny(out, "text").(*yjs.Text); !ok {
					t.Errorf("stream text is %s", describe(getAny(out, "text")))
				}
			}
		}
	}
}

func isMap(v any) bool {
	_, ok := v.(*yjs.Map)
	return ok
}

func TestNotebookEmpty(t *testing.T) {
	file := []byte(`{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`)
	doc := setNew(t, Notebook{}, file)
	cells := doc.GetArray("cells").Slice()
	if len(cells) != 1 {
		t.Fatalf("%d cells, want 1", len(cells))
	}
	got := yjs.ToJSONValue(cells[0]).(map[string]any)
	id, _ := got["id"].(string)
	if len(id) != 36 {
		t.Errorf("id = %q, want a UUID", id)
	}
	delete(got, "id")
	want := map[string]any{
		"cell_type": "code", "execution_count": nil, "execution_state": "idle",
		"metadata": map[string]any{"trusted": true}, "outputs": []any{}, "source": "",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("empty notebook cell (-want +got):\n%s", diff)
	}
	again := setNew(t, Notebook{}, file)
	if !bytes.Equal(doc.EncodeStateAsUpdate(nil), again.EncodeStateAsUpdate(nil)) {
		t.Error("the empty cell differs between two loads")
	}
	saved := string(content(t, Notebook{}, doc))
	if strings.Contains(saved, "trusted") {
		t.Errorf("saved notebook has trusted:\n%s", saved)
	}
	if !strings.Contains(saved, `"id": "`+id+`"`) {
		t.Errorf("saved notebook lacks the cell id:\n%s", saved)
	}
}

func TestNotebookCellIDsByMinor(t *testing.T) {
	for _, tc := range []struct {
		minor  string
		withID bool
	}{{"0", false}, {"3", false}, {"4", false}, {"5", true}} {
		t.Run("4."+tc.minor, func(t *testing.T) {
			file := []byte(`{"cells": [{"cell_type": "markdown", "id": "abc", "metadata": {}, "source": "x"},
				{"cell_type": "raw", "metadata": {}, "source": "y"}],
				"metadata": {}, "nbformat": 4, "nbformat_minor": ` + tc.minor + `}`)
			doc := setNew(t, Notebook{}, file)
			for i, v := range doc.GetArray("cells").Slice() {
				if id, _ := getAny(v.(*yjs.Map), "id").(string); id == "" {
					t.Errorf("cells[%d] has no id in the document", i)
				}
			}
			saved := string(content(t, Notebook{}, doc))
			if got := strings.Contains(saved, `"id"`); got != tc.withID {
				t.Errorf("saved notebook has ids: %v, want %v:\n%s", got, tc.withID, saved)
			}
			if tc.withID && !strings.Contains(saved, `"id": "abc"`) {
				t.Errorf("saved notebook lost id abc:\n%s", saved)
			}
		})
	}
}

func TestNotebookDuplicateIDs(t *testing.T) {
	file := []byte(`{"cells": [
		{"cell_type": "markdown", "id": "a", "metadata": {}, "source": "one"},
		{"cell_type": "markdown", "id": "a", "metadata": {}, "source": "two"}],
		"metadata": {}, "nbformat": 4, "nbformat_minor": 5}`)
	doc := setNew(t, Notebook{}, file)
	nb, err := Notebook{}.JSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	cells := nb["cells"].([]any)
	if len(cells) != 2 {
		t.Fatalf("%d cells, want 2", len(cells))
	}
	first, second := cells[0].(map[string]any)["id"], cells[1].(map[string]any)["id"]
	if first != "a" || second == "a" || second == "" {
		t.Errorf("ids = %v, %v; want a and a new one", first, second)
	}

	// A client that inserts an exact copy of a cell with its id gets
	// it dropped on save, and a changed copy gets a new id.
	ycells := doc.GetArray("cells")
	copyCell(t, ycells, 0, 2, "one")
	copyCell(t, ycells, 0, 3, "changed")
	nb, err = Notebook{}.JSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	cells = nb["cells"].([]any)
	if len(cells) != 3 {
		t.Fatalf("%d cells after copies, want 3", len(cells))
	}
	id := cells[2].(map[string]any)["id"].(string)
	if id == "a" {
		t.Error("changed copy kept the duplicate id")
	}
	if got := getAny(ycells.Slice()[3].(*yjs.Map), "id"); got != id {
		t.Errorf("new id %q not written back to the document, which has %v", id, got)
	}
}

// copyCell inserts, at index to, a cell with the id and type of the cell at
// index from and the given source.
func copyCell(t *testing.T, ycells *yjs.Array, from, to int, source string) {
	t.Helper()
	src := ycells.Slice()[from].(*yjs.Map)
	c := &cell{id: getAny(src, "id").(string), fields: map[string]any{
		"cell_type": getAny(src, "cell_type"), "metadata": map[string]any{}, "source": source,
	}}
	if err := insertCell(ycells, to, c); err != nil {
		t.Fatal(err)
	}
}

func TestNotebookInvalid(t *testing.T) {
	for _, tc := range []struct{ name, file string }{
		{"not json", `{"cells": [`},
		{"not an object", `[]`},
		{"nbformat 5", `{"cells": [], "metadata": {}, "nbformat": 5, "nbformat_minor": 0}`},
		{"cells not a list", `{"cells": {}, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`},
		{"unknown cell type", `{"cells": [{"cell_type": "x", "metadata": {}, "source": ""}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`},
		{"code cell without outputs", `{"cells": [{"cell_type": "code", "metadata": {}, "source": ""}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`},
		{"number out of range", `{"cells": [], "metadata": {"x": 1e400}, "nbformat": 4, "nbformat_minor": 5}`},
		{"not UTF-8", "{\"cells\": [], \"metadata\": {\"a\": \"\xff\"}, \"nbformat\": 4, \"nbformat_minor\": 5}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := yjs.NewDoc()
			err := Notebook{}.Set(doc, []byte(tc.file))
			if !errors.Is(err, ErrInvalidNotebook) {
				t.Fatalf("Set error = %v, want ErrInvalidNotebook", err)
			}
			if len(doc.StateVector()) != 0 {
				t.Error("a failed Set changed the document")
			}
		})
	}
}

func TestNotebookSchemaErrors(t *testing.T) {
	doc := yjs.NewDoc()
	doc.GetText("cells").Insert(0, "x", nil)
	err := Notebook{}.Set(doc, testNotebooks(t)["v4.5.ipynb"])
	if !errors.Is(err, ErrSchema) {
		t.Errorf("Set on a doc whose cells is a Y.Text: %v, want ErrSchema", err)
	}
	if _, err := (Notebook{}).Content(doc); !errors.Is(err, ErrSchema) {
		t.Errorf("Content on a doc whose cells is a Y.Text: %v, want ErrSchema", err)
	}
}

func TestNotebookContentRepairs(t *testing.T) {
	doc := setNew(t, Notebook{}, testNotebooks(t)["v4.5.ipynb"])
	var err error
	doc.Transact(func(*yjs.Transaction) { err = breakEveryRule(doc) }, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, repaired, err := Notebook{}.ContentRepairs(doc)
	if err != nil {
		t.Fatalf("ContentRepairs: %v", err)
	}
	nb, err := contents.ReadNotebook(data)
	if err != nil {
		t.Fatalf("the repaired notebook does not read: %v", err)
	}
	if err := contents.ValidateNotebook(nb); err != nil {
		t.Errorf("the repaired notebook is not valid: %v", err)
	}
	for _, want := range []string{
		"meta.nbformat was a string, not an integer: saved 4",
		"meta.metadata was a Y.Array, not a Y.Map: saved {}",
		"cells[0] was a string, not a Y.Map: skipped",
		"cells[1].source was a number, not a string: saved its JSON text",
		"cells[2].cell_type was missing: saved a raw cell",
		"cells[3].cell_type was \"evil\": saved a raw cell",
		"cells[4].execution_count was a string, not an integer: saved null",
		"cells[4].outputs: dropped 3 invalid outputs",
		"cells[4].attachments was a string in a code cell: dropped",
	} {
		if !slices.Contains(repaired, want) {
			t.Errorf("repairs lack %q:\n%s", want, strings.Join(repaired, "\n"))
		}
	}
	cells := nb["cells"].([]any)
	first := cells[0].(map[string]any)
	if first["source"] != "42" || first["cell_type"] != "code" {
		t.Errorf("number source cell = %v", first)
	}
	if raw := cells[2].(map[string]any); raw["cell_type"] != "raw" || raw["source"] != "x" {
		t.Errorf("unknown cell_type cell = %v", raw)
	}
	if code := cells[3].(map[string]any); code["execution_count"] != nil ||
		len(code["outputs"].([]any)) != 1 {
		t.Errorf("repaired code cell = %v", code)
	}
}

// breakEveryRule writes into a notebook document what the schema forbids.
// It adds a string cell first, then cells with a number source, no
// cell_type and an unknown cell_type. The last is a code cell with a string
// execution_count, string attachments, and three invalid outputs beside a
// valid one.
func breakEveryRule(doc *yjs.Doc) error {
	meta := doc.GetMap("meta")
	if err := meta.Set("nbformat", "four"); err != nil {
		return err
	}
	if err := meta.Set("metadata", yjs.NewArray()); err != nil {
		return err
	}
	if err := newCell(doc, 0, map[string]any{"cell_type": "code", "id": "n", "source": float64(42)}); err != nil {
		return err
	}
	if err := newCell(doc, 1, map[string]any{"id": "none", "source": nil}); err != nil {
		return err
	}
	if err := newCell(doc, 2, map[string]any{"id": "evil", "cell_type": "evil", "source": nil}); err != nil {
		return err
	}
	if err := getText(cellAt(doc, 2), "source").Insert(0, "x", nil); err != nil {
		return err
	}
	if err := newCell(doc, 3, map[string]any{"id": "c", "cell_type": "code", "source": nil,
		"execution_count": "lots", "outputs": nil, "attachments": "zzz"}); err != nil {
		return err
	}
	stream := lib0.NewObject(lib0.Field{Key: "output_type", Value: "stream"},
		lib0.Field{Key: "name", Value: "stdout"}, lib0.Field{Key: "text", Value: "ok"})
	evil := lib0.NewObject(lib0.Field{Key: "output_type", Value: "evil"})
	if err := getArray(cellAt(doc, 3), "outputs").Insert(0, "garbage", float64(5), evil, stream); err != nil {
		return err
	}
	return doc.GetArray("cells").Insert(0, "not a map")
}

func TestNotebookV3Deterministic(t *testing.T) {
	// testdata/v3/ipython2.ipynb is a copy of the nbformat 3 notebook in
	// internal/contents/testdata/v3.
	file, err := os.ReadFile("testdata/v3/ipython2.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	a := setNew(t, Notebook{}, file).EncodeStateAsUpdate(nil)
	b := setNew(t, Notebook{}, file).EncodeStateAsUpdate(nil)
	if !bytes.Equal(a, b) {
		t.Error("two loads of a version 3 notebook differ")
	}
	saved := string(content(t, Notebook{}, setNew(t, Notebook{}, file)))
	if !strings.Contains(saved, `"nbformat": 4`) || !strings.Contains(saved, `"id": "`) {
		t.Errorf("saved version 3 notebook is not 4.5 with ids:\n%s", saved)
	}
}

func TestSetJSONRejectsNonJSON(t *testing.T) {
	file := testNotebooks(t)["v4.5.ipynb"]
	doc := setNew(t, Notebook{}, file)
	before := doc.EncodeStateAsUpdate(nil)
	nb, err := contents.ReadNotebook(file)
	if err != nil {
		t.Fatal(err)
	}
	nb["metadata"].(map[string]any)["bad"] = struct{}{}
	cells := nb["cells"].([]any)
	cells[0].(map[string]any)["source"] = "changed before the bad value is reached"
	if err := (Notebook{}).SetJSON(doc, nb); !errors.Is(err, ErrInvalidNotebook) {
		t.Fatalf("SetJSON with a struct value: %v, want ErrInvalidNotebook", err)
	}
	if !bytes.Equal(before, doc.EncodeStateAsUpdate(nil)) {
		t.Error("a rejected SetJSON changed the document")
	}
}

func TestNotebookSetAfterState(t *testing.T) {
	// A room may write "state" and observe the roots before it loads the
	// file; the content is still client 0's deterministic update.
	file := testNotebooks(t)["v4.5.ipynb"]
	fresh := setNew(t, Notebook{}, file)
	doc := yjs.NewDoc()
	doc.GetArray("cells").ObserveDeep(func([]*yjs.Event) {})
	if err := SetState(doc, StatePath, "a.ipynb"); err != nil {
		t.Fatal(err)
	}
	if err := SetState(doc, StateHash, "abc"); err != nil {
		t.Fatal(err)
	}
	if err := (Notebook{}).Set(doc, file); err != nil {
		t.Fatal(err)
	}
	if _, ok := State(doc, StateHash); ok {
		t.Error("the hash of an earlier version survived the load")
	}
	if _, ok := State(doc, StatePath); !ok {
		t.Error("the load deleted the path")
	}
	want := fresh.StateVector()[0]
	if got := doc.StateVector()[0]; got != want {
		t.Errorf("client 0 wrote %d units, want %d as in a fresh load", got, want)
	}
	if err := doc.ApplyUpdate(fresh.EncodeStateAsUpdate(nil), nil); err != nil {
		t.Fatal(err)
	}
	if got := content(t, Notebook{}, doc); !bytes.Equal(got, file) {
		t.Errorf("merging a fresh load changed the notebook:\n%s", got)
	}
}

func TestNotebookSetAfterClientZero(t *testing.T) {
	// Once client 0 wrote the content, a later Set of an emptied
	// document must not reuse its clocks.
	file := testNotebooks(t)["v4.5.ipynb"]
	doc := setNew(t, Notebook{}, file)
	cells := doc.GetArray("cells")
	cells.Delete(0, cells.Len())
	meta := doc.GetMap("meta")
	for _, k := range meta.Keys() {
		meta.Delete(k)
	}
	if err := (Notebook{}).Set(doc, file); err != nil {
		t.Fatal(err)
	}
	if got := content(t, Notebook{}, doc); !bytes.Equal(got, file) {
		t.Errorf("Set of an emptied document:\n%s", got)
	}
}
