package proxy

import (
	"io"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// socketIO reads and writes a non-blocking socket through RawConn with
// syscall.RawSyscall. A read or write of a non-blocking socket returns at
// once, so it need not give up its P as a blocking call must. The usual
// entersyscall/exitsyscall pair made the scheduler's monitor wake every
// 20 µs under load to hand P's of such short calls to other threads,
// which cost the proxy about a tenth of its CPU time (perf, bench/hub.sh,
// 2-core VM). When the socket has nothing to read or no room to write,
// RawConn waits in the netpoller as a Read or Write of the connection
// does, and applies its deadlines.
type socketIO struct {
	rd, wr  socketOp
	readFn  func(fd uintptr) bool
	writeFn func(fd uintptr) bool
}

// socketOp is the state of one read or write in progress. Its mutex keeps
// two goroutines from sharing it, though the proxy has only one reader
// and one writer of a socket at a time.
type socketOp struct {
	mu    sync.Mutex
	buf   []byte
	n     int
	errno syscall.Errno
}

func (s *socketIO) init() {
	s.readFn = s.read
	s.writeFn = s.write
}

func (s *socket) Read(p []byte) (int, error) {
	if len(p) == 0 || s.raw == nil {
		return s.conn.Read(p)
	}
	n, errno, err := s.transfer(&s.io.rd, p, false)
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, os.NewSyscallError("read", errno)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (s *socket) Write(p []byte) (int, error) {
	if len(p) == 0 || s.raw == nil {
		return s.conn.Write(p)
	}
	n, errno, err := s.transfer(&s.io.wr, p, true)
	switch {
	case err != nil:
		return n, err
	case errno != 0:
		return n, os.NewSyscallError("write", errno)
	}
	return n, nil
}

// transfer runs one read or write of p through RawConn and returns the
// bytes moved and the error of the system call or of RawConn.
func (s *socket) transfer(op *socketOp, p []byte, write bool) (int, syscall.Errno, error) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.buf, op.n, op.errno = p, 0, 0
	var err error
	if write {
		err = s.raw.Write(s.io.writeFn)
	} else {
		err = s.raw.Read(s.io.readFn)
	}
	n, errno := op.n, op.errno
	op.buf = nil
	return n, errno, err
}

// read makes one read. It returns false to wait in the netpoller when
// the socket has nothing to read.
func (s *socketIO) read(fd uintptr) bool {
	op := &s.rd
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd,
			uintptr(unsafe.Pointer(&op.buf[0])), uintptr(len(op.buf)))
		switch errno {
		case 0:
			op.n = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		op.errno = errno
		return true
	}
}

// write writes until the whole buffer is written or an error occurs. It
// returns false to wait in the netpoller when the socket buffer is full.
func (s *socketIO) write(fd uintptr) bool {
	op := &s.wr
	for op.n < len(op.buf) {
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd,
			uintptr(unsafe.Pointer(&op.buf[op.n])), uintptr(len(op.buf)-op.n))
		switch errno {
		case 0:
			op.n += int(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			op.errno = errno
			return true
		}
	}
	return true
}
