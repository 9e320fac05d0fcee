// Package sysaccount makes and removes the system accounts that tests of
// servers running as other users need, and reads processes from /proc.
// Adding an account needs root.
package sysaccount

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// NewName returns an account name for a test: "jgtest" and 8 hex digits.
func NewName() string {
	b := make([]byte, 4)
	rand.Read(b)
	return "jgtest" + hex.EncodeToString(b)
}

// Add creates the account name with a home folder, which RemoveAtCleanup
// deletes at the end of t, and returns it.
func Add(t *testing.T, name string) *user.User {
	t.Helper()
	RemoveAtCleanup(t, name)
	cmd := exec.Command("useradd", "-m", name)
	cmd.Env = withSbin(os.Environ())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("useradd -m %s: %v\n%s", name, err, out)
	}
	account, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("looking up the new account %s: %v", name, err)
	}
	return account
}

// withSbin adds the sbin folders, where the account commands are, to the
// PATH of env.
func withSbin(env []string) []string {
	return append(env, "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
}

// SharedBinary copies bin into a new folder that every account may enter
// and returns the copy, which servers running as those accounts execute.
func SharedBinary(t *testing.T, bin string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "jupygo-system-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	copyPath := filepath.Join(dir, filepath.Base(bin))
	out, err := os.OpenFile(copyPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return copyPath
}

// RemoveAtCleanup deletes the account name at the end of t, if it exists
// then, with its processes and its home folder.
func RemoveAtCleanup(t *testing.T, name string) {
	t.Helper()
	t.Cleanup(func() {
		account, err := user.Lookup(name)
		if errors.As(err, new(user.UnknownUserError)) {
			return
		}
		if err != nil {
			t.Errorf("looking up test account %s to delete it: %v", name, err)
			return
		}
		KillProcessesOf(t, account.Uid)
		cmd := exec.Command("userdel", "-r", name)
		if _, err := os.Stat("/etc/adduser.conf"); err == nil {
			cmd = exec.Command("deluser", "--remove-home", name)
		}
		cmd.Env = withSbin(os.Environ())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("deleting test account %s: %v\n%s", name, err, out)
		}
		if _, err := os.Stat(account.HomeDir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("home folder %s of test account %s is left: %v", account.HomeDir, name, err)
			os.RemoveAll(account.HomeDir)
		}
	})
}

// KillProcessesOf kills every process whose real uid is uid and waits
// until only zombies are left.
func KillProcessesOf(t *testing.T, uid string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var left []int
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err == nil && !Gone(pid) && UID(pid) == uid {
				left = append(left, pid)
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes of uid %s still run: %v", uid, left)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// UID returns the real uid of process pid from /proc/PID/status, or ""
// when the process does not exist.
func UID(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(data)) {
		if value, ok := strings.CutPrefix(line, "Uid:"); ok {
			if fields := strings.Fields(value); len(fields) > 0 {
				return fields[0]
			}
		}
	}
	return ""
}

// Gone reports whether pid no longer exists or is a zombie.
func Gone(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, os.ErrNotExist) {
		return true
	}
	fields := strings.Fields(string(data))
	return len(fields) > 2 && fields[2] == "Z"
}
