package kernel

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
)

// observer receives the kernel state that the channels see on IOPub. Its
// methods are called with the channels' lock held and must not block or
// call the channels.
type observer interface {
	// statusChanged reports an IOPub status whose parent is parentType.
	statusChanged(state, parentType string)
	// activity reports kernel output at t.
	activity(t time.Time)
	// connectionsChanged reports the number of attached WebSockets.
	connectionsChanged(n int)
	// ready reports that the subscription to IOPub is live after a start.
	ready()
}

// errChannelsClosed is returned once the kernel's channels are shut down.
var errChannelsClosed = errors.New("kernel channels are closed")

// Timing of the nudge that proves the IOPub subscription live.
const (
	nudgeInterval   = 500 * time.Millisecond
	firstNudgeDelay = 50 * time.Millisecond
	// stdinWaitDefault bounds the wait for the stdin socket to connect once
	// the kernel has replied. ipykernel binds stdin before it can reply, so
	// the wait only delays kernels that do not listen on stdin.
	stdinWaitDefault = 2 * time.Second
	// reconnectInterval is the wait between attempts to connect to a
	// kernel's ports.
	reconnectInterval = 10 * time.Millisecond
	maxPending        = 1000 // client messages held while the kernel is not ready
	recvBatch         = 64   // messages read from one socket before others get a turn
)

// channels is the ZeroMQ side of one kernel: one DEALER socket each for
// shell, control and stdin and one SUB socket for IOPub, shared by every
// client of the kernel.
//
// libzmq sockets are not safe for concurrent use, so a mutex, mu, guards
// them and all other state of the channels. Any goroutine that holds it may
// call into libzmq, so a goroutine that sends a client's message sends it
// itself. One
// goroutine, run, waits in Go's netpoller for the sockets' poll set and
// reads the sockets that signal, so a kernel's message reaches the client
// queues without a hand-off between goroutines. Before mu is released,
// every socket that was called is read until libzmq has nothing left that
// ZMQ_FD would not signal again (see settle).
//
// IOPub messages go to every client. A request from a client is recorded by
// msg_id, and the replies on shell and control and the stdin messages whose
// parent is that request go to that client only; a parent that is not
// recorded falls back to the client whose session_id equals the parent's
// session.
//
// After each connect, the channels are not ready until a kernel_info_request,
// resent every nudgeInterval, has a reply on shell, some IOPub message has
// arrived and the stdin socket has completed its handshake, for which it gets
// stdinWait after the reply. Client messages are held until then, so none of
// their output is lost to a SUB socket that has not finished subscribing,
// and no input_request to a stdin socket that has not connected yet.
type channels struct {
	log     *slog.Logger
	zctx    *zmqContext
	obs     observer
	session string // session id of the server's own messages and the ZMQ identity
	limits  rateLimits
	poll    *pollSet
	done    chan struct{} // closed when run returns

	mu sync.Mutex
	// Guarded by mu.
	closing     bool
	socks       [4]*zsock // shell, control, stdin, iopub; nil when disconnected
	polled      map[uint32]*zsock
	tokens      uint32   // the last token given to a socket in the poll set
	readyTokens []uint32 // the buffer of poll.ready
	backlog     []*zsock // sockets to read before anyone waits
	deadline    time.Time
	sign        *signer
	guard       *replayGuard
	ready       bool
	dead        bool // abandoned until the next connect: no process to talk to
	readyCh     chan struct{}
	nudge       *nudgeState
	pending     []outgoing
	routes      *routeTable
	clients     map[string]*client
	dropLog     logLimiter

	// stdinEvents receives the handshake event of the stdin socket after a
	// connect; nil once it has come.
	stdinEvents *zsock
	monitors    int           // stdin monitors started, which number their endpoints
	stdinWait   time.Duration // stdinWaitDefault, shortened by tests
}

// Indexes of channels.socks.
const (
	sockShell = iota
	sockControl
	sockStdin
	sockIOPub
)

var sockChannels = [4]string{channelShell, channelControl, channelStdin, channelIOPub}

type nudgeState struct {
	replied, iopub, stdin bool
	next                  time.Time
	attempts              int
	// stdinDeadline is when the channels become ready without a stdin
	// connection; zero until the kernel has replied.
	stdinDeadline time.Time
}

type outgoing struct {
	from *client
	msg  *Message
}

// newChannels returns channels for one kernel. The caller runs run in a
// goroutine it waits for, and stops it with close.
func newChannels(zctx *zmqContext, obs observer, limits rateLimits, log *slog.Logger) (*channels, error) {
	poll, err := newPollSet()
	if err != nil {
		return nil, fmt.Errorf("creating the poll set of the kernel sockets: %w", err)
	}
	c := &channels{
		log: log, zctx: zctx, obs: obs, session: uuid.NewString(), limits: limits,
		poll:      poll,
		done:      make(chan struct{}),
		polled:    make(map[uint32]*zsock),
		routes:    newRouteTable(),
		clients:   make(map[string]*client),
		dropLog:   logLimiter{interval: 10 * time.Second},
		stdinWait: stdinWaitDefault,
	}
	return c, nil
}

// call runs fn with the channels' lock held, on the caller's goroutine, and
// reports false, without running it, once the channels are closed.
func (c *channels) call(fn func()) bool {
	c.mu.Lock()
	defer c.unlock()
	if c.closing {
		return false
	}
	fn()
	return true
}

// unlock settles the channels and releases their lock.
func (c *channels) unlock() {
	c.settle()
	c.mu.Unlock()
}

// settle sends a nudge that is due, then reads the sockets of the backlog,
// which a call into libzmq may have left with messages that ZMQ_FD will
// not signal. A socket with more than recvBatch waiting is left to run,
// which the poll set's deadline wakes. The caller holds c.mu.
func (c *channels) settle() {
	if !c.closing {
		c.maybeNudge(time.Now())
		c.serviceBacklog()
	}
	c.setDeadline()
}

// deadlinePassed is a poll set deadline that has passed.
var deadlinePassed = time.Unix(1, 0)

// setDeadline sets the poll set's deadline to when run must act without a
// signal: at once for a backlog or a close, at the next nudge, or never.
func (c *channels) setDeadline() {
	var at time.Time
	switch {
	case c.closing || len(c.backlog) > 0:
		at = deadlinePassed
	case c.nudge != nil:
		at = c.nudge.next
	}
	if at.Equal(c.deadline) {
		return
	}
	c.deadline = at
	if err := c.poll.setDeadline(at); err != nil {
		c.log.Error("setting the deadline of the kernel socket poll set", "err", err)
	}
}

// run reads the sockets that signal and sends the nudge when it is due,
// until close.
func (c *channels) run() {
	defer close(c.done)
	for {
		err := c.poll.wait(c.serviceReady)
		c.mu.Lock()
		if c.closing {
			c.mu.Unlock()
			if err := c.poll.close(); err != nil {
				c.log.Warn("closing the kernel socket poll set", "err", err)
			}
			return
		}
		// A deadline that has passed keeps ending waits until it is set
		// again.
		c.deadline = deadlinePassed
		c.unlock()
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			c.log.Error("waiting for the kernel sockets failed", "err", err)
			// The next wait may fail at once too.
			time.Sleep(reconnectInterval)
		}
	}
}

// serviceReady reads the sockets that signalled, a batch each, and reports
// whether the channels are closing. It is called by the poll set's wait.
func (c *channels) serviceReady() bool {
	c.mu.Lock()
	defer c.unlock()
	if c.closing {
		return true
	}
	tokens, err := c.poll.ready(c.readyTokens[:0])
	c.readyTokens = tokens
	if err != nil {
		c.log.Error("polling the kernel sockets", "err", err)
	}
	for _, token := range tokens {
		if z := c.polled[token]; z != nil {
			c.addBacklog(z)
		}
	}
	return false
}

// finish closes every socket and client, when the channels close.
func (c *channels) finish() {
	c.closeSockets()
	for _, cl := range c.clients {
		cl.remove(websocket.StatusGoingAway, "kernel shut down")
	}
	clear(c.clients)
}

// close closes every socket and every client's WebSocket, and waits for
// run to return.
func (c *channels) close() {
	c.call(func() {
		c.closing = true
		c.finish()
	})
	<-c.done
}

// connect opens the sockets to the kernel described by info, replacing any
// open ones, and starts the nudge. The returned channel is closed when the
// channels are ready.
func (c *channels) connect(info ConnectionInfo) (<-chan struct{}, error) {
	var ready chan struct{}
	var err error
	ok := c.call(func() {
		c.closeSockets()
		if err = c.openSockets(info); err != nil {
			c.closeSockets()
			return
		}
		ready = make(chan struct{})
		c.readyCh = ready
		c.nudge = &nudgeState{}
		c.dead = false
	})
	if !ok {
		return nil, errChannelsClosed
	}
	return ready, err
}

// disconnect reads what the sockets still hold, then closes them. Requests
// in flight are dropped, because the process that would reply is gone.
func (c *channels) disconnect() {
	c.call(func() {
		for _, z := range c.socks {
			if z != nil {
				c.receiveFrom(z, maxPending)
			}
		}
		c.closeSockets()
	})
}

// abandon closes the sockets of a kernel declared dead and drops the client
// messages held for it, because no process is left to reply to them. Until the next
// connect, client messages are dropped and a new client gets status dead.
func (c *channels) abandon() {
	c.call(func() {
		c.closeSockets()
		c.dead = true
		if len(c.pending) > 0 {
			c.log.Warn("client messages dropped, because the kernel is dead", "count", len(c.pending))
		}
		c.pending = nil
	})
}

func (c *channels) openSockets(info ConnectionInfo) error {
	ports := [4]int{info.ShellPort, info.ControlPort, info.StdinPort, info.IOPubPort}
	for i := range c.socks {
		typ := zmqDealer
		if i == sockIOPub {
			typ = zmqSub
		}
		s, err := c.zctx.socket(typ)
		if err != nil {
			return err
		}
		z, err := c.addSocket(s, sockChannels[i])
		if err != nil {
			s.close()
			return err
		}
		c.socks[i] = z
		if err := s.setInt(zmqLinger, 0); err != nil {
			return err
		}
		// The sockets usually connect before the kernel listens; libzmq's
		// default of 100 ms between attempts would add that much to
		// every start on loopback.
		if err := s.setInt(zmqReconnectIvl, int(reconnectInterval/time.Millisecond)); err != nil {
			return err
		}
		if typ == zmqSub {
			err = s.setBytes(zmqSubscribe, nil)
		} else {
			// stdin must share the shell identity: the kernel sends
			// input_request to the identity of the shell request.
			err = s.setBytes(zmqRoutingID, []byte(c.session))
		}
		if err == nil && i == sockStdin {
			err = c.monitorStdin(s)
		}
		if err != nil {
			return err
		}
		if err := s.connect(info.endpoint(ports[i])); err != nil {
			return err
		}
	}
	c.sign = newSigner(info.Key)
	c.guard = newReplayGuard()
	return nil
}

func (c *channels) closeSockets() {
	for i, z := range c.socks {
		if z != nil {
			c.closeSocket(z)
			c.socks[i] = nil
		}
	}
	// Closed after the stdin socket, whose close ends the monitor.
	if c.stdinEvents != nil {
		c.closeSocket(c.stdinEvents)
		c.stdinEvents = nil
	}
	for _, z := range c.backlog {
		z.backlogged = false
	}
	c.backlog = c.backlog[:0]
	c.ready = false
	c.nudge = nil
	c.routes.reset()
}

// monitorStdin has the handshake of the stdin socket s reported on
// c.stdinEvents. It must be called before s connects.
//
// The kernel sends input_request on a ROUTER socket to the identity of the
// shell request, and a ROUTER drops a message for an identity that has no
// connection. So the channels wait for stdin to connect before they are
// ready, or an input() in the first request could wait for a prompt that was
// lost.
func (c *channels) monitorStdin(s *zmqSocket) error {
	c.monitors++
	addr := fmt.Sprintf("inproc://kernel-stdin-monitor-%s-%d", c.session, c.monitors)
	if err := s.monitor(addr, zmqEventHandshakeSucceeded); err != nil {
		return fmt.Errorf("monitoring the stdin socket: %w", err)
	}
	events, err := c.zctx.socket(zmqPair)
	if err != nil {
		return err
	}
	z, err := c.addSocket(events, "stdin monitor")
	if err != nil {
		events.close()
		return err
	}
	c.stdinEvents = z
	if err := events.setInt(zmqLinger, 0); err != nil {
		return err
	}
	return events.connect(addr)
}

// readStdinEvents reads the events of the stdin monitor until the
// handshake.
func (c *channels) readStdinEvents() {
	for {
		msgs, err := c.stdinEvents.s.receive()
		for _, frames := range msgs {
			event, err := monitorEvent(frames)
			if err != nil {
				c.log.Warn("reading the stdin socket monitor", "err", err)
				continue
			}
			if event == zmqEventHandshakeSucceeded {
				c.stdinConnected()
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// stdinConnected stops the stdin monitor and marks stdin connected for the
// nudge.
func (c *channels) stdinConnected() {
	if err := c.socks[sockStdin].s.monitor("", 0); err != nil {
		c.log.Warn("stopping the stdin socket monitor", "err", err)
	}
	c.closeSocket(c.stdinEvents)
	c.stdinEvents = nil
	if c.nudge != nil {
		c.nudge.stdin = true
		c.checkNudge()
	}
}

// service reads z, which signalled or was called.
func (c *channels) service(z *zsock) {
	if z.closed {
		return
	}
	if z == c.stdinEvents {
		c.readStdinEvents()
		return
	}
	if !c.receiveFrom(z, recvBatch) {
		c.addBacklog(z)
	}
}

// addBacklog marks z to be read before anyone waits: after a call into
// libzmq, when it signalled, or when it had more than one batch waiting.
func (c *channels) addBacklog(z *zsock) {
	if !z.backlogged {
		z.backlogged = true
		c.backlog = append(c.backlog, z)
	}
}

// serviceBacklog gives every socket of the backlog a batch, in two rounds
// at most, so that a socket a handler called in the first round is read in
// the second. What is left is run's to read.
func (c *channels) serviceBacklog() {
	for range 2 {
		if len(c.backlog) == 0 {
			return
		}
		backlog := c.backlog
		c.backlog = nil
		for _, z := range backlog {
			z.backlogged = false
			c.service(z)
		}
	}
}

// receiveFrom handles the messages waiting on z, about limit of them at
// most, and reports whether it read them all. Only then has libzmq nothing
// left that ZMQ_FD would not signal again.
func (c *channels) receiveFrom(z *zsock, limit int) bool {
	for n := 0; n < limit; {
		msgs, err := z.s.receive()
		for _, frames := range msgs {
			c.handle(z.channel, frames)
			if z.closed {
				// A handler closed the sockets.
				return true
			}
		}
		n += len(msgs)
		if err != nil {
			if !errors.Is(err, errAgain) {
				c.log.Warn("reading kernel socket", "channel", z.channel, "err", err)
			}
			return true
		}
	}
	return false
}

func (c *channels) handle(channel string, frames [][]byte) {
	m, sig, err := parseWire(frames, c.sign)
	if err == nil && c.guard.duplicate(sig) {
		err = errors.New("duplicate signature")
	}
	if err != nil {
		c.logDrop(channel, err)
		return
	}
	m.Channel = channel
	if channel == channelIOPub {
		c.onIOPub(m)
		return
	}
	c.onReply(m)
}

func (c *channels) logDrop(channel string, err error) {
	if ok, suppressed := c.dropLog.allow(time.Now()); ok {
		c.log.Warn("kernel message dropped", "channel", channel, "err", err,
			"dropped_since_last_log", suppressed)
	}
}

func (c *channels) onIOPub(m *Message) {
	now := time.Now()
	state := ""
	if m.MsgType == "status" {
		state = executionState(m.Content)
	}
	if c.nudge != nil {
		c.nudge.iopub = true
		c.checkNudge()
	}
	if c.ready {
		if m.MsgType == "status" {
			c.obs.statusChanged(state, m.ParentType)
		}
		if !untrackedParents[m.ParentType] {
			c.obs.activity(now)
		}
	}
	for _, cl := range c.clients {
		pass, notice := cl.limiter.check(now, m, state)
		if notice != "" {
			c.push(cl, stderrNotice(c.session, m.Parent, notice), false)
		}
		if pass {
			c.push(cl, m, m.MsgType != "status")
		}
	}
}

// untrackedParents are the request types whose output is not user activity:
// the server's own nudges and the requests frontends send on their own.
var untrackedParents = map[string]bool{
	"kernel_info_request": true,
	"comm_info_request":   true,
	"shutdown_request":    true,
	"interrupt_request":   true,
	"debug_request":       true,
}

// executionState returns the execution_state of a status content.
func executionState(content []byte) string {
	var c struct {
		ExecutionState string `json:"execution_state"`
	}
	_ = json.Unmarshal(content, &c)
	return c.ExecutionState
}

func (c *channels) onReply(m *Message) {
	r, ok := c.routes.get(m.ParentID)
	if ok && m.Channel != channelStdin && isReply(m.MsgType) {
		c.routes.remove(m.ParentID)
	}
	if ok && r.internal != nil {
		r.internal(m)
		return
	}
	cl := r.client
	if cl == nil || cl.removed() {
		cl = c.clients[m.ParentSession]
	}
	if cl == nil {
		c.log.Debug("kernel reply without a client", "channel", m.Channel,
			"msg_type", m.MsgType, "parent_msg_id", m.ParentID)
		return
	}
	c.push(cl, m, false)
}

// nudgeDelay returns the wait after the given nudge attempt. It is short at
// first, because a kernel that just started replies within a few hundred
// milliseconds, and then nudgeInterval.
func nudgeDelay(attempt int) time.Duration {
	d := firstNudgeDelay << min(attempt-1, 4)
	return min(d, nudgeInterval)
}

// maybeNudge sends the next kernel_info_request of the nudge when it is due.
func (c *channels) maybeNudge(now time.Time) {
	n := c.nudge
	if n == nil || now.Before(n.next) {
		return
	}
	if !n.stdinDeadline.IsZero() {
		c.log.Warn("kernel stdin socket not connected, so input_request messages may be lost",
			"waited", c.stdinWait)
		c.becomeReady()
		return
	}
	n.attempts++
	n.next = now.Add(nudgeDelay(n.attempts))
	if n.attempts%20 == 0 {
		c.log.Warn("no kernel_info_reply from kernel yet", "attempts", n.attempts)
	}
	c.request(sockShell, "kernel_info_request", struct{}{}, func(m *Message) {
		if c.nudge == n && m.MsgType == "kernel_info_reply" {
			n.replied = true
			c.checkNudge()
		}
	})
}

// checkNudge makes the channels ready once the kernel has replied on shell
// and published on IOPub, and its stdin socket has connected. A kernel that
// has replied gets stdinWait for that connection, and no more nudges.
func (c *channels) checkNudge() {
	n := c.nudge
	if n == nil || !n.replied || !n.iopub {
		return
	}
	if !n.stdin {
		if n.stdinDeadline.IsZero() {
			n.stdinDeadline = time.Now().Add(c.stdinWait)
			n.next = n.stdinDeadline
		}
		return
	}
	c.becomeReady()
}

// becomeReady ends the nudge and sends the client messages held until now.
func (c *channels) becomeReady() {
	c.nudge = nil
	c.ready = true
	// The kernel's state must be idle before a waiter on readyCh reads it.
	c.obs.ready()
	close(c.readyCh)
	pending := c.pending
	c.pending = nil
	for _, o := range pending {
		if !o.from.removed() {
			c.forward(o.from, o.msg)
		}
	}
}

// request sends a message of the server's own on socket i; onReply, when
// not nil, receives its reply.
func (c *channels) request(i int, msgType string, content any, onReply func(*Message)) {
	z := c.socks[i]
	if z == nil {
		return
	}
	m := newMessage(sockChannels[i], msgType, c.session, nil, content)
	if onReply != nil {
		c.routes.add(m.MsgID, route{internal: onReply})
	}
	c.sendFrames(z, m)
}

// sendFrames sends m on z. A send can consume the signal of ZMQ_FD, so z is
// read again before the lock is released.
func (c *channels) sendFrames(z *zsock, m *Message) {
	if err := z.s.send(wireFrames(m, c.sign)); err != nil {
		c.logDrop(m.Channel, err)
	}
	c.addBacklog(z)
}

// forward sends a client's message to the kernel.
func (c *channels) forward(cl *client, m *Message) {
	i := channelSocket(m.Channel)
	if i < 0 || c.socks[i] == nil {
		c.logDrop(m.Channel, errors.New("no socket for this channel"))
		return
	}
	if i != sockStdin && m.MsgID != "" && isRequest(m.MsgType) {
		c.routes.add(m.MsgID, route{client: cl})
	}
	c.sendFrames(c.socks[i], m)
}

// channelSocket returns the socket index for a client channel, or -1.
func channelSocket(channel string) int {
	switch channel {
	case channelShell:
		return sockShell
	case channelControl:
		return sockControl
	case channelStdin:
		return sockStdin
	}
	return -1
}

// send sends a client's message to the kernel on the caller's goroutine, or
// holds it until the channels are ready. It reports false once the channels
// are closed.
func (c *channels) send(cl *client, m *Message) bool {
	return c.call(func() {
		if cl.removed() {
			return
		}
		if c.ready {
			c.forward(cl, m)
			return
		}
		if c.dead {
			c.logDrop(m.Channel, errors.New("the kernel is dead; restart it first"))
			return
		}
		if len(c.pending) >= maxPending {
			c.logDrop(m.Channel, errors.New("too many messages waiting for the kernel to start"))
			return
		}
		c.pending = append(c.pending, outgoing{from: cl, msg: m})
	})
}

// sendOwn sends a message of the server's own on control or shell, without
// waiting for readiness, and ignores the reply.
func (c *channels) sendOwn(channel, msgType string, content any) {
	c.call(func() { c.request(channelSocket(channel), msgType, content, func(*Message) {}) })
}

// status returns a synthesized IOPub status message.
func (c *channels) status(state string) *Message {
	return newMessage(channelIOPub, "status", c.session, nil,
		map[string]string{"execution_state": state})
}
