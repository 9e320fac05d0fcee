package lib0

import (
	"unicode/utf16"
	"unicode/utf8"
)

// JavaScript strings are UTF-16 and may hold a surrogate without its
// partner, which UTF-8 cannot write. A V2 update can produce one: its
// strings are cut from one concatenated string by UTF-16 lengths, so a cut
// may fall inside a surrogate pair. Strings in this package hold such a
// lone surrogate in the generalized UTF-8 known as WTF-8: the three bytes
// ED A0..BF 80..BF that UTF-8 reserves for surrogate code points. Like
// JavaScript, this package joins a high and a low surrogate that meet when
// strings are concatenated, and writes a lone one as U+FFFD when it
// encodes, as TextEncoder does. Such strings are not valid UTF-8.

// validUTF8 reports whether b is UTF-8 that a fatal WHATWG TextDecoder
// accepts: no surrogate code points, no overlong forms, nothing past
// U+10FFFF. Go's utf8.Valid applies the same rules.
func validUTF8(b []byte) bool { return utf8.Valid(b) }

// surrogateAt returns the surrogate code point whose WTF-8 form starts s,
// or 0.
func surrogateAt[S string | []byte](s S) rune {
	if len(s) < 3 || s[0] != 0xed || s[1] < 0xa0 || s[1] > 0xbf || s[2] < 0x80 || s[2] > 0xbf {
		return 0
	}
	return 0xd000 | rune(s[1]&0x3f)<<6 | rune(s[2]&0x3f)
}

// DecodeWTF8 returns the first code point of s and its size in bytes, as
// utf8.DecodeRune does, but returns a lone surrogate as its code point
// with size 3.
func DecodeWTF8[S string | []byte](s S) (rune, int) {
	if r := surrogateAt(s); r != 0 {
		return r, 3
	}
	if len(s) > 0 && s[0] < utf8.RuneSelf {
		return rune(s[0]), 1
	}
	var buf [utf8.UTFMax]byte
	n := copy(buf[:], s)
	return utf8.DecodeRune(buf[:n])
}

// AppendSurrogate appends the WTF-8 form of the surrogate code point c.
func AppendSurrogate(b []byte, c rune) []byte {
	return append(b, 0xe0|byte(c>>12), 0x80|byte(c>>6)&0x3f, 0x80|byte(c)&0x3f)
}

// AppendWTF8 appends s to b as JavaScript concatenates strings: a high
// surrogate at the end of b and a low one at the start of s become the
// four-byte form of their pair.
func AppendWTF8[S string | []byte](b []byte, s S) []byte {
	if len(b) >= 3 && len(s) >= 3 {
		hi, lo := surrogateAt(b[len(b)-3:]), surrogateAt(s)
		if hi >= 0xd800 && hi < 0xdc00 && lo >= 0xdc00 {
			b = utf8.AppendRune(b[:len(b)-3], utf16.DecodeRune(hi, lo))
			return append(b, s[3:]...)
		}
	}
	return append(b, s...)
}

// ToWTF8 returns s with each byte that is neither UTF-8 nor part of a lone
// surrogate's WTF-8 form replaced by U+FFFD, and with surrogate pairs
// joined, so that its length in UTF-16 units is well defined.
func ToWTF8(s string) string { return repair(s, true) }

// ToValidUTF8 returns s with each lone surrogate and each other invalid
// byte replaced by U+FFFD, as JavaScript's TextEncoder writes a lone
// surrogate. Go strings are the only way other invalid bytes reach an
// encoder.
func ToValidUTF8(s string) string { return repair(s, false) }

// repair replaces invalid bytes of s by U+FFFD and joins surrogate halves
// that meet, then replaces lone surrogates by U+FFFD too unless
// keepSurrogates is set.
func repair(s string, keepSurrogates bool) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		r, size := DecodeWTF8(s[i:])
		if size == 3 && r >= 0xd800 && r <= 0xdfff {
			b = AppendWTF8(b, s[i:i+3])
		} else {
			b = utf8.AppendRune(b, r)
		}
		i += size
	}
	if !keepSurrogates {
		// A lone surrogate's WTF-8 form and U+FFFD both take three bytes.
		for i := 0; i+3 <= len(b); i++ {
			if surrogateAt(b[i:]) != 0 {
				copy(b[i:], "\uFFFD")
				i += 2
			}
		}
	}
	return string(b)
}

// UTF16Len returns the length of s in UTF-16 code units, the unit of
// JavaScript's String.length. s must be valid UTF-8 or WTF-8.
func UTF16Len[S string | []byte](s S) int {
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
