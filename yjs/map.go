package yjs

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Map is a shared map from string keys to values. Concurrent writes to one
// key resolve to the write of the higher client id. Its methods may be
// called inside a transaction or outside, as for Array.
type Map struct{ b *branch }

// NewMap returns an empty Map to insert into a Map or list. It becomes
// usable once inserted.
func NewMap() *Map { return newBranch(KindMap).shared().(*Map) }

// mapSet writes key as a new item after the key's current item.
func (b *branch) mapSet(t *Transaction, key string, v any) error {
	c, err := newContent(v)
	if err != nil {
		return fmt.Errorf("setting %q: %w", key, err)
	}
	left := b.mapItem(key)
	// The item keeps its own copy of the key, as normalizeValue copies
	// strings, or shares the one of the entry it replaces.
	if left != nil {
		key = left.parentSub
	} else {
		key = strings.Clone(key)
	}
	it := newItem(b.nextID(t), left, nil, b, &key, c)
	it.integrate(t, 0)
	return nil
}

func (b *branch) mapDelete(t *Transaction, key string) {
	if it := b.mapItem(key); it != nil {
		it.delete(t)
	}
}

// mapEntries returns the keys with values, sorted.
func (b *branch) mapKeys() []string {
	var keys []string
	for _, e := range b.mapItems() {
		if !e.it.deleted() {
			keys = append(keys, e.key)
		}
	}
	slices.Sort(keys)
	return keys
}

// Set sets key to v: an Any value (see lib0), []byte, a new shared type or
// a subdocument.
func (m *Map) Set(key string, v any) error {
	return m.b.transactErr(func(t *Transaction) error { return m.b.mapSet(t, key, v) })
}

// Delete removes key.
func (m *Map) Delete(key string) error {
	return m.b.transactErr(func(t *Transaction) error { m.b.mapDelete(t, key); return nil })
}

// Get returns the value of key and whether the key is set.
func (m *Map) Get(key string) (any, bool) { return m.b.mapGet(key) }

// Has reports whether key is set.
func (m *Map) Has(key string) bool {
	_, ok := m.b.mapGet(key)
	return ok
}

// Keys returns the keys that are set, sorted.
func (m *Map) Keys() []string { return m.b.mapKeys() }

// Len returns the number of keys that are set.
func (m *Map) Len() int { return len(m.b.mapKeys()) }

// Entries returns the keys and their values.
func (m *Map) Entries() map[string]any {
	out := map[string]any{}
	for _, k := range m.b.mapKeys() {
		out[k], _ = m.b.mapGet(k)
	}
	return out
}

// ToJSON returns the map as JSON values.
func (m *Map) ToJSON() map[string]any {
	out := map[string]any{}
	for k, v := range m.Entries() {
		if _, undef := v.(Undefined); undef {
			continue
		}
		out[k] = ToJSONValue(v)
	}
	return out
}

// XMLFragment is a shared list of XML nodes (XMLElement, XMLText). The XML
// types exist so that documents using them decode, re-encode and convert
// to JSON; they offer only basic editing.
type XMLFragment struct{ b *branch }

// XMLElement is an XML node with a name, attributes and children.
type XMLElement struct{ b *branch }

// XMLHook is a named map used by editor bindings.
type XMLHook struct{ b *branch }

// XMLText is a Text inside an XML tree.
type XMLText struct{ b *branch }

// NewXMLElement returns an element to insert into an XML fragment.
func NewXMLElement(name string) *XMLElement {
	b := newBranch(KindXMLElement)
	b.name = name
	return b.shared().(*XMLElement)
}

// NewXMLText returns a text node to insert into an XML fragment.
func NewXMLText() *XMLText { return newBranch(KindXMLText).shared().(*XMLText) }

// Insert inserts nodes at index.
func (f *XMLFragment) Insert(index int, nodes ...any) error {
	return f.b.transactErr(func(t *Transaction) error { return f.b.listInsert(t, index, nodes) })
}

// Children returns the child nodes.
func (f *XMLFragment) Children() []any { return f.b.listValues() }

// ToJSON returns the fragment as XML text, as yjs's toJSON does.
func (f *XMLFragment) ToJSON() string { return f.String() }

// String returns the children as XML.
func (f *XMLFragment) String() string { return xmlChildren(f.b) }

// Name returns the element's node name.
func (e *XMLElement) Name() string { return e.b.name }

// Insert inserts child nodes at index.
func (e *XMLElement) Insert(index int, nodes ...any) error {
	return e.b.transactErr(func(t *Transaction) error { return e.b.listInsert(t, index, nodes) })
}

// SetAttribute sets an attribute.
func (e *XMLElement) SetAttribute(key string, v any) error {
	return e.b.transactErr(func(t *Transaction) error { return e.b.mapSet(t, key, v) })
}

// RemoveAttribute removes an attribute. Removing a missing attribute
// changes nothing.
func (e *XMLElement) RemoveAttribute(key string) error {
	return e.b.transactErr(func(t *Transaction) error { e.b.mapDelete(t, key); return nil })
}

// Attributes returns the attributes that are set.
func (e *XMLElement) Attributes() map[string]any { return (&Map{e.b}).Entries() }

// ToJSON returns the element as XML text.
func (e *XMLElement) ToJSON() string { return e.String() }

// String returns the element as XML: the node name in lower case,
// attributes sorted by name, children in order, as yjs's toString writes
// it. Values are not escaped, as in yjs.
func (e *XMLElement) String() string {
	attrs := e.Attributes()
	name := strings.ToLower(e.b.name)
	var sb strings.Builder
	sb.WriteString("<" + name)
	for _, k := range slices.SortedFunc(maps.Keys(attrs), compareUTF16) {
		sb.WriteString(" " + k + "=\"" + jsString(attrs[k]) + "\"")
	}
	sb.WriteString(">" + xmlChildren(e.b) + "</" + name + ">")
	return sb.String()
}

// Name returns the hook name.
func (h *XMLHook) Name() string { return h.b.name }

// ToJSON returns the hook's entries as JSON values, as a Map's.
func (h *XMLHook) ToJSON() map[string]any { return (&Map{h.b}).ToJSON() }

// Text returns the node as a Text for editing.
func (x *XMLText) Text() *Text { return &Text{x.b} }

// ToJSON returns the text with its formatting as XML tags.
func (x *XMLText) ToJSON() string { return x.String() }

func xmlChildren(b *branch) string {
	s := ""
	for _, v := range b.listValues() {
		switch v := v.(type) {
		case *XMLElement:
			s += v.String()
		case *XMLText:
			s += v.String()
		case *XMLFragment:
			s += v.String()
		case *XMLHook:
			s += "[object Object]"
		default:
			s += jsString(v)
		}
	}
	return s
}

// jsString formats a value as JavaScript's String() does for the values
// XML attributes and children hold: arrays and byte arrays joined with
// commas, texts and XML nodes as their toString, other objects and shared
// types as "[object Object]".
func jsString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return "null"
	case Undefined:
		return "undefined"
	case float64:
		switch {
		case math.IsNaN(v):
			return "NaN"
		case math.IsInf(v, 1):
			return "Infinity"
		case math.IsInf(v, -1):
			return "-Infinity"
		}
		return formatNumber(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		if v {
			return "true"
		}
		return "false"
	case []any:
		// Array.prototype.join writes null and undefined as "".
		parts := make([]string, len(v))
		for i, x := range v {
			if _, undef := x.(Undefined); x != nil && !undef {
				parts[i] = jsString(x)
			}
		}
		return strings.Join(parts, ",")
	case []byte:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = strconv.Itoa(int(x))
		}
		return strings.Join(parts, ",")
	case *Text:
		return v.String()
	case *XMLElement:
		return v.String()
	case *XMLText:
		return v.String()
	case *XMLFragment:
		return v.String()
	}
	return "[object Object]"
}

// compareUTF16 orders strings by their UTF-16 code units, as JavaScript's
// string comparison and default sort do. It differs from byte order where
// characters past U+FFFF meet characters from U+E000 to U+FFFF.
func compareUTF16(a, b string) int {
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}

// forIn lists the properties JavaScript's for...in visits on a value, with
// their values: an object's keys, and the indexes of an array, a byte array
// or a string (one UTF-16 unit each, a surrogate half as U+FFFD). Other
// values have none.
func forIn(v any) []Field {
	var out []Field
	switch v := v.(type) {
	case Object:
		return v.Fields
	case []any:
		for i, x := range v {
			out = append(out, Field{Key: strconv.Itoa(i), Value: x})
		}
	case []byte:
		for i, x := range v {
			out = append(out, Field{Key: strconv.Itoa(i), Value: float64(x)})
		}
	case string:
		for i, x := range newContentString(v).values() {
			out = append(out, Field{Key: strconv.Itoa(i), Value: x})
		}
	}
	return out
}
