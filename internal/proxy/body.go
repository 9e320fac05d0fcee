package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var (
	crlf      = []byte("\r\n")
	lastChunk = []byte("0\r\n\r\n")
)

// maxChunkLine is the longest chunk-size line accepted, as in net/http.
const maxChunkLine = 4096

var errMalformedChunk = fmt.Errorf("%w: malformed chunked encoding", errMalformed)

func isEOF(err error) bool { return errors.Is(err, io.EOF) }

func appendChunkSize(b []byte, n int64) []byte {
	b = strconv.AppendInt(b, n, 16)
	return append(b, "\r\n"...)
}

// parseChunkSize parses a chunk-size line, with its line ending, as
// net/http does: hexadecimal digits, then optional white space and chunk
// extensions, which are dropped.
func parseChunkSize(line []byte) (int64, bool) {
	line = bytes.TrimRight(line, " \t\r\n")
	line, _, _ = cut(line, ';')
	line = bytes.TrimRight(line, " \t")
	if len(line) == 0 || len(line) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range line {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}

// upstreamLine returns the next line of the response body, with its line
// ending, still buffered in x.up.
func (c *fastConn) upstreamLine(x *exchange, w *clientWriter, rt *route, res *fastResponse) ([]byte, error) {
	for {
		buf := x.up.buffered()
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			return buf[:i+1], nil
		}
		if len(buf) >= maxChunkLine {
			return nil, errMalformedChunk
		}
		if err := c.fillUpstream(x, w, rt, res); err != nil {
			return nil, err
		}
	}
}

// copyChunked copies a chunked body to the client chunk by chunk, then
// the trailer fields.
func (c *fastConn) copyChunked(x *exchange, w *clientWriter, rt *route, res *fastResponse) error {
	for {
		line, err := c.upstreamLine(x, w, rt, res)
		if err != nil {
			return err
		}
		size, ok := parseChunkSize(line)
		if !ok {
			return errMalformedChunk
		}
		x.up.discard(len(line))
		if size == 0 {
			return c.copyTrailer(x, w, rt, res)
		}
		if err := w.write(appendChunkSize(x.scratch[:0], size)); err != nil {
			return err
		}
		if err := c.copyLength(x, w, rt, res, size); err != nil {
			return err
		}
		for len(x.up.buffered()) < 2 {
			if err := c.fillUpstream(x, w, rt, res); err != nil {
				return err
			}
		}
		if !bytes.HasPrefix(x.up.buffered(), crlf) {
			return errMalformedChunk
		}
		x.up.discard(2)
		if err := w.write(crlf); err != nil {
			return err
		}
	}
}

// copyTrailer copies the trailer fields after the last chunk, and the
// empty line that ends the body.
func (c *fastConn) copyTrailer(x *exchange, w *clientWriter, rt *route, res *fastResponse) error {
	if err := w.write(lastChunk[:3]); err != nil {
		return err
	}
	for {
		line, err := c.upstreamLine(x, w, rt, res)
		if err != nil {
			return err
		}
		x.up.discard(len(line))
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte{'\n'}), []byte{'\r'})
		if len(line) == 0 {
			return w.write(crlf)
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		value = trimSpace(value)
		if !ok || !isToken(name) || !isFieldValue(value) {
			return errMalformedChunk
		}
		if err := w.write(appendField(x.scratch[:0], name, value)); err != nil {
			return err
		}
	}
}

// aLongTimeAgo is a read deadline that interrupts a read at once.
var aLongTimeAgo = time.Unix(1, 0)

// bodyCopy copies the rest of a request body from the client to the
// upstream in its own goroutine.
type bodyCopy struct {
	done chan struct{}
	// readAll is set once the last byte is read from the client, before
	// it is written to the upstream, so the upstream cannot respond to a
	// whole body before readAll is set.
	readAll     atomic.Bool
	interrupted atomic.Bool
	err         error // set before done closes
	client      bool  // err came from reading the client
}

var copyBuffers = sync.Pool{New: func() any {
	b := make([]byte, 32<<10)
	return &b
}}

// copyBody starts copying n bytes from the client to uc. Every read from
// the client counts as activity, as in activityBody.
func (c *fastConn) copyBody(uc *upstreamConn, n int64, rt *route) *bodyCopy {
	b := &bodyCopy{done: make(chan struct{})}
	go func() {
		defer close(b.done)
		bufp := copyBuffers.Get().(*[]byte)
		defer copyBuffers.Put(bufp)
		buf := *bufp
		for n > 0 {
			m, err := c.sock.Read(buf[:min(int64(len(buf)), n)])
			if m > 0 {
				n -= int64(m)
				b.readAll.Store(n == 0)
				rt.activity.touch(c.p.table.nowNanos())
				if _, werr := uc.sock.Write(buf[:m]); werr != nil {
					b.err = werr
					return
				}
			}
			if err != nil && n > 0 {
				b.err, b.client = err, !b.interrupted.Load()
				// The upstream would wait for the rest of the body.
				uc.conn.Close()
				return
			}
		}
	}()
	return b
}

func (b *bodyCopy) finished() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// stop waits for the copy to end, ending it first when it still runs
// because the upstream responded before it read the whole body. It
// reports whether the client and the upstream connection can serve
// another request.
func (b *bodyCopy) stop(c *fastConn, uc *upstreamConn) (clientOK, upstreamOK bool) {
	if b.finished() {
		return b.readAll.Load(), b.err == nil
	}
	b.interrupted.Store(true)
	uc.conn.Close()
	interrupted := !b.readAll.Load()
	if interrupted {
		c.conn.SetReadDeadline(aLongTimeAgo)
	}
	<-b.done
	return !interrupted, false
}

// fail ends a request that got no response from the upstream. As
// handleError does, it logs the cause and sends the ErrorHandler's
// response with status 503, or nothing when the client went away. It
// returns the status sent. The client connection closes afterwards.
func (c *fastConn) fail(x *exchange, req *fastRequest, rt *route, res *fastResponse, err error) int {
	p := c.p
	if res.clientWentAway {
		p.log.Debug("client went away", "route", rt.spec, "path", req.target.path, "err", err)
		return 0
	}
	r := c.clientRequest(req)
	p.logUpstreamError(r.Context(), rt, r, err)
	w := &errorResponse{header: make(http.Header)}
	p.opts.ErrorHandler(w, r, http.StatusServiceUnavailable, err)
	x.out = w.appendTo(x.out[:0], req.method == http.MethodHead)
	c.sock.Write(x.out)
	return w.statusCode()
}

// logCopyError logs a response that broke off after its head was sent.
// ReverseProxy logs these at Debug too.
func (c *fastConn) logCopyError(req *fastRequest, rt *route, res *fastResponse, err error) {
	msg := "upstream response body failed"
	if errors.Is(err, errClientWrite) {
		msg = "client went away"
	}
	c.p.log.Debug(msg, "route", rt.spec, "path", req.target.path, "status", res.status, "err", err)
}

// clientRequest returns the request as net/http would have read it, for
// the ErrorHandler and the logs. Its body is empty.
func (c *fastConn) clientRequest(req *fastRequest) *http.Request {
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(req.head)))
	if err != nil {
		// parseRequest accepts only heads that net/http reads.
		r = &http.Request{
			Method: req.method, URL: &url.URL{Path: req.target.path},
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: make(http.Header), Host: string(req.host),
		}
	}
	r.Body = http.NoBody
	r.RemoteAddr = c.remoteAddr
	return r
}

// errorResponse is the http.ResponseWriter given to the ErrorHandler on
// the fast path. It keeps the response and writes it as net/http's server
// would, with Connection: close.
type errorResponse struct {
	header http.Header
	status int
	body   []byte
}

func (w *errorResponse) Header() http.Header { return w.header }

func (w *errorResponse) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *errorResponse) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.body = append(w.body, p...)
	return len(p), nil
}

func (w *errorResponse) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// appendTo appends the response, without its body for a HEAD request.
func (w *errorResponse) appendTo(b []byte, head bool) []byte {
	status := w.statusCode()
	h := w.header
	allowed := bodyAllowed(status)
	if _, ok := h["Content-Type"]; !ok && allowed && len(w.body) > 0 && h.Get("Content-Encoding") == "" {
		h.Set("Content-Type", http.DetectContentType(w.body))
	}
	h.Del("Transfer-Encoding")
	if allowed {
		h.Set("Content-Length", strconv.Itoa(len(w.body)))
	} else {
		h.Del("Content-Length")
	}
	if _, ok := h["Date"]; !ok {
		h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	h.Set("Connection", "close")
	b = appendStatusLine(b, status)
	var fields bytes.Buffer
	h.Write(&fields)
	b = append(b, fields.Bytes()...)
	b = append(b, crlf...)
	if allowed && !head {
		b = append(b, w.body...)
	}
	return b
}
