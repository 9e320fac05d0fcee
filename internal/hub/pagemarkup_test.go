package hub

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	g "github.com/jupygo/jupygo/internal/markup"
	"github.com/jupygo/jupygo/internal/store"
)

// hostile is a value that would run a script if a page put it into the
// markup unescaped, and that ends an attribute value of either quote.
const hostile = `<script>alert(1)</script>"'`

// hostileEscaped is hostile as a page must show it.
const hostileEscaped = `&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;`

// scriptURL would run a script if a page linked to it.
const scriptURL = "javascript:alert(1)"

// urlAttribute matches an attribute whose value is a URL, and captures the
// value.
var urlAttribute = regexp.MustCompile(`(?i)\s(?:href|action|src|formaction)\s*=\s*"([^"]*)"`)

// progressConfig matches the JSON configuration of the spawn-pending page.
var progressConfig = regexp.MustCompile(
	`(?s)<script id="progress-config" type="application/json">(.*?)</script>`)

// checkPageEscapes fails t when body, a page rendered with hostile values,
// contains any of raw, or links to a URL other than a web URL: http,
// https, mailto, or the about: URL that webpage.URL returns for a
// rejected one.
func checkPageEscapes(t *testing.T, page, body string, raw ...string) {
	t.Helper()
	for _, s := range append([]string{hostile, "<script>alert", `"'`}, raw...) {
		if strings.Contains(body, s) {
			t.Errorf("%s page contains %q unescaped:\n%s", page, s, body)
		}
	}
	for _, m := range urlAttribute.FindAllStringSubmatch(body, -1) {
		u := strings.TrimSpace(html.UnescapeString(m[1]))
		scheme, _, found := strings.Cut(u, ":")
		if !found || strings.ContainsAny(scheme, "/?#") {
			continue // relative
		}
		switch strings.ToLower(scheme) {
		case "http", "https", "mailto", "about":
		default:
			t.Errorf("%s page links to %q", page, m[0])
		}
	}
	for _, m := range progressConfig.FindAllStringSubmatch(body, -1) {
		if strings.Contains(strings.ToLower(m[1]), "javascript:") {
			t.Errorf("%s page's progress configuration contains a javascript: URL: %s", page, m[1])
		}
		if strings.Contains(m[1], "<") {
			t.Errorf("%s page's progress configuration contains an unescaped <: %s", page, m[1])
		}
	}
	if found := blockInParagraph(body); len(found) > 0 {
		t.Errorf("%s page opens %q inside a <p>", page, found)
	}
}

// TestPagesEscapeHostileValues renders every page with a hostile value in
// each text and a javascript: URL in each link and next, and checks that
// the values show escaped and that no link can run a script.
func TestPagesEscapeHostileValues(t *testing.T) {
	frame := pageFrame{title: hostile, prefix: "/hub/", xsrf: hostile, user: hostile,
		isAdmin: true, localAccounts: true}
	server := func(ready bool, pending string) serverRow {
		return serverRow{Name: hostile, Path: hostile, URL: scriptURL, Pending: pending,
			LastActivity: hostile, Ready: ready}
	}
	share := func(ready bool, user string) shareRow {
		return shareRow{Owner: hostile, Server: hostile, ServerURL: scriptURL, User: user,
			Group: hostile, Created: hostile, Scopes: []string{hostile}, Ready: ready, CanRevoke: true}
	}
	servers := []serverRow{server(true, ""), server(false, hostile), server(false, "")}
	home := homePageData{named: servers, userPath: hostile, namedServers: true,
		notice: hostile, errText: hostile,
		granted:  []shareRow{share(true, hostile), share(true, "")},
		received: []shareRow{share(true, ""), share(false, hostile)}}
	homeReady, homePending, homeStopped := home, home, home
	homeReady.def = server(true, "")
	homePending.def = server(false, store.PendingSpawn)
	homeStopped.def = server(false, "")
	pending := spawnPendingPageData{label: hostile, serverPath: hostile, next: scriptURL,
		progressURL: scriptURL, message: hostile}
	stopping, failed, notRunning := pending, pending, pending
	stopping.stopping, failed.failed, notRunning.notRunning = true, true, true
	closesScript := pending
	closesScript.next = "/user/a</script><script>alert(1)</script>"

	for _, tc := range []struct {
		name string
		page g.Node
	}{
		{"error", errorView(frame, errorPageData{status: http.StatusNotFound, heading: hostile,
			message: hostile, action: &pageAction{URL: scriptURL, Label: hostile}})},
		{"login", loginView(frame, loginPageData{next: scriptURL, username: hostile, errText: hostile})},
		{"login elsewhere", loginView(frame, loginPageData{next: scriptURL, errText: hostile,
			loginURL: scriptURL, loginService: hostile})},
		{"home with the server ready", homeView(frame, homeReady)},
		{"home with the server starting", homeView(frame, homePending)},
		{"home with the server stopped", homeView(frame, homeStopped)},
		{"token", tokenView(frame, tokenPageData{tokens: []tokenRow{{ID: 1, Note: hostile, Prefix: hostile,
			Created: hostile, LastActivity: hostile, ExpiresAt: hostile}},
			tokenPageText: tokenPageText{newToken: hostile, notice: hostile, errText: hostile}})},
		{"password", passwordView(frame, passwordPageData{notice: hostile, errText: hostile,
			next: scriptURL})},
		{"admin", adminView(frame, adminPageData{users: []adminUserRow{{Name: hostile + "x",
			Path: hostile, LastActivity: hostile, Admin: true, Servers: servers}},
			notice: hostile, errText: hostile})},
		{"oauth confirm", oauthConfirmView(frame, oauthConfirmPageData{client: hostile,
			action: scriptURL, scopes: []string{hostile}})},
		{"spawn pending", spawnPendingView(frame, pending)},
		{"spawn pending, stopping", spawnPendingView(frame, stopping)},
		{"spawn pending, failed", spawnPendingView(frame, failed)},
		{"spawn pending, not running", spawnPendingView(frame, notRunning)},
		{"spawn pending, next closes the script", spawnPendingView(frame, closesScript)},
		{"accept share", acceptShareView(frame, acceptSharePageData{owner: hostile, serverName: hostile,
			serverURL: scriptURL, code: hostile, scopes: []string{hostile}, next: scriptURL,
			expiresAt: hostile})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := tc.page.Render(&b); err != nil {
				t.Fatal(err)
			}
			body := b.String()
			checkPageEscapes(t, tc.name, body)
			if !strings.Contains(body, hostileEscaped) {
				t.Errorf("%s page does not show the value escaped:\n%s", tc.name, body)
			}
			if !strings.HasPrefix(body, `<!doctype html><html lang="en">`) {
				t.Errorf("%s page does not start as a document:\n%s", tc.name, body)
			}
			if !strings.HasSuffix(body, "</main></body></html>") {
				t.Errorf("%s page does not end as a document:\n%s", tc.name, body)
			}
		})
	}
}

// TestPageQueriesEscapeNext checks that a next= that the forms of the
// pages carry is escaped as a query value, so that it can neither add
// parameters nor end the attribute.
func TestPageQueriesEscapeNext(t *testing.T) {
	frame := pageFrame{title: "t", prefix: "/hub/", xsrf: "x", user: "alice"}
	next := `/user/alice/lab?a=1&b="2"#f`
	const want = `?next=%2Fuser%2Falice%2Flab%3Fa%3D1%26b%3D%222%22%23f"`
	for _, tc := range []struct {
		name string
		page g.Node
	}{
		{"login", loginView(frame, loginPageData{next: next})},
		{"password", passwordView(frame, passwordPageData{next: next})},
		{"spawn pending", spawnPendingView(frame, spawnPendingPageData{serverPath: "alice", next: next,
			notRunning: true})},
		{"accept share", acceptShareView(frame, acceptSharePageData{next: next})},
	} {
		var b strings.Builder
		if err := tc.page.Render(&b); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), want) {
			t.Errorf("%s page's form does not carry %s:\n%s", tc.name, want, b.String())
		}
	}
}

// hostileUserName is a hostile value without the slash that user names
// cannot contain.
const hostileUserName = `<svg onload=alert(1)>"'`

// TestHubPagesEscapeHostileUserName serves the pages of the hub to and
// about a user whose name and token note contain markup, and requests each
// page that reads next= with a javascript: URL there.
func TestHubPagesEscapeHostileUserName(t *testing.T) {
	th := startHub(t, hubOptions{config: "[JupyterHub]\nallow_named_servers = true\n"})
	th.addUser("root", true)
	th.addUser(hostileUserName, false)
	tok := th.token(hostileUserName)
	path := escapePath(hostileUserName)
	if r := th.api("POST", "/hub/api/users/"+path+"/tokens", tok,
		map[string]any{"note": hostileUserName}); r.status != http.StatusCreated {
		t.Fatalf("creating a token = %d %s", r.status, r.body)
	}

	b := th.browser()
	b.mustLogin(hostileUserName)
	const next = "?next=javascript%3Aalert(1)"
	raw := []string{hostileUserName, "<svg"}
	check := func(page string, status int, p pageResult) {
		t.Helper()
		if p.status != status {
			t.Errorf("%s page = %d, want %d", page, p.status, status)
		}
		if got := p.header.Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
			t.Errorf("%s page has Content-Type %q, want HTML", page, got)
		}
		if got := p.header.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("%s page has X-Frame-Options %q, want DENY", page, got)
		}
		checkPageEscapes(t, page, p.body, raw...)
		if page != "login" && !strings.Contains(p.body, "&lt;svg onload=alert(1)&gt;&#34;&#39;") {
			t.Errorf("%s page does not show the user name escaped:\n%s", page, p.body)
		}
	}

	check("login", http.StatusOK, th.browser().get("/hub/login"+next))
	check("not running", http.StatusFailedDependency, b.get("/hub/user/"+path+"/lab"))
	check("spawn pending, not running", http.StatusOK, b.get("/hub/spawn-pending/"+path+next))
	check("password", http.StatusOK, b.get("/hub/password"+next))
	check("home", http.StatusOK, b.get("/hub/home"))
	check("token", http.StatusOK, b.get("/hub/token"))

	if r := th.api("POST", "/hub/api/users/"+path+"/server", tok, nil); r.status != http.StatusCreated {
		t.Fatalf("starting the server = %d %s", r.status, r.body)
	}
	check("home with the server ready", http.StatusOK, b.get("/hub/home"))

	admin := th.browser()
	admin.mustLogin("root")
	check("admin", http.StatusOK, admin.get("/hub/admin"))
}
