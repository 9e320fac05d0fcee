package ydoc

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jupygo/jupygo/internal/contents"
	"github.com/jupygo/jupygo/yjs"
)

// These tests load the documents this package builds into @jupyter/ydoc,
// the models JupyterLab runs, through testdata/js/ydoc.mjs. They need node
// and the npm packages of testdata/js (npm ci there; scripts/test.sh does
// it).

// runYDoc sends req to ydoc.mjs and decodes its reply into reply.
func runYDoc(t *testing.T, req map[string]any, reply any) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed: the @jupyter/ydoc comparison needs node 18 or later")
	}
	dir := filepath.Join("testdata", "js")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@jupyter", "ydoc")); err != nil {
		t.Fatalf("@jupyter/ydoc is not installed: run npm ci in internal/ydoc/%s", dir)
	}
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(dir, "ydoc.mjs"))
	cmd.Stdin = bytes.NewReader(body)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ydoc.mjs %s: %v\n%s", req["op"], err, stderr.String())
	}
	if err := json.Unmarshal(out, reply); err != nil {
		t.Fatalf("ydoc.mjs %s reply %q: %v", req["op"], out, err)
	}
}

// plainNotebook returns the notebook in file as JSON.parse returns it,
// without cell ids for nbformat 4.0 to 4.4, as YNotebook.toJSON gives it.
func plainNotebook(t *testing.T, file []byte) map[string]any {
	t.Helper()
	nb, err := contents.ReadNotebook(file)
	if err != nil {
		t.Fatal(err)
	}
	plain := toPlain(nb).(map[string]any)
	if minor := plain["nbformat_minor"].(float64); minor <= 4 {
		for _, c := range plain["cells"].([]any) {
			delete(c.(map[string]any), "id")
		}
	}
	return plain
}

type notebookReply struct {
	JSON  map[string]any
	Cells []struct {
		Type           string
		SourceIsText   bool
		OutputsAreMaps bool
	}
}

func TestNodeLoadsNotebooks(t *testing.T) {
	for name, file := range testNotebooks(t) {
		t.Run(name, func(t *testing.T) {
			update := setNew(t, Notebook{}, file).EncodeStateAsUpdate(nil)
			var reply notebookReply
			runYDoc(t, map[string]any{"op": "notebook", "update": hex.EncodeToString(update)}, &reply)

			if diff := cmp.Diff(plainNotebook(t, file), reply.JSON); diff != "" {
				t.Errorf("YNotebook.toJSON differs from the file (-file +js):\n%s", diff)
			}
			for i, c := range reply.Cells {
				if !c.SourceIsText || !c.OutputsAreMaps {
					t.Errorf("cells[%d] (%s): source Y.Text %v, outputs Y.Maps %v",
						i, c.Type, c.SourceIsText, c.OutputsAreMaps)
				}
			}
		})
	}
}

func TestNodeEditsNotebook(t *testing.T) {
	for _, name := range []string{"v4.4.ipynb", "v4.5.ipynb"} {
		t.Run(name, func(t *testing.T) {
			file := testNotebooks(t)[name]
			doc := setNew(t, Notebook{}, file)
			var reply struct {
				Update string
				JSON   map[string]any
			}
			runYDoc(t, map[string]any{"op": "edit-notebook",
				"update": hex.EncodeToString(doc.EncodeStateAsUpdate(nil))}, &reply)
			update, err := hex.DecodeString(reply.Update)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckUpdate(TypeNotebook, doc, update); err != nil {
				t.Errorf("YNotebook's edits fail the schema check: %v", err)
			}
			if err := doc.ApplyUpdate(update, nil); err != nil {
				t.Fatalf("applying the client's update: %v", err)
			}

			saved := content(t, Notebook{}, doc)
			if diff := cmp.Diff(reply.JSON, plainNotebook(t, saved)); diff != "" {
				t.Errorf("saved notebook differs from YNotebook.toJSON (-js +saved):\n%s", diff)
			}
			nb, err := contents.ReadNotebook(saved)
			if err != nil {
				t.Fatalf("reading the saved notebook: %v", err)
			}
			checkEdits(t, nb)
		})
	}
}

// checkEdits checks the edits of ydoc.mjs's editNotebook in a saved
// notebook.
func checkEdits(t *testing.T, nb map[string]any) {
	t.Helper()
	cells := nb["cells"].([]any)
	first := cells[0].(map[string]any)
	if s := first["source"].(string); len(s) < 6 || s[:6] != "typed " {
		t.Errorf("first cell source = %q, want the typed prefix", s)
	}
	added := cells[1].(map[string]any)
	want := map[string]any{
		"cell_type":       "code",
		"execution_count": json.Number("7"),
		"metadata":        map[string]any{"tags": []any{"new"}},
		"source":          `print("hi")`,
		"outputs": []any{
			map[string]any{"name": "stdout", "output_type": "stream", "text": "hi\nthere\n"},
			map[string]any{"data": map[string]any{"text/plain": "42"}, "execution_count": json.Number("7"),
				"metadata": map[string]any{}, "output_type": "execute_result"},
		},
	}
	if id, ok := added["id"]; ok {
		want["id"] = id
	}
	if diff := cmp.Diff(want, added); diff != "" {
		t.Errorf("added code cell (-want +saved):\n%s", diff)
	}
	last := cells[len(cells)-1].(map[string]any)
	if last["cell_type"] != "markdown" || last["source"] != "## end" {
		t.Errorf("last cell = %v, want the added markdown cell", last)
	}
	if title := nb["metadata"].(map[string]any)["title"]; title != "edited" {
		t.Errorf("metadata.title = %v", title)
	}
}

func TestNodeTextFile(t *testing.T) {
	text := "héllo 😀\r\nsecond line\n"
	doc := setNew(t, File{}, []byte(text))
	update := hex.EncodeToString(doc.EncodeStateAsUpdate(nil))

	var loaded struct{ Source string }
	runYDoc(t, map[string]any{"op": "file", "update": update}, &loaded)
	if want := "héllo 😀\nsecond line\n"; loaded.Source != want {
		t.Errorf("YFile.source = %q, want %q", loaded.Source, want)
	}

	// Replace "second" (UTF-16 offsets 9 to 15, after the two units of
	// the emoji) as a user typing over it.
	var edited struct{ Update, Source string }
	runYDoc(t, map[string]any{"op": "edit-file", "update": update, "start": 9, "end": 15, "value": "2nd"}, &edited)
	u, err := hex.DecodeString(edited.Update)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.ApplyUpdate(u, nil); err != nil {
		t.Fatal(err)
	}
	if got := string(content(t, File{}, doc)); got != edited.Source || got != "héllo 😀\n2nd line\n" {
		t.Errorf("Content = %q, YFile.source = %q", got, edited.Source)
	}
}

func TestNodeReloadMerges(t *testing.T) {
	// A JupyterLab client keeps its document across a server restart and
	// syncs it into the new server's document: nothing may be doubled.
	file := testNotebooks(t)["v4.0.ipynb"]
	client := setNew(t, Notebook{}, file)
	server := yjs.NewDoc()
	if err := (Notebook{}).Set(server, file); err != nil {
		t.Fatal(err)
	}
	if err := server.ApplyUpdate(client.EncodeStateAsUpdate(nil), nil); err != nil {
		t.Fatal(err)
	}
	var reply notebookReply
	runYDoc(t, map[string]any{"op": "notebook",
		"update": hex.EncodeToString(server.EncodeStateAsUpdate(nil))}, &reply)
	if diff := cmp.Diff(plainNotebook(t, file), reply.JSON); diff != "" {
		t.Errorf("merged document differs from the file (-file +js):\n%s", diff)
	}
}

func TestNodeFollowsReload(t *testing.T) {
	// A client that has the notebook open receives the changes of a
	// reload as one update and keeps its models of the cells that stay.
	before := notebookFile(t, 5, markdown("a", "# Title\n"), code("b", "x = 1\n", stream("1\n")),
		markdown("c", "gone"), code("d", "y = 2\n"))
	after := notebookFile(t, 5, markdown("a", "# Title changed\n"), code("b", "x = 1\n", stream("1\n2\n")),
		code("d", "y = 2\n"), markdown("e", "new"))
	doc := setNew(t, Notebook{}, before)
	initial := doc.EncodeStateAsUpdate(nil)
	sv := doc.EncodeStateVector()
	if err := (Notebook{}).Set(doc, after); err != nil {
		t.Fatal(err)
	}
	diff, err := doc.EncodeStateAsUpdateFrom(sv)
	if err != nil {
		t.Fatal(err)
	}

	var reply struct {
		JSON map[string]any
		Kept []bool
	}
	runYDoc(t, map[string]any{"op": "reload", "update": hex.EncodeToString(initial),
		"diff": hex.EncodeToString(diff)}, &reply)
	if d := cmp.Diff(plainNotebook(t, after), reply.JSON); d != "" {
		t.Errorf("YNotebook after the reload differs from the file (-file +js):\n%s", d)
	}
	if d := cmp.Diff([]bool{true, true, true, false}, reply.Kept); d != "" {
		t.Errorf("cell models kept by the client (-want +got):\n%s", d)
	}
}
