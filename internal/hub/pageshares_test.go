package hub

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jupygo/jupygo/internal/store"
)

// oauthToken runs the OAuth flow of the server whose spawn environment is
// env for browser b, confirming on the page when asked, and returns the
// access token. It fails the test unless the flow succeeds.
func oauthToken(t *testing.T, th *testHub, b *browser, env map[string]string) string {
	t.Helper()
	client, secret, redirect := env["JUPYTERHUB_CLIENT_ID"], env["JUPYTERHUB_API_TOKEN"],
		env["JUPYTERHUB_OAUTH_CALLBACK_URL"]
	p := authorize(b, client, redirect)
	if p.status == http.StatusOK && strings.Contains(p.body, "Authorize access") {
		action := strings.ReplaceAll(regexp1(`<form method="post" action="([^"]+)"`, p.body), "&amp;", "&")
		p = b.post(action, url.Values{"_xsrf": {regexp1(`name="_xsrf" value="([^"]+)"`, p.body)}})
	}
	loc, _ := url.Parse(p.location)
	if p.status != http.StatusFound || loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize = %d %q, want a redirect with a code", p.status, p.location)
	}
	status, tok := exchange(t, th, client, secret, loc.Query().Get("code"), redirect)
	access, _ := tok["access_token"].(string)
	if status != http.StatusOK || access == "" {
		t.Fatalf("exchange = %d %v", status, tok)
	}
	return access
}

// tokenScopes returns the scopes that GET /hub/api/user reports for token,
// which the single-user server checks.
func tokenScopes(t *testing.T, th *testHub, token string) []string {
	t.Helper()
	var identity struct{ Scopes []string }
	r := th.api("GET", "/hub/api/user", token, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /hub/api/user = %d %s", r.status, r.body)
	}
	r.json(t, &identity)
	return identity.Scopes
}

// A share lets its user, or the members of its group, pass the authorize
// step of the server's OAuth client and the hub's own access check, with
// an OAuth token that holds the server's access scope alone. Revoking the
// share takes the access away at once.
func TestShareGrantsServerAccess(t *testing.T) {
	for _, tc := range []struct {
		name, guest string
		body        map[string]any
		revoke      map[string]any
	}{
		{"user", "bob", map[string]any{"user": "bob"}, map[string]any{"user": "bob"}},
		{"group", "carol", map[string]any{"group": "staff"}, map[string]any{"group": "staff"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			th := startSharingHub(t)
			alice := th.token("alice")
			if r := th.api("POST", "/hub/api/users/alice/server", alice, nil); r.status >= 300 {
				t.Fatalf("starting alice's server = %d %s", r.status, r.body)
			}
			env := th.spawner.lastRequest().Env
			guest := th.browser()
			guest.mustLogin(tc.guest)
			if p := authorize(guest, env["JUPYTERHUB_CLIENT_ID"], env["JUPYTERHUB_OAUTH_CALLBACK_URL"]); p.status != http.StatusForbidden {
				t.Fatalf("%s authorizing before the share = %d, want 403", tc.guest, p.status)
			}
			if p := guest.get("/hub/user/alice/lab/tree"); p.status != http.StatusNotFound {
				t.Errorf("%s at alice's stopped named path before the share = %d, want 404", tc.guest, p.status)
			}

			if r := th.api("POST", "/hub/api/shares/alice/", alice, tc.body); r.status != http.StatusOK {
				t.Fatalf("sharing = %d %s", r.status, r.body)
			}
			token := oauthToken(t, th, guest, env)
			scopes := tokenScopes(t, th, token)
			want := []string{"access:servers!server=alice/", "read:users:groups!user=" + tc.guest,
				"read:users:name!user=" + tc.guest}
			slices.Sort(scopes)
			if d := cmp.Diff(want, scopes); d != "" {
				t.Errorf("guest's OAuth token scopes (-want +got):\n%s", d)
			}

			if r := th.api("PATCH", "/hub/api/shares/alice/", alice, tc.revoke); r.status != http.StatusOK {
				t.Fatalf("revoking = %d %s", r.status, r.body)
			}
			if slices.Contains(tokenScopes(t, th, token), "access:servers!server=alice/") {
				t.Error("the guest's token keeps the access scope after the revoke")
			}
			if p := authorize(guest, env["JUPYTERHUB_CLIENT_ID"], env["JUPYTERHUB_OAUTH_CALLBACK_URL"]); p.status != http.StatusForbidden {
				t.Errorf("%s authorizing after the revoke = %d, want 403", tc.guest, p.status)
			}
		})
	}
}

// The hub's page for a stopped server shows a guest with a share that the
// server is not running, and others that it does not exist.
func TestShareNotRunningPage(t *testing.T) {
	th := startSharingHub(t)
	alice := th.token("alice")
	bob := th.browser()
	bob.mustLogin("bob")
	if p := bob.get("/hub/user/alice/lab/tree"); p.status != http.StatusNotFound {
		t.Errorf("bob before the share = %d, want 404", p.status)
	}
	th.api("POST", "/hub/api/shares/alice/lab", alice, map[string]any{"user": "bob"})
	p := bob.get("/hub/user/alice/lab/tree")
	if p.status != http.StatusFailedDependency || !strings.Contains(p.body, "not running") {
		t.Errorf("bob after the share = %d, want 424 not running: %.300s", p.status, p.body)
	}
	th.api("DELETE", "/hub/api/users/bob/shared/alice/lab", th.token("bob"), nil)
	if p := bob.get("/hub/user/alice/lab/tree"); p.status != http.StatusNotFound {
		t.Errorf("bob after leaving the share = %d, want 404", p.status)
	}
}

func TestAcceptSharePage(t *testing.T) {
	th := startSharingHub(t)
	alice := th.token("alice")
	var c shareCodeJSON
	th.api("POST", "/hub/api/share-codes/alice/lab", alice, nil).json(t, &c)

	anon := th.browser()
	if p := anon.get(c.AcceptURL); p.status != http.StatusFound ||
		!strings.HasPrefix(p.location, "/hub/login?next=") {
		t.Errorf("accept page signed out = %d %q, want the login page", p.status, p.location)
	}

	bob := th.browser()
	bob.mustLogin("bob")
	p := bob.get(c.AcceptURL)
	if p.status != http.StatusOK || !strings.Contains(p.body, "Accept invitation") ||
		!strings.Contains(p.body, "access:servers!server=alice/lab") {
		t.Fatalf("accept page = %d: %.500s", p.status, p.body)
	}
	action := strings.ReplaceAll(regexp1(`<form method="post" action="([^"]+)"`, p.body), "&amp;", "&")
	form := url.Values{"code": {c.Code}}
	if p := bob.post(action, form); p.status != http.StatusForbidden {
		t.Errorf("accepting without _xsrf = %d, want 403", p.status)
	}
	form.Set("_xsrf", regexp1(`name="_xsrf" value="([^"]+)"`, p.body))
	p = bob.post(action, form)
	if p.status != http.StatusFound || p.location != "/user/alice/lab/" {
		t.Errorf("accepting = %d %q, want a redirect to /user/alice/lab/", p.status, p.location)
	}
	if _, err := th.store.GetShare(t.Context(), store.ShareKey{Owner: "alice", Server: "lab",
		User: "bob"}); err != nil {
		t.Errorf("bob's share after accepting: %v", err)
	}

	// The code works again, for another user, until it expires.
	carol := th.browser()
	carol.mustLogin("carol")
	xsrf := carol.xsrf(c.AcceptURL)
	p = carol.post("/hub/accept-share?next="+url.QueryEscape("/hub/home"),
		url.Values{"code": {c.Code}, "_xsrf": {xsrf}})
	if p.status != http.StatusFound || p.location != "/hub/home" {
		t.Errorf("carol accepting with next = %d %q, want /hub/home", p.status, p.location)
	}
	found, err := th.store.FindShareCode(t.Context(), c.Code)
	if err != nil || found.ExchangeCount != 2 {
		t.Errorf("code after two exchanges = %+v, %v, want exchange_count 2", found, err)
	}

	owner := th.browser()
	owner.mustLogin("alice")
	if p := owner.get(c.AcceptURL); p.status != http.StatusForbidden {
		t.Errorf("owner at the accept page = %d, want 403", p.status)
	}
	p = owner.post("/hub/accept-share", url.Values{"code": {c.Code}, "_xsrf": {owner.xsrf("/hub/home")}})
	if p.status != http.StatusBadRequest {
		t.Errorf("owner accepting = %d, want 400", p.status)
	}

	_, expired, err := th.store.CreateShareCode(t.Context(), store.NewShareCode{Owner: "alice",
		Scopes: []string{"access:servers"}, ExpiresAt: time.Now().Add(-time.Minute)})
	must(t, err)
	for _, code := range []string{expired, "nope", ""} {
		if p := bob.get("/hub/accept-share?code=" + url.QueryEscape(code)); p.status != http.StatusNotFound {
			t.Errorf("accept page of code %q = %d, want 404", code, p.status)
		}
		p := bob.post("/hub/accept-share", url.Values{"code": {code}, "_xsrf": {bob.xsrf("/hub/home")}})
		if p.status != http.StatusBadRequest {
			t.Errorf("accepting code %q = %d, want 400", code, p.status)
		}
	}
	if _, err := th.store.GetShare(t.Context(), store.ShareKey{Owner: "alice", User: "bob"}); err == nil {
		t.Error("the expired code made a share")
	}
}

func TestHomePageShares(t *testing.T) {
	th := startSharingHub(t)
	alice := th.token("alice")
	th.api("POST", "/hub/api/shares/alice/lab", alice, map[string]any{"user": "bob"})
	th.api("POST", "/hub/api/shares/alice/lab", alice, map[string]any{"group": "staff"})

	owner := th.browser()
	owner.mustLogin("alice")
	p := owner.get("/hub/home")
	if !strings.Contains(p.body, "Shares of my servers") || strings.Count(p.body, ">Revoke</button>") != 2 {
		t.Errorf("alice's home lacks her two shares with revoke buttons: %s", p.body)
	}
	xsrf := regexp1(`name="_xsrf" value="([^"]+)"`, p.body)
	p = owner.post("/hub/shares/revoke", url.Values{"_xsrf": {xsrf}, "server": {"lab"}, "group": {"staff"}})
	if p.status != http.StatusSeeOther || !strings.Contains(p.location, "notice=") {
		t.Errorf("revoking staff's share = %d %q, want a redirect with a notice", p.status, p.location)
	}
	if p := owner.post("/hub/shares/revoke", url.Values{"server": {"lab"}, "user": {"bob"}}); p.status != http.StatusForbidden {
		t.Errorf("revoking without _xsrf = %d, want 403", p.status)
	}
	p = owner.post("/hub/shares/revoke", url.Values{"_xsrf": {xsrf}, "server": {"gpu"}, "user": {"bob"}})
	if !strings.Contains(p.location, "error=") {
		t.Errorf("revoking a missing share = %d %q, want an error", p.status, p.location)
	}

	guest := th.browser()
	guest.mustLogin("bob")
	p = guest.get("/hub/home")
	if !strings.Contains(p.body, "Servers shared with me") || !strings.Contains(p.body, "/user/alice/lab/") ||
		!strings.Contains(p.body, ">Leave</button>") {
		t.Errorf("bob's home lacks the share with a leave button: %s", p.body)
	}
	// bob holds no shares scope, so he cannot revoke the shares of others.
	p = guest.post("/hub/shares/revoke", url.Values{"_xsrf": {regexp1(`name="_xsrf" value="([^"]+)"`, p.body)},
		"server": {""}, "user": {"carol"}})
	if !strings.Contains(p.location, "error=") {
		t.Errorf("bob revoking = %q, want an error", p.location)
	}
	p = guest.post("/hub/shares/leave", url.Values{"_xsrf": {guest.xsrf("/hub/home")},
		"owner": {"alice"}, "server": {"lab"}})
	if p.status != http.StatusSeeOther || !strings.Contains(p.location, "notice=") {
		t.Errorf("leaving = %d %q, want a redirect with a notice", p.status, p.location)
	}
	shares, _, err := th.store.ListShares(t.Context(), store.ShareQuery{})
	if err != nil || len(shares) != 0 {
		t.Errorf("shares after revoke and leave = %v, %v, want none", shares, err)
	}
}

// Spawner.oauth_client_allowed_scopes puts the scopes that JupyterLab's
// share dialog checks into the OAuth tokens of users who hold them, so
// the owner's JupyterLab can share the server and a guest's cannot.
func TestShareDialogScopes(t *testing.T) {
	th := startHub(t, hubOptions{config: sharingConfig + `
[Spawner]
oauth_client_allowed_scopes = ["shares!server", "read:users:name"]
`})
	th.addUser("alice", false)
	th.addUser("bob", false)
	alice := th.token("alice")
	if r := th.api("POST", "/hub/api/users/alice/server", alice, nil); r.status >= 300 {
		t.Fatalf("starting alice's server = %d %s", r.status, r.body)
	}
	env := th.spawner.lastRequest().Env
	if got, want := env["JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES"],
		`["shares!server=alice/","read:users:name"]`; got != want {
		t.Errorf("JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES = %s, want %s", got, want)
	}

	var root struct{ Version string }
	th.api("GET", "/hub/api", "", nil).json(t, &root)
	if !strings.HasPrefix(root.Version, "5.") {
		t.Errorf("hub version %q, want 5.x, which the share dialog requires", root.Version)
	}

	owner := th.browser()
	owner.mustLogin("alice")
	token := oauthToken(t, th, owner, env)
	scopes := tokenScopes(t, th, token)
	for _, want := range []string{"read:users:name", "shares!server=alice/", "access:servers!server=alice/"} {
		if !slices.Contains(scopes, want) {
			t.Errorf("alice's OAuth token lacks %s: %v", want, scopes)
		}
	}
	if sorted := slices.Sorted(slices.Values(scopes)); len(slices.Compact(sorted)) != len(scopes) {
		t.Errorf("alice's OAuth token repeats scopes: %v", scopes)
	}
	// The requests of the share dialog, with the token of the page config.
	if r := th.api("GET", "/hub/api/shares/alice/", token, nil); r.status != http.StatusOK {
		t.Errorf("listing shares with the OAuth token = %d %s", r.status, r.body)
	}
	r := th.api("POST", "/hub/api/shares/alice/", token, map[string]any{"user": "bob",
		"scopes": []string{"access:servers!server=alice/"}})
	if r.status != http.StatusOK {
		t.Fatalf("sharing with the OAuth token = %d %s", r.status, r.body)
	}

	guest := th.browser()
	guest.mustLogin("bob")
	scopes = tokenScopes(t, th, oauthToken(t, th, guest, env))
	if slices.Contains(scopes, "shares!server=alice/") || slices.Contains(scopes, "read:users:name") ||
		!slices.Contains(scopes, "access:servers!server=alice/") {
		t.Errorf("bob's OAuth token scopes = %v, want access alone", scopes)
	}
	if r := th.api("PATCH", "/hub/api/shares/alice/", token, map[string]any{"user": "bob"}); r.status != http.StatusOK {
		t.Errorf("revoking with the OAuth token = %d %s", r.status, r.body)
	}
}
