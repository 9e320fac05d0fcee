package kernel

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// pollSet is an epoll or kqueue instance of its own, whose descriptor Go's
// netpoller watches. That descriptor becomes readable when a descriptor in
// the set does, so one goroutine can wait for many descriptors in the
// netpoller, without a goroutine per descriptor and without blocking a
// thread. The methods in the files for each operating system (add, remove,
// ready) must not run concurrently with each other.
type pollSet struct {
	fd   int
	file *os.File // fd, registered with the netpoller
	raw  syscall.RawConn
	pollEvents
}

// newPollSetFile registers the set's descriptor fd with the netpoller.
func newPollSetFile(fd int, name string) (*pollSet, error) {
	file := os.NewFile(uintptr(fd), name)
	// SetReadDeadline fails unless NewFile registered the descriptor with
	// the netpoller, which it does for non-blocking descriptors only.
	if err := file.SetReadDeadline(time.Time{}); err != nil {
		file.Close()
		return nil, fmt.Errorf("poll set descriptor %d is not pollable: %w", fd, err)
	}
	raw, err := file.SyscallConn()
	if err != nil {
		file.Close()
		return nil, err
	}
	return &pollSet{fd: fd, file: file, raw: raw}, nil
}

// wait calls fn at once and then each time the set's descriptor signals,
// until fn returns true or the read deadline passes. It returns
// os.ErrDeadlineExceeded in that case, and at once while the deadline is
// in the past.
//
// A new call clears a readiness that arrived after the last one returned,
// because internal/poll resets it in prepareRead (as of Go 1.26). So fn
// must call ready at once rather than rely on a signal.
func (p *pollSet) wait(fn func() bool) error {
	return p.raw.Read(func(uintptr) bool { return fn() })
}

// setDeadline sets the time at which wait returns, and the zero time means
// none. A time in the past ends a wait in progress at once. It is safe to
// call while another goroutine waits.
func (p *pollSet) setDeadline(t time.Time) error {
	return p.file.SetReadDeadline(t)
}

func (p *pollSet) close() error {
	return p.file.Close()
}
