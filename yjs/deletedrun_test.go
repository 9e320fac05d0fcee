package yjs

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// rawItem returns a struct as an update writes it: with origin, right
// origin, or else the root named parent.
func rawItem(client, clock uint64, c content, origin, right *ID, parent string) *item {
	it := &item{id: ID{client, clock}, content: c, length: c.length()}
	if origin != nil {
		it.origin = *origin
		it.flags |= flagHasOrigin
	}
	if right != nil {
		it.rightOrigin = *right
		it.flags |= flagHasRightOrigin
	}
	if origin == nil && right == nil {
		it.parent = &branch{rootName: parent}
	}
	if c.countable() {
		it.flags |= flagCountable
	}
	return it
}

// structsUpdate writes blocks of structs, one block per client, and an empty
// delete set.
func structsUpdate(v2 bool, blocks ...[]*item) []byte {
	e := newUpdateEncoder(v2)
	e.rest().WriteVarUint(uint64(len(blocks)))
	for _, b := range blocks {
		writeStructSlice(e, b, b[0].id.Client)
	}
	writeDeleteSet(e, DeleteSet{})
	return e.bytes()
}

// deletedRun returns deleted items of client from clock on, one per
// length, each after the one before: the first has origin and right as
// origins, or lies at the start of the root text "t" when both are nil.
func deletedRun(client, clock uint64, lengths []int, origin, right *ID) []*item {
	var out []*item
	for i, n := range lengths {
		o := origin
		if i > 0 {
			o = &ID{client, clock - 1}
		}
		out = append(out, rawItem(client, clock, &contentDeleted{n}, o, right, "t"))
		clock += uint64(n)
	}
	return out
}

// TestV2DeletedRunAllocation applies a V2 update of a few dozen bytes
// declaring a million deleted items, each after the one before. yjs
// merges them into one item once integrated; the decoder joins them as it
// reads them, so memory stays small.
func TestV2DeletedRunAllocation(t *testing.T) {
	const n = 1 << 20
	lengths := make([]int, n)
	for i := range lengths {
		lengths[i] = 1
	}
	in := structsUpdate(true, deletedRun(5, 0, lengths, nil, nil))
	if len(in) > 64 {
		t.Fatalf("update has %d bytes, want a short one", len(in))
	}

	d := NewDoc(WithClientID(1))
	var err error
	if got := allocatedBy(func() { err = d.ApplyUpdateV2(in, nil) }); got > 2<<20 {
		t.Errorf("applying %d bytes allocated %d bytes, want under 2 MB", len(in), got)
	}
	if err != nil {
		t.Fatalf("ApplyUpdateV2: %v", err)
	}
	if got := d.StateVector()[5]; got != n {
		t.Errorf("state of client 5 = %d, want %d", got, n)
	}

	if got := allocatedBy(func() { _, err = MergeUpdatesV2(in, in) }); got > 8<<20 {
		t.Errorf("merging %d bytes allocated %d bytes, want under 8 MB", len(in), got)
	}
	if err != nil {
		t.Fatalf("MergeUpdatesV2: %v", err)
	}
}

// allocatedBy returns the bytes f allocates.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestDeletedRunsMatchYjs applies runs of deleted items, joined by the
// decoder, in several orders and shapes, and compares the states, the
// pending structs they encode and the doc-free functions with yjs.
func TestDeletedRunsMatchYjs(t *testing.T) {
	o := startOracle(t)
	base := NewDoc(WithClientID(9))
	base.GetText("t").Insert(0, "hello", nil)
	baseUpdate := base.EncodeStateAsUpdate(nil)

	lengths := []int{1, 3, 1, 1, 2, 2, 2, 1}
	after := &ID{9, 1}
	before := &ID{9, 2}
	runs := map[string][]*item{
		"root":        deletedRun(5, 0, lengths, nil, nil),
		"origin":      deletedRun(5, 0, lengths, after, nil),
		"both":        deletedRun(5, 0, lengths, after, before),
		"right":       deletedRun(5, 0, lengths, nil, before),
		"missing":     deletedRun(5, 0, lengths, &ID{8, 0}, nil),
		"later clock": deletedRun(5, 4, lengths, after, before),
	}
	// Concurrent items with an origin inside the run split it, before or
	// after the next item depending on the client.
	inside := func(client uint64) []*item {
		return []*item{rawItem(client, 0, newContentString("x"), &ID{5, 3}, before, "")}
	}
	// A run whose items do not all continue the one before: yjs keeps them
	// apart.
	broken := deletedRun(5, 0, lengths, after, before)
	broken[3].origin = ID{9, 0}
	broken[5].flags &^= flagHasRightOrigin
	broken[6].rightOrigin = ID{9, 3}

	type scenario struct {
		name    string
		gc      bool
		v2      bool
		updates [][]byte
	}
	var scenarios []scenario
	for _, name := range []string{"root", "origin", "both", "right", "missing", "later clock"} {
		for _, v2 := range []bool{false, true} {
			run := structsUpdate(v2, runs[name])
			for _, gc := range []bool{true, false} {
				tag := fmt.Sprintf("%s/v2=%v/gc=%v", name, v2, gc)
				scenarios = append(scenarios,
					scenario{tag + "/base first", gc, v2, [][]byte{encodeAs(t, baseUpdate, v2), run}},
					scenario{tag + "/run first", gc, v2, [][]byte{run, encodeAs(t, baseUpdate, v2)}},
				)
			}
		}
	}
	for _, v2 := range []bool{false, true} {
		tag := fmt.Sprintf("v2=%v", v2)
		scenarios = append(scenarios,
			scenario{tag + "/inside low", true, v2, [][]byte{encodeAs(t, baseUpdate, v2), structsUpdate(v2, runs["both"], inside(3))}},
			scenario{tag + "/inside high", true, v2, [][]byte{encodeAs(t, baseUpdate, v2), structsUpdate(v2, runs["both"], inside(7))}},
			scenario{tag + "/inside later", false, v2, [][]byte{structsUpdate(v2, inside(3)), structsUpdate(v2, runs["both"]), encodeAs(t, baseUpdate, v2)}},
			scenario{tag + "/broken", true, v2, [][]byte{encodeAs(t, baseUpdate, v2), structsUpdate(v2, broken)}},
			scenario{tag + "/broken pending", false, v2, [][]byte{structsUpdate(v2, broken), encodeAs(t, baseUpdate, v2)}},
			scenario{tag + "/twice", true, v2, [][]byte{structsUpdate(v2, runs["later clock"]), structsUpdate(v2, runs["root"]), encodeAs(t, baseUpdate, v2)}},
		)
	}
	roots := map[string]string{"t": "text"}
	for i, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			name := fmt.Sprintf("run%d", i)
			d := NewDoc(WithClientID(1), WithGC(sc.gc))
			o.call(t, map[string]any{"op": "new", "doc": name, "client": 1, "gc": sc.gc}, nil)
			defer o.call(t, map[string]any{"op": "drop", "doc": name}, nil)
			for step, u := range sc.updates {
				v2 := sc.v2
				apply := d.ApplyUpdate
				if v2 {
					apply = d.ApplyUpdateV2
				}
				if err := apply(u, nil); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
				o.call(t, map[string]any{"op": "apply", "doc": name, "update": hexOf(u), "v2": v2}, nil)
				var st peerState
				o.call(t, map[string]any{"op": "state", "doc": name, "roots": roots}, &st)
				if diff := cmp.Diff(st.Update, hexOf(d.EncodeStateAsUpdate(nil))); diff != "" {
					t.Errorf("step %d: state (-yjs +go):\n%s", step, diff)
				}
				if diff := cmp.Diff(st.UpdateV2, hexOf(d.EncodeStateAsUpdateV2(nil))); diff != "" {
					t.Errorf("step %d: V2 state (-yjs +go):\n%s", step, diff)
				}
				if diff := cmp.Diff(st.SV, hexOf(EncodeStateVector(d.StateVector()))); diff != "" {
					t.Errorf("step %d: state vector (-yjs +go):\n%s", step, diff)
				}
				json, _ := docJSON(d, roots)
				if diff := cmp.Diff(canonicalJSON(st.JSON), canonicalJSON(json)); diff != "" {
					t.Errorf("step %d: JSON (-yjs +go):\n%s", step, diff)
				}
			}
			compareDocFree(t, o, sc.updates, sc.v2)
		})
	}
}

func encodeAs(t *testing.T, v1 []byte, v2 bool) []byte {
	t.Helper()
	if !v2 {
		return v1
	}
	out, err := ConvertUpdateV1ToV2(v1)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// compareDocFree compares merging, diffing, V2 to V1 conversion and the
// state vectors of V1 updates, all in one format, with yjs.
func compareDocFree(t *testing.T, o *oracle, updates [][]byte, v2 bool) {
	t.Helper()
	var hexes []string
	for _, u := range updates {
		hexes = append(hexes, hexOf(u))
	}
	var reply struct {
		Update string `json:"update"`
		SV     string `json:"sv"`
	}
	mergeOp, diffOp, merge, diff := "merge", "diff", MergeUpdates, DiffUpdate
	if v2 {
		mergeOp, diffOp, merge, diff = "mergeV2", "diffV2", MergeUpdatesV2, DiffUpdateV2
	}
	o.call(t, map[string]any{"op": mergeOp, "updates": hexes}, &reply)
	got, err := merge(updates...)
	if err != nil {
		t.Fatalf("merge: %v", err)
	}
	if d := cmp.Diff(reply.Update, hexOf(got)); d != "" {
		t.Errorf("merged (-yjs +go):\n%s", d)
	}
	for _, u := range updates {
		for _, clock := range []uint64{0, 1, 2, 4, 5, 7, 9, 14} {
			sv := EncodeStateVector(StateVector{5: clock, 9: 2})
			o.call(t, map[string]any{"op": diffOp, "update": hexOf(u), "sv": hexOf(sv)}, &reply)
			got, err := diff(u, sv)
			if err != nil {
				t.Fatalf("diff: %v", err)
			}
			if d := cmp.Diff(reply.Update, hexOf(got)); d != "" {
				t.Errorf("diff from clock %d (-yjs +go):\n%s", clock, d)
			}
		}
		if !v2 {
			o.call(t, map[string]any{"op": "svFromUpdate", "update": hexOf(u)}, &reply)
			sv, err := EncodeStateVectorFromUpdate(u)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(reply.SV, hexOf(sv)); d != "" {
				t.Errorf("state vector (-yjs +go):\n%s", d)
			}
		}
		if v2 {
			o.call(t, map[string]any{"op": "toV1", "update": hexOf(u)}, &reply)
			got, err := ConvertUpdateV2ToV1(u)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(reply.Update, hexOf(got)); d != "" {
				t.Errorf("V2 to V1 (-yjs +go):\n%s", d)
			}
		}
	}
}
