package hub

import (
	"crypto/tls"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/jupygo/jupygo/internal/testutil/testcert"
)

// startHTTPSHub starts a hub that serves HTTPS with a certificate for
// 127.0.0.1 from a test CA.
func startHTTPSHub(t testing.TB, o hubOptions) *testHub {
	t.Helper()
	ca := testcert.NewCA(t)
	pair := ca.Issue(t, "127.0.0.1")
	cert, err := tls.X509KeyPair(pair.CertPEM, pair.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	o.tls = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: ca.Pool()}
	o.client = &http.Client{Transport: transport}
	t.Cleanup(transport.CloseIdleConnections)
	return startHub(t, o)
}

// cookiesOf returns the cookies that a response sets, by name.
func cookiesOf(p pageResult) map[string]*http.Cookie {
	set := map[string]*http.Cookie{}
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		set[c.Name] = c
	}
	return set
}

// checkCookie checks the attributes of a cookie that a response sets.
func checkCookie(t *testing.T, set map[string]*http.Cookie, name string, secure bool) {
	t.Helper()
	c := set[name]
	if c == nil {
		t.Errorf("%s is not set", name)
		return
	}
	if c.Secure != secure {
		t.Errorf("%s: Secure = %v, want %v", name, c.Secure, secure)
	}
	if !c.HttpOnly {
		t.Errorf("%s is not HttpOnly", name)
	}
	if c.SameSite != http.SameSiteLaxMode {
		t.Errorf("%s: SameSite = %v, want Lax", name, c.SameSite)
	}
}

func TestCookieFlags(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(testing.TB, hubOptions) *testHub
		https bool
	}{
		{"http", startHub, false},
		{"https", startHTTPSHub, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			th := tc.start(t, hubOptions{})
			th.addUser("alice", false)
			b := th.browser()
			checkCookie(t, cookiesOf(b.get("/hub/login")), sessionCookie, tc.https)

			p := b.login("alice", testPassword, "")
			if p.status != http.StatusFound {
				t.Fatalf("login = %d %s", p.status, p.body)
			}
			set := cookiesOf(p)
			checkCookie(t, set, loginCookie, tc.https)
			checkCookie(t, set, sessionCookie, tc.https)

			p = b.get("/hub/logout")
			set = cookiesOf(p)
			for _, name := range []string{loginCookie, sessionCookie} {
				if c := set[name]; c == nil || c.MaxAge >= 0 {
					t.Errorf("logout does not delete %s: %+v", name, c)
				}
				checkCookie(t, set, name, tc.https)
			}
		})
	}
}

func TestOAuthStateCookieFlags(t *testing.T) {
	th := startHTTPSHub(t, hubOptions{auth: fakeProvider{}})
	b := th.browser()
	p := b.get("/hub/oauth_login")
	if p.status != http.StatusFound {
		t.Fatalf("oauth_login = %d", p.status)
	}
	checkCookie(t, cookiesOf(p), oauthStateCookie, true)
	u, err := url.Parse(p.location)
	must(t, err)
	if got, want := u.Query().Get("redirect_uri"), th.url+"/hub/oauth_callback"; got != want {
		t.Errorf("redirect_uri = %q, want the https URL %q", got, want)
	}
	p = b.get("/hub/oauth_callback?" + url.Values{"state": {u.Query().Get("state")},
		"code": {"ok"}, "user": {"alice"}}.Encode())
	c := cookiesOf(p)[oauthStateCookie]
	if c == nil || c.MaxAge >= 0 {
		t.Fatalf("the callback does not delete the state cookie: %+v", c)
	}
	checkCookie(t, cookiesOf(p), oauthStateCookie, true)
}

func TestHSTS(t *testing.T) {
	for _, tc := range []struct {
		name   string
		https  bool
		config string
		want   string
	}{
		{"https default", true, "", "max-age=31536000"},
		{"https max-age", true, "[JupyterHub]\nhsts_max_age = 600\n", "max-age=600"},
		{"https off", true, "[JupyterHub]\nhsts_max_age = 0\n", ""},
		{"http", false, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := startHub
			if tc.https {
				start = startHTTPSHub
			}
			th := start(t, hubOptions{config: tc.config})
			for _, path := range []string{"/hub/login", "/hub/api/"} {
				r := th.api("GET", path, "", nil)
				if got := r.header.Get("Strict-Transport-Security"); got != tc.want {
					t.Errorf("%s: Strict-Transport-Security = %q, want %q", path, got, tc.want)
				}
			}
		})
	}
}

// TestProxyOverHTTPS checks what a user server behind an HTTPS hub
// receives: plain http, with X-Forwarded-Proto https, and no HSTS header
// added to its responses.
func TestProxyOverHTTPS(t *testing.T) {
	th := startHTTPSHub(t, hubOptions{})
	th.addUser("alice", false)
	tok := th.token("alice")
	if r := th.api("POST", "/hub/api/users/alice/server", tok, nil); r.status != http.StatusCreated {
		t.Fatalf("POST server = %d %s", r.status, r.body)
	}
	r := th.api("GET", "/user/alice/lab", tok, nil)
	var got echo
	r.json(t, &got)
	if r.status != http.StatusOK || got.Path != "/user/alice/lab" {
		t.Fatalf("proxied request = %d %+v", r.status, got)
	}
	if proto := got.Headers["X-Forwarded-Proto"]; len(proto) != 1 || proto[0] != "https" {
		t.Errorf("X-Forwarded-Proto = %v, want [https]", proto)
	}
	if h := r.header.Get("Strict-Transport-Security"); h != "" {
		t.Errorf("the user server's response got Strict-Transport-Security %q", h)
	}
}

// TestWebSocketOverHTTPS opens a WebSocket to a user server through an
// HTTPS hub that also offers HTTP/2: the upgrade must get an HTTP/1.1
// connection and reach the server.
func TestWebSocketOverHTTPS(t *testing.T) {
	th := startHTTPSHub(t, hubOptions{})
	th.addUser("alice", false)
	th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil)
	ctx := t.Context()
	url := "wss" + strings.TrimPrefix(th.url, "https") + "/user/alice/ws"
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: th.client})
	if err != nil {
		t.Fatalf("dial through the HTTPS hub: %v", err)
	}
	defer c.CloseNow()
	must(t, c.Write(ctx, websocket.MessageText, []byte("ping")))
	_, data, err := c.Read(ctx)
	must(t, err)
	if string(data) != "ping" {
		t.Errorf("echo = %q, want ping", data)
	}
}
