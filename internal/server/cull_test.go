package server

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestIdleSessionKernelCulled(t *testing.T) {
	requireIPyKernel(t)
	ts := newTestServer(t, func(c *Config) {
		c.CullIdleTimeout = time.Second
		c.CullInterval = 100 * time.Millisecond
	})
	create := map[string]any{"path": "a.ipynb", "type": "notebook",
		"kernel": map[string]any{"name": "python3"}}
	resp, body := ts.do(t, "POST", "/api/sessions", create, true)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/sessions = %d %s", resp.StatusCode, body)
	}
	kernelID := decode[testSession](t, body).Kernel.ID

	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, _ := ts.do(t, "GET", "/api/kernels/"+kernelID, nil, true)
		if resp.StatusCode == http.StatusNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kernel %s not culled after 30 s", kernelID)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, body = ts.do(t, "GET", "/api/sessions", nil, true)
	if list := decode[[]testSession](t, body); len(list) != 0 {
		t.Errorf("sessions after culling = %+v, want none", list)
	}
	if !strings.Contains(ts.logs.String(), "culling idle kernel") {
		t.Errorf("no log record of the culling")
	}
}
