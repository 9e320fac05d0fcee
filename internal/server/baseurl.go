package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// A base URL is a URL path, as jupyter_server's base_url and JupyterHub's
// JUPYTERHUB_SERVICE_PREFIX are: JupyterHub sends /user/a%20b/ for the user
// "a b". Config.BaseURL keeps this escaped form, and links, redirects,
// cookie paths and the OAuth redirect URI use it, because browsers send and
// compare paths in the form they were given. Request paths are matched
// decoded, against the base URL unescaped once, so that every escaping of
// one path matches: %C3%BC and %c3%bc, & and %26.

// canonicalBaseURL returns base with exactly one slash at each end and
// every byte that a URL path cannot contain, such as a space or a
// non-ASCII one, percent-escaped. Its percent-escapes are kept as given. It
// returns an error for a malformed escape and for a path with dot segments
// or empty segments once decoded.
func canonicalBaseURL(base string) (string, error) {
	base = normalizeBaseURL(base)
	var b strings.Builder
	for i := 0; i < len(base); i++ {
		c := base[i]
		switch {
		case c == '%':
			if i+2 >= len(base) || !isHexDigit(base[i+1]) || !isHexDigit(base[i+2]) {
				return "", fmt.Errorf("base URL %q has an invalid percent-escape at byte %d: "+
					"write a literal %% as %%25", base, i)
			}
			b.WriteString(base[i : i+3])
			i += 2
		case isPathByte(c):
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	escaped := b.String()
	decoded, err := url.PathUnescape(escaped)
	if err != nil {
		return "", fmt.Errorf("base URL %q: %w", base, err)
	}
	if cleanPath(decoded) != decoded {
		return "", fmt.Errorf("base URL %q decodes to %q, which has empty, . or .. segments",
			base, decoded)
	}
	return escaped, nil
}

// isPathByte reports whether c may stand unescaped in a URL path: an
// unreserved character, a sub-delimiter, ':', '@' or '/' (RFC 3986, 3.3).
func isPathByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// stripBase returns r with the decoded base URL prefix removed from its
// path, as http.StripPrefix does for a prefix in the form of r.URL.Path.
// It cuts the escaped path at the same segment, so that handlers that read
// r.URL.EscapedPath see the client's escaping of the rest. r's path must
// start with prefix + "/".
func stripBase(r *http.Request, prefix string) *http.Request {
	if prefix == "" {
		return r
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.URL = new(url.URL)
	*r2.URL = *r.URL
	r2.URL.Path = strings.TrimPrefix(r.URL.Path, prefix)
	r2.URL.RawPath = ""
	if raw := r.URL.RawPath; raw != "" {
		r2.URL.RawPath = stripRawPrefix(raw, prefix)
	}
	return r2
}

// stripRawPrefix removes from the escaped path raw as many segments as the
// decoded prefix has, when they decode to prefix. It returns "" when they
// do not, such as when the prefix's part of raw escapes a slash, and
// url.URL then escapes the decoded path itself.
func stripRawPrefix(raw, prefix string) string {
	segments := strings.Count(prefix, "/")
	cut := 0
	for range segments {
		next := strings.IndexByte(raw[cut+1:], '/')
		if next < 0 {
			return ""
		}
		cut += 1 + next
	}
	if decoded, err := url.PathUnescape(raw[:cut]); err != nil || decoded != prefix {
		return ""
	}
	return raw[cut:]
}
