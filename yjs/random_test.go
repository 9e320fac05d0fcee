package yjs

import (
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	randomSeeds = flag.Int("yjs.seeds", 4, "number of seeds for the randomized differential test")
	randomSteps = flag.Int("yjs.steps", 120, "edit and delivery steps per seed")
	firstSeed   = flag.Int("yjs.seed", 1, "first seed of the randomized differential test")
)

// replica is one peer of the randomized test: a Go document with a yjs
// shadow that gets the same edits and deliveries, or a yjs-only peer.
type replica struct {
	name   string
	client uint64
	doc    *Doc // nil for yjs-only peers
	undo   *UndoManager
	events *eventLog
	inbox  []message
	cut    bool // partitioned: receives nothing while set
}

var randomRoots = map[string]string{"t": "text", "m": "map", "a": "array"}

// TestRandomDifferential edits several replicas at random. Some are this
// package, each with a yjs shadow that gets the same edits and deliveries,
// and some are yjs only. Updates are delivered out of order, with
// duplicates and partitions. All replicas must end with the same JSON and
// state vector, and every Go replica must emit and encode exactly the
// bytes and events of its shadow. -yjs.seeds and -yjs.steps make it larger.
func TestRandomDifferential(t *testing.T) {
	o := startOracle(t)
	for seed := *firstSeed; seed < *firstSeed+*randomSeeds; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			runRandom(t, o, uint64(seed), *randomSteps)
		})
	}
}

func runRandom(t *testing.T, o *oracle, seed uint64, nSteps int) {
	rng := rand.New(rand.NewPCG(seed, 99))
	prefix := fmt.Sprintf("rand%d/", seed)
	var reps []*replica
	for i := 0; i < 5; i++ {
		r := &replica{name: fmt.Sprintf("%sr%d", prefix, i), client: uint64(10+i) * 7919 % 1000}
		if i < 3 {
			r.doc = NewDoc(WithClientID(r.client), WithGC(i != 2))
			// The oracle observes every root, and computing a text delta
			// may delete redundant formats, so the Go side observes too.
			r.events = observeRoots(r.doc, randomRoots)
			r.undo = NewUndoManager(r.doc, []any{r.doc.GetText("t"), r.doc.GetMap("m"),
				r.doc.GetArray("a")}, UndoOptions{})
		}
		req := map[string]any{"op": "new", "doc": r.name, "client": r.client,
			"gc": r.doc == nil || r.doc.GC(), "roots": randomRoots}
		if r.doc != nil {
			req["undo"] = undoSpec{Scope: []string{"a", "m", "t"}}
		}
		o.call(t, req, nil)
		reps = append(reps, r)
	}
	defer func() {
		for _, r := range reps {
			o.call(t, map[string]any{"op": "drop", "doc": r.name}, nil)
		}
	}()

	for step := 0; step < nSteps; step++ {
		switch x := rng.IntN(11); {
		case x == 10:
			randomUndo(t, o, rng, reps)
		case x < 5:
			randomEdit(t, o, rng, reps, reps[rng.IntN(len(reps))])
		case x < 9:
			deliverOne(t, o, rng, reps)
		default:
			r := reps[rng.IntN(len(reps))]
			r.cut = !r.cut
		}
	}
	for _, r := range reps {
		r.cut = false
	}
	for _, r := range reps {
		for len(r.inbox) > 0 {
			deliverTo(t, o, rng, reps, r)
		}
	}
	checkConverged(t, o, reps)
}

// broadcast queues an update for every other replica, sometimes twice.
// message is an update in transit, in the V1 or the V2 format.
type message struct {
	update []byte
	v2     bool
}

// oracleReply is what the oracle returns for edits and applied updates.
type oracleReply struct {
	Updates   []string
	UpdatesV2 []string
	Events    []any
}

func newOracleReply() oracleReply {
	return oracleReply{Updates: []string{}, UpdatesV2: []string{}, Events: []any{}}
}

// broadcast queues an update for every other replica, sometimes twice,
// and in the V2 format for every fourth message.
func broadcast(rng *rand.Rand, reps []*replica, from *replica, yr oracleReply) {
	for i := range yr.Updates {
		for _, r := range reps {
			if r == from {
				continue
			}
			m := message{update: mustHexNoT(yr.Updates[i])}
			if rng.IntN(4) == 0 {
				m = message{update: mustHexNoT(yr.UpdatesV2[i]), v2: true}
			}
			r.inbox = append(r.inbox, m)
			if rng.IntN(8) == 0 {
				r.inbox = append(r.inbox, m)
			}
		}
	}
}

func mustHexNoT(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// captureUpdates records the V1 and V2 updates d emits while f runs.
func captureUpdates(d *Doc, f func() error) (v1, v2 []string, err error) {
	v1, v2 = []string{}, []string{}
	c1 := d.OnUpdate(func(b []byte, _ any, _ *Transaction) { v1 = append(v1, hexOf(b)) })
	c2 := d.OnUpdateV2(func(b []byte, _ any, _ *Transaction) { v2 = append(v2, hexOf(b)) })
	err = f()
	c1()
	c2()
	return v1, v2, err
}

func deliverOne(t *testing.T, o *oracle, rng *rand.Rand, reps []*replica) {
	var ready []*replica
	for _, r := range reps {
		if len(r.inbox) > 0 && !r.cut {
			ready = append(ready, r)
		}
	}
	if len(ready) > 0 {
		deliverTo(t, o, rng, reps, ready[rng.IntN(len(ready))])
	}
}

// deliverTo applies a random queued update to r and forwards nothing: yjs
// emits an update for applied remote changes too, but peers get the
// original updates already.
func deliverTo(t *testing.T, o *oracle, rng *rand.Rand, reps []*replica, r *replica) {
	i := rng.IntN(len(r.inbox))
	m := r.inbox[i]
	r.inbox = slices.Delete(r.inbox, i, i+1)
	yr := newOracleReply()
	o.call(t, map[string]any{"op": "apply", "doc": r.name, "update": hexOf(m.update), "v2": m.v2}, &yr)
	if r.doc == nil {
		return
	}
	got, gotV2, err := captureUpdates(r.doc, func() error {
		if m.v2 {
			return r.doc.ApplyUpdateV2(m.update, "remote")
		}
		return r.doc.ApplyUpdate(m.update, "remote")
	})
	if err != nil {
		t.Fatalf("%s: applying update: %v", r.name, err)
	}
	if diff := cmp.Diff(yr.Updates, got); diff != "" {
		var items struct{ Items []string }
		o.call(t, map[string]any{"op": "items", "doc": r.name, "root": "t"}, &items)
		t.Fatalf("%s: updates emitted while applying (-yjs +go):\n%s\nyjs items:\n%s\ngo items:\n%s",
			r.name, diff, strings.Join(items.Items, "\n"), strings.Join(debugItems(r.doc.GetText("t").b), "\n"))
	}
	if diff := cmp.Diff(yr.UpdatesV2, gotV2); diff != "" {
		t.Fatalf("%s: V2 updates emitted while applying (-yjs +go):\n%s", r.name, diff)
	}
	if diff := cmp.Diff(yr.Events, r.events.take()); diff != "" {
		t.Fatalf("%s: events while applying (-yjs +go):\n%s", r.name, diff)
	}
}

func randomEdit(t *testing.T, o *oracle, rng *rand.Rand, reps []*replica, r *replica) {
	edits := genEdits(t, o, rng, r)
	if len(edits) == 0 {
		return
	}
	yr := newOracleReply()
	o.call(t, map[string]any{"op": "edit", "doc": r.name, "edits": roundTripJSON(edits)}, &yr)
	if r.doc != nil {
		var decoded []edit
		remarshal(t, edits, &decoded)
		got, gotV2, err := captureUpdates(r.doc, func() error { return applyEdits(r.doc, decoded) })
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if diff := cmp.Diff(yr.Updates, got); diff != "" {
			t.Fatalf("%s: update of edits %v (-yjs +go):\n%s", r.name, edits, diff)
		}
		if diff := cmp.Diff(yr.UpdatesV2, gotV2); diff != "" {
			t.Fatalf("%s: V2 update of edits %v (-yjs +go):\n%s", r.name, edits, diff)
		}
		if diff := cmp.Diff(yr.Events, r.events.take()); diff != "" {
			t.Fatalf("%s: events of edits %v (-yjs +go):\n%s", r.name, edits, diff)
		}
	}
	broadcast(rng, reps, r, yr)
}

// randomUndo undoes or redoes a step on a Go replica and its shadow.
func randomUndo(t *testing.T, o *oracle, rng *rand.Rand, reps []*replica) {
	r := reps[rng.IntN(3)]
	op := "undo"
	if rng.IntN(3) == 0 {
		op = "redo"
	}
	yr := newOracleReply()
	o.call(t, map[string]any{"op": op, "doc": r.name}, &yr)
	got, gotV2, _ := captureUpdates(r.doc, func() error {
		if op == "undo" {
			r.undo.Undo()
		} else {
			r.undo.Redo()
		}
		return nil
	})
	if diff := cmp.Diff(yr.Updates, got); diff != "" {
		t.Fatalf("%s: updates of %s (-yjs +go):\n%s", r.name, op, diff)
	}
	if diff := cmp.Diff(yr.UpdatesV2, gotV2); diff != "" {
		t.Fatalf("%s: V2 updates of %s (-yjs +go):\n%s", r.name, op, diff)
	}
	if diff := cmp.Diff(yr.Events, r.events.take()); diff != "" {
		t.Fatalf("%s: events of %s (-yjs +go):\n%s", r.name, op, diff)
	}
	broadcast(rng, reps, r, yr)
}

// replicaState returns lengths of the roots, from the Go document or, for
// yjs-only replicas, from the oracle.
func replicaState(t *testing.T, o *oracle, r *replica) (text string, arrLen int, keys []string) {
	if r.doc != nil {
		return r.doc.GetText("t").String(), r.doc.GetArray("a").Len(), r.doc.GetMap("m").Keys()
	}
	var st struct{ JSON map[string]any }
	o.call(t, map[string]any{"op": "state", "doc": r.name, "roots": randomRoots}, &st)
	text = st.JSON["t"].(string)
	arrLen = len(st.JSON["a"].([]any))
	for k := range st.JSON["m"].(map[string]any) {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return text, arrLen, keys
}

// boundaries returns the UTF-16 offsets between code points of s. Edits
// stay on them because yjs peers themselves diverge when a split falls
// inside a surrogate pair.
func boundaries(s string) []int {
	out := []int{0}
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
		out = append(out, n)
	}
	return out
}

var randomWords = []string{"a", "bc", "def", " ", "\n", "😀", "é", "日本", "x🎉y", "ghij"}

func genEdits(t *testing.T, o *oracle, rng *rand.Rand, r *replica) []edit {
	if r.doc != nil && rng.IntN(5) == 0 {
		return []edit{genNestedEdit(rng, r.doc)}
	}
	text, arrLen, keys := replicaState(t, o, r)
	bounds := boundaries(text)
	var edits []edit
	tt, mm, aa := textT("t"), mapT("m"), arrayT("a")
	for n := 1 + rng.IntN(3); n > 0; n-- {
		switch rng.IntN(9) {
		case 0, 1, 2:
			w := randomWords[rng.IntN(len(randomWords))]
			at := rng.IntN(len(bounds))
			e := insText(tt, bounds[at], w)
			if rng.IntN(4) == 0 {
				e.Attrs = map[string]any{"bold": rng.IntN(2) == 0}
			}
			edits = append(edits, e)
			shifted := slices.Clone(bounds[:at+1])
			for _, b := range boundaries(w)[1:] {
				shifted = append(shifted, bounds[at]+b)
			}
			for _, b := range bounds[at+1:] {
				shifted = append(shifted, b+utf16Len(w))
			}
			bounds = shifted
		case 3, 4:
			if len(bounds) < 2 {
				continue
			}
			i := rng.IntN(len(bounds) - 1)
			j := i + 1 + rng.IntN(min(4, len(bounds)-1-i))
			if rng.IntN(2) == 0 {
				edits = append(edits, delText(tt, bounds[i], bounds[j]-bounds[i]))
				cut := bounds[j] - bounds[i]
				rest := slices.Clone(bounds[:i+1])
				for _, b := range bounds[j+1:] {
					rest = append(rest, b-cut)
				}
				bounds = rest
				continue
			}
			attrs := map[string]any{"italic": true}
			if rng.IntN(2) == 0 {
				attrs = map[string]any{"italic": nil, "bold": true}
			}
			edits = append(edits, format(tt, bounds[i], bounds[j]-bounds[i], attrs))
		case 5:
			key := fmt.Sprintf("k%d", rng.IntN(4))
			var v any = rng.IntN(100)
			if rng.IntN(3) == 0 {
				v = map[string]any{"nested": []any{"x", rng.IntN(5)}}
			}
			edits = append(edits, mapSet(mm, key, v))
			if !slices.Contains(keys, key) {
				keys = append(keys, key)
			}
		case 6:
			if len(keys) > 0 {
				i := rng.IntN(len(keys))
				edits = append(edits, mapDel(mm, keys[i]))
				keys = slices.Delete(keys, i, i+1)
			}
		case 7:
			vals := []any{rng.IntN(10)}
			if rng.IntN(2) == 0 {
				vals = append(vals, "s")
			}
			if rng.IntN(3) == 0 {
				edits = append(edits, arrPush(aa, vals...))
			} else {
				edits = append(edits, arrIns(aa, rng.IntN(arrLen+1), vals...))
			}
			arrLen += len(vals)
		case 8:
			if arrLen > 0 {
				i := rng.IntN(arrLen)
				k := 1 + rng.IntN(min(3, arrLen-i))
				edits = append(edits, arrDel(aa, i, k))
				arrLen -= k
			}
		}
	}
	return edits
}

// genNestedEdit edits nested types: a Text under m["txt"], and Maps in the
// array with a Text under "inner". It reads the Go document, so only Go
// replicas (and their shadows) make nested edits; every replica applies
// and deletes them.
func genNestedEdit(rng *rand.Rand, d *Doc) edit {
	word := randomWords[rng.IntN(len(randomWords))]
	if rng.IntN(2) == 0 {
		if x, ok := d.GetMap("m").Get("txt"); ok {
			if txt, ok := x.(*Text); ok && rng.IntN(6) != 0 {
				b := boundaries(txt.String())
				return insText(mapT("m", "txt"), b[rng.IntN(len(b))], word)
			}
		}
		return mapSet(mapT("m"), "txt", newTextV)
	}
	arr := d.GetArray("a")
	if arr.Len() == 0 || rng.IntN(4) == 0 {
		return arrIns(arrayT("a"), rng.IntN(arr.Len()+1), newMapV)
	}
	i := rng.IntN(arr.Len())
	v, _ := arr.Get(i)
	m, ok := v.(*Map)
	if !ok {
		return arrIns(arrayT("a"), i, newMapV)
	}
	if inner, ok := m.Get("inner"); ok {
		if txt, ok := inner.(*Text); ok && rng.IntN(5) != 0 {
			b := boundaries(txt.String())
			if len(b) > 1 && rng.IntN(3) == 0 {
				j := rng.IntN(len(b) - 1)
				return delText(arrayT("a", i, "inner"), b[j], b[j+1]-b[j])
			}
			return insText(arrayT("a", i, "inner"), b[rng.IntN(len(b))], word)
		}
	}
	if rng.IntN(2) == 0 {
		return mapSet(arrayT("a", i), "x", rng.IntN(50))
	}
	return mapSet(arrayT("a", i), "inner", newTextV)
}

func remarshal(t *testing.T, in, out any) {
	t.Helper()
	b := roundTripJSON(in)
	if err := jsonDecode(b, out); err != nil {
		t.Fatal(err)
	}
}

func checkConverged(t *testing.T, o *oracle, reps []*replica) {
	t.Helper()
	var first *peerState
	for _, r := range reps {
		var st peerState
		o.call(t, map[string]any{"op": "state", "doc": r.name, "roots": randomRoots}, &st)
		if first == nil {
			first = &st
		} else {
			if diff := cmp.Diff(first.JSON, st.JSON); diff != "" {
				t.Errorf("%s: JSON differs from %s (-first +this):\n%s", r.name, reps[0].name, diff)
			}
			if diff := cmp.Diff(first.SV, st.SV); diff != "" {
				t.Errorf("%s: state vector differs (-first +this):\n%s", r.name, diff)
			}
		}
		if r.doc == nil {
			continue
		}
		js, _ := docJSON(r.doc, randomRoots)
		if diff := cmp.Diff(st.JSON, js); diff != "" {
			t.Errorf("%s: JSON (-yjs shadow +go):\n%s", r.name, diff)
		}
		if diff := cmp.Diff(st.SV, hexOf(r.doc.EncodeStateVector())); diff != "" {
			t.Errorf("%s: state vector (-yjs shadow +go):\n%s", r.name, diff)
		}
		if diff := cmp.Diff(st.Update, hexOf(r.doc.EncodeStateAsUpdate(nil))); diff != "" {
			t.Errorf("%s: encoded state (-yjs shadow +go):\n%s", r.name, diff)
		}
	}
}

// debugItems lists the items of a type as the oracle's items op does.
func debugItems(b *branch) []string {
	var out []string
	for n := b.start; n != nil; n = n.right {
		s := fmt.Sprintf("%d:%d+%d", n.id.Client, n.id.Clock, n.length)
		if n.deleted() {
			s += "D"
		}
		if n.countable() {
			s += "C"
		}
		switch c := n.content.(type) {
		case *contentFormat:
			s += fmt.Sprintf(" fmt %s=%s", c.key, stringifyJSON(c.value))
		case *contentString:
			s += fmt.Sprintf(" %q", c.str())
		default:
			s += fmt.Sprintf(" %T", c)
		}
		out = append(out, s)
	}
	return out
}
