package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
)

const testToken = "test-token-0123456789"

// syncBuffer is a log sink that tests can read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testServer struct {
	*httptest.Server
	srv  *Server
	root string
	logs *syncBuffer
}

func newTestServer(t *testing.T, mutate func(*Config)) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	cfg := Config{
		RootDir:    t.TempDir(),
		Token:      testToken,
		RuntimeDir: t.TempDir(),
		ConfigDir:  t.TempDir(),
		Version:    "test",
		Log:        slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	if cfg.ConfigPath == nil {
		cfg.ConfigPath = []string{cfg.ConfigDir} // not the machine's config folders
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		srv.kernels.Close(context.Background())
		if err := srv.closeCollab(context.Background()); err != nil {
			t.Errorf("closing collaboration: %v", err)
		}
	})
	srv.setPort(ts.Listener.Addr().(*net.TCPAddr).Port) // names the login cookie, as Listen does
	return &testServer{Server: ts, srv: srv, root: srv.cfg.RootDir, logs: logs}
}

// do sends a request with the token header unless auth is false.
func (ts *testServer) do(t *testing.T, method, path string, body any, auth bool) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth {
		req.Header.Set("Authorization", "token "+testToken)
	}
	return send(t, ts.Client(), req)
}

func send(t *testing.T, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

func decode[T any](t *testing.T, data []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	return v
}

func noRedirect(c *http.Client) *http.Client {
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}

func TestVersionIsPublic(t *testing.T) {
	ts := newTestServer(t, nil)
	resp, body := ts.do(t, "GET", "/api", nil, false)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api = %d", resp.StatusCode)
	}
	if got := decode[map[string]string](t, body)["version"]; got != "test" {
		t.Errorf("version = %q", got)
	}
}

func TestUnauthenticatedRequests(t *testing.T) {
	ts := newTestServer(t, nil)
	resp, body := ts.do(t, "GET", "/api/status", nil, false)
	if resp.StatusCode != 403 {
		t.Errorf("GET /api/status without token = %d, want 403", resp.StatusCode)
	}
	if msg := decode[map[string]any](t, body)["message"]; msg == nil {
		t.Errorf("403 body has no message: %s", body)
	}

	req, _ := http.NewRequest("GET", ts.URL+"/lab/tree/a.ipynb", nil)
	resp, _ = send(t, noRedirect(ts.Client()), req)
	if resp.StatusCode != 302 {
		t.Fatalf("GET /lab without token = %d, want 302", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); loc != "/login?next=%2Flab%2Ftree%2Fa.ipynb" {
		t.Errorf("redirect to %q", loc)
	}

	req, _ = http.NewRequest("GET", ts.URL+"/api/status", nil)
	req.Header.Set("Authorization", "token wrong")
	if resp, _ = send(t, ts.Client(), req); resp.StatusCode != 403 {
		t.Errorf("wrong token = %d, want 403", resp.StatusCode)
	}
}

func TestFilesWithoutCredentialsRedirectToLogin(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.BaseURL = "/base/" })
	if err := os.WriteFile(filepath.Join(ts.root, "hello world.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := noRedirect(ts.Client())
	want := "/base/login?next=" + url.QueryEscape("/base/files/hello%20world.txt")
	for _, method := range []string{"GET", "HEAD"} {
		resp, _ := send(t, c, mustRequest(t, method, ts.URL+"/base/files/hello%20world.txt", nil))
		if resp.StatusCode != http.StatusFound {
			t.Errorf("%s /files/ without credentials = %d, want 302", method, resp.StatusCode)
		}
		if loc := resp.Header.Get("Location"); loc != want {
			t.Errorf("%s /files/ without credentials redirects to %q, want %q", method, loc, want)
		}
	}

	// API requests and other methods still get a 403 with a JSON body.
	resp, body := send(t, c, mustRequest(t, "GET", ts.URL+"/base/api/contents/hello%20world.txt", nil))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET /api/contents/ without credentials = %d, want 403", resp.StatusCode)
	}
	if msg := decode[map[string]any](t, body)["message"]; msg == nil {
		t.Errorf("403 body has no message: %s", body)
	}
	resp, _ = send(t, c, mustRequest(t, "PUT", ts.URL+"/base/files/hello%20world.txt", nil))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("PUT /files/ without credentials = %d, want 403", resp.StatusCode)
	}

	req := mustRequest(t, "GET", ts.URL+"/base/files/hello%20world.txt", nil)
	req.Header.Set("Authorization", "token "+testToken)
	if resp, body := send(t, c, req); resp.StatusCode != http.StatusOK || string(body) != "hello" {
		t.Errorf("GET /files/ with the token = %d %q, want 200 \"hello\"", resp.StatusCode, body)
	}
}

func TestStatus(t *testing.T) {
	ts := newTestServer(t, nil)
	resp, body := ts.do(t, "GET", "/api/status", nil, true)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/status = %d %s", resp.StatusCode, body)
	}
	st := decode[status](t, body)
	iso := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)
	if !iso.MatchString(st.Started) || !iso.MatchString(st.LastActivity) {
		t.Errorf("times not ISO 8601 UTC: %+v", st)
	}
	if st.Kernels != 0 || st.Connections != 0 {
		t.Errorf("fresh server reports %+v", st)
	}
}

func TestMePermissions(t *testing.T) {
	ts := newTestServer(t, nil)
	q := url.QueryEscape(`{"contents":["read","write"],"kernels":["execute"]}`)
	resp, body := ts.do(t, "GET", "/api/me?permissions="+q, nil, true)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/me = %d %s", resp.StatusCode, body)
	}
	me := decode[struct {
		Identity    identity            `json:"identity"`
		Permissions map[string][]string `json:"permissions"`
	}](t, body)
	want := map[string][]string{"contents": {"read", "write"}, "kernels": {"execute"}}
	if d := cmp.Diff(want, me.Permissions); d != "" {
		t.Errorf("permissions (-want +got):\n%s", d)
	}
	if me.Identity.Username == "" || me.Identity.Initials == "" {
		t.Errorf("identity incomplete: %+v", me.Identity)
	}
	resp, _ = ts.do(t, "GET", "/api/me?permissions=nope", nil, true)
	if resp.StatusCode != 400 {
		t.Errorf("invalid permissions = %d, want 400", resp.StatusCode)
	}
}

// meIdentity returns the identity of GET /api/me sent by c.
func (ts *testServer) meIdentity(t *testing.T, c *http.Client) identity {
	t.Helper()
	resp, body := send(t, c, mustRequest(t, "GET", ts.URL+"/api/me", nil))
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/me = %d %s", resp.StatusCode, body)
	}
	return decode[struct {
		Identity identity `json:"identity"`
	}](t, body).Identity
}

func TestMeIdentityPerSession(t *testing.T) {
	local := localIdentity()
	t.Run("collaborative", func(t *testing.T) {
		ts := newTestServer(t, func(c *Config) { c.Collaborative = true })
		a, b := ts.browser(t), ts.browser(t)
		first, second := ts.meIdentity(t, a), ts.meIdentity(t, b)
		if first.Username == second.Username {
			t.Errorf("two sessions share the user name %q", first.Username)
		}
		if again := ts.meIdentity(t, a); again != first {
			t.Errorf("one session's identity changed from %+v to %+v", first, again)
		}
		if !strings.HasPrefix(first.DisplayName, "Anonymous ") || len(first.Initials) != 2 {
			t.Errorf("session identity %+v, want an anonymous name with two initials", first)
		}
		resp, body := ts.do(t, "GET", "/api/me", nil, true)
		if resp.StatusCode != 200 {
			t.Fatalf("GET /api/me with the token = %d", resp.StatusCode)
		}
		if got := decode[struct {
			Identity identity `json:"identity"`
		}](t, body).Identity; got != local {
			t.Errorf("identity with the token and no session = %+v, want the local user %+v", got, local)
		}
	})
	t.Run("alone", func(t *testing.T) {
		ts := newTestServer(t, nil)
		if got := ts.meIdentity(t, ts.browser(t)); got != local {
			t.Errorf("session identity without collaboration = %+v, want the local user %+v", got, local)
		}
	})
}

// browser returns a client with a cookie jar that has logged in through the
// login form.
func (ts *testServer) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := noRedirect(ts.Client())
	c.Jar = jar
	ts.login(t, c)
	return c
}

// login signs c in through the login form, checking that a forged form and a
// wrong token are refused on the way.
func (ts *testServer) login(t *testing.T, c *http.Client) {
	t.Helper()
	loginForm := func() string {
		resp, body := send(t, c, mustRequest(t, "GET", ts.URL+"/login?next=%2Flab", nil))
		if resp.StatusCode != 200 {
			t.Fatalf("GET /login = %d", resp.StatusCode)
		}
		m := regexp.MustCompile(`name="_xsrf" value="([0-9a-f]+)"`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("login page has no _xsrf field:\n%s", body)
		}
		return string(m[1])
	}
	post := func(token, xsrf string) *http.Response {
		// jupyter_server's login form names the field "password".
		form := url.Values{"password": {token}, "_xsrf": {xsrf}, "next": {"/lab"}}
		req := mustRequest(t, "POST", ts.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, _ := send(t, c, req)
		return resp
	}
	loginForm()
	if resp := post(testToken, "forged"); resp.StatusCode != 403 {
		t.Errorf("login with forged _xsrf = %d, want 403", resp.StatusCode)
	}
	if resp := post("wrong", loginForm()); resp.StatusCode != 401 {
		t.Errorf("login with wrong token = %d, want 401", resp.StatusCode)
	}
	resp := post(testToken, loginForm())
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/lab" {
		t.Fatalf("login = %d to %q, want 303 to /lab", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func mustRequest(t *testing.T, method, u string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func xsrfCookie(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	u, _ := url.Parse(base)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "_xsrf" {
			return ck.Value
		}
	}
	t.Fatal("no _xsrf cookie")
	return ""
}

func TestCookieSessionAndXSRF(t *testing.T) {
	ts := newTestServer(t, nil)
	c := ts.browser(t)
	if resp, body := send(t, c, mustRequest(t, "GET", ts.URL+"/api/status", nil)); resp.StatusCode != 200 {
		t.Fatalf("cookie GET /api/status = %d %s", resp.StatusCode, body)
	}

	body := `{"type":"file"}`
	req := mustRequest(t, "POST", ts.URL+"/api/contents", strings.NewReader(body))
	if resp, _ := send(t, c, req); resp.StatusCode != 403 {
		t.Errorf("cookie POST without X-XSRFToken = %d, want 403", resp.StatusCode)
	}
	req = mustRequest(t, "POST", ts.URL+"/api/contents", strings.NewReader(body))
	req.Header.Set("X-XSRFToken", xsrfCookie(t, c, ts.URL))
	if resp, b := send(t, c, req); resp.StatusCode != 201 {
		t.Errorf("cookie POST with X-XSRFToken = %d %s, want 201", resp.StatusCode, b)
	}

	// A token-authenticated request needs no XSRF token.
	resp, b := ts.do(t, "POST", "/api/contents", map[string]string{"type": "file"}, true)
	if resp.StatusCode != 201 {
		t.Errorf("token POST = %d %s, want 201", resp.StatusCode, b)
	}

	// Logging out ends the cookie session.
	send(t, c, mustRequest(t, "GET", ts.URL+"/logout", nil))
	if resp, _ := send(t, c, mustRequest(t, "GET", ts.URL+"/api/status", nil)); resp.StatusCode != 403 {
		t.Errorf("after logout GET /api/status = %d, want 403", resp.StatusCode)
	}
}

// A page on another port of the same host receives the server's cookies
// and can read the _xsrf cookie, so its requests must fail on their Origin.
func TestCrossOriginCookieRequestsRefused(t *testing.T) {
	ts := newTestServer(t, nil)
	c := ts.browser(t)
	xsrf := xsrfCookie(t, c, ts.URL)
	u, _ := url.Parse(ts.URL)
	otherPort := "http://" + u.Hostname() + ":1"
	tests := []struct {
		name, method, path string
		headers            map[string]string
		want               int
	}{
		{"POST from another port", "POST", "/api/contents?_xsrf=" + xsrf,
			map[string]string{"Origin": otherPort, "Sec-Fetch-Site": "same-site"}, 403},
		{"GET from another port", "GET", "/api/contents",
			map[string]string{"Origin": otherPort}, 403},
		{"POST from an opaque origin", "POST", "/api/contents?_xsrf=" + xsrf,
			map[string]string{"Origin": "null"}, 403},
		{"POST from this origin", "POST", "/api/contents?_xsrf=" + xsrf,
			map[string]string{"Origin": ts.URL, "Sec-Fetch-Site": "same-origin"}, 201},
		{"link followed from another site", "GET", "/api/status",
			map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := mustRequest(t, tt.method, ts.URL+tt.path, strings.NewReader(`{"type":"file"}`))
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, body := send(t, c, req)
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d %s, want %d", resp.StatusCode, body, tt.want)
			}
		})
	}
	entries, _ := os.ReadDir(ts.root)
	if len(entries) != 1 {
		t.Errorf("root holds %d entries, want the one file made from this origin", len(entries))
	}
}

// Two servers on one host share the _xsrf cookie, since cookies ignore
// ports; signing in to one must not lock the other's pages out.
func TestTwoServersInOneBrowser(t *testing.T) {
	a := newTestServer(t, nil)
	b := newTestServer(t, nil)
	c := a.browser(t)
	b.login(t, c)
	for _, ts := range []*testServer{a, b} {
		req := mustRequest(t, "POST", ts.URL+"/api/contents", strings.NewReader(`{"type":"file"}`))
		req.Header.Set("X-XSRFToken", xsrfCookie(t, c, ts.URL))
		if resp, body := send(t, c, req); resp.StatusCode != 201 {
			t.Errorf("POST to %s after signing in to both = %d %s, want 201", ts.URL, resp.StatusCode, body)
		}
	}
}

func TestTokenInURLStartsCookieSession(t *testing.T) {
	ts := newTestServer(t, nil)
	jar, _ := cookiejar.New(nil)
	c := noRedirect(ts.Client())
	c.Jar = jar
	send(t, c, mustRequest(t, "GET", ts.URL+"/lab?token="+testToken, nil))
	resp, _ := send(t, c, mustRequest(t, "GET", ts.URL+"/api/status", nil))
	if resp.StatusCode != 200 {
		t.Errorf("GET /api/status after ?token= visit = %d, want 200", resp.StatusCode)
	}
	xsrfCookie(t, c, ts.URL)
}

// TestDownloadsCrossSiteRead checks that a page of another site cannot
// read files, notebook exports or folder archives with the user's cookie.
func TestDownloadsCrossSiteRead(t *testing.T) {
	ts := newTestServer(t, nil)
	os.WriteFile(filepath.Join(ts.root, "secret.js"), []byte(`var s = "TOPSECRET";`), 0o644)
	os.WriteFile(filepath.Join(ts.root, "secret.ipynb"), []byte(`{"cells": [{"cell_type": "code",
		"execution_count": null, "id": "a", "metadata": {}, "outputs": [], "source": "TOPSECRET"}],
		"metadata": {}, "nbformat": 4, "nbformat_minor": 5}`), 0o644)
	c := ts.browser(t)
	tests := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"foreign referer", map[string]string{"Referer": "https://evil.example/x"}, 403},
		{"no referer", nil, 403},
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same-origin referer", map[string]string{"Referer": ts.URL + "/lab"}, 200},
	}
	for _, path := range []string{"/files/secret.js", "/nbconvert/script/secret.ipynb", "/directories/"} {
		for _, tt := range tests {
			t.Run(path+" "+tt.name, func(t *testing.T) {
				req := mustRequest(t, "GET", ts.URL+path, nil)
				for k, v := range tt.headers {
					req.Header.Set(k, v)
				}
				resp, body := send(t, c, req)
				if resp.StatusCode != tt.want {
					t.Fatalf("status = %d, want %d", resp.StatusCode, tt.want)
				}
				if tt.want != 200 && bytes.Contains(body, []byte("TOPSECRET")) {
					t.Error("rejected response carries the file")
				}
			})
		}
		resp, _ := ts.do(t, "GET", path, nil, true)
		if resp.StatusCode != 200 {
			t.Errorf("token GET %s = %d, want 200", path, resp.StatusCode)
		}
	}
}

func TestWebSocketOriginCheck(t *testing.T) {
	ts := newTestServer(t, nil)
	c := ts.browser(t)
	wsURL := "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/events/subscribe"
	dial := func(origin string, client *http.Client, header http.Header) (*http.Response, error) {
		h := http.Header{}
		for k, v := range header {
			h[k] = v
		}
		if origin != "" {
			h.Set("Origin", origin)
		}
		conn, resp, err := websocket.Dial(context.Background(), wsURL,
			&websocket.DialOptions{HTTPClient: client, HTTPHeader: h})
		if err == nil {
			conn.Close(websocket.StatusNormalClosure, "")
		}
		return resp, err
	}
	if resp, err := dial("https://evil.example", c, nil); err == nil || resp.StatusCode != 403 {
		t.Errorf("cookie WebSocket from a foreign origin: err=%v resp=%v, want 403", err, resp)
	}
	if _, err := dial(ts.URL, c, nil); err != nil {
		t.Errorf("cookie WebSocket from the same origin: %v", err)
	}
	tokenHeader := http.Header{"Authorization": {"token " + testToken}}
	if _, err := dial("https://evil.example", ts.Client(), tokenHeader); err != nil {
		t.Errorf("token WebSocket from another origin: %v", err)
	}
}

func TestForeignHostRejected(t *testing.T) {
	ts := newTestServer(t, nil)
	req := mustRequest(t, "GET", ts.URL+"/api/status", nil)
	req.Host = "evil.example"
	req.Header.Set("Authorization", "token "+testToken)
	if resp, _ := send(t, ts.Client(), req); resp.StatusCode != 403 {
		t.Errorf("Host evil.example = %d, want 403", resp.StatusCode)
	}
}

func TestBaseURL(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.BaseURL = "user/alice" })
	c := noRedirect(ts.Client())
	resp, _ := send(t, c, mustRequest(t, "GET", ts.URL+"/user/alice", nil))
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/user/alice/" {
		t.Errorf("GET /user/alice = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := ts.do(t, "GET", "/api/status", nil, true); resp.StatusCode != 404 {
		t.Errorf("GET /api/status outside the base = %d, want 404", resp.StatusCode)
	}
	if resp, _ := ts.do(t, "GET", "/user/alice/api/status", nil, true); resp.StatusCode != 200 {
		t.Errorf("GET /user/alice/api/status = %d, want 200", resp.StatusCode)
	}
	if resp, _ := ts.do(t, "GET", "/user/alice/api", nil, false); resp.StatusCode != 200 {
		t.Errorf("readiness probe GET /user/alice/api = %d, want 200", resp.StatusCode)
	}
	resp, _ = ts.do(t, "POST", "/user/alice/api/sessions", map[string]any{}, true)
	if loc := resp.Header.Get("Location"); resp.StatusCode == 201 || loc != "" {
		t.Errorf("session without path = %d", resp.StatusCode)
	}
}

func TestUnknownAPIPathIsJSON404(t *testing.T) {
	ts := newTestServer(t, nil)
	resp, body := ts.do(t, "GET", "/api/nope", nil, true)
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/nope = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	decode[map[string]any](t, body)
}

func TestTokenNeverLogged(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.do(t, "GET", "/api/status?token="+testToken, nil, false)
	ts.do(t, "GET", "/api/nope?token="+testToken, nil, false)
	ts.do(t, "GET", "/lab?token="+testToken, nil, false)
	if strings.Contains(ts.logs.String(), testToken) {
		t.Errorf("token found in the logs:\n%s", ts.logs.String())
	}
}

func TestCookieSecretFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	first, err := loadCookieSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("new secret has mode %v, want 0600", fi.Mode().Perm())
	}
	again, err := loadCookieSecret(path)
	if err != nil || !bytes.Equal(first, again) {
		t.Errorf("second load = %q, %v; want the same secret", again, err)
	}
	os.Chmod(path, 0o644)
	if _, err := loadCookieSecret(path); err == nil {
		t.Error("secret readable by others was accepted")
	}
}

func TestUncleanPathKeepsBaseURL(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.BaseURL = "/user/alice/" })
	c := noRedirect(ts.Client())
	for path, want := range map[string]string{
		"/user/alice//api/status":          "/user/alice/api/status",
		"/user/alice/api/contents/./a.txt": "/user/alice/api/contents/a.txt",
		"/user/alice/files/x/../a.txt?x=1": "/user/alice/files/a.txt?x=1",
		"/user/alice/lab/tree/dir//":       "/user/alice/lab/tree/dir/",
	} {
		req := mustRequest(t, "GET", ts.URL+path, nil)
		req.Header.Set("Authorization", "token "+testToken)
		resp, _ := send(t, c, req)
		if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != want {
			t.Errorf("GET %s = %d to %q, want 307 to %q", path, resp.StatusCode,
				resp.Header.Get("Location"), want)
		}
	}
}

func TestStatusPollIsNotActivity(t *testing.T) {
	ts := newTestServer(t, nil)
	_, body := ts.do(t, "GET", "/api/status", nil, true)
	first := decode[status](t, body)
	_, body = ts.do(t, "GET", "/api/status", nil, true)
	if again := decode[status](t, body); again.LastActivity != first.LastActivity {
		t.Errorf("last_activity moved from %s to %s on a status poll", first.LastActivity, again.LastActivity)
	}
}

func TestPagesRejectFraming(t *testing.T) {
	ts := newTestServer(t, nil)
	resp, _ := ts.do(t, "GET", "/login", nil, false)
	if got := resp.Header.Get("Content-Security-Policy"); got != "frame-ancestors 'self'" {
		t.Errorf("Content-Security-Policy = %q, want frame-ancestors 'self'", got)
	}
}

func TestAPIWrongMethodIs405(t *testing.T) {
	ts := newTestServer(t, nil)
	tests := []struct {
		method, path string
		want         int
		allow        string
	}{
		{"PUT", "/api/terminals/1", http.StatusMethodNotAllowed, "GET, DELETE"},
		{"DELETE", "/api/status", http.StatusMethodNotAllowed, "GET"},
		{"POST", "/api/config/notebook", http.StatusMethodNotAllowed, "GET, PUT, PATCH"},
		{"GET", "/api/no-such-endpoint", http.StatusNotFound, ""},
	}
	for _, tc := range tests {
		req := mustRequest(t, tc.method, ts.URL+tc.path, nil)
		req.Header.Set("Authorization", "token "+testToken)
		resp, body := send(t, ts.Client(), req)
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s = %d %s, want %d", tc.method, tc.path, resp.StatusCode, body, tc.want)
		}
		if got := resp.Header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
}

func TestLoginRedirectKeepsQuery(t *testing.T) {
	ts := newTestServer(t, nil)
	if err := os.WriteFile(filepath.Join(ts.root, "a.txt"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := noRedirect(ts.Client())
	resp, _ := send(t, c, mustRequest(t, "GET", ts.URL+"/files/a.txt?download=1&token=wrong", nil))
	want := "/login?next=" + url.QueryEscape("/files/a.txt?download=1")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != want {
		t.Errorf("GET /files/a.txt?download=1&token=wrong = %d to %q, want 302 to %q", resp.StatusCode, loc, want)
	}
}

func TestLoginPageSendsSignedInBrowserOn(t *testing.T) {
	ts := newTestServer(t, nil)
	c := noRedirect(ts.Client())

	// The token in the URL signs the browser in and sends it to next.
	resp, _ := send(t, c, mustRequest(t, "GET", ts.URL+"/login?next=%2Flab%2Ftree%2Fa.ipynb&token="+testToken, nil))
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/lab/tree/a.ipynb" {
		t.Fatalf("GET /login with the token = %d to %q, want 302 to /lab/tree/a.ipynb", resp.StatusCode, loc)
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == ts.srv.auth.cookieName {
			session = ck
		}
	}
	if session == nil {
		t.Fatal("GET /login with the token set no login cookie")
	}

	// A signed-in browser is sent on as well.
	req := mustRequest(t, "GET", ts.URL+"/login?next=%2Flab", nil)
	req.AddCookie(session)
	if resp, _ := send(t, c, req); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/lab" {
		t.Errorf("GET /login when signed in = %d to %q, want 302 to /lab", resp.StatusCode, resp.Header.Get("Location"))
	}

	// A wrong token still gets the form.
	resp, body := send(t, c, mustRequest(t, "GET", ts.URL+"/login?token=wrong", nil))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `name="_xsrf"`) {
		t.Errorf("GET /login with a wrong token = %d, want 200 with the form:\n%s", resp.StatusCode, body)
	}
}
