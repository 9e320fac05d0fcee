package server

import "strings"

// scope is a JupyterHub RBAC scope split at its filter:
// access:servers!user=alice has base access:servers, filter kind user and
// value alice. An unfiltered scope has an empty kind.
type scope struct {
	base, kind, value string
}

// parseScope splits s. A filter without "=" (a bare !user, which only role
// definitions use) keeps an empty value, which matches nothing.
func parseScope(s string) scope {
	base, filter, ok := strings.Cut(s, "!")
	if !ok {
		return scope{base: s}
	}
	kind, value, _ := strings.Cut(filter, "=")
	return scope{base: base, kind: kind, value: value}
}

// covers reports whether holding h grants required scope r. The rules are
// JupyterHub's for expanded scopes: an unfiltered scope covers every filter
// of its base; a user filter covers that user and each of the user's servers
// (server=<user>/<name>); other filters cover only the same filter. Group
// membership is not resolved, so a group filter covers only the same group
// filter, as in JupyterHub's single-user check.
func (h scope) covers(r scope) bool {
	if h.base != r.base {
		return false
	}
	switch {
	case h.kind == "":
		return true
	case r.kind == "":
		return false // a filtered scope never grants the unfiltered one
	case h.value == "":
		return false
	case h.kind == r.kind:
		return h.value == r.value
	case h.kind == "user" && r.kind == "server":
		owner, _, ok := strings.Cut(r.value, "/")
		return ok && owner == h.value
	}
	return false
}

// grantedScopes returns the required scopes that the held scopes cover. A
// user is let in when the result is not empty.
func grantedScopes(required, held []string) []string {
	var granted []string
	for _, r := range required {
		want := parseScope(r)
		for _, h := range held {
			if parseScope(h).covers(want) {
				granted = append(granted, r)
				break
			}
		}
	}
	return granted
}
