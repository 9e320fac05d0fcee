package wsconn

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// The WebSocket library (github.com/coder/websocket v1.8) compares a
// message with its read limit only as it reads the payload, so a frame
// header that announces more than the limit holds the connection open
// until that many bytes arrive. It also passes on text messages that are
// not UTF-8. So Accept puts a frameCheck in front of the library's reads.
// The check parses the frames that the client sends, and fails the read
// that brings a frame header past the limit, or text that is not UTF-8,
// before the library can return that message. RFC 6455 requires failing
// the connection for text that is not UTF-8 (section 8.1) and for a length
// with its most significant bit set (section 5.2). Section 7.4.1 gives
// status 1009 for a message too big to process.

// FrameError is a frame from the client that ends the WebSocket, with the
// close status and reason to send for it.
type FrameError struct {
	Code   websocket.StatusCode
	Reason string
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("invalid WebSocket frame from the client (status %d): %s", int(e.Code), e.Reason)
}

// AsFrameError returns the *FrameError in err, which a read of a
// WebSocket from Accept returns for a frame that ends the connection, or
// nil. The caller then closes the WebSocket with its Code and Reason.
func AsFrameError(err error) *FrameError {
	var fe *FrameError
	if errors.As(err, &fe) {
		return fe
	}
	return nil
}

// Accept upgrades r to a WebSocket, as websocket.Accept does, and sets
// readLimit, which must be positive, as the size of the largest message
// that the client may send. Reads of the WebSocket fail with a *FrameError
// (see AsFrameError) as soon as a frame header announces a larger message
// or a length of 2^63 bytes or more, or a text message is not UTF-8. With
// direct set, it also returns the Conn for writes that do not wait, or nil
// when New rejects the connection.
func Accept(w http.ResponseWriter, r *http.Request, opts *websocket.AcceptOptions,
	readLimit int64, direct bool) (*websocket.Conn, *Conn, error) {
	h := &Response{ResponseWriter: w, readLimit: readLimit, plain: !direct}
	ws, err := websocket.Accept(h, r, opts)
	if err != nil {
		return nil, nil, err
	}
	ws.SetReadLimit(readLimit)
	return ws, h.Conn, nil
}

// checkedConn is a connection whose reads pass through a frameCheck.
type checkedConn struct {
	net.Conn
	r     io.Reader // the bytes the server had buffered, then Conn
	check frameCheck
	err   error // the first FrameError, returned by every read after it
	// failed is set with err, for Close, which may run in another goroutine.
	failed atomic.Bool
}

// lingerTime bounds how long Close reads what the client still sends after
// a frame that failed the check. net/http (Go 1.26) waits 500 ms after a
// CloseWrite for the same reason, as rstAvoidanceDelay.
const lingerTime = 500 * time.Millisecond

// newCheckedConn checks the frames read from conn, after the bytes that
// buffered holds: those that the HTTP server read past the upgrade request.
func newCheckedConn(conn net.Conn, buffered *bufio.Reader, limit int64) *checkedConn {
	early, _ := buffered.Peek(buffered.Buffered())
	c := &checkedConn{Conn: conn, check: frameCheck{limit: uint64(limit)}}
	c.r = conn
	if len(early) > 0 {
		// Most clients wait for the upgrade's reply, so most reads skip this.
		c.r = io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn)
	}
	buffered.Reset(c)
	return c
}

// Read reads from the connection and passes on the bytes in front of the
// first frame that fails the check. The read that reaches that frame, and
// every read after it, returns the *FrameError.
func (c *checkedConn) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	passed, fe := c.check.scan(p[:n])
	if fe != nil {
		c.err = fe
		c.failed.Store(true)
		return passed, fe
	}
	return n, err
}

// Close closes the connection. After a frame that failed the check, the
// client may still be sending that frame's payload, and closing a socket
// with unread bytes sends a TCP reset, which can discard the close frame
// before the client reads it. So Close first sends a FIN and reads what
// arrives until the client closes too, or for lingerTime.
func (c *checkedConn) Close() error {
	if c.failed.Load() {
		c.linger()
	}
	return c.Conn.Close()
}

func (c *checkedConn) linger() {
	var tcp net.Conn = c.Conn
	if direct, ok := tcp.(*Conn); ok {
		tcp = direct.Conn
	}
	cw, ok := tcp.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	if c.Conn.SetReadDeadline(time.Now().Add(lingerTime)) == nil {
		io.Copy(io.Discard, c.Conn)
	}
}

// frameCheck parses the frames of RFC 6455 (section 5.2) that a client
// sends, from the bytes given to scan in order.
type frameCheck struct {
	limit uint64 // the largest message, in bytes of payload

	// header is the frame header being read: headerLen bytes of the
	// headerSize that its first two bytes give.
	header     [14]byte
	headerLen  int
	headerSize int

	// remaining is the payload of the current frame not yet scanned, and
	// maskPos the offset of the next payload byte in the mask key.
	remaining uint64
	mask      [4]byte
	maskPos   int
	fin       bool
	control   bool

	// messageLen is the payload of the data frames of the current message
	// so far. text is set for a text message whose payload is checked:
	// pending holds the start of a character that the next frame ends.
	messageLen uint64
	text       bool
	pending    [utf8.UTFMax]byte
	pendingLen int

	// closing is set for a close frame, whose unmasked payload goes to
	// reason: a status code, then a reason that must be UTF-8 (RFC 6455,
	// section 5.5.1). Control frames carry at most 125 bytes.
	closing   bool
	reason    [125]byte
	reasonLen int
}

// scan checks the next bytes from the client. It returns how many of them
// come before the frame that fails the check, and the *FrameError for that
// frame, or len(p) and nil.
func (f *frameCheck) scan(p []byte) (int, *FrameError) {
	for i := 0; i < len(p); {
		if f.remaining == 0 && f.headerSize == 0 {
			f.headerSize = 2 // a new frame
		}
		if f.headerSize > 0 {
			start := i - f.headerLen // where the header began, when in p
			for i < len(p) && f.headerLen < f.headerSize {
				f.header[f.headerLen] = p[i]
				f.headerLen++
				i++
				if f.headerLen == 2 {
					f.headerSize = headerSize(f.header[1])
				}
			}
			if f.headerLen < f.headerSize {
				return len(p), nil
			}
			if fe := f.startFrame(); fe != nil {
				return max(start, 0), fe
			}
			if f.remaining == 0 {
				if fe := f.endFrame(); fe != nil {
					return max(start, 0), fe
				}
			}
			continue
		}
		start := i
		n := int(min(f.remaining, uint64(len(p)-i)))
		if f.text && !f.control && !f.checkText(p[i:i+n]) {
			return start, f.invalidText()
		}
		if f.closing {
			m := min(n, len(f.reason)-f.reasonLen)
			unmask(f.reason[f.reasonLen:f.reasonLen+m], p[i:i+m], f.mask, f.maskPos)
			f.reasonLen += m
		}
		f.maskPos = (f.maskPos + n) % 4
		f.remaining -= uint64(n)
		i += n
		if f.remaining == 0 {
			if fe := f.endFrame(); fe != nil {
				return start, fe
			}
		}
	}
	return len(p), nil
}

// headerSize returns the length of a client frame header from its second
// byte: two bytes, the extended payload length, and the mask key.
func headerSize(second byte) int {
	size := 2
	switch second & 0x7f {
	case 126:
		size += 2
	case 127:
		size += 8
	}
	if second&0x80 != 0 {
		size += 4
	}
	return size
}

// startFrame takes in the header just read.
func (f *frameCheck) startFrame() *FrameError {
	h := f.header[:f.headerLen]
	f.headerSize, f.headerLen = 0, 0

	f.fin = h[0]&0x80 != 0
	compressed := h[0]&0x40 != 0
	opcode := h[0] & 0x0f
	length := uint64(h[1] & 0x7f)
	rest := h[2:]
	switch length {
	case 126:
		length, rest = uint64(binary.BigEndian.Uint16(rest)), rest[2:]
	case 127:
		length, rest = binary.BigEndian.Uint64(rest), rest[8:]
	}
	f.mask = [4]byte{}
	if h[1]&0x80 != 0 {
		copy(f.mask[:], rest)
	}
	f.maskPos = 0
	f.remaining = length

	if length >= 1<<63 {
		return &FrameError{websocket.StatusProtocolError,
			fmt.Sprintf("frame payload length %d has the most significant bit set", length)}
	}
	f.control = opcode >= 0x8
	f.closing, f.reasonLen = opcode == 0x8, 0
	switch opcode {
	case 0x1, 0x2: // text and binary start a message
		f.messageLen = 0
		// The payload of a compressed message is deflate data, so its text
		// goes unchecked. None of the server's WebSockets negotiate
		// permessage-deflate, and without it the library rejects
		// compressed frames. With it, messageLen would count compressed
		// bytes.
		f.text = opcode == 0x1 && !compressed
		f.pendingLen = 0
	}
	if !f.control {
		f.messageLen += length
		if f.messageLen > f.limit {
			return &FrameError{websocket.StatusMessageTooBig,
				fmt.Sprintf("message larger than %d bytes", f.limit)}
		}
	}
	return nil
}

// endFrame ends a frame whose payload has been scanned, and the message
// with its last frame, which must not end a text message inside a
// character.
func (f *frameCheck) endFrame() *FrameError {
	if f.closing {
		f.closing = false
		if f.reasonLen > 2 && !utf8.Valid(f.reason[2:f.reasonLen]) {
			return &FrameError{websocket.StatusInvalidFramePayloadData, "close reason is not valid UTF-8"}
		}
	}
	if f.control || !f.fin {
		return nil
	}
	if f.text && f.pendingLen > 0 {
		return f.invalidText()
	}
	f.text, f.messageLen = false, 0
	return nil
}

func (f *frameCheck) invalidText() *FrameError {
	return &FrameError{websocket.StatusInvalidFramePayloadData, "text message is not valid UTF-8"}
}

// checkText unmasks the payload bytes p of a text message, which follow
// the character start in f.pending, and reports whether they are UTF-8 so
// far. A character that p leaves unfinished moves to f.pending.
func (f *frameCheck) checkText(p []byte) bool {
	var buf [4096]byte
	pos := f.maskPos
	for len(p) > 0 {
		n := copy(buf[:], f.pending[:f.pendingLen])
		m := min(len(buf)-n, len(p))
		unmask(buf[n:n+m], p[:m], f.mask, pos)
		pos = (pos + m) % 4
		p = p[m:]
		text := buf[:n+m]
		// The last character may go on in the next piece: keep it back when
		// it is the start of a valid one.
		cut := len(text)
		for back := 1; back <= min(utf8.UTFMax-1, len(text)); back++ {
			if c := text[len(text)-back]; c < 0x80 || c >= 0xc0 {
				if !utf8.FullRune(text[len(text)-back:]) {
					cut = len(text) - back
				}
				break
			}
		}
		if !utf8.Valid(text[:cut]) {
			return false
		}
		f.pendingLen = copy(f.pending[:], text[cut:])
	}
	return true
}

// unmask writes to dst the bytes of src unmasked with key, where src[0] is
// at offset pos of the key. It works on 8 bytes at a time.
func unmask(dst, src []byte, key [4]byte, pos int) {
	var rotated [8]byte
	for i := range rotated {
		rotated[i] = key[(pos+i)%4]
	}
	word := binary.LittleEndian.Uint64(rotated[:])
	i := 0
	for ; i+8 <= len(src); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(src[i:])^word)
	}
	for ; i < len(src); i++ {
		dst[i] = src[i] ^ rotated[i%8]
	}
}
