package config

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Canonical names of the authenticators. JupyterHub.AuthenticatorClass is
// always one of them after loading. The hub maps each to an implementation
// and reports the ones it does not have.
const (
	// AuthenticatorLocal keeps accounts and bcrypt password hashes in the
	// hub's database, as NativeAuthenticator does.
	AuthenticatorLocal = "local"
	// AuthenticatorDummy accepts any user name, for tests.
	AuthenticatorDummy = "dummy"
	// AuthenticatorPAM checks system accounts with PAM.
	AuthenticatorPAM = "pam"
	// AuthenticatorGitHub logs users in with GitHub OAuth.
	AuthenticatorGitHub = "github"
	// AuthenticatorLocalGitHub logs users in with GitHub OAuth, as
	// AuthenticatorGitHub does, and maps them to system accounts of the
	// same name (LocalGitHubOAuthenticator). Its spawner is localprocess
	// unless the file sets another, and it rejects simple.
	AuthenticatorLocalGitHub = "local-github"
	// AuthenticatorGeneric logs users in with any OAuth 2 provider, or
	// with OpenID Connect (GenericOAuthenticator).
	AuthenticatorGeneric = "generic-oauth"
)

// Canonical names of the spawners.
const (
	// SpawnerSimple runs every server as the hub's own user, in a home
	// folder per user (SimpleLocalProcessSpawner).
	SpawnerSimple = "simple"
	// SpawnerLocalProcess runs each server as the user's system account
	// (LocalProcessSpawner).
	SpawnerLocalProcess = "localprocess"
)

// Canonical names of the proxies.
const (
	// ProxyBuiltin routes requests inside the hub process.
	ProxyBuiltin = "builtin"
	// ProxyCHP drives a configurable-http-proxy, or jupygo proxy, through
	// its REST API.
	ProxyCHP = "configurable-http-proxy"
)

// implementation is one value that a *_class key may name.
type implementation struct {
	// canonical is the name stored in the Config.
	canonical string
	// aliases are the other accepted names: JupyterHub entry point names
	// and Python import paths.
	aliases []string
	// chain is the class and its ancestors, most general first. Tables of
	// these classes apply when this implementation is chosen.
	chain []string
}

var authenticators = []implementation{
	{AuthenticatorLocal, []string{"native", "nativeauthenticator.NativeAuthenticator",
		"nativeauthenticator.nativeauthenticator.NativeAuthenticator"},
		[]string{"Authenticator"}},
	{AuthenticatorDummy, []string{"jupyterhub.auth.DummyAuthenticator"},
		[]string{"Authenticator", "DummyAuthenticator"}},
	{AuthenticatorPAM, []string{"jupyterhub.auth.PAMAuthenticator"},
		[]string{"Authenticator", "LocalAuthenticator", "PAMAuthenticator"}},
	{AuthenticatorGitHub, []string{"oauthenticator.GitHubOAuthenticator",
		"oauthenticator.github.GitHubOAuthenticator"},
		[]string{"Authenticator", "OAuthenticator", "GitHubOAuthenticator"}},
	{AuthenticatorLocalGitHub, []string{"oauthenticator.LocalGitHubOAuthenticator",
		"oauthenticator.github.LocalGitHubOAuthenticator"},
		[]string{"Authenticator", "OAuthenticator", "GitHubOAuthenticator",
			"LocalAuthenticator", "LocalGitHubOAuthenticator"}},
	{AuthenticatorGeneric, []string{"oauthenticator.generic.GenericOAuthenticator"},
		[]string{"Authenticator", "OAuthenticator", "GenericOAuthenticator"}},
}

var spawners = []implementation{
	{SpawnerSimple, []string{"jupyterhub.spawner.SimpleLocalProcessSpawner"},
		[]string{"Spawner", "LocalProcessSpawner", "SimpleLocalProcessSpawner"}},
	{SpawnerLocalProcess, []string{"jupyterhub.spawner.LocalProcessSpawner"},
		[]string{"Spawner", "LocalProcessSpawner"}},
}

var proxies = []implementation{
	{ProxyBuiltin, []string{"jupygo"}, nil},
	{ProxyCHP, []string{"jupyterhub.proxy.ConfigurableHTTPProxy"},
		[]string{"ConfigurableHTTPProxy"}},
}

// implementations returns the accepted values of a *_class key, or nil for
// other keys.
func implementations(key string) []implementation {
	switch key {
	case "authenticator_class":
		return authenticators
	case "spawner_class":
		return spawners
	case "proxy_class":
		return proxies
	}
	return nil
}

// findImplementation resolves name, a canonical name or an alias.
func findImplementation(list []implementation, name string) (implementation, bool) {
	for _, impl := range list {
		if impl.canonical == name || slices.Contains(impl.aliases, name) {
			return impl, true
		}
	}
	return implementation{}, false
}

// misplacedClassHint returns a hint for an unknown class name P.C when
// some accepted name is P.M.C: the package P does not export C, so Python
// cannot import P.C either. oauthenticator (0.1 to 17.4) exports
// GitHubOAuthenticator at its top level, but not GenericOAuthenticator.
func misplacedClassHint(list []implementation, name string) string {
	dot := strings.LastIndexByte(name, '.')
	if dot < 0 {
		return ""
	}
	pkg, class := name[:dot], name[dot+1:]
	for _, impl := range list {
		for _, a := range impl.aliases {
			if strings.HasPrefix(a, pkg+".") && strings.HasSuffix(a, "."+class) &&
				strings.Count(a, ".") == strings.Count(name, ".")+1 {
				return fmt.Sprintf("%s does not export %s at its top level, so JupyterHub "+
					"cannot import %s either: use %s or %s", pkg, class, name, a, impl.canonical)
			}
		}
	}
	return ""
}

// ClassNames returns the accepted values of the key "authenticator_class",
// "spawner_class" or "proxy_class", each mapped to its canonical name. It
// returns nil for other keys.
func ClassNames(key string) map[string]string {
	list := implementations(key)
	if list == nil {
		return nil
	}
	names := make(map[string]string)
	for _, impl := range list {
		names[impl.canonical] = impl.canonical
		for _, a := range impl.aliases {
			names[a] = impl.canonical
		}
	}
	return names
}

// class is a configurable class, which is a table of the file.
type class struct {
	name    string
	parents []string
	doc     string
}

// classes lists the tables in the order of the reference page.
var classes = []class{
	{"JupyterHub", nil, "The hub application: listeners, database, classes, services, roles, limits."},
	{"Authenticator", nil, "Who may log in and who is an admin, for every authenticator."},
	{"LocalAuthenticator", []string{"Authenticator"},
		"Authenticators whose users are system accounts (local-github, and pam, which the hub " +
			"does not support yet), and the accounts that spawner_class localprocess creates."},
	{"PAMAuthenticator", []string{"LocalAuthenticator"},
		"Authenticator keys that apply only when authenticator_class is pam, which the hub " +
			"does not support yet."},
	{"DummyAuthenticator", []string{"Authenticator"},
		"Authenticator keys that apply only when authenticator_class is dummy."},
	{"OAuthenticator", []string{"Authenticator"},
		"Every OAuth2 login (github, local-github, generic-oauth)."},
	{"GitHubOAuthenticator", []string{"OAuthenticator"}, "GitHub login (github, local-github)."},
	{"LocalGitHubOAuthenticator", []string{"LocalAuthenticator", "GitHubOAuthenticator"},
		"Keys that apply only when authenticator_class is local-github: GitHub login whose " +
			"users are system accounts."},
	{"GenericOAuthenticator", []string{"OAuthenticator"},
		"Login with any OAuth2 provider or OpenID Connect (generic-oauth)."},
	{"Spawner", nil, "How user servers are started, for every spawner."},
	{"LocalProcessSpawner", []string{"Spawner"},
		"Servers that run as local processes (simple, localprocess)."},
	{"SimpleLocalProcessSpawner", []string{"LocalProcessSpawner"},
		"Servers that run as the hub's own user (simple)."},
	{"ConfigurableHTTPProxy", nil,
		"An external configurable-http-proxy, used when proxy_class is configurable-http-proxy, " +
			"which the hub does not support yet."},
	{"CryptKeeper", nil, "Keys for stored authentication state, which the hub requires with enable_auth_state but does not use yet: the state holds no tokens and is stored unencrypted."},
	{"IdleCuller", nil, "Stopping servers that have been idle, or have run, too long, with the " +
		"options of jupyterhub-idle-culler, which the hub runs itself."},
}

// findClass returns the class named name.
func findClass(name string) (class, bool) {
	for _, c := range classes {
		if c.name == name {
			return c, true
		}
	}
	return class{}, false
}

// ancestors returns name and every class it inherits from.
func ancestors(name string) []string {
	seen := []string{}
	var walk func(string)
	walk = func(n string) {
		if slices.Contains(seen, n) {
			return
		}
		seen = append(seen, n)
		if c, ok := findClass(n); ok {
			for _, p := range c.parents {
				walk(p)
			}
		}
	}
	walk(name)
	return seen
}

// classNames returns the names of all classes, sorted, for suggestions.
func classNames() []string {
	names := make([]string, len(classes))
	for i, c := range classes {
		names[i] = c.name
	}
	sort.Strings(names)
	return names
}
