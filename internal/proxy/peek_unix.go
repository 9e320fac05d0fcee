//go:build linux || darwin || freebsd || netbsd || openbsd

package proxy

import "syscall"

// isOpen reports whether an idle connection is still open: it has nothing
// to read, neither data nor the end of the stream, and no error pending.
// It peeks without blocking, in one system call.
func isOpen(raw syscall.RawConn) bool {
	var b [1]byte
	open := false
	err := raw.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		open = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
		return true
	})
	return err == nil && open
}
