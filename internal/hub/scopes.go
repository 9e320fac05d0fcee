package hub

import (
	"fmt"
	"slices"
	"strings"

	"github.com/jupygo/jupygo/internal/lazy"
)

// Scopes follow JupyterHub 3's RBAC: a scope is a base such as
// "admin:users", optionally narrowed by one filter, "!user=NAME",
// "!server=USER/NAME", "!group=NAME" or "!service=NAME". A role is a named
// list of scopes. Expanding a list replaces the metascope "self" with the
// owner's own scopes, fills in a bare filter ("!user") with the owner, and
// adds every subscope with the filter of its parent.

var subscopesValue lazy.Value[map[string][]string]

// subscopes returns the scopes each scope implies, as JupyterHub 3.0's
// scope_definitions do.
func subscopes() map[string][]string {
	return subscopesValue.Get(func() map[string][]string {
		return map[string][]string{
			"admin:users":    {"admin:auth_state", "users", "read:roles:users", "delete:users"},
			"users":          {"read:users", "list:users", "users:activity"},
			"list:users":     {"read:users:name"},
			"read:users":     {"read:users:name", "read:users:groups", "read:users:activity"},
			"read:roles":     {"read:roles:users", "read:roles:services", "read:roles:groups"},
			"users:activity": {"read:users:activity"},
			"admin:servers":  {"admin:server_state", "servers"},
			"servers":        {"read:servers", "delete:servers"},
			"read:servers":   {"read:users:name"},
			"tokens":         {"read:tokens"},
			"admin:groups":   {"groups", "read:roles:groups", "delete:groups"},
			"groups":         {"read:groups", "list:groups"},
			"list:groups":    {"read:groups:name"},
			"read:groups":    {"read:groups:name"},
			"list:services":  {"read:services:name"},
			"read:services":  {"read:services:name"},
			// The scopes of sharing, from JupyterHub 5.0.
			"shares":        {"access:servers", "read:shares", "users:shares", "groups:shares"},
			"users:shares":  {"read:users:shares"},
			"groups:shares": {"read:groups:shares"},
		}
	})
}

// selfScopes are the scopes that "self" expands to for a user, each
// filtered to the user, as in JupyterHub 5.0: those of JupyterHub 3.0 and
// the reading of shares of the user's servers and the management of the
// shares with the user. Granting shares (the scope "shares") is not among
// them; a deployment grants it with a role, as in JupyterHub.
var selfScopes = []string{
	"read:users", "read:users:name", "read:users:groups", "users:activity",
	"read:users:activity", "servers", "delete:servers", "read:servers", "tokens",
	"read:tokens", "access:servers", "read:shares", "users:shares", "read:users:shares",
}

// scopeNames are the scopes that exist: the keys of JupyterHub 3.0's
// scope_definitions except the placeholder "(no_scope)", and the scopes
// of sharing from JupyterHub 5.0.
var scopeNames = []string{
	"self", "inherit", "admin-ui",
	"admin:users", "admin:auth_state", "users", "delete:users", "list:users", "read:users",
	"read:users:name", "read:users:groups", "read:users:activity", "users:activity",
	"read:roles", "read:roles:users", "read:roles:services", "read:roles:groups",
	"admin:servers", "admin:server_state", "servers", "read:servers", "delete:servers",
	"tokens", "read:tokens",
	"admin:groups", "groups", "list:groups", "read:groups", "read:groups:name", "delete:groups",
	"list:services", "read:services", "read:services:name",
	"read:hub", "access:servers", "access:services", "proxy", "shutdown", "read:metrics",
	"shares", "read:shares", "users:shares", "read:users:shares", "groups:shares",
	"read:groups:shares",
}

// checkScopesExist returns an error naming the first raw scope whose base
// or filter does not exist. A filter is a bare "!user", "!service" or
// "!server", or one of those or "!group" followed by "=" and a name.
func checkScopesExist(raw []string) error {
	for _, scope := range raw {
		base, filter, filtered := strings.Cut(scope, "!")
		if !slices.Contains(scopeNames, base) {
			if base == "all" {
				return fmt.Errorf("scope 'all' does not exist, use 'inherit' for all of the owner's scopes")
			}
			return fmt.Errorf("scope '%s' does not exist", scope)
		}
		if filtered && !validFilter(filter) {
			return fmt.Errorf("filter '!%s' in scope '%s' does not exist", filter, scope)
		}
	}
	return nil
}

func validFilter(filter string) bool {
	kind, value, named := strings.Cut(filter, "=")
	switch kind {
	case "user", "service", "server":
		return !named || value != ""
	case "group":
		return named && value != ""
	}
	return false
}

var builtinRolesValue lazy.Value[map[string][]string]

// builtinRoles returns JupyterHub's default roles. A role of the same name in
// load_roles overrides one of them, and keeps its scopes when it leaves
// scopes out.
func builtinRoles() map[string][]string {
	return builtinRolesValue.Get(func() map[string][]string {
		return map[string][]string{
			"user": {"self"},
			"admin": {"admin-ui", "admin:users", "admin:servers", "tokens", "admin:groups",
				"list:services", "read:services", "read:hub", "proxy", "shutdown", "access:services",
				"access:servers", "read:roles", "read:metrics", "shares"},
			"server": {"users:activity!user", "access:servers!user"},
			"token":  {"inherit"},
		}
	})
}

// principal names the owner of a set of scopes, which "self" and bare
// filters refer to: a user or a service.
type principal struct {
	user, service string
	groups        []string // the user's groups
}

// scopeSet is a set of expanded scopes.
type scopeSet map[string]struct{}

// expandScopes expands raw scopes for owner. "inherit" is kept as it is,
// for the caller to replace with the owner's scopes.
func expandScopes(raw []string, owner principal) scopeSet {
	set := scopeSet{}
	var add func(s string)
	add = func(s string) {
		if _, ok := set[s]; ok {
			return
		}
		base, filter, _ := strings.Cut(s, "!")
		set[s] = struct{}{}
		for _, sub := range subscopes()[base] {
			if filter != "" {
				sub += "!" + filter
			}
			add(sub)
		}
	}
	for _, s := range raw {
		switch {
		case s == "self":
			if owner.user != "" {
				for _, own := range selfScopes {
					add(own + "!user=" + owner.user)
				}
			}
		case strings.HasSuffix(s, "!user") && owner.user != "":
			add(s + "=" + owner.user)
		case strings.HasSuffix(s, "!service") && owner.service != "":
			add(s + "=" + owner.service)
		case strings.HasSuffix(s, "!user"), strings.HasSuffix(s, "!service"),
			strings.HasSuffix(s, "!server"), strings.HasSuffix(s, "!group"):
			// A bare filter whose owner kind does not apply grants nothing.
		default:
			add(s)
		}
	}
	return set
}

// identifyScopes are the scopes every authenticated user holds for
// GET /hub/api/user.
func identifyScopes(user string) []string {
	return []string{"read:users:name!user=" + user, "read:users:groups!user=" + user}
}

// withIdentifyScopes returns a copy of s with the identifyScopes of user.
func withIdentifyScopes(s scopeSet, user string) scopeSet {
	out := scopeSet{}
	for scope := range s {
		out[scope] = struct{}{}
	}
	for _, scope := range identifyScopes(user) {
		out[scope] = struct{}{}
	}
	return out
}

// target is the object of a request: a user and optionally one of the
// user's servers (server is nil for the user as a whole).
type target struct {
	user   string
	groups []string
	server *string
}

func userTarget(name string, groups []string) target {
	return target{user: name, groups: groups}
}

func serverTarget(user string, groups []string, server string) target {
	return target{user: user, groups: groups, server: &server}
}

// allows reports whether s holds base for t: unfiltered, or filtered to
// t's user, to t's server, or to one of the user's groups.
func (s scopeSet) allows(base string, t target) bool {
	if s.has(base) || s.has(base+"!user="+t.user) {
		return true
	}
	if t.server != nil && s.has(base+"!server="+t.user+"/"+*t.server) {
		return true
	}
	for _, g := range t.groups {
		if s.has(base + "!group=" + g) {
			return true
		}
	}
	return false
}

// hasAny reports whether s holds base with any filter or none, which is
// enough to call an endpoint whose results are then filtered.
func (s scopeSet) hasAny(base string) bool {
	for held := range s {
		if held == base || strings.HasPrefix(held, base+"!") {
			return true
		}
	}
	return false
}

func (s scopeSet) has(scope string) bool {
	_, ok := s[scope]
	return ok
}

// list returns the scopes in sorted order.
func (s scopeSet) list() []string {
	out := make([]string, 0, len(s))
	for scope := range s {
		out = append(out, scope)
	}
	slices.Sort(out)
	return out
}

// covers reports whether held grants scope, one expanded scope.
func (s scopeSet) covers(scope string) bool {
	base, filter, ok := strings.Cut(scope, "!")
	if s.has(scope) || s.has(base) {
		return true
	}
	if !ok {
		return false
	}
	kind, value, _ := strings.Cut(filter, "=")
	if kind == "server" {
		owner, _, _ := strings.Cut(value, "/")
		return s.has(base + "!user=" + owner)
	}
	return false
}

// intersect returns the scopes of a token, requested, limited to those of
// its owner: each requested scope the owner's scopes cover, and each of the
// owner's scopes that is narrower than a requested one.
func intersect(requested, owner scopeSet) scopeSet {
	if requested.has("inherit") {
		return owner
	}
	out := scopeSet{}
	for scope := range requested {
		if owner.covers(scope) {
			out[scope] = struct{}{}
		}
	}
	for scope := range owner {
		if requested.covers(scope) {
			out[scope] = struct{}{}
		}
	}
	return out
}

// coversAll reports whether s covers every scope of other, so that a token
// holding s may create a token holding other.
func (s scopeSet) coversAll(other scopeSet) bool {
	return len(s.missing(other)) == 0
}

// missing returns the scopes of other that s does not cover, sorted.
func (s scopeSet) missing(other scopeSet) []string {
	var out []string
	for scope := range other {
		if !s.covers(scope) {
			out = append(out, scope)
		}
	}
	slices.Sort(out)
	return out
}
