//go:build darwin || freebsd || netbsd || openbsd

package proxy

import "syscall"

// peek peeks at the next byte of a socket without blocking.
func peek(fd uintptr, b []byte) error {
	_, _, err := syscall.Recvfrom(int(fd), b, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err
}
