package kernel

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestJupyterLabClient runs testdata/jupyterlab/client.js, which drives a
// kernel with @jupyterlab/services, the kernel client of JupyterLab. It
// needs node and the packages of testdata/jupyterlab/package.json: set
// JUPYGO_JUPYTERLAB_MODULES to the node_modules folder of an npm install of
// that file.
func TestJupyterLabClient(t *testing.T) {
	skipWithoutIPyKernel(t)
	modules := os.Getenv("JUPYGO_JUPYTERLAB_MODULES")
	if modules == "" {
		t.Skip("JUPYGO_JUPYTERLAB_MODULES is not set")
	}
	script, err := filepath.Abs(filepath.Join("testdata", "jupyterlab", "client.js"))
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, Options{})
	cmd := exec.CommandContext(t.Context(), "node", script, ts.srv.URL+"/")
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("client output:\n%s", out.String())
	if err != nil {
		t.Fatalf("JupyterLab client: %v", err)
	}
	for _, want := range []string{
		"exec [ 'ok', '2\\n' ]",
		"input [ 'ok', 'got alice\\n' ]",
		"after restart [ 'ok', 'restarted\\n' ]",
		"status autorestarting",
		"after death [ 'ok', 'alive\\n' ]",
		`comm [{"n":3},[3]]`,
		"done",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("client output lacks %q", want)
		}
	}
}
