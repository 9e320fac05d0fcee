package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
)

// hop is one response of a redirect chain.
type hop struct {
	status   int
	path     string // path and query of the request
	location string
	cookies  []*http.Cookie
	body     []byte
}

// hubBrowser returns a client with a cookie jar that does not follow
// redirects by itself.
func hubBrowser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// follow GETs u and follows its redirects as a browser does, returning
// every response.
func follow(t *testing.T, c *http.Client, u string) []hop {
	t.Helper()
	var hops []hop
	for range 10 {
		resp, body := send(t, c, mustRequest(t, "GET", u, nil))
		h := hop{status: resp.StatusCode, path: resp.Request.URL.RequestURI(),
			location: resp.Header.Get("Location"), cookies: resp.Cookies(), body: body}
		hops = append(hops, h)
		if h.location == "" {
			return hops
		}
		next, err := resp.Request.URL.Parse(h.location)
		if err != nil {
			t.Fatal(err)
		}
		u = next.String()
	}
	t.Fatalf("more than 10 redirects: %+v", hops)
	return nil
}

func findCookie(cookies []*http.Cookie, name string) *http.Cookie {
	for _, c := range cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func jarCookie(c *http.Client, u, name string) string {
	parsed, _ := url.Parse(u)
	for _, ck := range c.Jar.Cookies(parsed) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

var pageConfigScript = regexp.MustCompile(
	`<script id="jupyter-config-data" type="application/json">(.*?)</script>`)

// pageConfigOf returns the page config of a JupyterLab page.
func pageConfigOf(t *testing.T, body []byte) map[string]any {
	t.Helper()
	m := pageConfigScript.FindSubmatch(body)
	if m == nil {
		t.Fatalf("page has no page config:\n%s", body)
	}
	return decode[map[string]any](t, m[1])
}

func TestHubBrowserOAuthFlow(t *testing.T) {
	hub := newFakeHub(t)
	hs := startHubServer(t, hub, nil)
	c := hubBrowser(t)
	hops := follow(t, c, hs.front.URL+"/user/alice/lab/tree/a.ipynb?reset")

	var paths []string
	for _, h := range hops {
		p, _, _ := strings.Cut(h.path, "?")
		paths = append(paths, p)
	}
	wantPaths := []string{
		"/user/alice/lab/tree/a.ipynb",
		"/hub/api/oauth2/authorize",
		"/hub/login",
		"/hub/api/oauth2/authorize",
		"/user/alice/oauth_callback",
		"/user/alice/lab/tree/a.ipynb",
	}
	if d := cmp.Diff(wantPaths, paths); d != "" {
		t.Fatalf("redirect chain (-want +got):\n%s", d)
	}
	if n := hub.userRequests(); n != 1 {
		t.Errorf("login and first page asked the hub for the user %d times, want 1", n)
	}

	t.Run("authorize redirect", func(t *testing.T) {
		start := hops[0]
		if start.status != http.StatusFound {
			t.Errorf("status = %d, want 302", start.status)
		}
		loc, err := url.Parse(start.location)
		if err != nil {
			t.Fatal(err)
		}
		q := loc.Query()
		want := url.Values{
			"client_id":     {"jupyterhub-user-alice"},
			"redirect_uri":  {"/user/alice/oauth_callback"},
			"response_type": {"code"},
			"state":         {q.Get("state")},
		}
		if d := cmp.Diff(want, q); d != "" || q.Get("state") == "" {
			t.Errorf("authorize query (-want +got):\n%s", d)
		}
		state := findCookie(start.cookies, "jupyterhub-user-alice-oauth-state")
		if state == nil {
			t.Fatal("no state cookie")
		}
		if state.Path != "/user/alice/" || !state.HttpOnly || state.MaxAge != 600 {
			t.Errorf("state cookie = %+v, want path /user/alice/, HttpOnly, Max-Age 600", state)
		}
	})

	t.Run("callback cookies", func(t *testing.T) {
		cb := hops[4]
		if cb.location != "/user/alice/lab/tree/a.ipynb?reset" {
			t.Errorf("callback redirects to %q, want the page the login started from", cb.location)
		}
		ck := findCookie(cb.cookies, "jupyterhub-user-alice")
		if ck == nil {
			t.Fatal("callback sets no OAuth cookie")
		}
		if ck.Path != "/user/alice/" || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure {
			t.Errorf("OAuth cookie = %+v, want path /user/alice/, HttpOnly, SameSite Lax", ck)
		}
		if strings.Contains(ck.Value, hub.lastIssued()) {
			t.Error("OAuth cookie holds the token in clear text, not signed")
		}
		if st := findCookie(cb.cookies, "jupyterhub-user-alice-oauth-state"); st == nil || st.MaxAge >= 0 {
			t.Errorf("callback does not clear the state cookie: %+v", st)
		}
		if findCookie(cb.cookies, "_xsrf") == nil {
			t.Error("callback sets no _xsrf cookie")
		}
	})

	t.Run("page config", func(t *testing.T) {
		page := hops[5]
		if page.status != http.StatusOK {
			t.Fatalf("lab page = %d", page.status)
		}
		got := pageConfigOf(t, page.body)
		want := map[string]any{
			"hubUser":       "alice",
			"hubServerUser": "alice",
			"hubPrefix":     "/hub/",
			"hubHost":       "",
			"hubServerName": "",
			"shareUrl":      "/hub/user-redirect",
			"token":         hub.lastIssued(),
			"baseUrl":       "/user/alice/",
		}
		for key, value := range want {
			if d := cmp.Diff(value, got[key]); d != "" {
				t.Errorf("page config %s (-want +got):\n%s", key, d)
			}
		}
	})

	t.Run("cookie session", func(t *testing.T) {
		resp, body := send(t, c, mustRequest(t, "GET", hs.front.URL+"/user/alice/api/me", nil))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/me with the cookie = %d %s", resp.StatusCode, body)
		}
		me := decode[struct {
			Identity identity `json:"identity"`
		}](t, body)
		want := identity{Username: "alice", Name: "alice", DisplayName: "alice", Initials: "A"}
		if d := cmp.Diff(want, me.Identity); d != "" {
			t.Errorf("identity (-want +got):\n%s", d)
		}
	})

	t.Run("xsrf", func(t *testing.T) {
		u := hs.front.URL + "/user/alice/api/contents"
		req := mustRequest(t, "POST", u, strings.NewReader(`{"type":"file"}`))
		if resp, _ := send(t, c, req); resp.StatusCode != http.StatusForbidden {
			t.Errorf("cookie POST without X-XSRFToken = %d, want 403", resp.StatusCode)
		}
		req = mustRequest(t, "POST", u, strings.NewReader(`{"type":"file"}`))
		req.Header.Set("X-XSRFToken", jarCookie(c, u, "_xsrf"))
		if resp, body := send(t, c, req); resp.StatusCode != http.StatusCreated {
			t.Errorf("cookie POST with X-XSRFToken = %d %s, want 201", resp.StatusCode, body)
		}
	})

	t.Run("websocket with cookie", func(t *testing.T) {
		ws := "ws" + strings.TrimPrefix(hs.front.URL, "http") + "/user/alice/api/events/subscribe"
		conn, resp, err := websocket.Dial(t.Context(), ws, &websocket.DialOptions{HTTPClient: c})
		if err != nil {
			t.Fatalf("dial with the OAuth cookie: %v (response %v)", err, resp)
		}
		conn.Close(websocket.StatusNormalClosure, "")
	})

	t.Run("logout", func(t *testing.T) {
		resp, _ := send(t, c, mustRequest(t, "GET", hs.front.URL+"/user/alice/logout", nil))
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/hub/logout" {
			t.Errorf("logout = %d to %q, want 302 to /hub/logout",
				resp.StatusCode, resp.Header.Get("Location"))
		}
		if ck := findCookie(resp.Cookies(), "jupyterhub-user-alice"); ck == nil || ck.MaxAge >= 0 {
			t.Errorf("logout does not clear the OAuth cookie: %+v", ck)
		}
		resp, _ = send(t, c, mustRequest(t, "GET", hs.front.URL+"/user/alice/api/status", nil))
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET /api/status after logout = %d, want 403", resp.StatusCode)
		}
	})
}

func TestHubOAuthCallbackErrors(t *testing.T) {
	hub := newFakeHub(t)
	hs := startHubServer(t, hub, nil)
	callback := hs.front.URL + "/user/alice/oauth_callback"

	// started begins a login and returns its browser and state.
	started := func(t *testing.T) (*http.Client, string) {
		c := hubBrowser(t)
		resp, _ := send(t, c, mustRequest(t, "GET", hs.front.URL+"/user/alice/lab", nil))
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || loc.Query().Get("state") == "" {
			t.Fatalf("login start = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		return c, loc.Query().Get("state")
	}
	tests := []struct {
		name  string
		query func(state string) string
		fresh bool // use a browser that started no login
		want  int
	}{
		{"state mismatch", func(string) string { return "code=x&state=forged" }, false, 400},
		{"no state cookie", func(s string) string { return "code=x&state=" + s }, true, 400},
		{"missing state", func(string) string { return "code=x" }, false, 400},
		{"missing code", func(s string) string { return "state=" + s }, false, 400},
		{"hub error", func(s string) string { return "error=access_denied&state=" + s }, false, 400},
		{"unknown code", func(s string) string { return "code=unknown&state=" + s }, false, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, state := started(t)
			if tt.fresh {
				c = hubBrowser(t)
			}
			resp, body := send(t, c, mustRequest(t, "GET", callback+"?"+tt.query(state), nil))
			if resp.StatusCode != tt.want {
				t.Errorf("callback = %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q, want an HTML page", ct)
			}
			if findCookie(resp.Cookies(), "jupyterhub-user-alice") != nil {
				t.Error("a failed callback sets the OAuth cookie")
			}
		})
	}
}

func TestHubUserWithoutAccessScopes(t *testing.T) {
	hub := newFakeHub(t)
	hub.setLoginAs("carol")
	hs := startHubServer(t, hub, nil)
	c := hubBrowser(t)
	hops := follow(t, c, hs.front.URL+"/user/alice/lab")
	last := hops[len(hops)-1]
	if last.status != http.StatusForbidden || !strings.HasPrefix(last.path, "/user/alice/oauth_callback") {
		t.Fatalf("login of carol ends with %d at %s, want 403 at the callback", last.status, last.path)
	}
	if !strings.Contains(string(last.body), "carol is not allowed") {
		t.Errorf("403 page does not say who is refused:\n%s", last.body)
	}
	if findCookie(last.cookies, "jupyterhub-user-alice") != nil {
		t.Error("the OAuth cookie is set for a user without access")
	}
}

func TestHubTokenChecks(t *testing.T) {
	hub := newFakeHub(t)
	hs := startHubServer(t, hub, nil)
	alice := hub.newToken("alice")
	tests := []struct {
		name   string
		header string
		query  string
		want   int
	}{
		{"token scheme", "token " + alice, "", 200},
		{"bearer scheme", "Bearer " + alice, "", 200},
		{"upper-case scheme", "TOKEN " + alice, "", 200},
		{"unfiltered access", "token " + hub.newToken("admin"), "", 200},
		{"this server only", "token " + hub.newToken("alice", "access:servers!server=alice/"), "", 200},
		{"no credentials", "", "", 403},
		{"unknown token", "token nope", "", 403},
		{"no access scopes", "token " + hub.newToken("carol"), "", 403},
		{"another user", "token " + hub.newToken("bob"), "", 403},
		{"another user's server", "token " + hub.newToken("alice", "access:servers!server=bob/"), "", 403},
		{"another server of alice", "token " + hub.newToken("alice", "access:servers!server=alice/lab2"), "", 403},
		{"token in URL of an API request", "", "?token=" + alice, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := mustRequest(t, "GET", hs.direct+"/user/alice/api/status"+tt.query, nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, body := send(t, http.DefaultClient, req)
			if resp.StatusCode != tt.want {
				t.Errorf("GET /api/status = %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if resp.StatusCode == 403 {
				var msg struct {
					Message *string `json:"message"`
				}
				if err := json.Unmarshal(body, &msg); err != nil || msg.Message == nil {
					t.Errorf("403 body is not a JSON error: %s", body)
				}
			}
		})
	}
}

func TestHubWebSocketTokenInURL(t *testing.T) {
	hub := newFakeHub(t)
	hs := startHubServer(t, hub, map[string]string{"JUPYTERHUB_ALLOW_WEBSOCKET_COOKIE_AUTH": "0"})
	ws := "ws" + strings.TrimPrefix(hs.direct, "http") + "/user/alice/api/events/subscribe"

	conn, _, err := websocket.Dial(t.Context(), ws+"?token="+hub.newToken("alice"), nil)
	if err != nil {
		t.Fatalf("WebSocket with ?token=: %v", err)
	}
	conn.Close(websocket.StatusNormalClosure, "")

	_, resp, err := websocket.Dial(t.Context(), ws+"?token="+hub.newToken("bob"), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("WebSocket with bob's token: err %v, response %v, want 403", err, resp)
	}

	// With cookie authentication of WebSockets off, a browser that logged
	// in still needs a token for its sockets.
	c := hubBrowser(t)
	follow(t, c, hs.front.URL+"/user/alice/lab")
	front := "ws" + strings.TrimPrefix(hs.front.URL, "http") + "/user/alice/api/events/subscribe"
	_, resp, err = websocket.Dial(t.Context(), front, &websocket.DialOptions{HTTPClient: c})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cookie WebSocket with cookie auth off: err %v, response %v, want 403", err, resp)
	}
}

func TestHubTokenInURLAllowed(t *testing.T) {
	hub := newFakeHub(t)
	hs := startHubServer(t, hub, map[string]string{"JUPYTERHUB_ALLOW_TOKEN_IN_URL": "1"})
	c := hubBrowser(t)
	resp, _ := send(t, c, mustRequest(t, "GET", hs.front.URL+"/user/alice/lab?token="+hub.newToken("alice"), nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("lab page with ?token= = %d, want 200", resp.StatusCode)
	}
	resp, _ = send(t, c, mustRequest(t, "GET", hs.front.URL+"/user/alice/api/status", nil))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/status after a ?token= visit = %d, want 200 through the cookie", resp.StatusCode)
	}
}

func TestHubAPIWithoutCredentials(t *testing.T) {
	hub := newFakeHub(t)
	hs := startHubServer(t, hub, nil)
	for _, path := range []string{"/api/status", "/api/contents", "/api/kernels", "/lab/api/settings"} {
		t.Run(path, func(t *testing.T) {
			resp, body := send(t, hubBrowser(t), mustRequest(t, "GET", hs.direct+"/user/alice"+path, nil))
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("status = %d, want 403", resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json: %s", ct, body)
			}
		})
	}
}

func TestHubReadinessProbes(t *testing.T) {
	hub := newFakeHub(t)
	hs := startHubServer(t, hub, map[string]string{"JUPYTERHUB_DEFAULT_URL": "/tree"})
	token := hub.newToken("alice")
	tests := []struct {
		name     string
		path     string
		token    string
		status   int
		location string // a prefix of the Location header
	}{
		{"api, hub 5", "/user/alice/api", "", 200, ""},
		{"root, hub 3 and 4", "/user/alice/", "", 302, "/hub/api/oauth2/authorize?"},
		{"prefix without slash", "/user/alice", "", 302, "/user/alice/"},
		{"root with a token", "/user/alice/", token, 302, "/user/alice/tree"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := mustRequest(t, "GET", hs.direct+tt.path, nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "token "+tt.token)
			}
			resp, _ := send(t, hubBrowser(t), req)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("Location"); !strings.HasPrefix(got, tt.location) ||
				(tt.location == "" && got != "") {
				t.Errorf("Location = %q, want %q", got, tt.location)
			}
			if got := resp.Header.Get("X-JupyterHub-Version"); got != "5.5.1" {
				t.Errorf("X-JupyterHub-Version = %q, want the hub's 5.5.1", got)
			}
		})
	}
}

func TestHubActivityPosted(t *testing.T) {
	hub := newFakeHub(t)
	startHubServer(t, hub, nil)
	var post activityPost
	select {
	case post = <-hub.activity:
	case <-time.After(time.Minute): // a safeguard; the report is sent at start
		t.Fatal("no activity report after start")
	}
	if post.user != "alice" || post.authorization != "token "+fakeHubAPIToken {
		t.Errorf("report for %q with %q, want alice with the server's token", post.user, post.authorization)
	}
	last, _ := post.body["last_activity"].(string)
	if _, err := time.Parse("2006-01-02T15:04:05.000000Z", last); err != nil {
		t.Errorf("last_activity %q is not ISO 8601 UTC with microseconds", last)
	}
	want := map[string]any{"": map[string]any{"last_activity": last}}
	if d := cmp.Diff(want, post.body["servers"]); d != "" {
		t.Errorf("servers (-want +got):\n%s", d)
	}
}

func TestHubTokenCache(t *testing.T) {
	hub := newFakeHub(t)
	hs := startHubServer(t, hub, nil)
	token := hub.newToken("alice")
	get := func() int {
		req := mustRequest(t, "GET", hs.direct+"/user/alice/api/status", nil)
		req.Header.Set("Authorization", "token "+token)
		resp, _ := send(t, http.DefaultClient, req)
		return resp.StatusCode
	}
	before := hub.userRequests()
	for range 3 {
		if status := get(); status != 200 {
			t.Fatalf("GET /api/status = %d", status)
		}
	}
	if n := hub.userRequests() - before; n != 1 {
		t.Errorf("three requests with one token asked the hub %d times, want 1", n)
	}

	hub.revoke(token)
	if status := get(); status != 200 {
		t.Errorf("revoked token within the cache age = %d, want 200 from the cache", status)
	}
	hs.srv.hub.now = func() time.Time { return time.Now().Add(hubTokenCacheAge + time.Second) }
	if status := get(); status != 403 {
		t.Errorf("revoked token after the cache age = %d, want 403", status)
	}
}

func TestHubUnreachable(t *testing.T) {
	hub := newFakeHub(t)
	env := hub.env()
	env["JUPYTERHUB_API_URL"] = "http://127.0.0.1:" + strconv.Itoa(freePort(t)) + "/hub/api"
	hc, err := HubConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{RootDir: t.TempDir(), RuntimeDir: t.TempDir(), ConfigDir: t.TempDir(), Hub: hc})
	if err != nil {
		t.Fatal(err)
	}
	srv.hub.client.checkBackoff = func(int) time.Duration { return 0 }
	ln, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	err = srv.Serve(context.Background(), ln)
	if err == nil || !strings.Contains(err.Error(), "cannot reach JupyterHub at") ||
		!strings.Contains(err.Error(), "5 attempts") {
		t.Errorf("Serve = %v, want an error saying the hub cannot be reached", err)
	}
}

func TestHubListenNoPortRetries(t *testing.T) {
	hub := newFakeHub(t)
	ln0, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln0.Close()
	env := hub.env()
	env["JUPYTERHUB_SERVICE_URL"] = "http://" + ln0.Addr().String() + "/user/alice/"
	hc, err := HubConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{RootDir: t.TempDir(), RuntimeDir: t.TempDir(), ConfigDir: t.TempDir(),
		Hub: hc, Port: 1, PortRetries: 50, IP: "0.0.0.0", BaseURL: "/other/"})
	if err != nil {
		t.Fatal(err)
	}
	if srv.BaseURL() != "/user/alice/" {
		t.Errorf("base URL = %q, want the service prefix", srv.BaseURL())
	}
	if srv.Token() != "" {
		t.Errorf("the server has a token of its own in single-user mode")
	}
	if ln, err := srv.Listen(); err == nil {
		ln.Close()
		t.Errorf("Listen took %s although the service URL's port is taken", ln.Addr())
	}
}

func TestHubCookieAttributes(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		forwarded  string
		wantName   string
		wantPath   string
		wantSecure bool
		wantSame   http.SameSite
		wantMaxAge int
	}{
		{"plain", nil, "", "jupyterhub-user-alice", "/user/alice/", false, http.SameSiteLaxMode, 0},
		{"https proxy", nil, "https", "jupyterhub-user-alice", "/user/alice/", true, http.SameSiteLaxMode, 0},
		{"host prefix", map[string]string{"JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED": "1"}, "https",
			"__Host-jupyterhub-user-alice", "/", true, http.SameSiteLaxMode, 0},
		{"options", map[string]string{
			"JUPYTERHUB_COOKIE_OPTIONS": `{"secure": true, "samesite": "Strict", "expires_days": 1}`,
		}, "", "jupyterhub-user-alice", "/user/alice/", true, http.SameSiteStrictMode, 86400},
		{"https public URL", map[string]string{"JUPYTERHUB_PUBLIC_URL": "https://hub.example.org/user/alice/"},
			"", "jupyterhub-user-alice", "/user/alice/", true, http.SameSiteLaxMode, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hub := newFakeHub(t)
			hs := startHubServer(t, hub, tt.env)
			c := hubBrowser(t)
			// Log in at the hub first, then run the server's flow by hand so
			// that the callback request can carry X-Forwarded-Proto.
			resp, _ := send(t, c, mustRequest(t, "GET", hs.front.URL+"/user/alice/lab", nil))
			follow(t, c, hs.front.URL+"/hub/login?next=%2Fhub%2Fhome")
			resp, _ = send(t, c, mustRequest(t, "GET", hs.front.URL+resp.Header.Get("Location"), nil))
			req := mustRequest(t, "GET", hs.front.URL+resp.Header.Get("Location"), nil)
			if tt.forwarded != "" {
				req.Header.Set("X-Forwarded-Proto", tt.forwarded)
			}
			resp, body := send(t, c, req)
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("callback = %d: %s", resp.StatusCode, body)
			}
			ck := findCookie(resp.Cookies(), tt.wantName)
			if ck == nil {
				t.Fatalf("no cookie %s in %v", tt.wantName, resp.Header["Set-Cookie"])
			}
			got := []any{ck.Path, ck.Secure, ck.SameSite, ck.MaxAge, ck.HttpOnly}
			want := []any{tt.wantPath, tt.wantSecure, tt.wantSame, tt.wantMaxAge, true}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("cookie [path secure samesite maxage httponly] (-want +got):\n%s", d)
			}
			xsrf := findCookie(resp.Cookies(), "_xsrf")
			if xsrf == nil {
				t.Fatalf("no _xsrf cookie in %v", resp.Header["Set-Cookie"])
			}
			if xsrf.Secure != tt.wantSecure {
				t.Errorf("_xsrf cookie Secure = %v, want %v", xsrf.Secure, tt.wantSecure)
			}
			if xsrf.HttpOnly {
				t.Error("_xsrf cookie is HttpOnly, but JupyterLab must read it")
			}
		})
	}
}

func TestHubCookieSecure(t *testing.T) {
	for _, tt := range []struct {
		name      string
		cfg       HubConfig
		forwarded string
		want      bool
	}{
		{"plain", HubConfig{HubHost: "http://hub.example.org"}, "", false},
		{"https hub host", HubConfig{HubHost: "https://hub.example.org"}, "", true},
		{"https callback", HubConfig{OAuthCallbackURL: "HTTPS://hub.example.org/user/a/oauth_callback"},
			"", true},
		{"https public URL", HubConfig{PublicURL: "https://hub.example.org/user/a/"}, "", true},
		{"forwarded https", HubConfig{}, "https", true},
		{"forwarded http", HubConfig{}, "http", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := &hubAuth{cfg: &tt.cfg}
			r := httptest.NewRequest("GET", "/user/a/lab", nil)
			if tt.forwarded != "" {
				r.Header.Set("X-Forwarded-Proto", tt.forwarded)
			}
			w := httptest.NewRecorder()
			a.setXSRFCookie(w, r, "token")
			ck := findCookie(w.Result().Cookies(), "_xsrf")
			if ck == nil {
				t.Fatalf("no _xsrf cookie in %v", w.Header()["Set-Cookie"])
			}
			if ck.Secure != tt.want {
				t.Errorf("_xsrf cookie Secure = %v, want %v", ck.Secure, tt.want)
			}
		})
	}
}

func TestHubLogsNoSecrets(t *testing.T) {
	hub := newFakeHub(t)
	hs := startHubServer(t, hub, nil)
	c := hubBrowser(t)
	follow(t, c, hs.front.URL+"/user/alice/lab")
	send(t, c, mustRequest(t, "GET", hs.front.URL+"/user/alice/oauth_callback?code=C1SECRET&state=S1SECRET", nil))
	token := hub.lastIssued()
	req := mustRequest(t, "GET", hs.direct+"/user/alice/api/status", nil)
	req.Header.Set("Authorization", "token "+token)
	send(t, http.DefaultClient, req)

	logs := hs.logs.String()
	for _, secret := range []string{token, fakeHubAPIToken, "C1SECRET", "S1SECRET"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain the secret %q:\n%s", secret, logs)
		}
	}
}

func TestHubLogoutAtHubEndsCachedSession(t *testing.T) {
	hub := newFakeHub(t)
	hs := startHubServer(t, hub, nil)
	c := hubBrowser(t)
	follow(t, c, hs.front.URL+"/user/alice/lab")
	status := hs.front.URL + "/user/alice/api/status"
	if resp, _ := send(t, c, mustRequest(t, "GET", status, nil)); resp.StatusCode != 200 {
		t.Fatalf("GET /api/status after login = %d", resp.StatusCode)
	}

	// The hub's logout revokes the session's tokens and ends the session.
	// The session cookie is part of the cache key, so the cached reply is
	// not used.
	hub.revoke(hub.lastIssued())
	follow(t, c, hs.front.URL+"/hub/logout")
	resp, body := send(t, c, mustRequest(t, "GET", status, nil))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET /api/status after hub logout = %d %s, want 403", resp.StatusCode, body)
	}
	if ck := findCookie(resp.Cookies(), "jupyterhub-user-alice"); ck == nil || ck.MaxAge >= 0 {
		t.Errorf("the stale OAuth cookie is not cleared: %+v", ck)
	}
}

// A token in a page URL starts a cookie session with both identity
// providers, and the request itself counts as token-authenticated: a link
// to a file opened from another site works, although cookie-authenticated
// cross-site file reads are rejected.
func TestTokenInFileURLIsTokenAuthenticated(t *testing.T) {
	t.Run("server token", func(t *testing.T) {
		ts := newTestServer(t, nil)
		os.WriteFile(filepath.Join(ts.root, "a.txt"), []byte("hello"), 0o644)
		c := hubBrowser(t)
		req := mustRequest(t, "GET", ts.URL+"/files/a.txt?token="+testToken, nil)
		req.Header.Set("Referer", "https://evil.example/")
		resp, body := send(t, c, req)
		if resp.StatusCode != http.StatusOK || string(body) != "hello" {
			t.Errorf("file with ?token= = %d %q, want 200", resp.StatusCode, body)
		}
		if jarCookie(c, ts.URL, "_xsrf") == "" {
			t.Error("no _xsrf cookie for the new cookie session")
		}
	})
	t.Run("hub token", func(t *testing.T) {
		hub := newFakeHub(t)
		hs := startHubServer(t, hub, map[string]string{"JUPYTERHUB_ALLOW_TOKEN_IN_URL": "1"})
		os.WriteFile(filepath.Join(hs.root, "a.txt"), []byte("hello"), 0o644)
		c := hubBrowser(t)
		u := hs.front.URL + "/user/alice/files/a.txt?token=" + hub.newToken("alice")
		req := mustRequest(t, "GET", u, nil)
		req.Header.Set("Referer", "https://evil.example/")
		resp, body := send(t, c, req)
		if resp.StatusCode != http.StatusOK || string(body) != "hello" {
			t.Errorf("file with ?token= = %d %q, want 200", resp.StatusCode, body)
		}
		if jarCookie(c, hs.front.URL+"/user/alice/", "_xsrf") == "" {
			t.Error("no _xsrf cookie for the new cookie session")
		}
	})
}

func TestHubUserIdentity(t *testing.T) {
	avatar := "https://avatars.example.com/u/1?v=4"
	tests := []struct {
		name string
		user hubUser
		want identity
	}{
		{"hub name only", hubUser{Name: "octocat"},
			identity{Username: "octocat", Name: "octocat", DisplayName: "octocat", Initials: "O"}},
		{"display name and avatar",
			hubUser{Name: "octocat", DisplayName: "The Octocat", AvatarURL: avatar},
			identity{Username: "octocat", Name: "The Octocat", DisplayName: "The Octocat",
				Initials: "TO", AvatarURL: &avatar}},
		{"blank display name", hubUser{Name: "ada", DisplayName: "  "},
			identity{Username: "ada", Name: "ada", DisplayName: "ada", Initials: "A"}},
		{"javascript avatar", hubUser{Name: "ada", AvatarURL: "javascript:alert(1)"},
			identity{Username: "ada", Name: "ada", DisplayName: "ada", Initials: "A"}},
		{"relative avatar", hubUser{Name: "ada", AvatarURL: "/avatar.png"},
			identity{Username: "ada", Name: "ada", DisplayName: "ada", Initials: "A"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, tc.user.identity()); d != "" {
				t.Errorf("identity (-want +got):\n%s", d)
			}
		})
	}
}

// TestHubRevokeEndsWebSockets opens WebSockets with two tokens, revokes one
// at the hub, and checks the open sockets after the cache age: the revoked
// token's socket ends and cannot reconnect, the other stays open.
func TestHubRevokeEndsWebSockets(t *testing.T) {
	hub := newFakeHub(t)
	hs := startHubServer(t, hub, nil)
	ws := "ws" + strings.TrimPrefix(hs.direct, "http") + "/user/alice/api/events/subscribe?token="
	revokedToken, validToken := hub.newToken("alice"), hub.newToken("alice")
	open := func(token string) *websocket.Conn {
		conn, _, err := websocket.Dial(t.Context(), ws+token, nil)
		if err != nil {
			t.Fatalf("WebSocket: %v", err)
		}
		t.Cleanup(func() { conn.CloseNow() })
		return conn
	}
	revokedConn, validConn := open(revokedToken), open(validToken)
	// A ping needs a reader for its reply.
	validConn.CloseRead(t.Context())
	ping := func() error {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		return validConn.Ping(ctx)
	}

	later := time.Now().Add(hubTokenCacheAge + time.Second)
	hs.srv.hub.now = func() time.Time { return later }
	// A request just before the revoke leaves a fresh reply in the cache,
	// which must not let the ended WebSocket reconnect.
	req := mustRequest(t, "GET", hs.direct+"/user/alice/api/status", nil)
	req.Header.Set("Authorization", "token "+revokedToken)
	if resp, _ := send(t, http.DefaultClient, req); resp.StatusCode != 200 {
		t.Fatalf("GET /api/status before the revoke = %d", resp.StatusCode)
	}
	hub.revoke(revokedToken)
	hs.srv.hub.checkSockets(t.Context())

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, _, err := revokedConn.Read(ctx); err == nil || ctx.Err() != nil {
		t.Errorf("WebSocket of the revoked token: read %v, want it ended", err)
	}
	if err := ping(); err != nil {
		t.Errorf("WebSocket of the token the hub accepts: %v, want it open", err)
	}
	_, resp, err := websocket.Dial(t.Context(), ws+revokedToken, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("reconnect with the revoked token: err %v, response %v, want 403", err, resp)
	}
	if !strings.Contains(hs.logs.String(), "closed WebSockets whose token the hub no longer accepts") {
		t.Errorf("no log line for the ended WebSocket:\n%s", hs.logs.String())
	}
}

// TestHubShareRevokedAndRenewed follows a guest whose share of the server
// is revoked and then given again. A WebSocket opened on a cached reply is
// checked again when that reply is hubTokenCacheAge old, not that long
// after it opened; the guest's retries after the revoke do not each ask
// the hub; a page request without access gets a page with the reason; and
// access given again works once hubDeniedCacheAge has passed.
func TestHubShareRevokedAndRenewed(t *testing.T) {
	hub := newFakeHub(t)
	hs := startHubServer(t, hub, nil)
	shared := []string{"read:users:name!user=bob", "access:servers!server=alice/"}
	bob := hub.newToken("bob", shared...)
	start := time.Now()
	now := start
	hs.srv.hub.now = func() time.Time { return now }
	get := func(path string) (*http.Response, []byte) {
		req := mustRequest(t, "GET", hs.direct+"/user/alice/"+path, nil)
		req.Header.Set("Authorization", "token "+bob)
		return send(t, http.DefaultClient, req)
	}
	if resp, _ := get("api/status"); resp.StatusCode != 200 {
		t.Fatalf("GET /api/status with the share = %d", resp.StatusCode)
	}

	// Four minutes on, the WebSocket opens on the reply cached at start.
	now = start.Add(4 * time.Minute)
	ws := "ws" + strings.TrimPrefix(hs.direct, "http") + "/user/alice/api/events/subscribe?token=" + bob
	conn, _, err := websocket.Dial(t.Context(), ws, nil)
	if err != nil {
		t.Fatalf("WebSocket: %v", err)
	}
	defer conn.CloseNow()

	hub.setScopes(bob, "read:users:name!user=bob")
	now = start.Add(hubTokenCacheAge + time.Second)
	hs.srv.hub.checkSockets(t.Context())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, _, err := conn.Read(ctx); err == nil || ctx.Err() != nil {
		t.Errorf("WebSocket opened on a reply cached before the revoke: read %v, want it "+
			"ended when the reply is %v old", err, hubTokenCacheAge)
	}

	now = now.Add(time.Second)
	before := hub.userRequests()
	for range 5 {
		if resp, _ := get("api/status"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET /api/status after the revoke = %d, want 403", resp.StatusCode)
		}
	}
	if n := hub.userRequests() - before; n != 1 {
		t.Errorf("5 requests after the revoke asked the hub %d times, want 1", n)
	}
	resp, body := get("lab")
	if resp.StatusCode != http.StatusForbidden ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(body), "user bob is not allowed to access this server") {
		t.Errorf("page after the revoke = %d %s:\n%s\nwant a 403 page with the reason",
			resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}

	hub.setScopes(bob, shared...)
	now = now.Add(hubDeniedCacheAge + time.Second)
	if resp, _ := get("api/status"); resp.StatusCode != 200 {
		t.Errorf("GET /api/status %v after the share was given again = %d, want 200",
			hubDeniedCacheAge+time.Second, resp.StatusCode)
	}
}
