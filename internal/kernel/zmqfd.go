package kernel

import "fmt"

// zsock is one ZeroMQ socket of the channels, waited for in Go's netpoller
// rather than in zmq_poll.
//
// A goroutine blocked in a cgo call such as zmq_poll keeps the Go scheduler's
// sysmon thread waking every 20 µs to take its P back. In bench/server.sh,
// on a shared 2-core machine, that was about a third of the server's CPU
// time per 1+1 round trip (0.90 to 1.45 ms before, 0.70 to 0.85 ms after).
// So the ZMQ_FD of every socket of a kernel is in the channels' poll set,
// and the channels goroutine waits for that set in the netpoller. It reads
// the sockets that signal itself, with no hand-off to another goroutine.
//
// ZMQ_FD is edge-triggered: it signals when commands reach the socket, and
// libzmq drains it in any call on the socket, a send included. So after
// every call a socket is read until EAGAIN before anyone waits again (see
// channels.settle).
type zsock struct {
	s       *zmqSocket
	channel string
	fd      int    // ZMQ_FD, owned by libzmq
	token   uint32 // the socket's token in the poll set

	closed     bool
	backlogged bool // in channels.backlog
}

// addSocket wraps s and adds its ZMQ_FD to the poll set. The socket is
// read once before the first wait, for the messages queued before it was
// in the set. The caller holds c.mu and must close the zsock.
func (c *channels) addSocket(s *zmqSocket, channel string) (*zsock, error) {
	fd, err := s.fd()
	if err != nil {
		return nil, fmt.Errorf("reading ZMQ_FD of the %s socket: %w", channel, err)
	}
	c.tokens++
	z := &zsock{s: s, channel: channel, fd: fd, token: c.tokens}
	if err := c.poll.add(fd, z.token); err != nil {
		return nil, fmt.Errorf("watching the %s socket: %w", channel, err)
	}
	c.polled[z.token] = z
	c.addBacklog(z)
	return z, nil
}

// closeSocket removes z from the poll set and closes the socket. The
// caller holds c.mu.
func (c *channels) closeSocket(z *zsock) {
	if z.closed {
		return
	}
	z.closed = true
	delete(c.polled, z.token)
	// Before zmq_close, after which libzmq closes the descriptor.
	if err := c.poll.remove(z.fd); err != nil {
		c.log.Warn("removing a kernel socket from the poll set", "channel", z.channel, "err", err)
	}
	if err := z.s.close(); err != nil {
		c.log.Warn("closing a kernel socket", "channel", z.channel, "err", err)
	}
}
