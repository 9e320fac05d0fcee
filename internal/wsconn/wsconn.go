// Package wsconn wraps the TCP connection under a WebSocket for writes
// that never wait. A server writes a small message to a client that keeps
// up from the goroutine that produced it, and leaves what the socket does
// not take to the connection's writer goroutine. Handing every message to
// a writer goroutine per client costs the Go scheduler a wake-up per
// message, which dominates when one message goes to many clients.
package wsconn

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
	"syscall"
)

// Conn is the TCP connection under a WebSocket. Its writes wait for the
// peer, as the connection's own do, except between BeginDirect and
// EndDirect: there a write takes what the socket accepts at once and keeps
// the rest for Flush. So a server can write a message to a client that
// keeps up without waiting for it and without waking the client's writer
// goroutine.
//
// Between Cork and Uncork, writes are collected in pending, so that the
// frames of the messages the writer goroutine took go out in one write.
//
// The WebSocket library calls Write with its frame lock held, so Writes do
// not overlap. But Flush, called by the writer goroutine, can overlap them,
// so wmu orders the bytes on the wire.
type Conn struct {
	net.Conn
	raw syscall.RawConn

	wmu sync.Mutex // held by a write to the socket that can wait

	mu      sync.Mutex
	direct  bool   // writes do not wait
	corked  bool   // writes are collected in pending
	waiting bool   // a write that can wait is in progress
	pending []byte // bytes accepted but not yet sent
	err     error  // the first write error, returned by every write after it
	now     nowWrite
	writeFD func(fd uintptr) bool // c.writeToFD, made once
}

// corkBytes bounds pending while corked. A write past it goes out at once.
const corkBytes = 64 << 10

// New wraps conn, or returns nil when conn has no descriptor for
// writes that do not wait, as a TLS connection has none.
func New(conn net.Conn) *Conn {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return &Conn{Conn: conn, raw: raw}
}

// Write writes p, waiting for the peer unless the connection is in direct
// mode.
func (c *Conn) Write(p []byte) (int, error) {
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
func (c *Conn) writeWaiting(pending, p []byte) (int, error) {
	bufs := net.Buffers{pending, p}
	n, err := bufs.WriteTo(c.Conn)
	return max(int(n)-len(pending), 0), err
}

// writeDirectLocked writes what the socket takes of p at once and keeps the
// rest. It reports p written unless the socket failed.
func (c *Conn) writeDirectLocked(p []byte) (int, error) {
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

// writeNow writes what the socket takes of p without waiting. The caller
// holds mu, which guards the fields of the write in progress.
func (c *Conn) writeNow(p []byte) (int, error) {
	if c.writeFD == nil {
		// A method value made once, where a closure over p would cost
		// allocations on every write.
		c.writeFD = c.writeToFD
	}
	c.now = nowWrite{p: p}
	err := c.raw.Write(c.writeFD)
	written, werr := c.now.written, c.now.err
	c.now = nowWrite{}
	if werr == nil {
		werr = err
	}
	return written, werr
}

// nowWrite is the state of a writeNow call.
type nowWrite struct {
	p       []byte
	written int
	err     error
}

// writeToFD writes c.now.p to the socket fd until it would block, as
// syscall.RawConn.Write calls it.
func (c *Conn) writeToFD(fd uintptr) bool {
	w := &c.now
	for w.written < len(w.p) {
		n, err := syscall.Write(int(fd), w.p[w.written:])
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if errors.Is(err, syscall.EAGAIN) {
			return true
		}
		if err != nil {
			w.err = err
			return true
		}
		w.written += n
	}
	return true
}

// BeginDirect puts the connection in direct mode and reports true, unless
// a write that waits is in progress, the connection is corked or bytes are
// pending.
func (c *Conn) BeginDirect() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiting || c.corked || len(c.pending) > 0 || c.err != nil {
		return false
	}
	c.direct = true
	return true
}

// EndDirect ends direct mode and reports whether bytes are pending or a
// write failed, which Flush then handles.
func (c *Conn) EndDirect() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.direct = false
	return len(c.pending) > 0 || c.err != nil
}

// Flush writes the pending bytes, waiting for the peer, and returns the
// first write error of the connection.
func (c *Conn) Flush() error {
	_, err := c.Write(nil)
	return err
}

// Cork collects the writes that can wait until Uncork.
func (c *Conn) Cork() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = true
}

// Uncork ends Cork and writes what it collected.
func (c *Conn) Uncork() error {
	c.mu.Lock()
	c.corked = false
	c.mu.Unlock()
	return c.Flush()
}

// Response is the ResponseWriter of a WebSocket upgrade. Its Hijack wraps
// the connection in a Conn, kept in Conn, which stays nil for a connection
// that New rejects.
type Response struct {
	http.ResponseWriter
	Conn *Conn
}

func (h *Response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.Conn = New(conn)
	if h.Conn == nil {
		return conn, brw, nil
	}
	// The buffered writer is empty after the hijack.
	brw.Writer.Reset(h.Conn)
	return h.Conn, brw, nil
}

func (h *Response) Unwrap() http.ResponseWriter { return h.ResponseWriter }
