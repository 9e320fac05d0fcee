package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestUpstreamConnectionBoundToRoute stops a user server whose process
// keeps its connection from the proxy open, then starts another user's
// server on the same port. That user's requests must reach the new server,
// never the connection of the old one.
func TestUpstreamConnectionBoundToRoute(t *testing.T) {
	forEachFront(t, testUpstreamConnectionBoundToRoute)
}

func testUpstreamConnectionBoundToRoute(t *testing.T, f front) {
	// A process of mallory's server keeps the connection of the first
	// request open and responds on it with what it read.
	mallory := startScriptedUpstream(t, func(_, request int, r *http.Request) (string, bool) {
		body := "mallory's server"
		if request > 0 {
			body = fmt.Sprintf("mallory's server read %s with cookie %q", r.URL.Path, r.Header.Get("Cookie"))
		}
		return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body), false
	})
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/user/mallory", mallory.url, nil)
	_, srv := startProxy(t, f, table, Options{})
	addr := strings.TrimPrefix(srv.URL, "http://")

	res := dialRaw(t, addr).roundTrip("GET /user/mallory/ HTTP/1.1\r\nHost: hub.test\r\n\r\n")
	if res.Body != "mallory's server" {
		t.Fatalf("first response: %+v", res)
	}
	mallory.listener.Close()
	table.Remove("/user/mallory")

	ln, err := net.Listen("tcp", mallory.listener.Addr().String())
	if err != nil {
		t.Fatalf("listening on the stopped server's port: %v", err)
	}
	alice := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "alice's server")
	})}
	go alice.Serve(ln)
	t.Cleanup(func() { alice.Close() })
	mustAdd(t, table, "/user/alice", mallory.url, nil)

	c := dialRaw(t, addr)
	for i := range 2 {
		res = c.roundTrip("GET /user/alice/api/contents HTTP/1.1\r\nHost: hub.test\r\n" +
			"Cookie: jupyterhub-user-alice=secret\r\n\r\n")
		if res.Body != "alice's server" {
			t.Errorf("request %d for alice's server: %d %q", i, res.Status, res.Body)
		}
	}
}

// scriptedUpstream is an upstream whose responses a test scripts.
type scriptedUpstream struct {
	url      string
	listener net.Listener

	mu    sync.Mutex
	paths []string // of the requests read; guarded by mu
}

// startScriptedUpstream starts an upstream that responds to each request
// with what script returns for it, the number of its connection and its
// number on that connection, both from 0. After the last response it
// closes the connection. Closing the listener leaves the connections open.
func startScriptedUpstream(t *testing.T,
	script func(conn, request int, r *http.Request) (response string, last bool),
) *scriptedUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	u := &scriptedUpstream{url: "http://" + ln.Addr().String(), listener: ln}
	go func() {
		for n := 0; ; n++ {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go u.serve(conn, n, script)
		}
	}()
	return u
}

func (u *scriptedUpstream) serve(conn net.Conn, n int,
	script func(conn, request int, r *http.Request) (string, bool),
) {
	defer conn.Close()
	br := bufio.NewReader(conn)
	for i := 0; ; i++ {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		u.mu.Lock()
		u.paths = append(u.paths, req.URL.Path)
		u.mu.Unlock()
		response, last := script(n, i, req)
		if _, err := io.WriteString(conn, response); err != nil || last {
			return
		}
	}
}

// seen returns the paths of the requests read so far, in order.
func (u *scriptedUpstream) seen() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.paths...)
}

// TestServeIgnoresBytesOfIdleConnection has an upstream send a second
// response while its connection is idle in the pool. The next request,
// from another client, must get its own response, not that one.
func TestServeIgnoresBytesOfIdleConnection(t *testing.T) {
	const real = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nreal"
	inject, injected := make(chan struct{}), make(chan struct{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for first := true; ; first = false {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				serveRawOnce(conn, real)
				if first {
					<-inject
					io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged")
					close(injected)
				}
				serveRaw(conn, real, false)
			}()
		}
	}()
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/", "http://"+ln.Addr().String(), nil)
	sp := startServed(t, table, Options{})

	if res := dialRaw(t, sp.addr).roundTrip("GET /a HTTP/1.1\r\nHost: hub.test\r\n\r\n"); res.Body != "real" {
		t.Fatalf("first response: %+v", res)
	}
	close(inject)
	<-injected
	// On loopback the forged response is in the proxy's receive buffer
	// once the upstream's write has returned.
	for _, method := range []string{"GET", "POST"} {
		req := method + " /b HTTP/1.1\r\nHost: hub.test\r\nContent-Length: 0\r\n\r\n"
		if res := dialRaw(t, sp.addr).roundTrip(req); res.Body != "real" {
			t.Errorf("%s after bytes on the idle connection: %d %q", method, res.Status, res.Body)
		}
	}
}

// serveRawOnce reads one request from conn and writes response.
func serveRawOnce(conn net.Conn, response string) {
	req, err := http.ReadRequest(bufio.NewReader(conn))
	if err != nil {
		return
	}
	io.Copy(io.Discard, req.Body)
	io.WriteString(conn, response)
}

// TestRetryNeverMixesResponses has a reused upstream connection send part
// of a response head and close. Sending the request again may not splice
// that part onto the response from a new connection: the client gets an
// error, and the request reaches the upstream once, as through net/http's
// Transport.
func TestRetryNeverMixesResponses(t *testing.T) { forEachFront(t, testRetryNeverMixesResponses) }

func testRetryNeverMixesResponses(t *testing.T, f front) {
	const real = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nreal"
	upstream := startScriptedUpstream(t, func(conn, request int, _ *http.Request) (string, bool) {
		if conn == 0 && request == 1 {
			return "HTTP/1.1 302 Found\r\nLocation: https://evil.test/\r\nX-A: ", true
		}
		return real, false
	})
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/", upstream.url, nil)
	_, srv := startProxy(t, f, table, Options{})
	c := dialRaw(t, strings.TrimPrefix(srv.URL, "http://"))

	if res := c.roundTrip("GET /a HTTP/1.1\r\nHost: hub.test\r\n\r\n"); res.Body != "real" {
		t.Fatalf("first response: %+v", res)
	}
	res := c.roundTrip("GET /b HTTP/1.1\r\nHost: hub.test\r\n\r\n")
	if res.Status != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", res.Status)
	}
	if loc := res.Header.Get("Location"); loc != "" {
		t.Errorf("the response has the broken head's Location %q", loc)
	}
	if got := strings.Join(upstream.seen(), " "); got != "/a /b" {
		t.Errorf("requests at the upstream: %s, want /a /b", got)
	}
}

func TestNothingRead(t *testing.T) {
	tests := []struct {
		name          string
		buffered      string
		informational bool
		err           error
		want          bool
	}{
		{"closed", "", false, io.EOF, true},
		{"reset", "", false, syscall.ECONNRESET, true},
		{"timed out", "", false, &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, false},
		{"part of a head", "HTTP/1.1 200 OK\r\n", false, io.EOF, false},
		{"malformed head", "HTTP/1.1 2x0 OK\r\n\r\n", false, errMalformed, false},
		{"after a 1xx", "", true, io.EOF, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := &exchange{up: readBuffer{buf: []byte(tt.buffered), w: len(tt.buffered)}}
			res := &fastResponse{informational: tt.informational}
			if got := nothingRead(x, res, tt.err); got != tt.want {
				t.Errorf("nothingRead = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestServeIdleConnectionMemory sends a request head with a long Host and
// many short fields, and gets a response head of many fields, then checks that the idle client connection
// no longer holds the memory they took.
func TestServeIdleConnectionMemory(t *testing.T) {
	fields := func(n int) string { return strings.Repeat("X-A: 1\r\n", n) }
	upstream := startRawUpstream(t, "HTTP/1.1 200 OK\r\n"+fields(20000)+"Content-Length: 2\r\n\r\nok", false)
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/", upstream, nil)
	sp := startServed(t, table, Options{})
	c := dialRaw(t, sp.addr)

	host := strings.Repeat("a", 30000) + ".test"
	res := c.roundTrip("GET /x HTTP/1.1\r\nHost: " + host + "\r\n" + fields(3000) + "\r\n")
	if res.Body != "ok" {
		t.Fatalf("response: %d %q", res.Status, res.Body)
	}
	var fc *fastConn
	for _, s := range sp.proxy.fastServers() {
		s.mu.Lock()
		for conn := range s.conns {
			fc = conn
		}
		s.mu.Unlock()
	}
	if fc == nil {
		t.Fatal("no connection on the fast path")
	}
	waitFor(t, "the connection to be idle", func() bool { return fc.state.Load() == connIdle })
	if n := len(fc.in.buf); n > initialBufferSize {
		t.Errorf("idle connection keeps a read buffer of %d bytes, want at most %d", n, initialBufferSize)
	}
	if n := cap(fc.fields); n > maxIdleFields {
		t.Errorf("idle connection keeps room for %d fields, want at most %d", n, maxIdleFields)
	}
	if n := cap(fc.host.raw); n > maxIdleHost {
		t.Errorf("idle connection keeps a Host of %d bytes, want at most %d", n, maxIdleHost)
	}
}
