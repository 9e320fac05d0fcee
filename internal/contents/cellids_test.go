package contents

import (
	"encoding/json"
	"net/http"
	"testing"
)

// cellIDs returns the ids of a notebook model's cells, "" for a cell without.
func cellIDs(t *testing.T, content any) []string {
	t.Helper()
	nb, _ := content.(map[string]any)
	cells, _ := nb["cells"].([]any)
	ids := make([]string, len(cells))
	for i, c := range cells {
		ids[i], _ = c.(map[string]any)["id"].(string)
	}
	return ids
}

func checkIDsRepaired(t *testing.T, ids []string, keep map[int]string) {
	t.Helper()
	seen := map[string]bool{}
	for i, id := range ids {
		if id == "" || seen[id] {
			t.Errorf("cell %d has id %q in %q, want a unique id", i, id, ids)
		}
		seen[id] = true
		if want, ok := keep[i]; ok && id != want {
			t.Errorf("cell %d id = %q, want it kept as %q", i, id, want)
		}
	}
}

const idNotebook = `{"cells": [
  {"cell_type": "markdown", "id": "same", "metadata": {}, "source": "a"},
  {"cell_type": "markdown", "id": "same", "metadata": {}, "source": "b"},
  {"cell_type": "markdown", "metadata": {}, "source": "c"},
  {"cell_type": "markdown", "id": "other", "metadata": {}, "source": "d"}
 ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
`

func TestCellIDsRepairedOnRead(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("ids.ipynb", idNotebook)
	model := s.call("GET", "/api/contents/ids.ipynb", nil, http.StatusOK)
	checkIDsRepaired(t, cellIDs(t, model["content"]), map[int]string{0: "same", 3: "other"})
}

func TestCellIDsRepairedOnSave(t *testing.T) {
	s := newTestServer(t, Options{})
	var nb map[string]any
	if err := json.Unmarshal([]byte(idNotebook), &nb); err != nil {
		t.Fatal(err)
	}
	s.call("PUT", "/api/contents/ids.ipynb",
		map[string]any{"type": "notebook", "format": "json", "content": nb}, http.StatusCreated)
	var onDisk map[string]any
	if err := json.Unmarshal([]byte(s.readFile("ids.ipynb")), &onDisk); err != nil {
		t.Fatal(err)
	}
	checkIDsRepaired(t, cellIDs(t, onDisk), map[int]string{0: "same", 3: "other"})
}

func TestCellIDsBeforeMinor5Untouched(t *testing.T) {
	nb := map[string]any{"nbformat": json.Number("4"), "nbformat_minor": json.Number("4"),
		"cells": []any{map[string]any{"cell_type": "markdown"}}}
	repairCellIDs(nb)
	if ids := cellIDs(t, nb); ids[0] != "" {
		t.Errorf("nbformat 4.4 cell got id %q, want none", ids[0])
	}
}
