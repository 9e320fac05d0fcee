package ydoc

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"

	"github.com/jupygo/jupygo/yjs"
	"github.com/jupygo/jupygo/yjs/lib0"
)

// Two value models meet here. Notebooks from package contents are JSON
// trees of map[string]any, []any, string, bool, nil and json.Number. Yjs
// stores Any values (see lib0): numbers are float64 and objects are
// lib0.Object with JavaScript's key order.

// toAny converts a JSON tree into an Any value. Object keys are inserted
// in sorted order, the order nbformat writes them, so the same tree always
// gives the same bytes.
func toAny(v any) (any, error) {
	switch v := v.(type) {
	case nil, bool, string, lib0.Object, lib0.Undefined:
		return v, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("number %v has no JSON form", v)
		}
		return v, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		switch {
		case math.IsInf(f, 0):
			// Yjs clients would save it as null.
			return nil, fmt.Errorf("number %s is out of the range of a double", string(v))
		case err != nil:
			return nil, fmt.Errorf("invalid number %q", string(v))
		}
		return f, nil
	case int:
		return float64(v), nil
	case int64:
		return float64(v), nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			y, err := toAny(x)
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	case map[string]any:
		var o lib0.Object
		for _, k := range sortedKeys(v) {
			y, err := toAny(v[k])
			if err != nil {
				return nil, err
			}
			o.Set(k, y)
		}
		return o, nil
	}
	return nil, fmt.Errorf("value of type %T is not a JSON value", v)
}

// checkJSON returns an error when v contains a value that toAny rejects, or
// nests deeper than lib0.MaxDepth.
func checkJSON(v any, depth int) error {
	if depth > lib0.MaxDepth {
		return fmt.Errorf("values nest deeper than %d levels", lib0.MaxDepth)
	}
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			if err := checkJSON(x, depth+1); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		for k, x := range v {
			if err := checkJSON(x, depth+1); err != nil {
				return fmt.Errorf("%q: %w", k, err)
			}
		}
		return nil
	}
	_, err := toAny(v)
	return err
}

// fromY converts a value read from the document into a JSON tree for the
// nbformat writer. Numbers with an integer value become integer literals,
// as jupyter_ydoc casts them back to int, and other numbers stay float64.
// Byte arrays have no JSON form and give an error.
func fromY(v any) (any, error) {
	return numbersToLiterals(yjs.ToJSONValue(v))
}

// numbersToLiterals does the work of fromY on a value that ToJSONValue
// returned, in place.
func numbersToLiterals(v any) (any, error) {
	switch v := v.(type) {
	case nil, bool, string:
		return v, nil
	case float64:
		if v == math.Trunc(v) && math.Abs(v) <= lib0.MaxSafeInteger {
			return json.Number(strconv.FormatInt(int64(v), 10)), nil
		}
		return v, nil
	case []any:
		for i, x := range v {
			y, err := numbersToLiterals(x)
			if err != nil {
				return nil, err
			}
			v[i] = y
		}
		return v, nil
	case map[string]any:
		for k, x := range v {
			y, err := numbersToLiterals(x)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", k, err)
			}
			v[k] = y
		}
		return v, nil
	case []byte:
		return nil, fmt.Errorf("binary value of %d bytes is not a JSON value", len(v))
	default:
		return nil, fmt.Errorf("value of type %T is not a JSON value", v)
	}
}

// toPlain converts a JSON tree into the form yjs.ToJSONValue gives, with
// float64 numbers, so that the two can be compared.
func toPlain(v any) any {
	switch v := v.(type) {
	case json.Number:
		f, _ := strconv.ParseFloat(string(v), 64)
		return f
	case int:
		return float64(v)
	case int64:
		return float64(v)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = toPlain(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = toPlain(x)
		}
		return out
	}
	return v
}

// equalAny reports whether two values of the document, or a value of the
// document and an Any value, have the same JSON value.
func equalAny(a, b any) bool {
	return reflect.DeepEqual(yjs.ToJSONValue(a), yjs.ToJSONValue(b))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
