package contents

import (
	"encoding/json"
	"errors"
	"fmt"
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
// A version 3 notebook is converted to version 4 as nbformat.reads(s,
// as_version=4) converts it (see upgradeV3), so its metadata keeps the
// transient orig_nbformat and orig_nbformat_minor that record the
// conversion.
//
// Numbers are json.Number. Errors describe why the file is not a readable
// notebook; ReadNotebook never panics on any input.
func ReadNotebook(data []byte) (map[string]any, error) {
	nb, _, err := readNotebook(string(data))
	return nb, err
}

// readNotebook is ReadNotebook, and also reports whether every number
// literal in the file is one that browsers write back unchanged (see
// plainFiles).
func readNotebook(text string) (nb map[string]any, plain bool, err error) {
	if !utf8.ValidString(text) {
		return nil, false, errors.New("notebook is not UTF-8 encoded")
	}
	p := &jsonParser{src: text}
	var v any
	if p.next() == '{' {
		v, err = p.object(notebookObject)
	} else {
		v, err = p.value()
	}
	if err != nil {
		return nil, false, fmt.Errorf("invalid JSON: %w", err)
	}
	if p.end() != nil {
		return nil, false, errors.New("invalid JSON: extra data after the notebook")
	}
	nb, ok := v.(map[string]any)
	if !ok {
		return nil, false, errors.New("notebook must be a JSON object")
	}

	major, err := formatVersion(nb)
	if err != nil {
		return nil, false, err
	}
	switch major {
	case NBFormat:
	case 3:
		if err := upgradeV3(nb); err != nil {
			return nil, false, err
		}
		// The conversion parses JSON outputs from strings, so the
		// parser did not see all the numbers.
		return nb, false, nil
	default:
		return nil, false, fmt.Errorf("unsupported nbformat version %s: only versions 3 and 4 can be read",
			formatNumber(nb["nbformat"]))
	}
	if err := rejoinLines(nb, p); err != nil {
		return nil, false, err
	}
	if err := stripTransient(nb); err != nil {
		return nil, false, err
	}
	return nb, !p.inexact, nil
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
	return WriteNotebookSized(nb, 0)
}

// WriteNotebookSized is WriteNotebook with room for sizeHint bytes
// reserved, such as the size of the file it replaces, so that a large
// notebook is written without growing its buffer several times.
func WriteNotebookSized(nb map[string]any, sizeHint int) ([]byte, error) {
	data, _, err := writeNotebook(nb, sizeHint)
	return data, err
}

// EncodedNotebook is a notebook with the bytes that WriteNotebook writes
// for it. Manager.Save takes one as the content of a notebook and writes
// its bytes without encoding the notebook again, unless the save changes
// the notebook. That spares a caller who needs the bytes anyway, such as a
// collaboration room comparing them with the file, a second encoding.
type EncodedNotebook struct {
	nb    map[string]any
	data  []byte
	plain bool // every number is one that browsers write back unchanged
}

// EncodeNotebook is WriteNotebookSized that keeps nb with its bytes. The
// caller must not modify nb afterwards. A save may repair nb's cell ids
// in place, so an EncodedNotebook serves one save.
func EncodeNotebook(nb map[string]any, sizeHint int) (*EncodedNotebook, error) {
	data, plain, err := writeNotebook(nb, sizeHint)
	if err != nil {
		return nil, err
	}
	return &EncodedNotebook{nb: nb, data: data, plain: plain}, nil
}

// Bytes returns the notebook's bytes, which the caller must not modify.
func (e *EncodedNotebook) Bytes() []byte { return e.data }

// writeNotebook is WriteNotebook with room for sizeHint bytes reserved.
// It also reports whether every number it wrote is one that browsers write
// back unchanged (see plainFiles).
func writeNotebook(nb map[string]any, sizeHint int) (data []byte, plain bool, err error) {
	if err := ValidateNotebook(nb); err != nil {
		return nil, false, err
	}
	e := pyEncoder{buf: make([]byte, 0, max(sizeHint, 512))}
	if err := e.object(nb, 0, nil, diskNotebookField); err != nil {
		return nil, false, err
	}
	e.buf = append(e.buf, '\n')
	return e.buf, !e.inexact, nil
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
	if !IsMultiline(cell["source"]) {
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
		if !IsMultiline(out["text"]) {
			return cellError(".text must be a string or a list of strings")
		}
	}
	return nil
}

// IsMultiline reports whether v is a string or a list of strings.
func IsMultiline(v any) bool {
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

// rejoinLines joins the multi-line strings of a freshly parsed notebook in
// place, following nbformat.v4.rwbase.rejoin_lines. The parser p has
// joined sources and attachments already. It has turned every list of
// strings in outputs into a *joinedLines, which rejoinLines replaces with
// its string, or with the list parsed again where nbformat keeps the list.
func rejoinLines(nb map[string]any, p *jsonParser) error {
	cells, ok := nb["cells"].([]any)
	if !ok {
		return errors.New("invalid notebook: cells must be a list")
	}
	for i, c := range cells {
		cell, ok := c.(map[string]any)
		if !ok {
			return fmt.Errorf("invalid notebook: cells[%d] must be an object", i)
		}
		if err := rejoinCell(cell, p); err != nil {
			return fmt.Errorf("invalid notebook: cells[%d]%w", i, err)
		}
	}
	return nil
}

func rejoinCell(cell map[string]any, p *jsonParser) error {
	// The parser has joined every list of strings in source already.
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
			if err := rejoinBundle(bundle, p); err != nil {
				return err
			}
		}
	}
	outs, present := cell["outputs"]
	if !present {
		return nil
	}
	outputs, ok := outs.([]any)
	if cell["cell_type"] != "code" {
		// nbformat leaves the outputs of other cells as they are.
		if ok {
			return keepOutputLines(outputs, p)
		}
		return nil
	}
	if !ok {
		return cellError(".outputs must be a list")
	}
	for j, o := range outputs {
		if err := rejoinOutput(o, p); err != nil {
			return fmt.Errorf(".outputs[%d]%w", j, err)
		}
	}
	return nil
}

// rejoinOutput joins the data bundle of execute_result and display_data
// outputs, and the text of other outputs whose output_type is not empty.
func rejoinOutput(o any, p *jsonParser) error {
	out, ok := o.(map[string]any)
	if !ok {
		return cellError(" must be an object")
	}
	kind := out["output_type"]
	joinData := kind == "execute_result" || kind == "display_data"
	joinText := !joinData && pyTruthy(kind)

	if data, present := out["data"]; present {
		bundle, ok := data.(map[string]any)
		switch {
		case joinData && !ok:
			return cellError(".data must be an object")
		case joinData:
			if err := rejoinBundle(bundle, p); err != nil {
				return err
			}
		case ok:
			if err := keepBundleLines(bundle, p); err != nil {
				return err
			}
		}
	}
	switch text := out["text"].(type) {
	case *joinedLines:
		if joinText {
			out["text"] = text.text
			return nil
		}
		list, err := p.reparse(text)
		if err != nil {
			return err
		}
		out["text"] = list
	case []any:
		if !joinText {
			return nil
		}
		joined, ok := joinStrings(text)
		if !ok {
			return cellError(".text must be a list of strings")
		}
		out["text"] = joined
	}
	return nil
}

// rejoinBundle joins every list of strings in a MIME bundle whose key is
// not a JSON MIME type.
func rejoinBundle(bundle map[string]any, p *jsonParser) error {
	for mime, v := range bundle {
		switch v := v.(type) {
		case *joinedLines:
			if !isJSONMime(mime) {
				bundle[mime] = v.text
				continue
			}
			list, err := p.reparse(v)
			if err != nil {
				return err
			}
			bundle[mime] = list
		case []any:
			if isJSONMime(mime) {
				continue
			}
			if joined, ok := joinStrings(v); ok {
				bundle[mime] = joined
			}
		}
	}
	return nil
}

// keepBundleLines puts back the lists of strings of a bundle that
// nbformat does not join.
func keepBundleLines(bundle map[string]any, p *jsonParser) error {
	for mime, v := range bundle {
		if l, ok := v.(*joinedLines); ok {
			list, err := p.reparse(l)
			if err != nil {
				return err
			}
			bundle[mime] = list
		}
	}
	return nil
}

// keepOutputLines puts back the lists of strings of outputs that nbformat
// does not join.
func keepOutputLines(outputs []any, p *jsonParser) error {
	for _, o := range outputs {
		out, ok := o.(map[string]any)
		if !ok {
			continue
		}
		if l, ok := out["text"].(*joinedLines); ok {
			list, err := p.reparse(l)
			if err != nil {
				return err
			}
			out["text"] = list
		}
		if bundle, ok := out["data"].(map[string]any); ok {
			if err := keepBundleLines(bundle, p); err != nil {
				return err
			}
		}
	}
	return nil
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

// The field writers below write a notebook as nbformat stores it: strings
// split into lines where nbformat splits them and transient keys left out.
// They rely on nb having passed ValidateNotebook, and write any value of
// an unexpected type as it is.

func diskNotebookField(e *pyEncoder, key string, v any, depth int) error {
	switch key {
	case "metadata":
		if md, ok := v.(map[string]any); ok {
			return e.object(md, depth, isTransientNotebookKey, nil)
		}
	case "cells":
		if cells, ok := v.([]any); ok {
			return e.array(cells, depth, diskCell)
		}
	}
	return e.value(v, depth)
}

func isTransientNotebookKey(key string) bool {
	return key == "orig_nbformat" || key == "orig_nbformat_minor" || key == "signature"
}

func isTransientCellKey(key string) bool {
	return key == "trusted"
}

func diskCell(e *pyEncoder, v any, depth int) error {
	cell, ok := v.(map[string]any)
	switch {
	case !ok:
		return e.value(v, depth)
	case cell["cell_type"] == "code":
		return e.object(cell, depth, nil, diskCodeCellField)
	}
	return e.object(cell, depth, nil, diskCellField)
}

func diskCellField(e *pyEncoder, key string, v any, depth int) error {
	switch key {
	case "metadata":
		if md, ok := v.(map[string]any); ok {
			return e.object(md, depth, isTransientCellKey, nil)
		}
	case "source":
		if s, ok := v.(string); ok {
			e.lines(s, depth)
			return nil
		}
	case "attachments":
		if bundles, ok := v.(map[string]any); ok {
			return e.object(bundles, depth, nil, diskAttachmentField)
		}
	}
	return e.value(v, depth)
}

func diskCodeCellField(e *pyEncoder, key string, v any, depth int) error {
	if outputs, ok := v.([]any); ok && key == "outputs" {
		return e.array(outputs, depth, diskOutput)
	}
	return diskCellField(e, key, v, depth)
}

func diskAttachmentField(e *pyEncoder, _ string, v any, depth int) error {
	if bundle, ok := v.(map[string]any); ok {
		return e.object(bundle, depth, nil, splitBundleField)
	}
	return e.value(v, depth)
}

func diskOutput(e *pyEncoder, v any, depth int) error {
	output, ok := v.(map[string]any)
	if !ok {
		return e.value(v, depth)
	}
	switch output["output_type"] {
	case "execute_result", "display_data":
		return e.object(output, depth, nil, displayOutputField)
	case "stream":
		return e.object(output, depth, nil, streamOutputField)
	}
	return e.value(output, depth)
}

func displayOutputField(e *pyEncoder, key string, v any, depth int) error {
	if data, ok := v.(map[string]any); ok && key == "data" {
		return e.object(data, depth, nil, splitBundleField)
	}
	return e.value(v, depth)
}

func streamOutputField(e *pyEncoder, key string, v any, depth int) error {
	if s, ok := v.(string); ok && key == "text" {
		e.lines(s, depth)
		return nil
	}
	return e.value(v, depth)
}

// splitBundleField writes an entry of a MIME bundle, split into lines
// when it is a string of a text/* type or of splitMimes.
func splitBundleField(e *pyEncoder, mime string, v any, depth int) error {
	if s, ok := v.(string); ok && (strings.HasPrefix(mime, "text/") || splitMimes[mime]) {
		e.lines(s, depth)
		return nil
	}
	return e.value(v, depth)
}

// lineEnd returns the end of the line of s that starts at start: the index
// after the first line boundary of Python's str.splitlines, or len(s).
// The boundaries are \n, \r, \r\n, \v, \f, \x1c, \x1d, \x1e, U+0085, U+2028 and
// U+2029. Scanning bytes finds the same boundaries as decoding runes, even
// in invalid UTF-8, because the lead bytes 0xC2 and 0xE2 are never inside
// another encoded rune.
func lineEnd(s string, start int) int {
	for i := start; i < len(s); i++ {
		switch s[i] {
		case '\n', '\v', '\f', '\x1c', '\x1d', '\x1e':
			return i + 1
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				return i + 2
			}
			return i + 1
		case 0xC2: // U+0085 is C2 85
			if i+1 < len(s) && s[i+1] == 0x85 {
				return i + 2
			}
		case 0xE2: // U+2028 and U+2029 are E2 80 A8 and E2 80 A9
			if i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9) {
				return i + 3
			}
		}
	}
	return len(s)
}

// copyMap returns a shallow copy of m.
func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
