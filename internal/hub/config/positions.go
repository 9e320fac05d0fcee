package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/jupygo/jupygo/internal/lazy"
)

// keyPositions returns the position of every key, table header and array
// element of a TOML document, by path: key names joined with ".", and
// "[i]" after the name of an array for its element i, such as
// "JupyterHub.services[1].name". A key's position is that of its first
// character.
//
// The toml package (v1.6.0) keeps one position per dotted key, without
// array indices, and does not export it, so this scanner finds them
// again. It is meant for documents that package has accepted. On other
// input it returns what it found, and FuzzKeyPositions checks that it
// does not panic.
func keyPositions(src string) map[string]Position {
	s := &posScanner{src: src, out: map[string]Position{}, arrays: map[string]int{}}
	s.lineStarts = append(s.lineStarts, 0)
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			s.lineStarts = append(s.lineStarts, i+1)
		}
	}
	s.document()
	return s.out
}

type posScanner struct {
	src        string
	i          int
	lineStarts []int
	out        map[string]Position
	// arrays counts the elements seen of each array of tables, by path.
	arrays map[string]int
}

// offsetPosition converts a byte offset of src to a line and column.
func offsetPosition(src string, offset int) Position {
	line := 1 + strings.Count(src[:offset], "\n")
	start := strings.LastIndexByte(src[:offset], '\n') + 1
	return Position{Line: line, Column: offset - start + 1}
}

// position converts a byte offset to a line and column.
func (s *posScanner) position(offset int) Position {
	line := sort.Search(len(s.lineStarts), func(i int) bool { return s.lineStarts[i] > offset })
	return Position{Line: line, Column: offset - s.lineStarts[line-1] + 1}
}

func (s *posScanner) record(path string, offset int) {
	if _, ok := s.out[path]; !ok {
		s.out[path] = s.position(offset)
	}
}

func (s *posScanner) peek(prefix string) bool { return strings.HasPrefix(s.src[s.i:], prefix) }

func (s *posScanner) document() {
	prefix := ""
	for s.i < len(s.src) {
		s.skipBlank(true)
		if s.i >= len(s.src) {
			return
		}
		start := s.i
		switch {
		case s.peek("[["):
			s.i += 2
			segs := s.key()
			prefix = s.arrayTable(segs, start)
			s.skipPast(']')
			s.skipPast(']')
		case s.peek("["):
			s.i++
			segs := s.key()
			prefix = s.table(segs, start)
			s.skipPast(']')
		default:
			s.keyValue(prefix)
		}
		if s.i == start {
			s.i++
		}
	}
}

// skipBlank skips white space and comments, and newlines too when
// newlines is set.
func (s *posScanner) skipBlank(newlines bool) {
	for s.i < len(s.src) {
		switch c := s.src[s.i]; {
		case c == ' ' || c == '\t':
			s.i++
		case (c == '\n' || c == '\r') && newlines:
			s.i++
		case c == '#':
			for s.i < len(s.src) && s.src[s.i] != '\n' {
				s.i++
			}
		default:
			return
		}
	}
}

// skipPast moves past the next c on the current line, if there is one.
func (s *posScanner) skipPast(c byte) {
	s.skipBlank(false)
	if s.i < len(s.src) && s.src[s.i] == c {
		s.i++
	}
}

// key reads a dotted key and returns its parts.
func (s *posScanner) key() []string {
	var segs []string
	for {
		s.skipBlank(false)
		seg, ok := s.keyPart()
		if !ok {
			return segs
		}
		segs = append(segs, seg)
		s.skipBlank(false)
		if !s.peek(".") {
			return segs
		}
		s.i++
	}
}

// keyPart reads one bare or quoted part of a key.
func (s *posScanner) keyPart() (string, bool) {
	if s.i >= len(s.src) {
		return "", false
	}
	switch s.src[s.i] {
	case '"':
		start := s.i
		s.basicString()
		return unescapeKey(strings.TrimSuffix(s.src[start+1:s.i], `"`)), true
	case '\'':
		start := s.i
		s.literalString()
		return strings.Trim(s.src[start:s.i], "'"), true
	}
	start := s.i
	for s.i < len(s.src) && isBareKeyChar(s.src[s.i]) {
		s.i++
	}
	return s.src[start:s.i], s.i > start
}

// unescapeKey decodes the escapes of a quoted key as TOML 1.0 and 1.1
// define them. An invalid escape is kept as written, since the toml
// package has already rejected such documents.
func unescapeKey(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		if r, ok := simpleEscapes()[s[i]]; ok {
			b.WriteByte(r)
			continue
		}
		width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[s[i]]
		if width == 0 || i+1+width > len(s) {
			b.WriteByte('\\')
			b.WriteByte(s[i])
			continue
		}
		n, err := strconv.ParseUint(s[i+1:i+1+width], 16, 32)
		if err != nil {
			b.WriteByte('\\')
			b.WriteByte(s[i])
			continue
		}
		b.WriteRune(rune(n))
		i += width
	}
	return b.String()
}

var simpleEscapesValue lazy.Value[map[byte]byte]

func simpleEscapes() map[byte]byte {
	return simpleEscapesValue.Get(func() map[byte]byte {
		return map[byte]byte{
			'b': '\b', 't': '\t', 'n': '\n', 'f': '\f', 'r': '\r', 'e': 0x1b, '"': '"', '\\': '\\',
		}
	})
}

func isBareKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-'
}

// resolve turns the parts of a table name into a path, adding the index of
// the last element of every array of tables along the way.
func (s *posScanner) resolve(segs []string) string {
	path := ""
	for _, seg := range segs {
		path = joinPath(path, seg)
		if n, ok := s.arrays[path]; ok {
			path += fmt.Sprintf("[%d]", n-1)
		}
	}
	return path
}

func (s *posScanner) table(segs []string, start int) string {
	path := s.resolve(segs)
	s.record(path, start)
	return path
}

func (s *posScanner) arrayTable(segs []string, start int) string {
	if len(segs) == 0 {
		return ""
	}
	base := joinPath(s.resolve(segs[:len(segs)-1]), segs[len(segs)-1])
	n := s.arrays[base]
	s.arrays[base] = n + 1
	s.record(base, start)
	path := fmt.Sprintf("%s[%d]", base, n)
	s.record(path, start)
	return path
}

// keyValue reads "key = value" and records the key and what its value
// holds.
func (s *posScanner) keyValue(prefix string) {
	start := s.i
	segs := s.key()
	path := prefix
	for _, seg := range segs {
		path = joinPath(path, seg)
		s.record(path, start)
	}
	s.skipBlank(false)
	if len(segs) == 0 || !s.peek("=") {
		return
	}
	s.i++
	s.skipBlank(false)
	s.value(path)
}

// value skips one value, recording the keys of inline tables and the
// elements of arrays under path.
func (s *posScanner) value(path string) {
	if s.i >= len(s.src) {
		return
	}
	switch {
	case s.peek(`"""`):
		s.multilineString(`"""`, true)
	case s.peek("'''"):
		s.multilineString("'''", false)
	case s.peek(`"`):
		s.basicString()
	case s.peek("'"):
		s.literalString()
	case s.peek("["):
		s.array(path)
	case s.peek("{"):
		s.inlineTable(path)
	default:
		for s.i < len(s.src) && !strings.ContainsRune(",]}#\r\n", rune(s.src[s.i])) {
			s.i++
		}
	}
}

func (s *posScanner) array(path string) {
	s.i++
	for index := 0; s.i < len(s.src); {
		s.skipBlank(true)
		if s.i >= len(s.src) {
			return
		}
		switch s.src[s.i] {
		case ']':
			s.i++
			return
		case ',':
			s.i++
			continue
		}
		before := s.i
		elem := fmt.Sprintf("%s[%d]", path, index)
		s.record(elem, s.i)
		s.value(elem)
		index++
		if s.i == before {
			s.i++
		}
	}
}

func (s *posScanner) inlineTable(path string) {
	s.i++
	for s.i < len(s.src) {
		s.skipBlank(true)
		if s.i >= len(s.src) {
			return
		}
		switch s.src[s.i] {
		case '}':
			s.i++
			return
		case ',':
			s.i++
			continue
		}
		before := s.i
		s.keyValue(path)
		if s.i == before {
			s.i++
		}
	}
}

// basicString skips a "..." string, which ends at the line's end at the
// latest.
func (s *posScanner) basicString() {
	s.i++
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case '\\':
			s.i += 2
		case '"':
			s.i++
			return
		case '\n':
			return
		default:
			s.i++
		}
	}
	s.i = min(s.i, len(s.src))
}

// literalString skips a '...' string.
func (s *posScanner) literalString() {
	s.i++
	for s.i < len(s.src) && s.src[s.i] != '\'' && s.src[s.i] != '\n' {
		s.i++
	}
	if s.i < len(s.src) && s.src[s.i] == '\'' {
		s.i++
	}
}

// multilineString skips a string in triple quotes. Up to two more quotes
// right before the closing ones belong to the string, as TOML allows.
func (s *posScanner) multilineString(delim string, escapes bool) {
	s.i += 3
	for s.i < len(s.src) {
		if escapes && s.src[s.i] == '\\' {
			s.i += 2
			continue
		}
		if s.peek(delim) {
			s.i += 3
			for extra := 0; extra < 2 && s.i < len(s.src) && s.src[s.i] == delim[0]; extra++ {
				s.i++
			}
			return
		}
		s.i++
	}
	s.i = min(s.i, len(s.src))
}

// joinPath appends a key to a path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
