//go:build !nohub

package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/hub/auth/fakegithub"

	"github.com/jupygo/jupygo/internal/testutil/sysaccount"
)

// TestHubAccountAtGitHubSignIn runs the hub as root with GitHub sign-in,
// spawner_class localprocess and create_system_users. The first sign-in
// creates the user's system account before any server starts. A GitHub
// login that cannot be an account name is rejected at sign-in. A user whom
// an admin adds gets the account at the first start instead.
func TestHubAccountAtGitHubSignIn(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if os.Geteuid() != 0 {
		t.Skip("skipped: creating system accounts needs a hub running as root " +
			"(CI runs the tests as root)")
	}
	bin := sysaccount.SharedBinary(t, buildJupygo(t))
	signed := sysaccount.NewName()
	added := sysaccount.NewName()
	sysaccount.RemoveAtCleanup(t, signed)
	sysaccount.RemoveAtCleanup(t, added)

	gh := startFakeGitHub(t, fakegithub.User{Login: signed}, fakegithub.User{Login: "9lives"})
	cfg := writeHubConfig(t, `[JupyterHub]
authenticator_class = "github"
spawner_class = "localprocess"

[Authenticator]
admin_users = ["`+signed+`"]
allowed_users = ["9lives"]

[GitHubOAuthenticator]
github_url = "`+gh.URL+`"

[LocalAuthenticator]
create_system_users = true

[Spawner]
cmd = ["`+bin+`", "server"]
`)
	hp := startHubProcess(t, bin, t.TempDir(), "-f", cfg)

	b, p := signInWithGitHub(t, hp, gh, signed, "/hub/home")
	if p.status != http.StatusFound || p.location != "/hub/home" {
		t.Fatalf("callback of %s = %d %q: %s", signed, p.status, p.location, p.body)
	}
	account, err := user.Lookup(signed)
	if err != nil {
		t.Fatalf("the sign-in created no system account: %v", err)
	}
	info, err := os.Stat(account.HomeDir)
	if err != nil {
		t.Fatalf("the new account has no home folder: %v", err)
	}
	if owner := strconv.Itoa(int(info.Sys().(*syscall.Stat_t).Uid)); owner != account.Uid {
		t.Errorf("home folder %s belongs to uid %s, want %s", account.HomeDir, owner, account.Uid)
	}
	if _, err := os.Stat(filepath.Join(account.HomeDir, ".jupygo-server.log")); err == nil {
		t.Error("a server ran at sign-in, which only creates the account")
	}

	_, p = signInWithGitHub(t, hp, gh, "9lives", "/hub/home")
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "cannot sign in") ||
		!strings.Contains(p.body, "lowercase letter") {
		t.Errorf("callback of 9lives = %d, want 403 with the account name rule: %s",
			p.status, p.body)
	}
	if _, err := user.Lookup("9lives"); err == nil {
		t.Error("an account 9lives exists")
	}

	// A user that an admin adds has no account until their first start.
	token := hubToken(t, b)
	if r := apiRequest(t, "POST", hp.url+"/hub/api/users/"+added, token, ""); r.status !=
		http.StatusCreated {
		t.Fatalf("adding %s = %d %s", added, r.status, r.body)
	}
	if _, err := user.Lookup(added); err == nil {
		t.Fatalf("adding %s through the API created its account", added)
	}
	if r := apiRequest(t, "POST", hp.url+"/hub/api/users/"+added+"/server", token, ""); r.status !=
		http.StatusCreated && r.status != http.StatusAccepted {
		t.Fatalf("starting the server of %s = %d %s", added, r.status, r.body)
	}
	waitServerReady(t, hp, token, added)
	if _, err := user.Lookup(added); err != nil {
		t.Errorf("the first start of %s created no account: %v", added, err)
	}
}

// waitServerReady polls the user model until user's default server is
// ready, for up to a minute.
func waitServerReady(t *testing.T, hp *hubProcess, token, name string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		r := apiRequest(t, "GET", hp.url+"/hub/api/users/"+name, token, "")
		var model struct {
			Servers map[string]struct {
				Ready bool `json:"ready"`
			} `json:"servers"`
		}
		if err := json.Unmarshal([]byte(r.body), &model); err != nil {
			t.Fatalf("user model of %s = %d %s: %v", name, r.status, r.body, err)
		}
		if model.Servers[""].Ready {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server of %s is not ready after a minute: %s", name, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
