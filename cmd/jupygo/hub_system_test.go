//go:build !nohub

package main

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/testutil/sysaccount"
)

// TestHubSystemAccounts runs the hub as root with spawner_class
// localprocess: a new user gets a system account at the first sign-in, and
// the server runs as that account across a hub restart. Names that are not
// valid account names cannot sign in, and root, system accounts, nobody
// and members of sudo get a 400 at the start.
func TestHubSystemAccounts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if os.Geteuid() != 0 {
		t.Skip("skipped: running servers as system accounts needs a hub running as root " +
			"(CI runs the tests as root)")
	}
	bin := sysaccount.SharedBinary(t, buildJupygo(t))
	name := sysaccount.NewName()
	sysaccount.RemoveAtCleanup(t, name)
	const password = "shared password of the system account test"
	cfg := writeHubConfig(t, `[JupyterHub]
authenticator_class = "dummy"
spawner_class = "localprocess"

[Authenticator]
admin_users = ["`+name+`"]

[DummyAuthenticator]
password = "`+password+`"

[LocalAuthenticator]
create_system_users = true

[Spawner]
cmd = ["`+bin+`", "server"]
`)
	dataDir := filepath.Join(t.TempDir(), "data")
	hp := startHubProcess(t, bin, dataDir, "-f", cfg)

	// The user is an admin, because only admins see the server's pid in
	// its spawner state.
	b := newHubBrowser(t, hp.url)
	b.login(name, password)
	account, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("the first sign-in created no system account: %v", err)
	}
	prefix := "/user/" + name + "/"
	p, at := b.follow("/hub/spawn/" + name + "?next=" + url.QueryEscape(prefix+"lab"))
	if p.status != http.StatusOK || at != prefix+"lab" {
		t.Fatalf("JupyterLab after the spawn = %d at %s: %.500s", p.status, at, p.body)
	}
	pid := serverPID(t, b, name)
	if uid := processUID(t, pid); uid != account.Uid {
		t.Errorf("server process %d runs as uid %s, want %s's %s", pid, uid, name, account.Uid)
	}

	// A file the server saves belongs to the account.
	token := hubToken(t, b)
	put := apiRequest(t, "PUT", hp.url+prefix+"api/contents/from-the-hub-test.txt", token,
		`{"type": "file", "format": "text", "content": "saved by the server"}`)
	if put.status != http.StatusCreated && put.status != http.StatusOK {
		t.Fatalf("saving a file through the server = %d %s", put.status, put.body)
	}
	info, err := os.Stat(filepath.Join(account.HomeDir, "from-the-hub-test.txt"))
	if err != nil {
		t.Fatalf("the saved file is not in the home folder: %v", err)
	}
	if owner := strconv.Itoa(int(info.Sys().(*syscall.Stat_t).Uid)); owner != account.Uid {
		t.Errorf("the saved file belongs to uid %s, want %s", owner, account.Uid)
	}

	// A restarted hub finds the server again and can stop it.
	hp.stop()
	hubURL, err := url.Parse(hp.url)
	if err != nil {
		t.Fatal(err)
	}
	hp2 := startHubProcess(t, bin, dataDir, "-f", cfg, "--port", hubURL.Port())
	b.base = hp2.url
	if got := serverPID(t, b, name); got != pid {
		t.Errorf("server pid after the hub restart = %d, want %d", got, pid)
	}
	if p := b.send("GET", prefix+"api/status", nil); p.status != http.StatusOK {
		t.Errorf("server status after the hub restart = %d %s", p.status, p.body)
	}
	p = b.send("POST", "/hub/stop/"+name, url.Values{"_xsrf": {b.xsrf("/hub/home")}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("stop = %d %s", p.status, p.body)
	}
	for deadline := time.Now().Add(15 * time.Second); !sysaccount.Gone(pid); {
		if time.Now().After(deadline) {
			t.Fatalf("server process %d still runs after the stop", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}

	t.Run("invalid name", func(t *testing.T) {
		invalid := newHubBrowser(t, hp2.url)
		p := invalid.send("POST", "/hub/login", url.Values{"_xsrf": {invalid.xsrf("/hub/login")},
			"username": {"jg.test"}, "password": {password}})
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "invalid user name") {
			t.Errorf("sign-in of jg.test = %d, want 403 with the reason: %.1000s", p.status, p.body)
		}
		// An admin may still add the user, whose server then fails to start.
		admin := hubToken(t, b)
		if add := apiRequest(t, "POST", hp2.url+"/hub/api/users/jg.test", admin, ""); add.status !=
			http.StatusCreated {
			t.Fatalf("adding jg.test = %d %s", add.status, add.body)
		}
		api := apiRequest(t, "POST", hp2.url+"/hub/api/users/jg.test/server", admin, "")
		if api.status != http.StatusBadRequest || !strings.Contains(api.body, "invalid user name") {
			t.Errorf("API start for jg.test = %d %s, want 400 with the reason", api.status, api.body)
		}
		if _, err := user.Lookup("jg.test"); err == nil {
			t.Error("an account jg.test exists")
		}
	})

	// The operator's account of a cloud VM, such as debian, is in sudo.
	operator := sysaccount.NewName()
	sysaccount.RemoveAtCleanup(t, operator)
	for _, argv := range [][]string{{"useradd", "-m", operator}, {"usermod", "-a", "-G", "sudo", operator}} {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%q: %v\n%s", argv, err, out)
		}
	}

	for _, tt := range []struct{ user, want string }{
		{"root", "servers never run as root"},
		{"daemon", "so it is a system account"},
		{"nobody", "max_uid"},
		{operator, "member of the group sudo"},
	} {
		t.Run(tt.user, func(t *testing.T) {
			if _, err := user.Lookup(tt.user); err != nil {
				t.Skipf("skipped: this machine has no %s account", tt.user)
			}
			c := newHubBrowser(t, hp2.url)
			c.login(tt.user, password)
			api := apiRequest(t, "POST", hp2.url+"/hub/api/users/"+tt.user+"/server", hubToken(t, c), "")
			if api.status != http.StatusBadRequest || !strings.Contains(api.body, tt.want) {
				t.Errorf("API start for %s = %d %s, want 400 with %q", tt.user, api.status, api.body,
					tt.want)
			}
			page := c.send("GET", "/hub/spawn/"+tt.user, nil)
			if page.status != http.StatusBadRequest || !strings.Contains(page.body, tt.want) {
				t.Errorf("spawn page of %s = %d, want 400 with %q: %.1000s",
					tt.user, page.status, tt.want, page.body)
			}
		})
	}
}

func randomHexString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// processUID returns the real uid of process pid, from /proc/PID/status.
func processUID(t *testing.T, pid int) string {
	t.Helper()
	uid := sysaccount.UID(pid)
	if uid == "" {
		t.Fatalf("no uid of process %d in /proc", pid)
	}
	return uid
}

// hubToken creates an API token on the token page and returns it, as the
// page that the form redirects to shows it.
func hubToken(t *testing.T, b *hubBrowser) string {
	t.Helper()
	p := b.send("POST", "/hub/token", url.Values{"_xsrf": {b.xsrf("/hub/token")}, "note": {"test"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("creating a token on the token page = %d, want 303", p.status)
	}
	p = b.send("GET", p.location, nil)
	m := shownToken.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("token page shows no token: %d", p.status)
	}
	return m[1]
}

// apiRequest sends an API request with token and returns the response.
func apiRequest(t *testing.T, method, target, token, body string) hubPage {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{Timeout: 90 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return hubPage{status: resp.StatusCode, body: string(data)}
}
