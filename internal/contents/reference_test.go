package contents

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// This file keeps straightforward implementations of the notebook reader
// and writer on top of encoding/json and plain copies of the tree. The
// tests hold the fast parser and writer to produce exactly what these do.

// refReadNotebook is ReadNotebook built on encoding/json: decode the whole
// file, then join lists of lines as nbformat.v4.rwbase.rejoin_lines does.
func refReadNotebook(data []byte) (map[string]any, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("notebook is not UTF-8 encoded")
	}
	v, err := refDecodeJSON(data)
	if err != nil {
		return nil, err
	}
	nb, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("notebook must be a JSON object")
	}
	major, err := formatVersion(nb)
	if err != nil {
		return nil, err
	}
	if major == 3 {
		// The conversion is not under test here; its input is.
		return nb, upgradeV3(nb)
	}
	if major != NBFormat {
		return nil, fmt.Errorf("unsupported nbformat version %s", formatNumber(nb["nbformat"]))
	}
	if err := refRejoinLines(nb); err != nil {
		return nil, err
	}
	if err := stripTransient(nb); err != nil {
		return nil, err
	}
	return nb, nil
}

// refDecodeJSON decodes data, which must hold one JSON value with only
// whitespace around it, with encoding/json and json.Number numbers.
func refDecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if len(bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n")) != 0 {
		return nil, errors.New("invalid JSON: extra data after the value")
	}
	return v, nil
}

func refRejoinLines(nb map[string]any) error {
	cells, ok := nb["cells"].([]any)
	if !ok {
		return errors.New("invalid notebook: cells must be a list")
	}
	for i, c := range cells {
		cell, ok := c.(map[string]any)
		if !ok {
			return fmt.Errorf("invalid notebook: cells[%d] must be an object", i)
		}
		if err := refRejoinCell(cell); err != nil {
			return fmt.Errorf("invalid notebook: cells[%d]%w", i, err)
		}
	}
	return nil
}

func refRejoinCell(cell map[string]any) error {
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
			refRejoinBundle(bundle)
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
		if err := refRejoinOutput(o); err != nil {
			return fmt.Errorf(".outputs[%d]%w", j, err)
		}
	}
	return nil
}

func refRejoinOutput(o any) error {
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
		refRejoinBundle(bundle)
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

func refRejoinBundle(bundle map[string]any) {
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

// refWriteNotebook is WriteNotebook built on a copy of the notebook in
// its disk form, encoded generically.
func refWriteNotebook(nb map[string]any) ([]byte, error) {
	if err := ValidateNotebook(nb); err != nil {
		return nil, err
	}
	var e pyEncoder
	if err := e.value(refDiskForm(nb), 0); err != nil {
		return nil, err
	}
	e.buf = append(e.buf, '\n')
	return e.buf, nil
}

func refDiskForm(nb map[string]any) map[string]any {
	out := refCopyMap(nb)
	out["metadata"] = refCopyMap(nb["metadata"].(map[string]any),
		"orig_nbformat", "orig_nbformat_minor", "signature")
	cells := nb["cells"].([]any)
	diskCells := make([]any, len(cells))
	for i, c := range cells {
		diskCells[i] = refDiskCell(c.(map[string]any))
	}
	out["cells"] = diskCells
	return out
}

func refDiskCell(cell map[string]any) map[string]any {
	out := refCopyMap(cell)
	out["metadata"] = refCopyMap(cell["metadata"].(map[string]any), "trusted")
	if src, ok := cell["source"].(string); ok {
		out["source"] = refSplitLines(src)
	}
	if bundles, ok := cell["attachments"].(map[string]any); ok {
		diskBundles := make(map[string]any, len(bundles))
		for name, b := range bundles {
			diskBundles[name] = refSplitBundle(b.(map[string]any))
		}
		out["attachments"] = diskBundles
	}
	if cell["cell_type"] != "code" {
		return out
	}
	outputs := cell["outputs"].([]any)
	diskOutputs := make([]any, len(outputs))
	for j, o := range outputs {
		diskOutputs[j] = refDiskOutput(o.(map[string]any))
	}
	out["outputs"] = diskOutputs
	return out
}

func refDiskOutput(output map[string]any) map[string]any {
	switch output["output_type"] {
	case "execute_result", "display_data":
		data, ok := output["data"].(map[string]any)
		if !ok {
			return output
		}
		out := refCopyMap(output)
		out["data"] = refSplitBundle(data)
		return out
	case "stream":
		text, ok := output["text"].(string)
		if !ok {
			return output
		}
		out := refCopyMap(output)
		out["text"] = refSplitLines(text)
		return out
	}
	return output
}

func refSplitBundle(bundle map[string]any) map[string]any {
	out := make(map[string]any, len(bundle))
	for mime, v := range bundle {
		s, ok := v.(string)
		if ok && (strings.HasPrefix(mime, "text/") || splitMimes[mime]) {
			out[mime] = refSplitLines(s)
			continue
		}
		out[mime] = v
	}
	return out
}

func refCopyMap(m map[string]any, omit ...string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if !slices.Contains(omit, k) {
			out[k] = v
		}
	}
	return out
}

// pySplitLines splits s with lineEnd into the list that Python's
// str.splitlines(keepends=True) gives.
func pySplitLines(s string) []any {
	lines := []any{}
	for start := 0; start < len(s); {
		end := lineEnd(s, start)
		lines = append(lines, s[start:end])
		start = end
	}
	return lines
}

// refSplitLines is str.splitlines(keepends=True), decoding rune by rune.
func refSplitLines(s string) []any {
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

// refHasRewritableNumber reports whether v holds a number that a browser
// could write back differently.
func refHasRewritableNumber(v any) bool {
	switch v := v.(type) {
	case json.Number:
		return !plainInteger(string(v))
	case map[string]any:
		for _, x := range v {
			if refHasRewritableNumber(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if refHasRewritableNumber(x) {
				return true
			}
		}
	case float64, float32:
		return true
	}
	return false
}
