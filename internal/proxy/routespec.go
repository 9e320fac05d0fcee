package proxy

import (
	"strings"
)

// CleanSpec returns the normalized form of a routespec: one leading "/",
// no leading or trailing slashes beyond it, and "/" for the root. Empty
// segments inside the spec are kept, so "/a//b" stays "/a//b".
//
// configurable-http-proxy (lib/trie.js, trim_prefix) adds a missing leading
// "/" and removes one trailing "/", and its trie ignores any further slashes
// at either end. CleanSpec removes them all, so two specs that
// configurable-http-proxy would route the same way also have the same key
// here. For every spec with at most one slash at each end the result is the
// same as configurable-http-proxy's.
func CleanSpec(spec string) string {
	trimmed := strings.Trim(spec, "/")
	if len(trimmed)+1 == len(spec) && spec[0] == '/' {
		return spec // already clean: avoid the allocation
	}
	return "/" + trimmed
}

// lookupKey returns path in the form CleanSpec gives, reusing path's bytes
// when it already starts with a slash, as every request path does.
func lookupKey(path string) string {
	start := 0
	for start < len(path) && path[start] == '/' {
		start++
	}
	end := len(path)
	for end > start && path[end-1] == '/' {
		end--
	}
	if start == end {
		return "/"
	}
	if start > 0 {
		return path[start-1 : end]
	}
	return "/" + path[:end]
}

// specDepth returns the number of segments of a clean spec: 0 for "/".
func specDepth(spec string) int {
	if spec == "/" {
		return 0
	}
	return strings.Count(spec, "/")
}

// truncateSegments returns the first n segments of the clean spec s, or "/"
// when n is 0.
func truncateSegments(s string, n int) string {
	if n <= 0 {
		return "/"
	}
	seen := 0
	for i := 1; i < len(s); i++ {
		if s[i] == '/' {
			seen++
			if seen == n {
				return s[:i]
			}
		}
	}
	return s
}

// firstSegments returns the first two segments of a clean spec with at
// least two segments: the key that picks its shard.
func firstSegments(spec string) string {
	return truncateSegments(spec, 2)
}

// hostKey returns the host of a Host header value as host routing keys it:
// the port and the brackets around an IPv6 address removed, lower-cased.
func hostKey(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	if len(host) >= 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	for i := 0; i < len(host); i++ {
		if 'A' <= host[i] && host[i] <= 'Z' {
			return strings.ToLower(host)
		}
	}
	return host
}

// cutSegments removes the first n segments from a request path and returns
// the rest, which starts with a separator or is empty. Leading slashes count
// for nothing, as in lookups. When escaped is set, path is an escaped path
// and "%2F" also separates segments, because lookups split the decoded path.
func cutSegments(path string, n int, escaped bool) string {
	i := 0
	for i < len(path) {
		w := separatorWidth(path, i, escaped)
		if w == 0 {
			break
		}
		i += w
	}
	for k := 0; k < n && i < len(path); k++ {
		if k > 0 {
			i += separatorWidth(path, i, escaped)
		}
		for i < len(path) && separatorWidth(path, i, escaped) == 0 {
			i++
		}
	}
	return path[i:]
}

// separatorWidth returns the length of the segment separator at path[i], or
// 0 when there is none.
func separatorWidth(path string, i int, escaped bool) int {
	if path[i] == '/' {
		return 1
	}
	if escaped && path[i] == '%' && i+2 < len(path) && path[i+1] == '2' &&
		(path[i+2] == 'F' || path[i+2] == 'f') {
		return 3
	}
	return 0
}
