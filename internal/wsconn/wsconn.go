// Package wsconn wraps the TCP connection under a WebSocket for writes
// that never wait. A server writes a small message to a client that keeps
// up from the goroutine that produced it, and leaves what the socket does
// not take to the connection's writer goroutine. Handing every message to
// a writer goroutine per client costs the Go scheduler a wake-up per
// message, which dominates when one message goes to many clients.
package wsconn

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"unsafe"
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

	// read is the state of the Read in progress, which the WebSocket
	// library's reader makes one at a time.
	read   nowRead
	readFD func(fd uintptr) bool // c.readFromFD, made once
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
	c := &Conn{Conn: conn, raw: raw}
	// Method values made once, where closures over the buffer would cost
	// allocations on every read and write.
	c.writeFD, c.readFD = c.writeToFD, c.readFromFD
	return c
}

// nowRead is the state of a Read call.
type nowRead struct {
	p   []byte
	n   int
	err error
}

// Read reads from the socket with a raw system call (see rawWrite), and
// waits in the runtime's poller while nothing can be read.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.read = nowRead{p: p}
	err := c.raw.Read(c.readFD)
	n, rerr := c.read.n, c.read.err
	c.read = nowRead{}
	if err != nil {
		return n, err
	}
	return n, rerr
}

// readFromFD reads once into c.read.p from the socket fd, as
// syscall.RawConn.Read calls it. It returns false to wait until fd is
// readable.
func (c *Conn) readFromFD(fd uintptr) bool {
	r := &c.read
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd,
			uintptr(unsafe.Pointer(&r.p[0])), uintptr(len(r.p)))
		switch {
		case errno == syscall.EINTR:
			continue
		case errno == syscall.EAGAIN:
			return false
		case errno != 0:
			r.err = os.NewSyscallError("read", errno)
		case n == 0:
			r.err = io.EOF
		default:
			r.n = int(n)
		}
		return true
	}
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
		n, err := rawWrite(fd, w.p[w.written:])
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
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

// rawWrite writes p to the non-blocking socket fd with a raw system call,
// which returns at once, so it skips the scheduler's bookkeeping for calls
// that may block. That bookkeeping also wakes the runtime's sysmon thread
// from its sleep, and sysmon then polls every 20 µs while the process
// runs: with an edit every 50 ms, those wake-ups cost about a tenth of a
// room server's CPU time (Go 1.26, a profile in docs/benchmarks.md).
func rawWrite(fd uintptr, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd,
		uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
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
// that New rejects. Accept also sets its unexported fields, which add the
// check of the client's frames or leave out the Conn.
type Response struct {
	http.ResponseWriter
	Conn *Conn

	// readLimit, when positive, puts a frameCheck with this message limit
	// in front of the reads.
	readLimit int64
	// plain leaves out the Conn for writes that do not wait.
	plain bool
}

func (h *Response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if !h.plain {
		h.Conn = New(conn)
	}
	if h.Conn != nil {
		// The buffered writer is empty after the hijack.
		brw.Writer.Reset(h.Conn)
		conn = h.Conn
	}
	if h.readLimit > 0 {
		conn = newCheckedConn(conn, brw.Reader, h.readLimit)
	}
	return conn, brw, nil
}

func (h *Response) Unwrap() http.ResponseWriter { return h.ResponseWriter }
