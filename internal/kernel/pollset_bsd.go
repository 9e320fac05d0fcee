//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package kernel

import (
	"errors"
	"os"
	"syscall"
)

// NOTE: the tests run on Linux, which uses epoll; this kqueue version is
// only compiled there.

// pollEvents is the buffer of kevent and the token of each descriptor.
type pollEvents struct {
	events [8]syscall.Kevent_t
	tokens map[int]uint32
}

// newPollSet returns an empty poll set: a kqueue, which a child process
// does not inherit.
func newPollSet() (*pollSet, error) {
	fd, err := syscall.Kqueue()
	if err != nil {
		return nil, os.NewSyscallError("kqueue", err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	p, err := newPollSetFile(fd, "kernel-poll")
	if err != nil {
		return nil, err
	}
	p.tokens = make(map[int]uint32)
	return p, nil
}

// add adds fd to the set, edge-triggered (EV_CLEAR): ready reports token
// once each time fd becomes readable.
func (p *pollSet) add(fd int, token uint32) error {
	if err := p.change(fd, syscall.EV_ADD|syscall.EV_CLEAR); err != nil {
		return err
	}
	p.tokens[fd] = token
	return nil
}

// remove removes fd from the set. It must be called before fd is closed.
func (p *pollSet) remove(fd int) error {
	delete(p.tokens, fd)
	return p.change(fd, syscall.EV_DELETE)
}

func (p *pollSet) change(fd, flags int) error {
	var ev [1]syscall.Kevent_t
	syscall.SetKevent(&ev[0], fd, syscall.EVFILT_READ, flags)
	_, err := syscall.Kevent(p.fd, ev[:], nil, nil)
	return os.NewSyscallError("kevent", err)
}

// ready appends to tokens the tokens of the descriptors that became
// readable since the last call, without waiting.
func (p *pollSet) ready(tokens []uint32) ([]uint32, error) {
	for {
		n, err := syscall.Kevent(p.fd, nil, p.events[:], &syscall.Timespec{})
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return tokens, os.NewSyscallError("kevent", err)
		}
		for _, ev := range p.events[:n] {
			if token, ok := p.tokens[int(ev.Ident)]; ok {
				tokens = append(tokens, token)
			}
		}
		if n < len(p.events) {
			return tokens, nil
		}
	}
}
