package contents

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readFixtures(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("testdata/notebooks/*.ipynb")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no notebook fixtures: %v", err)
	}
	fixtures := make(map[string][]byte)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fixtures[filepath.Base(p)] = data
	}
	return fixtures
}

func TestNotebookFixturesRoundTrip(t *testing.T) {
	for name, data := range readFixtures(t) {
		t.Run(name, func(t *testing.T) {
			nb, err := ReadNotebook(data)
			if err != nil {
				t.Fatalf("ReadNotebook: %v", err)
			}
			got, err := WriteNotebook(nb)
			if err != nil {
				t.Fatalf("WriteNotebook: %v", err)
			}
			if diff := cmp.Diff(string(data), string(got)); diff != "" {
				t.Errorf("bytes changed (-file +written):\n%s", diff)
			}
		})
	}
}

func TestReadNotebookJoinsLines(t *testing.T) {
	data, err := os.ReadFile("testdata/notebooks/v4.4.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	nb, err := ReadNotebook(data)
	if err != nil {
		t.Fatal(err)
	}

	cells := nb["cells"].([]any)
	markdown := cells[0].(map[string]any)
	wantSource := "Café ünïcödé <b>&amp;</b> 😀\u2028\u2029after a paragraph separator\r\n" +
		"CRLF above, form feed here\fend"
	if diff := cmp.Diff(wantSource, markdown["source"]); diff != "" {
		t.Errorf("markdown source (-want +got):\n%s", diff)
	}

	outputs := cells[1].(map[string]any)["outputs"].([]any)
	stream := outputs[0].(map[string]any)
	if diff := cmp.Diff("warning: bell \a and escape \x1b[0m\nno newline at end", stream["text"]); diff != "" {
		t.Errorf("stream text (-want +got):\n%s", diff)
	}
	data0 := outputs[1].(map[string]any)["data"].(map[string]any)
	want := map[string]any{
		"application/javascript": "console.log('a');\nconsole.log('b');",
		"application/json": map[string]any{
			"a": []any{json.Number("1"), json.Number("2.5"), "x\ny"},
			"b": nil,
			"c": true,
		},
		"application/vnd.plotly.v1+json": map[string]any{"data": []any{}, "layout": map[string]any{}},
		"image/svg+xml":                  "<svg xmlns=\"http://www.w3.org/2000/svg\">\n</svg>",
		"text/markdown":                  "| a | b |\n|---|---|",
		"text/plain":                     "<Figure>",
	}
	if diff := cmp.Diff(want, data0); diff != "" {
		t.Errorf("display data (-want +got):\n%s", diff)
	}

	md := cells[1].(map[string]any)["metadata"].(map[string]any)
	for key, lit := range map[string]string{"scale": "1.0", "tiny": "1e-05", "neg": "-0.0",
		"big": "12345678901234567890"} {
		if got := md[key]; got != json.Number(lit) {
			t.Errorf("metadata %s = %#v, want the literal %s", key, got, lit)
		}
	}
}

func TestReadNotebookStripsTransient(t *testing.T) {
	src := `{"cells": [{"cell_type": "code", "execution_count": null,
	  "metadata": {"trusted": true, "keep": 1}, "outputs": [], "source": "x"}],
	 "metadata": {"signature": "sha256:00", "orig_nbformat": 3, "orig_nbformat_minor": 0, "keep": 2},
	 "nbformat": 4, "nbformat_minor": 5}`
	nb, err := ReadNotebook([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"cells": []any{map[string]any{
			"cell_type": "code", "execution_count": nil,
			"metadata": map[string]any{"keep": json.Number("1")},
			"outputs":  []any{}, "source": "x",
		}},
		"metadata":       map[string]any{"keep": json.Number("2")},
		"nbformat":       json.Number("4"),
		"nbformat_minor": json.Number("5"),
	}
	if diff := cmp.Diff(want, nb); diff != "" {
		t.Errorf("notebook (-want +got):\n%s", diff)
	}
}

func TestReadNotebookErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"not utf8", "{\"cells\": [\"\xff\"]}", "not UTF-8"},
		{"byte order mark", "\ufeff{}", "invalid JSON"},
		{"empty", "", "invalid JSON"},
		{"truncated", `{"cells": [`, "invalid JSON"},
		{"trailing data", `{"nbformat": 4} x`, "extra data"},
		{"array", `[]`, "must be a JSON object"},
		{"version 3 without minor", `{"nbformat": 3, "metadata": {}, "worksheets": []}`, "nbformat_minor is missing"},
		{"version 3 without worksheets", `{"nbformat": 3, "nbformat_minor": 0, "metadata": {}}`,
			"worksheets must be a list"},
		{"version 3 cell without type", `{"nbformat": 3, "nbformat_minor": 0, "metadata": {},
			"worksheets": [{"cells": [{"source": "x"}]}]}`, "worksheets[0].cells[0].cell_type must be a string"},
		{"version 3 json output", `{"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
			{"cell_type": "code", "input": "", "outputs": [{"output_type": "pyout", "json": "{"}]}]}]}`,
			"worksheets[0].cells[0].outputs[0].json is not valid JSON"},
		{"version 2", `{"nbformat": 2, "worksheets": []}`, "unsupported nbformat version 2"},
		{"version as string", `{"nbformat": "4"}`, `unsupported nbformat version "4"`},
		{"missing version", `{"cells": []}`, "unsupported nbformat version"},
		{"missing cells", `{"nbformat": 4, "metadata": {}}`, "cells must be a list"},
		{"cell not object", `{"nbformat": 4, "metadata": {}, "cells": [1]}`, "cells[0] must be an object"},
		{"source with number", `{"nbformat": 4, "metadata": {}, "cells": [{"source": ["a", 1], "metadata": {}}]}`,
			"cells[0].source must be a list of strings"},
		{"missing metadata", `{"nbformat": 4, "cells": []}`, "metadata must be an object"},
		{"missing cell metadata", `{"nbformat": 4, "metadata": {}, "cells": [{"cell_type": "raw", "source": ""}]}`,
			"cells[0].metadata must be an object"},
		{"outputs not list", `{"nbformat": 4, "metadata": {}, "cells": [{"cell_type": "code", "metadata": {}, "outputs": {}}]}`,
			"cells[0].outputs must be a list"},
		{"stream text with null", `{"nbformat": 4, "metadata": {}, "cells": [{"cell_type": "code", "metadata": {},
			"outputs": [{"output_type": "stream", "text": ["a", null]}]}]}`, "cells[0].outputs[0].text"},
		{"attachments not object", `{"nbformat": 4, "metadata": {}, "cells": [{"metadata": {}, "attachments": []}]}`,
			"cells[0].attachments must be an object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadNotebook([]byte(tc.src))
			if err == nil {
				t.Fatalf("ReadNotebook succeeded, want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestValidateNotebook(t *testing.T) {
	valid := func() map[string]any {
		return map[string]any{
			"nbformat": json.Number("4"), "nbformat_minor": json.Number("5"),
			"metadata": map[string]any{},
			"cells": []any{map[string]any{
				"cell_type": "code", "metadata": map[string]any{}, "source": "x",
				"outputs": []any{map[string]any{"output_type": "stream", "name": "stdout", "text": "y"}},
			}},
		}
	}
	cell := func(nb map[string]any) map[string]any { return nb["cells"].([]any)[0].(map[string]any) }
	output := func(nb map[string]any) map[string]any { return cell(nb)["outputs"].([]any)[0].(map[string]any) }
	tests := []struct {
		name   string
		change func(nb map[string]any)
		want   string // empty for a valid notebook
	}{
		{"valid", func(map[string]any) {}, ""},
		{"float version", func(nb map[string]any) { nb["nbformat"] = 4.0 }, ""},
		{"version 3", func(nb map[string]any) { nb["nbformat"] = json.Number("3") }, "nbformat must be 4"},
		{"missing minor", func(nb map[string]any) { delete(nb, "nbformat_minor") }, "nbformat_minor"},
		{"metadata list", func(nb map[string]any) { nb["metadata"] = []any{} }, "metadata must be an object"},
		{"cells missing", func(nb map[string]any) { delete(nb, "cells") }, "cells must be a list"},
		{"cell string", func(nb map[string]any) { nb["cells"] = []any{"x"} }, "cells[0] must be an object"},
		{"cell type unknown", func(nb map[string]any) { cell(nb)["cell_type"] = "heading" }, "cells[0].cell_type"},
		{"cell metadata missing", func(nb map[string]any) { delete(cell(nb), "metadata") }, "cells[0].metadata"},
		{"source number", func(nb map[string]any) { cell(nb)["source"] = json.Number("1") }, "cells[0].source"},
		{"source lines", func(nb map[string]any) { cell(nb)["source"] = []any{"a\n", "b"} }, ""},
		{"outputs missing", func(nb map[string]any) { delete(cell(nb), "outputs") }, "cells[0].outputs must be a list"},
		{"output type missing", func(nb map[string]any) { delete(output(nb), "output_type") },
			"cells[0].outputs[0].output_type"},
		{"stream text missing", func(nb map[string]any) { delete(output(nb), "text") }, "cells[0].outputs[0].text"},
		{"data list", func(nb map[string]any) {
			cell(nb)["outputs"] = []any{map[string]any{"output_type": "display_data", "data": []any{}}}
		}, "cells[0].outputs[0].data must be an object"},
		{"attachments null", func(nb map[string]any) { cell(nb)["attachments"] = nil }, "cells[0].attachments"},
		{"attachment string", func(nb map[string]any) {
			cell(nb)["attachments"] = map[string]any{"a.png": "x"}
		}, `cells[0].attachments["a.png"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nb := valid()
			tc.change(nb)
			err := ValidateNotebook(nb)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("ValidateNotebook: %v, want no error", err)
			case tc.want != "" && err == nil:
				t.Errorf("ValidateNotebook succeeded, want an error containing %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestWriteNotebookDoesNotModify(t *testing.T) {
	nb := NewNotebook()
	nb["cells"] = []any{map[string]any{
		"cell_type": "code", "execution_count": nil, "source": "a\nb",
		"metadata": map[string]any{"trusted": true}, "outputs": []any{},
	}}
	nb["metadata"] = map[string]any{"signature": "x"}
	before, _ := json.Marshal(nb)
	if _, err := WriteNotebook(nb); err != nil {
		t.Fatal(err)
	}
	after, _ := json.Marshal(nb)
	if diff := cmp.Diff(string(before), string(after)); diff != "" {
		t.Errorf("notebook changed (-before +after):\n%s", diff)
	}
}

func TestNewNotebookBytes(t *testing.T) {
	got, err := WriteNotebook(NewNotebook())
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n \"cells\": [],\n \"metadata\": {},\n \"nbformat\": 4,\n \"nbformat_minor\": 5\n}\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("new notebook (-want +got):\n%s", diff)
	}
}

func TestPySplitLines(t *testing.T) {
	tests := []struct {
		in   string
		want []any
	}{
		{"", []any{}},
		{"a", []any{"a"}},
		{"a\n", []any{"a\n"}},
		{"a\nb", []any{"a\n", "b"}},
		{"\n\n", []any{"\n", "\n"}},
		{"a\r\nb\rc", []any{"a\r\n", "b\r", "c"}},
		{"\r\r\n", []any{"\r", "\r\n"}},
		{"a\vb\fc\x1cd\x1de\x1ef", []any{"a\v", "b\f", "c\x1c", "d\x1d", "e\x1e", "f"}},
		{"a\u0085b\u2028c\u2029d", []any{"a\u0085", "b\u2028", "c\u2029", "d"}},
		{"tab\tis not a break", []any{"tab\tis not a break"}},
		{"\x1f unit separator is not either", []any{"\x1f unit separator is not either"}},
		{"bad \xff byte\n", []any{"bad \xff byte\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, pySplitLines(tc.in)); diff != "" {
				t.Errorf("pySplitLines(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestPyEncoderStrings(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"plain", `"plain"`},
		{`q"b\`, `"q\"b\\"`},
		{"<>&", `"<>&"`},
		{"\u2028\u2029", "\"\u2028\u2029\""},
		{"\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f\""},
		{"é日😀", `"é日😀"`},
		{"bad\xffbyte", "\"bad\uFFFDbyte\""},
		{"/", `"/"`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			var e pyEncoder
			e.str(tc.in)
			if diff := cmp.Diff(tc.want, string(e.buf)); diff != "" {
				t.Errorf("encoding %q (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestPyFloatRepr(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1, "1.0"},
		{1.5, "1.5"},
		{0.1, "0.1"},
		{1e-4, "0.0001"},
		{1e-5, "1e-05"},
		{1.5e-7, "1.5e-07"},
		{1e15, "1000000000000000.0"},
		{1e16, "1e+16"},
		{123456789.125, "123456789.125"},
		{1.7976931348623157e308, "1.7976931348623157e+308"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := pyFloatRepr(tc.in); got != tc.want {
				t.Errorf("pyFloatRepr(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestIsJSONNumber(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"0", true}, {"-0", true}, {"1.0", true}, {"1e5", true}, {"1E+400", true}, {"-12.5e-3", true},
		{"", false}, {"-", false}, {"01", false}, {"1.", false}, {".5", false}, {"1e", false},
		{"+1", false}, {"NaN", false}, {"0x10", false}, {"1 ", false},
	}
	for _, tc := range tests {
		if got := isJSONNumber(tc.in); got != tc.want {
			t.Errorf("isJSONNumber(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// systemPython returns Debian's python3 when it has nbformat, and skips
// the test otherwise.
func systemPython(t *testing.T) string {
	t.Helper()
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import nbformat").Run(); err != nil {
		t.Skipf("%s with nbformat is not available: %v", python, err)
	}
	return python
}

// nbformatScript writes notebooks with nbformat's own writer into the
// folder given as its argument.
const nbformatScript = `
import sys, os, nbformat
from nbformat.v4 import new_notebook, new_code_cell, new_markdown_cell, new_raw_cell
from nbformat.v4 import new_output
out = sys.argv[1]
tricky = "tab\t quote\" backslash\\ <script>&amp; \u2028 \u0085 \x0b\x0c \x1f\x7f é 日本 😀\r\nend"
nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                            "floats": [1.0, 0.1, 1e-07, 1e16, 2.5e300, -0.0], "ints": [0, -1, 10**20]})
nb.cells.append(new_markdown_cell(tricky, metadata={"tags": ["ü"]}))
nb.cells.append(new_code_cell("for i in range(3):\n    print(i)\n", execution_count=1, outputs=[
    new_output("stream", name="stdout", text="0\n1\n2\n"),
    new_output("execute_result", data={"text/plain": "a\nb", "text/html": "<p>\n</p>",
        "application/json": {"k": ["x\ny", 1.5]}, "image/png": "iVBORw0KGgo=\n"}, execution_count=1),
    new_output("display_data", data={"image/svg+xml": "<svg>\n</svg>\n", "application/javascript": "a;\nb;"}),
    new_output("error", ename="E", evalue="v", traceback=["l1\n", "l2"]),
]))
nb.cells.append(new_raw_cell("", metadata={"format": "text/plain"}))
nb.cells.append(new_code_cell(""))
for name, minor in [("gen-4.5.ipynb", 5), ("gen-4.4.ipynb", 4)]:
    nb.nbformat_minor = minor
    if minor < 5:
        for c in nb.cells:
            c.pop("id", None)
    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
`

func TestNotebookMatchesNbformat(t *testing.T) {
	python := systemPython(t)
	dir := t.TempDir()
	cmd := exec.Command(python, "-c", nbformatScript, dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generating notebooks: %v\n%s", err, out)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.ipynb"))
	if len(paths) != 2 {
		t.Fatalf("generated %d notebooks, want 2", len(paths))
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			nb, err := ReadNotebook(data)
			if err != nil {
				t.Fatalf("ReadNotebook: %v", err)
			}
			got, err := WriteNotebook(nb)
			if err != nil {
				t.Fatalf("WriteNotebook: %v", err)
			}
			if diff := cmp.Diff(string(data), string(got)); diff != "" {
				t.Errorf("bytes changed (-nbformat +jupygo):\n%s", diff)
			}
		})
	}
}

// TestNbformatReadsWhatWeWrite checks the other direction: nbformat reads
// and rewrites a notebook written by WriteNotebook without changing a byte.
func TestNbformatReadsWhatWeWrite(t *testing.T) {
	python := systemPython(t)
	nb := NewNotebook()
	nb["metadata"] = map[string]any{"z": 1.0, "a": []any{0.25, int64(7), "x\u2028y"}, "é": nil}
	nb["cells"] = []any{
		map[string]any{"cell_type": "markdown", "id": "m1", "metadata": map[string]any{},
			"source": "line one\nline two\r\n<&>\f\u0085end"},
		map[string]any{"cell_type": "code", "id": "c1", "execution_count": json.Number("3"),
			"metadata": map[string]any{"trusted": true}, "source": "print(1)",
			"outputs": []any{map[string]any{"output_type": "stream", "name": "stdout", "text": "1\n2"}}},
	}
	data, err := WriteNotebook(nb)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "go.ipynb")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	script := `import sys, nbformat
raw = open(sys.argv[1], encoding="utf-8", newline="").read()
sys.stdout.buffer.write((nbformat.writes(nbformat.reads(raw, as_version=4)) + "\n").encode("utf-8"))`
	out, err := exec.Command(python, "-c", script, p).Output()
	if err != nil {
		t.Fatalf("rewriting with nbformat: %v", err)
	}
	if diff := cmp.Diff(string(data), string(out)); diff != "" {
		t.Errorf("nbformat changed bytes (-jupygo +nbformat):\n%s", diff)
	}
}

func FuzzReadNotebook(f *testing.F) {
	for _, data := range readFixtures(f) {
		f.Add(data)
	}
	f.Add([]byte(`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}`))
	f.Add([]byte(`{"nbformat": 4.0, "metadata": {}, "cells": [{"cell_type": "code", "metadata": {}, "outputs": [{"output_type": 1, "text": ["a"]}]}]}`))
	f.Add([]byte(`{"nbformat": 4, "metadata": {}, "cells": [{"attachments": {"a": {"text/plain": ["x", 1]}}, "metadata": {}}]}`))
	f.Add([]byte("\ufeff{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		nb, err := ReadNotebook(data)
		if err != nil {
			return
		}
		first, err := WriteNotebook(nb)
		if err != nil {
			return
		}
		again, err := ReadNotebook(first)
		if err != nil {
			t.Fatalf("reading written notebook: %v\n%s", err, first)
		}
		second, err := WriteNotebook(again)
		if err != nil {
			t.Fatalf("writing notebook again: %v", err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("second write differs:\n%s\n---\n%s", first, second)
		}
	})
}
