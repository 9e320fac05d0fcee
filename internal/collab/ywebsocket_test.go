package collab

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jupygo/jupygo/yjs/yprotocol"
)

// TestYWebsocketClient runs y-websocket 1.5.4's WebsocketProvider, the
// client library of @jupyter/docprovider, against a room, beside a Go
// client. It needs node and `npm ci` in testdata/js, and skips without
// them.
func TestYWebsocketClient(t *testing.T) {
	ywebsocket := ywebsocketClient(t)
	ts := newTestService(t, "", "", func(o *Options) { o.SaveDelay = -1 })
	ts.writeFile(t, "a.txt", "from go\r\n")
	room, session := ts.openSession(t, "a.txt")
	goClient := ts.join(t, room, session)

	events := ywebsocket(ts, room, session)
	if got := events["synced"]["text"]; got != "from go\n" {
		t.Errorf("y-websocket's text after sync %q, want %q", got, "from go\n")
	}
	want := `{"type":"save","responseTo":1,"status":"success"}`
	if got := events["raw"]["text"]; got != want {
		t.Errorf("save reply %v, want %s", got, want)
	}
	if got := ts.readFile(t, "a.txt"); got != "js:from go\n" {
		t.Errorf("file %q, want y-websocket's edit saved", got)
	}
	goClient.waitFor("y-websocket's edit", func() bool {
		return goClient.doc.GetText("source").String() == "js:from go\n"
	})
	goClient.waitFor("y-websocket's awareness state", func() bool {
		for _, u := range goClient.awareness {
			if strings.Contains(string(u), `"name":"js"`) {
				return true
			}
		}
		return false
	})
}

// TestYWebsocketEchoKeepsOtherStates has y-websocket join a room where a Go
// client has an awareness state. y-websocket sends that state back to the
// room when it applies it. When y-websocket leaves, the room removes its
// state alone and keeps the Go client's.
func TestYWebsocketEchoKeepsOtherStates(t *testing.T) {
	ywebsocket := ywebsocketClient(t)
	ts := newTestService(t, "", "", func(o *Options) { o.SaveDelay = -1 })
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	goClient := ts.join(t, room, session)
	goClient.send(awarenessFrame(11, 1, `{"user":{"name":"go"}}`))
	goClient.waitFor("the echo of its state", func() bool { return len(goClient.awareness) == 1 })

	ywebsocket(ts, room, session)
	removed := func() []uint64 {
		var ids []uint64
		for _, frame := range goClient.awareness {
			entries, err := yprotocol.DecodeUpdate(frame)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.State == nil {
					ids = append(ids, e.Client)
				}
			}
		}
		return ids
	}
	goClient.waitFor("y-websocket's removal", func() bool { return len(removed()) > 0 })
	goClient.mu.Lock()
	removedIDs := removed()
	goClient.mu.Unlock()
	if slices.Contains(removedIDs, 11) {
		t.Errorf("removed states %v include the Go client's, 11", removedIDs)
	}
	r := ts.room(t, room)
	r.mu.Lock()
	_, hasGoState := r.aw.States()[11]
	r.mu.Unlock()
	if !hasGoState {
		t.Error("the room dropped the Go client's state when y-websocket left")
	}
}

// TestYWebsocketClientStaysConnected keeps a lone y-websocket client in a
// room for longer than its 30-second watchdog: the echo of its own
// awareness renewals must keep it from reconnecting.
func TestYWebsocketClientStaysConnected(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 40 seconds")
	}
	ywebsocket := ywebsocketClient(t)
	ts := newTestService(t, "", "", nil)
	ts.writeFile(t, "a.txt", "")
	room, session := ts.openSession(t, "a.txt")
	events := ywebsocket(ts, room, session, "40")
	if closes := events["idle"]["closes"]; closes != 0.0 {
		t.Errorf("the connection closed %v times in 40 seconds, want 0", closes)
	}
}

// ywebsocketClient returns a function that runs testdata/js/client.mjs
// against a room and returns its events by name. It skips the test
// without node or the npm packages.
func ywebsocketClient(t *testing.T) func(ts *testService, room, session string, args ...string) map[string]map[string]any {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH")
	}
	dir, err := filepath.Abs("testdata/js")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "y-websocket")); err != nil {
		t.Skip("run npm ci in internal/collab/testdata/js to run y-websocket")
	}
	return func(ts *testService, room, session string, args ...string) map[string]map[string]any {
		t.Helper()
		base := "ws" + strings.TrimPrefix(ts.baseURL, "http") + "/api/collaboration/room"
		cmd := exec.Command(node, append([]string{filepath.Join(dir, "client.mjs"), base, room, session}, args...)...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("client.mjs: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
		}
		events := map[string]map[string]any{}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			var ev map[string]any
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("client.mjs printed %q: %v", sc.Text(), err)
			}
			name, _ := ev["event"].(string)
			events[name] = ev
		}
		return events
	}
}
