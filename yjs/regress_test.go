package yjs

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jupygo/jupygo/yjs/lib0"
)

// Updates with delete ranges that end past 2^53-1 or have no length.
const (
	// V2: client 100 deletes 1 at 2^52, then 1 at 2^53+1.
	hugeDeleteV2 = "000000000000010000000000016402808080808080800800808080808080800800"
	// V1: client 100 deletes 2^53-1 units at 1, then at 2^53-1.
	hugeDeleteV1 = "0001640201ffffffffffffff0fffffffffffffff0fffffffffffffff0f"
	// V1: client 100 deletes 0 units at clock 3.
	zeroDeleteV1 = "000164010300"
	// V2: client 5 declares 2^40 GC structs of length 1: the info column
	// repeats GC forever and the length column holds a run of 2^40 ones.
	structCountBombV2 = "00 00 0105 00 00 0100 0100 00 00 07418080808080 20 01 808080808020 00 00"
	// V2: the same with 1,048,572 GC structs, within the struct budget.
	gcRunV2 = "00 00 0105 00 00 0100 0100 00 00 07418080808080 20 01 fcff3f 00 00"
)

func TestDeleteRangePastMaxSafeRejected(t *testing.T) {
	tests := []struct {
		name  string
		input string
		v2    bool
		text  string // content of "t" before the update
	}{
		{"v2 sum of clocks", hugeDeleteV2, true, ""},
		{"v1 on text", hugeDeleteV1, false, "hello"},
		{"v1 on empty doc", hugeDeleteV1, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDoc(WithClientID(1))
			if tt.text != "" {
				d.GetText("t").Insert(0, tt.text, nil)
			}
			before := d.EncodeStateAsUpdate(nil)
			apply := d.ApplyUpdate
			if tt.v2 {
				apply = d.ApplyUpdateV2
			}
			err := apply(unhex(t, tt.input), nil)
			if !errors.Is(err, ErrInvalidUpdate) {
				t.Fatalf("apply: got %v, want ErrInvalidUpdate", err)
			}
			if d.HasPending() {
				t.Error("rejected update left pending state")
			}
			if diff := cmp.Diff(before, d.EncodeStateAsUpdate(nil)); diff != "" {
				t.Errorf("state changed (-before +after):\n%s", diff)
			}
			if err := NewDoc().ApplyUpdateV2(d.EncodeStateAsUpdateV2(nil), nil); err != nil {
				t.Errorf("re-applying V2 state: %v", err)
			}
			if tt.v2 {
				if _, err := ConvertUpdateV2ToV1(unhex(t, tt.input)); !errors.Is(err, ErrInvalidUpdate) {
					t.Errorf("convert: got %v, want ErrInvalidUpdate", err)
				}
			} else if _, err := MergeUpdates(unhex(t, tt.input), []byte{0, 0}); !errors.Is(err, ErrInvalidUpdate) {
				t.Errorf("merge: got %v, want ErrInvalidUpdate", err)
			}
		})
	}
}

func TestDeleteSetPastMaxSafeRejected(t *testing.T) {
	// The delete set of hugeDeleteV1, without the empty struct part.
	if _, err := DecodeDeleteSet(unhex(t, hugeDeleteV1)[1:]); err == nil {
		t.Error("DecodeDeleteSet accepted a range ending past 2^53-1")
	}
}

func TestZeroLengthDeleteDropped(t *testing.T) {
	tests := []struct {
		name string
		text string
	}{
		{"empty doc", ""},
		{"doc with text", "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDoc(WithClientID(1))
			if tt.text != "" {
				d.GetText("t").Insert(0, tt.text, nil)
			}
			before := d.EncodeStateAsUpdate(nil)
			if err := d.ApplyUpdate(unhex(t, zeroDeleteV1), nil); err != nil {
				t.Fatalf("apply: %v", err)
			}
			if d.HasPending() {
				t.Error("zero-length delete kept as pending")
			}
			if diff := cmp.Diff(before, d.EncodeStateAsUpdate(nil)); diff != "" {
				t.Errorf("state changed (-before +after):\n%s", diff)
			}
			ds, err := DecodeDeleteSet(unhex(t, zeroDeleteV1)[1:])
			if err != nil {
				t.Fatalf("DecodeDeleteSet: %v", err)
			}
			if diff := cmp.Diff(DeleteSet{}, ds); diff != "" {
				t.Errorf("delete set (-want +got):\n%s", diff)
			}
		})
	}
}

// manyDeletedStructsV2 returns the V2 state of a text after n inserts of
// "a" at position 0 and a delete of everything: n deleted items in a few
// bytes.
func manyDeletedStructsV2(n int) []byte {
	d := NewDoc(WithClientID(7))
	text := d.GetText("t")
	for range n {
		text.Insert(0, "a", nil)
	}
	text.Delete(0, n)
	return d.EncodeStateAsUpdateV2(nil)
}

func TestV2ManyStructsInFewBytes(t *testing.T) {
	tests := []struct {
		name    string
		structs int
	}{
		{"1000 structs", 1000},
		{"100000 structs", 100000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v2 := manyDeletedStructsV2(tt.structs)
			if len(v2) >= tt.structs {
				t.Fatalf("%d structs took %d bytes; the test needs fewer bytes than structs", tt.structs, len(v2))
			}
			d := NewDoc(WithClientID(1))
			if err := d.ApplyUpdateV2(v2, nil); err != nil {
				t.Fatalf("ApplyUpdateV2: %v", err)
			}
			if !bytes.Equal(d.EncodeStateAsUpdateV2(nil), v2) {
				t.Error("re-encoded V2 state differs")
			}
			v1, err := ConvertUpdateV2ToV1(v2)
			if err != nil {
				t.Fatalf("ConvertUpdateV2ToV1: %v", err)
			}
			if diff := cmp.Diff(d.EncodeStateAsUpdate(nil), v1); diff != "" {
				t.Errorf("converted V1 differs from the V1 state (-want +got):\n%s", diff)
			}
			if _, err := MergeUpdatesV2(v2, v2); err != nil {
				t.Errorf("MergeUpdatesV2: %v", err)
			}
		})
	}
}

func TestV2StructCountBomb(t *testing.T) {
	in := unhex(t, structCountBombV2)
	err := NewDoc().ApplyUpdateV2(in, nil)
	if !errors.Is(err, ErrInvalidUpdate) {
		t.Fatalf("got %v, want ErrInvalidUpdate", err)
	}
}

// nestedMaps returns the state of a document whose root map "m" holds a
// chain of depth maps, each under the key "k" of the one above.
func nestedMaps(depth int) []byte {
	d := NewDoc(WithClientID(3))
	d.Transact(func(*Transaction) {
		m := d.GetMap("m")
		for range depth {
			n := NewMap()
			m.Set("k", n)
			m = n
		}
		m.Set("leaf", 1)
	}, nil)
	return d.EncodeStateAsUpdate(nil)
}

func TestDeeplyNestedTypes(t *testing.T) {
	const depth = 20000
	d := NewDoc(WithClientID(1))
	var paths int
	d.GetMap("m").ObserveDeep(func(evs []*Event) {
		for _, e := range evs {
			paths = max(paths, len(e.Path()))
		}
	})

	if err := d.ApplyUpdate(nestedMaps(depth), nil); err != nil {
		t.Fatalf("ApplyUpdate: %v", err)
	}
	if paths != 0 {
		t.Errorf("longest event path %d, want 0: only the root changed", paths)
	}
	if err := NewDoc().ApplyUpdateV2(d.EncodeStateAsUpdateV2(nil), nil); err != nil {
		t.Fatalf("re-applying V2 state: %v", err)
	}

	js := d.GetMap("m").ToJSON()
	for range depth {
		js = js["k"].(map[string]any)
	}
	if js["leaf"] != 1.0 {
		t.Errorf("leaf = %v, want 1", js["leaf"])
	}

	if err := d.GetMap("m").Delete("k"); err != nil {
		t.Fatal(err)
	}
	if err := NewDoc().ApplyUpdate(d.EncodeStateAsUpdate(nil), nil); err != nil {
		t.Fatalf("re-applying state after the delete: %v", err)
	}
}

func TestValueNestedPastMaxDepthRejected(t *testing.T) {
	// A map entry whose value is an array nested MaxDepth+1 deep: the Any
	// encoding of [[...[1]...]] is 117 1 per level, then 125 1.
	deep := bytes.Repeat([]byte{117, 1}, lib0.MaxDepth+1)
	d := NewDoc(WithClientID(1))
	d.GetMap("m").Set("k", 0)
	u := d.EncodeStateAsUpdate(nil)
	i := bytes.LastIndex(u, []byte{125, 0})
	bad := append(append(append([]byte(nil), u[:i]...), deep...), u[i:]...)
	if err := NewDoc().ApplyUpdate(bad, nil); !errors.Is(err, ErrInvalidUpdate) {
		t.Errorf("got %v, want ErrInvalidUpdate", err)
	}
	ok := append(append(append([]byte(nil), u[:i]...), deep[2:]...), u[i:]...)
	if err := NewDoc().ApplyUpdate(ok, nil); err != nil {
		t.Errorf("value nested MaxDepth deep: %v", err)
	}
}

// TestV2GCRunAllocation applies a 26-byte update declaring a million GC
// structs: the decoder merges the run as it reads it, so memory stays
// small, and the document ends as yjs's does.
func TestV2GCRunAllocation(t *testing.T) {
	in := unhex(t, gcRunV2)
	d := NewDoc(WithClientID(1))
	var err error
	if n := allocatedBy(func() { err = d.ApplyUpdateV2(in, nil) }); n > 2<<20 {
		t.Errorf("applying %d bytes allocated %d bytes, want under 2 MB", len(in), n)
	}
	if err != nil {
		t.Fatalf("ApplyUpdateV2: %v", err)
	}
	if got := d.StateVector()[5]; got != 1048572 {
		t.Errorf("state of client 5 = %d, want 1048572", got)
	}

	o := startOracle(t)
	o.call(t, map[string]any{"op": "new", "doc": "gcrun", "client": 1}, nil)
	defer o.call(t, map[string]any{"op": "drop", "doc": "gcrun"}, nil)
	o.call(t, map[string]any{"op": "apply", "doc": "gcrun", "update": hexOf(in), "v2": true}, nil)
	var st peerState
	o.call(t, map[string]any{"op": "state", "doc": "gcrun"}, &st)
	if diff := cmp.Diff(st.Update, hexOf(d.EncodeStateAsUpdate(nil))); diff != "" {
		t.Errorf("encoded state (-yjs +go):\n%s", diff)
	}
	if diff := cmp.Diff(st.UpdateV2, hexOf(d.EncodeStateAsUpdateV2(nil))); diff != "" {
		t.Errorf("encoded V2 state (-yjs +go):\n%s", diff)
	}
}
