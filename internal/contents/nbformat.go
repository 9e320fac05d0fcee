package contents

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// NBFormat and NBFormatMinor are the notebook format version that new
// notebooks get, the current version of nbformat 5.x.
const (
	NBFormat      = 4
	NBFormatMinor = 5
)

// Notebook values are the generic JSON tree that encoding/json produces:
// map[string]any, []any, string, bool, nil, and json.Number for numbers, so
// that a number keeps the literal text it was read with (1.0 stays 1.0).

// ReadNotebook parses the bytes of an .ipynb file as nbformat.reads does for
// nbformat 4. The file must be UTF-8 JSON containing one object. Multi-line
// strings stored as lists of lines are joined into one string: cell sources,
// stream text, and the non-JSON entries of output data and attachments. The
// transient keys metadata.orig_nbformat, metadata.orig_nbformat_minor,
// metadata.signature and cells[].metadata.trusted are removed.
//
// Numbers are json.Number. Errors describe why the file is not a readable
// notebook; ReadNotebook never panics on any input.
func ReadNotebook(data []byte) (map[string]any, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("notebook is not UTF-8 encoded")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	rest := data[dec.InputOffset():]
	if len(bytes.TrimLeft(rest, " \t\r\n")) != 0 {
		return nil, errors.New("invalid JSON: extra data after the notebook")
	}
	nb, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("notebook must be a JSON object")
	}

	major, err := formatVersion(nb)
	if err != nil {
		return nil, err
	}
	if major != NBFormat {
		// TODO: nbformat converts v3 notebooks to v4 on read; jupygo
		// reads only nbformat 4 notebooks.
		return nil, fmt.Errorf("unsupported nbformat version %s: only version 4 can be read",
			formatNumber(nb["nbformat"]))
	}
	if err := rejoinLines(nb); err != nil {
		return nil, err
	}
	if err := stripTransient(nb); err != nil {
		return nil, err
	}
	return nb, nil
}

// WriteNotebook serializes nb as nbformat.writes does: multi-line strings
// split into lists of lines (with Python's str.splitlines rules), the
// transient keys that ReadNotebook removes left out, and the JSON text of
// json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) followed by a
// newline. For a file that nbformat wrote, WriteNotebook(ReadNotebook(file))
// is byte-identical to the file.
//
// WriteNotebook does not modify nb. It returns an error when nb fails
// ValidateNotebook or holds a value that is not a JSON value.
func WriteNotebook(nb map[string]any) ([]byte, error) {
	if err := ValidateNotebook(nb); err != nil {
		return nil, err
	}
	var e pyEncoder
	if err := e.value(diskForm(nb), 0); err != nil {
		return nil, err
	}
	e.buf = append(e.buf, '\n')
	return e.buf, nil
}

// KeepNumberLiterals returns nb with every number that equals, as a
// float64, the number at the same place in previous replaced by the literal
// text it has in previous. Browsers parse JSON numbers into doubles, so a
// notebook that JupyterLab sends back has 1 where the file had 1.0 and
// 1e-05 where it had 0.00001; keeping the file's literals makes saving an
// unchanged notebook change no byte. Places are matched by object key and
// list index, and only equal values are replaced, so a mismatch never
// changes what a number means. Neither argument is modified: the result
// shares the unchanged parts of nb.
func KeepNumberLiterals(nb, previous map[string]any) map[string]any {
	v, _ := keepLiterals(nb, previous)
	return v.(map[string]any)
}

// keepLiterals returns v with the literals of prev kept, and whether it
// replaced anything.
func keepLiterals(v, prev any) (any, bool) {
	switch v := v.(type) {
	case json.Number, float64:
		p, ok := prev.(json.Number)
		if ok && p != v && sameFloat(v, p) {
			return p, true
		}
	case map[string]any:
		pm, ok := prev.(map[string]any)
		if !ok {
			return v, false
		}
		var out map[string]any
		for k, x := range v {
			px, ok := pm[k]
			if !ok {
				continue
			}
			if nx, changed := keepLiterals(x, px); changed {
				if out == nil {
					out = copyMap(v)
				}
				out[k] = nx
			}
		}
		if out != nil {
			return out, true
		}
	case []any:
		pl, ok := prev.([]any)
		if !ok {
			return v, false
		}
		var out []any
		for i := range min(len(v), len(pl)) {
			if nx, changed := keepLiterals(v[i], pl[i]); changed {
				if out == nil {
					out = slices.Clone(v)
				}
				out[i] = nx
			}
		}
		if out != nil {
			return out, true
		}
	}
	return v, false
}

// sameFloat reports whether a number (json.Number or float64) and a JSON
// number literal have the same float64 value.
func sameFloat(v any, literal json.Number) bool {
	want, err := literal.Float64()
	if err != nil {
		return false
	}
	switch v := v.(type) {
	case float64:
		return v == want
	case json.Number:
		got, err := v.Float64()
		return err == nil && got == want
	}
	return false
}

// NewNotebook returns the empty notebook that nbformat.v4.new_notebook makes.
func NewNotebook() map[string]any {
	return map[string]any{
		"cells":          []any{},
		"metadata":       map[string]any{},
		"nbformat":       json.Number(strconv.Itoa(NBFormat)),
		"nbformat_minor": json.Number(strconv.Itoa(NBFormatMinor)),
	}
}

// ValidateNotebook checks the structure that saving a notebook relies on.
// The notebook needs nbformat 4, an integer nbformat_minor, a metadata
// object and a list of cells. Each cell is an object with a known
// cell_type, a metadata object, and a source that is a string or a list of
// strings. Code cells have a list of outputs, each with an output_type, an
// object as data, and a string or a list of strings as stream text.
// ValidateNotebook does not check the full nbformat JSON schema.
func ValidateNotebook(nb map[string]any) error {
	major, err := formatVersion(nb)
	if err != nil {
		return err
	}
	if major != NBFormat {
		return fmt.Errorf("invalid notebook: nbformat must be 4, not %s", formatNumber(nb["nbformat"]))
	}
	if _, ok := intValue(nb["nbformat_minor"]); !ok {
		return errors.New("invalid notebook: nbformat_minor must be an integer")
	}
	if _, ok := nb["metadata"].(map[string]any); !ok {
		return errors.New("invalid notebook: metadata must be an object")
	}
	cells, ok := nb["cells"].([]any)
	if !ok {
		return errors.New("invalid notebook: cells must be a list")
	}
	for i, c := range cells {
		if err := validateCell(c); err != nil {
			return fmt.Errorf("invalid notebook: cells[%d]%w", i, err)
		}
	}
	return nil
}

// cellError is a validation error whose text continues a location prefix
// such as "cells[3]".
type cellError string

func (e cellError) Error() string { return string(e) }

func validateCell(c any) error {
	cell, ok := c.(map[string]any)
	if !ok {
		return cellError(" must be an object")
	}
	switch cell["cell_type"] {
	case "code", "markdown", "raw":
	default:
		return cellError(`.cell_type must be "code", "markdown" or "raw"`)
	}
	if _, ok := cell["metadata"].(map[string]any); !ok {
		return cellError(".metadata must be an object")
	}
	if !isMultiline(cell["source"]) {
		return cellError(".source must be a string or a list of strings")
	}
	if att, present := cell["attachments"]; present {
		if err := validateBundles(att); err != nil {
			return err
		}
	}
	if cell["cell_type"] != "code" {
		return nil
	}
	outputs, ok := cell["outputs"].([]any)
	if !ok {
		return cellError(".outputs must be a list")
	}
	for j, o := range outputs {
		if err := validateOutput(o); err != nil {
			return fmt.Errorf(".outputs[%d]%w", j, err)
		}
	}
	return nil
}

func validateBundles(att any) error {
	bundles, ok := att.(map[string]any)
	if !ok {
		return cellError(".attachments must be an object")
	}
	for name, b := range bundles {
		if _, ok := b.(map[string]any); !ok {
			return cellError(fmt.Sprintf(".attachments[%q] must be an object", name))
		}
	}
	return nil
}

func validateOutput(o any) error {
	out, ok := o.(map[string]any)
	if !ok {
		return cellError(" must be an object")
	}
	kind, ok := out["output_type"].(string)
	if !ok {
		return cellError(".output_type must be a string")
	}
	switch kind {
	case "execute_result", "display_data":
		if data, present := out["data"]; present {
			if _, ok := data.(map[string]any); !ok {
				return cellError(".data must be an object")
			}
		}
	case "stream":
		if !isMultiline(out["text"]) {
			return cellError(".text must be a string or a list of strings")
		}
	}
	return nil
}

// isMultiline reports whether v is a string or a list of strings.
func isMultiline(v any) bool {
	switch v := v.(type) {
	case string:
		return true
	case []any:
		for _, s := range v {
			if _, ok := s.(string); !ok {
				return false
			}
		}
		return true
	}
	return false
}

// formatVersion returns the major nbformat version of nb; a missing
// nbformat means version 1, as in nbformat.reader.get_version.
func formatVersion(nb map[string]any) (int, error) {
	v, present := nb["nbformat"]
	if !present {
		return 1, nil
	}
	n, ok := intValue(v)
	if !ok {
		return 0, fmt.Errorf("unsupported nbformat version %s", formatNumber(v))
	}
	return n, nil
}

// intValue returns v as an int when it is a JSON number with an integer
// value (4 and 4.0 both count, as they do in Python).
func intValue(v any) (int, bool) {
	var f float64
	switch v := v.(type) {
	case json.Number:
		var err error
		f, err = v.Float64()
		if err != nil {
			return 0, false
		}
	case float64:
		f = v
	case int:
		return v, true
	case int64:
		f = float64(v)
	default:
		return 0, false
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<31 {
		return 0, false
	}
	return int(f), true
}

// formatNumber renders a version value for an error message.
func formatNumber(v any) string {
	switch v := v.(type) {
	case json.Number:
		return v.String()
	case string:
		return strconv.Quote(v)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", v)
}

// rejoinLines joins the multi-line strings of a freshly decoded notebook in
// place, following nbformat.v4.rwbase.rejoin_lines.
func rejoinLines(nb map[string]any) error {
	cells, ok := nb["cells"].([]any)
	if !ok {
		return errors.New("invalid notebook: cells must be a list")
	}
	for i, c := range cells {
		cell, ok := c.(map[string]any)
		if !ok {
			return fmt.Errorf("invalid notebook: cells[%d] must be an object", i)
		}
		if err := rejoinCell(cell); err != nil {
			return fmt.Errorf("invalid notebook: cells[%d]%w", i, err)
		}
	}
	return nil
}

func rejoinCell(cell map[string]any) error {
	if src, ok := cell["source"].([]any); ok {
		joined, ok := joinStrings(src)
		if !ok {
			return cellError(".source must be a list of strings")
		}
		cell["source"] = joined
	}
	if att, present := cell["attachments"]; present {
		bundles, ok := att.(map[string]any)
		if !ok {
			return cellError(".attachments must be an object")
		}
		for name, b := range bundles {
			bundle, ok := b.(map[string]any)
			if !ok {
				return cellError(fmt.Sprintf(".attachments[%q] must be an object", name))
			}
			rejoinBundle(bundle)
		}
	}
	if cell["cell_type"] != "code" {
		return nil
	}
	outs, present := cell["outputs"]
	if !present {
		return nil
	}
	outputs, ok := outs.([]any)
	if !ok {
		return cellError(".outputs must be a list")
	}
	for j, o := range outputs {
		if err := rejoinOutput(o); err != nil {
			return fmt.Errorf(".outputs[%d]%w", j, err)
		}
	}
	return nil
}

func rejoinOutput(o any) error {
	out, ok := o.(map[string]any)
	if !ok {
		return cellError(" must be an object")
	}
	switch kind := out["output_type"]; kind {
	case "execute_result", "display_data":
		data, present := out["data"]
		if !present {
			return nil
		}
		bundle, ok := data.(map[string]any)
		if !ok {
			return cellError(".data must be an object")
		}
		rejoinBundle(bundle)
	default:
		if !pyTruthy(kind) {
			return nil
		}
		if text, ok := out["text"].([]any); ok {
			joined, ok := joinStrings(text)
			if !ok {
				return cellError(".text must be a list of strings")
			}
			out["text"] = joined
		}
	}
	return nil
}

// rejoinBundle joins every list of strings in a MIME bundle whose key is
// not a JSON MIME type.
func rejoinBundle(bundle map[string]any) {
	for mime, v := range bundle {
		lines, ok := v.([]any)
		if !ok || isJSONMime(mime) {
			continue
		}
		if joined, ok := joinStrings(lines); ok {
			bundle[mime] = joined
		}
	}
}

func isJSONMime(mime string) bool {
	return mime == "application/json" ||
		strings.HasPrefix(mime, "application/") && strings.HasSuffix(mime, "+json")
}

// splitMimes are the MIME types outside text/* whose strings nbformat
// splits into lines when writing.
var splitMimes = map[string]bool{
	"application/javascript": true,
	"image/svg+xml":          true,
}

func joinStrings(lines []any) (string, bool) {
	var b strings.Builder
	for _, l := range lines {
		s, ok := l.(string)
		if !ok {
			return "", false
		}
		b.WriteString(s)
	}
	return b.String(), true
}

// pyTruthy reports whether Python would treat the JSON value v as true.
func pyTruthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case json.Number:
		f, err := v.Float64()
		return err != nil || f != 0
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

// stripTransient removes the keys that nbformat never stores in a file.
func stripTransient(nb map[string]any) error {
	md, ok := nb["metadata"].(map[string]any)
	if !ok {
		return errors.New("invalid notebook: metadata must be an object")
	}
	delete(md, "orig_nbformat")
	delete(md, "orig_nbformat_minor")
	delete(md, "signature")
	cells, _ := nb["cells"].([]any)
	for i, c := range cells {
		cell, _ := c.(map[string]any)
		cmd, ok := cell["metadata"].(map[string]any)
		if !ok {
			return fmt.Errorf("invalid notebook: cells[%d].metadata must be an object", i)
		}
		delete(cmd, "trusted")
	}
	return nil
}

// diskForm returns the notebook as nbformat stores it: strings split into
// lines and transient keys left out. It copies every object and list on the
// way to a changed value and shares the rest with nb. nb must have passed
// ValidateNotebook.
func diskForm(nb map[string]any) map[string]any {
	out := copyMap(nb)
	out["metadata"] = copyMap(nb["metadata"].(map[string]any),
		"orig_nbformat", "orig_nbformat_minor", "signature")
	cells := nb["cells"].([]any)
	diskCells := make([]any, len(cells))
	for i, c := range cells {
		diskCells[i] = diskCell(c.(map[string]any))
	}
	out["cells"] = diskCells
	return out
}

func diskCell(cell map[string]any) map[string]any {
	out := copyMap(cell)
	out["metadata"] = copyMap(cell["metadata"].(map[string]any), "trusted")
	if src, ok := cell["source"].(string); ok {
		out["source"] = pySplitLines(src)
	}
	if bundles, ok := cell["attachments"].(map[string]any); ok {
		diskBundles := make(map[string]any, len(bundles))
		for name, b := range bundles {
			diskBundles[name] = splitBundle(b.(map[string]any))
		}
		out["attachments"] = diskBundles
	}
	if cell["cell_type"] != "code" {
		return out
	}
	outputs := cell["outputs"].([]any)
	diskOutputs := make([]any, len(outputs))
	for j, o := range outputs {
		diskOutputs[j] = diskOutput(o.(map[string]any))
	}
	out["outputs"] = diskOutputs
	return out
}

func diskOutput(output map[string]any) map[string]any {
	switch output["output_type"] {
	case "execute_result", "display_data":
		data, ok := output["data"].(map[string]any)
		if !ok {
			return output
		}
		out := copyMap(output)
		out["data"] = splitBundle(data)
		return out
	case "stream":
		text, ok := output["text"].(string)
		if !ok {
			return output
		}
		out := copyMap(output)
		out["text"] = pySplitLines(text)
		return out
	}
	return output
}

// splitBundle splits the text/* strings of a MIME bundle (and those of
// splitMimes) into lines.
func splitBundle(bundle map[string]any) map[string]any {
	out := make(map[string]any, len(bundle))
	for mime, v := range bundle {
		s, ok := v.(string)
		if ok && (strings.HasPrefix(mime, "text/") || splitMimes[mime]) {
			out[mime] = pySplitLines(s)
			continue
		}
		out[mime] = v
	}
	return out
}

// copyMap returns a shallow copy of m without the keys in omit.
func copyMap(m map[string]any, omit ...string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if !slices.Contains(omit, k) {
			out[k] = v
		}
	}
	return out
}

// pySplitLines splits s after every line boundary that Python's
// str.splitlines(keepends=True) recognizes: \n, \r, \r\n, \v, \f, \x1c,
// \x1d, \x1e, U+0085, U+2028 and U+2029. An empty string gives an empty
// list.
func pySplitLines(s string) []any {
	lines := []any{}
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		end := -1
		switch r {
		case '\r':
			end = i + 1
			if end < len(s) && s[end] == '\n' {
				end++
			}
		case '\n', '\v', '\f', '\x1c', '\x1d', '\x1e', '\u0085', '\u2028', '\u2029':
			end = i + size
		}
		if end < 0 {
			i += size
			continue
		}
		lines = append(lines, s[start:end])
		start, i = end, end
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}
