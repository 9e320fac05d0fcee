package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/jupygo/jupygo/frontend"
)

// The interoperability tests run a real JupyterHub (Debian's jupyterhub
// package, 3.0) and let the hub spawn `jupygo server` as alice's server.
// They need jupyterhub on PATH. One runs the hub with `jupygo proxy` as its
// proxy; the other with configurable-http-proxy: $CONFIGURABLE_HTTP_PROXY,
// or the one on PATH. Debian's proxy package fails under a Node.js that does not search
// /usr/share/nodejs (it cannot find its commander module), and `npm install
// configurable-http-proxy@5` in a folder of its own provides one.

// realHub is a running JupyterHub.
type realHub struct {
	url   string // the proxy's public URL
	token string // a service token with read access to users
	log   *bytes.Buffer
}

// findProxy returns a configurable-http-proxy that runs, or "".
func findProxy() string {
	candidates := []string{os.Getenv("CONFIGURABLE_HTTP_PROXY")}
	if p, err := exec.LookPath("configurable-http-proxy"); err == nil {
		candidates = append(candidates, p)
	}
	for _, c := range candidates {
		if c != "" && exec.Command(c, "--version").Run() == nil {
			return c
		}
	}
	return ""
}

// buildJupygo compiles the jupygo command into dir.
func buildJupygo(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "jupygo")
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goCmd, "build", "-o", bin, "github.com/jupygo/jupygo/cmd/jupygo").
		CombinedOutput()
	if err != nil {
		t.Fatalf("building jupygo: %v\n%s", err, out)
	}
	return bin
}

// startRealHub starts JupyterHub in a temporary folder, with
// DummyAuthenticator, SimpleLocalProcessSpawner running jupygo, and the
// proxy command proxy, and waits until its proxy serves the hub.
func startRealHub(t *testing.T, proxy []string, jupygo string) *realHub {
	t.Helper()
	dir := t.TempDir()
	public, hubPort, apiPort := freePort(t), freePort(t), freePort(t)
	token := randomHex(16)
	config := fmt.Sprintf(`
c.JupyterHub.bind_url = 'http://127.0.0.1:%d'
c.JupyterHub.hub_bind_url = 'http://127.0.0.1:%d'
c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:%d'
c.ConfigurableHTTPProxy.command = %s
c.ConfigurableHTTPProxy.pid_file = %q
c.JupyterHub.authenticator_class = 'dummy'
c.JupyterHub.spawner_class = 'simple'
c.SimpleLocalProcessSpawner.home_dir_template = %q
c.Spawner.cmd = [%q, 'server']
c.Spawner.default_url = '/lab'
c.JupyterHub.db_url = 'sqlite:///' + %q
c.JupyterHub.cookie_secret_file = %q
c.JupyterHub.pid_file = %q
c.JupyterHub.cleanup_servers = True
c.JupyterHub.services = [{'name': 'test', 'api_token': %q}]
c.JupyterHub.load_roles = [{'name': 'test', 'scopes': ['read:users', 'read:servers'], 'services': ['test']}]
`, public, hubPort, apiPort, pythonList(proxy), filepath.Join(dir, "proxy.pid"),
		filepath.Join(dir, "home", "{username}"), jupygo, filepath.Join(dir, "hub.sqlite"),
		filepath.Join(dir, "cookie_secret"), filepath.Join(dir, "hub.pid"), token)
	cfgFile := filepath.Join(dir, "jupyterhub_config.py")
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}

	log := &bytes.Buffer{}
	cmd := exec.Command("jupyterhub", "-f", cfgFile)
	cmd.Dir = dir
	cmd.Env = withoutHubEnv(os.Environ())
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		// SIGTERM makes the hub stop the servers it spawned and its proxy.
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("JupyterHub log:\n%s", log)
		}
	})

	h := &realHub{url: fmt.Sprintf("http://127.0.0.1:%d", public), token: token, log: log}
	waitFor(t, exited, func() bool {
		resp, err := http.Get(h.url + "/hub/api/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return h
}

// pythonList writes args as a Python list of strings.
func pythonList(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = strconv.Quote(a)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// withoutHubEnv drops JUPYTERHUB_* variables, which a test run inside a
// hub's server would pass on.
func withoutHubEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "JUPYTERHUB_") && !strings.HasPrefix(kv, "JPY_") {
			out = append(out, kv)
		}
	}
	return out
}

// waitFor polls ready every 100 ms for up to a minute, failing early when
// the hub process exits.
func waitFor(t *testing.T, exited <-chan error, ready func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ready() {
		if time.Now().After(deadline) {
			t.Fatal("JupyterHub did not come up within a minute")
		}
		select {
		case err := <-exited:
			t.Fatalf("JupyterHub exited: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func TestHubInteropJupyterHub(t *testing.T) {
	skipWithoutJupyterHub(t)
	proxy := findProxy()
	if proxy == "" {
		t.Skip("no working configurable-http-proxy: set CONFIGURABLE_HTTP_PROXY " +
			"(npm install configurable-http-proxy@5)")
	}
	testHubInterop(t, []string{proxy}, buildJupygo(t, t.TempDir()))
}

// TestHubInteropJupyterHubJupygoProxy runs JupyterHub with `jupygo proxy`
// in configurable-http-proxy's place.
func TestHubInteropJupyterHubJupygoProxy(t *testing.T) {
	skipWithoutJupyterHub(t)
	jupygo := buildJupygo(t, t.TempDir())
	testHubInterop(t, []string{jupygo, "proxy"}, jupygo)
}

func skipWithoutJupyterHub(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts JupyterHub")
	}
	if _, err := exec.LookPath("jupyterhub"); err != nil {
		t.Skip("jupyterhub is not installed (apt-get install jupyterhub)")
	}
}

// testHubInterop signs alice in to a JupyterHub that runs the proxy
// command proxy, and uses her jupygo server through that proxy.
func testHubInterop(t *testing.T, proxy []string, jupygo string) {
	hub := startRealHub(t, proxy, jupygo)

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: time.Minute}

	// DummyAuthenticator accepts any password. The hub spawns the server and
	// sends the browser through the OAuth flow to the default URL, /lab.
	form := url.Values{"username": {"alice"}, "password": {"any"}}
	resp, err := browser.PostForm(hub.url+"/hub/login?next=", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, body := send(t, browser, mustRequest(t, "GET", hub.url+"/user/alice/lab", nil))
	if resp.Request.URL.Path != "/user/alice/lab" {
		t.Fatalf("login ended at %s (%d), want /user/alice/lab", resp.Request.URL, resp.StatusCode)
	}

	var token string
	t.Run("lab page", func(t *testing.T) {
		if !frontend.Built() {
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("lab page without a frontend build = %d, want 503", resp.StatusCode)
			}
			t.Skip("the frontend is not built, so the page has no page config")
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("lab page = %d", resp.StatusCode)
		}
		config := pageConfigOf(t, body)
		for key, want := range map[string]any{
			"hubUser": "alice", "hubPrefix": "/hub/", "hubServerName": "", "baseUrl": "/user/alice/",
		} {
			if config[key] != want {
				t.Errorf("page config %s = %v, want %v", key, config[key], want)
			}
		}
		token, _ = config["token"].(string)
		if token == "" {
			t.Error("page config has no token")
		}
	})

	t.Run("api through the proxy", func(t *testing.T) {
		resp, body := send(t, browser, mustRequest(t, "GET", hub.url+"/user/alice/api/status", nil))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /api/status with the OAuth cookie = %d %s", resp.StatusCode, body)
		}
		if v := resp.Header.Get("X-JupyterHub-Version"); v == "" {
			t.Error("no X-JupyterHub-Version header")
		}
		resp, _ = send(t, http.DefaultClient, mustRequest(t, "GET", hub.url+"/user/alice/api/status", nil))
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET /api/status without credentials = %d, want 403", resp.StatusCode)
		}
		if token == "" {
			t.Skip("no token from the page config")
		}
		req := mustRequest(t, "GET", hub.url+"/user/alice/api/status", nil)
		req.Header.Set("Authorization", "token "+token)
		if resp, body := send(t, http.DefaultClient, req); resp.StatusCode != http.StatusOK {
			t.Errorf("GET /api/status with the page config token = %d %s", resp.StatusCode, body)
		}
	})

	t.Run("websocket with the cookie", func(t *testing.T) {
		ws := "ws" + strings.TrimPrefix(hub.url, "http") + "/user/alice/api/events/subscribe"
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		conn, resp, err := websocket.Dial(ctx, ws, &websocket.DialOptions{HTTPClient: browser})
		if err != nil {
			t.Fatalf("WebSocket through the hub's proxy: %v (response %v)", err, resp)
		}
		conn.Close(websocket.StatusNormalClosure, "")
	})

	t.Run("kernel through the hub", func(t *testing.T) {
		if _, err := os.Stat("/usr/share/jupyter/kernels/python3/kernel.json"); err != nil {
			t.Skip("no python3 kernelspec")
		}
		runKernelThroughHub(t, browser, hub.url+"/user/alice/")
	})

	t.Run("activity reported", func(t *testing.T) {
		req := mustRequest(t, "GET", hub.url+"/hub/api/users/alice", nil)
		req.Header.Set("Authorization", "token "+hub.token)
		resp, body := send(t, http.DefaultClient, req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /hub/api/users/alice = %d %s", resp.StatusCode, body)
		}
		user := decode[struct {
			LastActivity *string `json:"last_activity"`
			Servers      map[string]struct {
				Ready        bool    `json:"ready"`
				LastActivity *string `json:"last_activity"`
			} `json:"servers"`
		}](t, body)
		server, ok := user.Servers[""]
		if !ok || !server.Ready {
			t.Fatalf("the hub lists no ready default server: %s", body)
		}
		if server.LastActivity == nil || user.LastActivity == nil {
			t.Errorf("the hub has no activity of alice's server: %s", body)
		}
	})

	t.Run("logout", func(t *testing.T) {
		noFollow := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
		resp, _ := send(t, noFollow, mustRequest(t, "GET", hub.url+"/user/alice/logout", nil))
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/hub/logout" {
			t.Errorf("logout = %d to %q, want 302 to /hub/logout", resp.StatusCode, loc)
		}
	})
}

// runKernelThroughHub starts a kernel with the browser's cookie session,
// requests its kernel info over the channels WebSocket and shuts it down.
func runKernelThroughHub(t *testing.T, browser *http.Client, base string) {
	t.Helper()
	xsrf := jarCookie(browser, base, "_xsrf")
	req := mustRequest(t, "POST", base+"api/kernels", strings.NewReader(`{"name": "python3"}`))
	req.Header.Set("X-XSRFToken", xsrf)
	resp, body := send(t, browser, req)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/kernels = %d %s", resp.StatusCode, body)
	}
	id := decode[struct {
		ID string `json:"id"`
	}](t, body).ID
	defer func() {
		req := mustRequest(t, "DELETE", base+"api/kernels/"+id, nil)
		req.Header.Set("X-XSRFToken", xsrf)
		if resp, body := send(t, browser, req); resp.StatusCode != http.StatusNoContent {
			t.Errorf("DELETE kernel = %d %s", resp.StatusCode, body)
		}
	}()

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	ws := "ws" + strings.TrimPrefix(base, "http") + "api/kernels/" + id + "/channels"
	conn, resp, err := websocket.Dial(ctx, ws, &websocket.DialOptions{HTTPClient: browser})
	if err != nil {
		t.Fatalf("kernel WebSocket: %v (response %v)", err, resp)
	}
	defer conn.Close(websocket.StatusNormalClosure, "")
	conn.SetReadLimit(1 << 24)
	request := `{"header": {"msg_id": "info-1", "username": "alice", "session": "s1",
		"msg_type": "kernel_info_request", "version": "5.3", "date": ""},
		"parent_header": {}, "metadata": {}, "content": {}, "channel": "shell", "buffers": []}`
	if err := conn.Write(ctx, websocket.MessageText, []byte(request)); err != nil {
		t.Fatal(err)
	}
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for kernel_info_reply: %v", err)
		}
		msg := decode[struct {
			Header struct {
				MsgType string `json:"msg_type"`
			} `json:"header"`
			Parent struct {
				MsgID string `json:"msg_id"`
			} `json:"parent_header"`
		}](t, data)
		if msg.Header.MsgType == "kernel_info_reply" && msg.Parent.MsgID == "info-1" {
			return
		}
	}
}
