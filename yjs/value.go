package yjs

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/jupygo/jupygo/yjs/lib0"
)

// Object and Undefined are the JavaScript object and undefined values as
// lib0 defines them; see lib0 for the full value model.
type (
	Object    = lib0.Object
	Field     = lib0.Field
	Undefined = lib0.Undefined
)

// normalizeValue converts a Go value into the Any value model: Go integer
// and float types become float64 (JavaScript numbers), map[string]any
// becomes an Object with sorted keys, and slices of values become []any.
// int64 stays a bigint. Shared types and subdocuments are not Any values
// and are rejected here. Strings and keys are copied, as bytes are,
// because a substring keeps its whole parent string alive as long as the
// document keeps the substring.
func normalizeValue(v any, depth int) (any, error) {
	if depth > lib0.MaxDepth {
		return nil, fmt.Errorf("value nested too deeply")
	}
	switch v := v.(type) {
	case string:
		return strings.Clone(v), nil
	case nil, bool, int64, Undefined:
		return v, nil
	case float64:
		return v, nil
	case float32:
		return float64(v), nil
	case int:
		return float64(v), nil
	case int8:
		return float64(v), nil
	case int16:
		return float64(v), nil
	case int32:
		return float64(v), nil
	case uint:
		return float64(v), nil
	case uint8:
		return float64(v), nil
	case uint16:
		return float64(v), nil
	case uint32:
		return float64(v), nil
	case uint64:
		return float64(v), nil
	case []byte:
		return append([]byte(nil), v...), nil
	case []string:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = strings.Clone(s)
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			n, err := normalizeValue(x, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		var o Object
		for _, k := range slices.Sorted(maps.Keys(v)) {
			n, err := normalizeValue(v[k], depth+1)
			if err != nil {
				return nil, err
			}
			o.Set(strings.Clone(k), n)
		}
		return o, nil
	case Object:
		var o Object
		for _, f := range v.Fields {
			n, err := normalizeValue(f.Value, depth+1)
			if err != nil {
				return nil, err
			}
			o.Set(strings.Clone(f.Key), n)
		}
		return o, nil
	}
	return nil, fmt.Errorf("unsupported value of type %T", v)
}

// newContent returns the content that stores v in a list or map: a nested
// type, a subdocument, binary data, or an Any value.
func newContent(v any) (content, error) {
	switch v := v.(type) {
	case *Map:
		return typeContent(v.b)
	case *Array:
		return typeContent(v.b)
	case *Text:
		return typeContent(v.b)
	case *XMLElement:
		return typeContent(v.b)
	case *XMLFragment:
		return typeContent(v.b)
	case *XMLText:
		return typeContent(v.b)
	case *XMLHook:
		return typeContent(v.b)
	case *Subdoc:
		if v.item != nil {
			return nil, fmt.Errorf("subdocument %q is already inserted", v.GUID)
		}
		return newContentDoc(v), nil
	case []byte:
		return &contentBinary{append([]byte(nil), v...)}, nil
	}
	n, err := normalizeValue(v, 0)
	if err != nil {
		return nil, err
	}
	return &contentAny{[]any{n}}, nil
}

func typeContent(b *branch) (content, error) {
	if b.item != nil || b.doc != nil {
		return nil, fmt.Errorf("shared %v is already part of a document", b.kind)
	}
	return &contentType{b}, nil
}

// strictEqual is JavaScript's ===: numbers by value (NaN unequal), and
// objects, arrays and byte arrays by identity, which for Go values means
// sharing their backing storage.
func strictEqual(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case Undefined:
		_, ok := b.(Undefined)
		return ok
	case bool, string, int64:
		return a == b
	case float64:
		f, ok := b.(float64)
		return ok && a == f
	case Object:
		o, ok := b.(Object)
		return ok && len(a.Fields) == len(o.Fields) && len(a.Fields) > 0 &&
			&a.Fields[0] == &o.Fields[0]
	case []any:
		o, ok := b.([]any)
		return ok && len(a) == len(o) && len(a) > 0 && &a[0] == &o[0]
	case []byte:
		o, ok := b.([]byte)
		return ok && len(a) == len(o) && len(a) > 0 && &a[0] == &o[0]
	}
	return a == b
}

// equalAttrs compares formatting values as yjs does: strictly equal, or
// both objects (arrays included) with strictly equal properties.
func equalAttrs(a, b any) bool {
	if strictEqual(a, b) {
		return true
	}
	switch a := a.(type) {
	case Object:
		o, ok := b.(Object)
		if !ok || len(a.Fields) != len(o.Fields) {
			return false
		}
		for _, f := range a.Fields {
			v, has := o.Get(f.Key)
			if !has {
				if _, undef := f.Value.(Undefined); undef {
					continue
				}
				return false
			}
			if !strictEqual(v, f.Value) {
				return false
			}
		}
		return true
	case []any:
		o, ok := b.([]any)
		if !ok || len(a) != len(o) {
			return false
		}
		for i := range a {
			if !strictEqual(a[i], o[i]) {
				return false
			}
		}
		return true
	case []byte:
		o, ok := b.([]byte)
		return ok && slices.Equal(a, o)
	}
	return false
}

// ToJSONValue converts an Any value or shared type into plain Go values as
// yjs's toJSON and JSON.stringify produce them: Object becomes
// map[string]any without undefined properties, undefined array elements
// become nil, shared types become their JSON, a subdocument an empty map,
// and bigint its decimal string. Numbers stay float64 and []byte stays.
func ToJSONValue(v any) any {
	switch v := v.(type) {
	case *Map:
		return v.ToJSON()
	case *Array:
		return v.ToJSON()
	case *Text:
		return v.ToJSON()
	case *XMLElement:
		return v.ToJSON()
	case *XMLFragment:
		return v.ToJSON()
	case *XMLText:
		return v.ToJSON()
	case *XMLHook:
		return v.ToJSON()
	case *Subdoc:
		return map[string]any{}
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return v
	case Object:
		m := make(map[string]any, len(v.Fields))
		for _, f := range v.Fields {
			if _, ok := f.Value.(Undefined); !ok {
				m[f.Key] = ToJSONValue(f.Value)
			}
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = ToJSONValue(x)
		}
		return out
	}
	return toPlainJSON(v)
}
