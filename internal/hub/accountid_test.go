package hub

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/jupygo/jupygo/internal/hub/auth"
	"github.com/jupygo/jupygo/internal/hub/auth/fakegithub"
)

// TestGitHubLoginOfAnotherAccount checks that a GitHub login taken over by
// another account, as after a rename, does not get the old account's user.
func TestGitHubLoginOfAnotherAccount(t *testing.T) {
	gh := fakegithub.Start(fakegithub.Options{RequirePKCE: true})
	t.Cleanup(gh.Close)
	gh.AddUser(fakegithub.User{Login: "alice", ID: 1001})
	g, err := auth.NewGitHub(auth.GitHubOptions{
		OAuthOptions: auth.OAuthOptions{ClientID: gh.ClientID, ClientSecret: gh.ClientSecret},
		GitHubURL:    gh.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	th := startHub(t, hubOptions{auth: g, log: slog.New(slog.NewTextHandler(&logs, nil)),
		config: "[Authenticator]\nallowed_users = [\"alice\"]\n"})
	signIn := func() pageResult {
		b := th.browser()
		return b.get(authorizeAt(t, b, th, startGitHubLogin(t, b, gh, "/hub/home"), "alice"))
	}

	if p := signIn(); p.status != http.StatusFound {
		t.Fatalf("first sign-in of alice = %d %s", p.status, p.body)
	}
	if p := signIn(); p.status != http.StatusFound {
		t.Fatalf("second sign-in of the same account = %d %s", p.status, p.body)
	}

	// The first alice renamed her account, and another person took the
	// login alice.
	gh.AddUser(fakegithub.User{Login: "alice", ID: 2002})
	p := signIn()
	if p.status != http.StatusForbidden {
		t.Fatalf("sign-in of another account with the login alice = %d, want 403", p.status)
	}
	if !strings.Contains(p.body, "belongs to another GitHub account") {
		t.Errorf("403 page does not name the reason: %s", p.body)
	}
	if !strings.Contains(p.body, "deletes user alice on the admin page") {
		t.Errorf("403 page does not tell the administrator what to do: %s", p.body)
	}
	if c := cookiesOf(p)[loginCookie]; c != nil && c.MaxAge >= 0 {
		t.Error("the rejected sign-in got a login cookie")
	}
	u, err := th.store.GetUser(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := auth.AccountIDFromAuthState(u.AuthState); id.ID != "1001" {
		t.Errorf("stored GitHub id after the rejected sign-in = %q, want 1001", id.ID)
	}
	for _, want := range []string{"sign-in rejected", "stored_id=1001", "id=2002"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("hub log lacks %q:\n%s", want, logs.String())
		}
	}

	// Once an admin deletes the user, the new account signs in as a new
	// user.
	if err := th.store.DeleteUser(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	if p := signIn(); p.status != http.StatusFound {
		t.Fatalf("sign-in after the user was deleted = %d %s", p.status, p.body)
	}
}

func TestOIDCLoginOfAnotherSubject(t *testing.T) {
	m, g := startMockOIDC(t)
	th := startHub(t, hubOptions{auth: g, config: "[Authenticator]\nallowed_users = [\"dana\"]\n"})
	signIn := func(subject string) pageResult {
		m.QueueUser(&mockoidc.MockUser{Subject: subject, PreferredUsername: "dana"})
		b := th.browser()
		p := b.get("/hub/oauth_login")
		p = b.getURL(p.location)
		return b.get(strings.TrimPrefix(p.location, th.url))
	}
	if p := signIn("subject-1"); p.status != http.StatusFound {
		t.Fatalf("first sign-in of dana = %d %s", p.status, p.body)
	}
	p := signIn("subject-2")
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "another Example SSO account") {
		t.Errorf("sign-in of another subject as dana = %d, want 403 naming the reason: %s",
			p.status, p.body)
	}
	if p := signIn("subject-1"); p.status != http.StatusFound {
		t.Errorf("sign-in of the first subject again = %d %s", p.status, p.body)
	}
}
