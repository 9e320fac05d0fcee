package yjs

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/jupygo/jupygo/yjs/lib0"
)

// V1 updates carry embeds, format values and legacy JSON content as JSON
// text made by JSON.stringify and read with JSON.parse. parseJSON and
// stringifyJSON follow those two functions, so that text read from yjs and
// written back is byte for byte what yjs writes: numbers in JavaScript's
// shortest form, object keys in JavaScript's property order, and only the
// escapes JSON.stringify uses.

// maxJSONDepth bounds the nesting of parsed JSON as lib0.MaxDepth bounds
// Any values.
const maxJSONDepth = lib0.MaxDepth

// ParseJSON parses JSON text as JavaScript's JSON.parse does, into Any
// values (see lib0): numbers become float64 (±Inf when too large), objects
// become Object with keys in JavaScript's property order.
func ParseJSON(s string) (any, error) { return parseJSON(s) }

// StringifyJSON formats an Any value as JavaScript's JSON.stringify does.
// Undefined yields "undefined", where JSON.stringify returns undefined.
func StringifyJSON(v any) string { return stringifyJSON(v) }

func parseJSON(s string) (any, error) {
	p := jsonParser{s: s}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected %q at offset %d", p.s[p.i], p.i)
	}
	return v, nil
}

type jsonParser struct {
	s string
	i int
}

var errJSONEnd = errors.New("unexpected end of JSON input")

func (p *jsonParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, errors.New("JSON nested too deeply")
	}
	if p.i >= len(p.s) {
		return nil, errJSONEnd
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.string()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return nil, fmt.Errorf("unexpected %q at offset %d", c, p.i)
	}
}

func (p *jsonParser) literal(word string) error {
	if !strings.HasPrefix(p.s[p.i:], word) {
		return fmt.Errorf("invalid literal at offset %d", p.i)
	}
	p.i += len(word)
	return nil
}

func (p *jsonParser) number() (any, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.s) && p.s[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return nil, fmt.Errorf("invalid number at offset %d", start)
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, fmt.Errorf("invalid number at offset %d", start)
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, fmt.Errorf("invalid number at offset %d", start)
		}
	}
	f, err := strconv.ParseFloat(p.s[start:p.i], 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, fmt.Errorf("invalid number at offset %d: %w", start, err)
	}
	return f, nil
}

func (p *jsonParser) string() (string, error) {
	p.i++ // opening quote
	var sb strings.Builder
	for {
		if p.i >= len(p.s) {
			return "", errJSONEnd
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			// Surrogate halves that meet, escaped or raw, form a pair, as
			// in a JavaScript string.
			return lib0.ToWTF8(sb.String()), nil
		case c < 0x20:
			return "", fmt.Errorf("control character in string at offset %d", p.i)
		case c == '\\':
			if err := p.escape(&sb); err != nil {
				return "", err
			}
		default:
			sb.WriteByte(c)
			p.i++
		}
	}
}

func (p *jsonParser) escape(sb *strings.Builder) error {
	if p.i+1 >= len(p.s) {
		return errJSONEnd
	}
	c := p.s[p.i+1]
	p.i += 2
	simple := map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f',
		'n': '\n', 'r': '\r', 't': '\t'}
	if r, ok := simple[c]; ok {
		sb.WriteByte(r)
		return nil
	}
	if c != 'u' {
		return fmt.Errorf("invalid escape at offset %d", p.i-2)
	}
	r1, err := p.hex4()
	if err != nil {
		return err
	}
	if utf16.IsSurrogate(r1) && r1 < 0xdc00 && strings.HasPrefix(p.s[p.i:], `\u`) {
		save := p.i
		p.i += 2
		r2, err := p.hex4()
		if err == nil && r2 >= 0xdc00 && r2 <= 0xdfff {
			sb.WriteRune(utf16.DecodeRune(r1, r2))
			return nil
		}
		p.i = save
	}
	if utf16.IsSurrogate(r1) {
		// A lone surrogate has no UTF-8 form: it is held in WTF-8 (see
		// lib0).
		sb.Write(lib0.AppendSurrogate(nil, r1))
		return nil
	}
	sb.WriteRune(r1)
	return nil
}

func (p *jsonParser) hex4() (rune, error) {
	if p.i+4 > len(p.s) {
		return 0, errJSONEnd
	}
	n, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid unicode escape at offset %d", p.i)
	}
	p.i += 4
	return rune(n), nil
}

func (p *jsonParser) array(depth int) (any, error) {
	p.i++
	arr := []any{}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return arr, nil
	}
	for {
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		p.space()
		if p.i >= len(p.s) {
			return nil, errJSONEnd
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return arr, nil
		default:
			return nil, fmt.Errorf("unexpected %q in array at offset %d", p.s[p.i], p.i)
		}
	}
}

func (p *jsonParser) object(depth int) (any, error) {
	p.i++
	var o lib0.Object
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return o, nil
	}
	for {
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, fmt.Errorf("expected object key at offset %d", p.i)
		}
		key, err := p.string()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, fmt.Errorf("expected ':' at offset %d", p.i)
		}
		p.i++
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		o.Set(key, v)
		p.space()
		if p.i >= len(p.s) {
			return nil, errJSONEnd
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return o, nil
		default:
			return nil, fmt.Errorf("unexpected %q in object at offset %d", p.s[p.i], p.i)
		}
	}
}

// stringifyJSON returns v as JSON.stringify formats it. Undefined yields
// "undefined", the text yjs stores for undefined legacy JSON content.
func stringifyJSON(v any) string {
	var sb strings.Builder
	if _, ok := v.(lib0.Undefined); ok {
		return "undefined"
	}
	writeJSON(&sb, v)
	return sb.String()
}

func writeJSON(sb *strings.Builder, v any) {
	switch v := v.(type) {
	case nil, lib0.Undefined:
		sb.WriteString("null")
	case bool:
		sb.WriteString(strconv.FormatBool(v))
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			sb.WriteString("null")
		} else {
			sb.WriteString(formatNumber(v))
		}
	case int64:
		sb.WriteString(strconv.FormatInt(v, 10))
	case string:
		writeJSONString(sb, v)
	case []byte:
		// JSON.stringify writes a Uint8Array as an object of its indexes.
		sb.WriteByte('{')
		for i, b := range v {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(sb, `"%d":%d`, i, b)
		}
		sb.WriteByte('}')
	case []any:
		sb.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				sb.WriteByte(',')
			}
			writeJSON(sb, x)
		}
		sb.WriteByte(']')
	case lib0.Object:
		writeJSONObject(sb, v)
	default:
		sb.WriteString("null")
	}
}

func writeJSONObject(sb *strings.Builder, o lib0.Object) {
	sb.WriteByte('{')
	first := true
	for _, f := range o.Fields {
		if _, ok := f.Value.(lib0.Undefined); ok {
			continue
		}
		if !first {
			sb.WriteByte(',')
		}
		first = false
		writeJSONString(sb, f.Key)
		sb.WriteByte(':')
		writeJSON(sb, f.Value)
	}
	sb.WriteByte('}')
}

func writeJSONString(sb *strings.Builder, s string) {
	sb.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x80 {
			r, size := lib0.DecodeWTF8(s[i:])
			if size == 3 && utf16.IsSurrogate(r) {
				// JSON.stringify escapes a lone surrogate.
				fmt.Fprintf(sb, `\u%04x`, r)
			} else {
				sb.WriteRune(r)
			}
			i += size
			continue
		}
		switch c {
		case '"':
			sb.WriteString(`\"`)
		case '\\':
			sb.WriteString(`\\`)
		case '\b':
			sb.WriteString(`\b`)
		case '\f':
			sb.WriteString(`\f`)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
			sb.WriteString(`\r`)
		case '\t':
			sb.WriteString(`\t`)
		default:
			if c < 0x20 {
				fmt.Fprintf(sb, `\u%04x`, c)
			} else {
				sb.WriteByte(c)
			}
		}
		i++
	}
	sb.WriteByte('"')
}

// formatNumber formats a finite f as JavaScript's Number.prototype.toString:
// the shortest digits that round-trip, in fixed notation for exponents from
// -7 to 20 and in exponential notation ("1e+21", "1.5e-7") outside.
func formatNumber(f float64) string {
	if f == 0 {
		return "0"
	}
	sign := ""
	if f < 0 {
		sign = "-"
		f = -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expPart, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expPart)
	k := len(digits)
	n := exp + 1
	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	out := digits[:1]
	if k > 1 {
		out += "." + digits[1:]
	}
	if n-1 >= 0 {
		return sign + out + "e+" + strconv.Itoa(n-1)
	}
	return sign + out + "e" + strconv.Itoa(n-1)
}

// toPlainJSON converts Any values into the values encoding/json marshals
// as JSON.stringify would: Object becomes map[string]any, undefined
// properties are dropped and undefined array elements become null, and
// []byte becomes an object of its indexes. bigint, which JSON.stringify
// rejects, becomes its decimal string.
func toPlainJSON(v any) any {
	switch v := v.(type) {
	case lib0.Undefined:
		return nil
	case lib0.Object:
		m := make(map[string]any, len(v.Fields))
		for _, f := range v.Fields {
			if _, ok := f.Value.(lib0.Undefined); !ok {
				m[f.Key] = toPlainJSON(f.Value)
			}
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = toPlainJSON(x)
		}
		return out
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return v
}
