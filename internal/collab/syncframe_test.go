package collab

import (
	"bytes"
	"testing"
)

// TestStateFrameFollowsEdits joins fresh clients before and after an edit:
// the ones before share one frame, and the edit replaces it.
func TestStateFrameFollowsEdits(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "hello")
	room, session := ts.openSession(t, "a.txt")

	a := ts.join(t, room, session)
	r := ts.room(t, room)
	r.mu.Lock()
	first := r.stateFrame
	r.mu.Unlock()
	if first == nil {
		t.Fatal("no state frame kept after a fresh client joined")
	}
	b := ts.join(t, room, session)
	r.mu.Lock()
	shared := len(r.stateFrame) > 0 && &r.stateFrame[0] == &first[0]
	r.mu.Unlock()
	if !shared {
		t.Error("the second fresh client got a frame of its own")
	}
	if got := b.text(); got != "hello" {
		t.Errorf("second client's text %q, want hello", got)
	}

	a.edit(insert(5, " world"))
	b.waitFor("the edit at B", func() bool { return b.doc.GetText("source").String() == "hello world" })
	c := ts.join(t, room, session)
	if got := c.text(); got != "hello world" {
		t.Errorf("client joining after the edit has text %q, want hello world", got)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if bytes.Equal(r.stateFrame, first) {
		t.Error("the state frame was not replaced after the edit")
	}
}
