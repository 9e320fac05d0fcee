package contents

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const v3Fixture = "testdata/v3/ipython2.ipynb"

// numberCellIDs gives the cells of nb the ids c0, c1, and so on, in place
// of the random ones of a conversion.
func numberCellIDs(nb map[string]any) {
	for i, c := range nb["cells"].([]any) {
		c.(map[string]any)["id"] = "c" + strconv.Itoa(i)
	}
}

// TestUpgradeV3MatchesNbformat converts the version 3 fixture with
// nbformat and with jupygo, and compares the notebooks as read and as
// written back.
func TestUpgradeV3MatchesNbformat(t *testing.T) {
	python := systemPython(t)
	script := `import sys, json, nbformat
raw = open(sys.argv[1], encoding="utf-8").read()
nb = nbformat.reads(raw, as_version=4)
for i, cell in enumerate(nb.cells):
    cell.id = "c%d" % i
print(json.dumps(nb, ensure_ascii=False))
print(json.dumps(nbformat.writes(nb) + "\n", ensure_ascii=False))`
	out, err := exec.Command(python, "-c", script, v3Fixture).Output()
	if err != nil {
		t.Fatalf("converting with nbformat: %v", err)
	}
	lines := bytes.SplitN(out, []byte("\n"), 2)
	var want map[string]any
	dec := json.NewDecoder(bytes.NewReader(lines[0]))
	dec.UseNumber()
	if err := dec.Decode(&want); err != nil {
		t.Fatal(err)
	}
	var wantFile string
	if err := json.Unmarshal(lines[1], &wantFile); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(v3Fixture)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadNotebook(data)
	if err != nil {
		t.Fatalf("ReadNotebook: %v", err)
	}
	numberCellIDs(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("converted notebook (-nbformat +jupygo):\n%s", diff)
	}
	file, err := WriteNotebook(got)
	if err != nil {
		t.Fatalf("WriteNotebook: %v", err)
	}
	if diff := cmp.Diff(wantFile, string(file)); diff != "" {
		t.Errorf("written notebook (-nbformat +jupygo):\n%s", diff)
	}
}

func TestUpgradeV3(t *testing.T) {
	src := `{"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": "n", "keep": 1},
	 "worksheets": [{"cells": [
	  {"cell_type": "heading", "level": 2, "metadata": {}, "source": ["Title\n", "more"]},
	  {"cell_type": "code", "collapsed": true, "input": ["a", "b"], "language": "python", "metadata": {},
	   "prompt_number": 4, "outputs": [
	    {"output_type": "pyout", "prompt_number": 4, "text": ["4"], "metadata": {}},
	    {"output_type": "stream", "stream": "stdout", "text": ["x\n", "y"]},
	    {"output_type": "pyerr", "ename": "E", "evalue": "v", "traceback": []}]}]}]}`
	nb, err := ReadNotebook([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	numberCellIDs(nb)
	want := map[string]any{
		"nbformat": json.Number("4"), "nbformat_minor": json.Number("5"),
		"metadata": map[string]any{"keep": json.Number("1"),
			"orig_nbformat": json.Number("3"), "orig_nbformat_minor": json.Number("0")},
		"cells": []any{
			map[string]any{"cell_type": "markdown", "id": "c0", "metadata": map[string]any{}, "source": "## Title more"},
			map[string]any{"cell_type": "code", "id": "c1", "metadata": map[string]any{"collapsed": true},
				"source": "a\nb", "execution_count": json.Number("4"), "outputs": []any{
					map[string]any{"output_type": "execute_result", "execution_count": json.Number("4"),
						"metadata": map[string]any{}, "data": map[string]any{"text/plain": "4"}},
					map[string]any{"output_type": "stream", "name": "stdout", "text": "x\ny"},
					map[string]any{"output_type": "error", "ename": "E", "evalue": "v", "traceback": []any{}},
				}},
		},
	}
	if diff := cmp.Diff(want, nb); diff != "" {
		t.Errorf("converted notebook (-want +got):\n%s", diff)
	}
}

func TestUpgradeV3GivesRandomCellIDs(t *testing.T) {
	data, err := os.ReadFile(v3Fixture)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := ReadNotebook(data)
	if err != nil {
		t.Fatal(err)
	}
	valid := regexp.MustCompile(`^[0-9a-f]{8}$`)
	seen := map[string]bool{}
	for _, c := range nb["cells"].([]any) {
		id, _ := c.(map[string]any)["id"].(string)
		if !valid.MatchString(id) {
			t.Errorf("cell id %q is not 8 hexadecimal digits", id)
		}
		if seen[id] {
			t.Errorf("cell id %q repeats", id)
		}
		seen[id] = true
	}
}

// TestOpenAndSaveV3Notebook opens a version 3 notebook as JupyterLab does
// and saves it back, which writes it as version 4.
func TestOpenAndSaveV3Notebook(t *testing.T) {
	data, err := os.ReadFile(v3Fixture)
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, Options{})
	s.writeFile("old.ipynb", string(data))
	model := s.call("GET", "/api/contents/old.ipynb", nil, http.StatusOK)
	content := model["content"].(map[string]any)
	if content["nbformat"] != 4.0 || len(content["cells"].([]any)) != 8 {
		t.Fatalf("GET gives nbformat %v with %d cells, want 4 with 8", content["nbformat"], len(content["cells"].([]any)))
	}
	s.call("PUT", "/api/contents/old.ipynb",
		map[string]any{"type": "notebook", "format": "json", "content": content}, http.StatusOK)
	saved := s.readFile("old.ipynb")
	if !strings.Contains(saved, `"nbformat": 4,`) || strings.Contains(saved, "worksheets") ||
		strings.Contains(saved, "orig_nbformat") {
		t.Errorf("saved notebook is not a plain version 4 notebook:\n%.400s", saved)
	}
	if _, err := ReadNotebook([]byte(saved)); err != nil {
		t.Errorf("saved notebook is unreadable: %v", err)
	}
}
