package hub

import (
	"regexp"
	"testing"
)

func TestSafeNext(t *testing.T) {
	h := &Hub{base: "/"}
	for _, tt := range []struct {
		next string
		ok   bool
	}{
		{"/hub/home", true},
		{"/user/alice/lab?x=1#frag", true},
		{"/", true},
		{"", false},
		{"hub/home", false},
		{"//evil.example", false},
		{"///evil.example", false},
		{"////evil.example", false},
		{`\evil.example`, false},
		{`/\evil.example`, false},
		{`\/evil.example`, false},
		{"/%2F/evil.example", false}, // decodes to //evil.example
		{"/%5Cevil.example", false},
		{"http://evil.example/hub/", false},
		{"https:/evil.example", false},
		{"javascript:alert(1)", false},
		{"/hub/\r\nSet-Cookie: x", false},
		{"/hub/\x00", false},
	} {
		got := h.safeNext(tt.next)
		if (got != "") != tt.ok {
			t.Errorf("safeNext(%q) = %q, want ok=%v", tt.next, got, tt.ok)
		}
	}
	sub := &Hub{base: "/jh/"}
	if sub.safeNext("/other/") != "" {
		t.Error("a path outside the base URL was accepted")
	}
	if sub.safeNext("/jh/hub/home") == "" {
		t.Error("a path under the base URL was rejected")
	}
}

func regexp1(pattern, s string) string {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}
