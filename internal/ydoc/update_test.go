package ydoc

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jupygo/jupygo/internal/contents"
	"github.com/jupygo/jupygo/yjs"
)

// notebookFile returns the bytes of an nbformat 4.minor notebook with cells.
func notebookFile(t testing.TB, minor int, cells ...map[string]any) []byte {
	t.Helper()
	list := make([]any, len(cells))
	for i, c := range cells {
		list[i] = c
	}
	nb := map[string]any{
		"cells":          list,
		"metadata":       map[string]any{"kernelspec": map[string]any{"name": "python3", "display_name": "Python 3"}},
		"nbformat":       json.Number("4"),
		"nbformat_minor": json.Number(json.Number(itoa(minor))),
	}
	data, err := contents.WriteNotebook(nb)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func markdown(id, source string) map[string]any {
	c := map[string]any{"cell_type": "markdown", "metadata": map[string]any{}, "source": source}
	if id != "" {
		c["id"] = id
	}
	return c
}

func code(id, source string, outputs ...any) map[string]any {
	if outputs == nil {
		outputs = []any{}
	}
	c := map[string]any{"cell_type": "code", "execution_count": nil, "metadata": map[string]any{},
		"outputs": outputs, "source": source}
	if id != "" {
		c["id"] = id
	}
	return c
}

func stream(text string) map[string]any {
	return map[string]any{"name": "stdout", "output_type": "stream", "text": text}
}

// recorder collects the updates and the cell events of a document.
type recorder struct {
	updates [][]byte
	events  []*yjs.Event
	deltas  [][]yjs.Delta // of the events, computed in the observer as yjs requires
}

func record(doc *yjs.Doc) *recorder {
	r := &recorder{}
	doc.OnUpdate(func(u []byte, _ any, _ *yjs.Transaction) { r.updates = append(r.updates, u) })
	doc.GetArray("cells").ObserveDeep(func(es []*yjs.Event) {
		for _, e := range es {
			r.events = append(r.events, e)
			r.deltas = append(r.deltas, e.Delta())
		}
	})
	return r
}

func (r *recorder) size() int {
	n := 0
	for _, u := range r.updates {
		n += len(u)
	}
	return n
}

func ycellAt(doc *yjs.Doc, i int) *yjs.Map {
	return doc.GetArray("cells").Slice()[i].(*yjs.Map)
}

// reload sets doc to file and checks that Content then returns file.
func reload(t *testing.T, doc *yjs.Doc, file []byte) {
	t.Helper()
	if err := (Notebook{}).Set(doc, file); err != nil {
		t.Fatalf("Set on a loaded document: %v", err)
	}
	if diff := cmp.Diff(string(file), string(content(t, Notebook{}, doc))); diff != "" {
		t.Fatalf("Content after reload differs (-file +content):\n%s", diff)
	}
}

func TestReloadUnchanged(t *testing.T) {
	file := testNotebooks(t)["v4.5.ipynb"]
	doc := setNew(t, Notebook{}, file)
	r := record(doc)
	reload(t, doc, file)
	if len(r.updates) != 0 {
		t.Errorf("reloading the same file made %d updates (%d bytes)", len(r.updates), r.size())
	}
}

func TestReloadEditsSourceInPlace(t *testing.T) {
	before := notebookFile(t, 5, markdown("a", "# Title\n"), code("b", "x = 1\nprint(x)\n"), markdown("c", "end"))
	after := notebookFile(t, 5, markdown("a", "# Title\n"), code("b", "x = 2\nprint(x)\n"), markdown("c", "end"))
	doc := setNew(t, Notebook{}, before)
	cells := doc.GetArray("cells").Slice()
	source := getText(ycellAt(doc, 1), "source")
	r := record(doc)

	reload(t, doc, after)
	for i, c := range doc.GetArray("cells").Slice() {
		if c != cells[i] {
			t.Errorf("cells[%d] was replaced", i)
		}
	}
	if getText(ycellAt(doc, 1), "source") != source {
		t.Error("the source Y.Text was replaced")
	}
	if len(r.events) != 1 {
		t.Fatalf("%d events, want 1 on the source", len(r.events))
	}
	want := []yjs.Delta{{Retain: 4}, {Insert: "2"}, {Delete: 1}}
	if diff := cmp.Diff(want, r.deltas[0]); diff != "" {
		t.Errorf("source delta (-want +got):\n%s", diff)
	}
	if r.size() > 40 {
		t.Errorf("update of one character is %d bytes", r.size())
	}
}

func TestReloadMovesAndDeletes(t *testing.T) {
	before := notebookFile(t, 5, markdown("a", "A"), markdown("b", "B"), markdown("c", "C"), markdown("d", "D"))
	after := notebookFile(t, 5, markdown("c", "C"), markdown("a", "A"), markdown("d", "D"), markdown("e", "E"))
	doc := setNew(t, Notebook{}, before)
	old := doc.GetArray("cells").Slice()

	reload(t, doc, after)
	now := doc.GetArray("cells").Slice()
	// Cells a and d keep their order, so they stay. Cell c moved before
	// them and is inserted anew. Cell b is gone, and e is new.
	if now[1] != old[0] || now[2] != old[3] {
		t.Error("cells a and d were replaced")
	}
	if now[0] == old[2] {
		t.Error("moved cell c kept its Y.Map, which Yjs 13 cannot move")
	}
	for i, id := range []string{"c", "a", "d", "e"} {
		if got := getAny(now[i].(*yjs.Map), "id"); got != id {
			t.Errorf("cells[%d].id = %v, want %s", i, got, id)
		}
	}
}

func TestReloadWithoutIDs(t *testing.T) {
	before := notebookFile(t, 4, markdown("", "A"), code("", "B"), markdown("", "C"))
	after := notebookFile(t, 4, markdown("", "new"), markdown("", "A"), code("", "B changed"), markdown("", "C"))
	doc := setNew(t, Notebook{}, before)
	old := doc.GetArray("cells").Slice()
	ids := make([]any, len(old))
	for i, c := range old {
		ids[i] = getAny(c.(*yjs.Map), "id")
	}

	reload(t, doc, after)
	now := doc.GetArray("cells").Slice()
	for i := range old {
		if now[i+1] != old[i] {
			t.Errorf("old cells[%d] was replaced", i)
		}
		if got := getAny(now[i+1].(*yjs.Map), "id"); got != ids[i] {
			t.Errorf("old cells[%d] id changed from %v to %v", i, ids[i], got)
		}
	}
	if s := getText(now[2].(*yjs.Map), "source").String(); s != "B changed" {
		t.Errorf("edited source = %q", s)
	}
}

func TestReloadOutputs(t *testing.T) {
	result := map[string]any{"data": map[string]any{"text/plain": "1"}, "execution_count": json.Number("1"),
		"metadata": map[string]any{}, "output_type": "execute_result"}
	changed := map[string]any{"data": map[string]any{"text/plain": "2"}, "execution_count": json.Number("1"),
		"metadata": map[string]any{}, "output_type": "execute_result"}
	before := notebookFile(t, 5, code("a", "run()", stream("line 1\n"), result))
	after := notebookFile(t, 5, code("a", "run()", stream("line 1\nline 2\n"), changed, stream("more")))
	doc := setNew(t, Notebook{}, before)
	outputs := getArray(ycellAt(doc, 0), "outputs")
	first := outputs.Slice()[0].(*yjs.Map)
	text := getText(first, "text")
	second := outputs.Slice()[1]

	reload(t, doc, after)
	now := getArray(ycellAt(doc, 0), "outputs").Slice()
	if now[0] != first || getText(first, "text") != text {
		t.Error("the stream output or its Y.Text was replaced")
	}
	if now[1] == second {
		t.Error("the changed execute_result kept its old Y.Map")
	}
	if len(now) != 3 {
		t.Errorf("%d outputs, want 3", len(now))
	}

	// Clearing outputs deletes them.
	reload(t, doc, notebookFile(t, 5, code("a", "run()")))
	if n := getArray(ycellAt(doc, 0), "outputs").Len(); n != 0 {
		t.Errorf("%d outputs after clearing", n)
	}
}

func TestReloadAttachments(t *testing.T) {
	withAttachment := markdown("a", "![x](attachment:x.png)")
	withAttachment["attachments"] = map[string]any{"x.png": map[string]any{"image/png": "iVBORw0KGgo="}}
	plain := notebookFile(t, 5, markdown("a", "![x](attachment:x.png)"))
	attached := notebookFile(t, 5, withAttachment)

	doc := setNew(t, Notebook{}, plain)
	ycell := ycellAt(doc, 0)
	reload(t, doc, attached)
	if ycellAt(doc, 0) != ycell {
		t.Error("adding attachments replaced the cell")
	}
	want := map[string]any{"x.png": map[string]any{"image/png": "iVBORw0KGgo="}}
	if diff := cmp.Diff(want, yjs.ToJSONValue(getAny(ycell, "attachments"))); diff != "" {
		t.Errorf("attachments (-want +got):\n%s", diff)
	}
	reload(t, doc, plain)
	if ycell.Has("attachments") {
		t.Error("attachments were not deleted")
	}
}

func TestReloadCellTypeChange(t *testing.T) {
	doc := setNew(t, Notebook{}, notebookFile(t, 5, markdown("a", "x")))
	ycell := ycellAt(doc, 0)
	reload(t, doc, notebookFile(t, 5, code("a", "x")))
	if ycellAt(doc, 0) == ycell {
		t.Error("a cell that became a code cell kept its Y.Map")
	}
	if getArray(ycellAt(doc, 0), "outputs") == nil {
		t.Error("the new code cell has no outputs Y.Array")
	}
}

func TestReloadKeepsClientState(t *testing.T) {
	file := notebookFile(t, 5, code("a", "x"))
	doc := setNew(t, Notebook{}, file)
	getMap(ycellAt(doc, 0), "metadata").Set("trusted", true)
	for k, v := range map[string]any{StateDirty: true, StatePath: "a.ipynb", StateHash: "abc", "document_id": "json:notebook:1"} {
		if err := SetState(doc, k, v); err != nil {
			t.Fatal(err)
		}
	}
	r := record(doc)

	reload(t, doc, file)
	if v, _ := getMap(ycellAt(doc, 0), "metadata").Get("trusted"); v != true {
		t.Error("reload dropped the trusted flag that the file cannot hold")
	}
	for _, k := range []string{StateDirty, StatePath, "document_id"} {
		if _, ok := State(doc, k); !ok {
			t.Errorf("state %q deleted", k)
		}
	}
	if _, ok := State(doc, StateHash); ok {
		t.Error("state hash kept after new content")
	}
	if len(r.events) != 0 {
		t.Errorf("%d cell events for an unchanged file", len(r.events))
	}
}

func TestReloadNotebookMetadata(t *testing.T) {
	before := notebookFile(t, 5, code("a", "x"))
	nb, _ := contents.ReadNotebook(before)
	nb["metadata"].(map[string]any)["title"] = "T"
	after, _ := contents.WriteNotebook(nb)

	doc := setNew(t, Notebook{}, before)
	meta, _ := doc.GetMap("meta").Get("metadata")
	var keys []string
	meta.(*yjs.Map).Observe(func(e *yjs.Event) {
		for k := range e.Keys() {
			keys = append(keys, k)
		}
	})
	reload(t, doc, after)
	if diff := cmp.Diff([]string{"title"}, keys); diff != "" {
		t.Errorf("changed metadata keys (-want +got):\n%s", diff)
	}
}

func TestSetStateSkipsEqual(t *testing.T) {
	doc := yjs.NewDoc()
	r := record(doc)
	for range 2 {
		if err := SetState(doc, StateDirty, false); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.updates) != 1 {
		t.Errorf("two equal SetState calls made %d updates, want 1", len(r.updates))
	}
	if v, _ := State(doc, StateDirty); v != false {
		t.Errorf("dirty = %v", v)
	}
	if err := SetState(doc, StateHash, make(chan int)); err == nil {
		t.Error("SetState took a channel")
	}
}

// TestReloadKeepsCellsWithoutOwnID reloads nbformat 4.5 notebooks in which
// some cells have no id, or the id of an earlier cell, after a cell was
// added on disk. Those cells must keep their Y.Map and their id, so edits
// made in them since the last load survive.
func TestReloadKeepsCellsWithoutOwnID(t *testing.T) {
	tests := []struct {
		name          string
		before, after []map[string]any
		added         int // index of the cell added on disk
	}{
		{
			name:   "missing id",
			before: []map[string]any{code("", "x = 1"), code("b", "y = 2")},
			after:  []map[string]any{code("", "x = 1"), code("b", "y = 2"), markdown("c", "new")},
			added:  2,
		},
		{
			name:   "repeated id",
			before: []map[string]any{code("a", "x = 1"), code("a", "y = 2"), markdown("b", "z"), code("a", "w")},
			after: []map[string]any{markdown("n", "new"), code("a", "x = 1"), code("a", "y = 2"),
				markdown("b", "z"), code("a", "w")},
			added: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := setNew(t, Notebook{}, notebookFile(t, 5, tt.before...))
			old := doc.GetArray("cells").Slice()
			ids := make([]any, len(old))
			for i, c := range old {
				ids[i] = getAny(c.(*yjs.Map), "id")
			}
			if err := (Notebook{}).Set(doc, notebookFile(t, 5, tt.after...)); err != nil {
				t.Fatal(err)
			}
			now := doc.GetArray("cells").Slice()
			if len(now) != len(tt.after) {
				t.Fatalf("%d cells after the reload, want %d", len(now), len(tt.after))
			}
			now = append(now[:tt.added:tt.added], now[tt.added+1:]...)
			for i := range old {
				if now[i] != old[i] {
					t.Errorf("cells[%d] was replaced", i)
				}
				if got := getAny(now[i].(*yjs.Map), "id"); got != ids[i] {
					t.Errorf("cells[%d] id changed from %v to %v", i, ids[i], got)
				}
			}
		})
	}
}

func TestSetTrustedCodeCellsOnly(t *testing.T) {
	doc := setNew(t, Notebook{}, notebookFile(t, 5, code("a", "x"), markdown("b", "y"), code("c", "z")))
	for _, tc := range []struct {
		trusted bool
		want    []any
	}{
		{true, []any{true, nil, true}},
		{false, []any{false, nil, false}},
	} {
		if err := SetTrusted(doc, tc.trusted); err != nil {
			t.Fatal(err)
		}
		for i, want := range tc.want {
			md := getMap(ycellAt(doc, i), "metadata")
			if got, _ := md.Get("trusted"); got != want {
				t.Errorf("after SetTrusted(%v), cells[%d] trusted = %v, want %v", tc.trusted, i, got, want)
			}
		}
		r := record(doc)
		if err := SetTrusted(doc, tc.trusted); err != nil {
			t.Fatal(err)
		}
		if len(r.updates) != 0 {
			t.Errorf("SetTrusted(%v) a second time made %d updates", tc.trusted, len(r.updates))
		}
	}
}

func TestSetUntrustedLeavesUnmarkedCells(t *testing.T) {
	doc := setNew(t, Notebook{}, notebookFile(t, 5, code("a", "x")))
	r := record(doc)
	if err := SetTrusted(doc, false); err != nil {
		t.Fatal(err)
	}
	if len(r.updates) != 0 {
		t.Errorf("marking an unmarked cell untrusted made %d updates", len(r.updates))
	}
}

// TestReloadPairsChangedCellsBySource reloads notebooks in which cells
// without an id were added or removed on disk next to cells changed on
// disk. Each changed cell must keep its Y.Map, and no cell may take the
// place of one with other lines.
func TestReloadPairsChangedCellsBySource(t *testing.T) {
	for _, minor := range []int{4, 5} {
		id := func(s string) string {
			if minor < 5 {
				return ""
			}
			return s
		}
		t.Run(fmt.Sprintf("nbformat 4.%d", minor), func(t *testing.T) {
			before := notebookFile(t, minor, code(id("a"), "a = 1"), code("", "u1 = 1"), code("", "u2 = 2"),
				code("", "u3 = 3"), markdown(id("m"), "end"))
			// On disk, u2 is deleted, u1 and u3 are changed, and a new cell
			// comes before u1.
			after := notebookFile(t, minor, code(id("a"), "a = 1"), code("", "new = 0"), code("", "u1 = 1\nmore"),
				code("", "u3 = 3\nmore"), markdown(id("m"), "end"))
			doc := setNew(t, Notebook{}, before)
			old := doc.GetArray("cells").Slice()
			if err := (Notebook{}).Set(doc, after); err != nil {
				t.Fatal(err)
			}
			now := doc.GetArray("cells").Slice()
			if len(now) != 5 {
				t.Fatalf("%d cells after the reload, want 5", len(now))
			}
			if now[1] == old[1] || now[1] == old[2] || now[1] == old[3] {
				t.Error("the new cell took the place of an old one")
			}
			if now[2] != old[1] {
				t.Error("cell u1 was replaced")
			}
			if now[3] != old[3] {
				t.Error("cell u3 was replaced")
			}
		})
	}
}

// TestReloadLargeNotebookWithoutIDs reloads a 600-cell nbformat 4.4
// notebook, past the cell comparisons of a full alignment, with a cell
// added at the top and the last cell changed on disk. Every old cell must
// keep its Y.Map, the changed one included.
func TestReloadLargeNotebookWithoutIDs(t *testing.T) {
	const n = 600
	before := make([]map[string]any, n)
	after := make([]map[string]any, n+1)
	after[0] = code("", "new = 0")
	for i := range n {
		before[i] = code("", fmt.Sprintf("cell_%d = %d", i, i))
		after[i+1] = before[i]
	}
	after[n] = code("", fmt.Sprintf("cell_%d = %d\nchanged = True", n-1, n-1))

	doc := setNew(t, Notebook{}, notebookFile(t, 4, before...))
	old := doc.GetArray("cells").Slice()
	if err := (Notebook{}).Set(doc, notebookFile(t, 4, after...)); err != nil {
		t.Fatal(err)
	}

	now := doc.GetArray("cells").Slice()
	if len(now) != n+1 {
		t.Fatalf("%d cells after the reload, want %d", len(now), n+1)
	}
	replaced := 0
	for i := range old {
		if now[i+1] != old[i] {
			replaced++
		}
	}
	if replaced > 0 {
		t.Errorf("%d of %d old cells were replaced", replaced, n)
	}
	if s := getText(now[n].(*yjs.Map), "source").String(); s != fmt.Sprintf("cell_%d = %d\nchanged = True", n-1, n-1) {
		t.Errorf("last cell's source = %q", s)
	}
}
