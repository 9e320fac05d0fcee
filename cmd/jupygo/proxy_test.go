package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestProxyHelpShowsFlagsAndDefaults(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"proxy", "--help"}, &out, &errs); code != 0 {
		t.Fatalf("jupygo proxy --help exited %d", code)
	}
	help := out.String() + errs.String()
	for _, want := range []string{
		"--ip", "--port", "(default 8000)", "--api-ip", "(default localhost)", "--api-port",
		"--default-target", "--error-target", "--error-path", "--log-level", "(default info)",
		"--host-routing", "--ssl-key", "--ssl-cert", "--api-ssl-key", "--api-ssl-cert",
		"--no-x-forward", "--no-include-prefix", "--prepend-path", "--no-prepend-path",
		"--timeout", "--proxy-timeout", "--redirect-port", "--redirect-to", "--pid-file",
		"--keep-alive-timeout", "(default 5000)", "--custom-header", "--insecure",
		"--storage-backend", "CONFIGPROXY_AUTH_TOKEN",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("jupygo proxy --help does not show %q:\n%s", want, help)
		}
	}
}

func TestProxyRejectsFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--storage-backend", "redis"}, "--storage-backend is not supported"},
		{[]string{"--auto-rewrite"}, "--auto-rewrite is not supported"},
		{[]string{"--metrics-port", "9000"}, "--metrics-port is not supported"},
		{[]string{"--no-such-flag"}, "no-such-flag"},
		{[]string{"--custom-header", "nocolon"}, "a colon was expected"},
		{[]string{"--error-target", "http://127.0.0.1:1", "--error-path", "/tmp"}, "cannot both be set"},
		{[]string{"--redirect-port", "8080"}, "--redirect-port needs --ssl-key"},
		{[]string{"--port", "70000"}, "invalid --port"},
		{[]string{"--log-level", "loud"}, "invalid --log-level"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		var out, errs bytes.Buffer
		if code := run(append([]string{"proxy"}, tc.args...), &out, &errs); code != 2 {
			t.Errorf("jupygo proxy %v exited %d, want 2", tc.args, code)
		}
		if !strings.Contains(errs.String(), tc.want) {
			t.Errorf("jupygo proxy %v printed %q, want %q", tc.args, errs.String(), tc.want)
		}
	}
}

func TestProxyFlagsForwardingOptions(t *testing.T) {
	for _, tc := range []struct {
		args                []string
		trust, noXForwarded bool
	}{
		{nil, true, false},
		{[]string{"--strip-forwarded"}, false, false},
		{[]string{"--no-x-forward"}, true, true},
		{[]string{"--x-forward=false", "--strip-forwarded"}, false, true},
	} {
		var f proxyFlags
		fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
		f.register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("parse %v: %v", tc.args, err)
		}
		opts := f.options(nil)
		if opts.TrustForwarded != tc.trust {
			t.Errorf("%v: TrustForwarded = %v, want %v", tc.args, opts.TrustForwarded, tc.trust)
		}
		if opts.NoXForwarded != tc.noXForwarded {
			t.Errorf("%v: NoXForwarded = %v, want %v", tc.args, opts.NoXForwarded, tc.noXForwarded)
		}
	}
}

// proxyProcess is a `jupygo proxy` started by a test.
type proxyProcess struct {
	public, api string // base URLs
	token       string
}

// startProxyProcess runs `jupygo proxy` on free loopback ports with the
// API token "secret" and the extra flags, and waits for its API.
func startProxyProcess(t *testing.T, bin string, extra ...string) *proxyProcess {
	t.Helper()
	port, apiPort := freePort(t), freePort(t)
	p := &proxyProcess{
		public: fmt.Sprintf("http://127.0.0.1:%d", port),
		api:    fmt.Sprintf("http://127.0.0.1:%d", apiPort),
		token:  "secret",
	}
	args := append([]string{"proxy", "--ip", "127.0.0.1", "--port", strconv.Itoa(port),
		"--api-ip", "127.0.0.1", "--api-port", strconv.Itoa(apiPort), "--log-level", "debug"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "CONFIGPROXY_AUTH_TOKEN="+p.token)
	cmd.Stdout, cmd.Stderr = &testLogWriter{t: t}, &testLogWriter{t: t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Error("jupygo proxy did not stop within 10 s of SIGTERM")
		}
	})

	deadline := time.Now().Add(30 * time.Second)
	for {
		if res, err := http.Get(p.api + "/api/routes"); err == nil {
			res.Body.Close()
			return p
		}
		select {
		case <-exited:
			t.Fatal("jupygo proxy exited at start")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("jupygo proxy did not listen within 30 s")
		}
	}
}

func (p *proxyProcess) request(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, p.api+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+p.token)
	return doRequest(t, req)
}

func doRequest(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(data)
}

func getURL(t *testing.T, u string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return doRequest(t, req)
}

// echoUpstream responds with the request target and the forwarding headers,
// and echoes WebSocket messages.
func echoUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			typ, msg, err := c.Read(r.Context())
			if err == nil {
				c.Write(r.Context(), typ, append([]byte("echo: "), msg...))
			}
			return
		}
		fmt.Fprintf(w, "%s %s for=%s proto=%s custom=%s", r.Method, r.RequestURI,
			r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Custom"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestProxyCommandRoutes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts jupygo")
	}
	bin := buildJupygo(t)
	upstream := echoUpstream(t)
	errPages := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/x-error")
		fmt.Fprintf(w, "error page %s url=%s", r.URL.Path, r.URL.Query().Get("url"))
	}))
	t.Cleanup(errPages.Close)
	pidFile := filepath.Join(t.TempDir(), "proxy.pid")
	p := startProxyProcess(t, bin, "--error-target", errPages.URL+"/hub/error",
		"--custom-header", "X-Custom: yes", "--pid-file", pidFile)

	if data, err := os.ReadFile(pidFile); err != nil || strings.TrimSpace(string(data)) == "" {
		t.Errorf("pid file: %q, %v", data, err)
	}
	if status, _ := p.request(t, "POST", "/api/routes/user/alice",
		fmt.Sprintf(`{"target": %q, "user": "alice"}`, upstream.URL+"/srv")); status != 201 {
		t.Fatalf("POST route = %d", status)
	}

	t.Run("forwarding", func(t *testing.T) {
		status, body := getURL(t, p.public+"/user/alice/api/status?x=1")
		want := "GET /srv/user/alice/api/status?x=1 for=127.0.0.1 proto=http custom=yes"
		if status != 200 || body != want {
			t.Errorf("GET through the proxy = %d %q, want 200 %q", status, body, want)
		}
	})
	t.Run("client forwarding headers kept", func(t *testing.T) {
		req, _ := http.NewRequest("GET", p.public+"/user/alice/x", nil)
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		req.Header.Set("X-Forwarded-Proto", "https")
		status, body := doRequest(t, req)
		want := "GET /srv/user/alice/x for=203.0.113.9, 127.0.0.1 proto=https custom=yes"
		if status != 200 || body != want {
			t.Errorf("GET with X-Forwarded-* = %d %q, want 200 %q", status, body, want)
		}
	})
	t.Run("error target", func(t *testing.T) {
		status, body := getURL(t, p.public+"/user/bob/lab?a=b")
		want := "error page /hub/error/404 url=/user/bob/lab?a=b"
		if status != 404 || body != want {
			t.Errorf("GET without a route = %d %q, want 404 %q", status, body, want)
		}
		p.request(t, "POST", "/api/routes/user/down", `{"target": "http://127.0.0.1:1"}`)
		if status, body := getURL(t, p.public+"/user/down/"); status != 503 ||
			body != "error page /hub/error/503 url=/user/down/" {
			t.Errorf("GET of a stopped target = %d %q, want 503 and the error page", status, body)
		}
	})
	t.Run("websocket", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		ws := "ws" + strings.TrimPrefix(p.public, "http") + "/user/alice/api/events"
		c, _, err := websocket.Dial(ctx, ws, nil)
		if err != nil {
			t.Fatalf("WebSocket through the proxy: %v", err)
		}
		defer c.CloseNow()
		if err := c.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		_, msg, err := c.Read(ctx)
		if err != nil || string(msg) != "echo: hi" {
			t.Errorf("WebSocket reply = %q, %v", msg, err)
		}
	})
	t.Run("api token", func(t *testing.T) {
		if status, _ := getURL(t, p.api+"/api/routes"); status != 403 {
			t.Errorf("GET /api/routes without the token = %d, want 403", status)
		}
		status, body := p.request(t, "GET", "/api/routes/user/alice", "")
		if status != 200 || !strings.Contains(body, `"user":"alice"`) {
			t.Errorf("GET /api/routes/user/alice = %d %s", status, body)
		}
	})
	t.Run("health", func(t *testing.T) {
		if status, body := getURL(t, p.public+"/_chp_healthz"); status != 200 || body != `{"status": "OK"}` {
			t.Errorf("health check = %d %q", status, body)
		}
	})
}

func TestProxyCommandDefaultTargetAndFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts jupygo")
	}
	bin := buildJupygo(t)
	upstream := echoUpstream(t)
	p := startProxyProcess(t, bin, "--default-target", upstream.URL+"/base",
		"--no-include-prefix", "--no-prepend-path", "--no-x-forward", "--proxy-timeout", "5000",
		"--timeout", "60000", "--keep-alive-timeout", "1000")
	status, body := getURL(t, p.public+"/anything?q=1")
	if want := "GET /anything?q=1 for= proto= custom="; status != 200 || body != want {
		t.Errorf("GET via the default target = %d %q, want %q", status, body, want)
	}
	p.request(t, "POST", "/api/routes/user/alice", fmt.Sprintf(`{"target": %q}`, upstream.URL+"/srv"))
	status, body = getURL(t, p.public+"/user/alice/lab")
	if want := "GET /lab for= proto= custom="; status != 200 || body != want {
		t.Errorf("GET with --no-include-prefix = %d %q, want %q", status, body, want)
	}
	if status, body := getURL(t, p.public+"/_nothing_here"); status != 200 {
		t.Errorf("the default target does not catch unrouted paths: %d %q", status, body)
	}
}

func TestProxyLinkedAsConfigurableHTTPProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds jupygo")
	}
	link := filepath.Join(t.TempDir(), chpName)
	if err := os.Symlink(buildJupygo(t), link); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(link, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --help: %v\n%s", chpName, err, out)
	}
	if !strings.Contains(string(out), "Usage: jupygo proxy") {
		t.Errorf("%s --help does not print the proxy's usage:\n%s", chpName, out)
	}
}

// freePort returns a loopback port that was free a moment ago, for
// listeners whose port 0 means "none", such as http_redirect_port.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// testLogWriter sends a child process's output to the test log.
type testLogWriter struct{ t *testing.T }

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
