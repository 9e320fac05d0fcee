package yjs

import (
	"errors"
	"slices"
	"testing"
)

// captured runs edit in one transaction of d and returns its update.
func captured(t testing.TB, d *Doc, edit func()) []byte {
	t.Helper()
	var update []byte
	cancel := d.OnUpdate(func(u []byte, _ any, _ *Transaction) { update = u })
	defer cancel()
	d.Transact(func(*Transaction) { edit() }, nil)
	return update
}

func syncedPeer(t testing.TB, d *Doc, client uint64) *Doc {
	t.Helper()
	p := NewDoc(WithClientID(client))
	if err := p.ApplyUpdate(d.EncodeStateAsUpdate(nil), nil); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInspectUpdateParents(t *testing.T) {
	server := NewDoc(WithClientID(1))
	list := server.GetArray("list")
	if err := list.Push(NewMap()); err != nil {
		t.Fatal(err)
	}
	v, _ := list.Get(0)
	if err := v.(*Map).Set("text", NewText()); err != nil {
		t.Fatal(err)
	}
	client := syncedPeer(t, server, 2)
	cv, _ := client.GetArray("list").Get(0)
	cell := cv.(*Map)
	update := captured(t, client, func() {
		txt, _ := cell.Get("text")
		_ = txt.(*Text).Insert(0, "ab", nil) // origin-less: parent by ID
		_ = txt.(*Text).Insert(2, "c", nil)  // parent through its origin
		_ = cell.Set("n", 1.0)               // a key of an existing map
		_ = client.GetArray("list").Push(NewMap())
		nv, _ := client.GetArray("list").Get(1)
		_ = nv.(*Map).Set("k", "v") // a key of a map the update creates
	})

	in, err := server.InspectUpdate(update)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Unresolved) != 0 {
		t.Fatalf("unresolved items: %v", in.Unresolved)
	}
	type where struct {
		path    string
		content ContentKind
	}
	var got []where
	for _, it := range in.Items {
		got = append(got, where{pathOf(it), it.Content})
	}
	want := []where{
		{"list[0].text[]", ContentString},
		{"list[0].n", ContentAny},
		{"list[]", ContentType},
		{"list[new].k", ContentAny},
	}
	if len(got) != len(want) {
		t.Fatalf("items %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("item %d = %v, want %v", i, got[i], want[i])
		}
	}
	if _, ok := server.RootKind("other"); ok {
		t.Error("InspectUpdate created a root")
	}
}

// pathOf writes where an item goes: list elements as [] and, for types
// of the document, their index.
func pathOf(it *UpdateItem) string {
	s := parentPath(it.Parent)
	if it.IsEntry {
		return s + "." + it.Key
	}
	return s + "[]"
}

func parentPath(p *UpdateParent) string {
	if p.Up == nil {
		return p.RootName
	}
	up := parentPath(p.Up)
	if p.IsEntry {
		return up + "." + p.Key
	}
	if i, ok := p.Index(); ok {
		return up + "[" + string(rune('0'+i)) + "]"
	}
	return up + "[new]"
}

func TestInspectUpdateUnresolved(t *testing.T) {
	server := NewDoc(WithClientID(1))
	server.GetText("t")
	client := syncedPeer(t, server, 2)
	_ = client.GetText("t").Insert(0, "hello", nil)
	update := captured(t, client, func() { _ = client.GetText("t").Insert(5, "!", nil) })
	in, err := server.InspectUpdate(update)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Unresolved) != 1 || len(in.Items) != 0 {
		t.Errorf("unresolved %v and items %d, want one unresolved item", in.Unresolved, len(in.Items))
	}

	// Once the doc holds the item as pending, a sync step 2 that carries
	// it again brings nothing new.
	if err := server.ApplyUpdate(update, nil); err != nil {
		t.Fatal(err)
	}
	in, err = server.InspectUpdate(update)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Unresolved) != 0 {
		t.Errorf("pending item reported as unresolved: %v", in.Unresolved)
	}
}

func TestInspectUpdateKnownAndDeleted(t *testing.T) {
	server := NewDoc(WithClientID(1))
	_ = server.GetText("t").Insert(0, "hello", nil)
	client := syncedPeer(t, server, 2)
	update := captured(t, client, func() {
		_ = client.GetText("t").Insert(0, "x", nil)
		_ = client.GetText("t").Delete(0, 1)
	})
	// Items the document already holds are left out.
	in, err := server.InspectUpdate(server.EncodeStateAsUpdate(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Items) != 0 {
		t.Errorf("%d items of the document's own state, want 0", len(in.Items))
	}
	in, err = server.InspectUpdate(update)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range in.Items {
		if !it.Deleted && it.Content != ContentDeleted {
			t.Errorf("item %v is neither deleted nor deleted content", it.ID)
		}
	}
}

func FuzzInspectUpdate(f *testing.F) {
	f.Add([]byte{0, 0})
	for _, s := range fixtureSeeds(f, false)[:40] {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDoc(WithClientID(1))
		_ = d.GetText("text").Insert(0, "abc", nil)
		before := d.EncodeStateAsUpdate(nil)
		if _, err := d.InspectUpdate(b); err != nil {
			return
		}
		if string(d.EncodeStateAsUpdate(nil)) != string(before) {
			t.Fatal("InspectUpdate changed the document")
		}
	})
}

func TestApplyDecodedMatchesApplyUpdate(t *testing.T) {
	src := NewDoc(WithClientID(7))
	update := captured(t, src, func() {
		_ = src.GetText("b").Insert(0, "hello", nil)
		_ = src.GetMap("a").Set("k", 1.0)
		_ = src.GetArray("c").Push("x")
	})

	viaBytes := NewDoc(WithClientID(1))
	if err := viaBytes.ApplyUpdate(update, nil); err != nil {
		t.Fatal(err)
	}
	decoded := NewDoc(WithClientID(1))
	u, err := DecodeUpdate(update)
	if err != nil {
		t.Fatal(err)
	}
	if len(decoded.shareOrder) != 0 {
		t.Fatalf("decoding created root types %v", decoded.shareOrder)
	}
	if _, err := decoded.Inspect(u); err != nil {
		t.Fatal(err)
	}
	if err := decoded.ApplyDecoded(u, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := decoded.EncodeStateAsUpdate(nil), viaBytes.EncodeStateAsUpdate(nil); string(got) != string(want) {
		t.Errorf("state after ApplyDecoded differs from ApplyUpdate:\n got %x\nwant %x", got, want)
	}
	if got, want := decoded.shareOrder, viaBytes.shareOrder; !slices.Equal(got, want) {
		t.Errorf("root types created in order %v, ApplyUpdate created %v", got, want)
	}
	if s := decoded.GetText("b").String(); s != "hello" {
		t.Errorf("text = %q, want hello", s)
	}

	if err := decoded.ApplyDecoded(u, nil); err == nil {
		t.Error("a second ApplyDecoded of one update succeeded")
	}
	if _, err := decoded.Inspect(u); err == nil {
		t.Error("Inspect of an applied update succeeded")
	}
}

func TestDecodeUpdateMalformed(t *testing.T) {
	src := NewDoc(WithClientID(3))
	update := captured(t, src, func() { _ = src.GetText("t").Insert(0, "abc", nil) })
	for n := range len(update) - 1 {
		if _, err := DecodeUpdate(update[:n]); !errors.Is(err, ErrInvalidUpdate) {
			t.Errorf("DecodeUpdate of the first %d of %d bytes: err = %v, want ErrInvalidUpdate", n, len(update), err)
		}
	}
}
