package yjs

import (
	"errors"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

func TestEditErrors(t *testing.T) {
	d := NewDoc(WithClientID(1))
	arr := d.GetArray("a")
	x := d.GetText("t")
	m := d.GetMap("m")
	x.Insert(0, "abc", nil)
	inserted := NewMap()
	arr.Push(inserted)
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"array insert past end", arr.Insert(5, 1), ErrLengthExceeded},
		{"array delete past end", arr.Delete(0, 3), ErrLengthExceeded},
		{"text insert past end", x.Insert(9, "x", nil), ErrLengthExceeded},
		{"text delete past end", x.Delete(2, 5), ErrLengthExceeded},
		{"type inserted twice", m.Set("again", inserted), nil},
		{"unsupported value", m.Set("ch", make(chan int)), nil},
		{"detached type", NewText().Insert(0, "x", nil), errNotIntegrated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(tc.err, tc.want) {
				t.Fatalf("error %v, want %v", tc.err, tc.want)
			}
		})
	}
	if diff := cmp.Diff(map[string]any{"a": []any{map[string]any{}}, "t": "abc", "m": map[string]any{}},
		d.ToJSON()); diff != "" {
		t.Errorf("document changed by failed edits (-want +got):\n%s", diff)
	}
}

func TestApplyMalformedUpdate(t *testing.T) {
	d := NewDoc(WithClientID(1))
	d.GetText("t").Insert(0, "keep", nil)
	before := d.EncodeStateAsUpdate(nil)
	for _, u := range [][]byte{{}, {1}, {1, 1, 5, 0, 4, 1, 1, 't', 200, 'x'}, {0, 1, 2, 1, 0xff}} {
		if err := d.ApplyUpdate(u, nil); !errors.Is(err, ErrInvalidUpdate) {
			t.Errorf("ApplyUpdate(%x) error = %v, want ErrInvalidUpdate", u, err)
		}
	}
	if diff := cmp.Diff(before, d.EncodeStateAsUpdate(nil)); diff != "" {
		t.Errorf("state changed (-before +after):\n%s", diff)
	}
}

// TestClientIDCollision checks that a document that receives structs
// under its own client id switches to a new id, as yjs does.
func TestClientIDCollision(t *testing.T) {
	a, b := NewDoc(WithClientID(7)), NewDoc(WithClientID(7))
	a.GetText("t").Insert(0, "a", nil)
	if err := b.ApplyUpdate(a.EncodeStateAsUpdate(nil), nil); err != nil {
		t.Fatal(err)
	}
	if b.ClientID() == 7 {
		t.Fatal("client id unchanged after a remote update used it")
	}
	b.GetText("t").Insert(1, "b", nil)
	if err := a.ApplyUpdate(b.EncodeStateAsUpdate(a.StateVector()), nil); err != nil {
		t.Fatal(err)
	}
	if got := a.GetText("t").String(); got != "ab" {
		t.Errorf("text = %q, want %q", got, "ab")
	}
}

func TestObserveAndCancel(t *testing.T) {
	d := NewDoc(WithClientID(1))
	m := d.GetMap("m")
	var got []map[string]KeyChange
	var origins []any
	cancel := m.Observe(func(e *Event) {
		got = append(got, e.Keys())
		origins = append(origins, e.Transaction().Origin)
	})
	d.Transact(func(*Transaction) {
		m.Set("a", 1)
		m.Set("b", 2)
	}, "me")
	m.Set("a", 3)
	m.Delete("b")
	cancel()
	m.Set("c", 4)
	want := []map[string]KeyChange{
		{"a": {"add", Undefined{}}, "b": {"add", Undefined{}}},
		{"a": {"update", 1.0}},
		{"b": {"delete", 2.0}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("key changes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{"me", nil, nil}, origins); diff != "" {
		t.Errorf("origins (-want +got):\n%s", diff)
	}
}

func TestOnUpdateOrigin(t *testing.T) {
	a, b := NewDoc(WithClientID(1)), NewDoc(WithClientID(2))
	var origins []any
	b.OnUpdate(func(u []byte, origin any, _ *Transaction) { origins = append(origins, origin) })
	a.OnUpdate(func(u []byte, _ any, _ *Transaction) { b.ApplyUpdate(u, "from-a") })
	a.GetText("t").Insert(0, "hi", nil)
	a.GetText("t").Delete(0, 1)
	if diff := cmp.Diff([]any{"from-a", "from-a"}, origins); diff != "" {
		t.Errorf("origins (-want +got):\n%s", diff)
	}
	if got := b.GetText("t").String(); got != "i" {
		t.Errorf("text = %q, want %q", got, "i")
	}
}

func TestSubdocRoundTrip(t *testing.T) {
	d := NewDoc(WithClientID(1))
	sd := NewSubdoc("guid-1")
	sd.AutoLoad = true
	sd.Meta = "m"
	if err := d.GetMap("docs").Set("one", sd); err != nil {
		t.Fatal(err)
	}
	other := NewDoc(WithClientID(2))
	if err := other.ApplyUpdate(d.EncodeStateAsUpdate(nil), nil); err != nil {
		t.Fatal(err)
	}
	v, _ := other.GetMap("docs").Get("one")
	got, ok := v.(*Subdoc)
	if !ok {
		t.Fatalf("value is %T, want *Subdoc", v)
	}
	want := &Subdoc{GUID: "guid-1", GC: true, AutoLoad: true, Meta: "m"}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(Subdoc{}), cmpIgnoreItem); diff != "" {
		t.Errorf("subdocument (-want +got):\n%s", diff)
	}
}

var cmpIgnoreItem = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".item" }, cmp.Ignore())

func TestNestedTypeHandleStaysValid(t *testing.T) {
	d := NewDoc(WithClientID(1))
	cell := NewMap()
	src := NewText()
	d.GetArray("cells").Push(cell)
	cell.Set("source", src)
	src.Insert(0, "x = 1", nil)
	v, _ := d.GetArray("cells").Get(0)
	if v != any(cell) {
		t.Errorf("Get returned %p, want the inserted %p", v, cell)
	}
	want := map[string]any{"cells": []any{map[string]any{"source": "x = 1"}}}
	if diff := cmp.Diff(want, d.ToJSON()); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}

// TestV2RoundTripOfAllContent converts the final state of every fixture to
// V2 and back and requires the same document.
func TestV2RoundTripOfAllContent(t *testing.T) {
	for _, sc := range loadFixtures(t) {
		for _, p := range sc.Peers {
			v1 := mustHex(t, sc.Final[p.Name].Update)
			v2, err := ConvertUpdateV1ToV2(v1)
			if err != nil {
				t.Fatalf("%s/%s: %v", sc.Name, p.Name, err)
			}
			a, b := NewDoc(WithClientID(1), WithGC(false)), NewDoc(WithClientID(1), WithGC(false))
			if err := a.ApplyUpdate(v1, nil); err != nil {
				t.Fatal(err)
			}
			if err := b.ApplyUpdateV2(v2, nil); err != nil {
				t.Fatalf("%s/%s: applying converted V2: %v", sc.Name, p.Name, err)
			}
			if diff := cmp.Diff(a.EncodeStateAsUpdate(nil), b.EncodeStateAsUpdate(nil)); diff != "" {
				t.Errorf("%s/%s: state differs after V2 round trip", sc.Name, p.Name)
			}
		}
	}
}

// TestValuesDoNotShareTheCallersMemory sets map keys and Any values that
// are substrings of one large string, as a parser that makes no copies
// returns them. The doc must hold copies: a substring kept would keep the
// whole string alive.
func TestValuesDoNotShareTheCallersMemory(t *testing.T) {
	big := strings.Repeat("x", 1<<16) + "keyvalueinnerlist"
	start := uintptr(unsafe.Pointer(unsafe.StringData(big)))
	end := start + uintptr(len(big))
	shares := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		return len(s) > 0 && p >= start && p < end
	}
	sub := func(s string) string {
		i := strings.Index(big, s)
		return big[i : i+len(s)]
	}

	d := NewDoc(WithClientID(1))
	m := d.GetMap("m")
	if err := m.Set(sub("key"), sub("value")); err != nil {
		t.Fatal(err)
	}
	nested := map[string]any{sub("inner"): []any{sub("list")}}
	if err := d.GetArray("a").Push(nested); err != nil {
		t.Fatal(err)
	}

	if k := m.b.mapItem("key").parentSub; shares(k) {
		t.Errorf("map key %q shares the caller's string", k)
	}
	if v, _ := m.Get("key"); shares(v.(string)) {
		t.Errorf("map value %q shares the caller's string", v)
	}
	v, _ := d.GetArray("a").Get(0)
	obj := v.(Object)
	for _, f := range obj.Fields {
		if shares(f.Key) {
			t.Errorf("object key %q shares the caller's string", f.Key)
		}
		if s := f.Value.([]any)[0].(string); shares(s) {
			t.Errorf("list element %q shares the caller's string", s)
		}
	}
}
