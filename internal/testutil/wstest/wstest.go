// Package wstest is a WebSocket client for tests that send frames a
// WebSocket library would not: text that is not UTF-8, or a frame header
// that announces a payload without sending it.
package wstest

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Opcodes of RFC 6455, section 5.2.
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
)

// Conn is the client end of a WebSocket.
type Conn struct {
	net.Conn
	br *bufio.Reader
}

// Dial opens a WebSocket to rawURL (ws:// or http://) with the request
// headers header, and fails the test unless the server switches protocols.
// Frames in early are sent in the same write as the upgrade request, as a
// client may pipeline them.
func Dial(t testing.TB, rawURL string, header http.Header, early ...[]byte) *Conn {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var key [16]byte
	rand.Read(key[:])
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n",
		u.RequestURI(), u.Host, base64.StdEncoding.EncodeToString(key[:]))
	for name, values := range header {
		for _, v := range values {
			fmt.Fprintf(&req, "%s: %s\r\n", name, v)
		}
	}
	req.WriteString("\r\n")
	for _, frame := range early {
		req.Write(frame)
	}
	if _, err := io.WriteString(conn, req.String()); err != nil {
		t.Fatal(err)
	}
	c := &Conn{Conn: conn, br: bufio.NewReader(conn)}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatalf("WebSocket upgrade: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("WebSocket upgrade: status %d: %s", resp.StatusCode, body)
	}
	conn.SetReadDeadline(time.Time{})
	return c
}

// Frame returns a masked client frame with the given payload.
func Frame(fin bool, opcode byte, payload []byte) []byte {
	frame := Header(fin, opcode, uint64(len(payload)))
	mask := frame[len(frame)-4:]
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	return frame
}

// Header returns the header of a masked client frame that announces a
// payload of length bytes, with a mask key of its own.
func Header(fin bool, opcode byte, length uint64) []byte {
	first := opcode
	if fin {
		first |= 0x80
	}
	h := []byte{first, 0}
	switch {
	case length < 126:
		h[1] = byte(length)
	case length <= 0xffff:
		h[1] = 126
		h = binary.BigEndian.AppendUint16(h, uint16(length))
	default:
		h[1] = 127
		h = binary.BigEndian.AppendUint64(h, length)
	}
	h[1] |= 0x80
	var mask [4]byte
	rand.Read(mask[:])
	return append(h, mask[:]...)
}

// Write sends raw bytes, such as frames from Frame and Header.
func (c *Conn) Write(p []byte) (int, error) {
	return c.Conn.Write(p)
}

// ErrNoClose is returned by ReadClose when the connection ends, or the
// wait times out, without a close frame.
var ErrNoClose = errors.New("no close frame")

// ReadClose reads frames from the server for up to timeout, skipping data
// frames, and returns the status code and reason of the first close frame.
// A close frame without a status gives code 1005, as RFC 6455 reports it.
func (c *Conn) ReadClose(timeout time.Duration) (code int, reason string, err error) {
	c.SetReadDeadline(time.Now().Add(timeout))
	defer c.SetReadDeadline(time.Time{})
	for {
		opcode, _, payload, err := c.readFrame()
		if err != nil {
			return 0, "", fmt.Errorf("%w: %v", ErrNoClose, err)
		}
		if opcode != OpClose {
			continue
		}
		if len(payload) < 2 {
			return 1005, "", nil
		}
		return int(binary.BigEndian.Uint16(payload)), string(payload[2:]), nil
	}
}

// ReadMessage reads frames from the server for up to timeout, skipping
// pings and pongs, and returns the opcode and payload of the first data
// message. A close frame gives an error with its status.
func (c *Conn) ReadMessage(timeout time.Duration) (opcode byte, payload []byte, err error) {
	c.SetReadDeadline(time.Now().Add(timeout))
	defer c.SetReadDeadline(time.Time{})
	for {
		op, fin, data, err := c.readFrame()
		switch {
		case err != nil:
			return 0, nil, err
		case op == OpClose:
			if len(data) < 2 {
				return 0, nil, errors.New("closed without a status")
			}
			return 0, nil, fmt.Errorf("closed with %d %q", binary.BigEndian.Uint16(data), data[2:])
		case op >= 0x8:
			continue
		case op != OpContinuation:
			opcode = op
		}
		payload = append(payload, data...)
		if fin {
			return opcode, payload, nil
		}
	}
}

// readFrame reads one unmasked frame from the server.
func (c *Conn) readFrame() (opcode byte, fin bool, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return 0, false, nil, err
	}
	length := uint64(h[1] & 0x7f)
	switch length {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return 0, false, nil, err
		}
		length = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return 0, false, nil, err
		}
		length = binary.BigEndian.Uint64(ext[:])
	}
	if length > 64<<20 {
		return 0, false, nil, fmt.Errorf("server frame of %d bytes", length)
	}
	payload = make([]byte, length)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		return 0, false, nil, err
	}
	return h[0] & 0x0f, h[0]&0x80 != 0, payload, nil
}

// Case is a sequence of client frames after which the server must close
// the WebSocket with the status Code.
type Case struct {
	Name   string
	Frames [][]byte
	Code   int
}

// ClosingCases returns frames that RFC 6455 says end a WebSocket whose
// server takes messages of up to limit bytes. Text that is not UTF-8, whole
// or cut in fragments, gets status 1007. Frame headers sent without their
// payload get 1009 when they announce a message past the limit, and 1002
// when the length has its most significant bit set.
func ClosingCases(limit uint64) []Case {
	return []Case{
		{"invalid UTF-8", [][]byte{Frame(true, OpText, []byte("[\"a\xffb\"]"))}, 1007},
		{"invalid UTF-8 across fragments", [][]byte{
			Frame(false, OpText, []byte("[\"\xe2\x82")),
			Frame(true, OpContinuation, []byte("\"]")),
		}, 1007},
		{"length 2^63", [][]byte{Header(true, OpText, 1<<63)}, 1002},
		{"length 2^63-1", [][]byte{Header(true, OpBinary, 1<<63-1)}, 1009},
		{"length past the limit", [][]byte{Header(true, OpBinary, limit+1)}, 1009},
		{"fragments past the limit", [][]byte{
			Frame(false, OpText, []byte(`["`)),
			Header(true, OpContinuation, limit),
		}, 1009},
	}
}

// CheckClosing dials rawURL with header for each case, sends its frames,
// and fails the test unless the server closes the WebSocket with the
// case's status within 10 seconds.
func CheckClosing(t *testing.T, rawURL string, header http.Header, cases []Case) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			c := Dial(t, rawURL, header)
			for _, f := range tc.Frames {
				if _, err := c.Write(f); err != nil {
					t.Fatal(err)
				}
			}
			start := time.Now()
			code, reason, err := c.ReadClose(10 * time.Second)
			if err != nil {
				t.Fatalf("after %v: %v", time.Since(start).Round(time.Millisecond), err)
			}
			if code != tc.Code || reason == "" {
				t.Errorf("closed with %d %q, want %d and a reason", code, reason, tc.Code)
			}
		})
	}
}
