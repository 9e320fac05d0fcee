package proxy

import (
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// States of a fastConn, for shutdown.
const (
	connActive int32 = iota // reading or serving a request
	connIdle                // waiting for the next request, nothing buffered
	connClosed              // closed by drain or abort
)

// initialBufferSize is the size of a client connection's read buffer,
// which grows up to maxHeadSize for larger heads.
const initialBufferSize = 4 << 10

// errBufferFull is returned by readBuffer.fill when the buffer is at its
// size limit.
var errBufferFull = errors.New("buffer full")

// readBuffer is a read buffer over a connection whose unread bytes stay
// in one slice, so a head can be parsed in place and handed on.
type readBuffer struct {
	conn io.Reader
	buf  []byte
	r, w int
}

func (b *readBuffer) buffered() []byte { return b.buf[b.r:b.w] }

// discard consumes n buffered bytes. The bytes stay in memory until the
// next fill.
func (b *readBuffer) discard(n int) {
	b.r += n
	if b.r == b.w {
		b.r, b.w = 0, 0
	}
}

// fill reads at least one byte more. To make room it moves the unread
// bytes to the front, or grows the buffer up to limit; at limit it returns
// errBufferFull.
func (b *readBuffer) fill(limit int) error {
	switch {
	case b.buf == nil:
		b.buf = make([]byte, initialBufferSize)
	case b.w < len(b.buf):
	case b.r > 0:
		b.w = copy(b.buf, b.buf[b.r:b.w])
		b.r = 0
	case len(b.buf) < limit:
		grown := make([]byte, min(2*len(b.buf), limit))
		b.w = copy(grown, b.buf[b.r:b.w])
		b.r, b.buf = 0, grown
	default:
		return errBufferFull
	}
	n, err := b.conn.Read(b.buf[b.w:])
	b.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// fastConn is a client connection served by the fast path. Only its own
// goroutine uses it, except for state, up and conn.Close, which drain and
// abort use.
type fastConn struct {
	s          *fastServer
	p          *Proxy
	conn       *net.TCPConn
	sock       *socket // conn, for the reads and writes of requests
	in         readBuffer
	remoteAddr string // as net/http puts it in Request.RemoteAddr
	clientIP   string // for X-Forwarded-For

	state atomic.Int32

	mu sync.Mutex
	up *upstreamConn // the upstream connection in use; guarded by mu

	fields []field // header fields of the current head
	host   hostCache
	// unread is set when the client may still be sending the body of a
	// request that got its response before the whole body was read.
	unread bool
}

func newFastConn(s *fastServer, c *net.TCPConn) *fastConn {
	fc := &fastConn{s: s, p: s.proxy, conn: c, sock: newSocket(c), remoteAddr: c.RemoteAddr().String()}
	fc.clientIP, _, _ = net.SplitHostPort(fc.remoteAddr)
	fc.in.conn = fc.sock
	return fc
}

// serve reads and forwards requests until the connection closes or a
// request goes to the http.Server.
func (c *fastConn) serve() {
	defer c.s.finish(c)
	for {
		n, err := c.readHead()
		if errors.Is(err, errBufferFull) {
			c.s.handOff(c.conn, c.in.buffered())
			return
		}
		if err != nil {
			c.conn.Close()
			return
		}
		req, ok := c.parseRequest(c.in.buffered()[:n])
		var rt *route
		if ok {
			rt = c.route(&req)
		}
		if rt == nil {
			c.s.handOff(c.conn, c.in.buffered())
			return
		}
		if !c.forward(&req, rt) {
			c.close()
			return
		}
	}
}

// readHead reads until the buffer holds a complete request head and
// returns its length. Until the first byte of the request arrives, the
// connection is idle and the server's idle timeout applies. From the
// first byte on, the header timeout applies.
func (c *fastConn) readHead() (int, error) {
	var deadline time.Duration // the timeout set on the connection, or 0
	for {
		buf := c.in.buffered()
		if n := headEnd(buf); n >= 0 {
			if deadline != 0 {
				c.conn.SetReadDeadline(time.Time{})
			}
			return n, nil
		}
		if len(buf) == 0 {
			if err := c.waitRequest(&deadline); err != nil {
				return 0, err
			}
			continue
		}
		if t := c.s.headerTimeout; deadline != t {
			c.setReadTimeout(t)
			deadline = t
		}
		if err := c.in.fill(maxHeadSize); err != nil {
			return 0, err
		}
	}
}

// errConnClosed is returned by waitRequest for a connection closed by
// drain or abort.
var errConnClosed = errors.New("connection closed by shutdown")

// maxIdleFields and maxIdleHost are the capacities of the field slice and
// of the cached Host that an idle connection keeps for the next request.
const (
	maxIdleFields = 64
	maxIdleHost   = 256
)

// waitRequest waits, idle, for the first bytes of the next request. drain
// closes idle connections, so the state moves to active only once bytes
// arrive.
func (c *fastConn) waitRequest(deadline *time.Duration) error {
	c.releaseMemory()
	c.state.Store(connIdle)
	if c.s.draining.Load() && c.state.CompareAndSwap(connIdle, connClosed) {
		return errConnClosed
	}
	if t := c.s.idleTimeout; *deadline != t {
		c.setReadTimeout(t)
		*deadline = t
	}
	err := c.in.fill(maxHeadSize)
	if !c.state.CompareAndSwap(connIdle, connActive) {
		return errConnClosed
	}
	return err
}

// releaseMemory drops what a large head grew: the read buffer, the cached
// Host, and the slice of fields, which a head of many short fields makes
// many times larger than the head itself. An idle connection then keeps
// about as much as a new one, however large its last request and response
// were. The buffer must be empty.
func (c *fastConn) releaseMemory() {
	if len(c.in.buf) > initialBufferSize {
		c.in.buf, c.in.r, c.in.w = make([]byte, initialBufferSize), 0, 0
	}
	if cap(c.fields) > maxIdleFields {
		c.fields = nil
	}
	if cap(c.host.raw) > maxIdleHost {
		c.host = hostCache{}
	}
}

// lingerTime is how long close reads what a client still sends before it
// closes the connection, as long as net/http's server waits.
const lingerTime = 500 * time.Millisecond

// close closes the connection. When the client may still be sending a
// request body, it first sends FIN and discards what arrives for up to
// lingerTime, as net/http's server does. Closing with unread bytes makes
// the kernel send a reset, which can destroy the response before the
// client reads it.
func (c *fastConn) close() {
	if c.unread && c.state.Load() != connClosed {
		c.conn.CloseWrite()
		c.conn.SetReadDeadline(time.Now().Add(lingerTime))
		io.Copy(io.Discard, c.conn)
	}
	c.conn.Close()
}

// setReadTimeout sets a read deadline timeout from now, or none for 0.
func (c *fastConn) setReadTimeout(timeout time.Duration) {
	if timeout == 0 {
		c.conn.SetReadDeadline(time.Time{})
		return
	}
	c.conn.SetReadDeadline(time.Now().Add(timeout))
}

// closeIfIdle closes the connection when it waits for a request.
func (c *fastConn) closeIfIdle() {
	if c.state.CompareAndSwap(connIdle, connClosed) {
		c.conn.Close()
	}
}

// abort closes both sides of the connection, ending any request in
// progress.
func (c *fastConn) abort() {
	c.state.Store(connClosed)
	c.conn.Close()
	c.mu.Lock()
	if c.up != nil {
		c.up.conn.Close()
	}
	c.mu.Unlock()
}

// setUpstream records the upstream connection in use, for abort.
func (c *fastConn) setUpstream(uc *upstreamConn) {
	c.mu.Lock()
	c.up = uc
	closed := c.state.Load() == connClosed
	c.mu.Unlock()
	if closed && uc != nil {
		uc.conn.Close()
	}
}

// fastRequest is a request head the fast path forwards.
type fastRequest struct {
	head       []byte // the whole head, as the client sent it
	method     string
	target     requestTarget
	host       []byte
	length     int64 // of the body; 0 without Content-Length
	close      bool  // the client sent "Connection: close"
	teTrailers bool  // the client accepts trailers
}

// replayable reports whether the request may be sent again on another
// connection when a reused one fails, by the rule of net/http's Transport.
func (r *fastRequest) replayable() bool {
	switch r.method {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return r.length == 0
	}
	return false
}

// parseRequest parses a request head that the fast path may forward. It
// reports false for every other head: a protocol other than HTTP/1.1, the
// CONNECT method, a target that is not a path, an upgrade, Expect or
// Transfer-Encoding, and Connection options other than close and
// keep-alive. So do a Host or Content-Length that is missing, repeated or
// invalid.
func (c *fastConn) parseRequest(head []byte) (fastRequest, bool) {
	req := fastRequest{head: head}
	line, rest, _ := cutLine(head, true)
	method, line, _ := cut(line, ' ')
	target, proto, _ := cut(line, ' ')
	if !isToken(method) || string(proto) != "HTTP/1.1" || string(method) == "CONNECT" {
		return req, false
	}

	var ok bool
	if req.target, ok = parseRequestTarget(target); !ok {
		return req, false
	}
	if c.fields, ok = parseFields(c.fields[:0], rest, true); !ok {
		return req, false
	}
	req.method = methodString(method)

	hosts, lengths := 0, 0
	for _, f := range c.fields {
		switch f.kind {
		case fieldHost:
			hosts++
			req.host = f.value
		case fieldContentLength:
			lengths++
			if req.length, ok = parseLength(f.value); !ok {
				return req, false
			}
		case fieldTransferEncoding, fieldUpgrade, fieldExpect:
			return req, false
		case fieldConnection:
			if !onlyTokens(f.value, "close", "keep-alive") {
				return req, false
			}
			req.close = req.close || hasToken(f.value, "close")
		case fieldTE:
			req.teTrailers = req.teTrailers || hasToken(f.value, "trailers")
		}
	}

	if hosts != 1 || len(req.host) == 0 || !allOf(req.host, classHost) || lengths > 1 {
		return req, false
	}
	return req, true
}

// cut slices p around the first sep.
func cut(p []byte, sep byte) (before, after []byte, found bool) {
	for i, c := range p {
		if c == sep {
			return p[:i], p[i+1:], true
		}
	}
	return p, nil, false
}

// route returns the route the fast path forwards req on, or nil when the
// request belongs to the http.Server.
func (c *fastConn) route(req *fastRequest) *route {
	p := c.p
	path := req.target.path
	switch {
	case p.closed.Load(),
		p.opts.HealthCheck && path == HealthPath,
		c.s.opts.Reserved != nil && c.s.opts.Reserved(path):
		return nil
	}
	c.host.set(req.host)
	rt := p.table.match(c.host.host, path)
	if rt == nil || rt.target.Scheme != "http" {
		return nil
	}
	return rt
}

// hostCache holds the Host of the connection's last request as strings,
// because clients send the same Host on every request of a connection.
type hostCache struct {
	raw  []byte
	host string // the Host header value
	port string // for X-Forwarded-Port
}

func (h *hostCache) set(raw []byte) {
	if string(raw) == string(h.raw) && h.raw != nil {
		return
	}
	h.raw = append(h.raw[:0], raw...)
	h.host = string(raw)
	h.port = "80"
	if _, port, err := net.SplitHostPort(h.host); err == nil && port != "" {
		h.port = port
	}
}

// appendUpstreamHead appends the head of the request to the upstream, as
// rewrite builds it for the ReverseProxy.
func (c *fastConn) appendUpstreamHead(b []byte, req *fastRequest, rt *route) []byte {
	o := &c.p.opts
	b = append(b, req.method...)
	b = append(b, ' ')
	b = c.appendTarget(b, req, rt)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	if o.ChangeOrigin {
		b = append(b, rt.target.Host...)
	} else {
		b = append(b, req.host...)
	}
	b = append(b, "\r\n"...)
	b = c.appendFields(b)
	if req.length > 0 || req.method == "POST" || req.method == "PUT" || req.method == "PATCH" {
		// net/http's Transport sends a length of 0 for these methods.
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, req.length, 10)
		b = append(b, "\r\n"...)
	}
	if !o.NoXForwarded {
		b = c.appendForwarded(b, req)
	}
	b = append(b, c.p.headerLines...)
	if req.teTrailers {
		b = append(b, "Te: trailers\r\n"...)
	}
	return append(b, "\r\n"...)
}

// appendTarget appends the request target for the upstream. Without a
// target path or query to add, or a prefix to strip, it is the client's
// target byte for byte, which parseRequestTarget ensures is what
// ReverseProxy would send.
func (c *fastConn) appendTarget(b []byte, req *fastRequest, rt *route) []byte {
	o := &c.p.opts
	t := rt.target
	if !o.StripPrefix && t.RawQuery == "" && (o.IgnoreTargetPath || t.Path == "") {
		return append(b, req.target.raw...)
	}
	return append(b, c.p.forwardURL(string(req.target.raw), rt)...)
}

// appendFields appends the client's header fields that the upstream
// receives: all but the hop-by-hop fields, those the proxy sets itself,
// and forwarding headers that are not trusted.
func (c *fastConn) appendFields(b []byte) []byte {
	o := &c.p.opts
	userAgent := false
	for _, f := range c.fields {
		switch f.kind {
		case fieldHost, fieldContentLength, fieldConnection, fieldTE, fieldHopByHop,
			fieldTrailer, fieldXForwardedFor, fieldXForwardedHost, fieldXForwardedProto:
			continue
		case fieldForwarded:
			if !o.TrustForwarded || o.NoXForwarded {
				continue
			}
		case fieldXForwardedPort:
			if !o.TrustForwarded || !o.NoXForwarded {
				continue
			}
		case fieldForwarding:
			if !o.TrustForwarded {
				continue
			}
		case fieldUserAgent:
			// net/http's Transport sends the first User-Agent only, and
			// none when it is empty.
			seen := userAgent
			userAgent = true
			if seen || len(f.value) == 0 {
				continue
			}
		}
		if c.p.isCustomHeader(f.name) {
			continue
		}
		b = appendField(b, f.name, f.value)
	}
	return b
}

func appendField(b, name, value []byte) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}

// appendForwarded appends X-Forwarded-For, -Host, -Proto and -Port, with
// the client's values where they are trusted, as setForwarded sets them.
func (c *fastConn) appendForwarded(b []byte, req *fastRequest) []byte {
	trust := c.p.opts.TrustForwarded
	var host, proto, port []byte
	b = append(b, "X-Forwarded-For: "...)
	for _, f := range c.fields {
		if !trust {
			break
		}
		switch f.kind {
		case fieldXForwardedFor:
			b = append(b, f.value...)
			b = append(b, ", "...)
		case fieldXForwardedHost:
			host = firstValue(host, f.value)
		case fieldXForwardedProto:
			proto = firstValue(proto, f.value)
		case fieldXForwardedPort:
			port = firstValue(port, f.value)
		}
	}
	b = append(b, c.clientIP...)
	b = append(b, "\r\nX-Forwarded-Host: "...)
	b = append(b, orBytes(host, req.host)...)
	b = append(b, "\r\nX-Forwarded-Proto: "...)
	b = append(b, orString(proto, "http")...)
	b = append(b, "\r\nX-Forwarded-Port: "...)
	b = append(b, orString(port, c.host.port)...)
	return append(b, "\r\n"...)
}

// firstValue returns v, the first value seen, or else next. A nil v means
// none was seen yet; field values are never nil.
func firstValue(v, next []byte) []byte {
	if v != nil {
		return v
	}
	return next
}

func orBytes(v, def []byte) []byte {
	if len(v) > 0 {
		return v
	}
	return def
}

func orString(v []byte, def string) string {
	if len(v) > 0 {
		return string(v)
	}
	return def
}
