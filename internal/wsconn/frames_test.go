package wsconn

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/jupygo/jupygo/internal/testutil/wstest"
)

// frameCases are client frames, with the message that a checked WebSocket
// with a limit of 1024 bytes echoes for them, or the close status that it
// sends.
var frameCases = []struct {
	name   string
	frames [][]byte
	echo   string
	code   websocket.StatusCode
}{
	{"text", frames(text(true, "héllo 😀")), "héllo 😀", 0},
	{"binary not UTF-8", frames(frame(true, wstest.OpBinary, "\xff\xfe")), "\xff\xfe", 0},
	{"text at the limit", frames(text(true, strings.Repeat("é", 512))), strings.Repeat("é", 512), 0},
	{"characters across fragments", frames(
		text(false, "a\xf0"), frame(false, wstest.OpContinuation, "\x9f"),
		frame(false, wstest.OpContinuation, "\x98"), frame(true, wstest.OpContinuation, "\x80b")),
		"a😀b", 0},
	{"ping inside a message", frames(text(false, "a\xc3"), frame(true, 0x9, "ping"),
		frame(true, wstest.OpContinuation, "\xa9")), "aé", 0},
	{"empty text", frames(text(true, "")), "", 0},

	{"invalid byte", frames(text(true, "a\xffb")), "", websocket.StatusInvalidFramePayloadData},
	{"overlong encoding", frames(text(true, "\xc0\x80")), "", websocket.StatusInvalidFramePayloadData},
	{"surrogate", frames(text(true, "\xed\xa0\x80")), "", websocket.StatusInvalidFramePayloadData},
	{"character cut at the end", frames(text(true, "ab\xe2\x82")), "", websocket.StatusInvalidFramePayloadData},
	{"character cut at the end of fragments", frames(text(false, "ab\xe2"),
		frame(true, wstest.OpContinuation, "\x82")), "", websocket.StatusInvalidFramePayloadData},
	{"invalid byte in a later fragment", frames(text(false, "ab"),
		frame(true, wstest.OpContinuation, "c\xff")), "", websocket.StatusInvalidFramePayloadData},
	{"empty last fragment after a cut character", frames(text(false, "a\xe2"),
		frame(true, wstest.OpContinuation, "")), "", websocket.StatusInvalidFramePayloadData},

	{"close reason not UTF-8", frames(frame(true, 0x8, "\x03\xe8\xff")), "", websocket.StatusInvalidFramePayloadData},
	{"close reason not UTF-8 after a ping", frames(frame(true, 0x9, "p"), frame(true, 0x8, "\x03\xe8ok\xc3")),
		"", websocket.StatusInvalidFramePayloadData},

	{"length 2^63", frames(wstest.Header(true, wstest.OpText, 1<<63)), "", websocket.StatusProtocolError},
	{"length 2^64-1", frames(wstest.Header(true, wstest.OpBinary, 1<<64-1)), "", websocket.StatusProtocolError},
	{"length 2^63-1", frames(wstest.Header(true, wstest.OpBinary, 1<<63-1)), "", websocket.StatusMessageTooBig},
	{"length past the limit", frames(wstest.Header(true, wstest.OpText, 1025)), "", websocket.StatusMessageTooBig},
	{"fragments past the limit", frames(text(false, strings.Repeat("x", 1000)),
		wstest.Header(true, wstest.OpContinuation, 25)), "", websocket.StatusMessageTooBig},
	{"after a valid message", frames(text(true, "ok"), wstest.Header(true, wstest.OpText, 1<<40)),
		"", websocket.StatusMessageTooBig},
}

func frames(f ...[]byte) [][]byte { return f }

func frame(fin bool, opcode byte, payload string) []byte {
	return wstest.Frame(fin, opcode, []byte(payload))
}

func text(fin bool, payload string) []byte { return frame(fin, wstest.OpText, payload) }

// echoServer serves WebSockets from Accept with a limit of 1024 bytes that
// echo each message, and close with the status of a FrameError.
func echoServer(t *testing.T, direct bool) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, conn, err := Accept(w, r, nil, 1024, direct)
		if err != nil {
			t.Errorf("Accept: %v", err)
			return
		}
		if direct && conn == nil {
			t.Error("Accept returned no Conn for a TCP connection with direct set")
		}
		if !direct && conn != nil {
			t.Error("Accept returned a Conn without direct set")
		}
		defer ws.CloseNow()
		for {
			typ, data, err := ws.Read(context.Background())
			if fe := AsFrameError(err); fe != nil {
				ws.Close(fe.Code, fe.Reason)
				return
			}
			if err != nil {
				return
			}
			if err := ws.Write(context.Background(), typ, data); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestAcceptChecksFrames sends each of frameCases to a checked WebSocket,
// after the upgrade and in the same write as the upgrade request, and
// checks the echo or the close status, which must come at once.
func TestAcceptChecksFrames(t *testing.T) {
	for _, direct := range []bool{true, false} {
		url := echoServer(t, direct)
		for _, early := range []bool{false, true} {
			for _, tc := range frameCases {
				name := fmt.Sprintf("direct %v, early %v, %s", direct, early, tc.name)
				var c *wstest.Conn
				if early {
					c = wstest.Dial(t, url, nil, tc.frames...)
				} else {
					c = wstest.Dial(t, url, nil)
					for _, f := range tc.frames {
						c.Write(f)
					}
				}
				if tc.code == 0 {
					_, echo, err := c.ReadMessage(10 * time.Second)
					if err != nil || string(echo) != tc.echo {
						t.Errorf("%s: echo %q, %v; want %q", name, echo, err, tc.echo)
					}
					continue
				}
				code, reason, err := c.ReadClose(10 * time.Second)
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if websocket.StatusCode(code) != tc.code || reason == "" {
					t.Errorf("%s: closed with %d %q, want %d and a reason", name, code, reason, tc.code)
				}
			}
		}
	}
}

// TestFrameCheckSplits feeds the frames of frameCases to a frameCheck in
// pieces of every size, as reads may cut them. The result must not depend
// on the cuts, and the frame that fails the check must never pass whole.
func TestFrameCheckSplits(t *testing.T) {
	for _, tc := range frameCases {
		var stream []byte
		for _, f := range tc.frames {
			stream = append(stream, f...)
		}
		for size := 1; size <= len(stream); size++ {
			f := frameCheck{limit: 1024}
			passed := 0
			var fe *FrameError
			for rest := stream; len(rest) > 0 && fe == nil; {
				piece := rest[:min(size, len(rest))]
				rest = rest[len(piece):]
				var n int
				n, fe = f.scan(piece)
				passed += n
			}
			var code websocket.StatusCode
			if fe != nil {
				code = fe.Code
			}
			if code != tc.code {
				t.Errorf("%s in pieces of %d: status %d, want %d", tc.name, size, code, tc.code)
			}
			// Each case's last frame ends the message that fails.
			if fe != nil && passed >= len(stream) {
				t.Errorf("%s in pieces of %d: every byte passed, the frame that fails too", tc.name, size)
			}
			if fe == nil && passed != len(stream) {
				t.Errorf("%s in pieces of %d: %d of %d bytes passed", tc.name, size, passed, len(stream))
			}
		}
	}
}

// TestFrameCheckCloseReason passes a close frame whose reason is UTF-8, in
// pieces of every size.
func TestFrameCheckCloseReason(t *testing.T) {
	stream := frame(true, 0x8, "\x03\xe8bye é")
	for size := 1; size <= len(stream); size++ {
		f := frameCheck{limit: 1024}
		for rest := stream; len(rest) > 0; {
			piece := rest[:min(size, len(rest))]
			rest = rest[len(piece):]
			if n, fe := f.scan(piece); fe != nil || n != len(piece) {
				t.Fatalf("close with a UTF-8 reason in pieces of %d: %d of %d bytes passed, %v",
					size, n, len(piece), fe)
			}
		}
	}
}

// BenchmarkScanText checks a text message of 1.6 MB in pieces of 32 KiB.
func BenchmarkScanText(b *testing.B) {
	payload := strings.Repeat("some text é 😀 and more\n", 1<<16)
	stream := wstest.Frame(true, wstest.OpText, []byte(payload))
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		f := frameCheck{limit: 64 << 20}
		for rest := stream; len(rest) > 0; {
			piece := rest[:min(32<<10, len(rest))]
			rest = rest[len(piece):]
			if _, fe := f.scan(piece); fe != nil {
				b.Fatal(fe)
			}
		}
	}
}

// TestAcceptClosesDuringLargeFrame sends a whole frame of 16 MiB to a
// WebSocket with a limit of 1024 bytes. The server closes once the header
// arrives, while the client is still writing the payload, and the client
// must still receive the close frame rather than a TCP reset.
func TestAcceptClosesDuringLargeFrame(t *testing.T) {
	for _, direct := range []bool{true, false} {
		c := wstest.Dial(t, echoServer(t, direct), nil)
		payload := bytes.Repeat([]byte("x"), 16<<20)
		c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(wstest.Frame(true, wstest.OpBinary, payload)); err != nil {
			t.Errorf("direct %v: writing the frame: %v", direct, err)
			continue
		}
		code, _, err := c.ReadClose(10 * time.Second)
		if err != nil || websocket.StatusCode(code) != websocket.StatusMessageTooBig {
			t.Errorf("direct %v: close %d, %v; want %d", direct, code, err, websocket.StatusMessageTooBig)
		}
	}
}
