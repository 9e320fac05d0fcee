package proxy

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

const kernelProtocol = "v1.kernel.websocket.jupyter.org"

// wsUpstream is a WebSocket server that echoes client messages, sends what
// arrives on push, and closes abruptly on the message "drop".
type wsUpstream struct {
	push      chan string
	handshake chan *http.Request
}

func newWSUpstream() *wsUpstream {
	return &wsUpstream{push: make(chan string), handshake: make(chan *http.Request, 100)}
}

func (u *wsUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{kernelProtocol}})
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	u.handshake <- r
	ctx, cancel := context.WithCancel(r.Context())
	done := make(chan struct{})
	defer func() {
		cancel()
		<-done
	}()
	go func() {
		defer close(done)
		for {
			select {
			case msg := <-u.push:
				c.Write(ctx, websocket.MessageText, []byte(msg))
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		if string(data) == "drop" {
			return
		}
		if err := c.Write(ctx, typ, data); err != nil {
			return
		}
	}
}

func wsURL(srv string, path string) string {
	return "ws" + strings.TrimPrefix(srv, "http") + path
}

func dialWS(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{kernelProtocol}})
	if err != nil {
		t.Fatalf("dialing %s: %v", url, err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("dial status = %d", res.StatusCode)
	}
	c.SetReadLimit(1 << 20)
	return c
}

func readWS(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	return string(data)
}

func writeWS(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	if err := c.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
		t.Fatalf("writing a message of %d bytes: %v", len(msg), err)
	}
}

func TestProxyWebSocket(t *testing.T) { forEachFront(t, testProxyWebSocket) }

func testProxyWebSocket(t *testing.T, f front) {
	up := newWSUpstream()
	upstream, _ := startUpstream(t, up)
	clock := newFakeClock()
	table := NewTable(TableOptions{Now: clock.Now})
	mustAdd(t, table, "/user/alice", upstream.URL, nil)
	_, srv := startProxy(t, f, table, Options{})

	path := "/user/alice/api/kernels/k1/channels?session_id=s%201"
	c := dialWS(t, wsURL(srv.URL, path))
	defer c.CloseNow()
	if got := c.Subprotocol(); got != kernelProtocol {
		t.Errorf("subprotocol = %q, want %q", got, kernelProtocol)
	}
	hs := <-up.handshake
	if hs.RequestURI != path {
		t.Errorf("upstream request URI = %q, want %q", hs.RequestURI, path)
	}
	if got := hs.Header.Get("X-Forwarded-For"); got != "127.0.0.1" {
		t.Errorf("upstream X-Forwarded-For = %q", got)
	}
	if got := hs.Host; got != strings.TrimPrefix(srv.URL, "http://") {
		t.Errorf("upstream Host = %q, want the proxy's", got)
	}

	activity := func() time.Time {
		r, _ := table.Get("/user/alice")
		return r.LastActivity
	}
	steps := []struct {
		name string
		run  func()
	}{
		{"client to upstream", func() {
			writeWS(t, c, "hello")
			if got := readWS(t, c); got != "hello" {
				t.Errorf("echo = %q", got)
			}
		}},
		{"upstream to client", func() {
			up.push <- "status: idle"
			if got := readWS(t, c); got != "status: idle" {
				t.Errorf("pushed message = %q", got)
			}
		}},
		{"large message", func() {
			msg := strings.Repeat("x", 200_000)
			writeWS(t, c, msg)
			if got := readWS(t, c); got != msg {
				t.Errorf("echo of %d bytes has %d", len(msg), len(got))
			}
		}},
	}
	for _, s := range steps {
		now := clock.Advance(time.Minute)
		s.run()
		if got := activity(); !got.Equal(now) {
			t.Errorf("%s: last activity = %v, want %v", s.name, got, now)
		}
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Errorf("closing: %v", err)
	}
}

func TestProxyWebSocketEndsCleanly(t *testing.T) { forEachFront(t, testProxyWebSocketEndsCleanly) }

func testProxyWebSocketEndsCleanly(t *testing.T, f front) {
	up := newWSUpstream()
	upstream, conns := startUpstream(t, up)
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/user/alice", upstream.URL, nil)
	p, srv := startProxy(t, f, table, Options{})
	url := wsURL(srv.URL, "/user/alice/api/kernels/k1/channels")

	endings := []struct {
		name string
		end  func(c *websocket.Conn)
	}{
		{"close handshake", func(c *websocket.Conn) { c.Close(websocket.StatusNormalClosure, "") }},
		{"client drops", func(c *websocket.Conn) { c.CloseNow() }},
		{"upstream drops", func(c *websocket.Conn) {
			writeWS(t, c, "drop")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, _, err := c.Read(ctx); err == nil {
				t.Error("read after the upstream dropped succeeded")
			}
			c.CloseNow()
		}},
	}
	for _, e := range endings {
		t.Run(e.name, func(t *testing.T) {
			baseline := runtime.NumGoroutine()
			for range 20 {
				c := dialWS(t, url)
				<-up.handshake
				writeWS(t, c, "ping")
				if got := readWS(t, c); got != "ping" {
					t.Fatalf("echo = %q", got)
				}
				e.end(c)
			}
			waitFor(t, "switched connections to end", func() bool {
				p.mu.Lock()
				defer p.mu.Unlock()
				return len(p.conns) == 0
			})
			waitFor(t, "upstream connections to close", func() bool { return conns.Open() == 0 })
			waitGoroutines(t, baseline)
		})
	}
}

func TestProxyCloseEndsWebSockets(t *testing.T) { forEachFront(t, testProxyCloseEndsWebSockets) }

func testProxyCloseEndsWebSockets(t *testing.T, f front) {
	up := newWSUpstream()
	upstream, _ := startUpstream(t, up)
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/user/alice", upstream.URL, nil)
	p, srv := startProxy(t, f, table, Options{})

	clients := make([]*websocket.Conn, 3)
	for i := range clients {
		clients[i] = dialWS(t, wsURL(srv.URL, "/user/alice/api/events/subscribe"))
		defer clients[i].CloseNow()
		<-up.handshake
	}
	p.Close()

	p.mu.Lock()
	open := len(p.conns)
	p.mu.Unlock()
	if open != 0 {
		t.Errorf("%d switched connections tracked after Close", open)
	}
	for i, c := range clients {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, _, err := c.Read(ctx)
		cancel()
		if err == nil {
			t.Errorf("client %d: read after Close succeeded", i)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, res, err := websocket.Dial(ctx, wsURL(srv.URL, "/user/alice/x"), nil)
	if err == nil || res == nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial after Close: response %v, err %v; want 503", res, err)
	}
}

func TestProxyUpgradeKeepsLastWords(t *testing.T) { forEachFront(t, testProxyUpgradeKeepsLastWords) }

// testProxyUpgradeKeepsLastWords has the upstream of a switched connection
// send its last bytes and end it while the client is still sending, as a
// WebSocket server that refuses a message too large does. The client must
// read those bytes, the close frame in that case, after it has sent.
func testProxyUpgradeKeepsLastWords(t *testing.T, f front) {
	const lastWords = "last words from the upstream"
	upstream, _ := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		if _, err := brw.ReadByte(); err != nil {
			return
		}
		conn.Write([]byte(lastWords))
		conn.(*net.TCPConn).CloseWrite()
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		io.Copy(io.Discard, conn)
	}))
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/user/alice", upstream.URL, nil)
	_, srv := startProxy(t, f, table, Options{})

	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "GET /user/alice/x HTTP/1.1\r\nHost: example\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %s", res.Status)
	}
	// The first byte makes the upstream end the connection. The rest, 16
	// MiB, more than the kernel buffers of both connections hold, goes out
	// after the proxy has seen the end.
	if _, err := conn.Write([]byte{0}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	chunk := make([]byte, 64<<10)
	for range 256 {
		if _, err := conn.Write(chunk); err != nil {
			t.Fatalf("writing after the upstream ended: %v", err)
		}
	}
	got, err := io.ReadAll(br)
	if string(got) != lastWords {
		t.Errorf("read %q (%v), want %q", got, err, lastWords)
	}
}
