package collab

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
