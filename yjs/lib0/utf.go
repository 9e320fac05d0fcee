package lib0

import (
	"strings"
	"unicode/utf8"
)

// validUTF8 reports whether b is UTF-8 that a fatal WHATWG TextDecoder
// accepts: no surrogate code points, no overlong forms, nothing past
// U+10FFFF. Go's utf8.Valid applies the same rules.
func validUTF8(b []byte) bool { return utf8.Valid(b) }

// ToValidUTF8 returns s with each invalid byte replaced by U+FFFD. Go
// strings are the only way invalid text reaches an encoder, and JavaScript
// writes a lone surrogate, its closest equivalent, as U+FFFD too.
func ToValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		sb.WriteRune(r)
		i += size
	}
	return sb.String()
}

// UTF16Len returns the length of s in UTF-16 code units, the unit of
// JavaScript's String.length. s must be valid UTF-8.
func UTF16Len(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c&0xc0 != 0x80 {
			n++
			if c >= 0xf0 {
				n++
			}
		}
	}
	return n
}
