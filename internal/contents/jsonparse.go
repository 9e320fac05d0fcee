package contents

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxJSONDepth is the deepest nesting of arrays and objects that
// jsonParser accepts, the same as encoding/json's.
const maxJSONDepth = 10000

// jsonParser decodes JSON text into the values that encoding/json's
// Decoder gives for an any with UseNumber: map[string]any, []any, string,
// json.Number, bool and nil. It accepts the same texts as encoding/json,
// including its nesting limit, and decodes them to equal values (duplicate
// keys keep the last value, and a lone UTF-16 surrogate escape becomes
// U+FFFD). The input must be valid UTF-8; callers check it first.
//
// It is several times faster than encoding/json on notebooks because it
// makes one pass, sizes each list once, and returns strings without
// escapes as substrings of src instead of copies. The values therefore
// keep src in memory while any of its strings lives.
type jsonParser struct {
	src   string
	pos   int
	depth int

	// items is a stack of the elements of the lists being parsed. Each
	// list is copied out when it ends, so it is allocated at its size.
	items []any
	// buf collects the decoded bytes of strings that contain escapes.
	buf []byte
	// inexact is set by every number literal that plainInteger rejects,
	// that is every number that a browser could write back differently.
	inexact bool
}

// jsonSyntaxError is invalid JSON text, with the byte offset where the
// parser noticed it.
type jsonSyntaxError struct {
	msg    string
	offset int
}

func (e *jsonSyntaxError) Error() string {
	return fmt.Sprintf("%s at byte %d", e.msg, e.offset)
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return &jsonSyntaxError{msg: fmt.Sprintf(format, args...), offset: p.pos}
}

// unexpected returns the error for the byte at p.pos, or for the end of
// the input. context names where the byte is, as in "in string literal".
func (p *jsonParser) unexpected(context string) error {
	if p.pos >= len(p.src) {
		return &jsonSyntaxError{msg: "unexpected end of JSON input", offset: p.pos}
	}
	return p.errorf("invalid character %s %s", quoteByte(p.src[p.pos]), context)
}

// quoteByte formats c for an error message as encoding/json does.
func quoteByte(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// parseJSON parses src, which must be valid UTF-8 and hold one JSON value
// with nothing but whitespace around it.
func parseJSON(src string) (any, *jsonParser, error) {
	p := &jsonParser{src: src}
	v, err := p.value()
	if err != nil {
		return nil, p, err
	}
	if err := p.end(); err != nil {
		return nil, p, err
	}
	return v, p, nil
}

// end checks that only whitespace follows the value just parsed.
func (p *jsonParser) end() error {
	p.skipSpace()
	if p.pos < len(p.src) {
		return p.errorf("invalid character %s after top-level value", quoteByte(p.src[p.pos]))
	}
	return nil
}

func (p *jsonParser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// next skips whitespace and returns the byte there, or 0 at the end of the
// input (a 0 byte is never valid there, so the caller reports it either way).
func (p *jsonParser) next() byte {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return 0
	}
	return p.src[p.pos]
}

func (p *jsonParser) value() (any, error) {
	switch c := p.next(); c {
	case '{':
		return p.object(genericObject)
	case '[':
		return p.array(nil)
	case '"':
		s, err := p.string()
		if err != nil {
			return nil, err
		}
		return boxString(s), nil
	case 't':
		return p.literal("true", true)
	case 'f':
		return p.literal("false", false)
	case 'n':
		return p.literal("null", nil)
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return p.number()
		}
		return nil, p.unexpected("looking for beginning of value")
	}
}

func (p *jsonParser) literal(word string, v any) (any, error) {
	for i := 0; i < len(word); i++ {
		if p.pos >= len(p.src) || p.src[p.pos] != word[i] {
			return nil, p.unexpected("in literal " + word + " (expecting " + quoteByte(word[i]) + ")")
		}
		p.pos++
	}
	return v, nil
}

func (p *jsonParser) number() (any, error) {
	start := p.pos
	if p.src[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(p.src) && p.src[p.pos] == '0':
		p.pos++
	case p.pos < len(p.src) && p.src[p.pos] >= '1' && p.src[p.pos] <= '9':
		p.pos = skipDigits(p.src, p.pos)
	default:
		return nil, p.unexpected("in numeric literal")
	}
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		p.pos++
		end := skipDigits(p.src, p.pos)
		if end == p.pos {
			return nil, p.unexpected("after decimal point in numeric literal")
		}
		p.pos = end
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		end := skipDigits(p.src, p.pos)
		if end == p.pos {
			return nil, p.unexpected("in exponent of numeric literal")
		}
		p.pos = end
	}
	literal := p.src[start:p.pos]
	if !plainInteger(literal) {
		p.inexact = true
	}
	return json.Number(literal), nil
}

func (p *jsonParser) enter() error {
	p.depth++
	if p.depth > maxJSONDepth {
		return p.errorf("exceeded max depth")
	}
	return nil
}

// array parses a list. Each element is parsed by element, or by value
// when element is nil.
func (p *jsonParser) array(element func(*jsonParser) (any, error)) (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++ // '['
	if p.next() == ']' {
		p.pos++
		p.depth--
		return []any{}, nil
	}
	base := len(p.items)
	for {
		var v any
		var err error
		if element != nil {
			v, err = element(p)
		} else {
			v, err = p.value()
		}
		if err != nil {
			return nil, err
		}
		p.items = append(p.items, v)
		switch p.next() {
		case ',':
			p.pos++
		case ']':
			p.pos++
			p.depth--
			list := make([]any, len(p.items)-base)
			copy(list, p.items[base:])
			clear(p.items[base:])
			p.items = p.items[:base]
			return list, nil
		default:
			return nil, p.unexpected("after array element")
		}
	}
}

// objectKind selects how an object's values are parsed: generically, or
// as a part of a notebook whose lists of lines ReadNotebook may join.
type objectKind int

const (
	genericObject objectKind = iota
	notebookObject
	cellObject
	attachmentsObject
	attachmentObject
	outputObject
	dataObject
)

func (p *jsonParser) object(kind objectKind) (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++ // '{'
	m := make(map[string]any)
	if p.next() == '}' {
		p.pos++
		p.depth--
		return m, nil
	}
	for {
		if p.next() != '"' {
			return nil, p.unexpected("looking for beginning of object key string")
		}
		key, err := p.string()
		if err != nil {
			return nil, err
		}
		if p.next() != ':' {
			return nil, p.unexpected("after object key")
		}
		p.pos++
		var v any
		if kind == genericObject {
			v, err = p.value()
		} else {
			v, err = p.notebookValue(kind, key)
		}
		if err != nil {
			return nil, err
		}
		m[key] = v
		switch p.next() {
		case ',':
			p.pos++
		case '}':
			p.pos++
			p.depth--
			return m, nil
		default:
			return nil, p.unexpected("after object key:value pair")
		}
	}
}

// string parses a JSON string and returns its value: a substring of
// p.src when it has no escapes.
func (p *jsonParser) string() (string, error) {
	p.pos++ // '"'
	start := p.pos
	if err := p.scanPlain(); err != nil {
		return "", err
	}
	if p.src[p.pos] == '"' {
		s := p.src[start:p.pos]
		p.pos++
		return s, nil
	}
	if p.pos-start >= largeString || stringEnd(p.src, p.pos, min(start+largeString, len(p.src))) < 0 {
		return p.largeString(start)
	}
	p.buf = append(p.buf[:0], p.src[start:p.pos]...)
	if err := p.appendEscaped(); err != nil {
		return "", err
	}
	return string(p.buf), nil
}

// largeString is the length of string text, escapes included, from which
// a string with escapes is decoded into a buffer of its own instead of p.buf.
// Such a string is usually the content of a large text file that a PUT saves.
const largeString = 64 << 10

// largeString decodes the rest of the string that starts at start, whose
// first backslash is at p.pos. It allocates the buffer once, with the
// length of the escaped text, which the decoded text never exceeds. The
// buffer then becomes the string without a copy. Growing p.buf and copying
// it out allocated six times the string's length for a 4 MB string.
func (p *jsonParser) largeString(start int) (string, error) {
	end := stringEnd(p.src, p.pos, len(p.src))
	if end < 0 {
		end = len(p.src) // appendEscaped reports the missing quote
	}
	shared := p.buf
	p.buf = make([]byte, 0, end-start)
	p.buf = append(p.buf, p.src[start:p.pos]...)
	err := p.appendEscaped()
	decoded := p.buf
	p.buf = shared
	if err != nil {
		return "", err
	}
	if len(decoded) < cap(decoded)/2 {
		// Mostly escapes: a copy of the decoded length holds less memory
		// for as long as the string lives.
		return string(decoded), nil
	}
	// Nothing else refers to decoded, and nothing writes to it again.
	return unsafe.String(unsafe.SliceData(decoded), len(decoded)), nil
}

// stringEnd returns the index of the first quote in s[i:limit] that no
// backslash escapes, which closes the JSON string that s[i] is in, or -1
// when there is none. The string must start before i with its opening
// quote, which stops the count of backslashes in front of a quote.
func stringEnd(s string, i, limit int) int {
	for {
		q := strings.IndexByte(s[i:limit], '"')
		if q < 0 {
			return -1
		}
		q += i
		backslashes := 0
		for s[q-1-backslashes] == '\\' {
			backslashes++
		}
		if backslashes%2 == 0 {
			return q
		}
		i = q + 1
	}
}

// appendString parses a JSON string and appends its value to p.buf.
func (p *jsonParser) appendString() error {
	p.pos++ // '"'
	start := p.pos
	if err := p.scanPlain(); err != nil {
		return err
	}
	p.buf = append(p.buf, p.src[start:p.pos]...)
	if p.src[p.pos] == '"' {
		p.pos++
		return nil
	}
	return p.appendEscaped()
}

// scanPlain moves p.pos within a string to its closing quote or its first
// backslash, and rejects control characters and the end of the input on
// the way.
func (p *jsonParser) scanPlain() error {
	for p.pos < len(p.src) {
		p.skipPlain()
		if p.pos == len(p.src) {
			break
		}
		switch c := p.src[p.pos]; {
		case c == '"' || c == '\\':
			return nil
		case c < 0x20:
			return p.unexpected("in string literal")
		}
		p.pos++
	}
	return p.unexpected("in string literal")
}

// skipPlain skips the bytes of a string that need no decoding, 8 at a
// time, and stops at most 7 bytes before the next one that does.
func (p *jsonParser) skipPlain() {
	for p.pos+8 <= len(p.src) && plainStringWord(word(p.src, p.pos)) {
		p.pos += 8
	}
}

// appendEscaped decodes the rest of a string from the backslash at p.pos
// up to and including its closing quote, appending it to p.buf.
func (p *jsonParser) appendEscaped() error {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			return nil
		case c < 0x20:
			return p.unexpected("in string literal")
		case c != '\\':
			start := p.pos
			p.skipPlain()
			for p.pos < len(p.src) && p.src[p.pos] >= 0x20 && p.src[p.pos] != '"' && p.src[p.pos] != '\\' {
				p.pos++
			}
			p.buf = append(p.buf, p.src[start:p.pos]...)
			continue
		}
		p.pos++ // '\\'
		if p.pos >= len(p.src) {
			return p.unexpected("in string escape code")
		}
		switch e := p.src[p.pos]; e {
		case '"', '\\', '/':
			p.buf = append(p.buf, e)
		case 'b':
			p.buf = append(p.buf, '\b')
		case 'f':
			p.buf = append(p.buf, '\f')
		case 'n':
			p.buf = append(p.buf, '\n')
		case 'r':
			p.buf = append(p.buf, '\r')
		case 't':
			p.buf = append(p.buf, '\t')
		case 'u':
			r, ok := hex4(p.src, p.pos+1)
			if !ok {
				p.pos++
				for i := 0; i < 4 && p.pos < len(p.src) && isHex(p.src[p.pos]); i++ {
					p.pos++
				}
				return p.unexpected("in \\u hexadecimal character escape")
			}
			p.pos += 4
			if utf16.IsSurrogate(r) {
				// A valid pair is one character; anything else leaves
				// U+FFFD and does not consume the second escape.
				if p.pos+2 < len(p.src) && p.src[p.pos+1] == '\\' && p.src[p.pos+2] == 'u' {
					if r2, ok := hex4(p.src, p.pos+3); ok {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							p.buf = utf8.AppendRune(p.buf, dec)
							p.pos += 7
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			p.buf = utf8.AppendRune(p.buf, r)
		default:
			return p.unexpected("in string escape code")
		}
		p.pos++
	}
	return p.unexpected("in string literal")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// hex4 decodes the four hexadecimal digits at s[i:].
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// boxString returns s as an any. The strings that notebooks repeat in
// every cell come from constants, which need no allocation.
func boxString(s string) any {
	if len(s) > 14 {
		return s
	}
	switch s {
	case "code":
		return "code"
	case "markdown":
		return "markdown"
	case "raw":
		return "raw"
	case "stream":
		return "stream"
	case "stdout":
		return "stdout"
	case "stderr":
		return "stderr"
	case "display_data":
		return "display_data"
	case "execute_result":
		return "execute_result"
	case "error":
		return "error"
	case "":
		return ""
	}
	return s
}

// joinedLines is a parsed list of strings that ReadNotebook may join. It
// keeps the strings joined, and where the list starts in the input, so
// that rejoinLines can parse it again where nbformat keeps the list.
type joinedLines struct {
	text  string
	start int
}

// notebookValue parses the value of key in an object of the given kind,
// and joins lists of lines where nbformat's rejoin_lines joins them
// whatever else the notebook holds: cells[].source and the non-JSON
// entries of cells[].attachments.*. Whether nbformat joins
// cells[].outputs[].text and cells[].outputs[].data.* depends on the cell
// type and output type, which may come later in the file. So there a list
// of strings becomes a *joinedLines, and rejoinLines decides.
func (p *jsonParser) notebookValue(kind objectKind, key string) (any, error) {
	c := p.next()
	switch kind {
	case notebookObject:
		if key == "cells" && c == '[' {
			return p.array(parseCell)
		}
	case cellObject:
		switch {
		case key == "source":
			return p.joined()
		case key == "attachments" && c == '{':
			return p.object(attachmentsObject)
		case key == "outputs" && c == '[':
			return p.array(parseOutput)
		}
	case attachmentsObject:
		if c == '{' {
			return p.object(attachmentObject)
		}
	case attachmentObject:
		if !isJSONMime(key) {
			return p.joined()
		}
	case outputObject:
		switch {
		case key == "text":
			return p.lines()
		case key == "data" && c == '{':
			return p.object(dataObject)
		}
	case dataObject:
		if !isJSONMime(key) {
			return p.lines()
		}
	}
	return p.value()
}

func parseCell(p *jsonParser) (any, error) {
	if p.next() == '{' {
		return p.object(cellObject)
	}
	return p.value()
}

func parseOutput(p *jsonParser) (any, error) {
	if p.next() == '{' {
		return p.object(outputObject)
	}
	return p.value()
}

// joined parses a value that may be a list of lines. A list whose
// elements are all strings gives the strings joined; any other value is
// parsed as value does.
func (p *jsonParser) joined() (any, error) {
	start := p.pos
	if text, ok := p.joinList(); ok {
		return boxString(text), nil
	}
	p.pos = start
	return p.value()
}

// lines is joined, but gives a *joinedLines for a list of strings.
func (p *jsonParser) lines() (any, error) {
	start := p.pos
	if text, ok := p.joinList(); ok {
		return &joinedLines{text: text, start: start}, nil
	}
	p.pos = start
	return p.value()
}

// joinList parses a list of strings at p.pos and returns them joined. It
// returns false for anything else, and then leaves p.pos anywhere, since
// the caller parses the value again.
func (p *jsonParser) joinList() (string, bool) {
	if p.next() != '[' || p.depth >= maxJSONDepth {
		return "", false
	}
	p.pos++ // '['
	p.buf = p.buf[:0]
	if p.next() == ']' {
		p.pos++
		return "", true
	}
	for n := 0; ; n++ {
		if p.next() != '"' {
			return "", false
		}
		from := p.pos
		if err := p.appendString(); err != nil {
			return "", false
		}
		to := p.pos
		switch p.next() {
		case ',':
			p.pos++
		case ']':
			p.pos++
			// A single string without escapes needs no copy.
			if n == 0 && to-from-2 == len(p.buf) {
				return p.src[from+1 : to-1], true
			}
			return string(p.buf), true
		default:
			return "", false
		}
	}
}

// reparse returns the list that l was parsed from, as value would have
// parsed it.
func (p *jsonParser) reparse(l *joinedLines) (any, error) {
	saved, depth := p.pos, p.depth
	p.pos, p.depth = l.start, 0
	v, err := p.value()
	p.pos, p.depth = saved, depth
	if err != nil {
		// joinList accepted this text as a list of strings, so this is a
		// bug in the parser, never bad input.
		return nil, fmt.Errorf("reparsing the list of lines at byte %d: %w", l.start, err)
	}
	return v, nil
}
