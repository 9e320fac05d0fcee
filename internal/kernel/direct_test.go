package kernel

import (
	"context"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/coder/websocket"
	zmq "github.com/pebbe/zmq4"
)

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
