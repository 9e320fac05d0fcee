package contents

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
)

// upgradeV3 converts a version 3 notebook, freshly parsed, to version 4 in
// place, as nbformat 5.5's reads(s, as_version=4) does and so as
// jupyter_server opens such a notebook:
//
//   - lists of lines are joined, after nbformat 3's rule: a list whose
//     first line has no line end was split by str.splitlines() and is
//     joined with "\n";
//   - the cells of all worksheets become the notebook's cells, each with a
//     new random id;
//   - code cells get source from input, execution_count from
//     prompt_number, and metadata.collapsed from collapsed. They lose
//     language, and their outputs move to version 4's names and MIME keys;
//   - heading cells become markdown cells with a "#" heading, and html
//     cells markdown cells;
//   - metadata.name and metadata.signature are dropped, and
//     metadata.orig_nbformat and metadata.orig_nbformat_minor record the
//     conversion: the file's top-level orig_nbformat and
//     orig_nbformat_minor when they are set, else 3 and 0 (nbformat
//     records 0 whatever the file's minor version).
//
// Like nbformat, it keeps the trusted marks of version 3 cells, which
// WriteNotebook drops from cell metadata but not from the cell itself.
//
// Saving such a notebook writes version 4, as jupyter_server does.
func upgradeV3(nb map[string]any) error {
	if _, ok := nb["nbformat_minor"]; !ok {
		return errors.New("invalid version 3 notebook: nbformat_minor is missing")
	}
	md, ok := nb["metadata"].(map[string]any)
	if !ok {
		return errors.New("invalid version 3 notebook: metadata must be an object")
	}
	worksheets, ok := nb["worksheets"].([]any)
	if !ok {
		return errors.New("invalid version 3 notebook: worksheets must be a list")
	}

	cells := []any{}
	for i, w := range worksheets {
		ws, ok := w.(map[string]any)
		if !ok {
			return fmt.Errorf("invalid version 3 notebook: worksheets[%d] must be an object", i)
		}
		list, ok := ws["cells"].([]any)
		if !ok {
			return fmt.Errorf("invalid version 3 notebook: worksheets[%d].cells must be a list", i)
		}
		for j, c := range list {
			cell, ok := c.(map[string]any)
			if !ok {
				return fmt.Errorf("invalid version 3 notebook: worksheets[%d].cells[%d] must be an object", i, j)
			}
			if err := upgradeCellV3(cell); err != nil {
				return fmt.Errorf("invalid version 3 notebook: worksheets[%d].cells[%d]%w", i, j, err)
			}
			cells = append(cells, cell)
		}
	}

	md["orig_nbformat"] = truthyOr(nb["orig_nbformat"], json.Number("3"))
	md["orig_nbformat_minor"] = truthyOr(nb["orig_nbformat_minor"], json.Number("0"))
	delete(md, "name")
	delete(md, "signature")
	delete(nb, "worksheets")
	delete(nb, "orig_nbformat")
	delete(nb, "orig_nbformat_minor")
	nb["cells"] = cells
	nb["nbformat"] = json.Number("4")
	nb["nbformat_minor"] = json.Number("5")
	return nil
}

// truthyOr returns v, or def when Python would treat v as false, as
// Python's "v or def" does.
func truthyOr(v, def any) any {
	if pyTruthy(v) {
		return v
	}
	return def
}

func upgradeCellV3(cell map[string]any) error {
	kind, ok := cell["cell_type"].(string)
	if !ok {
		return cellError(".cell_type must be a string")
	}
	if _, present := cell["metadata"]; !present {
		cell["metadata"] = map[string]any{}
	}
	cell["id"] = newCellID()
	if kind == "code" {
		return upgradeCodeCellV3(cell)
	}

	for _, key := range []string{"source", "rendered"} {
		if err := joinV3(cell, key); err != nil {
			return err
		}
	}
	switch kind {
	case "heading":
		source, ok := cell["source"].(string)
		if _, present := cell["source"]; present && !ok {
			return cellError(".source must be a string or a list of strings")
		}
		level, err := headingLevel(cell)
		if err != nil {
			return err
		}
		// The heading goes on one line, as " ".join(source.splitlines()).
		var lines []string
		for start := 0; start < len(source); {
			end := lineEnd(source, start)
			lines = append(lines, trimLineEnd(source[start:end]))
			start = end
		}
		delete(cell, "level")
		cell["cell_type"] = "markdown"
		cell["source"] = strings.Repeat("#", level) + " " + strings.Join(lines, " ")
	case "html":
		cell["cell_type"] = "markdown"
	}
	return nil
}

func upgradeCodeCellV3(cell map[string]any) error {
	if err := joinV3(cell, "input"); err != nil {
		return err
	}
	outputs, ok := cell["outputs"].([]any)
	if !ok {
		return cellError(".outputs must be a list")
	}

	delete(cell, "language")
	if collapsed, ok := cell["collapsed"]; ok {
		metadata, ok := cell["metadata"].(map[string]any)
		if !ok {
			return cellError(".metadata must be an object")
		}
		metadata["collapsed"] = collapsed
		delete(cell, "collapsed")
	}
	source, ok := cell["input"]
	if !ok {
		source = ""
	}
	delete(cell, "input")
	cell["source"] = source
	count := cell["prompt_number"]
	delete(cell, "prompt_number")
	cell["execution_count"] = count

	for i, o := range outputs {
		out, ok := o.(map[string]any)
		if !ok {
			return fmt.Errorf(".outputs[%d] must be an object", i)
		}
		if err := upgradeOutputV3(out); err != nil {
			return fmt.Errorf(".outputs[%d]%w", i, err)
		}
	}
	return nil
}

// multilineOutputKeys are the keys of version 3 outputs whose lists of
// lines nbformat joins.
var multilineOutputKeys = []string{"text", "html", "svg", "latex", "javascript", "json"}

// mimeAliases maps the keys of version 3 output data to MIME types, in
// nbformat's order.
var mimeAliases = []struct{ alias, mime string }{
	{"text", "text/plain"},
	{"html", "text/html"},
	{"svg", "image/svg+xml"},
	{"png", "image/png"},
	{"jpeg", "image/jpeg"},
	{"latex", "text/latex"},
	{"json", "application/json"},
	{"javascript", "application/javascript"},
}

func renameMimeAliases(m map[string]any) {
	for _, a := range mimeAliases {
		if v, ok := m[a.alias]; ok {
			delete(m, a.alias)
			m[a.mime] = v
		}
	}
}

func upgradeOutputV3(out map[string]any) error {
	for _, key := range multilineOutputKeys {
		if err := joinV3(out, key); err != nil {
			return err
		}
	}
	kind, present := out["output_type"]
	if !present {
		return cellError(".output_type is missing")
	}
	switch kind {
	case "pyout", "display_data":
		md, present := out["metadata"]
		if !present {
			md = map[string]any{}
			out["metadata"] = md
		}
		if kind == "pyout" {
			out["output_type"] = "execute_result"
			out["execution_count"] = out["prompt_number"]
			delete(out, "prompt_number")
		}
		data := map[string]any{}
		for key, v := range out {
			switch key {
			case "output_type", "execution_count", "metadata":
			default:
				data[key] = v
				delete(out, key)
			}
		}
		renameMimeAliases(data)
		out["data"] = data
		if md, ok := md.(map[string]any); ok {
			renameMimeAliases(md)
		}
		if v, ok := data["application/json"]; ok {
			text, ok := v.(string)
			if !ok {
				return cellError(".json must be a string of JSON text")
			}
			parsed, _, err := parseJSON(text)
			if err != nil {
				return cellError(".json is not valid JSON: " + err.Error())
			}
			data["application/json"] = parsed
		}
	case "pyerr":
		out["output_type"] = "error"
	case "stream":
		name, ok := out["stream"]
		if !ok {
			name = "stdout"
		}
		delete(out, "stream")
		out["name"] = name
	}
	return nil
}

// joinV3 joins m[key] in place when it is a list of lines, with nbformat
// 3's rule, and leaves any other value as it is.
func joinV3(m map[string]any, key string) error {
	list, ok := m[key].([]any)
	if !ok {
		return nil
	}
	lines := make([]string, len(list))
	for i, l := range list {
		s, ok := l.(string)
		if !ok {
			return cellError("." + key + " must be a list of strings")
		}
		lines[i] = s
	}
	sep := "\n"
	if len(lines) > 0 && (strings.HasSuffix(lines[0], "\n") || strings.HasSuffix(lines[0], "\r")) {
		// Split by splitlines(True), which keeps the line ends.
		sep = ""
	}
	m[key] = strings.Join(lines, sep)
	return nil
}

// headingLevel returns the level of a heading cell: 1 when it has none.
func headingLevel(cell map[string]any) (int, error) {
	v, present := cell["level"]
	if !present {
		return 1, nil
	}
	switch v := v.(type) {
	case bool: // Python's True and False count as 1 and 0
		if v {
			return 1, nil
		}
		return 0, nil
	case json.Number:
		if n, ok := intValue(v); ok && plainInteger(string(v)) {
			// NOTE: nbformat repeats "#" any number of times; jupygo
			// stops at 100 rather than build a huge string.
			return max(min(n, 100), 0), nil
		}
	}
	return 0, cellError(".level must be an integer")
}

// trimLineEnd removes the line boundary that ends line, as lineEnd finds
// them.
func trimLineEnd(line string) string {
	for _, end := range []string{"\r\n", "\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\u0085", "\u2028", "\u2029"} {
		if strings.HasSuffix(line, end) {
			return line[:len(line)-len(end)]
		}
	}
	return line
}

// newCellID returns a random cell id of 8 hexadecimal digits, as
// nbformat's random_cell_id makes them.
func newCellID() string {
	return fmt.Sprintf("%08x", rand.Uint32())
}
