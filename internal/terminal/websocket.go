package terminal

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/wsconn"
)

// maxFrameBytes bounds one message from a client, 10 MiB as tornado's
// default WebSocket limit in jupyter_server. A larger one, such as a paste
// of tens of megabytes, closes the WebSocket with status 1009 (message too
// big) and the limit in the reason. JupyterLab then reconnects.
const maxFrameBytes = 10 << 20

// queueFrames bounds the messages waiting for one client. A client that
// falls further behind is disconnected (see Terminal.sendLocked).
const queueFrames = 64

// writeTimeout bounds the write of one message to a client.
const writeTimeout = 10 * time.Second

// closeReason is the status and reason a WebSocket is closed with.
type closeReason struct {
	status websocket.StatusCode
	text   string
}

var (
	slowClient    = closeReason{websocket.StatusTryAgainLater, "client too slow: reconnect for recent output"}
	terminalEnded = closeReason{websocket.StatusNormalClosure, "terminal ended"}
	serverClosing = closeReason{websocket.StatusGoingAway, "server shutting down"}
)

// client is one WebSocket connected to a terminal. The terminal queues
// frames for it; a goroutine of the WebSocket's handler writes them.
type client struct {
	out      chan []byte
	stopped  chan struct{}
	stopOnce sync.Once
	reason   closeReason // set before stopped is closed

	// rows and cols are the client's screen size, 0 before it sends one.
	// The terminal's mu guards them.
	rows, cols int
}

func newClient() *client {
	return &client{out: make(chan []byte, queueFrames), stopped: make(chan struct{})}
}

// send queues frame without waiting and reports whether it fit.
func (c *client) send(frame []byte) bool {
	select {
	case c.out <- frame:
		return true
	default:
		return false
	}
}

// stop makes the writer write what is queued and close the WebSocket with
// r. Only the first call counts.
func (c *client) stop(r closeReason) {
	c.stopOnce.Do(func() {
		c.reason = r
		close(c.stopped)
	})
}

// serveWebSocket serves GET /terminals/websocket/{name}: terminado's JSON
// protocol for one client of a terminal. The server checks authentication
// and the Origin of the upgrade before the mux.
func (m *Manager) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	t, ok := m.terminal(r.PathValue("name"))
	if !ok {
		httpapi.WriteError(m.log, w, r, notFound(r.PathValue("name")))
		return
	}
	if !m.trackSocket() {
		httpapi.WriteError(m.log, w, r, httpapi.Errorf(http.StatusServiceUnavailable, "Server is shutting down"))
		return
	}
	defer m.sockets.Done()
	ws, _, err := wsconn.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true},
		maxFrameBytes, false)
	if err != nil {
		t.log.Info("terminal WebSocket upgrade failed", "err", err)
		return
	}

	c := newClient()
	if !t.attach(c) {
		ws.Close(websocket.StatusNormalClosure, terminalEnded.text)
		return
	}
	t.activity(time.Now().UTC())
	t.log.Debug("terminal WebSocket opened")
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		writeFrames(ctx, ws, c)
	}()

	readFrames(ctx, ws, t, c)
	t.detach(c)
	c.stop(serverClosing) // a no-op unless the reader stopped first
	<-writerDone
	t.log.Debug("terminal WebSocket closed")
}

// readFrames handles the client's messages until the WebSocket closes or
// the client is stopped.
func readFrames(ctx context.Context, ws *websocket.Conn, t *Terminal, c *client) {
	for {
		_, frame, err := ws.Read(ctx)
		if fe := wsconn.AsFrameError(err); fe != nil {
			t.log.Info("invalid terminal WebSocket frame, closing the WebSocket", "err", fe)
			c.stop(closeReason{fe.Code, fe.Reason})
			return
		}
		if err != nil {
			return // closed by the client, by the writer or for a frame over the limit
		}
		msg, err := parseMessage(frame)
		if errors.Is(err, errBadSize) {
			t.log.Debug("terminal size ignored", "err", err)
			continue
		}
		if err != nil {
			t.log.Info("invalid terminal message, closing the WebSocket", "err", err)
			c.stop(closeReason{websocket.StatusUnsupportedData, "invalid terminal message: " + err.Error()})
			return
		}
		switch msg.Kind {
		case kindStdin:
			if !t.write([]byte(msg.Data), c.stopped) {
				return
			}
		case kindSetSize:
			t.setSize(c, msg.Rows, msg.Cols)
		}
		t.activity(time.Now().UTC())
	}
}

// writeFrames writes c's queue to ws until c is stopped, then writes what
// is left and closes ws with c's reason.
func writeFrames(ctx context.Context, ws *websocket.Conn, c *client) {
	for {
		select {
		case frame := <-c.out:
			if err := writeFrame(ctx, ws, frame); err != nil {
				c.stop(serverClosing)
				ws.CloseNow()
				return
			}
		case <-c.stopped:
			for len(c.out) > 0 {
				if writeFrame(ctx, ws, <-c.out) != nil {
					break
				}
			}
			ws.Close(c.reason.status, closeText(c.reason.text))
			return
		case <-ctx.Done():
			ws.Close(serverClosing.status, serverClosing.text)
			return
		}
	}
}

func writeFrame(ctx context.Context, ws *websocket.Conn, frame []byte) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return ws.Write(ctx, websocket.MessageText, frame)
}

// closeText cuts s to the 123 bytes a close frame's reason may hold,
// between two characters.
func closeText(s string) string {
	const max = 123
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
