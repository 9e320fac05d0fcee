package collab

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/jupygo/jupygo/internal/wsconn"
	"github.com/jupygo/jupygo/yjs/lib0"
	"github.com/jupygo/jupygo/yjs/yprotocol"
)

func saveFrame(id uint64) []byte {
	e := lib0.NewEncoder([]byte{msgRaw})
	e.WriteVarString("save")
	e.WriteVarUint(id)
	return e.Bytes()
}

func TestParseMessage(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		want  message
	}{
		{"sync step 1", []byte{0, 0, 1, 0}, message{typ: msgSync,
			sync: yprotocol.SyncMessage{Type: yprotocol.SyncStep1, Payload: []byte{0}}}},
		{"update", []byte{0, 2, 2, 0, 0}, message{typ: msgSync,
			sync: yprotocol.SyncMessage{Type: yprotocol.SyncUpdate, Payload: []byte{0, 0}}}},
		{"awareness", []byte{1, 1, 0}, message{typ: msgAwareness, awareness: []byte{0}}},
		{"save", saveFrame(300), message{typ: msgRaw, raw: "save", saveID: 300}},
		{"other raw", []byte{2, 1, 'x'}, message{typ: msgRaw, raw: "x"}},
		{"query awareness", []byte{3}, message{typ: msgQueryAwareness}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMessage(tt.frame)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(message{})); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseMessageErrors(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		want  error
	}{
		{"empty", nil, errMalformed},
		{"bad varuint", []byte{0x80}, errMalformed},
		{"sync cut short", []byte{0, 0, 5, 1}, errMalformed},
		{"sync type 3", []byte{0, 3, 0}, errMalformed},
		{"save without id", []byte{2, 4, 's', 'a', 'v', 'e'}, errMalformed},
		{"awareness cut short", []byte{1, 9}, errMalformed},
		{"chat", []byte{125, 2, '{', '}'}, errUnknownType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseMessage(tt.frame)
			if !errors.Is(err, tt.want) {
				t.Errorf("parseMessage(%x) = %v, want %v", tt.frame, err, tt.want)
			}
		})
	}
}

func TestSaveReplyFrame(t *testing.T) {
	d := lib0.NewDecoder(saveReplyFrame(7, saveSuccess))
	if typ := d.ReadVarUint(); typ != msgRaw {
		t.Fatalf("type %d, want %d", typ, msgRaw)
	}
	want := `{"type":"save","responseTo":7,"status":"success"}`
	if got := d.ReadVarString(); got != want {
		t.Errorf("reply %s, want %s", got, want)
	}
}

func FuzzParseMessage(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0})
	f.Add([]byte{0, 2, 2, 0, 0})
	f.Add([]byte{1, 1, 0})
	f.Add(saveFrame(1))
	f.Add([]byte{3})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMessage(b)
		if err != nil {
			if !errors.Is(err, errMalformed) && !errors.Is(err, errUnknownType) {
				t.Fatalf("error %v wraps neither errMalformed nor errUnknownType", err)
			}
			return
		}
		if m.typ > msgQueryAwareness {
			t.Fatalf("accepted message type %d", m.typ)
		}
	})
}

// FuzzRoomHandle feeds frames to a transient room: whatever a client
// sends, the room returns an error or acts, and never panics.
func FuzzRoomHandle(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0})
	f.Add([]byte{0, 2, 2, 0, 0})
	f.Add([]byte{1, 5, 1, 1, 1, 1, '1'})
	f.Add(saveFrame(1))
	f.Add([]byte{3})
	svc := &Service{opts: Options{}, rooms: map[string]*room{}}
	svc.opts.fillDefaults()
	svc.log = svc.opts.Log
	f.Fuzz(func(t *testing.T, b []byte) {
		r := svc.newRoom("fuzz")
		c := newConn(nil, nil)
		r.clients = append(r.clients, c)
		_ = r.handle(c, b)
		r.wg.Wait()
	})
}

func TestSendQueueBoundsBytes(t *testing.T) {
	c := newConn(nil, nil)
	for i := range 1000 {
		c.send(make([]byte, 40)) // keystrokes of a client that reads nothing yet
		if isClosed(c) {
			t.Fatalf("closed after %d small frames", i+1)
		}
	}
	c.send(make([]byte, sendQueueBytes/2))
	if isClosed(c) {
		t.Fatal("closed after a first large frame within the byte bound")
	}
	c.send(make([]byte, sendQueueBytes/2))
	if !isClosed(c) {
		t.Fatal("open with more than sendQueueBytes waiting")
	}
	if c.code != websocket.StatusTryAgainLater {
		t.Errorf("close code %d, want %d", c.code, websocket.StatusTryAgainLater)
	}
}

func isClosed(c *conn) bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

func TestStalledWriteClosesConn(t *testing.T) {
	accepted := make(chan *websocket.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ws, err := websocket.Accept(w, r, nil); err == nil {
			accepted <- ws
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	// The client reads nothing, so the server's writes block once the
	// socket buffers are full. Without the TCP connection, every frame
	// goes through the writer.
	peer, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer peer.CloseNow()

	c := newConn(<-accepted, nil)
	c.timeout = 100 * time.Millisecond
	stopped := make(chan struct{})
	go func() {
		c.writeLoop(context.Background())
		close(stopped)
	}()
	for range 16 {
		c.send(make([]byte, 1<<20))
	}
	select {
	case <-stopped:
	case <-time.After(waitTimeout):
		t.Fatal("writer still blocked on a client that reads nothing")
	}
	if !isClosed(c) {
		t.Error("connection not closed after a stalled write")
	}
}

// acceptConn returns a server whose first WebSocket becomes a conn with
// direct writes, started with its writer, and the client's end of it.
func acceptConn(t *testing.T, dialOpts *websocket.DialOptions) (*conn, *websocket.Conn) {
	t.Helper()
	accepted := make(chan *conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hijack := &wsconn.Response{ResponseWriter: w}
		ws, err := websocket.Accept(hijack, r, nil)
		if err != nil {
			return
		}
		c := newConn(ws, hijack.Conn)
		go c.writeLoop(context.Background())
		accepted <- c
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	peer, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), dialOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.CloseNow() })
	peer.SetReadLimit(-1)
	c := <-accepted
	if c.tcp == nil {
		t.Fatal("no TCP connection for direct writes")
	}
	return c, peer
}

// TestSendNeverWaits sends, from two goroutines, far more than the socket
// buffers hold to a client that reads nothing meanwhile, in small frames
// that are written directly while the socket takes them and large ones
// that always go to the writer. No send waits for the client, and the
// client then reads each goroutine's frames in the order sent.
func TestSendNeverWaits(t *testing.T) {
	c, peer := acceptConn(t, nil)
	const senders, frames = 2, 2000
	var wg sync.WaitGroup
	for sender := range senders {
		wg.Go(func() {
			for seq := range frames {
				size := 4 << 10
				if seq%500 == 499 {
					size = maxDirectBytes + 1
				}
				frame := make([]byte, size)
				binary.BigEndian.PutUint32(frame, uint32(sender))
				binary.BigEndian.PutUint32(frame[4:], uint32(seq))
				c.send(frame)
			}
		})
	}
	sent := make(chan struct{})
	go func() {
		wg.Wait()
		close(sent)
	}()
	select {
	case <-sent:
	case <-time.After(waitTimeout):
		t.Fatal("a send waited for a client that reads nothing")
	}
	if isClosed(c) {
		t.Fatalf("connection closed while sending: %d %s", c.code, c.reason)
	}

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	next := make([]uint32, senders)
	for range senders * frames {
		_, data, err := peer.Read(ctx)
		if err != nil {
			t.Fatalf("reading frame: %v", err)
		}
		sender := binary.BigEndian.Uint32(data)
		seq := binary.BigEndian.Uint32(data[4:])
		if sender >= senders || seq != next[sender] {
			t.Fatalf("frame %d of sender %d arrived; want frame %d", seq, sender, next[sender])
		}
		next[sender]++
	}
}

// TestCloseAfterDirectWrites closes a connection after frames written
// directly and queued: the client reads every frame, then the close frame
// with its code and reason.
func TestCloseAfterDirectWrites(t *testing.T) {
	c, peer := acceptConn(t, nil)
	for i := range 100 {
		size := 100
		if i == 50 {
			size = maxDirectBytes + 1
		}
		frame := make([]byte, size)
		frame[0] = byte(i)
		c.send(frame)
	}
	c.close(websocket.StatusGoingAway, "bye")

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for i := range 100 {
		_, data, err := peer.Read(ctx)
		if err != nil {
			t.Fatalf("reading frame %d: %v", i, err)
		}
		if data[0] != byte(i) {
			t.Fatalf("frame %d arrived in place of %d", data[0], i)
		}
	}
	_, _, err := peer.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("read after the frames returned %v, want a close frame", err)
	}
	if ce.Code != websocket.StatusGoingAway || ce.Reason != "bye" {
		t.Errorf("close frame %d %q, want %d %q", ce.Code, ce.Reason, websocket.StatusGoingAway, "bye")
	}
}

// TestDirectFrameSizes writes directly, to an idle connection, a frame of
// each length encoding of RFC 6455, whose bytes the room builds itself.
// The client reads each back whole.
func TestDirectFrameSizes(t *testing.T) {
	c, peer := acceptConn(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for i, n := range []int{1, 125, 126, 4096, 0xffff, maxDirectBytes} {
		want := bytes.Repeat([]byte{byte(i + 1)}, n)
		c.send(want)
		c.qmu.Lock()
		queued := len(c.queue)
		c.qmu.Unlock()
		if queued != 0 {
			t.Errorf("frame of %d bytes queued, want it written directly", n)
		}

		typ, data, err := peer.Read(ctx)
		if err != nil {
			t.Fatalf("reading the frame of %d bytes: %v", n, err)
		}
		if typ != websocket.MessageBinary {
			t.Errorf("frame of %d bytes has type %v, want binary", n, typ)
		}
		if !bytes.Equal(data, want) {
			t.Errorf("frame of %d bytes read as %d bytes or with other content", n, len(data))
		}
		waitUntil(t, "the writer to flush", func() bool {
			c.qmu.Lock()
			defer c.qmu.Unlock()
			return !c.writing && c.tcp.BeginDirect() && !c.tcp.EndDirect()
		})
	}
}
