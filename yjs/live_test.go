package yjs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// diffJSON compares two values by their JSON encodings, which stays fast
// for deeply nested values where cmp.Diff does not, and returns a diff of
// the encodings or "".
func diffJSON(want, got any) string {
	a, errA := json.Marshal(want)
	b, errB := json.Marshal(got)
	if errA != nil || errB != nil {
		return fmt.Sprintf("not JSON: %v, %v", errA, errB)
	}
	if bytes.Equal(a, b) {
		return ""
	}
	return cmp.Diff(string(a), string(b))
}

// compareEdits applies batches of edits, one transaction per batch, to a
// new Go document and to a yjs document, and compares the updates and
// deep events of each batch and then the encoded state, JSON and deltas.
func compareEdits(t *testing.T, o *oracle, roots map[string]string, batches ...[]edit) *Doc {
	t.Helper()
	name := "live/" + t.Name()
	o.call(t, map[string]any{"op": "new", "doc": name, "client": 7, "gc": true, "roots": roots}, nil)
	defer o.call(t, map[string]any{"op": "drop", "doc": name}, nil)
	d := NewDoc(WithClientID(7))
	events := observeRoots(d, roots)

	for _, batch := range batches {
		yr := newOracleReply()
		o.call(t, map[string]any{"op": "edit", "doc": name, "edits": roundTripJSON(batch)}, &yr)
		var decoded []edit
		remarshal(t, batch, &decoded)
		got, gotV2, err := captureUpdates(d, func() error { return applyEdits(d, decoded) })
		if err != nil {
			t.Fatalf("edits %v: %v", batch, err)
		}
		if diff := diffJSON(yr.Updates, got); diff != "" {
			t.Errorf("update of %v (-yjs +go):\n%s", batch, diff)
		}
		if diff := diffJSON(yr.UpdatesV2, gotV2); diff != "" {
			t.Errorf("V2 update of %v (-yjs +go):\n%s", batch, diff)
		}
		if diff := diffJSON(yr.Events, events.take()); diff != "" {
			t.Errorf("events of %v (-yjs +go):\n%s", batch, diff)
		}
	}

	var st peerState
	o.call(t, map[string]any{"op": "state", "doc": name, "roots": roots}, &st)
	js, deltas := docJSON(d, roots)
	if diff := diffJSON(st.JSON, js); diff != "" {
		t.Errorf("JSON (-yjs +go):\n%s", diff)
	}
	if diff := diffJSON(st.Deltas, deltas); diff != "" {
		t.Errorf("deltas (-yjs +go):\n%s", diff)
	}
	if diff := diffJSON(st.Update, hexOf(d.EncodeStateAsUpdate(nil))); diff != "" {
		t.Errorf("encoded state (-yjs +go):\n%s", diff)
	}

	// A fresh peer receives the whole state as one remote update.
	o.call(t, map[string]any{"op": "new", "doc": name + "/peer", "client": 8, "gc": true, "roots": roots}, nil)
	defer o.call(t, map[string]any{"op": "drop", "doc": name + "/peer"}, nil)
	yr := newOracleReply()
	o.call(t, map[string]any{"op": "apply", "doc": name + "/peer", "update": st.Update}, &yr)
	peer := NewDoc(WithClientID(8))
	peerEvents := observeRoots(peer, roots)
	if err := peer.ApplyUpdate(d.EncodeStateAsUpdate(nil), "remote"); err != nil {
		t.Fatal(err)
	}
	if diff := diffJSON(yr.Events, peerEvents.take()); diff != "" {
		t.Errorf("events of a peer applying the state (-yjs +go):\n%s", diff)
	}
	return d
}

func insEmbed(tg target, i int, v any, a map[string]any) edit {
	return edit{Target: tg, Op: "insertEmbed", Index: i, Value: v, Attrs: a}
}

// TestEmbedDeltas formats, inserts and deletes around object embeds with
// attributes. The events of the edits, and of a peer that receives them,
// must carry the embeds as yjs reports them.
func TestEmbedDeltas(t *testing.T) {
	o := startOracle(t)
	tt := textT("t")
	roots := map[string]string{"t": "text"}
	compareEdits(t, o, roots,
		[]edit{insText(tt, 0, "abc")},
		[]edit{insEmbed(tt, 1, map[string]any{"image": "x.png"}, map[string]any{"bold": true})},
		[]edit{insEmbed(tt, 0, map[string]any{"k": []any{1, "two"}}, nil), insText(tt, 1, "z")},
		[]edit{format(tt, 0, 4, map[string]any{"italic": true})},
		[]edit{insEmbed(tt, 3, map[string]any{}, map[string]any{"link": "u"}), delText(tt, 0, 1)},
		[]edit{format(tt, 1, 3, map[string]any{"bold": nil})},
		[]edit{delText(tt, 1, 3)},
	)
}

// TestEmbedDeltaKinds inserts embeds of every kind: yjs's event delta keeps
// shared types, arrays and objects and drops numbers.
func TestEmbedDeltaKinds(t *testing.T) {
	o := startOracle(t)
	tt := textT("t")
	roots := map[string]string{"t": "text"}
	compareEdits(t, o, roots,
		[]edit{insText(tt, 0, "abc")},
		[]edit{insEmbed(tt, 1, newMapV, map[string]any{"bold": true})},

		[]edit{insEmbed(tt, 1, []any{1}, nil)},
		[]edit{insEmbed(tt, 1, "str", map[string]any{"x": 1})},
		[]edit{insEmbed(tt, 1, 5, map[string]any{"x": 1})},
	)
}

func xmlT(path ...any) target { return target{"x", "xmlfragment", path} }

func xmlIns(tg target, i int, vs ...any) edit {
	return edit{Target: tg, Op: "xmlInsert", Index: i, Values: vs}
}

func setAttr(tg target, k string, v any) edit {
	return edit{Target: tg, Op: "setAttribute", Key: k, Value: v}
}

var (
	xmlElemV = func(name string) map[string]any { return map[string]any{"$type": "xmlelement", "name": name} }
	xmlTextV = map[string]any{"$type": "xmltext"}
)

// TestXMLString checks toString of XML nodes: attribute order, values of
// every kind, nested formatting with object, string and array values, and
// embeds inside an XmlText.
func TestXMLString(t *testing.T) {
	o := startOracle(t)
	roots := map[string]string{"x": "xmlfragment"}
	compareEdits(t, o, roots,
		[]edit{xmlIns(xmlT(), 0, xmlElemV("DiV"), xmlTextV, xmlElemV("Σ"))},
		[]edit{setAttr(xmlT(0), "b", "2"), setAttr(xmlT(0), "a", 1), setAttr(xmlT(0), "Z", true),
			setAttr(xmlT(0), "arr", []any{1, "x", nil, []any{2, 3}}), setAttr(xmlT(0), "obj", map[string]any{"k": 1}),
			setAttr(xmlT(0), "nul", nil), setAttr(xmlT(0), "10", 1.5), setAttr(xmlT(0), "9", -0.0),
			setAttr(xmlT(0), "\uff5e", 1), setAttr(xmlT(0), "😀", 2)},
		[]edit{insText(xmlT(1), 0, "hello world"),
			format(xmlT(1), 0, 5, map[string]any{"b": map[string]any{"z": 1, "a": "q"}, "a": true}),
			format(xmlT(1), 2, 6, map[string]any{"s": "str", "arr": []any{1, 2}, "n": 3}),
			insEmbed(xmlT(1), 3, map[string]any{"e": 1}, map[string]any{"i": true}),
			insEmbed(xmlT(1), 1, xmlElemV("em"), nil),
			insEmbed(xmlT(1), 1, newMapV, nil),
			insEmbed(xmlT(1), 1, newTextV, nil),
			insEmbed(xmlT(1), 1, []any{1, 2}, nil),
		},
		[]edit{xmlIns(xmlT(0), 0, xmlTextV), insText(xmlT(0, 0), 0, "in")},
	)
}

func removeAttr(tg target, k string) edit { return edit{Target: tg, Op: "removeAttribute", Key: k} }

func TestTextRemoveAttribute(t *testing.T) {
	o := startOracle(t)
	tt := textT("t")
	d := compareEdits(t, o, map[string]string{"t": "text"},
		[]edit{setAttr(tt, "lang", "python"), setAttr(tt, "n", 1), insText(tt, 0, "ab")},
		[]edit{removeAttr(tt, "lang")},
		[]edit{removeAttr(tt, "missing")},
		[]edit{setAttr(tt, "lang", "go"), removeAttr(tt, "lang"), removeAttr(tt, "n")},
	)
	if got := d.GetText("t").Attributes(); len(got) != 0 {
		t.Errorf("attributes left: %v", got)
	}
}

func TestXMLRemoveAttribute(t *testing.T) {
	o := startOracle(t)
	compareEdits(t, o, map[string]string{"x": "xmlfragment"},
		[]edit{xmlIns(xmlT(), 0, xmlElemV("p"), xmlTextV), setAttr(xmlT(0), "a", 1), setAttr(xmlT(0), "b", 2),
			setAttr(xmlT(1), "c", 3)},
		[]edit{removeAttr(xmlT(0), "a"), removeAttr(xmlT(1), "c"), removeAttr(xmlT(1), "none")},
	)
}

// nestedValue returns 1 wrapped depth times, in arrays or in objects
// under the key "a".
func nestedValue(depth int, objects bool) any {
	var v any = 1
	for range depth {
		if objects {
			v = map[string]any{"a": v}
		} else {
			v = []any{v}
		}
	}
	return v
}

// TestDeepValues stores values nested 2,000 deep (the oracle's own value
// builder overflows the node stack near 4,000) as a map value, an array
// element, an embed and a format attribute.
func TestDeepValues(t *testing.T) {
	o := startOracle(t)
	roots := map[string]string{"m": "map", "a": "array", "t": "text"}
	compareEdits(t, o, roots,
		[]edit{mapSet(mapT("m"), "arr", nestedValue(2000, false)), mapSet(mapT("m"), "obj", nestedValue(2000, true))},
		[]edit{arrIns(arrayT("a"), 0, nestedValue(2000, false)), insText(textT("t"), 0, "ab")},
		[]edit{insEmbed(textT("t"), 1, nestedValue(2000, true), nil)},
		[]edit{format(textT("t"), 0, 1, map[string]any{"deep": nestedValue(2000, true)})},
	)
}
