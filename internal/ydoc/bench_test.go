package ydoc

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/jupygo/jupygo/internal/contents"
	"github.com/jupygo/jupygo/yjs"
)

// largeNotebook returns a notebook of n code cells, each with a few lines
// of source and a stream output of 20 lines: about 1.1 kB of file per
// cell. The bytes depend on n and edit alone; edit changes one line of the
// middle cell.
func largeNotebook(tb testing.TB, n int, edit string) []byte {
	tb.Helper()
	cells := make([]any, n)
	for i := range cells {
		source := fmt.Sprintf("for i in range(20):\n    print(f\"step {i} of cell %d\")\nresult_%d = %d", i, i, i*i)
		if i == n/2 && edit != "" {
			source = edit
		}
		var out strings.Builder
		for j := range 20 {
			fmt.Fprintf(&out, "step %d of cell %d: done\n", j, i)
		}
		cells[i] = map[string]any{
			"cell_type":       "code",
			"execution_count": json.Number(fmt.Sprint(i + 1)),
			"id":              fmt.Sprintf("cell-%05d", i),
			"metadata":        map[string]any{"tags": []any{}},
			"outputs": []any{map[string]any{
				"name": "stdout", "output_type": "stream", "text": out.String(),
			}},
			"source": source,
		}
	}
	nb := contents.NewNotebook()
	nb["cells"] = cells
	nb["metadata"] = map[string]any{"kernelspec": map[string]any{
		"display_name": "Python 3", "language": "python", "name": "python3"}}
	data, err := contents.WriteNotebook(nb)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func TestLargeNotebookRoundTrip(t *testing.T) {
	file := largeNotebook(t, 200, "")
	if got := content(t, Notebook{}, setNew(t, Notebook{}, file)); string(got) != string(file) {
		t.Error("the generated notebook does not round-trip")
	}
}

// BenchmarkNotebookSet loads a 2,000-cell notebook into a fresh document.
func BenchmarkNotebookSet(b *testing.B) {
	file := largeNotebook(b, 2000, "")
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	var update []byte
	for b.Loop() {
		doc := yjs.NewDoc()
		if err := (Notebook{}).Set(doc, file); err != nil {
			b.Fatal(err)
		}
		update = doc.EncodeStateAsUpdate(nil)
	}
	b.ReportMetric(float64(len(file)), "file-bytes")
	b.ReportMetric(float64(len(update)), "update-bytes")
}

// BenchmarkNotebookContent saves the document of a 2,000-cell notebook.
func BenchmarkNotebookContent(b *testing.B) {
	file := largeNotebook(b, 2000, "")
	doc := setNew(b, Notebook{}, file)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Notebook{}).Content(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNotebookReload sets a loaded 2,000-cell document to the file
// with one cell changed, and back.
func BenchmarkNotebookReload(b *testing.B) {
	files := [][]byte{largeNotebook(b, 2000, ""), largeNotebook(b, 2000, "changed = True")}
	doc := setNew(b, Notebook{}, files[0])
	var size int
	doc.OnUpdate(func(u []byte, _ any, _ *yjs.Transaction) { size = len(u) })
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := (Notebook{}).Set(doc, files[i%2]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size), "update-bytes")
}

// BenchmarkCheckUpdate checks client updates against a 2,000-cell
// notebook: one typed character, and a new code cell.
func BenchmarkCheckUpdate(b *testing.B) {
	server := setNew(b, Notebook{}, largeNotebook(b, 2000, ""))
	for _, bc := range []struct {
		name string
		edit func(doc *yjs.Doc) error
	}{
		{"keystroke", func(doc *yjs.Doc) error {
			return getText(cellAt(doc, 1000), "source").Insert(5, "x", nil)
		}},
		{"new cell", func(doc *yjs.Doc) error { return newCell(doc, 1000, validCode) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			update := change(b, peer(b, server), bc.edit)
			b.ReportAllocs()
			for b.Loop() {
				if err := CheckUpdate(TypeNotebook, server, update); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
