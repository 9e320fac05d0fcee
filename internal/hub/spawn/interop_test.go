package spawn

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestStartJupyterHubSingleuser starts JupyterHub's own single-user server,
// where it is installed, to check that the environment the spawner passes
// is the one JupyterHub's servers read.
func TestStartJupyterHubSingleuser(t *testing.T) {
	path, err := exec.LookPath("jupyterhub-singleuser")
	if err != nil {
		t.Skip("jupyterhub-singleuser is not installed")
	}
	hub := newFakeHub(t)
	s, rec := newSpawner(t)

	r := jupygoRequest(hub.URL)
	r.Cmd = []string{path}
	if os.Geteuid() == 0 {
		r.Args = []string{"--allow-root"} // jupyter_server refuses root without it
	}
	started, err := s.Start(t.Context(), r, nil)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	st := mustState(t, started.State)
	t.Cleanup(func() { killGroup(t, st) })

	// jupyterhub-singleuser listens before it calls the hub's API root,
	// and responds to requests while it waits for the hub's response, so
	// Start may return before the call reached the hub.
	select {
	case <-hub.rootCalled:
	case <-time.After(30 * time.Second):
		t.Error("jupyterhub-singleuser never called the hub's API root")
	}
	resp, err := http.Get(started.URL + r.Prefix + "api")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %sapi: status %d, want 200", r.Prefix, resp.StatusCode)
	}

	if err := s.Stop(t.Context(), started.State); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	// NOTE: jupyterhub-singleuser exits on SIGINT, but in one of about 90
	// runs under load it still ran interrupt_timeout later and stopped
	// on SIGTERM, so only SIGKILL fails the test.
	if rec.find("server killed", nil) != nil {
		output, _ := os.ReadFile(outputPath(filepath.Join(s.UsersDir, r.User), r.Server))
		t.Errorf("jupyterhub-singleuser needed SIGKILL to stop; Stop logged %q; its output:\n%s",
			stopMessages(rec), output)
	}
	if rec.find("server stopped", map[string]string{"signal": "SIGINT"}) == nil {
		t.Logf("jupyterhub-singleuser did not stop on SIGINT; Stop logged %q", stopMessages(rec))
	}
}
