package proxy

import (
	"syscall"
	"unsafe"
)

// peek peeks at the next byte of a socket without blocking. Like the
// reads of socketIO it uses RawSyscall6, because a non-blocking call need
// not give up its P.
func peek(fd uintptr, b []byte) error {
	_, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
