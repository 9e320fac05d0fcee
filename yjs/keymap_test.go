package yjs

import (
	"fmt"
	"slices"
	"testing"
)

// TestMapManyKeys sets more keys than a type scans without an index, then
// overwrites and deletes some, and checks the values locally and in a
// document that applied the state.
func TestMapManyKeys(t *testing.T) {
	const n = 3 * keyMapScan
	d := NewDoc(WithClientID(1))
	m := d.GetMap("m")
	for i := range n {
		if err := m.Set(fmt.Sprintf("k%02d", i), float64(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i += 3 {
		if err := m.Set(fmt.Sprintf("k%02d", i), "again"); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Delete("k01"); err != nil {
		t.Fatal(err)
	}

	remote := NewDoc(WithClientID(2))
	if err := remote.ApplyUpdate(d.EncodeStateAsUpdate(nil), nil); err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]*Doc{"local": d, "remote": remote} {
		got := doc.GetMap("m")
		if got.Len() != n-1 {
			t.Errorf("%s: %d keys, want %d", name, got.Len(), n-1)
		}
		if _, ok := got.Get("k01"); ok {
			t.Errorf("%s: deleted key k01 is set", name)
		}
		for i := 0; i < n; i++ {
			if i == 1 {
				continue
			}
			key := fmt.Sprintf("k%02d", i)
			var want any = float64(i)
			if i%3 == 0 {
				want = "again"
			}
			if v, ok := got.Get(key); !ok || v != want {
				t.Errorf("%s: %s = %v (set: %v), want %v", name, key, v, ok, want)
			}
		}
		if keys := got.Keys(); !slices.IsSorted(keys) || len(keys) != n-1 {
			t.Errorf("%s: keys %v, want %d sorted keys", name, keys, n-1)
		}
	}
	if got, want := len(m.b.mapItems()), n; got != want {
		t.Errorf("%d key entries, want %d: one per key ever set", got, want)
	}
	if m.b.m.index == nil {
		t.Errorf("no index after %d keys", n)
	}
}
