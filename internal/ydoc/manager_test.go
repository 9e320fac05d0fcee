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
			if diff := cmp.Diff(doc.EncodeStateAsUpdate(nil), again.EncodeStateAsUpdate(nil)); diff != "" {
				t.Error("two SetJSON of the same notebook differ")
			}

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
