//go:build !linux

package pgtest

import "syscall"

// endWithParent does nothing where the kernel cannot signal a child when
// its parent exits. A server of a test that times out keeps running there.
func endWithParent(*syscall.SysProcAttr) {}
