package yjs

import (
	"bytes"
	"testing"
)

// TestAppendStateAsUpdate checks that appending gives the prefix and then
// the bytes of EncodeStateAsUpdate, with and without pending structs, and
// again once the document has recorded the size of its state.
func TestAppendStateAsUpdate(t *testing.T) {
	src := NewDoc(WithClientID(1))
	text := src.GetText("t")
	var updates [][]byte
	src.OnUpdate(func(u []byte, _ any, _ *Transaction) { updates = append(updates, u) })
	for i := range 3 {
		if err := text.Insert(i, "abc", nil); err != nil {
			t.Fatal(err)
		}
	}

	d := NewDoc(WithClientID(2))
	if err := d.ApplyUpdate(updates[0], nil); err != nil {
		t.Fatal(err)
	}
	check := func(what string) {
		t.Helper()
		for _, sv := range []StateVector{nil, {1: 1}} {
			want := d.EncodeStateAsUpdate(sv)
			got := d.AppendStateAsUpdate([]byte("prefix"), sv)
			if !bytes.Equal(got, append([]byte("prefix"), want...)) {
				t.Errorf("%s, state vector %v: got %x, want prefix and %x", what, sv, got, want)
			}
		}
	}
	check("no pending structs")
	if err := d.ApplyUpdate(updates[2], nil); err != nil {
		t.Fatal(err)
	}
	if !d.HasPending() {
		t.Fatal("the third update does not wait for the second")
	}
	check("pending structs")
	if err := d.ApplyUpdate(updates[1], nil); err != nil {
		t.Fatal(err)
	}
	check("pending structs applied")
}
