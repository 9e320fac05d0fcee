package yprotocol

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jupygo/jupygo/yjs"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The byte vectors were produced by yjs 13.6.33 and y-protocols 1.0.7.
func TestSyncFrames(t *testing.T) {
	d := yjs.NewDoc(yjs.WithClientID(1))
	d.GetText("source").Insert(0, "hi", nil)
	update := "01 01 01 00 04 01 06 736f75726365 02 6869 00"

	if diff := cmp.Diff(unhex(t, "00 00 03 010102"), SyncStep1Frame(d)); diff != "" {
		t.Errorf("SyncStep1 frame (-want +got):\n%s", diff)
	}
	step2, err := SyncStep2Frame(d, []byte{0})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(unhex(t, "00 01 11 "+update), step2); diff != "" {
		t.Errorf("SyncStep2 frame (-want +got):\n%s", diff)
	}
	empty := yjs.NewDoc(yjs.WithClientID(2))
	if diff := cmp.Diff(unhex(t, "00 00 01 00"), SyncStep1Frame(empty)); diff != "" {
		t.Errorf("empty SyncStep1 frame (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(unhex(t, "00 02 11 "+update), UpdateFrame(unhex(t, update))); diff != "" {
		t.Errorf("update frame (-want +got):\n%s", diff)
	}
}

// TestSyncExchange runs the y-websocket handshake between two documents.
// Each sends SyncStep1, replies to the other's with SyncStep2 and applies
// the reply it gets.
func TestSyncExchange(t *testing.T) {
	a, b := yjs.NewDoc(yjs.WithClientID(1)), yjs.NewDoc(yjs.WithClientID(2))
	a.GetText("t").Insert(0, "from a", nil)
	b.GetMap("m").Set("k", "from b")
	deliver := func(to *yjs.Doc, frame []byte) []byte {
		t.Helper()
		f, err := DecodeFrame(frame)
		if err != nil {
			t.Fatal(err)
		}
		reply, err := HandleSync(to, f.Sync, "remote")
		if err != nil {
			t.Fatal(err)
		}
		return reply
	}
	replyFromB := deliver(b, SyncStep1Frame(a))
	replyFromA := deliver(a, SyncStep1Frame(b))
	if r := deliver(a, replyFromB); r != nil {
		t.Errorf("SyncStep2 got reply %x", r)
	}
	deliver(b, replyFromA)
	for _, d := range []*yjs.Doc{a, b} {
		got := map[string]any{"t": d.GetText("t").String(), "m": d.GetMap("m").ToJSON()}
		want := map[string]any{"t": "from a", "m": map[string]any{"k": "from b"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("client %d (-want +got):\n%s", d.ClientID(), diff)
		}
	}
}

func TestDecodeFrameErrors(t *testing.T) {
	tests := []struct {
		name string
		hex  string
	}{
		{"empty", ""},
		{"unknown frame type", "07"},
		{"unknown sync type", "00 05 00"},
		{"truncated payload", "00 01 05 0102"},
		{"truncated awareness", "01 09 00"},
		{"auth with unknown reason", "02 01 00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeFrame(unhex(t, tc.hex))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeFrame error = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestFrameKinds(t *testing.T) {
	f, err := DecodeFrame(PermissionDeniedFrame("no"))
	if err != nil || f.Type != MessageAuth || f.AuthReason != "no" {
		t.Errorf("auth frame = %+v, %v", f, err)
	}
	f, err = DecodeFrame(QueryAwarenessFrame())
	if err != nil || f.Type != MessageQueryAwareness {
		t.Errorf("query awareness frame = %+v, %v", f, err)
	}
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestAwarenessFrameVector(t *testing.T) {
	a := NewAwareness(1, t0)
	if err := a.SetLocalState(map[string]any{"user": map[string]any{"name": "a"}}, t0); err != nil {
		t.Fatal(err)
	}
	got := AwarenessFrame(a.EncodeUpdate([]uint64{1}))
	want := unhex(t, "01 19 01 01 01 15 7b2275736572223a7b226e616d65223a2261227d7d")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("awareness frame (-want +got):\n%s", diff)
	}
}

type recorded struct {
	change Change
	origin any
}

func TestAwarenessApply(t *testing.T) {
	local := NewAwareness(1, t0)
	remote := NewAwareness(2, t0)
	remote.SetLocalState(map[string]any{"n": 1}, t0)
	var changes, updates []recorded
	local.OnChange(func(c Change, o any) { changes = append(changes, recorded{c, o}) })
	local.OnUpdate(func(c Change, o any) { updates = append(updates, recorded{c, o}) })
	apply := func(update []byte) {
		t.Helper()
		if err := local.ApplyUpdate(update, "conn", t0); err != nil {
			t.Fatal(err)
		}
	}

	apply(remote.EncodeUpdate([]uint64{2}))
	apply(remote.EncodeUpdate([]uint64{2})) // same clock: ignored
	remote.SetLocalState(map[string]any{"n": 1}, t0)
	apply(remote.EncodeUpdate([]uint64{2})) // renewal: update, no change
	remote.SetLocalState(nil, t0)
	apply(remote.EncodeUpdate([]uint64{2})) // null: removed

	want := []recorded{
		{Change{Added: []uint64{2}}, "conn"},
		{Change{Removed: []uint64{2}}, "conn"},
	}
	if diff := cmp.Diff(want, changes, cmp.AllowUnexported(recorded{})); diff != "" {
		t.Errorf("change events (-want +got):\n%s", diff)
	}
	wantUpdates := []recorded{
		{Change{Added: []uint64{2}}, "conn"},
		{Change{Updated: []uint64{2}}, "conn"},
		{Change{Removed: []uint64{2}}, "conn"},
	}
	if diff := cmp.Diff(wantUpdates, updates, cmp.AllowUnexported(recorded{})); diff != "" {
		t.Errorf("update events (-want +got):\n%s", diff)
	}
	if _, ok := local.States()[2]; ok {
		t.Error("state of removed client 2 still present")
	}
}

func TestAwarenessRefusesRemovalOfLocalState(t *testing.T) {
	a := NewAwareness(1, t0)
	clock, _ := a.Clock(1)
	removal := (&Awareness{clientID: 9, states: map[uint64]any{},
		meta: map[uint64]clientMeta{1: {clock: clock + 1}}}).EncodeUpdate([]uint64{1})
	if err := a.ApplyUpdate(removal, "conn", t0); err != nil {
		t.Fatal(err)
	}
	if a.LocalState() == nil {
		t.Fatal("remote null removed the local state")
	}
	if got, _ := a.Clock(1); got != clock+2 {
		t.Errorf("local clock = %d, want %d", got, clock+2)
	}
}

func TestAwarenessTimeout(t *testing.T) {
	a := NewAwareness(1, t0)
	b := NewAwareness(2, t0)
	// A first state has clock 0, which peers ignore; y-protocols clients
	// set their user state at once, with clock 1.
	b.SetLocalState(map[string]any{"user": "b"}, t0)
	a.ApplyUpdate(b.EncodeUpdate([]uint64{2}), "conn", t0)
	var removed []recorded
	a.OnChange(func(c Change, o any) { removed = append(removed, recorded{c, o}) })

	a.Check(t0.Add(OutdatedTimeout / 2))
	if clock, _ := a.Clock(1); clock != 1 {
		t.Errorf("local clock after renewal = %d, want 1", clock)
	}
	if _, ok := a.States()[2]; !ok {
		t.Fatal("client 2 removed before the timeout")
	}
	a.Check(t0.Add(OutdatedTimeout))
	want := []recorded{{Change{Removed: []uint64{2}}, "timeout"}}
	if diff := cmp.Diff(want, removed, cmp.AllowUnexported(recorded{})); diff != "" {
		t.Errorf("timeout events (-want +got):\n%s", diff)
	}
	if a.LocalState() == nil {
		t.Error("local state removed by timeout")
	}
}

func TestAwarenessRemoveStates(t *testing.T) {
	a := NewAwareness(1, t0)
	b := NewAwareness(2, t0)
	b.SetLocalState(map[string]any{"user": "b"}, t0)
	a.ApplyUpdate(b.EncodeUpdate([]uint64{2}), "conn", t0)
	a.RemoveStates([]uint64{2, 3}, "closed", t0)
	if _, ok := a.States()[2]; ok {
		t.Fatal("client 2 still present")
	}
	// A server broadcasts the removal: the entry carries a null state.
	entries, err := DecodeUpdate(a.EncodeUpdate([]uint64{2}))
	if err != nil {
		t.Fatal(err)
	}
	want := []AwarenessEntry{{Client: 2, Clock: 1, State: nil}}
	if diff := cmp.Diff(want, entries); diff != "" {
		t.Errorf("removal entries (-want +got):\n%s", diff)
	}
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add(unhex(f, "00 00 03 010102"))
	f.Add(unhex(f, "00 01 11 01 01 01 00 04 01 06 736f75726365 02 6869 00"))
	f.Add(unhex(f, "01 19 01 01 01 15 7b2275736572223a7b226e616d65223a2261227d7d"))
	f.Add(unhex(f, "02 00 02 6e6f"))
	f.Add([]byte{3})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := DecodeFrame(b)
		if err != nil {
			return
		}
		d := yjs.NewDoc(yjs.WithClientID(1))
		if fr.Type == MessageSync {
			HandleSync(d, fr.Sync, nil)
		}
		if fr.Type == MessageAwareness {
			NewAwareness(1, t0).ApplyUpdate(fr.Awareness, nil, t0)
		}
	})
}

func FuzzAwarenessUpdate(f *testing.F) {
	f.Add(unhex(f, "01 01 01 15 7b2275736572223a7b226e616d65223a2261227d7d"))
	f.Add(unhex(f, "02 01 00 04 6e756c6c 02 05 02 7b7d"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a := NewAwareness(1, t0)
		if err := a.ApplyUpdate(b, nil, t0); err == nil {
			a.EncodeAll()
		}
	})
}

// TestSyncStep2FrameLengths checks the header that SyncStep2Frame writes
// in front of the update against AppendSync, for updates whose length takes
// one, two and three bytes, and for a second encoding of the same state.
func TestSyncStep2FrameLengths(t *testing.T) {
	for _, n := range []int{10, 200, 20000} {
		d := yjs.NewDoc(yjs.WithClientID(7))
		if err := d.GetText("t").Insert(0, strings.Repeat("x", n), nil); err != nil {
			t.Fatal(err)
		}
		want := AppendSync([]byte{MessageSync}, SyncStep2, d.EncodeStateAsUpdate(nil))
		for round := range 2 {
			got, err := SyncStep2Frame(d, []byte{0})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%d characters, encoding %d (-want +got):\n%s", n, round, diff)
			}
		}
	}
}
