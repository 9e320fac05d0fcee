package hub

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jupygo/jupygo/internal/hub/auth"
	"github.com/jupygo/jupygo/internal/store"
)

func TestLoginNeedsXSRF(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	b := th.browser()
	b.xsrf("/hub/login")
	p := b.post("/hub/login", url.Values{"username": {"alice"}, "password": {testPassword}})
	if p.status != http.StatusForbidden {
		t.Errorf("login without _xsrf = %d, want 403", p.status)
	}
	p = b.post("/hub/login", url.Values{"_xsrf": {"forged"}, "username": {"alice"},
		"password": {testPassword}})
	if p.status != http.StatusForbidden {
		t.Errorf("login with a forged _xsrf = %d, want 403", p.status)
	}
	// Another browser's token does not fit this browser's session.
	other := th.browser().xsrf("/hub/login")
	p = b.post("/hub/login", url.Values{"_xsrf": {other}, "username": {"alice"},
		"password": {testPassword}})
	if p.status != http.StatusForbidden {
		t.Errorf("login with another session's _xsrf = %d, want 403", p.status)
	}
}

func TestLoginAndHome(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	b := th.browser()
	if p := b.get("/hub/home"); p.status != http.StatusFound ||
		!strings.HasPrefix(p.location, "/hub/login?next=") {
		t.Fatalf("home before login = %d %q, want a redirect to login", p.status, p.location)
	}
	if p := b.login("alice", "wrong password", ""); p.status != http.StatusForbidden {
		t.Errorf("wrong password = %d, want 403", p.status)
	}
	p := b.login("alice", testPassword, "/hub/token")
	if p.status != http.StatusFound || p.location != "/hub/token" {
		t.Fatalf("login = %d %q, want a redirect to /hub/token", p.status, p.location)
	}
	home := b.get("/hub/home")
	if home.status != http.StatusOK || !strings.Contains(home.body, "Start my server") {
		t.Errorf("home = %d, body lacks the start button", home.status)
	}
	if strings.Contains(home.body, `href="/hub/admin"`) {
		t.Error("a user who is not an admin sees the admin link")
	}
	if p := b.get("/hub/admin"); p.status != http.StatusForbidden {
		t.Errorf("admin page for a user = %d, want 403", p.status)
	}
}

func TestLoginRateLimit(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	b := th.browser()
	for i := range 5 {
		if p := b.login("alice", "wrong", ""); p.status != http.StatusForbidden {
			t.Fatalf("attempt %d = %d, want 403", i+1, p.status)
		}
	}
	p := b.login("alice", testPassword, "")
	if p.status != http.StatusTooManyRequests {
		t.Errorf("sixth attempt = %d, want 429 even with the right password", p.status)
	}
	if p.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}

// heldPasswords rejects every password, each only once release is closed, so that
// sign-ins overlap while their passwords are checked.
type heldPasswords struct {
	*auth.Local
	checks  atomic.Int32
	release chan struct{}
}

func (h *heldPasswords) AuthenticateForm(context.Context, string, string) (auth.User, error) {
	h.checks.Add(1)
	<-h.release
	return auth.User{}, auth.ErrInvalidCredentials
}

func TestLoginRateLimitConcurrent(t *testing.T) {
	held := &heldPasswords{release: make(chan struct{})}
	th := startHub(t, hubOptions{auth: held})
	const attempts = 20
	var requests []*http.Request
	var clients []*http.Client
	for range attempts {
		b := th.browser()
		form := url.Values{"_xsrf": {b.xsrf("/hub/login")}, "username": {"alice"},
			"password": {"wrong"}}
		req, err := http.NewRequest("POST", th.url+"/hub/login", strings.NewReader(form.Encode()))
		must(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		requests, clients = append(requests, req), append(clients, b.client)
	}
	results := make(chan int, attempts)
	for i, req := range requests {
		go func() {
			resp, err := clients[i].Do(req)
			if err != nil {
				results <- 0
				return
			}
			resp.Body.Close()
			results <- resp.StatusCode
		}()
	}

	// Each attempt either waits in the password check or has its response.
	statuses := map[int]int{}
	received := 0
	waitFor(t, "every attempt checked or answered", func() bool {
		for {
			select {
			case status := <-results:
				statuses[status]++
				received++
			default:
				return int(held.checks.Load())+received >= attempts
			}
		}
	})
	if got := held.checks.Load(); got != 5 {
		t.Errorf("passwords checked at once = %d, want the limit of 5", got)
	}
	close(held.release)
	for ; received < attempts; received++ {
		statuses[<-results]++
	}
	want := map[int]int{http.StatusForbidden: 5, http.StatusTooManyRequests: 15}
	if !maps.Equal(statuses, want) {
		t.Errorf("statuses = %v, want %v", statuses, want)
	}
}

func TestLoginRateLimitPerAddress(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	b := th.browser()
	for i := range 30 {
		if p := b.login(fmt.Sprintf("nobody%d", i), "wrong", ""); p.status != http.StatusForbidden {
			t.Fatalf("attempt %d = %d, want 403", i+1, p.status)
		}
	}
	if p := b.login("alice", testPassword, ""); p.status != http.StatusTooManyRequests {
		t.Errorf("login after 30 failures from one address = %d, want 429", p.status)
	}
}

// browserFrom returns a browser whose connections come from the loopback
// address ip, such as 127.0.0.2.
func (th *testHub) browserFrom(ip string) *browser {
	b := th.browser()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	b.client.Transport = &http.Transport{DialContext: dialer.DialContext}
	return b
}

func TestLoginRateLimitOtherAddress(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	guesser := th.browserFrom("127.0.0.2")
	for i := range 5 {
		if p := guesser.login("alice", "wrong", ""); p.status != http.StatusForbidden {
			t.Fatalf("attempt %d = %d, want 403", i+1, p.status)
		}
	}
	if p := guesser.login("alice", testPassword, ""); p.status != http.StatusTooManyRequests {
		t.Errorf("sixth attempt from the guesser = %d, want 429", p.status)
	}
	if p := th.browserFrom("127.0.0.1").login("alice", testPassword, ""); p.status != http.StatusFound {
		t.Errorf("login of alice from another address = %d, want 302", p.status)
	}
}

func TestLoginRateLimitKnownAddress(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("admin", true)
	th.addUser("bob", false)
	th.browser().mustLogin("admin")
	b := th.browser()
	for i := range 30 {
		if p := b.login(fmt.Sprintf("nobody%d", i), "wrong", ""); p.status != http.StatusForbidden {
			t.Fatalf("attempt %d = %d, want 403", i+1, p.status)
		}
	}
	if p := b.login("admin", testPassword, ""); p.status != http.StatusFound {
		t.Errorf("login of admin from the address of its last sign-in = %d, want 302", p.status)
	}
	if p := th.browser().login("bob", testPassword, ""); p.status != http.StatusTooManyRequests {
		t.Errorf("first login of bob from that address = %d, want 429", p.status)
	}
}

func TestLoginRateLimitIgnoresForwardedFor(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	b := th.browser()
	for i := range 6 {
		path := "/hub/login"
		token := b.xsrf(path)
		form := url.Values{"_xsrf": {token}, "username": {"alice"}, "password": {"wrong"}}
		req, err := http.NewRequest(http.MethodPost, th.url+path, strings.NewReader(form.Encode()))
		must(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.0.0.%d", i+1))
		want := http.StatusForbidden
		if i == 5 {
			want = http.StatusTooManyRequests
		}
		if p := b.do(req); p.status != want {
			t.Errorf("attempt %d with a new X-Forwarded-For = %d, want %d", i+1, p.status, want)
		}
	}
}

// anyone is a form authenticator that accepts every password.
type anyone struct{ *auth.Local }

func (anyone) AuthenticateForm(_ context.Context, name, _ string) (auth.User, error) {
	return auth.User{Name: name}, nil
}

func TestNotAllowedUser(t *testing.T) {
	th := startHub(t, hubOptions{config: `
[Authenticator]
allowed_users = ["alice"]
`, auth: anyone{}})
	b := th.browser()
	p := b.login("mallory", "x", "")
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "not allowed") {
		t.Errorf("login of a user not allowed = %d, want the 403 page", p.status)
	}
	if _, err := th.store.GetUser(t.Context(), "mallory"); err == nil {
		t.Error("a user who is not allowed got a record")
	}
	if p := th.browser().login("alice", "x", ""); p.status != http.StatusFound {
		t.Errorf("login of an allowed user = %d, want 302", p.status)
	}
}

func TestNextRedirectAfterLogin(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	for _, tt := range []struct{ next, want string }{
		{"/hub/token", "/hub/token"},
		{"/user/alice/lab?reset", "/user/alice/lab?reset"},
		{"//evil.example/x", "/hub/home"},
		{"///evil.example", "/hub/home"},
		{`\evil.example`, "/hub/home"},
		{`/\evil.example`, "/hub/home"},
		{"https://evil.example/", "/hub/home"},
		{"javascript:alert(1)", "/hub/home"},
	} {
		t.Run(tt.next, func(t *testing.T) {
			p := th.browser().login("alice", testPassword, tt.next)
			if p.status != http.StatusFound || p.location != tt.want {
				t.Errorf("login with next=%q = %d %q, want %q", tt.next, p.status, p.location, tt.want)
			}
		})
	}
}

func TestNextEscapedInLoginPage(t *testing.T) {
	th := startHub(t, hubOptions{})
	p := th.browser().get("/hub/login?next=" + url.QueryEscape(`/hub/"><script>alert(1)</script>`))
	if strings.Contains(p.body, "<script>alert(1)") {
		t.Errorf("next is written into the page unescaped: %s", p.body)
	}
}

func TestTokenPage(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	b := th.browser()
	b.mustLogin("alice")
	token := b.xsrf("/hub/token")
	p := b.post("/hub/token", url.Values{"_xsrf": {token}, "note": {"laptop"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("creating a token = %d, want 303", p.status)
	}
	p = b.get(p.location)
	m := regexp1(`<code class="token">([0-9a-f]+)</code>`, p.body)
	if p.status != http.StatusOK || m == "" {
		t.Fatalf("token page = %d, no new token shown", p.status)
	}
	if r := th.api("GET", "/hub/api/user", m, nil); r.status != http.StatusOK {
		t.Errorf("token from the page does not work: %d", r.status)
	}
	if p := b.post("/hub/token", url.Values{"note": {"x"}}); p.status != http.StatusForbidden {
		t.Errorf("token form without _xsrf = %d, want 403", p.status)
	}
}

func TestTokenPageShowsNewTokenOnce(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	th.addUser("bob", false)
	b := th.browser()
	b.mustLogin("alice")
	p := b.post("/hub/token", url.Values{"_xsrf": {b.xsrf("/hub/token")}, "note": {"laptop"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("creating a token = %d %s, want a 303 redirect", p.status, p.body)
	}
	if strings.Contains(p.body, `class="token"`) {
		t.Errorf("the POST response shows the token: %s", p.body)
	}
	target := p.location
	if !strings.HasPrefix(target, "/hub/token?") {
		t.Fatalf("redirect to %q, want the token page", target)
	}

	// Another session of alice and another user cannot see the token.
	other := th.browser()
	other.mustLogin("alice")
	if p := other.get(target); strings.Contains(p.body, `class="token"`) {
		t.Errorf("another session of alice sees the new token: %s", p.body)
	}
	bob := th.browser()
	bob.mustLogin("bob")
	if p := bob.get(target); strings.Contains(p.body, `class="token"`) {
		t.Errorf("bob sees alice's new token: %s", p.body)
	}

	p = b.get(target)
	plainToken := regexp1(`<code class="token">([0-9a-f]+)</code>`, p.body)
	if p.status != http.StatusOK || plainToken == "" {
		t.Fatalf("token page after the redirect = %d, no new token shown: %s", p.status, p.body)
	}
	if strings.Contains(target, plainToken) {
		t.Errorf("redirect URL %q contains the token", target)
	}
	if r := th.api("GET", "/hub/api/user", plainToken, nil); r.status != http.StatusOK {
		t.Errorf("token from the page = %d on GET /hub/api/user, want 200", r.status)
	}

	// A reload shows the token no more and creates no other.
	p = b.get(target)
	if p.status != http.StatusOK {
		t.Errorf("reload of the token page = %d, want 200", p.status)
	}
	if strings.Contains(p.body, plainToken) {
		t.Errorf("reload shows the token again: %s", p.body)
	}
	if !strings.Contains(p.body, "shown only once") {
		t.Errorf("reload does not say the token was shown once: %s", p.body)
	}
	tokens, err := th.store.ListTokens(t.Context(), store.Owner{User: "alice"})
	must(t, err)
	laptop := 0
	for _, tok := range tokens {
		if tok.Note == "laptop" {
			laptop++
		}
	}
	if laptop != 1 {
		t.Errorf("alice has %d tokens with the note laptop, want 1", laptop)
	}
}

func TestAdminPageAddsUsers(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	b := th.browser()
	b.mustLogin("root")
	token := b.xsrf("/hub/admin")
	p := b.post("/hub/admin/users", url.Values{"_xsrf": {token}, "usernames": {"Eve\nfrank"},
		"password": {"a long password"}})
	if p.status != http.StatusSeeOther || strings.Contains(p.location, "error=") {
		t.Fatalf("adding users = %d %q", p.status, p.location)
	}
	eve := th.browser()
	if p := eve.login("eve", "a long password", ""); p.status != http.StatusFound {
		t.Errorf("login of the added user = %d", p.status)
	}
	p = b.post("/hub/admin/users/frank/delete", url.Values{"_xsrf": {token}})
	if p.status != http.StatusSeeOther {
		t.Errorf("deleting frank = %d", p.status)
	}
	if _, err := th.store.GetUser(t.Context(), "frank"); err == nil {
		t.Error("frank still exists")
	}
}

func TestLogoutEndsSession(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	b := th.browser()
	b.mustLogin("alice")
	if p := b.get("/hub/logout"); p.status != http.StatusFound {
		t.Fatalf("logout = %d", p.status)
	}
	if p := b.get("/hub/home"); p.status != http.StatusFound {
		t.Errorf("home after logout = %d, want a redirect to login", p.status)
	}
}

func TestHomeStartStop(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	b := th.browser()
	b.mustLogin("alice")
	token := b.xsrf("/hub/home")
	if p := b.post("/hub/spawn/alice", url.Values{}); p.status != http.StatusForbidden {
		t.Errorf("start without _xsrf = %d, want 403", p.status)
	}
	p := b.post("/hub/spawn/alice", url.Values{"_xsrf": {token}})
	if p.status != http.StatusSeeOther || p.location != "/user/alice/" {
		t.Fatalf("start from home = %d %q, want a redirect to /user/alice/", p.status, p.location)
	}
	if home := b.get("/hub/home"); !strings.Contains(home.body, "Stop my server") {
		t.Error("home of a running server lacks the stop button")
	}
	p = b.post("/hub/stop/alice", url.Values{"_xsrf": {token}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("stop from home = %d", p.status)
	}
	if th.spawner.running() != 0 {
		t.Error("the server still runs")
	}
}

func TestSpawnPendingPage(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	gate := make(chan struct{})
	th.spawner.gate = gate
	th.hub.slowSpawn = 0
	b := th.browser()
	b.mustLogin("alice")
	p := b.get("/hub/spawn/alice")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/hub/spawn-pending/alice") {
		t.Fatalf("slow start = %d %q, want the pending page", p.status, p.location)
	}
	pending := b.get(p.location)
	if pending.status != http.StatusOK ||
		!strings.Contains(pending.body, "/hub/api/users/alice/server/progress") {
		t.Errorf("pending page = %d, lacks the progress URL", pending.status)
	}
	if p := b.get("/user/alice/"); p.status != http.StatusFound ||
		!strings.HasPrefix(p.location, "/hub/user/alice/") {
		t.Errorf("server while pending = %d %q", p.status, p.location)
	}
	if p := b.get("/hub/user/alice/"); p.status != http.StatusSeeOther ||
		!strings.HasPrefix(p.location, "/hub/spawn-pending/alice") {
		t.Errorf("hub user page while pending = %d %q, want the pending page", p.status, p.location)
	}
	close(gate)
	waitFor(t, "the start", func() bool { return th.hub.runOf("alice", "") == nil })
	if p := b.get("/hub/spawn-pending/alice?next=/user/alice/lab"); p.status != http.StatusFound ||
		p.location != "/user/alice/lab" {
		t.Errorf("pending page once ready = %d %q", p.status, p.location)
	}
}

func TestSpawnFromAnotherSite(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	b := th.browser()
	b.mustLogin("alice")
	req, _ := http.NewRequest("GET", th.url+"/hub/spawn/alice", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := b.do(req); p.status != http.StatusOK {
		t.Errorf("cross-site spawn link = %d, want the confirmation page", p.status)
	}
	if th.spawner.running() != 0 {
		t.Error("a link from another site started the server")
	}
}

func TestChangePassword(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	b := th.browser()
	b.mustLogin("alice")
	token := b.xsrf("/hub/password")
	form := func(current, newPassword, confirm string) url.Values {
		return url.Values{"_xsrf": {token}, "current": {current}, "new": {newPassword},
			"confirm": {confirm}}
	}
	if p := b.post("/hub/password", form("wrong", "a new password", "a new password")); p.status != http.StatusForbidden {
		t.Errorf("wrong current password = %d, want 403", p.status)
	}
	if p := b.post("/hub/password", form(testPassword, "a new password", "another one")); p.status != http.StatusBadRequest {
		t.Errorf("differing new passwords = %d, want 400", p.status)
	}
	if p := b.post("/hub/password", form(testPassword, "a new password", "a new password")); p.status != http.StatusOK {
		t.Fatalf("change = %d", p.status)
	}
	if p := th.browser().login("alice", "a new password", ""); p.status != http.StatusFound {
		t.Errorf("login with the new password = %d", p.status)
	}
}

func TestAdminSetsPassword(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	th.addUser("alice", false)
	b := th.browser()
	b.mustLogin("root")
	adminToken := b.xsrf("/hub/admin")
	p := b.post("/hub/admin/users/alice/password", url.Values{"_xsrf": {adminToken},
		"password": {"set by the admin"}})
	if p.status != http.StatusSeeOther || strings.Contains(p.location, "error=") {
		t.Fatalf("set password = %d %q", p.status, p.location)
	}
	if p := th.browser().login("alice", "set by the admin", ""); p.status != http.StatusFound {
		t.Errorf("login with the admin's password = %d", p.status)
	}
	// The password an admin set is temporary: every page waits for alice
	// to choose her own, and then lets her go where she was going.
	alice := th.browser()
	alice.login("alice", "set by the admin", "")
	if p := alice.get("/hub/home"); p.status != http.StatusFound ||
		!strings.HasPrefix(p.location, "/hub/password?next=") {
		t.Fatalf("home with a temporary password = %d %q, want the password page", p.status, p.location)
	}
	token := alice.xsrf("/hub/password")
	p = alice.post("/hub/password?next=%2Fhub%2Fhome", url.Values{"_xsrf": {token},
		"current": {"set by the admin"}, "new": {"chosen by alice"}, "confirm": {"chosen by alice"}})
	if p.status != http.StatusSeeOther || p.location != "/hub/home" {
		t.Fatalf("changing the temporary password = %d %q", p.status, p.location)
	}
	p = alice.post("/hub/admin/users/root/password", url.Values{"_xsrf": {alice.xsrf("/hub/home")},
		"password": {"taking over root"}})
	if p.status != http.StatusForbidden {
		t.Errorf("a user setting root's password = %d, want 403", p.status)
	}
}

// A link to a user's stopped server, followed before the sign-in, leads
// through the login and the new password back to the link.
func TestTemporaryPasswordBeforeServerLink(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	th.addUser("alice", false)
	root := th.browser()
	root.mustLogin("root")
	root.post("/hub/admin/users/alice/password", url.Values{"_xsrf": {root.xsrf("/hub/admin")},
		"password": {"set by the admin"}})

	alice := th.browser()
	p := alice.login("alice", "set by the admin", "/hub/user/alice/lab")
	if p.status != http.StatusFound || p.location != "/hub/user/alice/lab" {
		t.Fatalf("login = %d %q, want a redirect to the link", p.status, p.location)
	}
	p = alice.get(p.location)
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, "/hub/password?next=") {
		t.Fatalf("server link with a temporary password = %d %q, want the password page",
			p.status, p.location)
	}
	next, err := url.Parse(p.location)
	must(t, err)
	p = alice.post(p.location, url.Values{"_xsrf": {alice.xsrf("/hub/password")},
		"current": {"set by the admin"}, "new": {"chosen by alice"}, "confirm": {"chosen by alice"}})
	if want := next.Query().Get("next"); p.status != http.StatusSeeOther || p.location != want {
		t.Fatalf("new password = %d %q, want a redirect to %q", p.status, p.location, want)
	}
	if p := alice.get(p.location); p.status != http.StatusFailedDependency {
		t.Errorf("server link after the new password = %d, want the 424 page", p.status)
	}
}

func TestLogoutEndsCopiedCookie(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	b := th.browser()
	b.mustLogin("alice")
	hubURL, _ := url.Parse(th.url + "/hub/")
	copied := b.client.Jar.Cookies(hubURL)
	b.get("/hub/logout")
	thief := th.browser()
	thief.client.Jar.SetCookies(hubURL, copied)
	if p := thief.get("/hub/home"); p.status != http.StatusFound {
		t.Errorf("home with a cookie copied before logout = %d, want a redirect to login", p.status)
	}
}

// The home page's buttons for a named server post to the paths the hub
// serves: following them stops, starts and deletes the server.
// htmlTag matches a start or end tag and captures the slash and the name.
var htmlTag = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>`)

// blockInParagraph returns each block element that page opens inside an
// open <p>. HTML does not allow it: a parser ends the paragraph at the
// block element and turns the paragraph's </p> into an empty paragraph.
func blockInParagraph(page string) []string {
	block := map[string]bool{"div": true, "form": true, "table": true, "p": true, "ul": true,
		"ol": true, "pre": true, "h1": true, "h2": true, "h3": true, "section": true}
	var found []string
	inParagraph := false
	for _, m := range htmlTag.FindAllStringSubmatchIndex(page, -1) {
		closing := page[m[2]:m[3]] == "/"
		name := strings.ToLower(page[m[4]:m[5]])
		switch {
		case closing && name == "p":
			inParagraph = false
		case !closing && block[name] && inParagraph:
			found = append(found, page[m[0]:m[1]])
			inParagraph = name == "p"
		case !closing && name == "p":
			inParagraph = true
		}
	}
	return found
}

func TestBlockInParagraphFindsForm(t *testing.T) {
	if got := blockInParagraph(`<p><a href="x">x</a><form method="post"></form></p>`); len(got) != 1 {
		t.Errorf("form inside p: found %q, want one", got)
	}
	if got := blockInParagraph(`<p>x</p><form method="post"><p><button>b</button></p></form>`); len(got) != 0 {
		t.Errorf("valid markup: found %q, want none", got)
	}
}

func TestHomeMarkupValid(t *testing.T) {
	th := startHub(t, hubOptions{config: "[JupyterHub]\nallow_named_servers = true\n"})
	th.addUser("alice", false)
	b := th.browser()
	b.mustLogin("alice")
	alice := th.token("alice")
	check := func(state string) {
		t.Helper()
		home := b.get("/hub/home")
		if home.status != http.StatusOK {
			t.Fatalf("home (%s) = %d", state, home.status)
		}
		if found := blockInParagraph(home.body); len(found) > 0 {
			t.Errorf("home (%s) opens %q inside a <p>", state, found)
		}
	}
	check("no server")
	if r := th.api("POST", "/hub/api/users/alice/server", alice, nil); r.status != http.StatusCreated {
		t.Fatalf("starting the default server = %d %s", r.status, r.body)
	}
	if r := th.api("POST", "/hub/api/users/alice/servers/work", alice, nil); r.status != http.StatusCreated {
		t.Fatalf("starting work = %d %s", r.status, r.body)
	}
	check("servers running")
}

func TestHomeNamedServerForms(t *testing.T) {
	th := startHub(t, hubOptions{config: "[JupyterHub]\nallow_named_servers = true\n"})
	th.addUser("alice", false)
	b := th.browser()
	b.mustLogin("alice")
	if r := th.api("POST", "/hub/api/users/alice/servers/work", th.token("alice"), nil); r.status != http.StatusCreated {
		t.Fatalf("starting work = %d %s", r.status, r.body)
	}
	formAction := regexp.MustCompile(`action="([^"]*/work)"`)
	follow := func(button string) pageResult {
		t.Helper()
		home := b.get("/hub/home")
		m := formAction.FindStringSubmatch(home.body[strings.Index(home.body, "Named servers"):])
		if m == nil {
			t.Fatalf("home page has no form for work (%s): %s", button, home.body)
		}
		if !strings.Contains(m[1], "/"+button+"/alice/work") {
			t.Fatalf("the %s form of work posts to %s", button, m[1])
		}
		return b.post(m[1], url.Values{"_xsrf": {b.xsrf("/hub/home")}})
	}

	if p := follow("stop"); p.status != http.StatusSeeOther {
		t.Fatalf("stop form = %d %s", p.status, p.body)
	}
	if sv, err := th.store.GetServer(t.Context(), "alice", "work"); err != nil || sv.Active() {
		t.Errorf("work after the stop form: %+v, %v", sv, err)
	}
	if p := follow("spawn"); p.status != http.StatusSeeOther {
		t.Fatalf("start form = %d %s", p.status, p.body)
	}
	if sv, err := th.store.GetServer(t.Context(), "alice", "work"); err != nil || !sv.Ready() {
		t.Errorf("work after the start form: %+v, %v", sv, err)
	}
	follow("stop")
	home := b.get("/hub/home")
	del := regexp1(`action="([^"]*delete-server[^"]*)"`, home.body)
	if del != "/hub/delete-server/alice/work" {
		t.Fatalf("delete form of work posts to %q", del)
	}
	if p := b.post(del, url.Values{"_xsrf": {b.xsrf("/hub/home")}}); p.status != http.StatusSeeOther {
		t.Fatalf("delete form = %d %s", p.status, p.body)
	}
	if _, err := th.store.GetServer(t.Context(), "alice", "work"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("work after the delete form: err = %v, want not found", err)
	}
}

func TestHubPathAddsSlash(t *testing.T) {
	for _, base := range []string{"/", "/jh/"} {
		th := startHub(t, hubOptions{config: "[JupyterHub]\nbase_url = \"" + base + "\"\n"})
		b := th.browser()
		for _, tc := range []struct{ path, location string }{
			{base + "hub", base + "hub/"},
			{base + "hub?next=%2Fuser%2Fa%2F", base + "hub/?next=%2Fuser%2Fa%2F"},
		} {
			p := b.get(tc.path)
			if p.status != http.StatusMovedPermanently || p.location != tc.location {
				t.Errorf("GET %s = %d %q, want 301 to %q", tc.path, p.status, p.location, tc.location)
			}
		}
		if p := b.get(base + "hub/"); p.status != http.StatusFound || p.location != base+"hub/home" {
			t.Errorf("GET %shub/ = %d %q, want 302 to %shub/home", base, p.status, p.location, base)
		}
	}
}
