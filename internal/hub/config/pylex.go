package config

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file splits a jupyterhub_config.py into tokens for pyparse.go. It
// handles the parts of Python's lexical grammar that such files use: names,
// numbers, string literals with their prefixes and escapes, operators,
// comments, blank lines, and lines joined inside brackets or by a
// backslash. Anything else is a pyError at its position.

type pyKind int

const (
	pyName pyKind = iota
	pyNumber
	pyString
	pyOp
	pyNewline
	pyEOF
	// pyBad is the text from the lexer's first error on.
	pyBad
)

// pyToken is one token. value holds the value of a number (int64 or
// float64) or of a string literal (string).
type pyToken struct {
	kind  pyKind
	text  string
	value any
	pos   Position
}

// describe names the token in messages.
func (t pyToken) describe() string {
	switch t.kind {
	case pyNewline:
		return "end of line"
	case pyEOF, pyBad:
		return "end of file"
	case pyString:
		return "a string"
	}
	return fmt.Sprintf("%q", t.text)
}

// pyError is a problem in a Python configuration file, at a position.
type pyError struct {
	pos Position
	msg string
}

func (e *pyError) Error() string { return e.pos.String() + ": " + e.msg }

func pyErrorf(pos Position, format string, args ...any) *pyError {
	return &pyError{pos: pos, msg: fmt.Sprintf(format, args...)}
}

// pyOps are the operators the lexer recognizes, longest first. Most are
// rejected by the parser with a message that names them.
var pyOps = []string{
	"**=", "//=", ">>=", "<<=", "...",
	"+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=", "==", "!=", "<=", ">=",
	"**", "//", "<<", ">>", "->", ":=",
	"(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "=", "+", "-", "*", "/",
	"%", "&", "|", "^", "~", "<", ">", "@",
}

type pyLexer struct {
	src   string
	i     int
	line  int
	start int // offset of the current line
	depth int // open brackets
	// lineStart is set until the first token of a logical line.
	lineStart bool
	toks      []pyToken
}

// pyTokens splits src into tokens, ending with pyEOF. On an error, the
// tokens end with pyBad at the error's position instead, so that the
// parser reports a problem in an earlier statement first.
func pyTokens(src string) ([]pyToken, error) {
	src = strings.TrimPrefix(src, "\uFEFF")
	src = strings.ReplaceAll(src, "\r\n", "\n")
	if !utf8.ValidString(src) {
		off := 0
		for off < len(src) {
			r, n := utf8.DecodeRuneInString(src[off:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			off += n
		}
		pos := offsetPosition(src, off)
		return []pyToken{{kind: pyBad, pos: pos}},
			pyErrorf(pos, "the file is not valid UTF-8: save it as UTF-8")
	}
	l := &pyLexer{src: src, line: 1, lineStart: true}
	if err := l.run(); err != nil {
		pe := err.(*pyError)
		return append(l.toks, pyToken{kind: pyBad, pos: pe.pos}), err
	}
	return l.toks, nil
}

func (l *pyLexer) pos() Position { return Position{Line: l.line, Column: l.i - l.start + 1} }

func (l *pyLexer) newline() {
	l.line++
	l.start = l.i
}

func (l *pyLexer) emit(kind pyKind, text string, value any, pos Position) {
	l.toks = append(l.toks, pyToken{kind: kind, text: text, value: value, pos: pos})
	l.lineStart = kind == pyNewline
}

func (l *pyLexer) run() error {
	for {
		if l.lineStart && l.depth == 0 {
			if err := l.indentation(); err != nil {
				return err
			}
		}
		if l.i >= len(l.src) {
			if l.depth > 0 {
				return pyErrorf(l.pos(), "unexpected end of file: a bracket is not closed")
			}
			if len(l.toks) > 0 && l.toks[len(l.toks)-1].kind != pyNewline {
				l.emit(pyNewline, "", nil, l.pos())
			}
			l.emit(pyEOF, "", nil, l.pos())
			return nil
		}
		c := l.src[l.i]
		switch {
		case c == ' ' || c == '\t' || c == '\f':
			l.i++
		case c == '#':
			for l.i < len(l.src) && l.src[l.i] != '\n' {
				l.i++
			}
		case c == '\n':
			pos := l.pos()
			l.i++
			if l.depth == 0 && !l.lineStart {
				l.emit(pyNewline, "", nil, pos)
			}
			l.newline()
		case c == '\\':
			if l.i+1 >= len(l.src) || l.src[l.i+1] != '\n' {
				return pyErrorf(l.pos(), "a backslash outside a string must end its line")
			}
			l.i += 2
			l.newline()
			if l.i >= len(l.src) {
				return pyErrorf(l.pos(), "unexpected end of file after a backslash: "+
					"the line it continues is missing")
			}
		case c == '"' || c == '\'':
			if err := l.str(l.pos(), ""); err != nil {
				return err
			}
		case isDigit(c) || c == '.' && l.i+1 < len(l.src) && isDigit(l.src[l.i+1]):
			if err := l.number(); err != nil {
				return err
			}
		case isNameStart(c):
			if err := l.name(); err != nil {
				return err
			}
		default:
			if err := l.op(); err != nil {
				return err
			}
		}
	}
}

// indentation skips the white space that starts a line, which must be
// none unless the line is blank or a comment: the file has no blocks.
func (l *pyLexer) indentation() error {
	begin := l.i
	for l.i < len(l.src) && (l.src[l.i] == ' ' || l.src[l.i] == '\t' || l.src[l.i] == '\f') {
		l.i++
	}
	if l.i == begin || l.i >= len(l.src) || l.src[l.i] == '\n' || l.src[l.i] == '#' {
		return nil
	}
	if l.src[l.i] == '\\' {
		return nil
	}
	return pyErrorf(l.pos(), "unexpected indentation: blocks such as if, for and def are "+
		"not supported, so every statement starts at column 1")
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isNameStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
func isNameChar(c byte) bool { return isNameStart(c) || isDigit(c) }

func (l *pyLexer) name() error {
	pos := l.pos()
	begin := l.i
	for l.i < len(l.src) && isNameChar(l.src[l.i]) {
		l.i++
	}
	text := l.src[begin:l.i]
	if l.i < len(l.src) && (l.src[l.i] == '"' || l.src[l.i] == '\'') && len(text) <= 2 &&
		strings.Trim(strings.ToLower(text), "rubf") == "" {
		return l.str(pos, strings.ToLower(text))
	}
	l.emit(pyName, text, nil, pos)
	return nil
}

func (l *pyLexer) op() error {
	pos := l.pos()
	for _, op := range pyOps {
		if strings.HasPrefix(l.src[l.i:], op) {
			l.i += len(op)
			switch op {
			case "(", "[", "{":
				l.depth++
			case ")", "]", "}":
				if l.depth == 0 {
					return pyErrorf(pos, "unmatched %q", op)
				}
				l.depth--
			}
			l.emit(pyOp, op, nil, pos)
			return nil
		}
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.i:])
	return pyErrorf(pos, "invalid character %q", r)
}

func (l *pyLexer) number() error {
	pos := l.pos()
	begin := l.i
	for l.i < len(l.src) {
		c := l.src[l.i]
		if isNameChar(c) || c == '.' {
			l.i++
			continue
		}
		prev := l.src[l.i-1] | 0x20
		if (c == '+' || c == '-') && prev == 'e' && !strings.HasPrefix(strings.ToLower(l.src[begin:l.i]), "0x") {
			l.i++
			continue
		}
		break
	}

	text := l.src[begin:l.i]
	lower := strings.ToLower(text)
	bad := func() error { return pyErrorf(pos, "invalid number %q", text) }
	if strings.Contains(text, "__") || strings.HasSuffix(text, "_") ||
		strings.Contains(text, "_.") || strings.Contains(text, "._") {
		return bad()
	}
	if strings.HasSuffix(lower, "j") {
		return pyErrorf(pos, "complex numbers are not supported")
	}
	if strings.HasPrefix(lower, "0x") || strings.HasPrefix(lower, "0o") || strings.HasPrefix(lower, "0b") {
		n, err := strconv.ParseInt(lower, 0, 64)
		if err != nil {
			return l.intError(pos, text, err)
		}
		l.emit(pyNumber, text, n, pos)
		return nil
	}
	digits := strings.ReplaceAll(lower, "_", "")
	if strings.ContainsAny(digits, ".e") {
		if strings.Trim(digits, "0123456789.e+-") != "" {
			return bad()
		}
		f, err := strconv.ParseFloat(digits, 64)
		if err != nil {
			return bad()
		}
		l.emit(pyNumber, text, f, pos)
		return nil
	}
	if strings.Trim(digits, "0123456789") != "" {
		return bad()
	}
	if len(digits) > 1 && digits[0] == '0' && strings.Trim(digits, "0") != "" {
		return pyErrorf(pos, "invalid number %q: leading zeros are not allowed; "+
			"write an octal number as 0o%s", text, strings.TrimLeft(digits, "0"))
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return l.intError(pos, text, err)
	}
	l.emit(pyNumber, text, n, pos)
	return nil
}

func (l *pyLexer) intError(pos Position, text string, err error) error {
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return pyErrorf(pos, "integer %s is out of range: use -2**63 to 2**63-1", text)
	}
	return pyErrorf(pos, "invalid number %q", text)
}

// str reads a string literal whose opening quote is at l.i, after prefix,
// which is lower case.
func (l *pyLexer) str(pos Position, prefix string) error {
	if strings.Contains(prefix, "f") {
		return pyErrorf(pos, "f-strings are not supported: join strings with +")
	}
	if strings.Contains(prefix, "b") {
		return pyErrorf(pos, "bytes literals are not supported: use a string")
	}
	if prefix == "ur" {
		return pyErrorf(pos, "invalid string prefix %q", prefix)
	}

	raw := strings.Contains(prefix, "r")
	q := l.src[l.i]
	delim := string(q)
	if strings.HasPrefix(l.src[l.i:], strings.Repeat(delim, 3)) {
		delim = strings.Repeat(delim, 3)
	}
	l.i += len(delim)
	var b strings.Builder
	for {
		if l.i >= len(l.src) || len(delim) == 1 && l.src[l.i] == '\n' {
			return pyErrorf(pos, "unterminated string")
		}
		if strings.HasPrefix(l.src[l.i:], delim) {
			l.i += len(delim)
			break
		}
		c := l.src[l.i]
		switch {
		case c == '\n':
			b.WriteByte(c)
			l.i++
			l.newline()
		case c == '\\' && raw:
			b.WriteByte(c)
			l.i++
			if l.i < len(l.src) {
				b.WriteByte(l.src[l.i])
				if l.src[l.i] == '\n' {
					l.i++
					l.newline()
				} else {
					l.i++
				}
			}
		case c == '\\':
			if err := l.escape(&b); err != nil {
				return err
			}
		default:
			b.WriteByte(c)
			l.i++
		}
	}
	l.emit(pyString, l.src[l.i-1:l.i], b.String(), pos)
	return nil
}

// escape reads the escape sequence at l.i into b.
func (l *pyLexer) escape(b *strings.Builder) error {
	pos := l.pos()
	l.i++
	if l.i >= len(l.src) {
		return pyErrorf(pos, "unterminated string")
	}
	c := l.src[l.i]
	l.i++
	simple := map[byte]string{'\\': "\\", '\'': "'", '"': "\"", 'a': "\a", 'b': "\b",
		'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v"}
	if s, ok := simple[c]; ok {
		b.WriteString(s)
		return nil
	}

	switch c {
	case '\n':
		l.newline()
		return nil
	case '0', '1', '2', '3', '4', '5', '6', '7':
		n := int(c - '0')
		for k := 0; k < 2 && l.i < len(l.src) && l.src[l.i] >= '0' && l.src[l.i] <= '7'; k++ {
			n = n*8 + int(l.src[l.i]-'0')
			l.i++
		}
		b.WriteRune(rune(n))
		return nil
	case 'x', 'u', 'U':
		size := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
		if l.i+size > len(l.src) {
			return pyErrorf(pos, "invalid \\%c escape", c)
		}
		n, err := strconv.ParseUint(l.src[l.i:l.i+size], 16, 32)
		if err != nil || strings.ContainsAny(l.src[l.i:l.i+size], "+-_") || n > utf8.MaxRune {
			return pyErrorf(pos, "invalid \\%c escape", c)
		}
		l.i += size
		b.WriteRune(rune(n))
		return nil
	case 'N':
		return pyErrorf(pos, "\\N{...} escapes are not supported: write the character itself")
	}
	// Python keeps an unknown escape as it is.
	b.WriteByte('\\')
	l.i--
	return nil
}
