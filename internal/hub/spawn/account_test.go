package spawn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateSystemUserName(t *testing.T) {
	valid := []string{"alice", "a", "bob-smith", "b_2", "machine$", "a" + strings.Repeat("b", 31)}
	for _, name := range valid {
		if err := ValidateSystemUserName(name); err != nil {
			t.Errorf("ValidateSystemUserName(%q) = %v, want nil", name, err)
		}
	}
	invalid := map[string]string{
		"":                            "empty",
		"Alice":                       "lowercase letter",
		"1abc":                        "lowercase letter",
		"_x":                          "lowercase letter",
		"-rf":                         "lowercase letter",
		"a.b":                         "lowercase letter",
		"a b":                         "lowercase letter",
		"a$b":                         "lowercase letter",
		"a/b":                         "'/'",
		"élodie":                      "lowercase letter",
		"a" + strings.Repeat("b", 32): "longer than 32 bytes",
	}
	for name, want := range invalid {
		err := ValidateSystemUserName(name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateSystemUserName(%q) = %v, want an error with %q", name, err, want)
		}
	}
}

func TestDefaultUIDRange(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		text     string // "" leaves the file missing
		min, max int
	}{
		{"missing file", "", 1000, 60000},
		{"sys_uid_max", "UID_MIN 1000\nSYS_UID_MAX 999\n", 1000, 60000},
		{"sys_uid_max wins", "UID_MIN 1000\nSYS_UID_MAX\t\t499\n", 500, 60000},
		{"uid_min only", "# SYS_UID_MAX 99\nUID_MIN 2000\n", 2000, 60000},
		{"hexadecimal", "SYS_UID_MAX 0x3e7\nUID_MAX 0x7530\n", 1000, 30000},
		{"uid_max", "UID_MIN 1000\nUID_MAX 29999\n", 1000, 29999},
		{"commented out", "#SYS_UID_MAX 99\n#UID_MIN 5\n#UID_MAX 100\n", 1000, 60000},
		{"invalid number", "SYS_UID_MAX many\nUID_MIN 1500\nUID_MAX many\n", 1500, 60000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if tt.text != "" {
				if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if got, source := defaultMinUID(path); got != tt.min {
				t.Errorf("defaultMinUID = %d (%s), want %d", got, source, tt.min)
			}
			if got, source := defaultMaxUID(path); got != tt.max {
				t.Errorf("defaultMaxUID = %d (%s), want %d", got, source, tt.max)
			}
		})
	}
}

func TestPasswdShell(t *testing.T) {
	data := []byte("root:x:0:0:root:/root:/bin/bash\n" +
		"alice:x:1000:1000:Alice,,,:/home/alice:/bin/zsh\r\n" +
		"broken line\n" +
		"nosh:x:1001:1001::/home/nosh:\n")
	for _, tt := range []struct {
		name, want string
		found      bool
	}{
		{"alice", "/bin/zsh", true},
		{"root", "/bin/bash", true},
		{"nosh", "", true},
		{"bob", "", false},
		{"broken line", "", false},
	} {
		got, found := passwdShell(data, tt.name)
		if got != tt.want || found != tt.found {
			t.Errorf("passwdShell(%q) = %q, %v; want %q, %v", tt.name, got, found, tt.want, tt.found)
		}
	}
}

func TestAddUserArgv(t *testing.T) {
	got := addUserArgv([]string{"adduser", "-q", "--home", "/srv/USERNAME", "--gecos", ""}, "bob")
	want := []string{"adduser", "-q", "--home", "/srv/bob", "--gecos", "", "bob"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("addUserArgv (-want +got):\n%s", diff)
	}
}

func TestDefaultAddUserCmd(t *testing.T) {
	got := DefaultAddUserCmd()
	if _, err := os.Stat(adduserConfPath); err == nil {
		want := []string{"adduser", "-q", "--gecos", "", "--disabled-password"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("DefaultAddUserCmd with Debian's adduser (-want +got):\n%s", diff)
		}
		return
	}
	if diff := cmp.Diff([]string{"useradd", "-m"}, got); diff != "" {
		t.Errorf("DefaultAddUserCmd without Debian's adduser (-want +got):\n%s", diff)
	}
}

func TestCleanPath(t *testing.T) {
	tests := map[string]string{
		"/usr/bin:/bin":                 "/usr/bin:/bin",
		"/usr/bin::.:bin:/bin:/usr/bin": "/usr/bin:/bin",
		"":                              defaultServerPath,
		".:relative":                    defaultServerPath,
	}
	for path, want := range tests {
		if got := cleanPath(path); got != want {
			t.Errorf("cleanPath(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestCheckAccountRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: the check of root accounts applies when the hub runs as root")
	}
	root := account{name: "root", uid: 0, gid: 0}
	l := &LocalProcess{}
	l.init()
	if err := l.checkAccount(root); err == nil || !strings.Contains(err.Error(), "allow_root") {
		t.Errorf("checkAccount(root) = %v, want an error naming allow_root", err)
	}
	l = &LocalProcess{AllowRoot: true}
	l.init()
	if err := l.checkAccount(root); err != nil {
		t.Errorf("checkAccount(root) with AllowRoot = %v, want nil", err)
	}
	low := account{name: "daemon", uid: 1, gid: 1}
	if err := l.checkAccount(low); err == nil {
		t.Error("checkAccount accepted uid 1 with AllowRoot")
	}
}
