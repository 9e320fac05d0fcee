package proxy

import (
	"net"
	"syscall"
)

// socket is a TCP connection of the fast path. Its Read and Write do the
// hot reads and writes: on Linux they make the system call without
// entering the Go scheduler's system-call state, and on other systems
// they are the connection's own Read and Write. Deadlines, Close and the
// other methods stay on conn.
type socket struct {
	conn *net.TCPConn
	raw  syscall.RawConn
	io   socketIO
}

// newSocket wraps c. SyscallConn fails only for a nil connection, and
// then Read and Write use c's own methods, which report the error.
func newSocket(c *net.TCPConn) *socket {
	s := &socket{conn: c}
	s.raw, _ = c.SyscallConn()
	s.io.init()
	return s
}
