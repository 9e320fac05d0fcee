//go:build linux || darwin || freebsd || netbsd || openbsd

package proxy

import "syscall"

// idleCheck checks an idle connection without blocking. Its fields are
// scratch space for isOpen, so that a check allocates nothing.
type idleCheck struct {
	raw  syscall.RawConn
	peek func(fd uintptr) bool // peekFD, bound once
	buf  [1]byte
	open bool
}

func (c *idleCheck) init(raw syscall.RawConn) {
	c.raw = raw
	c.peek = c.peekFD
}

// isOpen reports whether an idle connection is still open: it has nothing
// to read, neither data nor the end of the stream, and no error pending.
// It peeks without blocking, in one system call.
func (c *idleCheck) isOpen() bool {
	c.open = false
	err := c.raw.Read(c.peek)
	return err == nil && c.open
}

func (c *idleCheck) peekFD(fd uintptr) bool {
	err := peek(fd, c.buf[:])
	c.open = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
	return true
}
