package spawn

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultUmask is the file mode creation mask of LocalProcess servers when
// LocalProcess.Umask is nil: files are writable by their owner only.
const DefaultUmask = 0o022

// defaultServerPath is the PATH of servers when the hub's own PATH has no
// absolute folder in it.
const defaultServerPath = "/usr/local/bin:/usr/bin:/bin"

// LocalProcess starts each server as a process of the user's system
// account, the one whose name is the hub user's name, as JupyterHub's
// LocalProcessSpawner does. The hub must run as root to switch accounts.
// A hub that does not can run servers only as its own account, so Start
// rejects other users. Set the exported fields before the first Start and
// do not change them after; the methods are safe for concurrent use.
//
// A server never runs as root (uid 0) unless AllowRoot is set, nor as a
// system account, one with a uid below MinUID or above MaxUID. When the hub
// runs as root, a server never runs as a member of BlockedGroups either,
// such as the sudo group of a cloud VM's first account. It runs with the account's
// uid, gid and groups, in its home folder, with HOME, USER, LOGNAME and
// SHELL from its passwd entry and the Umask. Its output goes to
// .jupygo-server.log in the home folder, owned by the account. Processes,
// state, Poll and Stop are those of SimpleLocalProcess (see the package
// documentation), so a restarted hub finds its servers again.
type LocalProcess struct {
	// Cmd is the default command line of servers, used when a Request has
	// none. Empty means this binary followed by "server". Every account
	// must be able to execute it.
	Cmd []string
	// EnvKeep names the variables of the hub's environment that servers
	// inherit. Nil means PATH and LANG. Empty and relative folders are
	// dropped from PATH, which becomes /usr/local/bin:/usr/bin:/bin when
	// none is left.
	EnvKeep []string
	// IP, Port, StartTimeout, HTTPTimeout, InterruptTimeout, TermTimeout
	// and KillTimeout are those of SimpleLocalProcess.
	IP                                         string
	Port                                       int
	StartTimeout, HTTPTimeout                  time.Duration
	InterruptTimeout, TermTimeout, KillTimeout time.Duration
	// CreateUsers makes Start create a missing account with AddUserCmd,
	// as [LocalAuthenticator] create_system_users does in JupyterHub.
	CreateUsers bool
	// AddUserCmd is the command that creates an account. USERNAME in any
	// element is replaced by the user name, which is also appended as the
	// last argument. The command runs without a shell. Nil means
	// DefaultAddUserCmd().
	AddUserCmd []string
	// Umask is the servers' file mode creation mask. Nil means
	// DefaultUmask.
	Umask *int
	// MinUID is the lowest uid a server may run as, root aside. Zero
	// means SYS_UID_MAX + 1 from /etc/login.defs, else its UID_MIN, else
	// 1000, so that system accounts never run servers.
	MinUID int
	// MaxUID is the highest uid a server may run as. Zero means UID_MAX
	// from /etc/login.defs, else 60000, so that nobody (65534) never runs
	// servers.
	MaxUID int
	// BlockedGroups names the groups whose members no server runs as,
	// primary group included, because membership grants administrative
	// rights. Nil means DefaultBlockedGroups, and an empty slice blocks no
	// group. Groups missing on the machine are skipped. The hub checks
	// them only when it runs as root, since a hub that does not runs
	// servers as its own account alone.
	//
	// NOTE: rights given by name in /etc/sudoers, outside any group, are
	// not seen. Keep such accounts out with [Authenticator] blocked_users.
	BlockedGroups []string
	// AllowRoot allows servers to run as root, whatever MinUID and
	// BlockedGroups are.
	AllowRoot bool
	// Log receives lifecycle events and each line of the servers' output,
	// with user and server attributes. Nil discards them.
	Log *slog.Logger

	// loginDefs is the file that a zero MinUID is read from; "" means
	// /etc/login.defs.
	loginDefs string

	initOnce     sync.Once
	procs        *SimpleLocalProcess // starts, polls and stops the processes
	minUID       int
	minUIDSource string // the setting or file minUID comes from, for messages
	maxUID       int
	maxUIDSource string // the setting or file maxUID comes from, for messages
	// accounts serializes the lookup and creation of accounts, so that two
	// starts for one user do not both run AddUserCmd.
	accounts sync.Mutex
}

var (
	_ Spawner     = (*LocalProcess)(nil)
	_ UserChecker = (*LocalProcess)(nil)
)

func (l *LocalProcess) init() {
	l.initOnce.Do(func() {
		l.procs = &SimpleLocalProcess{
			Cmd: l.Cmd, IP: l.IP, Port: l.Port,
			StartTimeout: l.StartTimeout, HTTPTimeout: l.HTTPTimeout,
			InterruptTimeout: l.InterruptTimeout, TermTimeout: l.TermTimeout,
			KillTimeout: l.KillTimeout, Log: l.Log, prepareFunc: l.prepare,
		}
		l.minUID, l.minUIDSource = l.MinUID, "LocalProcessSpawner.min_uid"
		if l.MinUID <= 0 {
			l.minUID, l.minUIDSource = defaultMinUID(cmp.Or(l.loginDefs, loginDefsPath))
		}
		l.maxUID, l.maxUIDSource = l.MaxUID, "LocalProcessSpawner.max_uid"
		if l.MaxUID <= 0 {
			l.maxUID, l.maxUIDSource = defaultMaxUID(cmp.Or(l.loginDefs, loginDefsPath))
		}
	})
}

// CheckUser returns an error when no server of user name can start. The
// name may be invalid for a system account (ValidateSystemUserName). A hub
// that does not run as root may run only its own account. For a hub that
// runs as root, the account may be missing without CreateUsers, be root
// without AllowRoot, have a uid outside MinUID to MaxUID, or be a member of
// BlockedGroups. CheckUser runs no command
// and only looks accounts up, and it leaves a failed lookup for Start to
// report. The hub calls it before it records a start, so that the client
// gets the error at once.
func (l *LocalProcess) CheckUser(name string) error {
	if err := ValidateSystemUserName(name); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		return l.checkAccountName(name)
	}
	self, err := user.Current()
	if err != nil {
		return fmt.Errorf("looking up the hub's own account: %w", err)
	}
	if self.Username != name {
		return fmt.Errorf("the hub runs as %s (uid %s), not as root, so it can run servers "+
			"only as %s and not as %s: run the hub as root to run servers as system accounts",
			self.Username, self.Uid, self.Username, name)
	}
	return nil
}

// checkAccountName applies the checks of account and checkAccount to the
// account called name, with a lookup that runs no command, unlike
// lookupAccount, which may run getent. It returns nil when the lookup
// fails for another reason than a missing account.
func (l *LocalProcess) checkAccountName(name string) error {
	l.init()
	u, err := user.Lookup(name)
	if errors.As(err, new(user.UnknownUserError)) {
		if l.CreateUsers {
			return checkNoGroupNamed(name)
		}
		return missingAccountError(name)
	}
	if err != nil {
		return nil
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil
	}
	a := account{name: u.Username, uid: uint32(uid), gid: uint32(gid)}
	ids, err := u.GroupIds()
	if err != nil {
		return nil
	}
	for _, id := range ids {
		if g, err := strconv.ParseUint(id, 10, 32); err == nil {
			a.groups = append(a.groups, uint32(g))
		}
	}
	return l.checkAccount(a)
}

// missingAccountError returns the error of a start for the missing account
// name without CreateUsers.
func missingAccountError(name string) error {
	return fmt.Errorf("system account %s does not exist: create it, or set "+
		"LocalAuthenticator.create_system_users to true to create accounts at the "+
		"first start", name)
}

// Start starts r's server as the system account r.User, creating the
// account first when it is missing and CreateUsers is set, and waits until
// the server responds, as SimpleLocalProcess.Start does. It fails before
// it runs any command when CheckUser rejects r.User, and before it starts
// the server when the account is missing or checkAccount rejects it.
func (l *LocalProcess) Start(ctx context.Context, r Request, progress func(Event)) (Started, error) {
	l.init()
	if err := l.CheckUser(r.User); err != nil {
		return Started{}, fmt.Errorf("starting server for %s: %w", serverKey(r.User, r.Server), err)
	}
	started, err := l.procs.Start(ctx, r, progress)
	if errors.Is(err, os.ErrPermission) {
		err = fmt.Errorf("%w (the account %s needs execute permission on the server command "+
			"and on the folders above it, and access to its home folder)", err, r.User)
	}
	return started, err
}

// Exited is SimpleLocalProcess.Exited.
func (l *LocalProcess) Exited() <-chan struct{} {
	l.init()
	return l.procs.Exited()
}

// Poll is SimpleLocalProcess.Poll: state holds everything it needs.
func (l *LocalProcess) Poll(ctx context.Context, state json.RawMessage) (bool, error) {
	l.init()
	return l.procs.Poll(ctx, state)
}

// Stop is SimpleLocalProcess.Stop. The hub runs as root or as the
// server's account, so it may signal the server.
func (l *LocalProcess) Stop(ctx context.Context, state json.RawMessage) error {
	l.init()
	return l.procs.Stop(ctx, state)
}

// prepare finds or creates r.User's account and returns the command that
// runs the server as that account. SimpleLocalProcess.Start calls it.
func (l *LocalProcess) prepare(ctx context.Context, r Request, progress func(Event)) (plan, error) {
	progress(Event{Progress: 10, Message: "Looking up the system account " + r.User})
	a, err := l.account(ctx, r.User, progress)
	if err != nil {
		return plan{}, err
	}
	if err := checkHome(a); err != nil {
		return plan{}, err
	}
	root, err := rootDir(r.NotebookDir, a.home)
	if err != nil {
		return plan{}, err
	}
	argv, err := l.procs.command(r)
	if err != nil {
		return plan{}, err
	}
	umask := DefaultUmask
	if l.Umask != nil {
		umask = *l.Umask
	}
	if umask < 0 || umask > 0o777 {
		return plan{}, fmt.Errorf("invalid umask %#o: use 0 to 0777", umask)
	}
	base, err := l.procs.serverBase()
	if err != nil {
		return plan{}, err
	}

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = l.environ(r, a, root, base+r.Prefix)
	cmd.Dir = a.home
	// As in SimpleLocalProcess, the server leads its own session. The
	// child switches accounts after fork and before exec, and then enters
	// the home folder as the account. It sets the umask in LaunchCommand,
	// because os/exec cannot set a child's umask and changing the hub's
	// own would affect every file the hub creates meanwhile.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if os.Geteuid() == 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: a.uid, Gid: a.gid, Groups: a.groups}
	}
	if a.uid == 0 {
		l.procs.logger().Warn("server runs as root, because allow_root is set",
			"user", r.User, "server", r.Server)
	}
	owner := &a
	if os.Geteuid() != 0 {
		owner = nil // the hub's own account
	}
	return attachOutput(plan{cmd: cmd, base: base, umask: umask}, outputPath(a.home, r.Server), owner)
}

// account returns the account called name, created with AddUserCmd when it
// is missing and CreateUsers is set, after checking that servers may run
// as it.
func (l *LocalProcess) account(ctx context.Context, name string, progress func(Event)) (account, error) {
	l.accounts.Lock()
	defer l.accounts.Unlock()
	a, err := lookupAccount(name)
	if errors.Is(err, errNoAccount) {
		if !l.CreateUsers {
			return account{}, missingAccountError(name)
		}
		progress(Event{Progress: 20, Message: "Creating the system account " + name})
		a, err = l.createAccount(ctx, name)
	}
	if err != nil {
		return account{}, err
	}
	if err := l.checkAccount(a); err != nil {
		return account{}, err
	}
	return a, nil
}

// createAccount runs AddUserCmd for name and looks the new account up.
func (l *LocalProcess) createAccount(ctx context.Context, name string) (account, error) {
	cmd := l.AddUserCmd
	if len(cmd) == 0 {
		cmd = DefaultAddUserCmd()
	}
	if cmd[0] == "" {
		return account{}, errors.New("add_user_cmd has an empty program name")
	}
	if err := checkNoGroupNamed(name); err != nil {
		return account{}, err
	}
	argv := addUserArgv(cmd, name)
	if err := runAddUser(ctx, argv); err != nil {
		return account{}, fmt.Errorf("creating system account %s: %w", name, err)
	}
	a, err := lookupAccount(name)
	if errors.Is(err, errNoAccount) {
		return account{}, fmt.Errorf("add_user_cmd %q succeeded, but system account %s "+
			"still does not exist", argv, name)
	}
	if err != nil {
		return account{}, err
	}
	l.procs.logger().Info("system account created", "user", name, "uid", a.uid,
		"home", a.home, "cmd", fmt.Sprintf("%q", argv))
	return a, nil
}

// checkAccount rejects root unless AllowRoot is set, accounts with a uid
// outside minUID to maxUID, and, when the hub runs as root, members of the
// blocked groups. When the hub does not run as root, it rejects every
// account but the hub's own.
func (l *LocalProcess) checkAccount(a account) error {
	if euid := os.Geteuid(); euid != 0 && int(a.uid) != euid {
		return fmt.Errorf("system account %s has uid %d, but the hub runs as uid %d, not as "+
			"root, so it can run servers only as its own account", a.name, a.uid, euid)
	}
	if a.uid == 0 {
		if l.AllowRoot {
			return nil
		}
		return fmt.Errorf("system account %s is root (uid 0): servers never run as root "+
			"unless LocalProcessSpawner.allow_root is true", a.name)
	}
	if int(a.uid) < l.minUID {
		return fmt.Errorf("system account %s has uid %d, below %d (%s), so it is a system "+
			"account, which servers never run as: set LocalProcessSpawner.min_uid to allow "+
			"lower uids", a.name, a.uid, l.minUID, l.minUIDSource)
	}
	if int64(a.uid) > int64(l.maxUID) {
		return fmt.Errorf("system account %s has uid %d, above %d (%s), so it is not an "+
			"account for people, and servers never run as it: set "+
			"LocalProcessSpawner.max_uid to allow higher uids", a.name, a.uid, l.maxUID, l.maxUIDSource)
	}
	if os.Geteuid() != 0 {
		return nil
	}
	blocked := l.BlockedGroups
	if blocked == nil {
		blocked = DefaultBlockedGroups
	}
	if group := blockedGroup(a, blocked); group != "" {
		return fmt.Errorf("system account %s is a member of the group %s, which grants "+
			"administrative rights, so servers never run as it: keep the user out with "+
			"Authenticator.blocked_users, or remove the account from the group, or change "+
			"LocalProcessSpawner.blocked_groups", a.name, group)
	}
	return nil
}

// checkHome returns an error unless a's home folder is an absolute path
// to a folder.
func checkHome(a account) error {
	if !filepath.IsAbs(a.home) {
		return fmt.Errorf("system account %s has the home folder %q, which is not an "+
			"absolute path", a.name, a.home)
	}
	info, err := os.Stat(a.home)
	if err != nil {
		return fmt.Errorf("home folder of system account %s: %w (create it, or create "+
			"accounts with their home folder, as adduser and useradd -m do)", a.name, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("home folder %s of system account %s is not a folder", a.home, a.name)
	}
	return nil
}

// environ returns the server's environment: the EnvKeep variables of the
// hub, with PATH cleaned, and JUPYTERHUB_ROOT_DIR, then r.Env, then HOME,
// USER, LOGNAME and SHELL of the account, which r.Env cannot override
// (JupyterHub's LocalProcessSpawner sets them last too), then
// JUPYTERHUB_SERVICE_URL.
func (l *LocalProcess) environ(r Request, a account, root, serviceURL string) []string {
	inherited := keptEnv(l.EnvKeep)
	if path, ok := inherited["PATH"]; ok {
		inherited["PATH"] = cleanPath(path)
	}
	own := map[string]string{"HOME": a.home, "USER": a.name, "LOGNAME": a.name,
		"JUPYTERHUB_SERVICE_URL": serviceURL}
	if a.shell != "" {
		own["SHELL"] = a.shell
	}
	return environList(inherited, map[string]string{"JUPYTERHUB_ROOT_DIR": root}, r.Env, own)
}

// cleanPath drops empty and relative folders, which name the working
// folder, and repeats from a PATH value. It returns defaultServerPath when
// nothing is left.
func cleanPath(path string) string {
	var dirs []string
	for _, dir := range strings.Split(path, ":") {
		if filepath.IsAbs(dir) && !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	if len(dirs) == 0 {
		return defaultServerPath
	}
	return strings.Join(dirs, ":")
}

// checkNoGroupNamed rejects creating the account name when a group of
// that name exists already. Debian's adduser gives each new account a
// group of its own name and fails when one exists, and the group may be a
// system group such as sudo.
func checkNoGroupNamed(name string) error {
	if _, err := user.LookupGroup(name); err == nil {
		return fmt.Errorf("no system account %s exists, but a group %s does, so the account "+
			"cannot be created with a group of its own name: add the user to "+
			"Authenticator.blocked_users, or create the account by hand", name, name)
	}
	return nil
}
