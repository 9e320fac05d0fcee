package ydoc

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jupygo/jupygo/internal/contents"
	"github.com/jupygo/jupygo/yjs"
)

// TestManagerRoundTrip loads notebooks through contents.Manager.Get and
// saves them through contents.Manager.Save, the path that keeps every
// byte of an unchanged file, number literals such as 1.0 included.
func TestManagerRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m, err := contents.New(dir, contents.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	for name, file := range testNotebooks(t) {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, name), file, 0o600); err != nil {
				t.Fatal(err)
			}
			model, err := m.Get(name, contents.GetOptions{Content: true})
			if err != nil {
				t.Fatal(err)
			}
			doc := yjs.NewDoc()
			if err := (Notebook{}).SetJSON(doc, model.Content.(map[string]any)); err != nil {
				t.Fatalf("SetJSON: %v", err)
			}
			again := yjs.NewDoc()
			if err := (Notebook{}).SetJSON(again, model.Content.(map[string]any)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(clientZero(t, doc), clientZero(t, again)); diff != "" {
				t.Error("two SetJSON of the same notebook differ")
			}
			checkTrustMarks(t, doc, model.Content.(map[string]any))

			nb, err := Notebook{}.JSON(doc)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Save(name, contents.SaveRequest{Type: "notebook", Content: nb}); err != nil {
				t.Fatalf("Save: %v", err)
			}
			saved, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(file), string(saved)); diff != "" {
				t.Errorf("saved file differs (-file +saved):\n%s", diff)
			}
		})
	}
}

// checkTrustMarks checks that the document has the trusted marks that the
// manager gave the cells, outside the update of client id 0.
func checkTrustMarks(t *testing.T, doc *yjs.Doc, nb map[string]any) {
	t.Helper()
	ycells := doc.GetArray("cells").Slice()
	for i, c := range nb["cells"].([]any) {
		want, ok := c.(map[string]any)["metadata"].(map[string]any)["trusted"]
		got, has := getMap(ycells[i].(*yjs.Map), "metadata").Get("trusted")
		if ok != has || got != want {
			t.Errorf("cells[%d] trusted = %v (%v), want %v (%v)", i, got, has, want, ok)
		}
	}
}

func TestSetJSONTrustOutsideClientZero(t *testing.T) {
	// The same file, trusted in one server process and not in the next,
	// gives the same update of client id 0.
	file := notebookFile(t, 5, code("a", "x"), markdown("b", "y"))
	load := func(trusted bool) *yjs.Doc {
		nb, err := contents.ReadNotebook(file)
		if err != nil {
			t.Fatal(err)
		}
		nb["cells"].([]any)[0].(map[string]any)["metadata"].(map[string]any)["trusted"] = trusted
		doc := yjs.NewDoc()
		if err := (Notebook{}).SetJSON(doc, nb); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	trusted, untrusted := load(true), load(false)
	if diff := cmp.Diff(clientZero(t, trusted), clientZero(t, untrusted)); diff != "" {
		t.Error("the update of client 0 depends on the trust marks")
	}
	if v, _ := getMap(ycellAt(trusted, 0), "metadata").Get("trusted"); v != true {
		t.Errorf("trusted = %v in the trusted load", v)
	}
}

// clientZero returns the structs of client id 0 in doc, as an update.
func clientZero(t *testing.T, doc *yjs.Doc) []byte {
	t.Helper()
	sv := yjs.StateVector{}
	for client, clock := range doc.StateVector() {
		if client != 0 {
			sv[client] = clock
		}
	}
	update, err := doc.EncodeStateAsUpdateFrom(yjs.EncodeStateVector(sv))
	if err != nil {
		t.Fatal(err)
	}
	meta, err := yjs.ParseUpdateMeta(update)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := meta.To[0]; len(meta.To) != 1 || !ok {
		t.Fatalf("update of client 0 has the clients %v", meta.To)
	}
	return update
}
