package kernel

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/coder/websocket"
	zmq "github.com/pebbe/zmq4"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client *net.TCPConn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		t.Fatal("accepting a loopback connection failed")
	}
	t.Cleanup(func() {
		s.Close()
		c.Close()
	})
	return s.(*net.TCPConn), c.(*net.TCPConn)
}

// TestWSConnDirectWrite writes more to a peer that does not read than its
// socket buffers hold: the direct write returns at once, keeps the rest
// pending until flush, and the peer gets every byte in order.
func TestWSConnDirectWrite(t *testing.T) {
	server, client := tcpPair(t)
	server.SetWriteBuffer(64 << 10)
	client.SetReadBuffer(64 << 10)
	c := newWSConn(server)
	if c == nil {
		t.Fatal("newWSConn returned nil for a TCP connection")
	}

	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	if !c.beginDirect() {
		t.Fatal("beginDirect rejected an idle connection")
	}
	if n, err := c.Write(data); n != len(data) || err != nil {
		t.Fatalf("direct Write = %d, %v; want %d, nil", n, err, len(data))
	}
	if !c.endDirect() {
		t.Fatal("endDirect reports nothing pending after 4 MiB to a peer that does not read")
	}
	if c.beginDirect() {
		t.Fatal("beginDirect accepted a connection with pending bytes")
	}

	tail := []byte("tail")
	received := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(client, int64(len(data)+len(tail))))
		received <- b
	}()
	if err := c.flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if !c.beginDirect() {
		t.Fatal("beginDirect rejected the connection after flush")
	}
	if _, err := c.Write(tail); err != nil {
		t.Fatalf("direct Write after flush: %v", err)
	}
	c.endDirect()
	if err := c.flush(); err != nil {
		t.Fatalf("second flush: %v", err)
	}
	got := <-received
	if !bytes.Equal(got, append(data, tail...)) {
		t.Errorf("peer got %d bytes, not the %d written in order", len(got), len(data)+len(tail))
	}
}

// TestWSConnDirectWriteError closes the connection under a direct write:
// the error is kept, so endDirect reports it and flush returns it.
func TestWSConnDirectWriteError(t *testing.T) {
	server, _ := tcpPair(t)
	c := newWSConn(server)
	server.Close()
	if !c.beginDirect() {
		t.Fatal("beginDirect rejected an idle connection")
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Error("direct Write on a closed connection returned no error")
	}
	if !c.endDirect() {
		t.Error("endDirect does not report the failed write")
	}
	if err := c.flush(); err == nil {
		t.Error("flush after a failed write returned no error")
	}
	if c.beginDirect() {
		t.Error("beginDirect accepted a connection whose write failed")
	}
}

// TestWSConnCork collects writes between cork and uncork, rejects direct
// writes meanwhile, and sends what it collected in order.
func TestWSConnCork(t *testing.T) {
	server, client := tcpPair(t)
	c := newWSConn(server)
	c.cork()
	for _, p := range []string{"first ", "second ", "third"} {
		if n, err := c.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("corked Write(%q) = %d, %v", p, n, err)
		}
	}
	if c.beginDirect() {
		t.Error("beginDirect accepted a corked connection")
	}
	if err := c.uncork(); err != nil {
		t.Fatalf("uncork: %v", err)
	}
	want := "first second third"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("peer got %q, want %q", got, want)
	}
}

// fakeDirect is a directWriter that records what it takes.
type fakeDirect struct {
	reject  bool
	wake    bool
	written []string
}

func (f *fakeDirect) tryWrite(m *Message) (bool, bool) {
	if f.reject {
		return false, false
	}
	f.written = append(f.written, string(m.Content))
	return true, f.wake
}

// TestClientDirectWrites pushes to a client whose WebSocket writes directly:
// a message goes out directly only while nothing is queued before it and the
// writer is idle, so the order is kept.
func TestClientDirectWrites(t *testing.T) {
	direct := &fakeDirect{}
	cl := &client{session: "s"}
	att := newAttachment(direct)
	cl.attach(att)
	msg := func(content string) *Message {
		return &Message{Channel: channelIOPub, MsgType: "stream", Content: []byte(content)}
	}
	woken := func() bool {
		select {
		case <-att.wake:
			return true
		default:
			return false
		}
	}

	cl.push(msg("1"), true)
	if len(cl.queue) != 0 || len(direct.written) != 1 {
		t.Fatalf("idle client: %d queued, %d written directly; want 0, 1", len(cl.queue), len(direct.written))
	}
	if woken() {
		t.Error("writer woken after a direct write that left nothing to do")
	}

	// A large message goes to the writer.
	large := msg(strings.Repeat("x", maxDirectBytes+1))
	cl.push(large, true)
	if len(cl.queue) != 1 || len(direct.written) != 1 {
		t.Fatalf("large message: %d queued, %d more written directly; want 1, 0",
			len(cl.queue), len(direct.written)-1)
	}
	if !woken() {
		t.Error("writer not woken for the large message")
	}
	cl.take(att)
	cl.take(att)

	direct.reject = true
	cl.push(msg("2"), true)
	direct.reject = false
	cl.push(msg("3"), true)
	if len(cl.queue) != 2 || len(direct.written) != 1 {
		t.Fatalf("after a rejection: %d queued, %d written directly; want 2, 1", len(cl.queue), len(direct.written))
	}
	if !woken() {
		t.Error("writer not woken for the queued messages")
	}

	// While the writer works through what it took, new messages queue.
	took := cl.take(att)
	cl.push(msg("4"), true)
	if len(took) != 2 || len(cl.queue) != 1 {
		t.Fatalf("while writing: took %d, %d queued; want 2, 1", len(took), len(cl.queue))
	}
	cl.take(att)
	if rest := cl.take(att); len(rest) != 0 {
		t.Fatalf("third take returned %d messages, want 0", len(rest))
	}

	// A take that found the queue empty ends the writing.
	direct.wake = true
	cl.push(msg("5"), true)
	if len(cl.queue) != 0 || strings.Join(direct.written, "") != "15" {
		t.Errorf("after the writer finished: %d queued, written directly %q; want 0, 15",
			len(cl.queue), direct.written)
	}
	if !woken() {
		t.Error("writer not woken when the direct write asked for it")
	}
}

// TestSlowClientDoesNotStallOthers floods IOPub to two WebSockets of a
// kernel, one of which never reads. The channels never wait for it: the
// other gets every message, and the flood ends up queued for the one that
// does not read once its socket buffers are full.
func TestSlowClientDoesNotStallOthers(t *testing.T) {
	zctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { zctx.Term() })
	const flood = 20000
	text := strings.Repeat("x", 1000)
	fk := startFakeKernel(t, zctx, func(fk *fakeKernel, ids [][]byte, m *Message) {
		for range flood {
			fk.publish(m, "stream", `{"name":"stdout","text":"`+text+`"}`, false)
		}
		fk.reply(fk.shell, ids, m, "execute_reply", `{"status":"ok"}`)
	})
	ts := newTestServer(t, Options{SpecDirs: []string{}, IOPubMsgRateLimit: -1, IOPubDataRateLimit: -1})
	id := ts.addFakeKernel(fk.info)

	url := "ws" + strings.TrimPrefix(ts.srv.URL, "http") + "/api/kernels/" + id + "/channels?session_id=slow"
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	// A small receive buffer, so that the flood is far more than the socket
	// buffers of the connection can take.
	dialer := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10)
		})
	}}
	slow, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		Subprotocols: []string{protocolV1},
		HTTPClient:   &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slow.CloseNow() })

	fast := ts.dial(id, "fast", true)
	request := fast.send(channelShell, "execute_request", executeContent("flood", false))
	streams := 0
	for streams < flood {
		if m := fast.next(); m.ParentID == request && m.MsgType == "stream" {
			streams++
		}
	}

	// The channels' lock is taken after the pushes of the last message to
	// both clients.
	k, _ := ts.m.kernel(id)
	var behind bool
	k.ch.call(func() {
		cl := k.ch.clients["slow"]
		behind = cl == nil || cl.removed() || writerBehind(cl)
	})
	if !behind {
		t.Error("nothing queued or being written for the client that does not read")
	}
}

// writerBehind reports whether the client has queued messages or its
// writer is still writing messages it took.
func writerBehind(cl *client) bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return len(cl.queue) > 0 || (cl.att != nil && cl.att.writing)
}
