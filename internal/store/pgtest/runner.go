package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
)

// runner runs the PostgreSQL programs as the current user or, when that
// is root, as an unprivileged account.
type runner struct {
	// cred is the account to run as, nil for the current user.
	cred *syscall.Credential
}

// unprivilegedAccounts are the accounts a root test runs PostgreSQL as, in
// order of preference.
var unprivilegedAccounts = []string{"postgres", "nobody"}

// newRunner returns the runner for the current user.
func newRunner() (*runner, error) {
	if os.Geteuid() != 0 {
		return &runner{}, nil
	}
	for _, name := range unprivilegedAccounts {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("account %s: %w", name, err)
		}
		cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
		return &runner{cred: cred}, nil
	}
	return nil, fmt.Errorf("PostgreSQL refuses to run as root, and none of the accounts %v exists "+
		"to run it as", unprivilegedAccounts)
}

// command returns a command that runs as the runner's account, with PATH
// and LC_ALL=C.UTF-8 as its whole environment, so that no PG* variable of
// the test's environment changes the server.
func (r *runner) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C.UTF-8"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.cred}
	endWithParent(cmd.SysProcAttr)
	return cmd
}

// own gives path to the runner's account.
func (r *runner) own(path string) error {
	if r.cred == nil {
		return nil
	}
	return os.Chown(path, int(r.cred.Uid), int(r.cred.Gid))
}
