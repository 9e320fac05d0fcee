package collab

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jupygo/jupygo/yjs"
	"github.com/jupygo/jupygo/yjs/yprotocol"
)

// cachedStep2 returns the room's cached SyncStep2 frame and its tail
// length.
func cachedStep2(r *room) ([]byte, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state.step2, len(r.state.tail)
}

func TestFirstSyncSharesEncodedState(t *testing.T) {
	ts := newTestService(t, t.TempDir(), t.TempDir(), func(o *Options) {
		o.SaveDelay = -1
		// Each poll drops a cache unused since the previous one.
		o.PollInterval = time.Hour
	})
	ts.writeFile(t, "a.txt", strings.Repeat("line\n", 1000))
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)
	r := ts.room(t, room)
	first, _ := cachedStep2(r)
	if first == nil {
		t.Fatal("no cached state after a new client's sync")
	}

	b := ts.join(t, room, session)
	if got := b.text(); got != a.text() {
		t.Errorf("second client's text differs from the first's")
	}
	again, _ := cachedStep2(r)
	if &again[0] != &first[0] {
		t.Error("the second client's sync encoded the doc again")
	}

	// Edits after the encoding reach a new client as the tail.
	typeText(a, b, "xyz", strings.Repeat("line\n", 1000)+"xyz")
	c := ts.join(t, room, session)
	if got, want := c.text(), strings.Repeat("line\n", 1000)+"xyz"; got != want {
		t.Errorf("text of a client that joined after edits ends %q, want it to end with xyz",
			got[len(got)-8:])
	}
	withTail, tail := cachedStep2(r)
	if &withTail[0] != &first[0] {
		t.Error("a client that joined after edits made the room encode the doc again")
	}
	if tail != 1 {
		t.Errorf("tail of %d updates after a join, want the 3 edits merged into 1", tail)
	}
}

// TestLoadedRoomHoldsFirstSync checks that a room encodes its doc for new
// clients as it loads, so that the load's release of memory covers the
// encoding's garbage too.
func TestLoadedRoomHoldsFirstSync(t *testing.T) {
	ts := newTestService(t, t.TempDir(), t.TempDir(), func(o *Options) { o.SaveDelay = -1 })
	ts.writeFile(t, "a.txt", "loaded")
	room, _ := ts.openSession(t, "a.txt")
	r, err := ts.svc.openRoom(context.Background(), room)
	if err != nil {
		t.Fatal(err)
	}
	step2, _ := cachedStep2(r)
	if step2 == nil {
		t.Fatal("no cached state after the load")
	}
	r.mu.Lock()
	want := yprotocol.AppendSync([]byte{yprotocol.MessageSync}, yprotocol.SyncStep2,
		r.doc.EncodeStateAsUpdate(nil))
	r.mu.Unlock()
	if !bytes.Equal(step2, want) {
		t.Error("cached state differs from the doc's")
	}
}

func TestFirstSyncLongTailDropsCache(t *testing.T) {
	ts := newTestService(t, t.TempDir(), t.TempDir(), func(o *Options) { o.SaveDelay = -1 })
	ts.writeFile(t, "a.txt", "short")
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)
	b := ts.join(t, room, session)
	r := ts.room(t, room)

	// The updates outgrow an eighth of the small doc's state.
	want := "short" + strings.Repeat("x", 20)
	typeText(a, b, strings.Repeat("x", 20), want)
	if step2, _ := cachedStep2(r); step2 != nil {
		t.Errorf("cache of %d bytes kept after a long tail, want it dropped", len(step2))
	}
	if got := ts.join(t, room, session).text(); got != want {
		t.Errorf("text %q after the cache was dropped, want %q", got, want)
	}
}

func TestKnowsNothing(t *testing.T) {
	doc := yjs.NewDoc(yjs.WithClientID(7))
	if err := doc.GetText("source").Insert(0, "abc", nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		sv   []byte
		want bool
	}{
		{"empty", []byte{0}, true},
		{"other client", yjs.EncodeStateVector(yjs.StateVector{9: 4}), true},
		{"known client at zero", yjs.EncodeStateVector(yjs.StateVector{7: 0}), true},
		{"known client", yjs.EncodeStateVector(yjs.StateVector{7: 2}), false},
		{"known and other", yjs.EncodeStateVector(yjs.StateVector{9: 1, 7: 3}), false},
		{"malformed", []byte{5, 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := knowsNothing(doc, tt.sv); got != tt.want {
				t.Errorf("knowsNothing(% x) = %v, want %v", tt.sv, got, tt.want)
			}
		})
	}
}
