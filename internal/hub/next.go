package hub

import (
	"net/url"
	"path"
	"strings"
)

// safeNext returns next when it is a path on this hub, under the base URL,
// and "" otherwise. It rejects absolute URLs, scheme-relative ones (//host,
// ///host), backslashes (which browsers read as slashes, so \host and /\host
// lead away too), control characters and paths outside the base URL once
// their dot segments are removed.
// The result is a path with an optional query and fragment, as the client
// sent it.
func (h *Hub) safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") {
		return ""
	}
	if strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\") {
		return ""
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f {
			return ""
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	// Decoding must not reveal a second leading slash or a backslash,
	// which a server behind the hub could act on.
	if strings.HasPrefix(u.Path, "//") || strings.Contains(u.Path, "\\") {
		return ""
	}
	// Browsers remove dot segments, %2e%2e included, before they follow
	// a redirect, so /jh/../elsewhere/ leaves a base URL of /jh/.
	cleaned := path.Clean(u.Path)
	if strings.HasSuffix(u.Path, "/") && cleaned != "/" {
		cleaned += "/"
	}
	if !strings.HasPrefix(cleaned, h.base) && cleaned+"/" != h.base {
		return ""
	}
	return next
}
