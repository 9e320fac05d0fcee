package kernel

import (
	"errors"
	"os"
	"syscall"
)

// epollET is EPOLLET, which package syscall declares as a negative int.
const epollET = 1 << 31

// pollEvents is the buffer of epoll_wait.
type pollEvents struct {
	events [8]syscall.EpollEvent
}

// newPollSet returns an empty poll set: an epoll instance.
func newPollSet() (*pollSet, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	return newPollSetFile(fd, "kernel-poll")
}

// add adds fd to the set, edge-triggered: ready reports token once each
// time fd becomes readable.
func (p *pollSet) add(fd int, token uint32) error {
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | epollET, Fd: int32(token)}
	return os.NewSyscallError("epoll_ctl", syscall.EpollCtl(p.fd, syscall.EPOLL_CTL_ADD, fd, &ev))
}

// remove removes fd from the set. It must be called before fd is closed.
func (p *pollSet) remove(fd int) error {
	return os.NewSyscallError("epoll_ctl", syscall.EpollCtl(p.fd, syscall.EPOLL_CTL_DEL, fd, nil))
}

// ready appends to tokens the tokens of the descriptors that became
// readable since the last call, without waiting.
func (p *pollSet) ready(tokens []uint32) ([]uint32, error) {
	for {
		n, err := syscall.EpollWait(p.fd, p.events[:], 0)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return tokens, os.NewSyscallError("epoll_wait", err)
		}
		for _, ev := range p.events[:n] {
			tokens = append(tokens, uint32(ev.Fd))
		}
		if n < len(p.events) {
			return tokens, nil
		}
	}
}
