package pgtest

import "syscall"

// endWithParent makes Linux send SIGQUIT, PostgreSQL's immediate
// shutdown, to the process when the test binary exits, as it does when a
// test times out, so that no server outlives its test. The folder of such
// a server stays behind.
func endWithParent(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGQUIT
}
