package spawn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The tests of this file create real system accounts with unique names
// (jgtest followed by hex digits) through the real add_user_cmd and run
// servers as them. Each test deletes its accounts, their homes and their
// processes at its end, failed or not.

// homeFileName is the file that the write-home helper writes in $HOME.
const homeFileName = "written-by-server.txt"

// otherUserVar names the account that the own-hub helper tries to run a
// server as, which it must not.
const otherUserVar = "SPAWN_TEST_OTHER_USER"

// requireRoot skips t unless the tests run as root.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: creating system accounts and running servers as them needs root " +
			"(CI runs the tests as root)")
	}
}

var (
	helperCopyOnce sync.Once
	helperCopy     string
	helperCopyErr  error
)

// sharedHelper returns a copy of the test binary that every account may
// run: the one go test builds lies in a folder only root may enter.
func sharedHelper(t testing.TB) string {
	t.Helper()
	helperCopyOnce.Do(func() {
		exe, err := os.Executable()
		if err != nil {
			helperCopyErr = err
			return
		}
		helperCopy = filepath.Join(filepath.Dir(jupygoBinary), "spawn-helper")
		helperCopyErr = copyExecutable(exe, helperCopy)
	})
	if helperCopyErr != nil {
		t.Fatalf("copying the test binary for other accounts: %v", helperCopyErr)
	}
	return helperCopy
}

func copyExecutable(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// newAccountName returns a system account name that no account has.
func newAccountName(t testing.TB) string {
	t.Helper()
	for range 10 {
		name := "jgtest" + randomHex(4)
		if _, err := user.Lookup(name); err != nil {
			return name
		}
	}
	t.Fatal("no free jgtest account name found")
	return ""
}

// removeAccountAtCleanup deletes the account name, if it exists at the end
// of t, with its processes and its home folder.
func removeAccountAtCleanup(t testing.TB, name string) {
	t.Helper()
	t.Cleanup(func() {
		a, err := lookupAccount(name)
		if errors.Is(err, errNoAccount) {
			return
		}
		if err != nil {
			t.Errorf("looking up test account %s to delete it: %v", name, err)
			return
		}
		killAccountProcesses(t, a.uid)
		var cmd *exec.Cmd
		if _, err := os.Stat(adduserConfPath); err == nil {
			cmd = exec.Command("deluser", "--remove-home", name)
		} else {
			cmd = exec.Command("userdel", "-r", name)
		}
		cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("deleting test account %s: %v\n%s", name, err, out)
		}
		if _, err := os.Stat(a.home); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("home folder %s of test account %s is left: %v", a.home, name, err)
			os.RemoveAll(a.home)
		}
	})
}

// killAccountProcesses kills every process of uid and waits until none is
// left but zombies.
func killAccountProcesses(t testing.TB, uid uint32) {
	t.Helper()
	for _, pid := range accountProcesses(uid) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	waitFor(t, fmt.Sprintf("the processes of uid %d to end", uid), func() bool {
		return len(accountProcesses(uid)) == 0
	})
}

// accountProcesses returns the live processes whose real uid is uid.
func accountProcesses(uid uint32) []int {
	return liveProcesses(func(pid int, _ procStat) bool {
		status, err := readProcStatus(pid)
		return err == nil && len(status["Uid"]) > 0 && status["Uid"][0] == strconv.Itoa(int(uid))
	})
}

// readProcStatus returns the fields of each line of /proc/PID/status.
func readProcStatus(pid int) (map[string][]string, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil, err
	}
	status := map[string][]string{}
	for line := range strings.Lines(string(data)) {
		key, value, ok := strings.Cut(line, ":")
		if ok {
			status[key] = strings.Fields(value)
		}
	}
	return status, nil
}

// createTestAccount creates a new account with the default add_user_cmd
// and arranges for its deletion.
func createTestAccount(t testing.TB) account {
	t.Helper()
	name := newAccountName(t)
	removeAccountAtCleanup(t, name)
	if err := runAddUser(t.Context(), addUserArgv(DefaultAddUserCmd(), name)); err != nil {
		t.Fatal(err)
	}
	a, err := lookupAccount(name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// addTestGroup creates a new group, adds a to it and returns its gid. The
// group is deleted at the end of t.
func addTestGroup(t *testing.T, a account) uint32 {
	t.Helper()
	name := "jgtestg" + randomHex(4)
	path := os.Getenv("PATH") + ":/usr/sbin:/sbin"
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "PATH="+path)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%q: %v\n%s", args, err, out)
		}
	}
	run("groupadd", name)
	t.Cleanup(func() {
		cmd := exec.Command("groupdel", name)
		cmd.Env = append(os.Environ(), "PATH="+path)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("deleting test group %s: %v\n%s", name, err, out)
		}
	})
	run("usermod", "-a", "-G", name, a.name)
	g, err := user.LookupGroup(name)
	if err != nil {
		t.Fatal(err)
	}
	gid, _ := strconv.ParseUint(g.Gid, 10, 32)
	return uint32(gid)
}

// newLocalProcess returns a spawner with the recorder of its log.
func newLocalProcess() (*LocalProcess, *logRecorder) {
	rec := newLogRecorder()
	return &LocalProcess{Log: slog.New(rec)}, rec
}

// accountRequest returns a request that starts the shared test binary in
// mode as a's server.
func accountRequest(t testing.TB, name, mode string) Request {
	t.Helper()
	return Request{
		User:   name,
		Cmd:    []string{sharedHelper(t)},
		Env:    map[string]string{helperModeVar: mode, runMarkerVar: runMarker},
		Prefix: "/user/" + name + "/",
	}
}

// startAccountServer starts r with l as startServer does and returns the
// server's state too.
func startAccountServer(t *testing.T, l *LocalProcess, r Request) (Started, processState) {
	t.Helper()
	started := startServer(t, l, r)
	return started, mustState(t, started.State)
}

// checkFileOwner fails t unless path belongs to a and has mode perm.
func checkFileOwner(t *testing.T, path string, a account, perm os.FileMode) {
	t.Helper()
	info, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := info.Sys().(*syscall.Stat_t)
	if st.Uid != a.uid || st.Gid != a.gid {
		t.Errorf("%s belongs to %d:%d, want %s's %d:%d", path, st.Uid, st.Gid, a.name, a.uid, a.gid)
	}
	if got := info.Mode().Perm(); got != perm {
		t.Errorf("%s has mode %#o, want %#o", path, got, perm)
	}
}

func TestLocalProcessRunsAsAccount(t *testing.T) {
	requireRoot(t)
	t.Setenv("PATH", os.Getenv("PATH")+"::relative/bin")
	a := createTestAccount(t)
	extra := addTestGroup(t, a)
	l, _ := newLocalProcess()
	r := accountRequest(t, a.name, helperWriteHome)
	started, st := startAccountServer(t, l, r)

	status, err := readProcStatus(st.PID)
	if err != nil {
		t.Fatal(err)
	}
	uid, gid := strconv.Itoa(int(a.uid)), strconv.Itoa(int(a.gid))
	if want := []string{uid, uid, uid, uid}; !slices.Equal(status["Uid"], want) {
		t.Errorf("server's real, effective, saved and file uids = %v, want %v", status["Uid"], want)
	}
	if want := []string{gid, gid, gid, gid}; !slices.Equal(status["Gid"], want) {
		t.Errorf("server's gids = %v, want %v", status["Gid"], want)
	}
	groups := status["Groups"]
	for _, g := range []uint32{a.gid, extra} {
		if !slices.Contains(groups, strconv.Itoa(int(g))) {
			t.Errorf("server's groups %v lack %d", groups, g)
		}
	}
	if slices.Contains(groups, "0") {
		t.Errorf("server's groups %v contain root's group", groups)
	}
	if got := status["Umask"]; !slices.Equal(got, []string{"0022"}) {
		t.Errorf("server's umask = %v, want 0022", got)
	}
	if cwd, err := os.Readlink("/proc/" + strconv.Itoa(st.PID) + "/cwd"); err != nil || cwd != a.home {
		t.Errorf("server's working folder = %q (%v), want %s", cwd, err, a.home)
	}

	env := serverEnv(t, started, r.Prefix)
	want := map[string]string{
		"HOME": a.home, "USER": a.name, "LOGNAME": a.name, "SHELL": a.shell,
		"JUPYTERHUB_ROOT_DIR": a.home,
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("server's %s = %q, want %q", k, env[k], v)
		}
	}
	if a.shell == "" {
		t.Error("the account has no shell in its passwd entry")
	}
	if _, ok := env[hubSecretVar]; ok {
		t.Errorf("the server got the hub's %s", hubSecretVar)
	}
	for _, dir := range strings.Split(env["PATH"], ":") {
		if !filepath.IsAbs(dir) {
			t.Errorf("server's PATH %q has the relative folder %q", env["PATH"], dir)
		}
	}

	checkFileOwner(t, filepath.Join(a.home, homeFileName), a, 0o644)
	checkFileOwner(t, outputPath(a.home, ""), a, 0o600)

	if err := l.Stop(t.Context(), started.State); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if running, err := l.Poll(t.Context(), started.State); running || err != nil {
		t.Errorf("Poll after Stop = %v, %v; want false, nil", running, err)
	}
}

func TestLocalProcessUmask(t *testing.T) {
	requireRoot(t)
	a := createTestAccount(t)
	mask := 0o077
	l, _ := newLocalProcess()
	l.Umask = &mask
	_, st := startAccountServer(t, l, accountRequest(t, a.name, helperWriteHome))

	status, err := readProcStatus(st.PID)
	if err != nil {
		t.Fatal(err)
	}
	if got := status["Umask"]; !slices.Equal(got, []string{"0077"}) {
		t.Errorf("server's umask = %v, want 0077", got)
	}
	// The shell that set the umask replaced itself with the server.
	if data, err := os.ReadFile("/proc/" + strconv.Itoa(st.PID) + "/cmdline"); err != nil ||
		!bytes.HasPrefix(data, []byte(sharedHelper(t)+"\x00")) {
		t.Errorf("server's command line = %q (%v), want the helper's", data, err)
	}
	checkFileOwner(t, filepath.Join(a.home, homeFileName), a, 0o600)
}

func TestLocalProcessCreatesAccount(t *testing.T) {
	requireRoot(t)
	name := newAccountName(t)
	removeAccountAtCleanup(t, name)
	l, rec := newLocalProcess()
	l.CreateUsers = true
	var events []Event
	started, err := l.Start(t.Context(), accountRequest(t, name, helperServe),
		func(e Event) { events = append(events, e) })
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	st := mustState(t, started.State)
	t.Cleanup(func() { killGroup(t, st) })

	a, err := lookupAccount(name)
	if err != nil {
		t.Fatalf("the account was not created: %v", err)
	}
	if min, _ := defaultMinUID(loginDefsPath); int(a.uid) < min {
		t.Errorf("the new account has uid %d, below %d", a.uid, min)
	}
	status, err := readProcStatus(st.PID)
	if err != nil {
		t.Fatal(err)
	}
	if got := status["Uid"]; len(got) == 0 || got[0] != strconv.Itoa(int(a.uid)) {
		t.Errorf("server's uids = %v, want %d", got, a.uid)
	}
	info, err := os.Stat(a.home)
	if err != nil {
		t.Fatalf("the new account has no home folder: %v", err)
	}
	if owner := info.Sys().(*syscall.Stat_t).Uid; owner != a.uid {
		t.Errorf("home folder %s belongs to uid %d, want %d", a.home, owner, a.uid)
	}
	if rec.find("system account created", map[string]string{"user": name}) == nil {
		t.Errorf("no log record of the new account: %v", rec.messages())
	}
	if !slices.ContainsFunc(events, func(e Event) bool {
		return strings.Contains(e.Message, "Creating the system account "+name)
	}) {
		t.Errorf("no progress event for the new account: %+v", events)
	}

	// A second start finds the account and does not create it again.
	if err := l.Stop(t.Context(), started.State); err != nil {
		t.Fatal(err)
	}
	again, err := l.Start(t.Context(), accountRequest(t, name, helperServe), nil)
	if err != nil {
		t.Fatalf("second Start: %v", err)
	}
	t.Cleanup(func() { killGroup(t, mustState(t, again.State)) })
	if err := l.Stop(t.Context(), again.State); err != nil {
		t.Fatal(err)
	}
}

func TestLocalProcessMissingAccount(t *testing.T) {
	requireRoot(t)
	name := newAccountName(t)
	removeAccountAtCleanup(t, name)
	l, _ := newLocalProcess()
	_, err := l.Start(t.Context(), accountRequest(t, name, helperServe), nil)
	if err == nil || !strings.Contains(err.Error(), "does not exist") ||
		!strings.Contains(err.Error(), "LocalAuthenticator.create_system_users") {
		t.Errorf("Start for a missing account = %v, want an error naming "+
			"LocalAuthenticator.create_system_users, as Python and TOML configs both read it", err)
	}
	if _, err := user.Lookup(name); err == nil {
		t.Errorf("account %s was created without CreateUsers", name)
	}
}

func TestLocalProcessRejectsRootAndSystemAccounts(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		user string
		want string
	}{
		{"root", "servers never run as root"},
		{"daemon", "so it is a system account"},
		{"nobody", "LocalProcessSpawner.max_uid"},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			if _, err := user.Lookup(tt.user); err != nil {
				t.Skipf("skipped: this machine has no %s account", tt.user)
			}
			l, _ := newLocalProcess()
			l.CreateUsers = true
			_, err := l.Start(t.Context(), accountRequest(t, tt.user, helperServe), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start as %s = %v, want an error with %q", tt.user, err, tt.want)
			}
		})
	}
}

// TestLocalProcessCheckUserAccounts checks that CheckUser rejects, as
// Start does, the accounts that no server may run as, so that the hub can
// respond to the request with a 400 before it records a start.
func TestLocalProcessCheckUserAccounts(t *testing.T) {
	requireRoot(t)
	a := createTestAccount(t)
	missing := newAccountName(t)
	tests := []struct {
		name string
		l    *LocalProcess
		user string
		want string // "" for no error
	}{
		{"account", &LocalProcess{}, a.name, ""},
		{"root", &LocalProcess{}, "root", "servers never run as root"},
		{"root allowed", &LocalProcess{AllowRoot: true}, "root", ""},
		{"system account", &LocalProcess{}, "daemon", "so it is a system account"},
		{"uid below min_uid", &LocalProcess{MinUID: int(a.uid) + 1}, a.name, "LocalProcessSpawner.min_uid"},
		{"uid above max_uid", &LocalProcess{MaxUID: int(a.uid) - 1}, a.name, "LocalProcessSpawner.max_uid"},
		{"nobody", &LocalProcess{}, "nobody", "so it is not an account for people"},
		{"missing", &LocalProcess{}, missing, "create_system_users"},
		{"missing created at start", &LocalProcess{CreateUsers: true}, missing, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := user.Lookup(tt.user); err != nil && tt.user != missing {
				t.Skipf("skipped: this machine has no %s account", tt.user)
			}
			err := tt.l.CheckUser(tt.user)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckUser(%s) = %v, want nil", tt.user, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("CheckUser(%s) = %v, want an error with %q", tt.user, err, tt.want)
			}
		})
	}
	if _, err := user.Lookup(missing); err == nil {
		t.Errorf("CheckUser created the account %s", missing)
	}
}

func TestLocalProcessMinUID(t *testing.T) {
	requireRoot(t)
	a := createTestAccount(t)
	defs := filepath.Join(t.TempDir(), "login.defs")
	limit := int(a.uid) + 1
	text := fmt.Sprintf("# test\nUID_MIN 1000\nSYS_UID_MAX %d\n", limit-1)
	if err := os.WriteFile(defs, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		l    *LocalProcess
		want string
	}{
		{"login.defs", &LocalProcess{loginDefs: defs}, "SYS_UID_MAX + 1 from " + defs},
		{"min_uid", &LocalProcess{MinUID: limit}, "LocalProcessSpawner.min_uid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.l.Start(t.Context(), accountRequest(t, a.name, helperServe), nil)
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("below %d", limit)) ||
				!strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start with uid %d below %d = %v, want an error naming %q",
					a.uid, limit, err, tt.want)
			}
		})
	}
}

// TestLocalProcessRejectsAdminGroups checks that no server runs as a
// member of a blocked group, such as the sudo group of a cloud VM's first
// account, whose name a GitHub user may also have.
func TestLocalProcessRejectsAdminGroups(t *testing.T) {
	requireRoot(t)
	a := createTestAccount(t)
	gid := addTestGroup(t, a)
	g, err := user.LookupGroupId(strconv.Itoa(int(gid)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		blocked []string
		want    string // "" for no error
	}{
		{"test group blocked", []string{"jgtest-missing-group", g.Name}, "member of the group " + g.Name},
		{"default groups", nil, ""},
		{"no group blocked", []string{}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := newLocalProcess()
			l.BlockedGroups = tt.blocked
			err := l.CheckUser(a.name)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckUser(%s) = %v, want nil", a.name, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("CheckUser(%s) = %v, want an error with %q", a.name, err, tt.want)
			}
		})
	}

	// A user named like a group that has no account of its name: adduser
	// would fail to give the new account a group of its own name.
	l, _ := newLocalProcess()
	l.CreateUsers = true
	const wantGroup = "but a group " // of the message of checkNoGroupNamed
	if err := l.CheckUser(g.Name); err == nil || !strings.Contains(err.Error(), wantGroup) {
		t.Errorf("CheckUser(%s), named like a group = %v, want an error with %q", g.Name, err, wantGroup)
	}

	// A member of sudo, as the operator's account of a cloud VM is.
	if _, err := user.LookupGroup("sudo"); err != nil {
		t.Skip("skipped: this machine has no sudo group")
	}
	cmd := exec.Command("usermod", "-a", "-G", "sudo", a.name)
	cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("adding %s to sudo: %v\n%s", a.name, err, out)
	}
	l, _ = newLocalProcess()
	const want = "member of the group sudo, which grants administrative rights"
	if err := l.CheckUser(a.name); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("CheckUser of a sudo member = %v, want an error with %q", err, want)
	}
	l, _ = newLocalProcess()
	_, err = l.Start(t.Context(), accountRequest(t, a.name, helperServe), nil)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Start of a sudo member = %v, want an error with %q", err, want)
	}
	if procs := accountProcesses(a.uid); len(procs) != 0 {
		t.Errorf("processes of the sudo member run: %v", procs)
	}
}

func TestLocalProcessInvalidNameRunsNoCommand(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	script := filepath.Join(dir, "add-user")
	// The script records its arguments, one a line, and creates no account.
	body := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > " + marker + "\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	l, _ := newLocalProcess()
	l.CreateUsers = true
	l.AddUserCmd = []string{script, "--home", "/srv/USERNAME"}

	for _, name := range []string{"Alice", "1abc", "a.b", "-rf", "a b", "a$b", "ab;rm",
		"x" + strings.Repeat("y", maxSystemUserNameBytes), "ünï"} {
		t.Run(name, func(t *testing.T) {
			if err := l.CheckUser(name); err == nil {
				t.Errorf("CheckUser(%q) = nil, want an error", name)
			}
			_, err := l.Start(t.Context(), accountRequest(t, name, helperServe), nil)
			if err == nil || !strings.Contains(err.Error(), "invalid user name") {
				t.Errorf("Start for %q = %v, want an invalid name error", name, err)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Errorf("add_user_cmd ran for the invalid name %q", name)
			}
		})
	}

	// A valid name reaches the command as separate arguments.
	name := newAccountName(t)
	removeAccountAtCleanup(t, name)
	_, err := l.Start(t.Context(), accountRequest(t, name, helperServe), nil)
	if err == nil || !strings.Contains(err.Error(), "still does not exist") {
		t.Errorf("Start with a command that creates nothing = %v", err)
	}
	data, err := os.ReadFile(marker)
	if err != nil {
		t.Fatalf("add_user_cmd did not run for %s: %v", name, err)
	}
	if got, want := string(data), "--home\n/srv/"+name+"\n"+name+"\n"; got != want {
		t.Errorf("add_user_cmd arguments = %q, want %q", got, want)
	}
}

func TestLocalProcessReattach(t *testing.T) {
	requireRoot(t)
	a := createTestAccount(t)
	first, _ := newLocalProcess()
	started, st := startAccountServer(t, first, accountRequest(t, a.name, helperServe))

	// A second spawner, as in a restarted hub, has only the state.
	second, _ := newLocalProcess()
	if running, err := second.Poll(t.Context(), started.State); !running || err != nil {
		t.Fatalf("Poll from a second spawner = %v, %v; want true, nil", running, err)
	}
	if err := second.Stop(t.Context(), started.State); err != nil {
		t.Fatalf("Stop from a second spawner: %v", err)
	}
	if running, err := first.Poll(t.Context(), started.State); running || err != nil {
		t.Errorf("Poll after Stop = %v, %v; want false, nil", running, err)
	}
	if members := liveGroupMembers(st.PID); len(members) != 0 {
		t.Errorf("processes of the server left: %v", members)
	}
}

func TestLocalProcessJupygoServer(t *testing.T) {
	requireRoot(t)
	a := createTestAccount(t)
	hub := newFakeHub(t)
	l, rec := newLocalProcess()
	// A generous wait, so that only a server that ignores SIGTERM gets
	// SIGKILL, however busy the machine is.
	l.TermTimeout = time.Minute
	r := jupygoRequestFor(hub.URL, a.name, "")
	started, st := startAccountServer(t, l, r)

	status, err := readProcStatus(st.PID)
	if err != nil {
		t.Fatal(err)
	}
	if got := status["Uid"]; len(got) == 0 || got[0] != strconv.Itoa(int(a.uid)) {
		t.Errorf("jupygo server's uids = %v, want %d", got, a.uid)
	}
	resp, err := http.Get(started.URL + r.Prefix + "api")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %sapi = %d, want 200", r.Prefix, resp.StatusCode)
	}
	if err := l.Stop(t.Context(), started.State); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if rec.find("server still runs after SIGTERM, sending SIGKILL", nil) != nil {
		t.Error("jupygo server needed SIGKILL")
	}
	checkFileOwner(t, outputPath(a.home, ""), a, 0o600)
}

// TestLocalProcessStopSequence stops a server that ignores SIGINT and
// SIGTERM, and checks that it got both before the SIGKILL.
func TestLocalProcessStopSequence(t *testing.T) {
	requireRoot(t)
	a := createTestAccount(t)
	l, rec := newLocalProcess()
	l.InterruptTimeout, l.TermTimeout = stopTestInterrupt, stopTestTerm
	started, _ := startAccountServer(t, l, accountRequest(t, a.name, helperIgnoreIntTerm))
	output := outputPath(a.home, "")
	awaitListening(t, output)

	start := time.Now()
	if err := l.Stop(t.Context(), started.State); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if elapsed := time.Since(start); elapsed < stopTestInterrupt+stopTestTerm {
		t.Errorf("Stop returned after %v, before the timeouts of %v", elapsed,
			stopTestInterrupt+stopTestTerm)
	}
	want := []string{"received SIGINT", "received SIGTERM"}
	if diff := cmp.Diff(want, receivedSignals(t, output)); diff != "" {
		t.Errorf("signals the server reported (-want +got):\n%s", diff)
	}
	logged := []string{"server still runs after SIGINT, sending SIGTERM",
		"server still runs after SIGTERM, sending SIGKILL", "server killed"}
	if diff := cmp.Diff(logged, stopMessages(rec)); diff != "" {
		t.Errorf("log of Stop (-want +got):\n%s", diff)
	}
	assertGroupEmpty(t, started)
}

func TestLocalProcessNotebookDir(t *testing.T) {
	requireRoot(t)
	a := createTestAccount(t)
	work := filepath.Join(a.home, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(work, int(a.uid), int(a.gid)); err != nil {
		t.Fatal(err)
	}
	l, _ := newLocalProcess()
	r := accountRequest(t, a.name, helperServe)
	r.NotebookDir = "~/work"
	started, _ := startAccountServer(t, l, r)
	if got := serverEnv(t, started, r.Prefix)["JUPYTERHUB_ROOT_DIR"]; got != work {
		t.Errorf("JUPYTERHUB_ROOT_DIR = %q, want %q", got, work)
	}
}

func TestLocalProcessMissingHome(t *testing.T) {
	requireRoot(t)
	a := createTestAccount(t)
	if err := os.RemoveAll(a.home); err != nil {
		t.Fatal(err)
	}
	l, _ := newLocalProcess()
	_, err := l.Start(t.Context(), accountRequest(t, a.name, helperServe), nil)
	if err == nil || !strings.Contains(err.Error(), "home folder of system account") {
		t.Errorf("Start without a home folder = %v", err)
	}
}

// TestLocalProcessRejectsPlantedOutput checks that a hub running as root
// does not write through what an account put at its output file's name.
func TestLocalProcessRejectsPlantedOutput(t *testing.T) {
	requireRoot(t)
	a := createTestAccount(t)
	target := filepath.Join(t.TempDir(), "root-only")
	if err := os.WriteFile(target, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := outputPath(a.home, "")
	tests := []struct {
		name  string
		plant func() error
		want  string
	}{
		{"hard link", func() error { return os.Link(target, out) }, "single link"},
		{"symbolic link", func() error { return os.Symlink(target, out) }, "regular file"},
		{"fifo", func() error { return syscall.Mkfifo(out, 0o600) }, "regular file"},
		{"other owner", func() error {
			if err := os.WriteFile(out, nil, 0o600); err != nil {
				return err
			}
			return os.Chown(out, 1, 1)
		}, "belongs to uid 1"},
	}
	l, _ := newLocalProcess()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.plant(); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(out)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			_, err := l.Start(ctx, accountRequest(t, a.name, helperServe), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start with a planted %s = %v, want an error with %q", tt.name, err, tt.want)
			}
			if data, _ := os.ReadFile(target); string(data) != "keep" {
				t.Errorf("the planted file's target was changed to %q", data)
			}
		})
	}
}

// TestLocalProcessWithoutRoot runs a hub as an account without root: it
// runs a server as itself and rejects every other user.
func TestLocalProcessWithoutRoot(t *testing.T) {
	requireRoot(t)
	a := createTestAccount(t)
	other := createTestAccount(t)
	cmd := exec.Command(sharedHelper(t))
	cmd.Dir = a.home
	cmd.Env = []string{helperModeVar + "=" + helperOwnHub, runMarkerVar + "=" + runMarker,
		otherUserVar + "=" + other.name, "HOME=" + a.home, "USER=" + a.name,
		"PATH=" + os.Getenv("PATH")}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: a.uid, Gid: a.gid, Groups: a.groups},
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr

	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hub helper: %v\n%s", err, stderr.Bytes())
	}
	var got ownHubResult
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("hub helper printed %q: %v", out, err)
	}

	for _, msg := range []string{got.OtherCheck, got.OtherStart} {
		if !strings.Contains(msg, "not as root") || !strings.Contains(msg, other.name) {
			t.Errorf("running a server as %s without root = %q, want an error", other.name, msg)
		}
	}
	if got.OwnStart != "" {
		t.Errorf("running a server as the hub's own account failed: %s", got.OwnStart)
	}
	if got.OwnUID != int(a.uid) {
		t.Errorf("own server runs as uid %d, want %d", got.OwnUID, a.uid)
	}
	if got.OwnStop != "" {
		t.Errorf("stopping the own server failed: %s", got.OwnStop)
	}
}

// ownHubResult is what the own-hub helper prints.
type ownHubResult struct {
	OtherCheck string `json:"other_check"` // CheckUser's error for the other account
	OtherStart string `json:"other_start"` // Start's error for the other account
	OwnStart   string `json:"own_start"`   // Start's error for the helper's account
	OwnUID     int    `json:"own_uid"`     // uid of the server started as that account
	OwnStop    string `json:"own_stop"`    // Stop's error for that server
}

// ownHubHelper is a hub running as an account without root. It tries to
// run a server as otherUserVar's account and as its own, and prints an
// ownHubResult.
func ownHubHelper() {
	var res ownHubResult
	other := os.Getenv(otherUserVar)
	exe, _ := os.Executable()
	l := &LocalProcess{Cmd: []string{exe}}
	request := func(name string) Request {
		return Request{User: name, Prefix: "/user/" + name + "/",
			Env: map[string]string{helperModeVar: helperServe, runMarkerVar: os.Getenv(runMarkerVar)}}
	}
	ctx := context.Background()

	if err := l.CheckUser(other); err != nil {
		res.OtherCheck = err.Error()
	}
	if _, err := l.Start(ctx, request(other), nil); err != nil {
		res.OtherStart = err.Error()
	}

	self, err := user.Current()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	started, err := l.Start(ctx, request(self.Username), nil)
	if err != nil {
		res.OwnStart = err.Error()
	} else {
		st, _ := parseState(started.State)
		if status, err := readProcStatus(st.PID); err == nil && len(status["Uid"]) > 0 {
			res.OwnUID, _ = strconv.Atoi(status["Uid"][0])
		}
		if err := l.Stop(ctx, started.State); err != nil {
			res.OwnStop = err.Error()
		}
	}
	json.NewEncoder(os.Stdout).Encode(res)
}

// writeHomeHelper writes homeFileName in $HOME with mode 0666 less the
// umask, then serves as the serve helper does.
func writeHomeHelper() {
	path := filepath.Join(os.Getenv("HOME"), homeFileName)
	if err := os.WriteFile(path, []byte("written by the server\n"), 0o666); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	serveHelper(helperServe)
}
