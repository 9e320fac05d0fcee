package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// upgradeRequest is a WebSocket handshake as JupyterLab sends it for a
// kernel's channels.
const upgradeRequest = "GET /user/alice/api/kernels/k1/channels?session_id=s HTTP/1.1\r\n" +
	"Host: hub.test\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"\r\n"

// wrongProtocolUpstream responds to every upgrade with 101 to h2c, a
// protocol the client did not request, then waits until the proxy closes
// the connection.
type wrongProtocolUpstream struct {
	open atomic.Int64
}

func (u *wrongProtocolUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	u.open.Add(1)
	defer u.open.Add(-1)
	defer conn.Close()
	brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n")
	brw.Flush()
	io.Copy(io.Discard, conn)
}

// TestProxyFailedUpgradeLeaksNothing sends WebSocket upgrades that cannot
// succeed: the upstream responds with plain HTTP, switches to another
// protocol, or is stopped. Every client must get an HTTP response and a
// closed connection, and no connection or goroutine may outlive the loop.
func TestProxyFailedUpgradeLeaksNothing(t *testing.T) {
	forEachFront(t, testProxyFailedUpgradeLeaksNothing)
}

func testProxyFailedUpgradeLeaksNothing(t *testing.T, f front) {
	const attempts = 200
	plain := func(status int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if status == http.StatusFound {
				http.Redirect(w, r, "/hub/login", status)
				return
			}
			w.WriteHeader(status)
			io.WriteString(w, "not a websocket")
		})
	}
	tests := []struct {
		name       string
		upstream   http.Handler // nil means a stopped upstream
		wantStatus int
		wantBody   string
	}{
		{"plain 200", plain(http.StatusOK), 200, "not a websocket"},
		{"plain 503", plain(http.StatusServiceUnavailable), 503, "not a websocket"},
		{"redirect to login", plain(http.StatusFound), 302, ""},
		{"wrong protocol", &wrongProtocolUpstream{}, 503, "hub error page"},
		{"stopped upstream", nil, 503, "hub error page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := "http://" + closedAddr(t)
			var upstreamConns *connCounter
			if tt.upstream != nil {
				srv, conns := startUpstream(t, tt.upstream)
				target, upstreamConns = srv.URL, conns
			}
			table := NewTable(TableOptions{})
			mustAdd(t, table, "/user/alice", target, nil)
			p, srv := startProxy(t, f, table, Options{
				MaxIdleConnsPerHost: 2,
				ErrorHandler: func(w http.ResponseWriter, r *http.Request, status int, err error) {
					w.WriteHeader(status)
					io.WriteString(w, "hub error page")
				},
			})
			proxyAddr := strings.TrimPrefix(srv.URL, "http://")
			baseline := runtime.NumGoroutine()

			for i := range attempts {
				status, body := failedUpgrade(t, proxyAddr)
				if status != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
					t.Fatalf("attempt %d: response %d %q, want %d %q",
						i, status, body, tt.wantStatus, tt.wantBody)
				}
			}

			if upstreamConns != nil {
				// Plain responses leave keep-alive connections in the pool,
				// at most MaxIdleConnsPerHost of them.
				waitFor(t, "upstream connections back to the pool limit", func() bool {
					return upstreamConns.Open() <= 2
				})
			}
			if u, ok := tt.upstream.(*wrongProtocolUpstream); ok {
				waitFor(t, "switched upstream connections to close", func() bool {
					return u.open.Load() == 0
				})
			}
			p.mu.Lock()
			tracked := len(p.conns)
			p.mu.Unlock()
			if tracked != 0 {
				t.Errorf("%d switched connections still tracked", tracked)
			}

			p.Close()
			if upstreamConns != nil {
				waitFor(t, "upstream connections to close", func() bool {
					return upstreamConns.Open() == 0
				})
			}
			waitGoroutines(t, baseline)
		})
	}
}

// failedUpgrade sends one upgrade request on a new connection, reads the
// response, and checks that the proxy then closes the connection.
func failedUpgrade(t *testing.T, addr string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The deadline only keeps a broken proxy from hanging the test.
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, upgradeRequest); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	if !res.Close {
		t.Fatalf("response %d lacks Connection: close", res.StatusCode)
	}
	if n, err := br.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("after the response: read %d bytes, %v; want the proxy to close", n, err)
	}
	return res.StatusCode, string(body)
}
