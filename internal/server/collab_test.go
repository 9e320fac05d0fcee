package server

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func newCollabServer(t *testing.T) *testServer {
	t.Helper()
	ts := newTestServer(t, func(c *Config) {
		c.Collaborative = true
		c.DataDir = t.TempDir()
	})
	if err := os.WriteFile(filepath.Join(ts.root, "a.txt"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestCollabNeedsAuthentication(t *testing.T) {
	ts := newCollabServer(t)
	body := map[string]string{"format": "text", "type": "file"}
	if resp, _ := ts.do(t, "PUT", "/api/collaboration/session/a.txt", body, false); resp.StatusCode != 403 {
		t.Errorf("PUT session without credentials = %d, want 403", resp.StatusCode)
	}
	resp, data := ts.do(t, "PUT", "/api/collaboration/session/a.txt", body, true)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT session with the token = %d %s, want 201", resp.StatusCode, data)
	}
	reply := decode[map[string]string](t, data)

	ws := "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/collaboration/room/text:file:" +
		reply["fileId"] + "?sessionId=" + reply["sessionId"]
	if _, resp, err := websocket.Dial(t.Context(), ws, nil); err == nil || resp.StatusCode != 403 {
		t.Errorf("room without credentials: err %v, want a 403", err)
	}
	conn, _, err := websocket.Dial(t.Context(), ws+"&token="+testToken, nil)
	if err != nil {
		t.Fatalf("room with the token: %v", err)
	}
	_, frame, err := conn.Read(t.Context())
	if err != nil || len(frame) < 2 || frame[0] != 0 || frame[1] != 0 {
		t.Errorf("first frame %x (%v), want SyncStep1", frame, err)
	}
	conn.Close(websocket.StatusNormalClosure, "")
}

func TestCollabRoomByCookie(t *testing.T) {
	ts := newCollabServer(t)
	browser := ts.browser(t)
	ws := "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/collaboration/room/JupyterLab:globalAwareness"

	// JupyterLab opens a session with the cookie and the _xsrf value.
	body := `{"format":"text","type":"file"}`
	req := mustRequest(t, "PUT", ts.URL+"/api/collaboration/session/a.txt", strings.NewReader(body))
	if resp, _ := send(t, browser, req); resp.StatusCode != 403 {
		t.Errorf("cookie PUT session without X-XSRFToken = %d, want 403", resp.StatusCode)
	}
	req = mustRequest(t, "PUT", ts.URL+"/api/collaboration/session/a.txt", strings.NewReader(body))
	req.Header.Set("X-XSRFToken", xsrfCookie(t, browser, ts.URL))
	if resp, data := send(t, browser, req); resp.StatusCode != http.StatusCreated {
		t.Errorf("cookie PUT session with X-XSRFToken = %d %s, want 201", resp.StatusCode, data)
	}

	header := http.Header{"Origin": {"http://evil.example"}}
	_, resp, err := websocket.Dial(t.Context(), ws, &websocket.DialOptions{HTTPClient: browser, HTTPHeader: header})
	if err == nil || resp.StatusCode != 403 {
		t.Errorf("room from another origin: err %v, want a 403", err)
	}
	header = http.Header{"Origin": {ts.URL}}
	conn, _, err := websocket.Dial(t.Context(), ws, &websocket.DialOptions{HTTPClient: browser, HTTPHeader: header})
	if err != nil {
		t.Fatalf("room by cookie from the server's origin: %v", err)
	}
	conn.Close(websocket.StatusNormalClosure, "")
}

func TestCollabFlagSetsPageConfig(t *testing.T) {
	for _, on := range []bool{false, true} {
		ts := newTestServer(t, func(c *Config) {
			c.Collaborative = on
			c.DataDir = t.TempDir()
			c.Frontend = fakeBuild
		})
		resp, body := ts.do(t, "GET", "/lab", nil, true)
		if resp.StatusCode != 200 {
			t.Fatalf("GET /lab = %d", resp.StatusCode)
		}
		if got := pageConfigOf(t, body)["disableRTC"]; got != !on {
			t.Errorf("Collaborative %v: disableRTC %v, want %v", on, got, !on)
		}
		resp, _ = ts.do(t, "GET", "/api/fileid/id", nil, true)
		if want := map[bool]int{false: 404, true: 400}[on]; resp.StatusCode != want {
			t.Errorf("Collaborative %v: GET /api/fileid/id without path = %d, want %d",
				on, resp.StatusCode, want)
		}
	}
}

// TestCollabTwoViewsWarn opens a notebook's notebook room and its text room,
// as JupyterLab's notebook view and "Open With > Editor" do. The event
// stream must carry the session warning on which JupyterLab shows the user
// that two views of one file are not supported.
func TestCollabTwoViewsWarn(t *testing.T) {
	ts := newCollabServer(t)
	notebook := `{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`
	if err := os.WriteFile(filepath.Join(ts.root, "n.ipynb"), []byte(notebook), 0o644); err != nil {
		t.Fatal(err)
	}
	wsBase := "ws" + strings.TrimPrefix(ts.URL, "http")
	opts := &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"token " + testToken}}}
	events, _, err := websocket.Dial(t.Context(), wsBase+"/api/events/subscribe", opts)
	if err != nil {
		t.Fatalf("event stream: %v", err)
	}
	defer events.CloseNow()

	resp, body := ts.do(t, "PUT", "/api/collaboration/session/n.ipynb",
		map[string]string{"format": "json", "type": "notebook"}, true)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT session: %d %s", resp.StatusCode, body)
	}
	var session struct{ FileID, SessionID string }
	if err := json.Unmarshal(body, &session); err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"json:notebook:", "text:file:"} {
		room := wsBase + "/api/collaboration/room/" + prefix + session.FileID + "?sessionId=" + session.SessionID
		conn, _, err := websocket.Dial(t.Context(), room, opts)
		if err != nil {
			t.Fatalf("room %s: %v", prefix, err)
		}
		defer conn.CloseNow()
	}

	// The rooms' INFO events about their load come first.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var msg []byte
	var event map[string]any
	for event["level"] != "WARNING" {
		_, msg, err = events.Read(ctx)
		if err != nil {
			t.Fatalf("no warning event: %v", err)
		}
		event = nil
		if err := json.Unmarshal(msg, &event); err != nil {
			t.Fatalf("event %s: %v", msg, err)
		}
	}
	if event["schema_id"] != "https://schema.jupyter.org/jupyter_collaboration/session/v1" ||
		event["level"] != "WARNING" || event["path"] != "n.ipynb" ||
		event["room"] != "text:file:"+session.FileID {
		t.Errorf("event %s, want the session warning for the text room of n.ipynb", msg)
	}
}
