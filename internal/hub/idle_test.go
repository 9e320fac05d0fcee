package hub

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestIdleConnectionClosed checks that the hub closes a keep-alive
// connection that sends no further request within the idle timeout.
func TestIdleConnectionClosed(t *testing.T) {
	th := startHub(t, hubOptions{idleTimeout: 200 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(th.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /hub/health HTTP/1.1\r\nHost: hub\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /hub/health = %d, want 200", resp.StatusCode)
	}

	// The bound only keeps a broken hub from hanging the test: the
	// connection must end long before it.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err = br.ReadByte()
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		t.Fatal("the hub kept an idle connection open for 30 s")
	}
	if !errors.Is(err, io.EOF) {
		t.Errorf("read after the idle timeout: %v, want EOF", err)
	}
}

// TestServeStoppedDuringStart checks that a stop that comes while the hub
// still syncs its configuration ends Serve without an error.
func TestServeStoppedDuringStart(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.stop()
	h, err := New(Options{
		Config: th.hub.cfg, Store: th.store, Spawner: th.spawner, Authenticator: th.local,
		CookieSecret: []byte(strings.Repeat("k", 32)), Version: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Serve(ctx, ln); err != nil {
		t.Errorf("Serve after a stop during start: %v, want nil", err)
	}
}
