//go:build !linux

package kernel

import "syscall"

// sysProcAttr starts a kernel in a new session, so it leads its own process
// group.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true}
}

// waitExited reports false: without waitid(2) the process group is killed
// only after Wait has reaped the kernel.
func waitExited(pid int) bool { return false }
