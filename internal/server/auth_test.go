package server

import (
	"net/http/httptest"
	"testing"
	"time"
)

func TestCookieSignature(t *testing.T) {
	a := newAuthenticator("tok", []byte("0123456789abcdef0123456789abcdef"), "c", "/")
	now := time.Now()
	value := a.newCookieValue(now)
	if _, ok := a.verifyCookie(value, now); !ok {
		t.Fatal("fresh cookie rejected")
	}
	if _, ok := a.verifyCookie(value, now.Add(cookieMaxAge+time.Hour)); ok {
		t.Error("expired cookie accepted")
	}
	tampered := []byte(value)
	tampered[3] ^= 1
	if _, ok := a.verifyCookie(string(tampered), now); ok {
		t.Error("tampered cookie accepted")
	}
	other := newAuthenticator("new-token", []byte("0123456789abcdef0123456789abcdef"), "c", "/")
	if _, ok := other.verifyCookie(value, now); ok {
		t.Error("cookie accepted after the token changed")
	}
	for _, bad := range []string{"", ".", "x.y", "....", value + "."} {
		if _, ok := a.verifyCookie(bad, now); ok {
			t.Errorf("verifyCookie(%q) accepted", bad)
		}
	}
}

func TestXSRFBoundToSession(t *testing.T) {
	a := newAuthenticator("tok", []byte("0123456789abcdef0123456789abcdef"), "c", "/")
	if a.xsrfToken("s1") == a.xsrfToken("s2") {
		t.Fatal("two sessions share an XSRF token")
	}
	r := httptest.NewRequest("POST", "/api/contents", nil)
	r.Header.Set("X-XSRFToken", a.xsrfToken("s1"))
	if !a.checkXSRF(r, "s1") {
		t.Error("valid XSRF token rejected")
	}
	if a.checkXSRF(r, "s2") {
		t.Error("XSRF token of another session accepted")
	}
}

func TestSafeNext(t *testing.T) {
	s := &Server{cfg: Config{BaseURL: "/user/alice/"}}
	tests := []struct {
		next, want string
	}{
		{"/user/alice/lab/tree/a.ipynb", "/user/alice/lab/tree/a.ipynb"},
		{"", "/user/alice/lab"},
		{"//evil.example/x", "/user/alice/lab"},
		{"///evil.example", "/user/alice/lab"},
		{"/\\evil.example", "/user/alice/lab"},
		{"\\\\evil.example", "/user/alice/lab"},
		{"https://evil.example/user/alice/", "/user/alice/lab"},
		{"/user/bob/lab", "/user/alice/lab"},
		{"/user/alice/\r\nSet-Cookie: x", "/user/alice/lab"},
	}
	for _, tt := range tests {
		if got := s.safeNext(tt.next); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.next, got, tt.want)
		}
	}
}

func TestSameOrigin(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		want    bool
	}{
		{"no headers", nil, false},
		{"fetch same-origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, true},
		{"fetch cross-site", map[string]string{"Sec-Fetch-Site": "cross-site", "Referer": "http://srv/lab"}, false},
		{"referer same host", map[string]string{"Referer": "http://srv/lab"}, true},
		{"referer other host", map[string]string{"Referer": "https://evil.example/x"}, false},
		{"origin null", map[string]string{"Origin": "null"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://srv/files/a.js", nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			if got := sameOrigin(r); got != tt.want {
				t.Errorf("sameOrigin = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWebSocketOrigin(t *testing.T) {
	tests := []struct {
		origin string
		want   bool
	}{
		{"", true},
		{"http://srv", true},
		{"http://evil.example", false},
		{"http://srv.evil.example", false},
		{"::", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "http://srv/api/kernels/x/channels", nil)
		if tt.origin != "" {
			r.Header.Set("Origin", tt.origin)
		}
		if got := websocketOriginAllowed(r); got != tt.want {
			t.Errorf("origin %q: allowed = %v, want %v", tt.origin, got, tt.want)
		}
	}
}

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:8888":     true,
		"localhost:8888":     true,
		"[::1]:8888":         true,
		"127.1.2.3":          true,
		"app.localhost:8888": true,
		"evil.example:8888":  false,
		"10.0.0.1:8888":      false,
	} {
		if got := isLoopbackHost(host); got != want {
			t.Errorf("isLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestInitials(t *testing.T) {
	for name, want := range map[string]string{
		"Ada Lovelace":    "AL",
		"alice":           "A",
		"jean-luc picard": "JL",
		"élodie durand x": "ÉD",
		"":                "?",
	} {
		if got := initials(name); got != want {
			t.Errorf("initials(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestRequestToken(t *testing.T) {
	r := httptest.NewRequest("GET", "/api/status?token=q", nil)
	if tok, q := requestToken(r); tok != "q" || !q {
		t.Errorf("query token = %q, %v", tok, q)
	}
	r.Header.Set("Authorization", "token h")
	if tok, q := requestToken(r); tok != "h" || q {
		t.Errorf("header token = %q, %v", tok, q)
	}
	r.Header.Set("Authorization", "Bearer b")
	if tok, _ := requestToken(r); tok != "b" {
		t.Errorf("bearer token = %q", tok)
	}
}
