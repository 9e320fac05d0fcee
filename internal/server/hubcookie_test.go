package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// newTestHubAuth returns a hub identity provider for alice's server whose
// clock is *now.
func newTestHubAuth(t testing.TB, now *time.Time) *hubAuth {
	t.Helper()
	cfg, err := HubConfigFromEnv(getenvFrom(aliceEnv()))
	if err != nil {
		t.Fatal(err)
	}
	a := newHubAuth(cfg, []byte("0123456789abcdef0123456789abcdef"), slog.New(slog.DiscardHandler))
	a.now = func() time.Time { return *now }
	return a
}

// requestWith returns a request that carries the cookies set on rec.
func requestWith(rec *httptest.ResponseRecorder, target string) *http.Request {
	r := httptest.NewRequest("GET", target, nil)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge >= 0 {
			r.AddCookie(c)
		}
	}
	return r
}

func TestHubTokenCookie(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	a := newTestHubAuth(t, &now)
	rec := httptest.NewRecorder()
	a.setTokenCookie(rec, httptest.NewRequest("GET", "/", nil), "tok-123")
	r := requestWith(rec, "/user/alice/lab2/api/status")

	if got, ok := a.cookieToken(r); !ok || got != "tok-123" {
		t.Fatalf("cookieToken = %q, %v; want the stored token", got, ok)
	}
	now = now.Add(cookieMaxAge + time.Minute)
	if _, ok := a.cookieToken(r); ok {
		t.Error("cookie older than cookieMaxAge accepted")
	}
	now = time.Unix(1_700_000_000, 0)

	c, _ := r.Cookie(a.tokenCookieName())
	for name, value := range map[string]string{
		"tampered":  c.Value[:3] + string(c.Value[3]^1) + c.Value[4:],
		"no dot":    strings.ReplaceAll(c.Value, ".", ""),
		"unsigned":  "dG9r.",
		"empty":     "",
		"plain JWT": "a.b.c",
	} {
		bad := httptest.NewRequest("GET", "/", nil)
		bad.AddCookie(&http.Cookie{Name: a.tokenCookieName(), Value: value})
		if tok, ok := a.cookieToken(bad); ok {
			t.Errorf("%s cookie accepted with token %q", name, tok)
		}
	}

	// A value signed for another cookie name is not an OAuth cookie.
	moved := httptest.NewRequest("GET", "/", nil)
	moved.AddCookie(&http.Cookie{Name: a.tokenCookieName(),
		Value: a.encodeSigned(a.stateCookieName(), "1700000000|tok-123")})
	if _, ok := a.cookieToken(moved); ok {
		t.Error("value signed for the state cookie accepted as the OAuth cookie")
	}
}

func TestHubConcurrentLogins(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	a := newTestHubAuth(t, &now)

	// Two tabs start a login each, and the second carries the first's cookie.
	first := httptest.NewRecorder()
	a.startLogin(first, httptest.NewRequest("GET", "/lab", nil), "/user/alice/lab2/lab")
	second := httptest.NewRecorder()
	a.startLogin(second, requestWith(first, "/tree"), "/user/alice/lab2/tree")

	names := map[string]bool{}
	cb := httptest.NewRequest("GET", "/oauth_callback", nil)
	states := map[string]string{}
	for _, rec := range []*httptest.ResponseRecorder{first, second} {
		for _, c := range rec.Result().Cookies() {
			names[c.Name] = true
			cb.AddCookie(c)
		}
		loc := rec.Result().Header.Get("Location")
		states[loc] = loc[strings.Index(loc, "state=")+len("state="):]
	}
	if len(names) != 2 {
		t.Fatalf("two logins set cookies %v, want two different names", names)
	}
	for _, want := range []string{"/user/alice/lab2/lab", "/user/alice/lab2/tree"} {
		found := false
		for _, state := range states {
			next, ok := a.takeState(httptest.NewRecorder(), cb, state)
			found = found || (ok && next == want)
		}
		if !found {
			t.Errorf("no state returns to %s", want)
		}
	}

	now = now.Add(oauthStateMaxAge + time.Second)
	for _, state := range states {
		if _, ok := a.takeState(httptest.NewRecorder(), cb, state); ok {
			t.Error("expired state accepted")
		}
	}
}

func FuzzHubCookies(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	a := newTestHubAuth(f, &now)
	f.Add(a.encodeSigned(a.tokenCookieName(), "1700000000|tok"), "x")
	f.Add(a.encodeSigned(a.stateCookieName(), `{"state":"s","next":"/","iat":1700000000}`), "s")
	f.Add("e30.", "")
	f.Add("..", "\x00")
	f.Fuzz(func(t *testing.T, value, state string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", a.tokenCookieName()+"="+value+"; "+a.stateCookieName()+"="+value)
		a.cookieToken(r)
		a.takeState(httptest.NewRecorder(), r, state)
	})
}
