package server

import (
	"net/http"
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

func TestCheckXSRF(t *testing.T) {
	tests := []struct {
		name           string
		cookie, header string
		query          string
		want           bool
	}{
		{"header matches cookie", "abc", "abc", "", true},
		{"query matches cookie", "abc", "", "abc", true},
		{"header differs", "abc", "abd", "", false},
		{"no cookie", "", "abc", "", false},
		{"no token sent", "abc", "", "", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/api/contents?_xsrf="+tt.query, nil)
		if tt.cookie != "" {
			r.AddCookie(&http.Cookie{Name: "_xsrf", Value: tt.cookie})
		}
		if tt.header != "" {
			r.Header.Set("X-XSRFToken", tt.header)
		}
		if got := checkXSRF(r); got != tt.want {
			t.Errorf("%s: checkXSRF = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCrossOrigin(t *testing.T) {
	tests := []struct {
		method, origin, site string
		want                 bool
	}{
		{"POST", "", "", false},
		{"POST", "http://127.0.0.1:8888", "same-origin", false},
		{"POST", "http://127.0.0.1:9999", "same-site", true},
		{"GET", "http://127.0.0.1:9999", "", true},
		{"POST", "null", "cross-site", true},
		{"POST", "", "same-site", true},
		{"GET", "", "cross-site", false}, // a link followed from another site
		{"PUT", "http://evil.example", "", true},
		{"POST", "http://[::1", "", true},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "http://127.0.0.1:8888/api/contents", nil)
		if tt.origin != "" {
			r.Header.Set("Origin", tt.origin)
		}
		if tt.site != "" {
			r.Header.Set("Sec-Fetch-Site", tt.site)
		}
		if got := crossOrigin(r); got != tt.want {
			t.Errorf("%s Origin %q Sec-Fetch-Site %q: crossOrigin = %v, want %v",
				tt.method, tt.origin, tt.site, got, tt.want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	s := &Server{cfg: Config{BaseURL: "/user/alice/"}, basePath: "/user/alice/"}
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
		{"/user/alice/../bob/lab", "/user/alice/lab"},
		{"/user/alice/%2e%2e/bob/lab", "/user/alice/lab"},
		{"/user/%61lice/lab", "/user/%61lice/lab"},
	}
	for _, tt := range tests {
		if got := s.safeNext(tt.next); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.next, got, tt.want)
		}
	}

	escaped := &Server{cfg: Config{BaseURL: "/user/a%26b%3Dc/"}, basePath: "/user/a&b=c/"}
	for _, next := range []string{"/user/a%26b%3Dc/lab", "/user/a&b=c/lab", "/user/a%26b=c/lab"} {
		if got := escaped.safeNext(next); got != next {
			t.Errorf("base /user/a%%26b%%3Dc/: safeNext(%q) = %q, want it kept", next, got)
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
