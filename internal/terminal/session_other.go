//go:build !linux

package terminal

import (
	"syscall"
)

// Supported reports whether terminals run on this system. They need
// Linux's waitid(2) and /proc to end a terminal's whole session safely.
const Supported = false

func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true, Setctty: true}
}

func waitExited(pid int) {}

func sessionProcesses(sid int) []int { return nil }
