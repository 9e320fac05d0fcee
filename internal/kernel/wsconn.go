package kernel

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
	"syscall"
)

// wsConn is the TCP connection under a kernel WebSocket. Its writes wait for
// the peer, as the connection's own do, except between beginDirect and
// endDirect: there a write takes what the socket accepts at once and keeps
// the rest for flush. So the kernel's channels can write a message to a
// client that keeps up without waiting for it and without waking the
// bridge's writer goroutine.
//
// Between cork and uncork, writes are collected in pending, so that the
// frames of the messages the writer goroutine took go out in one write.
//
// The WebSocket library calls Write with its frame lock held, so Writes do
// not overlap. But flush, called by the writer goroutine, can overlap them,
// so wmu orders the bytes on the wire.
type wsConn struct {
	net.Conn
	raw syscall.RawConn

	wmu sync.Mutex // held by a write to the socket that can wait

	mu      sync.Mutex
	direct  bool   // writes do not wait
	corked  bool   // writes are collected in pending
	waiting bool   // a write that can wait is in progress
	pending []byte // bytes accepted but not yet sent
	err     error  // the first write error, returned by every write after it
}

// corkBytes bounds pending while corked. A write past it goes out at once.
const corkBytes = 64 << 10

// newWSConn wraps conn, or returns nil when conn has no descriptor for
// writes that do not wait, as a TLS connection has none.
func newWSConn(conn net.Conn) *wsConn {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return &wsConn{Conn: conn, raw: raw}
}

// Write writes p, waiting for the peer unless the connection is in direct
// mode.
func (c *wsConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	if c.direct {
		defer c.mu.Unlock()
		return c.writeDirectLocked(p)
	}
	if c.err != nil {
		defer c.mu.Unlock()
		return 0, c.err
	}
	if c.corked && len(c.pending)+len(p) <= corkBytes {
		defer c.mu.Unlock()
		c.pending = append(c.pending, p...)
		return len(p), nil
	}
	c.waiting = true
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()

	n, err := c.writeWaiting(pending, p)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.waiting = false
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// writeWaiting writes pending, then p, in one writev, and returns how much
// of p it wrote.
func (c *wsConn) writeWaiting(pending, p []byte) (int, error) {
	bufs := net.Buffers{pending, p}
	n, err := bufs.WriteTo(c.Conn)
	return max(int(n)-len(pending), 0), err
}

// writeDirectLocked writes what the socket takes of p at once and keeps the
// rest. It reports p written unless the socket failed.
func (c *wsConn) writeDirectLocked(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if len(c.pending) > 0 {
		c.pending = append(c.pending, p...)
		return len(p), nil
	}
	n, err := c.writeNow(p)
	if err != nil {
		c.err = err
		return 0, err
	}
	c.pending = append(c.pending, p[n:]...)
	return len(p), nil
}

// writeNow writes what the socket takes of p without waiting.
func (c *wsConn) writeNow(p []byte) (int, error) {
	written := 0
	var werr error
	err := c.raw.Write(func(fd uintptr) bool {
		for written < len(p) {
			n, err := syscall.Write(int(fd), p[written:])
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			if errors.Is(err, syscall.EAGAIN) {
				return true
			}
			if err != nil {
				werr = err
				return true
			}
			written += n
		}
		return true
	})
	if werr == nil {
		werr = err
	}
	return written, werr
}

// beginDirect puts the connection in direct mode and reports true, unless
// a write that waits is in progress, the connection is corked or bytes are
// pending.
func (c *wsConn) beginDirect() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiting || c.corked || len(c.pending) > 0 || c.err != nil {
		return false
	}
	c.direct = true
	return true
}

// endDirect ends direct mode and reports whether bytes are pending or a
// write failed, which flush then handles.
func (c *wsConn) endDirect() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.direct = false
	return len(c.pending) > 0 || c.err != nil
}

// flush writes the pending bytes, waiting for the peer, and returns the
// first write error of the connection.
func (c *wsConn) flush() error {
	_, err := c.Write(nil)
	return err
}

// cork collects the writes that can wait until uncork.
func (c *wsConn) cork() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = true
}

// uncork ends cork and writes what it collected.
func (c *wsConn) uncork() error {
	c.mu.Lock()
	c.corked = false
	c.mu.Unlock()
	return c.flush()
}

// hijackResponse is the ResponseWriter of a kernel WebSocket upgrade. Its
// Hijack wraps the connection in a wsConn, kept in conn.
type hijackResponse struct {
	http.ResponseWriter
	conn *wsConn
}

func (h *hijackResponse) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = newWSConn(conn)
	if h.conn == nil {
		return conn, brw, nil
	}
	// The buffered writer is empty after the hijack.
	brw.Writer.Reset(h.conn)
	return h.conn, brw, nil
}

func (h *hijackResponse) Unwrap() http.ResponseWriter { return h.ResponseWriter }
