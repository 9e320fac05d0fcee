package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"
)

// Buffer sizes of an exchange. Output beyond outBufferSize is written
// without copying it first.
const (
	outBufferSize      = 16 << 10
	upstreamBufferSize = 32 << 10
)

// exchange is the scratch memory of one request on the fast path, pooled
// so an idle client connection holds only its read buffer.
type exchange struct {
	out     []byte     // the upstream request, then output for the client
	up      readBuffer // bytes from the upstream
	scratch [24]byte   // room for a chunk-size line
}

var exchanges = sync.Pool{New: func() any {
	return &exchange{
		out: make([]byte, 0, outBufferSize),
		up:  readBuffer{buf: make([]byte, upstreamBufferSize)},
	}
}}

func getExchange() *exchange { return exchanges.Get().(*exchange) }

func putExchange(x *exchange) {
	x.up.conn, x.up.r, x.up.w = nil, 0, 0
	if cap(x.out) > outBufferSize || len(x.up.buf) > upstreamBufferSize {
		// A large head grew a buffer: let it go.
		return
	}
	x.out = x.out[:0]
	exchanges.Put(x)
}

// Body framings of a response, RFC 9112 section 6.3.
type framing uint8

const (
	bodyNone framing = iota
	bodyLength
	bodyChunked
	bodyUntilClose
)

// fastResponse is a response head from the upstream.
type fastResponse struct {
	status    int
	headLen   int
	framing   framing
	length    int64 // for bodyLength
	keepAlive bool  // the upstream keeps the connection open after it
	// connTokens is set when Connection names fields to remove.
	connTokens                    bool
	hasDate, hasType, hasEncoding bool
	informational                 bool // a 1xx response went to the client first
	clientWentAway                bool
}

// forward sends req to the target of rt and the response to the client.
// It reports whether the client connection stays open.
func (c *fastConn) forward(req *fastRequest, rt *route) bool {
	began := time.Now()
	x := getExchange()
	defer putExchange(x)
	status, keep := c.exchange(x, req, rt)
	if f := c.s.opts.AccessLog; f != nil {
		f(AccessLogEntry{Method: req.method, Path: req.target.path, Status: status,
			Duration: time.Since(began), RemoteAddr: c.clientIP})
	}
	return keep
}

// exchange forwards one request and its response, and returns the status
// sent to the client, 0 for none, and whether the connection stays open.
func (c *fastConn) exchange(x *exchange, req *fastRequest, rt *route) (int, bool) {
	x.out = c.appendUpstreamHead(x.out[:0], req, rt)
	head := len(req.head)
	inBuffer := min(req.length, int64(len(c.in.buffered())-head))
	x.out = append(x.out, c.in.buffered()[head:head+int(inBuffer)]...)
	if inBuffer > 0 {
		rt.activity.touch(c.p.table.nowNanos())
	}
	c.in.discard(head + int(inBuffer))

	rest := req.length - inBuffer
	uc, res, body, err := c.roundTrip(x, req, rt, rest)
	if err != nil {
		c.unread = rest > 0 && (body == nil || !body.readAll.Load())
		return c.fail(x, req, rt, &res, err), false
	}
	keep, err := c.copyResponse(x, req, rt, &res, body)
	if body != nil {
		clientOK, upstreamOK := body.stop(c, uc)
		keep = keep && clientOK
		res.keepAlive = res.keepAlive && upstreamOK
		c.unread = !clientOK
	}
	c.setUpstream(nil)
	if err == nil && keep && res.keepAlive {
		c.p.upstreams.put(uc)
	} else {
		uc.conn.Close()
	}
	if err != nil {
		c.logCopyError(req, rt, &res, err)
		return res.status, false
	}
	return res.status, keep
}

// roundTrip sends the request, whose head and buffered body are in x.out
// and whose rest of rest bytes is still to be read from the client, and
// reads the final response head into x.up. A replayable request is sent
// again on a new connection when a reused one fails before the upstream
// sent a byte of response, as net/http's Transport does.
func (c *fastConn) roundTrip(x *exchange, req *fastRequest, rt *route, rest int64) (
	*upstreamConn, fastResponse, *bodyCopy, error,
) {
	for attempt := 0; ; attempt++ {
		uc, err := c.p.upstreams.get(rt)
		if err != nil {
			return nil, fastResponse{}, nil, err
		}
		c.setUpstream(uc)
		res, body, err := c.send(x, uc, req, rt, rest)
		if err == nil {
			return uc, res, body, nil
		}
		c.setUpstream(nil)
		uc.conn.Close()
		if attempt > 0 || !uc.reused || !req.replayable() || !nothingRead(x, &res, err) {
			return nil, res, body, err
		}
	}
}

// nothingRead reports whether a request failed before the upstream sent
// any part of a response, without timing out, so that sending it again
// cannot mix a response begun on one connection with the rest from
// another. net/http's Transport retries only such requests.
func nothingRead(x *exchange, res *fastResponse, err error) bool {
	return len(x.up.buffered()) == 0 && !res.informational && !errors.Is(err, os.ErrDeadlineExceeded)
}

// send writes the request to uc and reads the response head. A body still
// to come from the client is copied by a goroutine meanwhile, because the
// upstream may respond before it has read it all.
func (c *fastConn) send(x *exchange, uc *upstreamConn, req *fastRequest, rt *route, rest int64) (
	fastResponse, *bodyCopy, error,
) {
	if _, err := uc.sock.Write(x.out); err != nil {
		return fastResponse{}, nil, err
	}
	var body *bodyCopy
	if rest > 0 {
		body = c.copyBody(uc, rest, rt)
	}
	if t := c.p.opts.ResponseHeaderTimeout; t > 0 {
		uc.conn.SetReadDeadline(time.Now().Add(t))
		defer uc.conn.SetReadDeadline(time.Time{})
	}
	x.up.conn = uc.sock
	res, err := c.readResponseHead(x, req)
	if err != nil && body != nil {
		body.stop(c, uc)
		res.clientWentAway = res.clientWentAway || body.client
	}
	return res, body, err
}

// readResponseHead reads the final response head into x.up and its fields
// into c.fields. Informational responses are sent to the client as they
// come.
func (c *fastConn) readResponseHead(x *exchange, req *fastRequest) (fastResponse, error) {
	informational := false
	for {
		n, err := readHead(&x.up, maxResponseHeadSize)
		if err != nil {
			return fastResponse{informational: informational}, err
		}
		res, ok := c.parseResponse(x.up.buffered()[:n], req)
		res.informational = informational
		switch {
		case !ok:
			return res, errMalformed
		case res.status == http.StatusSwitchingProtocols:
			return res, fmt.Errorf("%w: switched protocols without an upgrade request", errMalformed)
		case res.status >= 200:
			return res, nil
		}
		// Like ReverseProxy, which reads 1xx responses through a client
		// trace, this sets no limit on their number.
		if err := c.sendInformational(x, &res); err != nil {
			res.clientWentAway = true
			return res, err
		}
		informational = true
		x.up.discard(n)
	}
}

// readHead reads into b until it holds a complete head, and returns the
// head's length.
func readHead(b *readBuffer, limit int) (int, error) {
	for {
		if n := headEnd(b.buffered()); n >= 0 {
			return n, nil
		}
		if err := b.fill(limit); err != nil {
			return 0, err
		}
	}
}

// sendInformational writes a 1xx response to the client at once, after
// the upstream request that x.out still holds for a retry.
func (c *fastConn) sendInformational(x *exchange, res *fastResponse) error {
	start := len(x.out)
	b := appendStatusLine(x.out, res.status)
	for _, f := range c.fields {
		if !isHopByHop(f.kind) && f.kind != fieldContentLength {
			b = appendField(b, f.name, f.value)
		}
	}
	b = append(b, "\r\n"...)
	_, err := c.sock.Write(b[start:])
	x.out = b[:start]
	return err
}

func isHopByHop(k fieldKind) bool {
	switch k {
	case fieldConnection, fieldTransferEncoding, fieldTE, fieldUpgrade, fieldHopByHop:
		return true
	}
	return false
}

// parseResponse parses a response head by the rules of net/http's
// Transport, which setFraming applies to the body.
func (c *fastConn) parseResponse(head []byte, req *fastRequest) (fastResponse, bool) {
	line, rest, ok := cutLine(head, false)
	if !ok {
		return fastResponse{}, false
	}
	status, http11, ok := parseStatusLine(line)
	if !ok {
		return fastResponse{}, false
	}
	if c.fields, ok = parseFields(c.fields[:0], rest, false); !ok {
		return fastResponse{}, false
	}

	res := fastResponse{status: status, headLen: len(head), keepAlive: http11}
	var length, te []byte
	encodings := 0
	for _, f := range c.fields {
		switch f.kind {
		case fieldContentLength:
			if length != nil && string(f.value) != string(length) {
				return res, false
			}
			length = f.value
		case fieldTransferEncoding:
			encodings++
			te = f.value
		case fieldConnection:
			res.keepAlive = res.keepAlive && !hasToken(f.value, "close")
			res.connTokens = res.connTokens || !onlyTokens(f.value, "close", "keep-alive")
		case fieldDate:
			res.hasDate = true
		case fieldContentType:
			res.hasType = true
		case fieldContentEncoding:
			res.hasEncoding = res.hasEncoding || len(f.value) > 0
		}
	}
	if http11 && encodings > 0 && (encodings > 1 || !equalFold(te, "chunked")) {
		return res, false
	}
	chunked := http11 && encodings > 0
	if !res.setFraming(req.method, length, chunked) {
		return res, false
	}
	if res.connTokens {
		c.removeConnectionOptions(&res)
	}
	return res, true
}

// removeConnectionOptions marks the fields that a Connection field of the
// response names as hop-by-hop, so they are not forwarded, as ReverseProxy
// removes them. A Content-Length that frames the body stays, because the
// client needs it to find the end of the body: the proxy sends the body as
// the upstream framed it. Date, Content-Type and Content-Encoding that are
// removed count as missing, so the proxy adds a Date and sniffs the type
// as net/http's server does for the handler.
func (c *fastConn) removeConnectionOptions(res *fastResponse) {
	for i := range c.fields {
		f := &c.fields[i]
		if isHopByHop(f.kind) || !c.namedByConnection(f.name) {
			continue
		}
		switch f.kind {
		case fieldContentLength:
			if res.framing == bodyLength {
				continue
			}
		case fieldDate:
			res.hasDate = false
		case fieldContentType:
			res.hasType = false
		case fieldContentEncoding:
			res.hasEncoding = false
		}
		f.kind = fieldHopByHop
	}
}

// setFraming sets how the body is delimited, as RFC 9112 section 6.3 and
// net/http's Transport do. HEAD, 1xx, 204 and 304 responses have no body.
// Otherwise chunked encoding wins over a Content-Length, and without
// either the body lasts until the upstream closes the connection. It
// reports false for an invalid length.
func (res *fastResponse) setFraming(method string, length []byte, chunked bool) bool {
	if length != nil {
		var ok bool
		if res.length, ok = parseLength(length); !ok {
			return false
		}
	}
	switch {
	case method == http.MethodHead || !bodyAllowed(res.status):
		res.framing = bodyNone
	case chunked:
		res.framing = bodyChunked
	case length != nil:
		res.framing = bodyLength
	default:
		res.framing = bodyUntilClose
		res.keepAlive = false
	}
	return true
}

// bodyAllowed reports whether a response with status may have a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// appendResponseHead appends the response head for the client. It has the
// upstream's fields except the hop-by-hop ones, including those that
// Connection names, and the framing, which the proxy sets. It adds what
// net/http's server adds: Date when missing, a sniffed Content-Type for a
// body without one, and Connection: close.
func (c *fastConn) appendResponseHead(b []byte, res *fastResponse, sniff []byte, closing bool) []byte {
	b = appendStatusLine(b, res.status)
	rechunk := res.framing == bodyChunked || res.framing == bodyUntilClose
	wroteLength := false
	for _, f := range c.fields {
		switch f.kind {
		case fieldConnection, fieldTransferEncoding, fieldTE, fieldUpgrade, fieldHopByHop:
			continue
		case fieldTrailer:
			if res.framing != bodyChunked {
				continue
			}
		case fieldContentLength:
			if rechunk || wroteLength || !bodyAllowed(res.status) {
				continue
			}
			wroteLength = true
		case fieldContentType:
			if res.status == http.StatusNotModified {
				continue
			}
		}
		b = appendField(b, f.name, f.value)
	}
	if rechunk {
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	if !res.hasDate {
		b = append(b, "Date: "...)
		b = time.Now().UTC().AppendFormat(b, http.TimeFormat)
		b = append(b, "\r\n"...)
	}
	if len(sniff) > 0 && !res.hasType && !res.hasEncoding && bodyAllowed(res.status) {
		b = append(b, "Content-Type: "...)
		b = append(b, http.DetectContentType(sniff)...)
		b = append(b, "\r\n"...)
	}
	if closing {
		b = append(b, "Connection: close\r\n"...)
	}
	return append(b, "\r\n"...)
}

// namedByConnection reports whether a Connection field of the response
// names the field name, which makes it hop-by-hop.
func (c *fastConn) namedByConnection(name []byte) bool {
	for _, f := range c.fields {
		if f.kind != fieldConnection {
			continue
		}
		for v := f.value; len(v) > 0; {
			var item []byte
			item, v, _ = cut(v, ',')
			if item = trimSpace(item); len(item) == len(name) && equalFoldBytes(item, name) {
				return true
			}
		}
	}
	return false
}

func equalFoldBytes(a, b []byte) bool {
	for i := range a {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

// errClientWrite marks errors of writes to the client.
var errClientWrite = errors.New("writing to the client")

// copyResponse sends the response head and body to the client and reports
// whether the client connection stays open. The error is nil when the
// whole response went through.
func (c *fastConn) copyResponse(x *exchange, req *fastRequest, rt *route, res *fastResponse,
	body *bodyCopy,
) (bool, error) {
	closing := req.close || c.s.draining.Load() || (body != nil && !body.readAll.Load())
	after := x.up.buffered()[res.headLen:]
	x.out = c.appendResponseHead(x.out[:0], res, sniffBytes(res, after), closing)
	x.up.discard(res.headLen)

	w := clientWriter{x: x, conn: c.sock}
	var err error
	switch res.framing {
	case bodyLength:
		err = c.copyLength(x, &w, rt, res, res.length)
	case bodyChunked:
		err = c.copyChunked(x, &w, rt, res)
	case bodyUntilClose:
		err = c.copyUntilClose(x, &w, rt, res)
	}
	if err != nil && !errors.Is(err, errClientWrite) {
		// What arrived goes out, as ReverseProxy sends it, and the
		// client sees the body break off.
		w.flush()
	}
	if err == nil && res.status < 300 {
		// Before the last write, so the client never sees the response
		// before the activity.
		rt.activity.touch(c.p.table.nowNanos())
	}
	if err == nil {
		err = w.flush()
	}
	if err == nil && len(x.up.buffered()) > 0 {
		// Bytes after the response: the upstream connection is broken.
		res.keepAlive = false
	}
	return !closing && err == nil, err
}

// sniffBytes returns the start of the body that the response head is
// sent with, for Content-Type sniffing: what net/http's server would see
// in its first write. ReverseProxy flushes the head of a body of unknown
// length before any data, so such bodies are not sniffed.
func sniffBytes(res *fastResponse, after []byte) []byte {
	if res.framing != bodyLength {
		return nil
	}
	return after[:min(int64(len(after)), res.length, 512)]
}

// clientWriter collects output for the client in x.out and writes it
// whenever the proxy is about to wait for the upstream, so streamed
// responses reach the client at once and small ones in one write.
type clientWriter struct {
	x    *exchange
	conn interface{ Write([]byte) (int, error) }
}

func (w *clientWriter) write(p []byte) error {
	x := w.x
	if len(x.out)+len(p) <= cap(x.out) {
		x.out = append(x.out, p...)
		return nil
	}
	if err := w.flush(); err != nil {
		return err
	}
	if len(p) >= cap(x.out) {
		if _, err := w.conn.Write(p); err != nil {
			return fmt.Errorf("%w: %w", errClientWrite, err)
		}
		return nil
	}
	x.out = append(x.out, p...)
	return nil
}

func (w *clientWriter) flush() error {
	x := w.x
	if len(x.out) == 0 {
		return nil
	}
	_, err := w.conn.Write(x.out)
	x.out = x.out[:0]
	if err != nil {
		return fmt.Errorf("%w: %w", errClientWrite, err)
	}
	return nil
}

// fillUpstream flushes the client's output, then reads more of the
// response. Data from a response below 300 counts as activity.
func (c *fastConn) fillUpstream(x *exchange, w *clientWriter, rt *route, res *fastResponse) error {
	if err := w.flush(); err != nil {
		return err
	}
	if err := x.up.fill(len(x.up.buf)); err != nil {
		return err
	}
	if res.status < 300 {
		rt.activity.touch(c.p.table.nowNanos())
	}
	return nil
}

// copyLength copies n body bytes to the client.
func (c *fastConn) copyLength(x *exchange, w *clientWriter, rt *route, res *fastResponse, n int64) error {
	for n > 0 {
		avail := x.up.buffered()
		if len(avail) == 0 {
			if err := c.fillUpstream(x, w, rt, res); err != nil {
				return err
			}
			continue
		}
		m := int(min(int64(len(avail)), n))
		if err := w.write(avail[:m]); err != nil {
			return err
		}
		x.up.discard(m)
		n -= int64(m)
	}
	return nil
}

// copyUntilClose copies the body until the upstream closes the
// connection, as chunks, so the client connection can stay open.
func (c *fastConn) copyUntilClose(x *exchange, w *clientWriter, rt *route, res *fastResponse) error {
	for {
		if avail := x.up.buffered(); len(avail) > 0 {
			if err := w.write(appendChunkSize(x.scratch[:0], int64(len(avail)))); err != nil {
				return err
			}
			if err := w.write(avail); err != nil {
				return err
			}
			if err := w.write(crlf); err != nil {
				return err
			}
			x.up.discard(len(avail))
		}
		err := c.fillUpstream(x, w, rt, res)
		if isEOF(err) {
			return w.write(lastChunk)
		}
		if err != nil {
			return err
		}
	}
}
