package hub

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jupygo/jupygo/internal/hub/auth"
)

// fakeProvider is a redirect authenticator whose provider signs in the
// user named by the callback's user parameter when its code is "ok".
type fakeProvider struct{}

func (fakeProvider) Class() string                     { return "fake" }
func (fakeProvider) NormalizeUsername(s string) string { return strings.ToLower(s) }

func (fakeProvider) LoginURL(state, callback string) string {
	return "https://provider.example/authorize?" +
		url.Values{"state": {state}, "redirect_uri": {callback}}.Encode()
}

func (fakeProvider) Callback(_ context.Context, q url.Values, _ string) (auth.User, error) {
	if q.Get("code") != "ok" {
		return auth.User{}, errors.New("bad code")
	}
	return auth.User{Name: q.Get("user")}, nil
}

func TestRedirectSignIn(t *testing.T) {
	th := startHub(t, hubOptions{auth: fakeProvider{}, config: `
[Authenticator]
allowed_users = ["alice"]
`})
	b := th.browser()
	login := b.get("/hub/login?next=/hub/token")
	if !strings.Contains(login.body, "/hub/oauth_login?next=%2fhub%2ftoken") &&
		!strings.Contains(login.body, "/hub/oauth_login?next=%2Fhub%2Ftoken") {
		t.Fatalf("login page lacks the provider link: %s", login.body)
	}
	p := b.get("/hub/oauth_login?next=/hub/token")
	u, err := url.Parse(p.location)
	if p.status != http.StatusFound || err != nil || u.Host != "provider.example" {
		t.Fatalf("oauth_login = %d %q", p.status, p.location)
	}
	state := u.Query().Get("state")
	if got := u.Query().Get("redirect_uri"); got != th.url+"/hub/oauth_callback" {
		t.Errorf("redirect_uri = %q", got)
	}
	if p := b.get("/hub/oauth_callback?" + url.Values{"state": {"forged"}, "code": {"ok"},
		"user": {"alice"}}.Encode()); p.status != http.StatusBadRequest {
		t.Errorf("callback with a forged state = %d, want 400", p.status)
	}
	p = b.get("/hub/oauth_callback?" + url.Values{"state": {state}, "code": {"ok"},
		"user": {"Alice"}}.Encode())
	if p.status != http.StatusFound || p.location != "/hub/token" {
		t.Fatalf("callback = %d %q, want a redirect to /hub/token", p.status, p.location)
	}
	if p := b.get("/hub/home"); p.status != http.StatusOK {
		t.Errorf("home after the redirect sign-in = %d", p.status)
	}

	// A user the provider knows but the hub does not allow.
	other := th.browser()
	p = other.get("/hub/oauth_login")
	u, _ = url.Parse(p.location)
	p = other.get("/hub/oauth_callback?" + url.Values{"state": {u.Query().Get("state")},
		"code": {"ok"}, "user": {"mallory"}}.Encode())
	if p.status != http.StatusForbidden {
		t.Errorf("callback of a user not allowed = %d, want 403", p.status)
	}
	if _, err := th.store.GetUser(t.Context(), "mallory"); err == nil {
		t.Error("a user who is not allowed got a record")
	}
}
