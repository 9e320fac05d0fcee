package yjs

import (
	"fmt"
	"github.com/jupygo/jupygo/yjs/lib0"
	"math/rand/v2"
	"strings"
)

func ed(peerName string, edits ...edit) step { return step{Peer: peerName, Edits: edits} }
func syncStep(to, from string) step          { return step{Peer: to, SyncFrom: from} }
func syncV2(to, from string) step            { return step{Peer: to, SyncFrom: from, V2: true} }
func deliver(to string, stepIndex int) step  { return step{Peer: to, ApplyStep: at(stepIndex)} }
func undoStep(p, op string) step             { return step{Peer: p, Undo: op} }

// syncAll syncs every pair of peers both ways.
func syncAll(names ...string) []step {
	var out []step
	for _, a := range names {
		for _, b := range names {
			if a != b {
				out = append(out, syncStep(a, b))
			}
		}
	}
	return out
}

func peers(clients ...uint64) []peer {
	var out []peer
	for i, c := range clients {
		out = append(out, peer{Name: string(rune('a' + i)), Client: c})
	}
	return out
}

func steps(parts ...any) []step {
	var out []step
	for _, p := range parts {
		switch p := p.(type) {
		case step:
			out = append(out, p)
		case []step:
			out = append(out, p...)
		}
	}
	return out
}

// scenarios are the cases recorded in testdata/fixtures.json.
func scenarios() []scenario {
	t := textT("t")
	m := mapT("m")
	arr := arrayT("a")
	textRoot := map[string]string{"t": "text"}
	all := []scenario{
		{
			Name: "text/basic", Roots: textRoot, Peers: peers(1, 2),
			Steps: steps(
				ed("a", insText(t, 0, "hello world")),
				ed("a", delText(t, 2, 3)),
				ed("a", insText(t, 2, "LL")),
				syncStep("b", "a"),
				ed("b", insText(t, 0, ">> "), delText(t, 5, 2)),
				syncStep("a", "b"),
			),
		},
		{
			Name: "text/non-bmp", Roots: textRoot, Peers: peers(1, 2),
			Steps: steps(
				ed("a", insText(t, 0, "a😀b🎉c")),
				syncStep("b", "a"),
				ed("a", insText(t, 2, "X")), // inside the surrogate pair of 😀
				ed("b", delText(t, 5, 1)),   // half of 🎉
				ed("b", insText(t, 0, "日本語👍")),
				syncAll("a", "b"),
			),
		},
		{
			Name: "content/kinds", Peers: peers(9),
			Roots: map[string]string{"m": "map", "a": "array", "t": "text", "x": "xmlfragment"},
			Steps: steps(
				ed("a",
					mapSet(m, "str", "s"), mapSet(m, "int", 42), mapSet(m, "neg", -7),
					mapSet(m, "big", 2147483648.0), mapSet(m, "float", 0.1), mapSet(m, "f32", 1.5),
					mapSet(m, "null", nil), mapSet(m, "true", true), mapSet(m, "false", false),
					mapSet(m, "arr", []any{1, "two", []any{3}, map[string]any{"k": nil}}),
					mapSet(m, "obj", map[string]any{"10": 1, "2": 2, "b": "x", "a": []any{}}),
					mapSet(m, "bytes", map[string]any{"$bytes": "00ff10"}),
					mapSet(m, "bigint", map[string]any{"$bigint": "-9007199254740993"}),
					mapSet(m, "nested", newMapV), mapSet(m, "list", newArrayV), mapSet(m, "text", newTextV),
					mapSet(m, "sub", map[string]any{"$type": "subdoc", "guid": "g-1",
						"opts": map[string]any{"gc": false, "autoLoad": true, "meta": map[string]any{"x": 1}}}),
					mapSet(m, "sub2", map[string]any{"$type": "subdoc", "guid": "g-2"}),
				),
				ed("a",
					mapSet(mapT("m", "nested"), "deep", 1),
					arrIns(mapT("m", "list"), 0, 1, map[string]any{"$bytes": "01"}, 2, newTextV, 3),
					insText(mapT("m", "text"), 0, "nested text"),
					arrPush(arr, "x", 1.25, nil, map[string]any{"$bytes": ""}),
					arrPush(arr, map[string]any{"$type": "subdoc", "guid": "g-3"}),
					insText(t, 0, "rich text"),
					format(t, 0, 4, map[string]any{"bold": true}),
					edit{Target: t, Op: "insertEmbed", Index: 5, Value: map[string]any{"image": "x.png"}},
					edit{Target: t, Op: "insertEmbed", Index: 2, Value: "embedded string",
						Attrs: map[string]any{"italic": true}},
					format(t, 3, 3, map[string]any{"color": map[string]any{"r": 1, "g": 0}, "bold": nil}),
					edit{Target: target{"x", "xmlfragment", nil}, Op: "xmlInsert", Index: 0,
						Values: []any{map[string]any{"$type": "xmlelement", "name": "p"},
							map[string]any{"$type": "xmltext"}}},
				),
				ed("a",
					edit{Target: target{"x", "xmlfragment", []any{0}}, Op: "setAttribute", Key: "class",
						Value: "c1"},
					insText(target{"x", "xmlfragment", []any{1}}, 0, "xml text"),
					arrDel(arr, 1, 2),
					mapDel(m, "false"),
				),
			),
		},
		{
			Name: "conflict/three-clients-one-position", Roots: textRoot, Peers: peers(3, 1, 2),
			Steps: steps(
				ed("a", insText(t, 0, "base")),
				syncStep("b", "a"), syncStep("c", "a"),
				ed("a", insText(t, 2, "AAA")),
				ed("b", insText(t, 2, "BBB")),
				ed("c", insText(t, 2, "CCC")),
				ed("b", insText(t, 2, "bb")),
				syncStep("c", "b"),
				ed("c", insText(t, 4, "cc")),
				syncAll("a", "b", "c"),
			),
		},
		{
			Name: "conflict/deletes-of-concurrent-inserts", Roots: textRoot, Peers: peers(1, 2, 3),
			Steps: steps(
				ed("a", insText(t, 0, "abcdef")),
				syncStep("b", "a"), syncStep("c", "a"),
				ed("b", insText(t, 3, "XYZ")),
				ed("c", insText(t, 3, "123")),
				ed("a", delText(t, 1, 4)),
				syncStep("b", "c"),
				ed("b", delText(t, 2, 5)),
				syncAll("a", "b", "c"),
			),
		},
		{
			Name: "conflict/concurrent-map-writes", Peers: peers(5, 50, 7),
			Roots: map[string]string{"m": "map"},
			Steps: steps(
				ed("a", mapSet(m, "k", "a1"), mapSet(m, "only-a", 1)),
				ed("b", mapSet(m, "k", "b1")),
				ed("c", mapSet(m, "k", "c1"), mapSet(m, "gone", true)),
				syncStep("a", "c"),
				ed("a", mapDel(m, "gone"), mapSet(m, "k", "a2")),
				ed("b", mapSet(m, "gone", "b")),
				syncAll("a", "b", "c"),
				ed("c", mapSet(m, "k", "c2"), mapSet(m, "k", "c3")),
				syncAll("a", "b", "c"),
			),
		},
		{
			Name: "nested/notebook-cells", Peers: peers(11, 12),
			Roots: map[string]string{"cells": "array", "meta": "map"},
			Steps: steps(
				ed("a", arrIns(arrayT("cells"), 0, newMapV, newMapV),
					mapSet(arrayT("cells", 0), "source", newTextV),
					mapSet(arrayT("cells", 0), "cell_type", "code"),
					mapSet(arrayT("cells", 1), "source", newTextV),
					mapSet(arrayT("cells", 1), "outputs", newArrayV),
					mapSet(mapT("meta"), "nbformat", 4)),
				ed("a", insText(arrayT("cells", 0, "source"), 0, "print(1)"),
					insText(arrayT("cells", 1, "source"), 0, "x = 2")),
				syncStep("b", "a"),
				ed("b", insText(arrayT("cells", 1, "source"), 5, "\ny = x"),
					arrPush(arrayT("cells", 1, "outputs"), map[string]any{"output_type": "stream"})),
				ed("a", arrDel(arrayT("cells"), 1, 1)),
				ed("a", insText(arrayT("cells", 0, "source"), 0, "# ")),
				syncAll("a", "b"),
				ed("b", arrIns(arrayT("cells"), 1, newMapV)),
				syncAll("a", "b"),
			),
		},
		{
			Name: "gc/off", Roots: textRoot,
			Peers: []peer{{Name: "a", Client: 1, NoGC: true}, {Name: "b", Client: 2, NoGC: true}},
			Steps: steps(
				ed("a", insText(t, 0, "keep deleted content")),
				ed("a", delText(t, 4, 8)),
				syncStep("b", "a"),
				ed("b", delText(t, 0, 4), insText(t, 0, "new")),
				syncAll("a", "b"),
			),
		},
		{
			Name: "delivery/out-of-order", Roots: textRoot, Peers: peers(1, 2),
			Steps: steps(
				ed("a", insText(t, 0, "one ")),
				ed("a", insText(t, 4, "two ")),
				ed("a", delText(t, 0, 2)),
				ed("a", insText(t, 6, "three")),
				deliver("b", 3), deliver("b", 2), deliver("b", 1), deliver("b", 2), deliver("b", 0),
				ed("b", insText(t, 0, "b:")),
			),
		},
		{
			Name: "delivery/v2-sync", Roots: map[string]string{"t": "text", "m": "map"}, Peers: peers(1, 2),
			Steps: steps(
				ed("a", insText(t, 0, "v2 text 😀"), mapSet(m, "k", map[string]any{"a": []any{1, 2}})),
				ed("a", delText(t, 1, 2), format(t, 0, 3, map[string]any{"b": true})),
				syncV2("b", "a"),
				ed("b", insText(t, 1, "B"), mapSet(m, "k", "x")),
				syncV2("a", "b"),
			),
		},
		{
			// A pushes F; B receives it, deletes F and pushes X; C, which never
			// saw F, pushes Y; everything is merged everywhere.
			Name: "c19/array-push-after-tombstone", Roots: map[string]string{"a": "array"},
			Peers: peers(3, 1, 2),
			Steps: steps(
				ed("a", arrPush(arr, "F")),
				syncStep("b", "a"),
				ed("b", arrDel(arr, 0, 1), arrPush(arr, "X")),
				ed("c", arrPush(arr, "Y")),
				syncAll("a", "b", "c"),
			),
		},
		{
			Name: "c19/text-insert-delete-sync", Roots: textRoot, Peers: peers(0, 1, 2),
			Steps: steps(
				ed("a", insText(t, 0, "a")),
				syncStep("b", "a"),
				ed("b", insText(t, 1, "b")),
				ed("a", insText(t, 1, "c")),
				ed("a", delText(t, 0, 1)),
				syncStep("c", "a"),
				ed("c", insText(t, 0, "d")),
				syncStep("c", "b"), syncStep("b", "c"),
				syncAll("a", "b", "c"),
			),
		},
		{
			Name: "c19/insert-next-to-deleted", Roots: textRoot, Peers: peers(1, 2),
			Steps: steps(
				ed("a", insText(t, 0, "xyz")),
				syncStep("b", "a"),
				ed("a", delText(t, 1, 1)),
				ed("b", delText(t, 1, 1)),
				ed("a", insText(t, 1, "A")),
				ed("b", insText(t, 1, "B")),
				syncAll("a", "b"),
				ed("a", delText(t, 0, 1), insText(t, 0, "1")),
				ed("b", insText(t, 1, "2")),
				syncAll("a", "b"),
			),
		},
		{
			Name: "format/concurrent", Roots: textRoot, Peers: peers(1, 2),
			Steps: steps(
				ed("a", insText(t, 0, "formatted text here")),
				syncStep("b", "a"),
				ed("a", format(t, 0, 9, map[string]any{"bold": true})),
				ed("b", format(t, 5, 10, map[string]any{"bold": true, "italic": true})),
				ed("b", insTextAttrs(t, 3, "ins", map[string]any{"underline": true})),
				ed("a", format(t, 2, 4, map[string]any{"bold": nil})),
				syncAll("a", "b"),
				ed("a", insText(t, 6, "inherit")),
				ed("b", delText(t, 4, 6)),
				syncAll("a", "b"),
			),
		},
		largeText(),
		wireScenario(),
		{
			Name: "undo/text", Roots: textRoot, Peers: peers(1, 2),
			Undo: &undoSpec{Scope: []string{"t"}},
			Steps: steps(
				ed("a", insText(t, 0, "hello")),
				ed("a", insText(t, 5, " world")),
				ed("a", delText(t, 0, 2)),
				syncStep("b", "a"),
				ed("b", insText(t, 3, "B")),
				syncStep("a", "b"),
				undoStep("a", "undo"), undoStep("a", "undo"), undoStep("a", "redo"),
				undoStep("a", "redo"), undoStep("a", "redo"),
				syncAll("a", "b"),
				undoStep("b", "undo"), undoStep("b", "undo"),
				ed("a", format(t, 1, 4, map[string]any{"bold": true})),
				undoStep("a", "undo"),
				syncAll("a", "b"),
			),
		},
		{
			Name: "undo/nested-and-maps", Peers: peers(5, 6),
			Roots: map[string]string{"m": "map", "a": "array"},
			Undo:  &undoSpec{Scope: []string{"m", "a"}, CaptureTimeout: 1e9},
			Steps: steps(
				ed("a", mapSet(m, "k", 1)), ed("a", mapSet(m, "k", 2)),
				undoStep("a", "stopCapturing"),
				ed("a", arrIns(arr, 0, newMapV, "x")),
				ed("a", mapSet(arrayT("a", 0), "src", newTextV)),
				ed("a", insText(arrayT("a", 0, "src"), 0, "cell text")),
				undoStep("a", "stopCapturing"),
				ed("a", arrDel(arr, 0, 1)),
				syncStep("b", "a"),
				undoStep("a", "undo"), // redoes the deleted map and its text
				ed("a", insText(arrayT("a", 0, "src"), 0, ">")),
				undoStep("a", "stopCapturing"),
				syncStep("b", "a"),
				ed("b", mapSet(m, "k", "b")),
				syncStep("a", "b"),
				undoStep("a", "undo"), undoStep("a", "undo"), undoStep("a", "undo"),
				undoStep("a", "redo"),
				syncAll("a", "b"),
			),
		},
		{
			// b learns of "t" from a formatted update before declaring it:
			// declaring it then starts a fresh Text whose search markers are
			// on, as in yjs, which decides where b's inserts go.
			Name: "text/late-root-after-formatting", Roots: textRoot, LateRoots: true, Peers: peers(1, 2),
			Steps: steps(
				ed("a", insText(t, 0, "some formatted text for markers")),
				ed("a", format(t, 5, 9, map[string]any{"bold": true})),
				syncStep("b", "a"),
				ed("b", insText(t, 20, "X"), insText(t, 6, "Y"), delText(t, 2, 3)),
				ed("b", insText(t, 14, "Z")),
				syncAll("a", "b"),
			),
		},
		{
			Name: "xml/tree", Roots: map[string]string{"x": "xmlfragment"}, Peers: peers(4, 3),
			Steps: steps(
				ed("a", edit{Target: target{"x", "xmlfragment", nil}, Op: "xmlInsert", Index: 0,
					Values: []any{map[string]any{"$type": "xmlelement", "name": "DIV"},
						map[string]any{"$type": "xmltext"}}}),
				ed("a",
					edit{Target: target{"x", "xmlfragment", []any{0}}, Op: "setAttribute", Key: "id", Value: "d1"},
					edit{Target: target{"x", "xmlfragment", []any{0}}, Op: "setAttribute", Key: "class", Value: 2},
					edit{Target: target{"x", "xmlfragment", []any{0}}, Op: "xmlInsert", Index: 0,
						Values: []any{map[string]any{"$type": "xmltext"},
							map[string]any{"$type": "xmlelement", "name": "span"}}},
					insText(target{"x", "xmlfragment", []any{1}}, 0, "plain bold link"),
					format(target{"x", "xmlfragment", []any{1}}, 6, 4, map[string]any{"b": true}),
					format(target{"x", "xmlfragment", []any{1}}, 11, 4,
						map[string]any{"a": map[string]any{"href": "x", "rel": "n"}}),
				),
				syncStep("b", "a"),
				ed("b", insText(target{"x", "xmlfragment", []any{0, 0}}, 0, "inner"),
					edit{Target: target{"x", "xmlfragment", []any{0, 1}}, Op: "setAttribute", Key: "k", Value: "v"}),
				ed("a", insText(target{"x", "xmlfragment", []any{1}}, 0, ">")),
				syncAll("a", "b"),
			),
		},
		{
			// b holds the first three units of a's item when a's full state,
			// one merged item, arrives: only the tail is integrated.
			Name: "delivery/overlapping-structs", Roots: textRoot, Peers: peers(1, 2),
			Steps: steps(
				ed("a", insText(t, 0, "hel")),
				deliver("b", 0),
				ed("a", insText(t, 3, "lo")),
				ed("b", insText(t, 3, "!")),
				step{Peer: "b", SyncFrom: "a", Full: true},
				step{Peer: "a", SyncFrom: "b", Full: true},
			),
		},
	}
	return all
}

// rawUpdate builds an update by hand: f writes the struct part.
func rawUpdate(f func(e *lib0.Encoder)) string {
	e := &lib0.Encoder{}
	f(e)
	return hexOf(e.Bytes())
}

// wireScenario applies hand-made updates with content and structs that the
// yjs API no longer produces or produces only in merged updates: legacy
// JSON content, GC structs, Skip structs, an XML hook, a parent that is no
// type, and deletions and structs that arrive before what they depend on.
func wireScenario() scenario {
	item := func(e *lib0.Encoder, info byte) { e.WriteUint8(info) }
	root := func(e *lib0.Encoder, name string) {
		e.WriteVarUint(1)
		e.WriteVarString(name)
	}
	block := func(e *lib0.Encoder, n, client, clock uint64) {
		e.WriteVarUint(n)
		e.WriteVarUint(client)
		e.WriteVarUint(clock)
	}
	legacyJSON := rawUpdate(func(e *lib0.Encoder) {
		e.WriteVarUint(1)
		block(e, 1, 5, 0)
		item(e, refJSON)
		root(e, "a")
		e.WriteVarUint(3)
		e.WriteVarString(`{"x":[1,"y"]}`)
		e.WriteVarString("undefined")
		e.WriteVarString("2.5e-7")
		e.WriteVarUint(0)
	})
	gcThenItem := rawUpdate(func(e *lib0.Encoder) {
		e.WriteVarUint(1)
		block(e, 2, 6, 0)
		item(e, refGC)
		e.WriteVarUint(2)
		item(e, 0x80|refAny) // origin inside the GC: becomes GC as well
		e.WriteVarUint(6)
		e.WriteVarUint(1)
		e.WriteVarUint(1)
		e.WriteAny(7.0)
		e.WriteVarUint(0)
	})
	hook := rawUpdate(func(e *lib0.Encoder) {
		e.WriteVarUint(1)
		block(e, 3, 7, 0)
		item(e, 0x20|refType)
		root(e, "m")
		e.WriteVarString("hook")
		e.WriteVarUint(uint64(KindXMLHook))
		e.WriteVarString("h")
		item(e, 0x20|refAny) // entry of the hook, parent given by ID
		e.WriteVarUint(0)
		e.WriteVarUint(7)
		e.WriteVarUint(0)
		e.WriteVarString("k")
		e.WriteVarUint(1)
		e.WriteAny("v")
		item(e, 0x20|refAny) // parent (7,1) is not a type: becomes GC
		e.WriteVarUint(0)
		e.WriteVarUint(7)
		e.WriteVarUint(1)
		e.WriteVarString("k")
		e.WriteVarUint(1)
		e.WriteAny("lost")
		e.WriteVarUint(0)
	})
	skipThenItem := rawUpdate(func(e *lib0.Encoder) {
		e.WriteVarUint(1)
		block(e, 2, 9, 0)
		item(e, refSkip)
		e.WriteVarUint(2)
		item(e, 0x80|refString) // waits for 9:0..1
		e.WriteVarUint(9)
		e.WriteVarUint(1)
		e.WriteVarString("later")
		e.WriteVarUint(0)
	})
	missingPart := rawUpdate(func(e *lib0.Encoder) {
		e.WriteVarUint(1)
		block(e, 1, 9, 0)
		item(e, refString)
		root(e, "t")
		e.WriteVarString("ab")
		e.WriteVarUint(0)
	})
	deleteFirst := rawUpdate(func(e *lib0.Encoder) {
		e.WriteVarUint(0)
		e.WriteVarUint(1)
		e.WriteVarUint(10)
		e.WriteVarUint(1)
		e.WriteVarUint(1)
		e.WriteVarUint(2)
	})
	deletedLater := rawUpdate(func(e *lib0.Encoder) {
		e.WriteVarUint(1)
		block(e, 1, 10, 0)
		item(e, refString)
		root(e, "t")
		e.WriteVarString("wxyz")
		e.WriteVarUint(0)
	})
	raw := func(peer, u string) step { return step{Peer: peer, Raw: u} }
	return scenario{
		Name:  "wire/hand-made-updates",
		Roots: map[string]string{"a": "array", "m": "map", "t": "text"},
		Peers: peers(1, 2),
		Steps: steps(
			raw("a", legacyJSON), raw("a", gcThenItem), raw("a", hook),
			raw("a", skipThenItem), raw("a", deleteFirst),
			syncStep("b", "a"),
			raw("a", missingPart), raw("a", deletedLater),
			ed("a", arrIns(arrayT("a"), 1, "local")),
			syncAll("a", "b"),
		),
	}
}

// largeText builds a text of a few thousand characters from pseudo-random
// inserts and deletes on two peers.
func largeText() scenario {
	t := textT("t")
	rng := rand.New(rand.NewPCG(7, 7))
	var st []step
	lengths := map[string]int{"a": 0, "b": 0}
	words := strings.Fields("the quick brown fox jumps over a lazy dog 😀 λ 日本")
	for round := 0; round < 30; round++ {
		for _, p := range []string{"a", "b"} {
			var edits []edit
			for k := 0; k < 20; k++ {
				n := lengths[p]
				if n > 20 && rng.IntN(4) == 0 {
					i := rng.IntN(n - 5)
					edits = append(edits, delText(t, i, 1+rng.IntN(4)))
					lengths[p] -= edits[len(edits)-1].Length
					continue
				}
				w := words[rng.IntN(len(words))] + " "
				edits = append(edits, insText(t, rng.IntN(n+1), w))
				lengths[p] += utf16Len(w)
			}
			st = append(st, ed(p, edits...))
		}
		if round%5 == 4 {
			st = append(st, syncStep("a", "b"), syncStep("b", "a"))
			lengths["b"] = lengths["a"]
			lengths["a"] = lengths["b"]
		}
	}
	return scenario{Name: "text/large", Roots: map[string]string{"t": "text"}, Peers: peers(21, 22),
		Steps: st}
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

var _ = fmt.Sprint
