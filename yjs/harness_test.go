package yjs

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
)

// The differential tests describe edits as JSON that both this package and
// the yjs oracle apply, so that one description drives both sides.

type target struct {
	Root string `json:"root"`
	Kind string `json:"kind"`
	Path []any  `json:"path"`
}

type edit struct {
	Target target         `json:"target"`
	Op     string         `json:"op"`
	Index  int            `json:"index"`
	Length int            `json:"length"`
	Text   string         `json:"text"`
	Key    string         `json:"key"`
	Value  any            `json:"value"`
	Values []any          `json:"values"`
	Attrs  map[string]any `json:"attrs"`
}

func textT(root string, path ...any) target  { return target{root, "text", path} }
func mapT(root string, path ...any) target   { return target{root, "map", path} }
func arrayT(root string, path ...any) target { return target{root, "array", path} }

func insText(tg target, i int, s string) edit {
	return edit{Target: tg, Op: "insertText", Index: i, Text: s}
}
func insTextAttrs(tg target, i int, s string, a map[string]any) edit {
	return edit{Target: tg, Op: "insertText", Index: i, Text: s, Attrs: a}
}
func delText(tg target, i, n int) edit {
	return edit{Target: tg, Op: "deleteText", Index: i, Length: n}
}
func format(tg target, i, n int, a map[string]any) edit {
	return edit{Target: tg, Op: "format", Index: i, Length: n, Attrs: a}
}
func mapSet(tg target, k string, v any) edit { return edit{Target: tg, Op: "mapSet", Key: k, Value: v} }
func mapDel(tg target, k string) edit        { return edit{Target: tg, Op: "mapDelete", Key: k} }
func arrIns(tg target, i int, vs ...any) edit {
	return edit{Target: tg, Op: "arrayInsert", Index: i, Values: vs}
}
func arrPush(tg target, vs ...any) edit { return edit{Target: tg, Op: "arrayPush", Values: vs} }
func arrDel(tg target, i, n int) edit {
	return edit{Target: tg, Op: "arrayDelete", Index: i, Length: n}
}

// Value descriptions for types and special values.
var (
	newMapV   = map[string]any{"$type": "map"}
	newArrayV = map[string]any{"$type": "array"}
	newTextV  = map[string]any{"$type": "text"}
)

func roundTripJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// goValue turns a value description into the Go value to insert.
func goValue(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if typ, ok := v["$type"].(string); ok {
			switch typ {
			case "map":
				return NewMap(), nil
			case "array":
				return NewArray(), nil
			case "text":
				return NewText(), nil
			case "xmlelement":
				return NewXMLElement(v["name"].(string)), nil
			case "xmltext":
				return NewXMLText(), nil
			case "subdoc":
				sd := NewSubdoc(v["guid"].(string))
				if opts, ok := v["opts"].(map[string]any); ok {
					if gc, ok := opts["gc"].(bool); ok {
						sd.GC = gc
					}
					if al, ok := opts["autoLoad"].(bool); ok {
						sd.AutoLoad = al
					}
					if m, ok := opts["meta"]; ok {
						mv, err := goValue(m)
						if err != nil {
							return nil, err
						}
						sd.Meta, _ = normalizeValue(mv, 0)
					}
				}
				return sd, nil
			}
			return nil, fmt.Errorf("unknown $type %q", typ)
		}
		if h, ok := v["$bytes"].(string); ok {
			return hex.DecodeString(h)
		}
		if s, ok := v["$bigint"].(string); ok {
			return strconv.ParseInt(s, 10, 64)
		}
		if _, ok := v["$undefined"]; ok {
			return Undefined{}, nil
		}
		out := map[string]any{}
		for k, x := range v {
			g, err := goValue(x)
			if err != nil {
				return nil, err
			}
			out[k] = g
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			g, err := goValue(x)
			if err != nil {
				return nil, err
			}
			out[i] = g
		}
		return out, nil
	}
	return v, nil
}

func rootOf(d *Doc, name, kind string) any {
	switch kind {
	case "text":
		return d.GetText(name)
	case "map":
		return d.GetMap(name)
	case "array":
		return d.GetArray(name)
	case "xmlfragment":
		return d.GetXMLFragment(name)
	}
	panic("unknown kind " + kind)
}

func resolveTarget(d *Doc, tg target) (any, error) {
	cur := rootOf(d, tg.Root, tg.Kind)
	for _, p := range tg.Path {
		var v any
		var ok bool
		switch c := cur.(type) {
		case *Map:
			v, ok = c.Get(p.(string))
		case *Array:
			v, ok = c.Get(int(p.(float64)))
		case *XMLFragment:
			kids := c.Children()
			i := int(p.(float64))
			ok = i < len(kids)
			if ok {
				v = kids[i]
			}
		case *XMLElement:
			kids := c.b.listValues()
			i := int(p.(float64))
			ok = i < len(kids)
			if ok {
				v = kids[i]
			}
		}
		if !ok {
			return nil, fmt.Errorf("path element %v not found", p)
		}
		cur = v
	}
	return cur, nil
}

// applyEdits applies edits in one transaction, stopping at the first
// error.
func applyEdits(d *Doc, edits []edit) error {
	var err error
	d.Transact(func(*Transaction) {
		for _, e := range edits {
			if err == nil {
				err = applyEdit(d, e)
			}
		}
	}, nil)
	return err
}

// applyEdit applies one edit (as decoded from JSON) to a Go document.
func applyEdit(d *Doc, e edit) error {
	tg, err := resolveTarget(d, e.Target)
	if err != nil {
		return err
	}
	attrs := func() (Attrs, error) {
		if e.Attrs == nil {
			return nil, nil
		}
		g, err := goValue(e.Attrs)
		if err != nil {
			return nil, err
		}
		return Attrs(g.(map[string]any)), nil
	}
	values := func() ([]any, error) {
		out := make([]any, len(e.Values))
		for i, v := range e.Values {
			g, err := goValue(v)
			if err != nil {
				return nil, err
			}
			out[i] = g
		}
		return out, nil
	}
	switch e.Op {
	case "insertText", "insertEmbed", "deleteText", "format":
		x := textOf(tg)
		a, err := attrs()
		if err != nil {
			return err
		}
		switch e.Op {
		case "insertText":
			return x.Insert(e.Index, e.Text, a)
		case "insertEmbed":
			v, err := goValue(e.Value)
			if err != nil {
				return err
			}
			return x.InsertEmbed(e.Index, v, a)
		case "deleteText":
			return x.Delete(e.Index, e.Length)
		default:
			return x.Format(e.Index, e.Length, a)
		}
	case "mapSet":
		v, err := goValue(e.Value)
		if err != nil {
			return err
		}
		return tg.(*Map).Set(e.Key, v)
	case "mapDelete":
		return tg.(*Map).Delete(e.Key)
	case "arrayInsert", "arrayPush", "xmlInsert":
		vs, err := values()
		if err != nil {
			return err
		}
		switch t := tg.(type) {
		case *Array:
			if e.Op == "arrayPush" {
				return t.Push(vs...)
			}
			return t.Insert(e.Index, vs...)
		case *XMLFragment:
			return t.Insert(e.Index, vs...)
		case *XMLElement:
			return t.Insert(e.Index, vs...)
		}
	case "arrayDelete":
		return tg.(*Array).Delete(e.Index, e.Length)
	case "setAttribute":
		v, err := goValue(e.Value)
		if err != nil {
			return err
		}
		switch tg := tg.(type) {
		case *XMLElement:
			return tg.SetAttribute(e.Key, v)
		default:
			return textOf(tg).SetAttribute(e.Key, v)
		}
	case "removeAttribute":
		if el, ok := tg.(*XMLElement); ok {
			return el.RemoveAttribute(e.Key)
		}
		return textOf(tg).RemoveAttribute(e.Key)
	}
	return fmt.Errorf("unknown edit %q on %T", e.Op, tg)
}

func textOf(v any) *Text {
	switch v := v.(type) {
	case *Text:
		return v
	case *XMLText:
		return v.Text()
	}
	panic(fmt.Sprintf("not a text: %T", v))
}

// canonicalJSON converts values as the oracle's canonical function does:
// byte arrays become {"$bytes": hex}; the result is JSON-decoded.
func canonicalJSON(v any) any {
	return roundTripJSON(canonicalBytes(ToJSONValue(v)))
}

func canonicalBytes(v any) any {
	switch v := v.(type) {
	case []byte:
		return map[string]any{"$bytes": hex.EncodeToString(v)}
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = canonicalBytes(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = canonicalBytes(x)
		}
		return out
	}
	return v
}

// canonicalDelta converts a text delta as the oracle reports toDelta.
func canonicalDelta(ds []Delta) any {
	out := []any{}
	for _, d := range ds {
		op := map[string]any{}
		switch {
		case d.Insert != nil:
			op["insert"] = canonicalBytes(ToJSONValue(d.Insert))
		case d.Delete > 0:
			op["delete"] = d.Delete
		default:
			op["retain"] = d.Retain
		}
		if d.Attributes != nil {
			attrs := map[string]any{}
			for k, v := range d.Attributes {
				attrs[k] = canonicalBytes(ToJSONValue(v))
			}
			op["attributes"] = attrs
		}
		out = append(out, op)
	}
	return roundTripJSON(out)
}

// docJSON returns the canonical JSON of the named roots of d.
func docJSON(d *Doc, roots map[string]string) (map[string]any, map[string]any) {
	js := map[string]any{}
	deltas := map[string]any{}
	for name, kind := range roots {
		r := rootOf(d, name, kind)
		js[name] = canonicalJSON(r)
		if x, ok := r.(*Text); ok {
			deltas[name] = canonicalDelta(x.ToDelta())
		}
	}
	return js, deltas
}

var _ = testing.Verbose

// eventLog collects deep events of a document's roots in the form the
// oracle reports them.
type eventLog struct{ batches []any }

// observeRoots registers deep observers on the named roots of d.
func observeRoots(d *Doc, roots map[string]string) *eventLog {
	log := &eventLog{}
	for name, kind := range roots {
		name := name
		f := func(events []*Event) {
			var described []any
			for _, e := range events {
				described = append(described, describeEvent(e))
			}
			log.batches = append(log.batches, map[string]any{"root": name, "events": described})
		}
		switch r := rootOf(d, name, kind).(type) {
		case *Text:
			r.ObserveDeep(f)
		case *Map:
			r.ObserveDeep(f)
		case *Array:
			r.ObserveDeep(f)
		case *XMLFragment:
			r.ObserveDeep(f)
		}
	}
	return log
}

// take returns the batches collected so far, JSON-decoded, and resets.
func (l *eventLog) take() []any {
	out := roundTripJSON(l.batches)
	l.batches = nil
	if out == nil {
		return []any{}
	}
	return out.([]any)
}

func describeEvent(e *Event) map[string]any {
	keys := map[string]any{}
	for k, kc := range e.Keys() {
		m := map[string]any{"action": kc.Action}
		if _, undef := kc.OldValue.(Undefined); !undef {
			m["oldValue"] = canonicalBytes(ToJSONValue(kc.OldValue))
		}
		keys[k] = m
	}
	out := map[string]any{"path": e.Path(), "keys": keys}
	switch e.target.kind {
	case KindMap, KindXMLHook:
	case KindText, KindXMLText:
		out["delta"] = canonicalDelta(e.Delta())
	default:
		var delta []any
		for _, d := range e.Delta() {
			switch {
			case d.Insert != nil:
				delta = append(delta, map[string]any{"insert": canonicalBytes(ToJSONValue(d.Insert))})
			case d.Delete > 0:
				delta = append(delta, map[string]any{"delete": d.Delete})
			default:
				delta = append(delta, map[string]any{"retain": d.Retain})
			}
		}
		if delta == nil {
			delta = []any{}
		}
		out["delta"] = delta
	}
	return out
}

func jsonDecode(v any, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
