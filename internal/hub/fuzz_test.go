package hub

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzSafeNext checks that no accepted next= leaves the hub: the result
// parses as a path under the base URL with no host, and no backslash.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/hub/home", "//evil", "/\\evil", "/%2F%2Fevil", "/user/a?b#c",
		"http://x/", "/\t/evil"} {
		f.Add(s)
	}
	h := &Hub{base: "/"}
	f.Fuzz(func(t *testing.T, next string) {
		got := h.safeNext(next)
		if got == "" {
			return
		}
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || strings.HasPrefix(got, "//") ||
			strings.ContainsRune(got, '\\') || strings.HasPrefix(u.Path, "//") {
			t.Fatalf("safeNext(%q) = %q leaves the hub", next, got)
		}
	})
}

// FuzzReadLogin checks that forged login cookies are rejected without a
// panic.
func FuzzReadLogin(f *testing.F) {
	s := newSessions([]byte(strings.Repeat("k", 32)), "/", time.Now)
	f.Add("YWJj.0123456789abcdef0123456789abcdef.1700000000.sig")
	f.Add("...")
	f.Add("")
	f.Fuzz(func(t *testing.T, value string) {
		r, _ := http.NewRequest("GET", "/hub/home", nil)
		r.Header.Set("Cookie", loginCookie+"="+value)
		if _, ok := s.readLogin(r); ok {
			t.Fatalf("forged cookie %q accepted", value)
		}
	})
}

// FuzzParseActivity checks the activity timestamp parser.
func FuzzParseActivity(f *testing.F) {
	f.Add("2026-01-02T03:04:05.000000Z")
	f.Add("2026-01-02T03:04:05")
	f.Add("garbage")
	h := &Hub{now: time.Now}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := h.parseActivity(s)
		if err == nil && ts.Location() != time.UTC {
			t.Fatalf("parseActivity(%q) = %v, not UTC", s, ts)
		}
	})
}

// FuzzExpandScopes checks that expansion never panics and never grants an
// unfiltered scope from filtered input.
func FuzzExpandScopes(f *testing.F) {
	f.Add("self", "alice")
	f.Add("admin:users!user", "bob")
	f.Add("servers!server=alice/x", "")
	f.Fuzz(func(t *testing.T, scope, user string) {
		set := expandScopes([]string{scope}, principal{user: user})
		if !strings.Contains(scope, "!") && scope != "self" {
			return
		}
		for s := range set {
			if !strings.Contains(s, "!") {
				t.Fatalf("expanding %q for %q gave unfiltered %q", scope, user, s)
			}
		}
	})
}

// FuzzReadOAuthState checks that forged sign-in state cookies are
// rejected without a panic.
func FuzzReadOAuthState(f *testing.F) {
	h := &Hub{base: "/", sessions: newSessions([]byte(strings.Repeat("k", 32)), "/", time.Now)}
	f.Add("0123456789abcdef0123456789abcdef.L2h1Yi9ob21l.sig")
	f.Add("..")
	f.Fuzz(func(t *testing.T, value string) {
		r, _ := http.NewRequest("GET", "/hub/oauth_callback", nil)
		r.Header.Set("Cookie", oauthStateCookie+"="+value)
		if _, _, ok := h.readOAuthState(r); ok {
			t.Fatalf("forged state cookie %q accepted", value)
		}
	})
}

// FuzzParseShareBody checks that a share request body parses without a
// panic, and that what it accepts holds: exactly one recipient for a grant,
// existing base scopes only, and a lifetime within the bounds.
func FuzzParseShareBody(f *testing.F) {
	for _, s := range []string{`{"user": "bob"}`, `{"group": "staff", "scopes": ["access:servers"]}`,
		`{"scopes": ["read:servers!server=alice/lab"], "expires_in": 60}`, `{"user": 1}`,
		`[]`, `null`, `{"expires_in": 1e99}`, ``} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, code bool) {
		kind := shareGrantBody
		if code {
			kind = shareCodeBody
		}
		req, err := parseShareBody(data, kind, "alice", "lab")
		if err != nil {
			return
		}
		if kind == shareGrantBody && (req.User == "") == (req.Group == "") {
			t.Fatalf("grant of %q accepted with user %q and group %q", data, req.User, req.Group)
		}
		for _, s := range req.Scopes {
			if strings.Contains(s, "!") || !slices.Contains(scopeNames, s) {
				t.Fatalf("body %q gave scope %q", data, s)
			}
		}
		if req.ExpiresIn < minShareCodeLifetime || req.ExpiresIn > maxShareCodeLifetime {
			t.Fatalf("body %q gave lifetime %v", data, req.ExpiresIn)
		}
	})
}
