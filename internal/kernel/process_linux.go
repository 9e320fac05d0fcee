package kernel

import (
	"syscall"
	"unsafe"
)

// sysProcAttr starts a kernel in a new session, so it leads its own process
// group, and asks Linux to kill it when the server dies.
//
// NOTE: Linux sends Pdeathsig when the OS thread that forked the child ends,
// not the process. Go ends a thread only when a goroutine exits while locked
// to it with runtime.LockOSThread, which no caller of Start does.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
}

// waitExited blocks until the child pid has exited, without reaping it, and
// reports true.
func waitExited(pid int) bool {
	const pPID = 1     // P_PID of waitid(2)
	var info [128]byte // siginfo_t
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&info[0])), syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		if errno != syscall.EINTR {
			return true
		}
	}
}
