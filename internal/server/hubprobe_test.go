package server

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// probeScript runs JupyterHub's own readiness check, wait_for_http_server
// from Debian's jupyterhub 3.0, against sys.argv[1]. It never follows a
// redirect, and any status under 500 passes. It prints the status and the
// X-JupyterHub-Version header, and exits non-zero when the check fails.
const probeScript = `
import asyncio, sys
from jupyterhub.utils import wait_for_http_server

async def main():
    r = await wait_for_http_server(sys.argv[1], timeout=10)
    print(r.code, r.headers.get("X-JupyterHub-Version", ""))

asyncio.run(main())
`

// TestHubReadinessJupyterHubCheck runs `jupygo server` with a hub's
// environment and sends it JupyterHub's own readiness check at both URLs
// that hubs check: 3.x and 4.x the server's prefix, 5.x {prefix}api.
// TestHubReadinessProbes checks the same responses in process.
func TestHubReadinessJupyterHubCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const python = "/usr/bin/python3"
	if exec.Command(python, "-c", "import jupyterhub.utils").Run() != nil {
		t.Skip("no /usr/bin/python3 with jupyterhub (apt-get install jupyterhub)")
	}
	jupygo := buildJupygo(t, t.TempDir())
	hub := newFakeHub(t)
	vars := hub.env()
	port := freePort(t)
	vars["JUPYTERHUB_SERVICE_URL"] = fmt.Sprintf("http://127.0.0.1:%d/user/alice/", port)
	home := t.TempDir()
	cmd := exec.Command(jupygo, "server")
	cmd.Dir = home
	cmd.Env = append(withoutHubEnv(os.Environ()), "HOME="+home, "JUPYTER_RUNTIME_DIR="+t.TempDir())
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		<-exited
		if t.Failed() {
			t.Logf("jupygo server output:\n%s", output.String())
		}
	})
	direct := fmt.Sprintf("http://127.0.0.1:%d", port)
	noFollow := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	waitFor(t, exited, func() bool {
		resp, err := noFollow.Get(direct + "/user/alice/api")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})

	tests := []struct {
		hubs       string
		path       string
		wantStatus int
	}{
		// The prefix redirects a request without credentials to the hub's
		// OAuth, which the check does not follow.
		{"JupyterHub 3.x and 4.x", "/user/alice/", http.StatusFound},
		{"JupyterHub 5.x", "/user/alice/api", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.hubs, func(t *testing.T) {
			out, err := exec.Command(python, "-c", probeScript, direct+tt.path).CombinedOutput()
			if err != nil {
				t.Fatalf("JupyterHub's wait_for_http_server(%s) failed: %v\n%s", tt.path, err, out)
			}
			fields := strings.Fields(string(out))
			if len(fields) != 2 || fields[0] != fmt.Sprint(tt.wantStatus) || fields[1] != "5.5.1" {
				t.Errorf("JupyterHub's check of %s saw %q, want status %d and version 5.5.1",
					tt.path, out, tt.wantStatus)
			}
		})
	}
}
