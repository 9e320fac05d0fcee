package spawn

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jupygo/jupygo/internal/lazy"
)

// account is a system account that a server runs as.
type account struct {
	name     string
	uid, gid uint32
	// groups are the account's group IDs, its primary group included, as
	// os/user's GroupIds lists them.
	groups []uint32
	home   string
	// shell is the login shell from the passwd entry, "" when it has none
	// or the entry could not be read.
	shell string
}

// maxSystemUserNameBytes is the longest user name Debian's adduser and
// shadow's useradd accept.
const maxSystemUserNameBytes = 32

var systemUserNameRegexpValue lazy.Value[*regexp.Regexp]

// systemUserNameRegexp returns the default NAME_REGEX of Debian 12's adduser
// (3.134), which Ubuntu shares, compiled on first use: a lowercase letter,
// then lowercase letters, digits, '-' and '_', and an optional final '$'.
func systemUserNameRegexp() *regexp.Regexp {
	return systemUserNameRegexpValue.Get(func() *regexp.Regexp {
		return regexp.MustCompile(`^[a-z][-a-z0-9_]*\$?$`)
	})
}

// ValidateSystemUserName reports whether name may name a system account
// that a server runs as: at most 32 bytes and matching the default
// NAME_REGEX of Debian's adduser, ^[a-z][-a-z0-9_]*\$?$. Such a name never
// starts with '-', so it cannot pass for an option of add_user_cmd.
func ValidateSystemUserName(name string) error {
	if err := ValidateUserName(name); err != nil {
		return err
	}
	if len(name) > maxSystemUserNameBytes {
		return fmt.Errorf("invalid user name %q for a system account: it is longer than %d bytes",
			name, maxSystemUserNameBytes)
	}
	if !systemUserNameRegexp().MatchString(name) {
		return fmt.Errorf("invalid user name %q for a system account: it must start with a "+
			"lowercase letter a-z, followed by lowercase letters, digits, '-' and '_', with an "+
			"optional final '$' (adduser's NAME_REGEX %s)", name, systemUserNameRegexp())
	}
	return nil
}

// errNoAccount reports that a user has no system account.
var errNoAccount = errors.New("no such system account")

// lookupAccount returns the system account called name. Its error wraps
// errNoAccount when the account does not exist.
func lookupAccount(name string) (account, error) {
	u, err := user.Lookup(name)
	if errors.As(err, new(user.UnknownUserError)) {
		return account{}, fmt.Errorf("%w: %s", errNoAccount, name)
	}
	if err != nil {
		return account{}, fmt.Errorf("looking up system account %s: %w", name, err)
	}

	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return account{}, fmt.Errorf("system account %s has a non-numeric uid %q", name, u.Uid)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return account{}, fmt.Errorf("system account %s has a non-numeric gid %q", name, u.Gid)
	}

	ids, err := u.GroupIds()
	if err != nil {
		return account{}, fmt.Errorf("listing the groups of system account %s: %w", name, err)
	}
	a := account{name: u.Username, uid: uint32(uid), gid: uint32(gid), home: u.HomeDir,
		shell: loginShell(name)}
	for _, id := range ids {
		g, err := strconv.ParseUint(id, 10, 32)
		if err != nil {
			return account{}, fmt.Errorf("system account %s is in a group with a "+
				"non-numeric gid %q", name, id)
		}
		a.groups = append(a.groups, uint32(g))
	}
	return a, nil
}

// loginShell returns the shell field of name's passwd entry: from
// /etc/passwd, or from `getent passwd` for accounts of other name services
// such as LDAP. It returns "" when neither has the entry, since os/user
// does not report shells.
func loginShell(name string) string {
	if data, err := os.ReadFile("/etc/passwd"); err == nil {
		if shell, ok := passwdShell(data, name); ok {
			return shell
		}
	}
	path, err := exec.LookPath("getent")
	if err != nil {
		return ""
	}
	out, err := exec.Command(path, "passwd", "--", name).Output()
	if err != nil {
		return ""
	}
	shell, _ := passwdShell(out, name)
	return shell
}

// passwdShell finds name's entry in data, lines in passwd(5) form, and
// returns its seventh field, the login shell.
func passwdShell(data []byte, name string) (string, bool) {
	for line := range bytes.Lines(data) {
		fields := strings.Split(strings.TrimRight(string(line), "\r\n"), ":")
		if len(fields) == 7 && fields[0] == name {
			return fields[6], true
		}
	}
	return "", false
}

// loginDefsPath is the file of shadow's account settings.
const loginDefsPath = "/etc/login.defs"

// fallbackMinUID is the lowest uid of accounts for people when
// /etc/login.defs sets neither SYS_UID_MAX nor UID_MIN. It is the default
// UID_MIN of shadow's useradd and of Debian's adduser.
const fallbackMinUID = 1000

// defaultMinUID returns the lowest uid that is not a system account's, as
// shadow's useradd reads it from the login.defs file at path:
// SYS_UID_MAX + 1 when set, else UID_MIN, else 1000. The second result
// names the source of the number, for messages.
func defaultMinUID(path string) (int, string) {
	defs := readLoginDefs(path)
	if v, ok := defs["SYS_UID_MAX"]; ok {
		if n, err := strconv.ParseInt(v, 0, 64); err == nil && n >= 0 && n < 1<<31 {
			return int(n) + 1, "SYS_UID_MAX + 1 from " + path
		}
	}
	if v, ok := defs["UID_MIN"]; ok {
		if n, err := strconv.ParseInt(v, 0, 64); err == nil && n > 0 && n < 1<<31 {
			return int(n), "UID_MIN from " + path
		}
	}
	return fallbackMinUID, "the default of useradd"
}

// fallbackMaxUID is the highest uid of accounts for people when
// /etc/login.defs sets no UID_MAX. It is the default UID_MAX of shadow's
// useradd and of Debian's adduser, and it keeps nobody (65534) out.
const fallbackMaxUID = 60000

// defaultMaxUID returns the highest uid of accounts for people, as
// shadow's useradd reads it from the login.defs file at path: UID_MAX when
// set, else 60000. The second result names the source, for messages.
func defaultMaxUID(path string) (int, string) {
	if v, ok := readLoginDefs(path)["UID_MAX"]; ok {
		if n, err := strconv.ParseInt(v, 0, 64); err == nil && n > 0 && n < 1<<32 {
			return int(n), "UID_MAX from " + path
		}
	}
	return fallbackMaxUID, "the default of useradd"
}

// DefaultBlockedGroups are the groups whose members no server runs as when
// LocalProcess.BlockedGroups is nil, because each gives root's rights or
// reads what only root should. Members of sudo, wheel and admin run
// commands as root. Members of docker, lxd and libvirt start containers or
// machines that mount the host's files. disk and kmem read raw devices,
// shadow reads password hashes and adm reads system logs. root owns system
// files by group, and staff writes /usr/local, which comes first in root's
// PATH on Debian. Cloud images put their first account (debian, ubuntu,
// ec2-user) in sudo or wheel, and in adm.
var DefaultBlockedGroups = []string{
	"sudo", "adm", "wheel", "admin", "root", "docker", "lxd", "libvirt", "disk", "shadow",
	"kmem", "staff",
}

// blockedGroup returns the name of the first group in blocked that a is a
// member of, primary group included, and "" when a is in none of them.
// Groups that do not exist on this machine are skipped.
func blockedGroup(a account, blocked []string) string {
	for _, name := range blocked {
		g, err := user.LookupGroup(name)
		if err != nil {
			continue
		}
		gid, err := strconv.ParseUint(g.Gid, 10, 32)
		if err != nil {
			continue
		}
		if uint32(gid) == a.gid || slices.Contains(a.groups, uint32(gid)) {
			return name
		}
	}
	return ""
}

// readLoginDefs reads the "NAME value" lines of a login.defs file. A
// missing or unreadable file gives no settings.
func readLoginDefs(path string) map[string]string {
	defs := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return defs
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && !strings.HasPrefix(fields[0], "#") {
			defs[fields[0]] = strings.Trim(fields[1], `"`)
		}
	}
	return defs
}

// adduserConfPath is the configuration file of Debian's adduser. Its
// presence distinguishes that adduser from BusyBox's, which takes other
// flags.
const adduserConfPath = "/etc/adduser.conf"

// DefaultAddUserCmd returns the command that creates system accounts when
// add_user_cmd is not set: JupyterHub's Linux default, adduser -q --gecos
// "" --disabled-password, where Debian's adduser is installed (Debian,
// Ubuntu), and useradd -m elsewhere. The account name is appended.
// JupyterHub passes the two characters "" as the GECOS field, because it
// runs no shell either; the empty string here leaves the field empty.
func DefaultAddUserCmd() []string {
	if _, err := os.Stat(adduserConfPath); err == nil {
		return []string{"adduser", "-q", "--gecos", "", "--disabled-password"}
	}
	return []string{"useradd", "-m"}
}

// addUserArgv returns the command line that creates the account name:
// cmd with USERNAME in each element replaced by name, and name appended,
// as JupyterHub's LocalAuthenticator.add_system_user builds it. The
// command runs without a shell, so name is never parsed as shell syntax.
func addUserArgv(cmd []string, name string) []string {
	argv := make([]string, 0, len(cmd)+1)
	for _, arg := range cmd {
		argv = append(argv, strings.ReplaceAll(arg, "USERNAME", name))
	}
	return append(argv, name)
}

// maxAddUserOutput bounds the output of add_user_cmd kept for an error.
const maxAddUserOutput = 4 << 10

// adminPathDirs are the folders of administration commands such as
// adduser and useradd, which a hub started without them in PATH still
// finds.
var adminPathDirs = []string{"/usr/local/sbin", "/usr/sbin", "/sbin"}

// runAddUser runs the command line argv that creates an account. The
// command gets the hub's environment, with the administration folders
// added to PATH, because adduser runs useradd and its own hooks.
func runAddUser(ctx context.Context, argv []string) error {
	path := os.Getenv("PATH")
	for _, dir := range adminPathDirs {
		if !strings.Contains(":"+path+":", ":"+dir+":") {
			path += ":" + dir
		}
	}
	path = strings.TrimPrefix(path, ":")

	program := argv[0]
	if !strings.Contains(program, "/") {
		found, err := lookPathIn(program, path)
		if err != nil {
			return fmt.Errorf("add_user_cmd: %s is not in %s", program, path)
		}
		program = found
	}

	cmd := exec.CommandContext(ctx, program, argv[1:]...)
	cmd.Env = append(os.Environ(), "PATH="+path)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		text := strings.TrimSpace(out.String())
		if len(text) > maxAddUserOutput {
			text = "..." + text[len(text)-maxAddUserOutput:]
		}
		if text == "" {
			text = "no output"
		}
		return fmt.Errorf("running add_user_cmd %q: %w: %s", argv, err, text)
	}
	return nil
}

// lookPathIn finds program in the folders of path, a PATH value.
func lookPathIn(program, path string) (string, error) {
	for _, dir := range strings.Split(path, ":") {
		if dir == "" || !strings.HasPrefix(dir, "/") {
			continue
		}
		candidate := dir + "/" + program
		if info, err := os.Stat(candidate); err == nil && info.Mode().IsRegular() &&
			info.Mode().Perm()&0o111 != 0 {
			return candidate, nil
		}
	}
	return "", exec.ErrNotFound
}

// EnsureAccount creates the system account called name with AddUserCmd
// when CreateUsers is set and the account is missing, as JupyterHub's
// LocalAuthenticator does when it adds a user. The hub calls it when
// someone signs in, so the account exists before the first start. It
// reports whether it created the account. It returns an error without
// running any command when name is not a valid account name
// (ValidateSystemUserName). It does nothing without CreateUsers, or when
// the hub does not run as root and so cannot create accounts: Start then
// reports the missing account.
func (l *LocalProcess) EnsureAccount(ctx context.Context, name string) (created bool, err error) {
	l.init()
	if err := ValidateSystemUserName(name); err != nil {
		return false, err
	}
	if !l.CreateUsers || os.Geteuid() != 0 {
		return false, nil
	}
	l.accounts.Lock()
	defer l.accounts.Unlock()
	_, err = lookupAccount(name)
	if !errors.Is(err, errNoAccount) {
		return false, err
	}
	if _, err := l.createAccount(ctx, name); err != nil {
		return false, err
	}
	return true, nil
}
