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
}

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
		e.buf = append(e.buf, v...)
	case float64:
		e.buf = append(e.buf, pyFloatRepr(v)...)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, v, 10)
	case map[string]any:
		return e.object(v, depth)
	case []any:
		return e.array(v, depth)
	case []string:
		items := make([]any, len(v))
		for i, s := range v {
			items[i] = s
		}
		return e.array(items, depth)
	default:
		return fmt.Errorf("value of type %T is not a JSON value", v)
	}
	return nil
}

func (e *pyEncoder) object(m map[string]any, depth int) error {
	if len(m) == 0 {
		e.buf = append(e.buf, "{}"...)
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Go compares strings bytewise, and UTF-8 byte order is code point
	// order, which is how Python sorts str keys.
	slices.Sort(keys)
	e.buf = append(e.buf, '{')
	for i, k := range keys {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.newline(depth + 1)
		e.str(k)
		if e.compact {
			e.buf = append(e.buf, ':')
		} else {
			e.buf = append(e.buf, ": "...)
		}
		if err := e.value(m[k], depth+1); err != nil {
			return err
		}
	}
	e.newline(depth)
	e.buf = append(e.buf, '}')
	return nil
}

func (e *pyEncoder) array(items []any, depth int) error {
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
		if err := e.value(v, depth+1); err != nil {
			return err
		}
	}
	e.newline(depth)
	e.buf = append(e.buf, ']')
	return nil
}

func (e *pyEncoder) newline(depth int) {
	if e.compact {
		return
	}
	e.buf = append(e.buf, '\n')
	for range depth {
		e.buf = append(e.buf, ' ')
	}
}

// str writes s as a JSON string with Python's escaping. Bytes that are not
// valid UTF-8 become U+FFFD, which is what decoding them would give.
func (e *pyEncoder) str(s string) {
	const hex = "0123456789abcdef"
	e.buf = append(e.buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x80 {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				e.buf = append(e.buf, "\uFFFD"...)
			} else {
				e.buf = append(e.buf, s[i:i+size]...)
			}
			i += size
			continue
		}
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
				e.buf = append(e.buf, c)
			}
		}
		i++
	}
	e.buf = append(e.buf, '"')
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
