package contents

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bigNotebookBytes returns a notebook of about 3.5 MB: many small code cells,
// each with a six-line stream output, like a long analysis.
func bigNotebookBytes(b *testing.B) []byte {
	b.Helper()
	cells := make([]any, 0, 5586)
	for i := range 5586 {
		lines := make([]any, 6)
		for j := range lines {
			lines[j] = fmt.Sprintf("line %d of output, some text here to make it longer\n", j)
		}
		cells = append(cells, map[string]any{
			"cell_type": "code", "execution_count": i, "id": fmt.Sprintf("c%d", i),
			"metadata": map[string]any{}, "source": []any{fmt.Sprintf("x = %d\n", i), "print(x)"},
			"outputs": []any{map[string]any{"name": "stdout", "output_type": "stream", "text": lines}},
		})
	}
	nb := map[string]any{
		"cells": cells, "nbformat": 4, "nbformat_minor": 5,
		"metadata": map[string]any{"kernelspec": map[string]any{"name": "python3", "display_name": "Python 3"}},
	}
	data, err := WriteNotebook(nb)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func benchManager(b *testing.B) *Manager {
	b.Helper()
	root := b.TempDir()
	m, err := New(root, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	if err := os.WriteFile(filepath.Join(root, "big.ipynb"), bigNotebookBytes(b), 0o644); err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkNotebookGet(b *testing.B) {
	m := benchManager(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Get("big.ipynb", GetOptions{Content: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNotebookSave(b *testing.B) {
	m := benchManager(b)
	model, err := m.Get("big.ipynb", GetOptions{Content: true})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		_, err := m.Save("big.ipynb", SaveRequest{Type: "notebook", Format: "json", Content: model.Content})
		if err != nil && !strings.Contains(err.Error(), "x") {
			b.Fatal(err)
		}
	}
}

func BenchmarkNotebookGetHTTP(b *testing.B) {
	m := benchManager(b)
	mux := http.NewServeMux()
	m.Register(mux)
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/contents/big.ipynb?content=1", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("GET = %d %s", rec.Code, rec.Body.String()[:200])
		}
	}
}
