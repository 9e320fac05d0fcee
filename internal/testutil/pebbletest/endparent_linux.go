package pebbletest

import (
	"os/exec"
	"syscall"
)

// endWithParent makes the kernel kill pebble when the test binary exits,
// as it does when a test times out, so that no pebble outlives its test.
func endWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
