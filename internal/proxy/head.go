package proxy

import (
	"bytes"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
)

// The fast path parses HTTP/1.1 heads in place, in the buffer they were
// read into. It accepts a request only in the strict form that net/http
// would read the same way, and hands anything else to net/http, so it
// never has to decide an ambiguous case itself. Responses cannot be
// handed on, so their parser follows net/http's rules (RFC 9112) and
// rejects what net/http's Transport rejects.

// maxHeadSize is the largest request head the fast path reads. Larger
// heads go to net/http, which accepts up to http.Server.MaxHeaderBytes.
// Responses may have heads up to maxResponseHeadSize.
const (
	maxHeadSize         = 64 << 10
	maxResponseHeadSize = 1 << 20
)

// errMalformed is the cause given to the ErrorHandler for an upstream
// response the proxy cannot read.
var errMalformed = errors.New("malformed HTTP response from upstream")

// fieldKind classifies the header fields the proxy acts on.
type fieldKind uint8

const (
	fieldOther fieldKind = iota
	fieldHost
	fieldContentLength
	fieldTransferEncoding
	fieldConnection
	fieldTE
	fieldUpgrade
	fieldExpect
	fieldHopByHop // Keep-Alive, Proxy-*: always removed
	fieldTrailer
	fieldUserAgent
	fieldDate
	fieldContentType
	fieldContentEncoding
	fieldForwarded       // Forwarded: kept when trusted and X-Forwarded-* are sent
	fieldXForwardedFor   // removed, and trusted values lead the new one
	fieldXForwardedHost  // removed, and a trusted value replaces the Host
	fieldXForwardedProto // removed, and a trusted value replaces "http"
	fieldXForwardedPort  // a trusted value replaces the port
	fieldForwarding      // other X-Forwarded-*, X-Real-Ip, X-Scheme
)

// field is one header field of a head. name and value alias the buffer
// the head was read into, and value has no surrounding white space.
type field struct {
	name, value []byte
	kind        fieldKind
}

// headEnd returns the length of the head at the start of p, up to and
// including the empty line, or -1 when p holds no complete head yet.
// Lines may end in LF alone, which parseFields then rejects for requests.
func headEnd(p []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(p[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		switch {
		case i < len(p) && p[i] == '\n':
			return i + 1
		case i+1 < len(p) && p[i] == '\r' && p[i+1] == '\n':
			return i + 2
		}
	}
}

// cutLine returns the first line of p without its line ending, and the
// rest. strict requires CRLF. ok is false when p has no valid line.
func cutLine(p []byte, strict bool) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		return nil, nil, false
	}
	line, rest = p[:i], p[i+1:]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	} else if strict {
		return nil, nil, false
	}
	return line, rest, true
}

// parseFields appends the header fields of p, the lines after the start
// line up to the empty line, to fields. It rejects field names that are
// not tokens or are followed by white space, and values with control
// characters, as net/http does. strict requires CRLF line endings and
// rejects obsolete line folding. Without strict, a folded line continues
// the value before it, joined with a space as net/http joins it.
func parseFields(fields []field, p []byte, strict bool) ([]field, bool) {
	for {
		line, rest, ok := cutLine(p, strict)
		if !ok {
			return fields, false
		}
		if len(line) == 0 {
			return fields, true
		}
		if line[0] == ' ' || line[0] == '\t' {
			if strict || len(fields) == 0 {
				return fields, false
			}
			last := &fields[len(fields)-1]
			more := trimSpace(line)
			if !isFieldValue(more) {
				return fields, false
			}
			// A copy, so the buffer the head is in stays as it was.
			last.value = append(append(append([]byte{}, last.value...), ' '), more...)
			p = rest
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !isToken(line[:colon]) {
			return fields, false
		}
		value := trimSpace(line[colon+1:])
		if !isFieldValue(value) {
			return fields, false
		}
		name := line[:colon]
		fields = append(fields, field{name: name, value: value, kind: classify(name)})
		p = rest
	}
}

// classify returns the kind of a field name, compared case-insensitively.
func classify(name []byte) fieldKind {
	switch len(name) {
	case 2:
		if equalFold(name, "te") {
			return fieldTE
		}
	case 4:
		switch {
		case equalFold(name, "host"):
			return fieldHost
		case equalFold(name, "date"):
			return fieldDate
		}
	case 6:
		if equalFold(name, "expect") {
			return fieldExpect
		}
	case 7:
		switch {
		case equalFold(name, "upgrade"):
			return fieldUpgrade
		case equalFold(name, "trailer"):
			return fieldTrailer
		}
	case 10:
		switch {
		case equalFold(name, "connection"):
			return fieldConnection
		case equalFold(name, "keep-alive"):
			return fieldHopByHop
		case equalFold(name, "user-agent"):
			return fieldUserAgent
		}
	case 12:
		if equalFold(name, "content-type") {
			return fieldContentType
		}
	case 14:
		if equalFold(name, "content-length") {
			return fieldContentLength
		}
	case 16:
		switch {
		case equalFold(name, "proxy-connection"):
			return fieldHopByHop
		case equalFold(name, "content-encoding"):
			return fieldContentEncoding
		}
	case 17:
		if equalFold(name, "transfer-encoding") {
			return fieldTransferEncoding
		}
	case 18, 19:
		if equalFold(name, "proxy-authenticate") || equalFold(name, "proxy-authorization") {
			return fieldHopByHop
		}
	}
	return classifyForwarding(name)
}

// classifyForwarding returns the kind of the forwarding headers that
// deleteForwarded removes, with "_" read as "-" as isForwardingHeader
// reads it, and fieldOther for the rest.
func classifyForwarding(name []byte) fieldKind {
	const prefix = "x-forwarded-"
	switch {
	case len(name) > len(prefix) && equalFoldDash(name[:len(prefix)], prefix):
		rest := name[len(prefix):]
		dashed := bytes.IndexByte(name, '_') < 0
		switch {
		case dashed && equalFold(rest, "for"):
			return fieldXForwardedFor
		case dashed && equalFold(rest, "host"):
			return fieldXForwardedHost
		case dashed && equalFold(rest, "proto"):
			return fieldXForwardedProto
		case dashed && equalFold(rest, "port"):
			return fieldXForwardedPort
		}
		return fieldForwarding
	case equalFold(name, "forwarded"):
		return fieldForwarded
	case equalFoldDash(name, "x-real-ip"), equalFoldDash(name, "x-scheme"):
		return fieldForwarding
	}
	return fieldOther
}

// equalFold reports whether b equals the lower-case ASCII string s,
// ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if lower(b[i]) != s[i] {
			return false
		}
	}
	return true
}

// equalFoldDash is equalFold with "_" in b matching "-" in s.
func equalFoldDash(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := lower(b[i])
		if c == '_' {
			c = '-'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasToken reports whether the comma-separated list v contains token,
// a lower-case ASCII string, ignoring case.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		var item []byte
		item, v, _ = bytes.Cut(v, []byte{','})
		if equalFold(trimSpace(item), token) {
			return true
		}
	}
	return false
}

// onlyTokens reports whether every element of the comma-separated list v
// is one of tokens, lower-case ASCII strings, ignoring case.
func onlyTokens(v []byte, tokens ...string) bool {
	for len(v) > 0 {
		var item []byte
		item, v, _ = bytes.Cut(v, []byte{','})
		item = trimSpace(item)
		known := len(item) == 0
		for _, t := range tokens {
			known = known || equalFold(item, t)
		}
		if !known {
			return false
		}
	}
	return true
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// byteClass flags the characters that the parsers accept.
var byteClass = func() (t [256]uint8) {
	const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	for _, c := range []byte(alnum + "!#$%&'*+-.^_`|~") {
		t[c] |= classToken
	}
	// Path characters that url.URL.EscapedPath keeps as they are: the
	// unreserved characters, sub-delims, ":", "@", "/" and "%".
	for _, c := range []byte(alnum + "-._~!$&'()*+,;=:@/%") {
		t[c] |= classPath
	}
	for c := 0x21; c < 0x7f; c++ {
		if c != '#' {
			t[c] |= classQuery
		}
		t[c] |= classValue
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] |= classValue
	}
	t[' '] |= classValue
	t['\t'] |= classValue
	for _, c := range []byte(alnum + "-._~!$&'()*+,;=:[]%") {
		t[c] |= classHost
	}
	return t
}()

const (
	classToken = 1 << iota
	classPath
	classQuery
	classValue
	classHost
)

func allOf(b []byte, class uint8) bool {
	for _, c := range b {
		if byteClass[c]&class == 0 {
			return false
		}
	}
	return true
}

func isToken(b []byte) bool      { return len(b) > 0 && allOf(b, classToken) }
func isFieldValue(b []byte) bool { return allOf(b, classValue) }

// parseLength parses a Content-Length value as net/http does: decimal
// digits only, below 2⁶³.
func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// requestTarget is the origin-form target of a request line.
type requestTarget struct {
	raw     []byte // as sent: path and query
	rawPath []byte
	path    string // decoded
	escaped bool   // rawPath contains a percent escape
}

// parseRequestTarget splits and decodes an origin-form request target. It
// accepts only the characters that net/http forwards unchanged, so the
// target can be forwarded byte for byte.
func parseRequestTarget(raw []byte) (requestTarget, bool) {
	t := requestTarget{raw: raw, rawPath: raw}
	if len(raw) == 0 || raw[0] != '/' {
		return t, false
	}
	if q := bytes.IndexByte(raw, '?'); q >= 0 {
		t.rawPath = raw[:q]
		if !allOf(raw[q+1:], classQuery) {
			return t, false
		}
	}
	if !allOf(t.rawPath, classPath) {
		return t, false
	}
	t.escaped = bytes.IndexByte(t.rawPath, '%') >= 0
	if !t.escaped {
		t.path = string(t.rawPath)
		return t, true
	}
	path, err := url.PathUnescape(string(t.rawPath))
	if err != nil {
		return t, false
	}
	t.path = path
	return t, true
}

// methodString returns method as a string, without allocating for the
// common methods.
func methodString(method []byte) string {
	for _, m := range [...]string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"} {
		if string(method) == m {
			return m
		}
	}
	return string(method)
}

// appendStatusLine appends an HTTP/1.1 status line for code, with the
// reason phrase net/http's server writes.
func appendStatusLine(b []byte, code int) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	if text := http.StatusText(code); text != "" {
		b = append(b, text...)
	} else {
		b = append(b, "status code "...)
		b = strconv.AppendInt(b, int64(code), 10)
	}
	return append(b, "\r\n"...)
}

// parseStatusLine parses the status line of a response: its status code
// and whether the protocol is HTTP/1.1 (rather than HTTP/1.0).
func parseStatusLine(line []byte) (code int, http11 bool, ok bool) {
	proto, rest, _ := bytes.Cut(line, []byte{' '})
	switch string(proto) {
	case "HTTP/1.1":
		http11 = true
	case "HTTP/1.0":
	default:
		return 0, false, false
	}
	digits, _, _ := bytes.Cut(bytes.TrimLeft(rest, " "), []byte{' '})
	if len(digits) != 3 {
		return 0, false, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false, false
		}
		code = code*10 + int(c-'0')
	}
	return code, http11, code >= 100
}
