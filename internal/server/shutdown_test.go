package server

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// servingServer is a server running Serve on a loopback port.
type servingServer struct {
	srv    *Server
	base   string // http://127.0.0.1:PORT/
	cancel context.CancelFunc
	done   chan error
}

func startServing(t *testing.T, cfg Config) *servingServer {
	t.Helper()
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ss := &servingServer{srv: srv, base: "http://" + ln.Addr().String() + "/",
		cancel: cancel, done: make(chan error, 1)}
	go func() { ss.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-ss.done // returned already when a test has waited for it
	})
	return ss
}

// stop cancels Serve's context and waits for Serve to return.
func (ss *servingServer) stop(t *testing.T) {
	t.Helper()
	ss.cancel()
	ss.waitServeReturned(t)
}

// request sends an empty request with the token, unless token is "".
func (ss *servingServer) request(t *testing.T, method, path, token string) (*http.Response, []byte) {
	t.Helper()
	req := mustRequest(t, method, ss.base+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "token "+token)
	}
	return send(t, http.DefaultClient, req)
}

// waitServeReturned waits for Serve to return and fails on its error.
func (ss *servingServer) waitServeReturned(t *testing.T) {
	t.Helper()
	select {
	case err := <-ss.done:
		ss.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve still running after 30 s")
	}
}

// processesWith returns the live processes whose command line or
// environment contains s.
func processesWith(t *testing.T, s string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() || isZombie(pid) {
			continue
		}
		for _, file := range []string{"cmdline", "environ"} {
			data, _ := os.ReadFile(filepath.Join("/proc", e.Name(), file))
			if strings.Contains(string(data), s) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

func TestShutdownRequestStopsServer(t *testing.T) {
	requireIPyKernel(t)
	t.Setenv("SHELL", "/bin/sh")
	runtime, root := t.TempDir(), t.TempDir()
	ss := startServing(t, Config{
		RootDir: root, Token: testToken, RuntimeDir: runtime, ConfigDir: t.TempDir(),
	})

	resp, body := ss.request(t, "POST", "api/kernels", testToken)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/kernels = %d %s", resp.StatusCode, body)
	}
	resp, body = ss.request(t, "POST", "api/terminals", testToken)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/terminals = %d %s", resp.StatusCode, body)
	}
	name := decode[map[string]any](t, body)["name"].(string)
	auth := http.Header{"Authorization": {"token " + testToken}}
	c := dialTerminal(t, wsBase(strings.TrimSuffix(ss.base, "/")), name,
		&websocket.DialOptions{HTTPHeader: auth})
	c.run("echo ready", "ready")
	// The kernel's command line names its connection file in the runtime
	// folder, and the terminal's environment names the root folder.
	if len(processesWith(t, runtime)) == 0 || len(processesWith(t, root)) == 0 {
		t.Fatalf("kernel or terminal not found among the processes")
	}

	resp, body = ss.request(t, "POST", "api/shutdown", testToken)
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("POST /api/shutdown = %d %q, want 200 and no body", resp.StatusCode, body)
	}
	ss.waitServeReturned(t)
	if pids := processesWith(t, runtime); len(pids) > 0 {
		t.Errorf("kernel processes %v outlived the server", pids)
	}
	if pids := processesWith(t, root); len(pids) > 0 {
		t.Errorf("terminal processes %v outlived the server", pids)
	}
	if _, err := http.Get(ss.base + "api"); err == nil {
		t.Error("the server still answers after the shutdown")
	}
}

func TestShutdownRejectsBadRequests(t *testing.T) {
	ss := startServing(t, Config{
		RootDir: t.TempDir(), Token: testToken, RuntimeDir: t.TempDir(), ConfigDir: t.TempDir(),
	})
	tests := []struct {
		name, method, token string
		want                int
	}{
		{"no token", "POST", "", http.StatusForbidden},
		{"wrong token", "POST", "wrong-token", http.StatusForbidden},
		{"GET", "GET", testToken, http.StatusMethodNotAllowed},
		{"DELETE", "DELETE", testToken, http.StatusMethodNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ss.request(t, tc.method, "api/shutdown", tc.token)
			if resp.StatusCode != tc.want {
				t.Errorf("%s /api/shutdown = %d, want %d", tc.method, resp.StatusCode, tc.want)
			}
			if msg := decode[map[string]any](t, body)["message"]; msg == "" || msg == nil {
				t.Errorf("error body %s has no message", body)
			}
		})
	}
	if resp, _ := ss.request(t, "GET", "api/status", testToken); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/status after the rejected requests = %d, want 200", resp.StatusCode)
	}
}

func TestShutdownNeedsXSRFWithCookie(t *testing.T) {
	ts := newTestServer(t, nil)
	c := ts.browser(t)
	req := mustRequest(t, "POST", ts.URL+"/api/shutdown", nil)
	if resp, _ := send(t, c, req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST /api/shutdown with a cookie but no XSRF token = %d, want 403", resp.StatusCode)
	}
	select {
	case <-ts.srv.quit:
		t.Error("the rejected request stopped the server")
	default:
	}
}

func TestQuitButtonInPageConfig(t *testing.T) {
	ts := newTestServer(t, nil)
	config := ts.srv.pageConfig(mustRequest(t, "GET", ts.URL+"/lab", nil))
	if config["quitButton"] != true {
		t.Errorf("quitButton = %v, want true", config["quitButton"])
	}

	hs := startHubServer(t, newFakeHub(t), nil)
	config = hs.srv.pageConfig(mustRequest(t, "GET", hs.direct+"/lab", nil))
	if config["quitButton"] != false {
		t.Errorf("quitButton of a JupyterHub single-user server = %v, want false",
			config["quitButton"])
	}
}
