package kernel

import (
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Limits of the queue of messages waiting to be written to one client.
const (
	// Past the soft limits, IOPub output other than status is dropped and
	// the client gets a stderr notice once it catches up.
	softQueueMessages = 5000
	softQueueBytes    = 32 << 20
	// Past the hard limits, the client's WebSocket is closed.
	hardQueueMessages = 20000
	hardQueueBytes    = 128 << 20
	// A client without a WebSocket keeps at most this much for replay when it
	// reconnects, and is forgotten past it.
	offlineQueueMessages = 1000
	offlineQueueBytes    = 16 << 20
	// maxOfflineClients bounds the clients of one kernel kept for replay.
	maxOfflineClients = 8
)

// client is one browser tab's view of a kernel, keyed by the session_id of
// its WebSocket URL. It outlives the WebSocket: a client with its own
// session_id that disconnects keeps collecting its messages, and a new
// WebSocket with the same session_id receives them first.
type client struct {
	session       string
	buffered      bool   // keep messages while no WebSocket is attached
	serverSession string // session of the notices the server writes

	mu            sync.Mutex
	queue         []*Message
	bytes         int
	att           *attachment // the WebSocket writing the queue, or nil
	gone          bool        // removed from its kernel
	dropped       int         // IOPub messages dropped since the queue filled
	droppedParent []byte

	// Guarded by the lock of the kernel's channels.
	limiter  iopubLimiter
	detached time.Time
}

// attachment is one WebSocket attached to a client.
type attachment struct {
	direct directWriter  // nil when the WebSocket has no direct writes
	wake   chan struct{} // signalled when the queue has messages or direct writes left work
	closed chan struct{} // closed when the server ends the WebSocket
	once   sync.Once
	code   websocket.StatusCode
	reason string

	// writing is set, under the client's lock, while the WebSocket's writer
	// works through messages it took from the queue.
	writing bool
}

// directWriter writes a message to a client's WebSocket at once, when the
// write cannot wait for the client, sparing the hand-off to the writer
// goroutine. tryWrite reports whether it accepted m, and whether the writer
// must then be woken to finish. It is called with the client's lock held.
type directWriter interface {
	tryWrite(m *Message) (accepted, wake bool)
}

func newAttachment(direct directWriter) *attachment {
	return &attachment{direct: direct, wake: make(chan struct{}, 1), closed: make(chan struct{})}
}

// close asks the WebSocket's handler to close it with code and reason. Only
// the first call has an effect.
func (a *attachment) close(code websocket.StatusCode, reason string) {
	a.once.Do(func() {
		a.code, a.reason = code, reason
		close(a.closed)
	})
}

func (a *attachment) signal() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// push queues m for the client. Droppable messages (IOPub output) are
// dropped, and counted for a later notice, when the queue is past its soft
// limits. push returns false when the client overflowed its hard limits and
// must be removed; its WebSocket is then already being closed.
func (c *client) push(m *Message, droppable bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return true
	}
	size := m.size()
	if c.att == nil {
		if len(c.queue) >= offlineQueueMessages || c.bytes+size > offlineQueueBytes {
			c.dropLocked()
			return false
		}
	} else if len(c.queue) > 0 {
		if droppable && (len(c.queue) >= softQueueMessages || c.bytes+size > softQueueBytes) {
			c.dropped++
			c.droppedParent = m.Parent
			return true
		}
		if len(c.queue) >= hardQueueMessages || c.bytes+size > hardQueueBytes {
			c.att.close(websocket.StatusPolicyViolation,
				"the client did not read kernel messages fast enough")
			c.dropLocked()
			return false
		}
	}
	if c.dropped > 0 {
		text := fmt.Sprintf("%d output messages were not sent because the connection "+
			"could not keep up.\n", c.dropped)
		c.appendLocked(stderrNotice(c.serverSession, c.droppedParent, text))
		c.dropped, c.droppedParent = 0, nil
	}
	if c.writeDirectLocked(m) {
		return true
	}
	c.appendLocked(m)
	return true
}

// maxDirectBytes bounds the size of a message written directly. A larger
// one goes to the writer goroutine, which encodes and writes it without the
// channels' lock held and without copying what the socket does not take.
const maxDirectBytes = 64 << 10

// writeDirectLocked writes m to the WebSocket at once when nothing is
// queued before it, the writer is idle and m is small, and reports whether
// it did.
func (c *client) writeDirectLocked(m *Message) bool {
	att := c.att
	if att == nil || att.direct == nil || att.writing || len(c.queue) > 0 || m.size() > maxDirectBytes {
		return false
	}
	accepted, wake := att.direct.tryWrite(m)
	if wake {
		att.signal()
	}
	return accepted
}

func (c *client) appendLocked(m *Message) {
	c.queue = append(c.queue, m)
	c.bytes += m.size()
	if c.att != nil {
		c.att.signal()
	}
}

func (c *client) dropLocked() {
	c.gone = true
	c.queue, c.bytes = nil, 0
}

// take removes and returns the queued messages when att is the client's
// current WebSocket. Until a take finds the queue empty, att is writing, and
// new messages queue behind those taken instead of being written directly.
func (c *client) take(att *attachment) []*Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.att != att {
		return nil
	}
	q := c.queue
	c.queue, c.bytes = nil, 0
	att.writing = len(q) > 0
	return q
}

// attach makes att the client's WebSocket. A WebSocket attached before is
// closed, as jupyter_server replaces a stale connection with the same
// session.
func (c *client) attach(att *attachment) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.att != nil {
		c.att.close(websocket.StatusNormalClosure, "replaced by a new connection with the same session_id")
	}
	c.att = att
	if len(c.queue) > 0 {
		att.signal()
	}
}

// detach removes att from the client and reports whether it was attached.
func (c *client) detach(att *attachment) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.att != att {
		return false
	}
	c.att = nil
	return true
}

// online reports whether a WebSocket is attached.
func (c *client) online() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.att != nil
}

// removed reports whether the client was removed from its kernel.
func (c *client) removed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gone
}

// remove marks the client gone and closes its WebSocket, if any.
func (c *client) remove(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.att != nil {
		c.att.close(code, reason)
	}
	c.dropLocked()
}

// stderrNotice returns an IOPub stderr stream from the server with the given
// parent header, so the notice shows in the output of the cell it concerns.
func stderrNotice(session string, parent []byte, text string) *Message {
	return newMessage(channelIOPub, "stream", session, parent,
		map[string]string{"name": "stderr", "text": text})
}

// The client registry of a kernel's channels. These run with the channels'
// lock held, or take it.

// push queues m for cl and removes cl when its queue overflowed.
func (c *channels) push(cl *client, m *Message, droppable bool) {
	if !cl.push(m, droppable) {
		c.log.Warn("kernel client dropped: its queue overflowed", "session_id", cl.session)
		c.removeClient(cl)
	}
}

func (c *channels) removeClient(cl *client) {
	if c.clients[cl.session] == cl {
		delete(c.clients, cl.session)
	}
	c.updateConnections()
}

func (c *channels) updateConnections() {
	n := 0
	for _, cl := range c.clients {
		if cl.online() {
			n++
		}
	}
	c.obs.connectionsChanged(n)
}

// broadcast sends a message of the server's own to every client, after the
// messages already queued for them.
func (c *channels) broadcast(m *Message) {
	c.call(func() {
		for _, cl := range c.clients {
			c.push(cl, m, false)
		}
	})
}

// attach attaches a new WebSocket to the client with the given session,
// creating the client when there is none. With buffered set, the client
// keeps its messages while no WebSocket is attached. direct, when not nil,
// writes to the WebSocket directly.
func (c *channels) attach(session string, buffered bool, direct directWriter) (*client, *attachment, error) {
	var cl *client
	att := newAttachment(direct)
	ok := c.call(func() {
		if c.closing {
			return
		}
		cl = c.clients[session]
		if cl == nil || cl.removed() {
			cl = &client{
				session: session, buffered: buffered, serverSession: c.session,
				limiter: iopubLimiter{limits: c.limits},
			}
			c.clients[session] = cl
		}
		cl.attach(att)
		c.updateConnections()
		if c.dead {
			// A client that attaches after the death learns of it here.
			c.push(cl, c.status(stateDead), false)
		}
	})
	if !ok || cl == nil {
		return nil, nil, errChannelsClosed
	}
	return cl, att, nil
}

// detach detaches att from cl. A buffered client stays, collecting messages
// for its next WebSocket, until more than maxOfflineClients are offline.
func (c *channels) detach(cl *client, att *attachment) {
	c.call(func() {
		if !cl.detach(att) {
			return
		}
		if cl.buffered && !cl.removed() {
			cl.detached = time.Now()
			c.evictOffline()
		} else {
			cl.remove(websocket.StatusNormalClosure, "")
			c.removeClient(cl)
		}
		c.updateConnections()
	})
}

// evictOffline removes the clients offline the longest until at most
// maxOfflineClients are left.
func (c *channels) evictOffline() {
	for {
		var oldest *client
		offline := 0
		for _, cl := range c.clients {
			if cl.online() {
				continue
			}
			offline++
			if oldest == nil || cl.detached.Before(oldest.detached) {
				oldest = cl
			}
		}
		if offline <= maxOfflineClients {
			return
		}
		oldest.remove(websocket.StatusNormalClosure, "")
		c.removeClient(oldest)
	}
}
