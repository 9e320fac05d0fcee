package hub

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/jupygo/jupygo/internal/store"
)

// sessionID returns the login session ID of a signed-in browser.
func (b *browser) sessionID() string {
	b.t.Helper()
	u, err := url.Parse(b.base + "/")
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			return c.Value
		}
	}
	b.t.Fatal("the browser has no session ID cookie")
	return ""
}

// oauthToken stores a token of user issued through the login session, as
// the OAuth provider issues one to a user server.
func (th *testHub) oauthToken(user, sessionID string) string {
	th.t.Helper()
	_, tok, err := th.store.CreateToken(context.Background(), store.NewToken{
		Owner: store.Owner{User: user}, Scopes: []string{"inherit"}, SessionID: sessionID})
	if err != nil {
		th.t.Fatal(err)
	}
	return tok
}

// signedIn reports whether the browser's login cookie still signs it in.
// It requests the password page, which a user with a temporary password
// may open too.
func (b *browser) signedIn() bool {
	b.t.Helper()
	return b.get(b.prefix+"password").status == http.StatusOK
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.addUser("bob", false)
	current, other, bob := th.browser(), th.browser(), th.browser()
	current.mustLogin("alice")
	other.mustLogin("alice")
	bob.mustLogin("bob")
	currentToken := th.oauthToken("alice", current.sessionID())
	otherToken := th.oauthToken("alice", other.sessionID())

	token := current.xsrf("/hub/password")
	p := current.post("/hub/password", url.Values{"_xsrf": {token}, "current": {testPassword},
		"new": {"a new password"}, "confirm": {"a new password"}})
	if p.status != http.StatusOK {
		t.Fatalf("password change = %d %s", p.status, p.body)
	}
	if !current.signedIn() {
		t.Error("the session that changed the password was signed out")
	}
	if other.signedIn() {
		t.Error("another session of alice is still signed in after the password change")
	}
	if !bob.signedIn() {
		t.Error("bob was signed out by alice's password change")
	}
	if r := th.api("GET", "/hub/api/user", otherToken, nil); r.status != http.StatusForbidden {
		t.Errorf("token of the ended session = %d, want 403", r.status)
	}
	if r := th.api("GET", "/hub/api/user", currentToken, nil); r.status != http.StatusOK {
		t.Errorf("token of the current session = %d, want 200", r.status)
	}
}

func TestAdminPasswordEndsSessions(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("admin", true)
	th.addUser("alice", false)
	admin, alice := th.browser(), th.browser()
	admin.mustLogin("admin")
	alice.mustLogin("alice")
	aliceToken := th.oauthToken("alice", alice.sessionID())

	token := admin.xsrf("/hub/admin")
	p := admin.post("/hub/admin/users/alice/password", url.Values{"_xsrf": {token},
		"password": {"set by the admin"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("set password = %d %q", p.status, p.location)
	}
	if alice.signedIn() {
		t.Error("alice is still signed in after an admin set her password")
	}
	if r := th.api("GET", "/hub/api/user", aliceToken, nil); r.status != http.StatusForbidden {
		t.Errorf("token of alice's ended session = %d, want 403", r.status)
	}
	if !admin.signedIn() {
		t.Error("the admin was signed out by setting alice's password")
	}

	p = admin.post("/hub/admin/users/admin/password", url.Values{"_xsrf": {token},
		"password": {"the admin's own"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("set own password = %d %q", p.status, p.location)
	}
	if !admin.signedIn() {
		t.Error("the admin's own session ended when the admin set the own password")
	}
	if p := admin.get("/hub/home"); p.status != http.StatusOK {
		t.Errorf("home after the admin set the own password = %d %q, want 200 and no "+
			"forced password change", p.status, p.location)
	}
}
