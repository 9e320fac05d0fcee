package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/jupygo/jupygo/frontend"
	"github.com/jupygo/jupygo/internal/testutil/sysaccount"
)

// The interoperability tests run a real JupyterHub (Debian's jupyterhub
// package, 3.0) and let the hub spawn `jupygo server` as a user's server,
// with SimpleLocalProcessSpawner, and as root also with
// LocalProcessSpawner, which runs it as the user's system account. They
// need jupyterhub on PATH. One runs the hub with configurable-http-proxy
// ($CONFIGURABLE_HTTP_PROXY, or the one on PATH), the others with `jupygo
// proxy` in its place.

// realHub is a running JupyterHub.
type realHub struct {
	url   string // the proxy's public URL
	token string // a service token that reads users and stops servers
	log   *syncBuffer
}

// realHubOptions are the settings of one JupyterHub run.
type realHubOptions struct {
	proxy    []string // the proxy command
	proxyEnv []string // extra environment of the hub, which it passes to the proxy
	jupygo   string   // the jupygo binary, the user servers' command
	// spawner is the value of spawner_class: "simple" or "localprocess".
	spawner string
}

// debianNodePath is where Debian's Node.js packages keep their modules.
const debianNodePath = "/usr/share/nodejs"

// findProxy returns a configurable-http-proxy that runs and the extra
// environment it needs, or "". Debian's proxy package fails under a
// Node.js that does not search /usr/share/nodejs, such as NodeSource's,
// because it cannot find its commander module, so it is also tried with
// that folder in NODE_PATH.
func findProxy() (string, []string) {
	candidates := []string{os.Getenv("CONFIGURABLE_HTTP_PROXY")}
	if p, err := exec.LookPath("configurable-http-proxy"); err == nil {
		candidates = append(candidates, p)
	}
	nodePath := debianNodePath
	if old := os.Getenv("NODE_PATH"); old != "" {
		nodePath += ":" + old
	}
	for _, env := range [][]string{nil, {"NODE_PATH=" + nodePath}} {
		for _, c := range candidates {
			if c == "" {
				continue
			}
			cmd := exec.Command(c, "--version")
			cmd.Env = append(os.Environ(), env...)
			if cmd.Run() == nil {
				return c, env
			}
		}
	}
	return "", nil
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
// DummyAuthenticator and the spawner and proxy of o, and waits until its
// proxy serves the hub. The hub logs at debug level, which shows the
// signals that stop a server.
func startRealHub(t *testing.T, o realHubOptions) *realHub {
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
c.JupyterHub.spawner_class = %q
c.JupyterHub.log_level = 'DEBUG'
c.SimpleLocalProcessSpawner.home_dir_template = %q
c.Spawner.cmd = [%q, 'server']
c.Spawner.default_url = '/lab'
c.JupyterHub.db_url = 'sqlite:///' + %q
c.JupyterHub.cookie_secret_file = %q
c.JupyterHub.pid_file = %q
c.JupyterHub.cleanup_servers = True
c.JupyterHub.services = [{'name': 'test', 'api_token': %q}]
c.JupyterHub.load_roles = [{'name': 'test', 'services': ['test'],
    'scopes': ['read:users', 'read:servers', 'delete:servers', 'admin:server_state']}]
`, public, hubPort, apiPort, pythonList(o.proxy), filepath.Join(dir, "proxy.pid"),
		o.spawner, filepath.Join(dir, "home", "{username}"), o.jupygo, filepath.Join(dir, "hub.sqlite"),
		filepath.Join(dir, "cookie_secret"), filepath.Join(dir, "hub.pid"), token)
	cfgFile := filepath.Join(dir, "jupyterhub_config.py")
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}

	log := &syncBuffer{}
	cmd := exec.Command("jupyterhub", "-f", cfgFile)
	cmd.Dir = dir
	cmd.Env = append(withoutHubEnv(os.Environ()), o.proxyEnv...)
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

// hubUserModel is the part of JupyterHub's user model that the tests read.
type hubUserModel struct {
	LastActivity *string `json:"last_activity"`
	Servers      map[string]struct {
		Ready        bool    `json:"ready"`
		LastActivity *string `json:"last_activity"`
		State        struct {
			PID int `json:"pid"`
		} `json:"state"`
	} `json:"servers"`
}

// user returns the hub's model of the user, and its JSON.
func (h *realHub) user(t *testing.T, name string) (hubUserModel, []byte) {
	t.Helper()
	req := mustRequest(t, "GET", h.url+"/hub/api/users/"+name, nil)
	req.Header.Set("Authorization", "token "+h.token)
	resp, body := send(t, http.DefaultClient, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /hub/api/users/%s = %d %s", name, resp.StatusCode, body)
	}
	return decode[hubUserModel](t, body), body
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
	proxy, env := findProxy()
	if proxy == "" {
		t.Skip("no working configurable-http-proxy: install Debian's node-configurable-http-proxy " +
			"or set CONFIGURABLE_HTTP_PROXY (npm install configurable-http-proxy@5)")
	}
	testHubInterop(t, realHubOptions{proxy: []string{proxy}, proxyEnv: env,
		jupygo: buildJupygo(t, t.TempDir()), spawner: "simple"}, "alice")
}

// TestHubInteropJupyterHubJupygoProxy runs JupyterHub with `jupygo proxy`
// in configurable-http-proxy's place.
func TestHubInteropJupyterHubJupygoProxy(t *testing.T) {
	skipWithoutJupyterHub(t)
	jupygo := buildJupygo(t, t.TempDir())
	testHubInterop(t, realHubOptions{proxy: []string{jupygo, "proxy"}, jupygo: jupygo,
		spawner: "simple"}, "alice")
}

// TestHubInteropJupyterHubLocalProcess runs jupygo server under
// JupyterHub's LocalProcessSpawner, as a system account made for the test.
func TestHubInteropJupyterHubLocalProcess(t *testing.T) {
	skipWithoutJupyterHub(t)
	if os.Geteuid() != 0 {
		t.Skip("LocalProcessSpawner runs servers as system accounts, which needs a hub " +
			"running as root (CI runs the tests as root)")
	}
	name := sysaccount.NewName()
	account := sysaccount.Add(t, name)
	jupygo := sysaccount.SharedBinary(t, buildJupygo(t, t.TempDir()))
	testHubInterop(t, realHubOptions{proxy: []string{jupygo, "proxy"}, jupygo: jupygo,
		spawner: "localprocess"}, name)

	info, err := os.Stat(filepath.Join(account.HomeDir, ".local", "share", "jupyter", "runtime"))
	if err != nil {
		t.Fatalf("the server kept no runtime folder in the account's home: %v", err)
	}
	if owner := strconv.Itoa(int(info.Sys().(*syscall.Stat_t).Uid)); owner != account.Uid {
		t.Errorf("the server's runtime folder belongs to uid %s, want %s's %s", owner, name,
			account.Uid)
	}
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

// testHubInterop signs user in to a JupyterHub run with o, uses the
// user's jupygo server through the hub's proxy, and stops the server with
// the hub's REST API.
func testHubInterop(t *testing.T, o realHubOptions, user string) {
	hub := startRealHub(t, o)
	prefix := "/user/" + user + "/"

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: time.Minute}

	// DummyAuthenticator accepts any password. The hub spawns the server and
	// sends the browser through the OAuth flow to the default URL, /lab.
	form := url.Values{"username": {user}, "password": {"any"}}
	resp, err := browser.PostForm(hub.url+"/hub/login?next=", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The login returns while the server starts. Until the hub has added
	// its route, /user/NAME/ reaches the hub instead of the server.
	deadline := time.Now().Add(time.Minute)
	for {
		model, body := hub.user(t, user)
		if model.Servers[""].Ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's server is not ready a minute after the login: %s", user, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	resp, body := send(t, browser, mustRequest(t, "GET", hub.url+prefix+"lab", nil))
	if resp.Request.URL.Path != prefix+"lab" {
		t.Fatalf("login ended at %s (%d), want %slab", resp.Request.URL, resp.StatusCode, prefix)
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
			"hubUser": user, "hubPrefix": "/hub/", "hubServerName": "", "baseUrl": prefix,
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
		resp, body := send(t, browser, mustRequest(t, "GET", hub.url+prefix+"api/status", nil))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /api/status with the OAuth cookie = %d %s", resp.StatusCode, body)
		}
		if v := resp.Header.Get("X-JupyterHub-Version"); v == "" {
			t.Error("no X-JupyterHub-Version header")
		}
		resp, _ = send(t, http.DefaultClient, mustRequest(t, "GET", hub.url+prefix+"api/status", nil))
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET /api/status without credentials = %d, want 403", resp.StatusCode)
		}
		if token == "" {
			t.Skip("no token from the page config")
		}
		req := mustRequest(t, "GET", hub.url+prefix+"api/status", nil)
		req.Header.Set("Authorization", "token "+token)
		if resp, body := send(t, http.DefaultClient, req); resp.StatusCode != http.StatusOK {
			t.Errorf("GET /api/status with the page config token = %d %s", resp.StatusCode, body)
		}
	})

	t.Run("websocket with the cookie", func(t *testing.T) {
		ws := "ws" + strings.TrimPrefix(hub.url, "http") + prefix + "api/events/subscribe"
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
		runKernelThroughHub(t, browser, hub.url+prefix)
	})

	t.Run("activity reported", func(t *testing.T) {
		model, body := hub.user(t, user)
		server, ok := model.Servers[""]
		if !ok || !server.Ready {
			t.Fatalf("the hub lists no ready default server: %s", body)
		}
		if server.LastActivity == nil || model.LastActivity == nil {
			t.Errorf("the hub has no activity of %s's server: %s", user, body)
		}
		// The proxy's routes carry activity too, so the server's own
		// report is read from the hub's access log.
		if report := "200 POST /hub/api/users/" + user + "/activity"; !strings.Contains(hub.log.String(), report) {
			t.Errorf("the hub's log has no %q from the server", report)
		}
	})

	t.Run("logout", func(t *testing.T) {
		noFollow := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
		resp, _ := send(t, noFollow, mustRequest(t, "GET", hub.url+prefix+"logout", nil))
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/hub/logout" {
			t.Errorf("logout = %d to %q, want 302 to /hub/logout", resp.StatusCode, loc)
		}
	})

	t.Run("stop from the admin API", func(t *testing.T) {
		model, body := hub.user(t, user)
		pid := model.Servers[""].State.PID
		if pid <= 0 {
			t.Fatalf("the server's state has no pid: %s", body)
		}
		if o.spawner == "localprocess" {
			account, err := osuser.Lookup(user)
			if err != nil {
				t.Fatal(err)
			}
			if uid := sysaccount.UID(pid); uid != account.Uid {
				t.Errorf("the server runs as uid %s, want %s's %s", uid, user, account.Uid)
			}
		}
		req := mustRequest(t, "DELETE", hub.url+"/hub/api/users/"+user+"/server", nil)
		req.Header.Set("Authorization", "token "+hub.token)
		resp, body := send(t, http.DefaultClient, req)
		if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusAccepted {
			t.Fatalf("DELETE /hub/api/users/%s/server = %d %s", user, resp.StatusCode, body)
		}
		deadline := time.Now().Add(time.Minute)
		for {
			model, body := hub.user(t, user)
			_, running := model.Servers[""]
			if !running && sysaccount.Gone(pid) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a minute after the stop, pid %d gone: %v, the hub's model: %s",
					pid, sysaccount.Gone(pid), body)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// LocalProcessSpawner sends SIGINT, and SIGTERM only to a server
		// that is still running 10 seconds later.
		log := hub.log.String()
		if !strings.Contains(log, fmt.Sprintf("Interrupting %d", pid)) {
			t.Errorf("the hub's log does not show the SIGINT to %d", pid)
		}
		if strings.Contains(log, fmt.Sprintf("Terminating %d", pid)) {
			t.Errorf("the server %d did not stop on SIGINT, so the hub sent SIGTERM", pid)
		}
		if !strings.Contains(log, "msg=\"shutting down\"") {
			t.Error("the server's log does not show its shutdown")
		}
		// Without the server's route, the proxy sends the request to the
		// hub, which redirects it to its page for a stopped server.
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
		resp, _ = send(t, noFollow, mustRequest(t, "GET", hub.url+prefix+"api/status", nil))
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound ||
			!strings.HasPrefix(loc, "/hub"+prefix) {
			t.Errorf("GET %sapi/status after the stop = %d to %q, want a redirect to /hub%s",
				prefix, resp.StatusCode, loc, prefix)
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
