package kernel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/wsconn"
)

// serveChannels serves GET /api/kernels/{id}/channels: the WebSocket that
// carries one client's messages to and from the kernel.
func (m *Manager) serveChannels(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	k, ok := m.kernel(id)
	if !ok {
		httpapi.WriteError(m.log, w, r, httpapi.Errorf(http.StatusNotFound, "Kernel does not exist: %s", id))
		return
	}
	if !m.trackSocket() {
		httpapi.WriteError(m.log, w, r, httpapi.Errorf(http.StatusServiceUnavailable, "server is shutting down"))
		return
	}
	defer m.sockets.Done()

	// The server checks the Origin of upgrades before the mux.
	ws, conn, err := wsconn.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:       []string{protocolV1},
		InsecureSkipVerify: true,
	}, maxFrameBytes, true)
	if err != nil {
		k.log.Info("kernel WebSocket upgrade failed", "err", err)
		return
	}

	// A session_id chosen by the client names a client that keeps its
	// messages across reconnects; without one, the connection stands alone.
	session := r.URL.Query().Get("session_id")
	buffered := session != ""
	if !buffered {
		session = uuid.NewString()
	}
	log := k.log.With("session_id", session)
	b := &bridge{ws: ws, conn: conn, k: k, framing: framingFor(ws.Subprotocol()), log: log}
	var direct directWriter
	if b.conn != nil {
		direct = b
	}
	cl, att, err := k.ch.attach(session, buffered, direct)
	if err != nil {
		ws.Close(websocket.StatusGoingAway, "kernel shut down")
		return
	}
	b.cl, b.att = cl, att
	log.Debug("kernel WebSocket opened", "subprotocol", ws.Subprotocol())
	b.run()
	k.ch.detach(cl, att)
	log.Debug("kernel WebSocket closed")
}

// trackSocket counts a WebSocket handler for Close, unless Close has begun.
func (m *Manager) trackSocket() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.sockets.Add(1)
	return true
}

// bridge relays the messages of one WebSocket: the handler's goroutine
// reads frames and sends them to the kernel. The kernel's channels write a
// message to the WebSocket themselves when the client keeps up (see
// tryWrite). Otherwise a writer goroutine writes the client's queue. A third
// goroutine closes the WebSocket when the server ends it.
type bridge struct {
	ws      *websocket.Conn
	conn    *wsconn.Conn // the connection under ws, or nil without direct writes
	k       *Kernel
	cl      *client
	att     *attachment
	framing framing
	log     *slog.Logger

	badFrames logLimiter
}

func (b *bridge) run() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		b.write(ctx)
	}()
	go func() {
		defer wg.Done()
		select {
		case <-b.att.closed:
			b.ws.Close(b.att.code, b.att.reason)
		case <-ctx.Done():
		}
	}()
	b.read()
	cancel()
	wg.Wait()
	b.ws.CloseNow()
}

// read hands the client's messages to the kernel until the WebSocket ends.
// A frame that does not decode is dropped and logged. A frame that RFC 6455
// says ends the connection, such as text that is not UTF-8, closes it.
//
// NOTE: messages are relayed as they are. jupyter_server also adapts them
// for kernels that report a protocol version before 5, which this bridge
// does not do.
func (b *bridge) read() {
	b.badFrames.interval = 10 * time.Second
	for {
		typ, data, err := b.ws.Read(context.Background())
		if fe := wsconn.AsFrameError(err); fe != nil {
			b.log.Info("kernel WebSocket closed for an invalid frame", "err", fe)
			b.ws.Close(fe.Code, fe.Reason)
			return
		}
		if err != nil {
			if status := websocket.CloseStatus(err); status == -1 && !errors.Is(err, context.Canceled) {
				b.log.Debug("kernel WebSocket read ended", "err", err)
			}
			return
		}
		m, err := b.framing.decode(typ, data)
		if err == nil && channelSocket(m.Channel) < 0 {
			err = fmt.Errorf("channel %s is not shell, control or stdin", quote(m.Channel))
		}
		if err != nil {
			if ok, suppressed := b.badFrames.allow(time.Now()); ok {
				b.log.Warn("kernel WebSocket frame dropped", "err", err,
					"dropped_since_last_log", suppressed)
			}
			continue
		}
		if !b.k.ch.send(b.cl, m) {
			return
		}
	}
}

// write writes the client's queue to the WebSocket until ctx is done or a
// write fails.
func (b *bridge) write(ctx context.Context) {
	for {
		select {
		case <-b.att.wake:
		case <-ctx.Done():
			return
		}
		if !b.writeQueue(ctx) {
			b.ws.CloseNow()
			return
		}
	}
}

// writeQueue writes what direct writes left pending, then the client's
// queue, until the queue is empty. It reports false when a write failed.
func (b *bridge) writeQueue(ctx context.Context) bool {
	for {
		if b.conn != nil && b.conn.Flush() != nil {
			return false
		}
		msgs := b.cl.take(b.att)
		if len(msgs) == 0 {
			return true
		}
		if !b.writeMessages(ctx, msgs) {
			return false
		}
	}
}

// writeMessages writes msgs to the WebSocket, their frames in as few writes
// to the socket as its cork allows. It reports false when a write failed.
func (b *bridge) writeMessages(ctx context.Context, msgs []*Message) bool {
	if b.conn != nil {
		b.conn.Cork()
	}
	for _, m := range msgs {
		typ, data, err := b.framing.encode(m)
		if err != nil {
			b.log.Warn("kernel message not sent to WebSocket", "err", err)
			continue
		}
		if err := b.ws.Write(ctx, typ, data); err != nil {
			return false
		}
	}
	return b.conn == nil || b.conn.Uncork() == nil
}

// tryWrite writes m to the WebSocket at once, in direct mode, so that the
// write cannot wait for the client. What the socket does not take stays
// pending for the writer goroutine. It rejects m while a write that can
// wait is in progress or bytes are pending, and when the write fails, so
// that m is queued: a buffered client then replays it to its next
// WebSocket. It reports whether it accepted m, and whether the writer
// goroutine must flush or handle a failed write. The caller holds the
// client's lock, so the writer does not take the queue meanwhile.
func (b *bridge) tryWrite(m *Message) (accepted, wake bool) {
	if !b.conn.BeginDirect() {
		return false, false
	}
	typ, data, err := b.framing.encode(m)
	if err != nil {
		b.log.Warn("kernel message not sent to WebSocket", "err", err)
		return true, b.conn.EndDirect()
	}
	err = b.ws.Write(context.Background(), typ, data)
	pending := b.conn.EndDirect()
	if err != nil {
		return false, true
	}
	return true, pending
}

// quote quotes s for a log record, cut to 40 bytes.
func quote(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return strconv.Quote(s)
}
