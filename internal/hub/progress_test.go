package hub

import (
	"bufio"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// getProgress opens the progress stream of one of alice's servers.
func (th *testHub) getProgress(t *testing.T, token, server string) *http.Response {
	t.Helper()
	path := "/hub/api/users/alice/server/progress"
	if server != "" {
		path = "/hub/api/users/alice/servers/" + server + "/progress"
	}
	req, err := http.NewRequest("GET", th.url+path, nil)
	must(t, err)
	req.Header.Set("Authorization", "token "+token)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestProgressNotStarting(t *testing.T) {
	th := startHub(t, hubOptions{config: "[JupyterHub]\nallow_named_servers = true\n"})
	th.addUser("alice", false)
	tok := th.token("alice")
	for _, tc := range []struct{ server, message string }{
		{"", "alice is not starting..."},
		{"lab2", "alice:lab2 is not starting..."},
	} {
		if tc.server != "" {
			// A named server that was started and stopped exists but is not running.
			th.api("POST", "/hub/api/users/alice/servers/"+tc.server, tok, nil)
			th.api("DELETE", "/hub/api/users/alice/servers/"+tc.server, tok, nil)
		}
		resp := th.getProgress(t, tok, tc.server)
		r := apiResult{status: resp.StatusCode, body: readAll(t, resp)}
		if r.status != http.StatusBadRequest {
			t.Errorf("progress of %q = %d %s, want 400", tc.server, r.status, r.body)
		}
		var body struct{ Message string }
		r.json(t, &body)
		if body.Message != tc.message {
			t.Errorf("progress of %q message = %q, want %q", tc.server, body.Message, tc.message)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("progress of %q Content-Type = %q, want JSON", tc.server, ct)
		}
	}
}

func TestProgressReadyAndFailed(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	tok := th.token("alice")
	if r := th.api("POST", "/hub/api/users/alice/server", tok, nil); r.status != http.StatusCreated {
		t.Fatalf("POST server = %d %s, want 201", r.status, r.body)
	}
	resp := th.getProgress(t, tok, "")
	events := readEvents(t, bufio.NewScanner(resp.Body), 1)
	want := progressEvent{Progress: 100, Ready: true, URL: "/user/alice/",
		Message:     "Server ready at /user/alice/",
		HTMLMessage: `Server ready at <a href="/user/alice/">/user/alice/</a>`}
	if events[0] != want {
		t.Errorf("event of a ready server = %+v, want %+v", events[0], want)
	}

	th.api("DELETE", "/hub/api/users/alice/server", tok, nil)
	th.spawner.mu.Lock()
	th.spawner.fail = errors.New("no space left")
	th.spawner.mu.Unlock()
	th.api("POST", "/hub/api/users/alice/server", tok, nil)
	resp = th.getProgress(t, tok, "")
	events = readEvents(t, bufio.NewScanner(resp.Body), 1)
	if !events[0].Failed || events[0].Message != "Spawn failed: no space left" {
		t.Errorf("event after a failed start = %+v, want failed with its message", events[0])
	}
}
