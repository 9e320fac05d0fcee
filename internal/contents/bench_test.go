package contents

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// processCPU returns the CPU time this process has used, in user and
// system mode together.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per iteration since start, garbage
// collection included, as bench/serverbench measures a server's.
func reportCPU(b *testing.B, start time.Duration) {
	b.Helper()
	perOp := processCPU(b) - start
	b.ReportMetric(float64(perOp)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// benchNotebook returns a notebook of about 5 MB on disk shaped like the one
// bench/serverbench saves and reads: 5,586 code cells, each with a
// six-line stream output, and a markdown cell after every ninth code cell.
// Sources and stream texts are single strings, as JupyterLab sends them.
func benchNotebook() map[string]any {
	const codeCells, lines = 5586, 6
	cells := make([]any, 0, codeCells+codeCells/9)
	for i := range codeCells {
		var text strings.Builder
		for line := range lines {
			fmt.Fprintf(&text, "row %05d.%02d: value=%012d checksum=%08x status=ok padding=%s\n",
				i, line, i*lines+line, uint32(i*2654435761+line), strings.Repeat("x", 14))
		}
		cells = append(cells, map[string]any{
			"cell_type": "code", "execution_count": i + 1, "id": fmt.Sprintf("code-%05d", i),
			"metadata": map[string]any{},
			"source":   fmt.Sprintf("for line in range(%d):\n    print(f\"row %05d.{line:02d}\")", lines, i),
			"outputs": []any{map[string]any{
				"output_type": "stream", "name": "stdout", "text": text.String(),
			}},
		})
		if i%9 == 8 {
			cells = append(cells, map[string]any{
				"cell_type": "markdown", "id": fmt.Sprintf("md-%05d", i), "metadata": map[string]any{},
				"source": fmt.Sprintf("## Section %d\n\nThe cells above print rows %d to %d.", i/9, i-8, i),
			})
		}
	}
	return map[string]any{
		"cells": cells, "nbformat": 4, "nbformat_minor": 5,
		"metadata": map[string]any{
			"kernelspec": map[string]any{
				"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3",
			},
			"language_info": map[string]any{"name": "python"},
		},
	}
}

func benchNotebookBytes(b *testing.B) []byte {
	b.Helper()
	data, err := WriteNotebook(benchNotebook())
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
	if err := os.WriteFile(filepath.Join(root, "big.ipynb"), benchNotebookBytes(b), 0o644); err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkReadNotebook(b *testing.B) {
	data := benchNotebookBytes(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadNotebook(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteNotebook(b *testing.B) {
	data := benchNotebookBytes(b)
	nb, err := ReadNotebook(data)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := WriteNotebook(nb); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNotebookGet(b *testing.B) {
	m := benchManager(b)
	b.ReportAllocs()
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
	b.ReportAllocs()
	for b.Loop() {
		_, err := m.Save("big.ipynb", SaveRequest{Type: "notebook", Format: "json", Content: model.Content})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNotebookGetHTTP(b *testing.B) {
	m := benchManager(b)
	mux := http.NewServeMux()
	m.Register(mux)
	b.ReportAllocs()
	start := processCPU(b)
	for b.Loop() {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/contents/big.ipynb?type=notebook&content=1", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("GET = %d %s", rec.Code, rec.Body.String()[:200])
		}
	}
	reportCPU(b, start)
}

// BenchmarkNotebookPutHTTP saves the notebook with the body that
// bench/serverbench sends: the model encoded by encoding/json.
func BenchmarkNotebookPutHTTP(b *testing.B) {
	m := benchManager(b)
	mux := http.NewServeMux()
	m.Register(mux)
	body, err := json.Marshal(map[string]any{"type": "notebook", "format": "json", "content": benchNotebook()})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	start := processCPU(b)
	for b.Loop() {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("PUT", "/api/contents/big.ipynb", bytes.NewReader(body)))
		if rec.Code != http.StatusOK {
			b.Fatalf("PUT = %d %s", rec.Code, rec.Body.String())
		}
	}
	reportCPU(b, start)
}
