package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// servedProxy is a Proxy behind Serve, with a handler that counts the
// requests Serve hands to the http.Server.
type servedProxy struct {
	proxy    *Proxy
	addr     string
	srv      *http.Server
	handled  atomic.Int64 // requests that reached the http.Server
	fastPath atomic.Int64 // requests that AccessLog reported
	log      chan AccessLogEntry
}

// startServed serves a Proxy for table through Serve. Requests for paths
// under /hub/ are reserved and get "hub" from the handler.
func startServed(t *testing.T, table *Table, opts Options) *servedProxy {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	sp := &servedProxy{proxy: New(table, opts), log: make(chan AccessLogEntry, 100)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sp.addr = ln.Addr().String()
	sp.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sp.handled.Add(1)
		if strings.HasPrefix(r.URL.Path, "/hub/") {
			io.WriteString(w, "hub")
			return
		}
		sp.proxy.ServeHTTP(w, r)
	})}
	serveOpts := ServeOptions{
		Reserved: func(path string) bool { return strings.HasPrefix(path, "/hub/") },
		AccessLog: func(e AccessLogEntry) {
			sp.fastPath.Add(1)
			select {
			case sp.log <- e:
			default:
			}
		},
	}
	done := make(chan error, 1)
	go func() { done <- sp.proxy.Serve(sp.srv, ln, serveOpts) }()
	t.Cleanup(func() {
		sp.srv.Close()
		sp.proxy.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return sp
}

// waitFastPath waits until AccessLog has reported n requests, which it
// does after each response, and returns the count.
func (sp *servedProxy) waitFastPath(t *testing.T, n int64) int64 {
	t.Helper()
	waitFor(t, "the access log", func() bool { return sp.fastPath.Load() >= n })
	return sp.fastPath.Load()
}

// startEchoServed serves a proxy through Serve with one route, spec, to
// an upstream that runs echoHandler.
func startEchoServed(t *testing.T, spec string) (*servedProxy, *connCounter) {
	t.Helper()
	upstream, conns := startUpstream(t, http.HandlerFunc(echoHandler))
	table := NewTable(TableOptions{})
	mustAdd(t, table, spec, upstream.URL, nil)
	return startServed(t, table, Options{}), conns
}

// rawClient sends requests as raw bytes on one connection.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// The deadline only keeps a broken proxy from hanging the test.
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawClient{t: t, conn: conn, br: bufio.NewReader(conn)}
}

// rawResponse is a response as a client sees it, without the value of
// Date, which differs between runs.
type rawResponse struct {
	Informational []int // statuses of 1xx responses before this one
	Status        int
	Header        http.Header
	Date          bool // the response has a Date field
	Body          string
	Trailer       http.Header
	Close         bool
	Err           string // of reading the body
}

// roundTrip sends req and reads one response; method is the request's
// method, which decides whether the response has a body.
func (c *rawClient) roundTrip(req string) rawResponse {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, req); err != nil {
		c.t.Fatalf("sending the request: %v", err)
	}
	return c.read(strings.Fields(req)[0])
}

func (c *rawClient) read(method string) rawResponse {
	c.t.Helper()
	var informational []int
	res, err := http.ReadResponse(c.br, &http.Request{Method: method})
	for err == nil && res.StatusCode < 200 && res.StatusCode != http.StatusSwitchingProtocols {
		informational = append(informational, res.StatusCode)
		res, err = http.ReadResponse(c.br, &http.Request{Method: method})
	}
	if err != nil {
		c.t.Fatalf("reading the response: %v", err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	_, date := res.Header["Date"]
	res.Header.Del("Date")
	out := rawResponse{Informational: informational, Status: res.StatusCode, Header: res.Header,
		Date: date, Body: string(body), Trailer: res.Trailer, Close: res.Close}
	if err != nil {
		out.Err = err.Error()
	}
	return out
}

// closed reports whether the server closed the connection after the last
// response.
func (c *rawClient) closed() bool {
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.br.Read(make([]byte, 1))
	return n == 0 && errors.Is(err, io.EOF)
}

func TestServeTakesPlainRequests(t *testing.T) {
	sp, _ := startEchoServed(t, "/user/alice")
	c := dialRaw(t, sp.addr)

	res := c.roundTrip("GET /user/alice/api/status?x=1 HTTP/1.1\r\nHost: hub.test\r\n\r\n")
	if res.Status != http.StatusOK {
		t.Fatalf("status = %d, want 200", res.Status)
	}
	if n := sp.waitFastPath(t, 1); n != 1 {
		t.Errorf("fast path served %d requests, want 1", n)
	}
	if n := sp.handled.Load(); n != 0 {
		t.Errorf("http.Server served %d requests, want 0", n)
	}
	e := <-sp.log
	want := AccessLogEntry{Method: "GET", Path: "/user/alice/api/status", Status: 200,
		RemoteAddr: "127.0.0.1", Duration: e.Duration}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("access log entry (-want +got):\n%s", diff)
	}
	if e.Duration <= 0 {
		t.Errorf("access log duration = %v, want > 0", e.Duration)
	}
}

func TestServeHandsOffConnections(t *testing.T) {
	sp, _ := startEchoServed(t, "/user/alice")
	c := dialRaw(t, sp.addr)

	proxied := "GET /user/alice/lab HTTP/1.1\r\nHost: hub.test\r\n\r\n"
	if res := c.roundTrip(proxied); res.Status != 200 {
		t.Fatalf("first request: status %d", res.Status)
	}
	if res := c.roundTrip("GET /hub/home HTTP/1.1\r\nHost: hub.test\r\n\r\n"); res.Body != "hub" {
		t.Errorf("reserved request: body %q, want the handler's", res.Body)
	}
	// The connection now belongs to the http.Server.
	if res := c.roundTrip(proxied); res.Status != 200 {
		t.Errorf("request after the hand-off: status %d", res.Status)
	}
	if n := sp.waitFastPath(t, 1); n != 1 {
		t.Errorf("fast path served %d requests, want 1", n)
	}
	if n := sp.handled.Load(); n != 2 {
		t.Errorf("http.Server served %d requests, want 2", n)
	}
}

// TestServeHandsOffUnusualRequests sends requests the fast path leaves to
// net/http and checks that net/http got them with their bytes intact.
func TestServeHandsOffUnusualRequests(t *testing.T) {
	upstream, _ := startUpstream(t, http.HandlerFunc(echoHandler))
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/user/alice", upstream.URL, nil)
	mustAdd(t, table, "/user/tls", "https://127.0.0.1:1", nil)
	host := "Host: hub.test\r\n"
	tests := []struct {
		name, req string
		status    int
	}{
		{"no route", "GET /nowhere HTTP/1.1\r\n" + host + "\r\n", 404},
		{"reserved", "GET /hub/login HTTP/1.1\r\n" + host + "\r\n", 200},
		{"https target", "GET /user/tls/x HTTP/1.1\r\n" + host + "\r\n", 503},
		{"HTTP/1.0", "GET /user/alice/x HTTP/1.0\r\n\r\n", 200},
		{"chunked body", "POST /user/alice/x HTTP/1.1\r\n" + host +
			"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 200},
		{"expect", "POST /user/alice/x HTTP/1.1\r\n" + host +
			"Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc", 200},
		{"absolute target", "GET http://hub.test/user/alice/x HTTP/1.1\r\n" + host + "\r\n", 200},
		{"quote in path", "GET /user/alice/a\"b HTTP/1.1\r\n" + host + "\r\n", 200},
		{"raw utf-8 in path", "GET /user/alice/\xc3\xa9 HTTP/1.1\r\n" + host + "\r\n", 200},
		{"bare LF", "GET /user/alice/x HTTP/1.1\n" + host[:len(host)-2] + "\n\n", 200},
		{"no host", "GET /user/alice/x HTTP/1.1\r\n\r\n", 400},
		{"two hosts", "GET /user/alice/x HTTP/1.1\r\n" + host + host + "\r\n", 400},
		{"bad length", "GET /user/alice/x HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n", 400},
		{"connection option", "GET /user/alice/x HTTP/1.1\r\n" + host +
			"Connection: keep-alive, X-Secret\r\nX-Secret: 1\r\n\r\n", 200},
		{"large head", "GET /user/alice/x HTTP/1.1\r\n" + host +
			"X-Big: " + strings.Repeat("a", maxHeadSize) + "\r\n\r\n", 200},
		{"length and chunked", "POST /user/alice/x HTTP/1.1\r\n" + host + "Content-Length: 3\r\n" +
			"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 200},
		{"chunked, identity", "POST /user/alice/x HTTP/1.1\r\n" + host +
			"Transfer-Encoding: chunked, identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 501},
		{"identity", "POST /user/alice/x HTTP/1.1\r\n" + host +
			"Transfer-Encoding: identity\r\nContent-Length: 3\r\n\r\nabc", 501},
		{"same length twice", "POST /user/alice/x HTTP/1.1\r\n" + host +
			"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 200},
		{"lengths differ", "POST /user/alice/x HTTP/1.1\r\n" + host +
			"Content-Length: 3\r\nContent-Length: 30\r\n\r\nabc", 400},
		{"length list", "POST /user/alice/x HTTP/1.1\r\n" + host + "Content-Length: 3, 3\r\n\r\nabc", 400},
		{"plus length", "POST /user/alice/x HTTP/1.1\r\n" + host + "Content-Length: +3\r\n\r\nabc", 400},
		{"huge length", "POST /user/alice/x HTTP/1.1\r\n" + host +
			"Content-Length: 99999999999999999999\r\n\r\n", 400},
		{"obsolete folding", "GET /user/alice/x HTTP/1.1\r\n" + host + "X-A: 1\r\n 2\r\n\r\n", 200},
		{"folded length", "POST /user/alice/x HTTP/1.1\r\n" + host +
			"Content-Length: 3\r\n 0\r\n\r\nabc", 400},
		{"space before colon", "POST /user/alice/x HTTP/1.1\r\n" + host +
			"Content-Length : 3\r\n\r\nabc", 400},
		{"tab before colon", "GET /user/alice/x HTTP/1.1\r\n" + host + "X-A\t: 1\r\n\r\n", 400},
		{"NUL in value", "GET /user/alice/x HTTP/1.1\r\n" + host + "X-A: a\x00b\r\n\r\n", 400},
		{"CR in value", "GET /user/alice/x HTTP/1.1\r\n" + host + "X-A: a\rb\r\n\r\n", 400},
		{"DEL in value", "GET /user/alice/x HTTP/1.1\r\n" + host + "X-A: a\x7fb\r\n\r\n", 400},
		{"control byte in name", "GET /user/alice/x HTTP/1.1\r\n" + host + "X\x01A: 1\r\n\r\n", 400},
		{"bare LF in a field", "GET /user/alice/x HTTP/1.1\r\n" + host + "X-A: 1\n\r\n", 200},
		{"HTTP/1.0 keep-alive", "GET /user/alice/x HTTP/1.0\r\n" + host +
			"Connection: keep-alive\r\n\r\n", 200},
		{"HTTP/1.2", "GET /user/alice/x HTTP/1.2\r\n" + host + "\r\n", 200},
		{"upgrade", "GET /user/alice/x HTTP/1.1\r\n" + host +
			"Connection: upgrade\r\nUpgrade: websocket\r\n\r\n", 200},
		{"upgrade field alone", "GET /user/alice/x HTTP/1.1\r\n" + host + "Upgrade: websocket\r\n\r\n", 200},
		{"connection upgrade alone", "GET /user/alice/x HTTP/1.1\r\n" + host + "Connection: Upgrade\r\n\r\n", 200},
		{"expect other", "GET /user/alice/x HTTP/1.1\r\n" + host + "Expect: x\r\n\r\n", 417},
		{"fragment", "GET /user/alice/x#y HTTP/1.1\r\n" + host + "\r\n", 200},
		{"tab in request line", "GET\t/user/alice/x HTTP/1.1\r\n" + host + "\r\n", 400},
		{"two spaces in request line", "GET  /user/alice/x HTTP/1.1\r\n" + host + "\r\n", 400},
		{"leading empty line", "\r\nGET /user/alice/x HTTP/1.1\r\n" + host + "\r\n", 400},
		{"host with user info", "GET /user/alice/x HTTP/1.1\r\nHost: a@hub.test\r\n\r\n", 400},
		{"empty host", "GET /user/alice/x HTTP/1.1\r\nHost:\r\n\r\n", 200},
		{"host and absolute target", "GET http://other.test/user/alice/x HTTP/1.1\r\n" + host + "\r\n", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := startServed(t, table, Options{})
			c := dialRaw(t, sp.addr)
			res := c.roundTrip(tt.req)
			if res.Status != tt.status {
				t.Errorf("status = %d, want %d: %s", res.Status, tt.status, res.Body)
			}
			if n := sp.fastPath.Load(); n != 0 {
				t.Errorf("fast path served %d requests, want 0", n)
			}
			// net/http's server responds to some errors itself.
			if n := sp.handled.Load(); n != 1 && tt.status < 400 {
				t.Errorf("http.Server served %d requests, want 1", n)
			}
		})
	}
}

// TestServeMatchesHandler sends the same requests through Serve and
// through the plain handler, and compares what the upstream receives and
// what the client receives.
func TestServeMatchesHandler(t *testing.T) {
	upstream, _ := startUpstream(t, http.HandlerFunc(echoHandler))
	host := "Host: hub.test:8000\r\n"
	requests := map[string]string{
		"get": "GET /user/alice/api/contents?type=notebook&x=1;y=%ZZ HTTP/1.1\r\n" + host +
			"Accept: application/json\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n",
		"escaped path": "GET /user/alice/files/a%2Fb%23c%20d.txt HTTP/1.1\r\n" + host + "\r\n",
		"prefix only":  "GET /user/alice HTTP/1.1\r\n" + host + "\r\n",
		"post":         "POST /user/alice/api/sessions HTTP/1.1\r\n" + host + "Content-Length: 13\r\n\r\n{\"path\": \"x\"}",
		"put empty":    "PUT /user/alice/api/x HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n",
		"delete":       "DELETE /user/alice/api/x HTTP/1.1\r\n" + host + "\r\n",
		"head":         "HEAD /user/alice/lab HTTP/1.1\r\n" + host + "\r\n",
		"spoofed": "GET /user/alice/x HTTP/1.1\r\n" + host +
			"x-forwarded-for: 203.0.113.9\r\nX-Forwarded-For: 198.51.100.1\r\n" +
			"X-FORWARDED-HOST: evil\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Port: 443\r\n" +
			"X-Forwarded-Prefix: /evil\r\nX_Forwarded_For: 203.0.113.9\r\nForwarded: for=x\r\n" +
			"X-Real-Ip: 203.0.113.9\r\nx-scheme: https\r\nX-Forwarded-: kept\r\n\r\n",
		"hop by hop": "GET /user/alice/x HTTP/1.1\r\n" + host +
			"Connection: keep-alive\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n" +
			"Proxy-Authorization: Basic eA==\r\nTe: trailers, deflate\r\nTrailer: X-T\r\n\r\n",
		"user agents": "GET /user/alice/x HTTP/1.1\r\n" + host +
			"User-Agent: first\r\nUser-Agent: second\r\n\r\n",
		"empty user agent": "GET /user/alice/x HTTP/1.1\r\n" + host + "User-Agent:\r\n\r\n",
		"white space":      "GET /user/alice/x HTTP/1.1\r\n" + host + "X-Pad: \t padded \t\r\n\r\n",
		"custom header":    "GET /user/alice/x HTTP/1.1\r\n" + host + "x-custom: client\r\n\r\n",
		"close":            "GET /user/alice/x HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n",
		"keep-alive, close": "GET /user/alice/x HTTP/1.1\r\n" + host +
			"Connection: keep-alive\r\nConnection: close\r\n\r\n",
		"length with zeros": "POST /user/alice/x HTTP/1.1\r\n" + host + "Content-Length: 007\r\n\r\n1234567",
		"get with body":     "GET /user/alice/x HTTP/1.1\r\n" + host + "Content-Length: 3\r\n\r\nabc",
		"hub cookies": "GET /user/alice/x HTTP/1.1\r\n" + host +
			"Cookie: jupyterhub-hub-login=signed; jupyterhub-session-id=abc\r\n" +
			"Cookie: jupyterhub-user-alice=token\r\n\r\n",
		"dot segments":    "GET /user/alice/../alice/x/./y HTTP/1.1\r\n" + host + "\r\n",
		"encoded dots":    "GET /user/alice/%2e%2e/%2E/x HTTP/1.1\r\n" + host + "\r\n",
		"double slash":    "GET //user/alice//x HTTP/1.1\r\n" + host + "\r\n",
		"semicolon":       "GET /user/alice/x;v=1/y;z HTTP/1.1\r\n" + host + "\r\n",
		"query only":      "GET /user/alice? HTTP/1.1\r\n" + host + "\r\n",
		"mixed case host": "GET /user/alice/x HTTP/1.1\r\nHost: HUB.Test:8000\r\n\r\n",
		"host, no port":   "GET /user/alice/x HTTP/1.1\r\nHost: hub.test\r\n\r\n",
		"IPv6 host":       "GET /user/alice/x HTTP/1.1\r\nHost: [::1]:8000\r\n\r\n",
		"empty port":      "GET /user/alice/x HTTP/1.1\r\nHost: hub.test:\r\n\r\n",
		"other forwarding": "GET /user/alice/x HTTP/1.1\r\n" + host +
			"X-Forwarded-Ssl: on\r\nX_Real_IP: 203.0.113.9\r\nX-Scheme: https\r\nforwarded: by=x\r\n\r\n",
		"lower-case names": "GET /user/alice/x HTTP/1.1\r\nhost: hub.test\r\ncontent-length: 0\r\n" +
			"connection: keep-alive\r\nte: trailers\r\nx-forwarded-for: 203.0.113.9\r\n\r\n",
	}
	modes := map[string]Options{
		"defaults":        {},
		"trust":           {TrustForwarded: true},
		"no x-forwarded":  {NoXForwarded: true},
		"trust, no x-fwd": {TrustForwarded: true, NoXForwarded: true},
		"change origin":   {ChangeOrigin: true},
		"strip prefix":    {StripPrefix: true},
		"ignore target":   {IgnoreTargetPath: true},
		"custom headers":  {Headers: http.Header{"x-custom": {"proxy"}, "X-Other": {"1", "2"}}},
	}
	for mode, opts := range modes {
		t.Run(mode, func(t *testing.T) {
			table := NewTable(TableOptions{})
			mustAdd(t, table, "/user/alice", upstream.URL+"/base?t=1", nil)
			if !opts.StripPrefix && !opts.IgnoreTargetPath {
				table = NewTable(TableOptions{})
				mustAdd(t, table, "/user/alice", upstream.URL, nil)
			}
			fast := startServed(t, table, opts)
			_, plain := startProxy(t, front{"handler", false}, table, opts)
			for name, req := range requests {
				got := dialRaw(t, fast.addr).roundTrip(req)
				want := dialRaw(t, strings.TrimPrefix(plain.URL, "http://")).roundTrip(req)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s (-handler +fast path):\n%s", name, diff)
				}
			}
			if n := fast.waitFastPath(t, int64(len(requests))); n != int64(len(requests)) {
				t.Errorf("fast path served %d of %d requests", n, len(requests))
			}
		})
	}
}

func TestServeKeepsUpstreamConnections(t *testing.T) {
	sp, conns := startEchoServed(t, "/")
	c := dialRaw(t, sp.addr)
	for i := range 50 {
		res := c.roundTrip(fmt.Sprintf("GET /%d HTTP/1.1\r\nHost: hub.test\r\n\r\n", i))
		if res.Status != 200 {
			t.Fatalf("request %d: status %d", i, res.Status)
		}
	}
	if n := conns.Accepted(); n != 1 {
		t.Errorf("the upstream accepted %d connections for 50 sequential requests, want 1", n)
	}
}

func TestServePipelinedRequests(t *testing.T) {
	sp, _ := startEchoServed(t, "/")
	c := dialRaw(t, sp.addr)

	var reqs strings.Builder
	for i := range 3 {
		fmt.Fprintf(&reqs, "POST /%d HTTP/1.1\r\nHost: hub.test\r\nContent-Length: 1\r\n\r\n%d", i, i)
	}
	io.WriteString(c.conn, reqs.String()+"GET /hub/x HTTP/1.1\r\nHost: hub.test\r\n\r\n")
	for i := range 3 {
		res := c.read("POST")
		if want := fmt.Sprintf(`"request_uri":"/%d"`, i); !strings.Contains(res.Body, want) {
			t.Errorf("response %d = %s, want %s", i, res.Body, want)
		}
		if want := fmt.Sprintf(`"body":"%d"`, i); !strings.Contains(res.Body, want) {
			t.Errorf("response %d = %s, want %s", i, res.Body, want)
		}
	}
	if res := c.read("GET"); res.Body != "hub" {
		t.Errorf("pipelined reserved request: body %q, want the handler's", res.Body)
	}
}

// TestServeRetriesStaleConnection closes the upstream's idle connections,
// as a restarted or idle-timing upstream does, and checks that requests
// that follow still succeed and reach the upstream once each.
func TestServeRetriesStaleConnection(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	upstream, conns := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}))
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/", upstream.URL, nil)
	sp := startServed(t, table, Options{})
	c := dialRaw(t, sp.addr)

	requests := []string{
		"GET /warm HTTP/1.1\r\nHost: hub.test\r\n\r\n",
		"GET /get HTTP/1.1\r\nHost: hub.test\r\n\r\n",
		"POST /post HTTP/1.1\r\nHost: hub.test\r\nContent-Length: 2\r\n\r\nhi",
	}
	for i, req := range requests {
		if i > 0 {
			upstream.CloseClientConnections()
			waitFor(t, "the upstream to close its connections", func() bool { return conns.Open() == 0 })
		}
		if res := c.roundTrip(req); res.Status != 200 || res.Body != "ok" {
			t.Errorf("%s: %d %q, want 200 ok", strings.Fields(req)[1], res.Status, res.Body)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{"GET /warm", "GET /get", "POST /post"}, seen); diff != "" {
		t.Errorf("requests at the upstream (-want +got):\n%s", diff)
	}
}

func TestServeShutdown(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	upstream, _ := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(arrived)
			<-release
		}
		io.WriteString(w, "ok")
	}))
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/", upstream.URL, nil)
	sp := startServed(t, table, Options{})

	idle := dialRaw(t, sp.addr)
	if res := idle.roundTrip("GET /fast HTTP/1.1\r\nHost: hub.test\r\n\r\n"); res.Status != 200 {
		t.Fatalf("status = %d", res.Status)
	}
	busy := dialRaw(t, sp.addr)
	io.WriteString(busy.conn, "GET /slow HTTP/1.1\r\nHost: hub.test\r\n\r\n")
	<-arrived

	shutdown := make(chan error, 1)
	go func() {
		sp.srv.Shutdown(context.Background())
		shutdown <- sp.proxy.Shutdown(context.Background())
	}()
	if !idle.closed() {
		t.Error("the idle connection stayed open after Shutdown")
	}
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned %v before the busy request finished", err)
	default:
	}
	close(release)
	res := busy.read("GET")
	if res.Status != 200 || !res.Close {
		t.Errorf("busy request: %d, close %v; want 200 with Connection: close", res.Status, res.Close)
	}
	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}
