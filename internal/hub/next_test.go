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
	for _, tt := range []struct {
		next string
		ok   bool
	}{
		{"/other/", false},
		{"/jh/../elsewhere/", false},
		{"/jh/%2e%2e/elsewhere/", false},
		{"/jh/%2E%2E/elsewhere/", false},
		{"/jh/./../../elsewhere", false},
		{"/jh/..", false},
		{"/jh/hub/home", true},
		{"/jh", true},
		{"/jh/./hub/home", true},
		{"/jh/user/../hub/home?next=/x/../y", true},
	} {
		got := sub.safeNext(tt.next)
		if (got != "") != tt.ok {
			t.Errorf("base /jh/: safeNext(%q) = %q, want ok=%v", tt.next, got, tt.ok)
		}
	}
}

func regexp1(pattern, s string) string {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

// regexpAll returns the first group of every match of pattern in s.
func regexpAll(pattern, s string) []string {
	var out []string
	for _, m := range regexp.MustCompile(pattern).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}
