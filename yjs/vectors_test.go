package yjs

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

// The byte vectors were produced by yjs 13.6.33 under node.
func TestVectorsLocalEdits(t *testing.T) {
	tests := []struct {
		name   string
		client uint64
		edit   func(*Doc)
		update string
		sv     string
	}{
		{"text insert", 1, func(d *Doc) { d.GetText("source").Insert(0, "hi", nil) },
			"01 01 01 00 04 01 06 736f75726365 02 6869 00", "01 01 02"},
		{"astral text", 2, func(d *Doc) { d.GetText("source").Insert(0, "a😀", nil) },
			"01 01 02 00 04 01 06 736f75726365 05 61f09f9880 00", "01 02 03"},
		{"map numbers", 3, func(d *Doc) {
			m := d.GetMap("meta")
			m.Set("nbformat", 4)
			m.Set("x", 1.5)
		}, "01 02 03 00 28 01 04 6d657461 08 6e62666f726d6174 01 7d04 28 01 04 6d657461 01 78 01 7c 3fc00000 00",
			"01 03 02"},
		{"delete middle", 4, func(d *Doc) {
			x := d.GetText("source")
			x.Insert(0, "abc", nil)
			x.Delete(1, 1)
		}, "01 03 04 00 04 01 06 736f75726365 01 61 81 04 00 01 84 04 01 01 63 01 04 01 01 01",
			"01 04 03"},
		{"nested types", 5, func(d *Doc) {
			cell := NewMap()
			d.GetArray("cells").Insert(0, cell)
			src := NewText()
			cell.Set("source", src)
			src.Insert(0, "x", nil)
		}, "01 03 05 00 07 01 05 63656c6c73 01 27 00 05 00 06 736f75726365 02 04 00 05 01 01 78 00",
			"01 05 03"},
		{"map overwrite", 7, func(d *Doc) {
			m := d.GetMap("state")
			m.Set("dirty", true)
			m.Set("dirty", false)
		}, "01 02 07 00 21 01 05 7374617465 05 6469727479 01 a8 07 00 01 79 01 07 01 00 01",
			"01 07 02"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDoc(WithClientID(tc.client))
			d.Transact(func(*Transaction) { tc.edit(d) }, nil)
			if diff := cmp.Diff(hexOf(unhex(t, tc.update)), hexOf(d.EncodeStateAsUpdate(nil))); diff != "" {
				t.Errorf("update (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(hexOf(unhex(t, tc.sv)), hexOf(d.EncodeStateVector())); diff != "" {
				t.Errorf("state vector (-want +got):\n%s", diff)
			}
			other := NewDoc(WithClientID(99))
			declareRoots(d, other)
			if err := other.ApplyUpdate(unhex(t, tc.update), nil); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(d.ToJSON(), other.ToJSON()); diff != "" {
				t.Errorf("decoded JSON (-local +decoded):\n%s", diff)
			}
			if diff := cmp.Diff(hexOf(unhex(t, tc.update)), hexOf(other.EncodeStateAsUpdate(nil))); diff != "" {
				t.Errorf("re-encoded update (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVectorsDiffAndMerge(t *testing.T) {
	d := NewDoc(WithClientID(1))
	d.GetText("source").Insert(0, "hello", nil)
	got := d.EncodeStateAsUpdate(StateVector{1: 2})
	if diff := cmp.Diff("01010102840101036c6c6f00", hexOf(got)); diff != "" {
		t.Errorf("update from sv {1:2} (-want +got):\n%s", diff)
	}

	a := NewDoc(WithClientID(1))
	a.GetText("source").Insert(0, "ac", nil)
	b := NewDoc(WithClientID(2))
	b.ApplyUpdate(a.EncodeStateAsUpdate(nil), nil)
	b.GetText("source").Insert(1, "b", nil)
	got = b.EncodeStateAsUpdate(StateVector{1: 2})
	if diff := cmp.Diff("01010200c401000101016200", hexOf(got)); diff != "" {
		t.Errorf("concurrent insert (-want +got):\n%s", diff)
	}

	f1 := unhex(t, "01 01 01 00 04 01 06 736f75726365 02 6869 00")
	f2 := unhex(t, "01 01 02 00 04 01 06 736f75726365 05 61f09f9880 00")
	merged, err := MergeUpdates(f1, f2)
	if err != nil {
		t.Fatal(err)
	}
	want := "02 01 02 00 04 01 06 736f75726365 05 61f09f9880 01 01 00 04 01 06 736f75726365 02 6869 00"
	if diff := cmp.Diff(hexOf(unhex(t, want)), hexOf(merged)); diff != "" {
		t.Errorf("merge (-want +got):\n%s", diff)
	}
}

func TestVectorsConcurrency(t *testing.T) {
	a, b := NewDoc(WithClientID(10)), NewDoc(WithClientID(20))
	a.GetText("t").Insert(0, "A", nil)
	b.GetText("t").Insert(0, "B", nil)
	a.GetMap("m").Set("k", "from10")
	b.GetMap("m").Set("k", "from20")
	ua, ub := a.EncodeStateAsUpdate(nil), b.EncodeStateAsUpdate(nil)
	a.ApplyUpdate(ub, nil)
	b.ApplyUpdate(ua, nil)
	for _, d := range []*Doc{a, b} {
		want := map[string]any{"t": "AB", "m": map[string]any{"k": "from20"}}
		if diff := cmp.Diff(want, d.ToJSON()); diff != "" {
			t.Errorf("client %d (-want +got):\n%s", d.ClientID(), diff)
		}
	}
}

// declareRoots gives dst the root types of src with their kinds, as an
// application declares the types it reads.
func declareRoots(src, dst *Doc) {
	for _, name := range src.RootNames() {
		dst.mustGet(name, src.share[name].kind)
	}
}

func TestVectorEmptyDoc(t *testing.T) {
	d := NewDoc(WithClientID(1))
	if got := hexOf(d.EncodeStateAsUpdate(nil)); got != "0000" {
		t.Errorf("empty update = %s, want 0000", got)
	}
	if got := hexOf(d.EncodeStateVector()); got != "00" {
		t.Errorf("empty state vector = %s, want 00", got)
	}
}
