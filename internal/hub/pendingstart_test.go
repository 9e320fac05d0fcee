package hub

import (
	"net/http"
	"strings"
	"testing"
)

// While a start is pending, JupyterHub 3.0 returns 202 to another start
// and 400 ("pending spawn, please wait") to a stop.
func TestAPIWhileStartPending(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.spawner.reportState = true
	gate := make(chan struct{})
	th.spawner.gate = gate
	th.hub.slowSpawn = 0
	token := th.token("alice")
	for i := range 10 {
		if r := th.api("POST", "/hub/api/users/alice/server", token, nil); r.status != http.StatusAccepted {
			t.Errorf("start %d while pending = %d %s, want 202", i+1, r.status, r.body)
		}
	}
	r := th.api("DELETE", "/hub/api/users/alice/server", token, nil)
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "pending spawn") {
		t.Errorf("stop while the start is pending = %d %s, want 400 pending spawn", r.status, r.body)
	}
	close(gate)
	waitFor(t, "the server to be ready", func() bool {
		sv, err := th.store.GetServer(t.Context(), "alice", "")
		return err == nil && sv.Ready()
	})
}
