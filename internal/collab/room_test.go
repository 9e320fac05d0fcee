package collab

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/yjs"
	"github.com/jupygo/jupygo/yjs/lib0"
	"github.com/jupygo/jupygo/yjs/yprotocol"
)

func TestRoomSyncsTwoClients(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "hello\r\nworld\r\n")
	room, session := ts.openSession(t, "a.txt")

	a := ts.join(t, room, session)
	b := ts.join(t, room, session)
	if got := a.text(); got != "hello\nworld\n" {
		t.Errorf("first client's text %q, want the file with LF line ends", got)
	}
	if got := b.state(statePath); got != "a.txt" {
		t.Errorf("state path %v, want a.txt", got)
	}

	a.edit(insert(0, "A: "))
	b.waitFor("A's edit at B", func() bool { return b.doc.GetText("source").String() == "A: hello\nworld\n" })
	b.edit(insert(len("A: hello\nworld\n"), "B"))
	a.waitFor("B's edit at A", func() bool { return strings.HasSuffix(a.doc.GetText("source").String(), "B") })
}

func TestRoomSendsUpdatesOnlyToOthers(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.SaveDelay = -1 })
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)
	b := ts.join(t, room, session)

	a.mu.Lock()
	before := a.frames
	a.mu.Unlock()
	a.edit(insert(0, "x"))
	b.waitFor("the edit", func() bool { return b.doc.GetText("source").String() == "x" })
	// B's own edit is the marker: once it arrives at A, A would also have
	// received an echo of its own edit.
	b.edit(insert(1, "y"))
	a.waitFor("B's edit", func() bool { return a.doc.GetText("source").String() == "xy" })
	a.mu.Lock()
	defer a.mu.Unlock()
	if got := a.frames - before; got != 1 {
		t.Errorf("A received %d frames after its edit, want 1 (B's edit)", got)
	}
}

func TestEarlyFramesWaitForLoad(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "content")
	room, session := ts.openSession(t, "a.txt")
	gate := make(chan struct{})
	ts.files.mu.Lock()
	ts.files.gate = gate
	ts.files.mu.Unlock()

	c := ts.dial(t, room, session)
	c.send(yprotocol.SyncStep1Frame(c.doc))
	c.send(awarenessFrame(7, 1, `{"user":{"name":"early"}}`))
	waitUntil(t, "the room to start loading", func() bool {
		ts.svc.mu.Lock()
		defer ts.svc.mu.Unlock()
		return ts.svc.rooms[room] != nil
	})
	c.mu.Lock()
	early := c.frames
	c.mu.Unlock()
	if early != 0 {
		t.Errorf("the server sent %d frames before the file was read", early)
	}
	close(gate)
	c.waitFor("the first sync", func() bool { return c.synced })
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.textAtSync != "content" {
		t.Errorf("text at the first SyncStep2 %q, want the file's content", c.textAtSync)
	}
}

func TestAwarenessEchoAndRelay(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)

	a.send(awarenessFrame(11, 1, `{"user":{"name":"a"}}`))
	a.waitFor("the echo of A's awareness", func() bool { return len(a.awareness) == 1 })

	b := ts.join(t, room, session)
	b.waitFor("the awareness snapshot", func() bool { return len(b.awareness) >= 1 })
	entries, err := yprotocol.DecodeUpdate(b.awareness[0])
	if err != nil || len(entries) != 1 || entries[0].Client != 11 {
		t.Fatalf("snapshot %v (%v), want client 11", entries, err)
	}

	a.send(awarenessFrame(11, 2, `{"user":{"name":"a2"}}`))
	b.waitFor("A's renewal at B", func() bool { return len(b.awareness) >= 2 })

	a.ws.Close(websocket.StatusNormalClosure, "")
	b.waitFor("A's removal at B", func() bool {
		last, err := yprotocol.DecodeUpdate(b.awareness[len(b.awareness)-1])
		return err == nil && len(last) == 1 && last[0].Client == 11 && last[0].State == nil
	})
}

// awarenessClientsLocked returns the clients named in the awareness
// frames that c received. The caller holds c.mu.
func awarenessClientsLocked(c *client) map[uint64]bool {
	seen := map[uint64]bool{}
	for _, frame := range c.awareness {
		entries, err := yprotocol.DecodeUpdate(frame)
		if err != nil {
			c.t.Fatal(err)
		}
		for _, e := range entries {
			seen[e.Client] = true
		}
	}
	return seen
}

// TestAwarenessRenewalsShareFrame has three clients renew their awareness
// states over several polls of the room. The renewals wait for the renewal
// delay, then go to every client in one frame, while a change is relayed
// at once.
func TestAwarenessRenewalsShareFrame(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) {
		o.PollInterval = 100 * time.Millisecond
		o.RenewalDelay = time.Second
	})
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	clients := make([]*client, 3)
	for i := range clients {
		clients[i] = ts.join(t, room, session)
		clients[i].send(awarenessFrame(uint64(20+i), 1, `{"n":1}`))
	}
	for _, c := range clients {
		c.waitFor("the three states", func() bool { return len(awarenessClientsLocked(c)) == 3 })
	}
	received := func(c *client) int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.awareness)
	}
	before := make([]int, len(clients))
	for i, c := range clients {
		before[i] = received(c)
	}

	for i, c := range clients {
		c.send(awarenessFrame(uint64(20+i), 2, `{"n":1}`))
		time.Sleep(200 * time.Millisecond)
	}
	for i, c := range clients {
		c.waitFor("the renewals", func() bool { return len(c.awareness) > before[i] })
	}
	for i, c := range clients {
		c.mu.Lock()
		got := c.awareness[before[i]:]
		c.mu.Unlock()
		if len(got) != 1 {
			t.Errorf("client %d received %d awareness frames for three renewals, want 1", i, len(got))
			continue
		}
		entries, err := yprotocol.DecodeUpdate(got[0])
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 3 {
			t.Errorf("client %d: renewal frame with %d entries, want 3", i, len(entries))
		}
		for _, e := range entries {
			if e.Clock != 2 {
				t.Errorf("client %d: entry of client %d with clock %d, want 2", i, e.Client, e.Clock)
			}
		}
	}

	// A change does not wait.
	start := time.Now()
	clients[0].send(awarenessFrame(20, 3, `{"n":2}`))
	clients[1].waitFor("the change", func() bool {
		last, err := yprotocol.DecodeUpdate(clients[1].awareness[len(clients[1].awareness)-1])
		return err == nil && len(last) == 1 && last[0].Clock == 3
	})
	if waited := time.Since(start); waited >= time.Second {
		t.Errorf("the change took %v, want less than the renewal delay of 1s", waited)
	}
}

// TestAwarenessChangesShareFrames has ten clients change their states at
// once. An observer gets all ten changes in fewer frames than changes, and a
// change after a quiet window in a frame of its own at once.
func TestAwarenessChangesShareFrames(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	observer := ts.join(t, room, session)
	clients := make([]*client, 10)
	for i := range clients {
		clients[i] = ts.join(t, room, session)
	}
	for i, c := range clients {
		c.send(awarenessFrame(uint64(30+i), 1, `{"joined":true}`))
	}
	observer.waitFor("the ten states", func() bool { return len(awarenessClientsLocked(observer)) == len(clients) })
	observer.mu.Lock()
	frames := len(observer.awareness)
	observer.mu.Unlock()
	if frames >= len(clients) {
		t.Errorf("ten changes at once reached the observer in %d frames, want fewer", frames)
	}

	time.Sleep(2 * changeWindow)
	start := time.Now()
	clients[0].send(awarenessFrame(30, 2, `{"joined":false}`))
	observer.waitFor("the change", func() bool {
		last, err := yprotocol.DecodeUpdate(observer.awareness[len(observer.awareness)-1])
		return err == nil && len(last) == 1 && last[0].Client == 30 && last[0].Clock == 2
	})
	if waited := time.Since(start); waited >= time.Second {
		t.Errorf("a lone change took %v", waited)
	}
}

// TestRenewalDelayBounded checks that the renewal delay leaves room for
// one poll within the 5 s that a renewal may wait.
func TestRenewalDelayBounded(t *testing.T) {
	for _, tc := range []struct {
		poll, delay, want time.Duration
	}{
		{0, 0, 4 * time.Second},
		{2 * time.Second, 0, 3 * time.Second},
		{time.Second, 10 * time.Second, 4 * time.Second},
		{100 * time.Millisecond, time.Second, time.Second},
		{10 * time.Second, 0, 0},
	} {
		o := Options{PollInterval: tc.poll, RenewalDelay: tc.delay}
		o.fillDefaults()
		if o.RenewalDelay != tc.want {
			t.Errorf("poll %v, delay %v: RenewalDelay %v, want %v", tc.poll, tc.delay, o.RenewalDelay, tc.want)
		}
	}
}

func TestLeavingClientGetsNoEcho(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)
	b := ts.join(t, room, session)
	a.send(awarenessFrame(11, 1, `{}`))
	a.waitFor("the echo", func() bool { return len(a.awareness) == 1 })
	a.send(awarenessFrame(11, 2, `null`))
	b.waitFor("the leave at B", func() bool { return len(b.awareness) == 2 })
	// A marker from B: when it reaches A, an echo of the leave would have.
	b.send(awarenessFrame(12, 1, `{}`))
	a.waitFor("B's state", func() bool { return len(a.awareness) >= 2 })
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.awareness) != 2 {
		t.Errorf("A received %d awareness updates, want 2 (its state, B's)", len(a.awareness))
	}
}

// TestEchoedStatesStayWithTheirOwner has A send back the states of B and of
// 70 other clients, as y-websocket 1.5 clients send back every awareness
// update they apply. A's connection owns only its own state, so it stays
// open past the bound on states per connection, and when A leaves, only A's
// state goes.
func TestEchoedStatesStayWithTheirOwner(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)
	b := ts.join(t, room, session)
	a.send(awarenessFrame(11, 1, `{"n":"a"}`))
	b.send(awarenessFrame(12, 1, `{"n":"b"}`))
	others := make([]*client, 0, maxAwarenessClients+6)
	for i := range cap(others) {
		o := ts.join(t, room, session)
		o.send(awarenessFrame(uint64(100+i), 1, `{}`))
		others = append(others, o)
	}
	want := len(others) + 2
	a.waitFor("every state", func() bool { return len(awarenessClientsLocked(a)) == want })

	// A sends back every state it holds, in one update.
	e := &lib0.Encoder{}
	e.WriteVarUint(uint64(want))
	e.WriteVarUint(11)
	e.WriteVarUint(1)
	e.WriteVarString(`{"n":"a"}`)
	e.WriteVarUint(12)
	e.WriteVarUint(1)
	e.WriteVarString(`{"n":"b"}`)
	for i := range others {
		e.WriteVarUint(uint64(100 + i))
		e.WriteVarUint(1)
		e.WriteVarString(`{}`)
	}
	a.send(yprotocol.AwarenessFrame(e.Bytes()))
	// A marker from B: once A has it, the room has handled A's echo.
	b.send(awarenessFrame(12, 2, `{"n":"b2"}`))
	a.waitFor("B's change", func() bool {
		last, err := yprotocol.DecodeUpdate(a.awareness[len(a.awareness)-1])
		return err == nil && len(last) == 1 && last[0].Client == 12 && last[0].Clock == 2
	})

	a.ws.Close(websocket.StatusNormalClosure, "")
	b.waitFor("A's removal", func() bool {
		last, err := yprotocol.DecodeUpdate(b.awareness[len(b.awareness)-1])
		return err == nil && len(last) == 1 && last[0].Client == 11 && last[0].State == nil
	})
	r := ts.room(t, room)
	r.mu.Lock()
	states := r.aw.States()
	_, hasB := states[12]
	n := len(states)
	r.mu.Unlock()
	if !hasB || n != want-1 {
		t.Errorf("after A left the room holds %d states (B's: %v), want %d with B's", n, hasB, want-1)
	}
}

func TestAwarenessDuplicatesNotRelayed(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)
	b := ts.join(t, room, session)
	a.send(awarenessFrame(11, 1, `{}`))
	b.waitFor("A's state", func() bool { return len(b.awareness) == 1 })

	// B sends back what it applied, as y-websocket 1.5 clients do, and
	// one entry of its own beside it.
	b.send(awarenessFrame(11, 1, `{}`))
	both := lib0.NewEncoder(nil)
	both.WriteVarUint(2)
	for _, e := range []struct {
		client, clock uint64
	}{{11, 1}, {12, 1}} {
		both.WriteVarUint(e.client)
		both.WriteVarUint(e.clock)
		both.WriteVarString(`{}`)
	}
	b.send(yprotocol.AwarenessFrame(both.Bytes()))
	a.waitFor("B's state", func() bool { return len(a.awareness) >= 2 })

	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.awareness) != 2 {
		t.Fatalf("A received %d awareness updates, want 2 (its echo, B's state)", len(a.awareness))
	}
	entries, err := yprotocol.DecodeUpdate(a.awareness[1])
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Client != 12 {
		t.Errorf("relayed entries %+v, want only client 12's", entries)
	}
}

func TestSaveReply(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.SaveDelay = -1 })
	ts.writeFile(t, "a.txt", "old")
	room, session := ts.openSession(t, "a.txt")
	c := ts.join(t, room, session)
	c.edit(func(doc *yjs.Doc) {
		doc.GetText("source").Insert(3, " new", nil)
		doc.GetMap("state").Set(stateDirty, true)
	})
	c.send(saveFrame(42))
	c.waitFor("the save reply", func() bool { return len(c.raw) == 1 })

	var reply map[string]any
	if err := json.Unmarshal([]byte(c.raw[0]), &reply); err != nil {
		t.Fatal(err)
	}
	if reply["type"] != "save" || reply["responseTo"] != 42.0 || reply["status"] != "success" {
		t.Errorf("reply %v, want type save, responseTo 42, status success", reply)
	}
	if got := ts.readFile(t, "a.txt"); got != "old new" {
		t.Errorf("file %q, want %q", got, "old new")
	}
	sum := sha256.Sum256([]byte("old new"))
	want := hex.EncodeToString(sum[:])
	c.waitFor("state hash and dirty", func() bool {
		return c.stateLocked(stateHash) == want && c.stateLocked(stateDirty) == false
	})
}

func TestSessionMismatchCloses(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "")
	room, _ := ts.openSession(t, "a.txt")
	c := ts.dial(t, room, "not-a-session")
	code, reason := c.waitClose()
	if code != websocket.StatusUnsupportedData {
		t.Errorf("close code %d, want 1003", code)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(reason), &got); err != nil {
		t.Fatalf("reason %q is not JSON: %v", reason, err)
	}
	want := map[string]any{"reason": "unknown_session", "sessionId": "not-a-session", "reloadable": true}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("reason field %s = %v, want %v", k, got[k], v)
		}
	}
}

func TestLoadErrorsClose(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "bin.txt", "\xff\xfe")
	ts.writeFile(t, "n.ipynb", "{}")
	binRoom, session := ts.openSession(t, "bin.txt")
	nbRoom := "json:notebook:" + strings.TrimPrefix(roomOf(ts.openSession(t, "n.ipynb")), "text:file:")
	tests := []struct {
		name, room string
		want       websocket.StatusCode
		reason     string
	}{
		{"unknown file id", "text:file:00000000-0000-0000-0000-000000000000", statusNotFound,
			"Error initializing: text:file:00000000-0000-0000-0000-000000000000."},
		{"not UTF-8", binRoom, statusBadRequest, "Error initializing: bin.txt."},
		{"invalid notebook", nbRoom, statusBadRequest, "Error initializing: n.ipynb."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ts.dial(t, tt.room, session)
			code, reason := c.waitClose()
			if code != tt.want || reason != tt.reason {
				t.Errorf("closed with %d %q, want %d %q", code, reason, tt.want, tt.reason)
			}
		})
	}
}

func roomOf(room, _ string) string { return room }

func TestMalformedMessageClosesOneClient(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.MaxMessageBytes = 4096 })
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	tests := []struct {
		name  string
		frame []byte
		want  websocket.StatusCode
	}{
		{"bad sync type", []byte{0, 7, 0}, websocket.StatusInvalidFramePayloadData},
		{"bad update", []byte{0, 2, 3, 1, 0xff, 0xff}, websocket.StatusInvalidFramePayloadData},
		{"bad awareness", []byte{1, 3, 1, 1, 1}, websocket.StatusInvalidFramePayloadData},
		{"oversized", append([]byte{1}, make([]byte, 8192)...), websocket.StatusUnsupportedData},
	}
	other := ts.join(t, room, session)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ts.join(t, room, session)
			c.send(tt.frame)
			if code, reason := c.waitClose(); code != tt.want {
				t.Errorf("closed with %d %q, want %d", code, reason, tt.want)
			}
		})
	}
	probe := ts.join(t, room, session)
	other.edit(insert(0, "still here"))
	probe.waitFor("the other client's edit", func() bool {
		return probe.doc.GetText("source").String() == "still here"
	})
}

func TestUnknownMessageTypeIgnored(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	c := ts.join(t, room, session)
	c.send([]byte{125, 2, '{', '}'})
	c.send(awarenessFrame(3, 1, `{}`))
	c.waitFor("the awareness echo after the chat frame", func() bool { return len(c.awareness) == 1 })
}

func TestGlobalAwarenessRoom(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	a := ts.join(t, "JupyterLab:globalAwareness", "")
	b := ts.join(t, "JupyterLab:globalAwareness", "")
	a.send(awarenessFrame(5, 1, `{"current":"editor:a.txt"}`))
	b.waitFor("A's state", func() bool { return len(b.awareness) == 1 })
	a.waitFor("the echo", func() bool { return len(a.awareness) == 1 })
	a.send(saveFrame(1))
	a.waitFor("the save reply", func() bool { return len(a.raw) == 1 })
	if !strings.Contains(a.raw[0], `"status":"failed"`) {
		t.Errorf("save in a transient room: %s, want failed", a.raw[0])
	}
}

func TestMaxRooms(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.MaxRooms = 1 })
	ts.writeFile(t, "a.txt", "")
	ts.writeFile(t, "b.txt", "")
	roomA, session := ts.openSession(t, "a.txt")
	roomB, _ := ts.openSession(t, "b.txt")
	a := ts.join(t, roomA, session)

	// A document room past the limit opens and closes with 1003 and a
	// reason, which @jupyter/docprovider shows before it stops retrying.
	code, reason := ts.dial(t, roomB, session).waitClose()
	if code != websocket.StatusUnsupportedData {
		t.Errorf("closed with %d, want 1003", code)
	}
	var payload struct{ Reason, ErrorReason string }
	if err := json.Unmarshal([]byte(reason), &payload); err != nil ||
		payload.Reason != "initialization_error" || !strings.Contains(payload.ErrorReason, "Too many documents") ||
		strings.HasSuffix(payload.ErrorReason, "…") {
		t.Errorf("close reason %q, want a whole initialization_error naming the limit", reason)
	}
	// Its first retry, while the dialog waits for the user, is closed with
	// 4500, on which JupyterLab closes the document's tab.
	if code, reason := ts.dial(t, roomB, session).waitClose(); code != statusServerError ||
		!strings.Contains(reason, "Too many documents") {
		t.Errorf("retry closed with %d %q, want 4500 naming the limit", code, reason)
	}
	// Later ones get 503 before the upgrade, which shows nothing, and back
	// off.
	checkRefused(t, ts, roomB, session)

	// A room whose last client left gives its place at once, without the
	// cleanup delay.
	rA := ts.room(t, roomA)
	a.ws.Close(websocket.StatusNormalClosure, "")
	waitUntil(t, "A to leave", rA.idle)
	ts.join(t, roomB, session)
	select {
	case <-rA.removed:
	default:
		t.Error("room A open after B took its place")
	}
}

// checkRefused dials room and checks that the upgrade is refused with 503
// and a Retry-After, so that clients back off.
func checkRefused(t *testing.T, ts *testService, room, session string) {
	t.Helper()
	checkRefusedWith(t, ts, room, session, http.StatusServiceUnavailable, true)
}

// checkRefusedWith dials room and checks that the upgrade is refused with
// status, and with a Retry-After if retryAfter is set.
func checkRefusedWith(t *testing.T, ts *testService, room, session string, status int, retryAfter bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ws, res, err := websocket.Dial(ctx, ts.dialURL(room, session), nil)
	if err == nil {
		ws.CloseNow()
		t.Fatalf("room %s opened, want the upgrade refused", room)
	}
	if res == nil || res.StatusCode != status {
		t.Fatalf("dialing room %s: %v, want a %d response", room, err, status)
	}
	if got := res.Header.Get("Retry-After"); (got != "") != retryAfter {
		t.Errorf("refusal of room %s: Retry-After %q, want one: %v", room, got, retryAfter)
	}
}

// TestMaxRoomsCountsKindsApart checks that transient rooms, such as
// JupyterLab's global awareness room, do not take document rooms' places.
func TestMaxRoomsCountsKindsApart(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.MaxRooms = 1 })
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	ts.join(t, "JupyterLab:globalAwareness", session)
	ts.join(t, room, session)
	checkRefused(t, ts, "another:awareness", session)
}

func TestCloseReasonCutAtAWord(t *testing.T) {
	long := strings.Repeat("word ", 40)
	got := truncateReason(long)
	if len(got) > maxCloseReason || !strings.HasSuffix(got, "word…") {
		t.Errorf("truncateReason gave %q (%d bytes)", got, len(got))
	}
	if got := truncateReason("short"); got != "short" {
		t.Errorf("truncateReason(short) = %q", got)
	}
}

func TestRenameUpdatesStatePath(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "x")
	room, session := ts.openSession(t, "a.txt")
	c := ts.join(t, room, session)
	status, body := ts.request(t, "PATCH", "/api/contents/a.txt", map[string]string{"path": "b.txt"})
	if status != 200 {
		t.Fatalf("rename: %d %s", status, body)
	}
	c.waitFor("state path", func() bool { return c.stateLocked(statePath) == "b.txt" })
	c.edit(insert(1, "y"))
	c.send(saveFrame(1))
	c.waitFor("the save reply", func() bool { return len(c.raw) == 1 })
	if got := ts.readFile(t, "b.txt"); got != "xy" {
		t.Errorf("renamed file %q, want xy", got)
	}
}

func TestDeleteClosesRoom(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "x")
	room, session := ts.openSession(t, "a.txt")
	c := ts.join(t, room, session)
	if status, body := ts.request(t, "DELETE", "/api/contents/a.txt", nil); status != 204 {
		t.Fatalf("delete: %d %s", status, body)
	}
	code, reason := c.waitClose()
	if code != websocket.StatusUnsupportedData {
		t.Errorf("closed with %d, want 1003", code)
	}
	// @jupyter/docprovider shows errorReason, and stops reconnecting once
	// the user dismisses it.
	var payload struct{ Reason, ErrorReason string }
	if err := json.Unmarshal([]byte(reason), &payload); err != nil || payload.ErrorReason == "" {
		t.Errorf("close reason %q is not a JSON object with errorReason", reason)
	}
	// Meanwhile its retries get 404 before the upgrade, so it backs off.
	checkRefusedWith(t, ts, room, session, http.StatusNotFound, true)
	checkRefusedWith(t, ts, room, session, http.StatusNotFound, true)
	waitUntil(t, "no file", func() bool { return !fileExists(ts, "a.txt") })
}

// TestFailedRoomRefusesRetries opens a notebook room whose file is not
// valid JSON. The first client gets 4400, on which JupyterLab closes the
// tab, and retries get 400 before the upgrade until a client asks for a
// session again.
func TestFailedRoomRefusesRetries(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "n.ipynb", "{not json")
	textRoom, session := ts.openSession(t, "n.ipynb")
	room := "json:notebook:" + strings.TrimPrefix(textRoom, "text:file:")
	first := ts.dial(t, room, session)
	if code, reason := first.waitClose(); code != statusBadRequest {
		t.Errorf("first client closed with %d %q, want 4400", code, reason)
	}
	checkRefusedWith(t, ts, room, session, http.StatusBadRequest, true)
	ts.openSession(t, "n.ipynb")
	again := ts.dial(t, room, session)
	if code, reason := again.waitClose(); code != statusBadRequest {
		t.Errorf("client after a new session closed with %d %q, want 4400", code, reason)
	}
}

// TestRoomFormatChecked checks that a room or session in a format other
// than the one JupyterLab uses for the document type is refused, where
// it would open a second room on the same file.
func TestRoomFormatChecked(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "n.ipynb", `{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`)
	textRoom, session := ts.openSession(t, "n.ipynb")
	id := strings.TrimPrefix(textRoom, "text:file:")
	for _, room := range []string{"zzz:notebook:" + id, "text:notebook:" + id, "json:file:" + id} {
		checkRefusedWith(t, ts, room, session, http.StatusBadRequest, false)
	}
	status, body := ts.request(t, "PUT", "/api/collaboration/session/n.ipynb",
		map[string]string{"format": "zzz", "type": "notebook"})
	if status != http.StatusBadRequest || !strings.Contains(string(body), `format \"json\"`) {
		t.Errorf("session in format zzz: %d %s, want 400 naming the format json", status, body)
	}
	ts.join(t, "json:notebook:"+id, session)
}

func fileExists(ts *testService, name string) bool {
	_, err := ts.files.Stat(name)
	return err == nil
}

func (c *client) stateLocked(key string) any {
	v, _ := c.doc.GetMap("state").Get(key)
	return v
}

func TestSessionOfOtherVersionCloses(t *testing.T) {
	root, dataDir := t.TempDir(), t.TempDir()
	first := newTestService(t, root, dataDir, nil)
	first.writeFile(t, "a.txt", "")
	room, oldSession := first.openSession(t, "a.txt")
	second := newTestService(t, root, dataDir, func(o *Options) { o.Version = "other" })
	c := second.dial(t, room, oldSession)
	code, reason := c.waitClose()
	if code != websocket.StatusUnsupportedData || !strings.Contains(reason, `"reason":"version_mismatch"`) {
		t.Errorf("closed with %d %q, want 1003 and version_mismatch", code, reason)
	}
}

func TestLargeUpdateClosesClient(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.MaxUpdateItems = 100 })
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	c := ts.join(t, room, session)
	big := yjs.NewDoc()
	arr := big.GetArray("cells")
	big.Transact(func(*yjs.Transaction) {
		for range 200 {
			arr.Push(yjs.NewMap())
		}
	}, nil)
	c.send(yprotocol.UpdateFrame(big.EncodeStateAsUpdate(nil)))
	code, reason := c.waitClose()
	if code != websocket.StatusUnsupportedData {
		t.Errorf("closed with %d %q, want 1003", code, reason)
	}
	var payload struct{ Reason, ErrorReason string }
	if err := json.Unmarshal([]byte(reason), &payload); err != nil {
		t.Errorf("close reason %q is not JSON: %v", reason, err)
	}
	if payload.Reason != "initialization_error" || !strings.Contains(payload.ErrorReason, "100 items") {
		t.Errorf("close reason %q, want an initialization_error naming the limit", reason)
	}
	r := ts.room(t, room)
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := r.doc.GetArray("cells").Len(); n != 0 {
		t.Errorf("the room applied the rejected update: %d cells", n)
	}
}

func TestAwarenessStatesPerConnectionBounded(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	c := ts.join(t, room, session)
	for i := range maxAwarenessClients + 1 {
		c.send(awarenessFrame(uint64(100+i), 1, `{}`))
	}
	if code, _ := c.waitClose(); code != websocket.StatusPolicyViolation {
		t.Errorf("closed with %d, want 1008", code)
	}
}

func TestReadErrorsClose(t *testing.T) {
	invalid := errors.New("invalid notebook: invalid JSON")
	tests := []struct {
		name   string
		err    error
		want   websocket.StatusCode
		reason string
		// event is the message of the session event about the error.
		event string
	}{
		{"contents error", httpapi.Errorf(500, "disk on fire"), statusServerError,
			"Error initializing: a.txt.", "Error loading content from file: a.txt\ndisk on fire"},
		{"wrapped error", httpapi.Wrap(500, invalid, invalid.Error()), statusServerError,
			"Error initializing: a.txt.",
			"Error loading content from file: a.txt\ninvalid notebook: invalid JSON"},
		{"other error", errors.New("no contents"), websocket.StatusUnsupportedData,
			`{"reason":"initialization_error","reloadable":false}`,
			"Error loading content from file: a.txt\nno contents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := make(chan map[string]any, 16)
			ts := newTestService(t, "", "", func(o *Options) {
				o.Emit = func(_ string, data map[string]any) { events <- data }
			})
			ts.writeFile(t, "a.txt", "")
			room, session := ts.openSession(t, "a.txt")
			ts.files.mu.Lock()
			ts.files.readErr = tt.err
			ts.files.mu.Unlock()
			c := ts.dial(t, room, session)
			if code, reason := c.waitClose(); code != tt.want || reason != tt.reason {
				t.Errorf("closed with %d %q, want %d %q", code, reason, tt.want, tt.reason)
			}
			select {
			case e := <-events:
				if e["level"] != "ERROR" || e["action"] != "load" || e["msg"] != tt.event {
					t.Errorf("event %v, want ERROR load %q", e, tt.event)
				}
			case <-time.After(waitTimeout):
				t.Error("no session event about the error")
			}
		})
	}
}

// TestClientCannotMoveStatePath checks that a client's change of the
// state's path, which other clients would follow, is set back.
func TestClientCannotMoveStatePath(t *testing.T) {
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "x")
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)
	b := ts.join(t, room, session)
	a.edit(func(doc *yjs.Doc) {
		if err := doc.GetMap("state").Set(statePath, "../../elsewhere.txt"); err != nil {
			t.Error(err)
		}
	})
	a.edit(insert(1, "y"))
	b.waitFor("A's edit", func() bool { return b.doc.GetText("source").String() == "xy" })
	for _, c := range []*client{a, b} {
		c.waitFor("the path set back", func() bool { return c.stateLocked(statePath) == "a.txt" })
	}
}

// bigEdit returns an update frame that inserts n bytes into an empty
// text document.
func bigEdit(n int) []byte {
	doc := yjs.NewDoc()
	insert(0, strings.Repeat("x", n))(doc)
	return updateFrame(doc.EncodeStateAsUpdate(nil))
}

func TestReadBudgetSharedByClients(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) {
		o.MaxMessageBytes = 64 << 10
		o.MaxReadBytes = 96 << 10
	})
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	frame := bigEdit(60000)
	probe := ts.join(t, room, session)

	// A sends all but the last byte of its message and holds more than 40
	// KiB of the budget while the server waits for the rest.
	a := ts.join(t, room, session)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	w, err := a.ws.Writer(ctx, websocket.MessageBinary)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(frame[:len(frame)-1]); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "A's message to hold the budget", func() bool { return ts.svc.reading.Load() > 40<<10 })

	b := ts.join(t, room, session)
	b.send(frame)
	if code, reason := b.waitClose(); code != websocket.StatusTryAgainLater {
		t.Errorf("B closed with %d %q, want 1013 while A holds the budget", code, reason)
	}

	if _, err := w.Write(frame[len(frame)-1:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	probe.waitFor("A's edit", func() bool { return len(probe.doc.GetText("source").String()) == 60000 })
	waitUntil(t, "the budget to be released", func() bool { return ts.svc.reading.Load() == 0 })

	// With the budget free again, another client's large message goes
	// through.
	c := ts.join(t, room, session)
	c.send(bigEdit(50000))
	probe.waitFor("C's edit", func() bool { return len(probe.doc.GetText("source").String()) == 110000 })
}

// A first sync larger than a connection's byte bound for queued frames
// is sent when nothing else waits, so a client can open a document of
// that size.
func TestFirstSyncLargerThanSendBound(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.SaveDelay = -1 })
	ts.writeFile(t, "big.txt", "")
	room, session := ts.openSession(t, "big.txt")
	a := ts.join(t, room, session)
	a.send(bigEdit(sendQueueBytes + 1<<20))
	r := ts.room(t, room)
	waitUntil(t, "the room to apply the edit", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.doc.GetText("source").String()) > 0
	})
	b := ts.join(t, room, session)
	if got := len(b.text()); got != sendQueueBytes+1<<20 {
		t.Errorf("second client's text is %d bytes, want %d", got, sendQueueBytes+1<<20)
	}
}

// TestRefusedCloseReasonFits checks that the close reasons of refused
// changes stay JSON within a close frame, for the largest limits.
func TestRefusedCloseReasonFits(t *testing.T) {
	msgs := []string{
		fmt.Sprintf("Change over %s refused, so not saved.", sizeText(64<<20)),
		fmt.Sprintf("Change over %s refused, so not saved.", sizeText(1<<62+1)),
		fmt.Sprintf("Change of over %d items refused, so not saved.", math.MaxInt),
	}
	for _, msg := range msgs {
		code, reason := refusedCloseReason(msg)
		if code != websocket.StatusUnsupportedData {
			t.Errorf("code %d for %q, want 1003", code, msg)
		}
		if len(reason) > maxCloseReason {
			t.Errorf("reason of %d bytes for %q, more than %d", len(reason), msg, maxCloseReason)
		}
		if !json.Valid([]byte(reason)) {
			t.Errorf("reason %q is not JSON", reason)
		}
	}
}
