package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// notebookPath is the path of the contents benchmark's notebook, relative
// to the server root.
const notebookPath = "bench.ipynb"

// Sizes on disk of parts of a generated notebook as nbformat writes it
// (one-space indent, one JSON string per line), measured on its output;
// they set how many cells a notebook of a given size gets.
const (
	cellBytes = 325 // a code cell without its output lines, plus its share of markdown cells
	lineBytes = 95  // one output line
)

// makeNotebook returns an nbformat 4.5 notebook of about size bytes on
// disk: code cells that each have a stream output of lines lines, and a
// markdown cell after every ninth code cell. The content is deterministic.
func makeNotebook(size, lines int) map[string]any {
	n := max(size/(cellBytes+lineBytes*lines), 1)
	cells := make([]any, 0, n+n/9)
	for i := range n {
		cells = append(cells, codeCell(i, lines))
		if i%9 == 8 {
			cells = append(cells, map[string]any{
				"cell_type": "markdown",
				"id":        fmt.Sprintf("md-%05d", i),
				"metadata":  map[string]any{},
				"source":    fmt.Sprintf("## Section %d\n\nThe cells above print rows %d to %d.", i/9, i-8, i),
			})
		}
	}
	return map[string]any{
		"cells": cells,
		"metadata": map[string]any{
			"kernelspec": map[string]any{
				"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3",
			},
			"language_info": map[string]any{"name": "python"},
		},
		"nbformat":       4,
		"nbformat_minor": 5,
	}
}

func codeCell(i, lines int) map[string]any {
	var text strings.Builder
	for line := range lines {
		fmt.Fprintf(&text, "row %05d.%02d: value=%012d checksum=%08x status=ok padding=%s\n",
			i, line, i*lines+line, uint32(i*2654435761+line), strings.Repeat("x", 14))
	}
	return map[string]any{
		"cell_type":       "code",
		"execution_count": i + 1,
		"id":              fmt.Sprintf("code-%05d", i),
		"metadata":        map[string]any{},
		"source":          fmt.Sprintf("for line in range(%d):\n    print(f\"row %05d.{line:02d}\")", lines, i),
		"outputs": []any{map[string]any{
			"output_type": "stream",
			"name":        "stdout",
			"text":        text.String(),
		}},
	}
}

// contentsBody returns the PUT /api/contents body that saves nb.
func contentsBody(nb map[string]any) ([]byte, error) {
	body, err := json.Marshal(map[string]any{"type": "notebook", "format": "json", "content": nb})
	if err != nil {
		return nil, fmt.Errorf("encoding notebook: %w", err)
	}
	return body, nil
}

// putNotebook saves the notebook body with PUT /api/contents/bench.ipynb,
// timed from sending the request until the whole response body is read.
func putNotebook(ctx context.Context, c *apiClient, body []byte, buf *bytes.Buffer) (time.Duration, error) {
	path := "/api/contents/" + notebookPath
	start := time.Now()
	status, err := c.do(ctx, http.MethodPut, path, body, buf)
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK && status != http.StatusCreated {
		return 0, fmt.Errorf("PUT %s: status %d: %s", path, status, truncate(buf.Bytes(), 300))
	}
	return d, nil
}

// getNotebook reads the notebook with GET /api/contents/bench.ipynb into
// buf, timed from sending the request until the whole body is read.
func getNotebook(ctx context.Context, c *apiClient, buf *bytes.Buffer) (time.Duration, error) {
	path := "/api/contents/" + notebookPath
	start := time.Now()
	status, err := c.do(ctx, http.MethodGet, path+"?type=notebook&content=1", nil, buf)
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("GET %s: status %d: %s", path, status, truncate(buf.Bytes(), 300))
	}
	return d, nil
}

// checkNotebookModel checks that a contents model holds a notebook with
// wantCells cells.
func checkNotebookModel(data []byte, wantCells int) error {
	var model struct {
		Type    string `json:"type"`
		Content struct {
			Cells []json.RawMessage `json:"cells"`
		} `json:"content"`
	}
	if err := json.Unmarshal(data, &model); err != nil {
		return fmt.Errorf("decoding contents model: %w", err)
	}
	if model.Type != "notebook" || len(model.Content.Cells) != wantCells {
		return fmt.Errorf("contents model has type %q and %d cells, want notebook with %d",
			model.Type, len(model.Content.Cells), wantCells)
	}
	return nil
}
