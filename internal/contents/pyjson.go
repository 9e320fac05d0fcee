package contents

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// pyEncoder writes JSON text byte for byte as Python's
// json.dumps(v, sort_keys=True, indent=1, ensure_ascii=False,
// separators=(",", ": ")) does: one space of indent per level, "[]" and
// "{}" for empty containers, keys sorted by code point, and only '"', '\\'
// and control characters escaped.
type pyEncoder struct {
	buf []byte
	// compact leaves out the newlines, the indent and the space after
	// each colon, for API responses, which need no stable layout.
	compact bool
	// inexact is set when a number is written that a browser could
	// write back differently (see plainInteger).
	inexact bool
}

type objectField struct {
	key   string
	value any
}

// fieldWriter writes the value v of key in an object, at the given depth.
type fieldWriter func(e *pyEncoder, key string, v any, depth int) error

// elementWriter writes the element v of a list, at the given depth.
type elementWriter func(e *pyEncoder, v any, depth int) error

func (e *pyEncoder) value(v any, depth int) error {
	switch v := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case bool:
		e.buf = strconv.AppendBool(e.buf, v)
	case string:
		e.str(v)
	case json.Number:
		if !isJSONNumber(string(v)) {
			return fmt.Errorf("invalid JSON number %q", string(v))
		}
		if !plainInteger(string(v)) {
			e.inexact = true
		}
		e.buf = append(e.buf, v...)
	case float64:
		e.inexact = true
		e.buf = append(e.buf, pyFloatRepr(v)...)
	case int:
		e.integer(int64(v))
	case int64:
		e.integer(v)
	case map[string]any:
		return e.object(v, depth, nil, nil)
	case []any:
		return e.array(v, depth, nil)
	case []string:
		items := make([]any, len(v))
		for i, s := range v {
			items[i] = s
		}
		return e.array(items, depth, nil)
	default:
		return fmt.Errorf("value of type %T is not a JSON value", v)
	}
	return nil
}

func (e *pyEncoder) integer(n int64) {
	start := len(e.buf)
	e.buf = strconv.AppendInt(e.buf, n, 10)
	if !plainInteger(string(e.buf[start:])) {
		e.inexact = true
	}
}

// object writes m with its keys sorted. It leaves out the keys for which
// skip, when not nil, returns true, and writes the values with field, or
// with value when field is nil.
func (e *pyEncoder) object(m map[string]any, depth int, skip func(string) bool, field fieldWriter) error {
	// Most objects of a notebook are small, and their entries are sorted
	// on the stack, where storing pointers needs no write barrier.
	var small [8]objectField
	fields := small[:0]
	if len(m) > len(small) {
		fields = make([]objectField, 0, len(m))
	}
	for k, v := range m {
		if skip == nil || !skip(k) {
			fields = append(fields, objectField{k, v})
		}
	}
	if len(fields) == 0 {
		e.buf = append(e.buf, "{}"...)
		return nil
	}
	sortFields(fields)
	e.buf = append(e.buf, '{')
	for i, f := range fields {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.newline(depth + 1)
		e.str(f.key)
		if e.compact {
			e.buf = append(e.buf, ':')
		} else {
			e.buf = append(e.buf, ": "...)
		}
		var err error
		if field != nil {
			err = field(e, f.key, f.value, depth+1)
		} else {
			err = e.value(f.value, depth+1)
		}
		if err != nil {
			return err
		}
	}
	e.newline(depth)
	e.buf = append(e.buf, '}')
	return nil
}

// sortFields sorts fields by key. Go compares strings bytewise, and UTF-8
// byte order is code point order, which is how Python sorts str keys.
func sortFields(fields []objectField) {
	if len(fields) > 12 {
		slices.SortFunc(fields, func(a, b objectField) int { return strings.Compare(a.key, b.key) })
		return
	}
	// Insertion sort is faster for the few keys of most notebook objects.
	for i := 1; i < len(fields); i++ {
		for j := i; j > 0 && fields[j].key < fields[j-1].key; j-- {
			fields[j], fields[j-1] = fields[j-1], fields[j]
		}
	}
}

// array writes a list, its elements with element, or with value when
// element is nil.
func (e *pyEncoder) array(items []any, depth int, element elementWriter) error {
	if len(items) == 0 {
		e.buf = append(e.buf, "[]"...)
		return nil
	}
	e.buf = append(e.buf, '[')
	for i, v := range items {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.newline(depth + 1)
		var err error
		if element != nil {
			err = element(e, v, depth+1)
		} else {
			err = e.value(v, depth+1)
		}
		if err != nil {
			return err
		}
	}
	e.newline(depth)
	e.buf = append(e.buf, ']')
	return nil
}

// lines writes s as the list of its lines, split where Python's
// str.splitlines(keepends=True) splits (see lineEnd).
func (e *pyEncoder) lines(s string, depth int) {
	if s == "" {
		e.buf = append(e.buf, "[]"...)
		return
	}
	e.buf = append(e.buf, '[')
	for start := 0; start < len(s); {
		if start > 0 {
			e.buf = append(e.buf, ',')
		}
		e.newline(depth + 1)
		start += e.quote(s[start:], true)
	}
	e.newline(depth)
	e.buf = append(e.buf, ']')
}

// indent is a newline and the indent of the first levels.
const indent = "\n                                                                " +
	"                                                                "

func (e *pyEncoder) newline(depth int) {
	if e.compact {
		return
	}
	if depth < len(indent) {
		e.buf = append(e.buf, indent[:depth+1]...)
		return
	}
	e.buf = append(e.buf, indent...)
	for range depth + 1 - len(indent) {
		e.buf = append(e.buf, ' ')
	}
}

// plainASCII marks the ASCII bytes that a JSON string holds as they are:
// everything but control characters, '"' and '\\'.
var plainASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str writes s as a JSON string with Python's escaping. Bytes that are not
// valid UTF-8 become U+FFFD, which is what decoding them would give.
func (e *pyEncoder) str(s string) {
	e.quote(s, false)
}

// quote writes s as str does, or only the first line of s when firstLine
// is set, and returns the number of bytes of s it wrote. Lines end as
// lineEnd finds them.
func (e *pyEncoder) quote(s string, firstLine bool) int {
	const hex = "0123456789abcdef"
	e.buf = append(e.buf, '"')
	done := 0 // s[:done] is written
	i := 0
	for i < len(s) {
		for i+8 <= len(s) && plainASCIIWord(word(s, i)) {
			i += 8
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf && plainASCII[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				if firstLine && (r == '\u0085' || r == '\u2028' || r == '\u2029') {
					break
				}
				continue
			}
		}
		e.buf = append(e.buf, s[done:i]...)
		switch c {
		case '"':
			e.buf = append(e.buf, `\"`...)
		case '\\':
			e.buf = append(e.buf, `\\`...)
		case '\n':
			e.buf = append(e.buf, `\n`...)
		case '\r':
			e.buf = append(e.buf, `\r`...)
		case '\t':
			e.buf = append(e.buf, `\t`...)
		case '\b':
			e.buf = append(e.buf, `\b`...)
		case '\f':
			e.buf = append(e.buf, `\f`...)
		default:
			if c < 0x20 {
				e.buf = append(e.buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				e.buf = append(e.buf, "\uFFFD"...)
			}
		}
		i++
		done = i
		if !firstLine {
			continue
		}
		if c == '\r' && i < len(s) && s[i] == '\n' {
			e.buf = append(e.buf, `\n`...)
			i++
			done = i
			break
		}
		if c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == '\x1c' || c == '\x1d' || c == '\x1e' {
			break
		}
	}
	e.buf = append(e.buf, s[done:i]...)
	e.buf = append(e.buf, '"')
	return i
}

// word returns the 8 bytes of s at i as a little-endian integer, which
// the compiler turns into one load.
func word(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// Byte-parallel tests on the 8 bytes of a word use the classic bit
// tricks. For a word x whose bytes are all below 0x80,
// (x - lows*n) &^ x & highs is not zero exactly when some byte of x is
// below n (for n up to 0x80). hasByte is not zero exactly when some byte
// equals c.
const (
	lows  = 0x0101010101010101
	highs = 0x8080808080808080
)

func hasByte(x uint64, c byte) uint64 {
	y := x ^ (lows * uint64(c))
	return (y - lows) &^ y & highs
}

// plainASCIIWord reports whether all 8 bytes of x are plainASCII.
func plainASCIIWord(x uint64) bool {
	if x&highs != 0 {
		return false
	}
	control := (x - lows*0x20) &^ x & highs
	return control|hasByte(x, '"')|hasByte(x, '\\') == 0
}

// plainStringWord reports whether none of the 8 bytes of x ends or
// escapes a JSON string: none is '"', '\\' or a control character. Bytes
// from 0x80 up, parts of UTF-8 characters, are plain.
func plainStringWord(x uint64) bool {
	ascii := ^x & highs // the high bit of each ASCII byte
	control := (x - lows*0x20) & ascii
	return control|hasByte(x, '"')|hasByte(x, '\\') == 0
}

// pyFloatRepr formats f as Python's repr(float) and json.dumps do: the
// shortest digits that round-trip, scientific notation when the decimal
// exponent is below -4 or at least 16, and ".0" on integral values.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	sci := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(sci[strings.IndexByte(sci, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return sci
	}
	fixed := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(fixed, '.') {
		fixed += ".0"
	}
	return fixed
}

// isJSONNumber reports whether s matches the JSON number grammar.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = skipDigits(s, i)
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		j := skipDigits(s, i+1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := skipDigits(s, i)
		if j == i {
			return false
		}
		i = j
	}
	return i == len(s)
}

func skipDigits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
