//go:build !nohub

package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	authorizeAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	pageToken       = regexp.MustCompile(`"token":\s*"([^"]+)"`)
)

// openShared opens path, a page of another user's server, as b: it
// follows the redirects, confirms the OAuth authorization page when the
// hub shows it, and returns the last page and its path.
func openShared(t *testing.T, b *hubBrowser, path string) (hubPage, string) {
	t.Helper()
	p, at := b.follow(path)
	if p.status != http.StatusOK || !strings.Contains(p.body, "Authorize access") {
		return p, at
	}
	action := strings.ReplaceAll(authorizeAction.FindStringSubmatch(p.body)[1], "&amp;", "&")
	confirmed := b.send("POST", action, url.Values{"_xsrf": {pageXSRF.FindStringSubmatch(p.body)[1]}})
	if confirmed.status != http.StatusFound {
		t.Fatalf("confirming the authorization = %d: %.300s", confirmed.status, confirmed.body)
	}
	return b.follow(confirmed.location)
}

// TestHubSharing runs the real hub, spawner and single-user server: the
// admin shares a running server with a user and with a group, the guests
// open its JupyterLab through the proxy, and after the revoke a new
// sign-in of the guest is turned away.
func TestHubSharing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hub.toml")
	if err := os.WriteFile(cfg, []byte("[Spawner]\noauth_client_allowed_scopes = "+
		"[\"shares!server\", \"read:users:name\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hp := startHubProcess(t, buildJupygo(t), filepath.Join(dir, "data"), "-f", cfg)
	admin := newHubBrowser(t, hp.url)
	admin.replacePassword(hp.admin, hp.password, "the admin's own password")
	if p := admin.send("POST", "/hub/admin/users", url.Values{"_xsrf": {admin.xsrf("/hub/admin")},
		"usernames": {"bob\ncarol"}, "password": {"a long first password"}}); p.status != http.StatusSeeOther {
		t.Fatalf("adding bob and carol = %d", p.status)
	}
	token := hubToken(t, admin)
	api := func(method, path, body string) hubPage {
		t.Helper()
		return apiRequest(t, method, hp.url+"/hub/api/"+path, token, body)
	}
	if p := api("POST", "groups/staff", `{"users": ["carol"]}`); p.status != http.StatusCreated {
		t.Fatalf("creating staff = %d %s", p.status, p.body)
	}
	lab := "/user/" + hp.admin + "/lab"
	p, at := admin.follow("/hub/spawn/" + hp.admin + "?next=" + url.QueryEscape(lab))
	if p.status != http.StatusOK {
		t.Fatalf("admin's JupyterLab = %d at %s", p.status, at)
	}
	// JupyterLab's share dialog sends the page config's token to the hub
	// and offers shares when its scopes hold these.
	m := pageToken.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatal("admin's page config has no token")
	}
	self := apiRequest(t, "GET", hp.url+"/hub/api/user", m[1], "")
	for _, want := range []string{`"read:users:name"`, `"shares!server=` + hp.admin + `/"`} {
		if !strings.Contains(self.body, want) {
			t.Errorf("scopes of the admin's page token lack %s: %s", want, self.body)
		}
	}

	bob := newHubBrowser(t, hp.url)
	bob.replacePassword("bob", "a long first password", "bob's own password")
	if p, at := openShared(t, bob, lab); p.status != http.StatusForbidden {
		t.Errorf("bob before the share = %d at %s, want 403", p.status, at)
	}
	if p := api("POST", "shares/"+hp.admin+"/", `{"user": "bob"}`); p.status != http.StatusOK {
		t.Fatalf("sharing with bob = %d %s", p.status, p.body)
	}
	p, at = openShared(t, bob, lab)
	if p.status != http.StatusOK || at != lab {
		t.Fatalf("bob's JupyterLab = %d at %s: %.300s", p.status, at, p.body)
	}
	for _, want := range []string{`"hubUser": "bob"`, `"hubServerUser": "` + hp.admin + `"`,
		`"shareUrl": "/hub/user-redirect"`} {
		if !strings.Contains(strings.ReplaceAll(p.body, `":"`, `": "`), want) {
			t.Errorf("bob's page config lacks %s", want)
		}
	}
	if p := bob.send("GET", "/user/"+hp.admin+"/api/status", nil); p.status != http.StatusOK {
		t.Errorf("bob's API call through the proxy = %d %s", p.status, p.body)
	}

	carol := newHubBrowser(t, hp.url)
	carol.replacePassword("carol", "a long first password", "carol's own password")
	if p := api("POST", "shares/"+hp.admin+"/", `{"group": "staff"}`); p.status != http.StatusOK {
		t.Fatalf("sharing with staff = %d %s", p.status, p.body)
	}
	if p, at := openShared(t, carol, lab); p.status != http.StatusOK || at != lab {
		t.Errorf("carol's JupyterLab through staff = %d at %s", p.status, at)
	}

	// After the revoke, the hub refuses bob a new sign-in to the server.
	if p := api("PATCH", "shares/"+hp.admin+"/", `{"user": "bob"}`); p.status != http.StatusOK {
		t.Fatalf("revoking bob's share = %d %s", p.status, p.body)
	}
	again := newHubBrowser(t, hp.url)
	again.login("bob", "bob's own password")
	if p, at := openShared(t, again, lab); p.status != http.StatusForbidden {
		t.Errorf("bob after the revoke = %d at %s, want 403", p.status, at)
	}
}
