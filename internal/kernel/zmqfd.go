package kernel

import (
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// zsock is one ZeroMQ socket of the channels, waited for in Go's netpoller
// rather than in zmq_poll.
//
// A goroutine blocked in a cgo call such as zmq_poll keeps the Go scheduler's
// sysmon thread waking every 20 µs to take its P back. In bench/server.sh,
// on a shared 2-core machine, that was about a third of the server's CPU
// time per 1+1 round trip (0.90 to 1.45 ms before, 0.70 to 0.85 ms after).
// So each socket gets a small goroutine that waits for the socket's ZMQ_FD to
// become readable and then hands the socket to the channels goroutine, which
// alone calls into libzmq.
//
// ZMQ_FD is edge-triggered: it signals when commands reach the socket, and
// libzmq drains it in any call on the socket, a send included. So after
// every call the channels goroutine reads the socket until EAGAIN before it
// waits again (see channels.service).
type zsock struct {
	s       *zmq.Socket
	channel string

	fd      *os.File      // a duplicate of ZMQ_FD, registered with the netpoller
	pending atomic.Bool   // handed to the channels goroutine and not yet serviced
	stop    chan struct{} // closed to stop watch
	done    chan struct{} // closed when watch returns

	// Owned by the channels goroutine.
	closed     bool
	backlogged bool // in channels.backlog
}

// newZsock wraps s and starts the goroutine that hands it to readable
// whenever its ZMQ_FD signals. The caller must close the zsock.
func newZsock(s *zmq.Socket, channel string, readable chan<- *zsock) (*zsock, error) {
	fd, err := s.GetFd()
	if err != nil {
		return nil, fmt.Errorf("reading ZMQ_FD of the %s socket: %w", channel, err)
	}
	file, err := pollableDup(fd, "zmq-"+channel)
	if err != nil {
		return nil, fmt.Errorf("watching the %s socket: %w", channel, err)
	}
	z := &zsock{
		s: s, channel: channel, fd: file,
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go z.watch(readable)
	return z, nil
}

// pollableDup returns a duplicate of fd registered with the netpoller. The
// duplicate leaves libzmq's descriptor open when it is closed, and it is
// close-on-exec, so kernel processes do not inherit it.
func pollableDup(fd int, name string) (*os.File, error) {
	dup, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return nil, os.NewSyscallError("fcntl", errno)
	}
	file := os.NewFile(dup, name)
	// SetReadDeadline fails unless NewFile registered the descriptor with
	// the netpoller, which it does for non-blocking descriptors only.
	if err := file.SetReadDeadline(time.Time{}); err != nil {
		file.Close()
		return nil, fmt.Errorf("descriptor %d is not pollable: %w", fd, err)
	}
	return file, nil
}

// watch hands z to readable each time its ZMQ_FD signals, at most once until
// the channels goroutine services it. It returns when z is closed.
//
// It stays in one RawConn.Read, whose callback runs after every wait: a new
// Read would clear a readiness that arrived in between (internal/poll resets
// it in prepareRead, as of Go 1.26), and that wake-up would be lost.
func (z *zsock) watch(readable chan<- *zsock) {
	defer close(z.done)
	raw, err := z.fd.SyscallConn()
	if err != nil {
		return
	}
	// The first call comes before any wait, and hands z over once, so that
	// messages queued before the descriptor was watched are read too.
	// Read returns an error once close has closed the descriptor.
	_ = raw.Read(func(uintptr) bool {
		if !z.pending.CompareAndSwap(false, true) {
			return false
		}
		select {
		case readable <- z:
			return false
		case <-z.stop:
			return true
		}
	})
}

// close stops watch, waits for it and closes the socket. It runs on the
// channels goroutine.
func (z *zsock) close() {
	if z.closed {
		return
	}
	z.closed = true
	close(z.stop)
	z.fd.Close() // a duplicate, so libzmq's descriptor stays open
	<-z.done
	z.s.Close()
}
