package spawn

import (
	"os"

	"golang.org/x/sys/unix"
)

// awaitExit blocks until the process pid has exited. It waits in Go's
// network poller on a pidfd, so that the reaper of a running server holds
// no OS thread, as exec.Cmd.Wait alone would hold one in waitid. It
// returns false when it cannot wait on a pidfd (before Linux 5.10), and
// the caller then waits in Wait. The caller still reaps the process.
func awaitExit(pid int) bool {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	conn, err := f.SyscallConn()
	if err != nil {
		return false
	}
	// A pidfd becomes readable when its process exits. A poll with a zero
	// timeout checks that, and until then Read waits in the poller. Any
	// error ends the wait here, and the caller's Wait then blocks.
	err = conn.Read(func(fd uintptr) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		return err != nil || n > 0
	})
	return err == nil
}
