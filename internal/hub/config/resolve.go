package config

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// resolve works out the defaults that depend on other keys and checks the
// rules that span keys. It returns the builder's errors, if any, as an
// ErrorList.
func resolve(c *Config, b *builder) error {
	resolveBindURL(c, b)
	checkTLS(c, b)
	checkHub(c, b)
	resolveAuthenticator(c, b)
	checkOAuth(c, b)
	checkSpawner(c, b)
	resolveServices(c, b)
	checkRoles(c, b)
	checkCryptKeys(c, b)
	resolveCuller(c, b)
	checkUnsupported(c, b)
	warnExternalProxy(b)
	if len(b.errs) == 0 {
		return nil
	}
	sortErrors(b.errs)
	return ErrorList(b.errs)
}

// resolveBindURL makes BindURL, IP, Port and BaseURL agree. A bind_url set
// in the file wins over ip, port and base_url. The scheme is https exactly
// when ssl_cert is set, as JupyterHub makes it, or acme_domains.
func resolveBindURL(c *Config, b *builder) {
	h := &c.JupyterHub
	scheme := "http"
	if h.HTTPS() {
		scheme = "https"
	}
	if b.isSet("JupyterHub.bind_url") {
		u, ok := parseBindURL(h.BindURL)
		if !ok {
			b.errorf(b.setPos("JupyterHub.bind_url"), "JupyterHub.bind_url",
				"invalid URL %q: use SCHEME://[ADDRESS]:PORT[/BASE_URL/], "+
					"such as \"http://127.0.0.1:8000/\"", h.BindURL)
			return
		}
		for _, part := range []string{"ip", "port", "base_url"} {
			if id := "JupyterHub." + part; b.isSet(id) {
				b.warnf(b.setPos(id), id, "ignored: bind_url is set and overrides it")
			}
		}
		if u.Scheme != scheme {
			b.warnf(b.setPos("JupyterHub.bind_url"), "JupyterHub.bind_url",
				"scheme %s changed to %s: the scheme is https exactly when ssl_cert or "+
					"acme_domains is set",
				u.Scheme, scheme)
		}
		h.IP = u.Hostname()
		h.Port = bindPort(u)
		h.BaseURL = u.Path
	}
	checkPort(b, "JupyterHub.port", h.Port)
	checkPort(b, "JupyterHub.hub_port", h.HubPort)
	base, err := normalizeBaseURL(h.BaseURL)
	if err != nil {
		id := "JupyterHub.base_url"
		if b.isSet("JupyterHub.bind_url") {
			id = "JupyterHub.bind_url"
		}
		b.errorf(b.setPos(id), id, "%v", err)
		return
	}
	h.BaseURL = base
	h.BindURL = scheme + "://" + net.JoinHostPort(h.IP, strconv.Itoa(h.Port)) + base
}

// parseBindURL parses a bind URL, which has a scheme, an optional address,
// an optional port and a path, and nothing else.
func parseBindURL(s string) (*url.URL, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.User != nil || u.RawQuery != "" ||
		u.Fragment != "" || u.ForceQuery || !strings.Contains(s, "://") {
		return nil, false
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 65535 {
			return nil, false
		}
	}
	return u, true
}

// bindPort returns the port of a bind URL, or the scheme's port.
func bindPort(u *url.URL) int {
	if n, err := strconv.Atoi(u.Port()); err == nil {
		return n
	}
	if u.Scheme == "https" {
		return 443
	}
	return 80
}

func checkPort(b *builder, id string, port int) {
	if port < 0 || port > 65535 {
		b.errorf(b.setPos(id), b.label(id), "port %d is out of range: use 0 to 65535", port)
	}
}

// normalizeBaseURL makes a base URL start and end with "/", as JupyterHub's
// URLPrefix does, and rejects one that is not a plain path.
func normalizeBaseURL(s string) (string, error) {
	if !strings.HasPrefix(s, "/") {
		s = "/" + s
	}
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	if strings.ContainsAny(s, "?#\\ \t\r\n") || strings.Contains(s, "//") ||
		slices.Contains(strings.Split(s, "/"), "..") || slices.Contains(strings.Split(s, "/"), ".") {
		return "", fmt.Errorf("invalid base URL %q: use a path such as \"/jupyter/\"", s)
	}
	return s, nil
}

func checkHub(c *Config, b *builder) {
	h := c.JupyterHub
	for _, n := range []struct {
		id  string
		val int
		min int
	}{
		{"JupyterHub.named_server_limit_per_user", h.NamedServerLimitPerUser, 0},
		{"JupyterHub.active_server_limit", h.ActiveServerLimit, 0},
		{"JupyterHub.concurrent_spawn_limit", h.ConcurrentSpawnLimit, 0},
		{"JupyterHub.api_page_default_limit", h.APIPageDefaultLimit, 1},
		{"JupyterHub.api_page_max_limit", h.APIPageMaxLimit, 1},
	} {
		if n.val < n.min {
			b.errorf(b.setPos(n.id), n.id, "%d is too small: the minimum is %d", n.val, n.min)
		}
	}
	if h.APIPageDefaultLimit > h.APIPageMaxLimit {
		id := "JupyterHub.api_page_default_limit"
		b.errorf(b.setPos(id), id, "%d is larger than api_page_max_limit (%d)",
			h.APIPageDefaultLimit, h.APIPageMaxLimit)
	}
	if h.LastActivityInterval <= 0 {
		id := "JupyterHub.last_activity_interval"
		b.errorf(b.setPos(id), id, "must be more than 0 seconds")
	}
	if h.DataDir == "" {
		b.errorf(b.setPos("JupyterHub.data_dir"), "JupyterHub.data_dir",
			"must not be empty: use \".\" for the working folder")
	}
	if _, err := c.Database(); err != nil {
		b.errorf(b.setPos("JupyterHub.db_url"), "JupyterHub.db_url", "%v", err)
	}
	if h.CookieSecret != "" {
		if _, err := hex.DecodeString(h.CookieSecret.Value()); err != nil {
			id := "JupyterHub.cookie_secret"
			b.errorf(b.setPos(id), b.label(id), "must be hex-encoded, such as the output "+
				"of openssl rand -hex 32")
		}
	}
}

// resolveSpawnerClass makes localprocess the default spawner of local-github,
// as in JupyterHub, and rejects simple, which would use no system account.
// It runs before the class tables apply, so [LocalProcessSpawner] applies.
func resolveSpawnerClass(c *Config, b *builder) {
	h := &c.JupyterHub
	if h.AuthenticatorClass != AuthenticatorLocalGitHub {
		return
	}
	id := "JupyterHub.spawner_class"
	if !b.isSet(id) {
		h.SpawnerClass = SpawnerLocalProcess
		return
	}
	if h.SpawnerClass == SpawnerSimple {
		b.errorf(b.setPos(id), id, "simple runs every server as the hub's own account, so "+
			"authenticator_class %q would create and use no system account: remove "+
			"spawner_class, which is then localprocess, set it to localprocess, or use "+
			"authenticator_class %q", AuthenticatorLocalGitHub, AuthenticatorGitHub)
	}
}

// resolveAuthenticator sets allow_existing_users from allowed_users, and
// allow_all for the dummy authenticator, when the file leaves them unset.
// It also removes repeated user names.
func resolveAuthenticator(c *Config, b *builder) {
	a := &c.Authenticator
	if !b.isSet("Authenticator.allow_existing_users") {
		a.AllowExistingUsers = len(a.AllowedUsers) > 0
	}
	if !b.isSet("Authenticator.allow_all") && c.JupyterHub.AuthenticatorClass == AuthenticatorDummy {
		a.AllowAll = len(a.AllowedUsers) == 0
	}
	for _, set := range []struct {
		id   string
		list *[]string
	}{
		{"Authenticator.allowed_users", &a.AllowedUsers},
		{"Authenticator.admin_users", &a.AdminUsers},
		{"Authenticator.blocked_users", &a.BlockedUsers},
	} {
		*set.list = dedupe(*set.list)
		if slices.Contains(*set.list, "") {
			b.errorf(b.setPos(set.id), set.id, "contains an empty user name")
		}
	}
}

func dedupe(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// checkOAuth requires the OAuth2 client credentials when an OAuth
// authenticator is chosen, and GenericOAuthenticator's endpoints.
func checkOAuth(c *Config, b *builder) {
	name := c.JupyterHub.AuthenticatorClass
	table, env := "GitHubOAuthenticator", "GITHUB"
	switch name {
	case AuthenticatorGitHub, AuthenticatorLocalGitHub:
	case AuthenticatorGeneric:
		table, env = "GenericOAuthenticator", "OAUTH"
	default:
		return
	}
	pos := b.setPos("JupyterHub.authenticator_class")
	o := c.OAuthenticator
	if o.ClientID == "" && !b.invalid["OAuthenticator.client_id"] {
		b.errorf(pos, "OAuthenticator.client_id", "is required by authenticator_class %q: "+
			"set %s or $%s_CLIENT_ID", name, b.setting(table, "client_id"), env)
	}
	if o.ClientSecret == "" && !b.invalid["OAuthenticator.client_secret"] {
		b.errorf(pos, "OAuthenticator.client_secret", "is required by authenticator_class %q: "+
			"set %s or $%s_CLIENT_SECRET", name, b.setting(table, "client_secret_file"), env)
	}
	if name != AuthenticatorGeneric || c.GenericOAuthenticator.OIDCIssuer != "" {
		return
	}
	for _, e := range []struct{ key, value string }{
		{"authorize_url", o.AuthorizeURL}, {"token_url", o.TokenURL}, {"userdata_url", o.UserdataURL},
	} {
		if e.value == "" {
			b.errorf(pos, "OAuthenticator."+e.key, "is required by authenticator_class %q "+
				"without oidc_issuer: set %s, or oidc_issuer", name,
				b.setting("GenericOAuthenticator", e.key))
		}
	}
}

func checkSpawner(c *Config, b *builder) {
	s := c.Spawner
	if len(s.Cmd) == 0 || s.Cmd[0] == "" {
		b.errorf(b.setPos("Spawner.cmd"), "Spawner.cmd", "must name a program")
	}
	for _, d := range []struct {
		id  string
		pos bool
	}{
		{"Spawner.start_timeout", s.StartTimeout > 0},
		{"Spawner.http_timeout", s.HTTPTimeout > 0},
	} {
		if !d.pos {
			b.errorf(b.setPos(d.id), d.id, "must be more than 0 seconds")
		}
	}
	checkPort(b, "Spawner.port", s.Port)
	if s.CPULimit < 0 {
		b.errorf(b.setPos("Spawner.cpu_limit"), "Spawner.cpu_limit", "must not be negative")
	}
	for _, id := range []string{"Spawner.mem_limit", "Spawner.cpu_limit"} {
		if b.isSet(id) && (s.MemLimit != 0 && id == "Spawner.mem_limit" ||
			s.CPULimit != 0 && id == "Spawner.cpu_limit") {
			b.warnf(b.setPos(id), id, "not enforced: the local spawners do not limit resources")
		}
	}
	checkTemplate(b, "Spawner.notebook_dir", s.NotebookDir, spawnerFields())
	checkTemplate(b, "Spawner.default_url", s.DefaultURL, spawnerFields())
	checkTemplate(b, "SimpleLocalProcessSpawner.home_dir_template",
		c.SimpleLocalProcessSpawner.HomeDirTemplate, homeFields())
	if c.SimpleLocalProcessSpawner.HomeDirTemplate == "" {
		id := "SimpleLocalProcessSpawner.home_dir_template"
		b.errorf(b.setPos(id), id, "must not be empty")
	}
	checkLocalProcess(c, b)
}

// checkLocalProcess checks the keys of system accounts and their servers.
func checkLocalProcess(c *Config, b *builder) {
	if cmd := c.LocalAuthenticator.AddUserCmd; b.isSet("LocalAuthenticator.add_user_cmd") &&
		(len(cmd) == 0 || cmd[0] == "") {
		id := "LocalAuthenticator.add_user_cmd"
		b.errorf(b.setPos(id), b.label(id), "must name a program")
	}
	if _, err := parseUmask(c.LocalProcessSpawner.Umask); err != nil {
		id := "LocalProcessSpawner.umask"
		b.errorf(b.setPos(id), b.label(id), "%v", err)
	}
	if c.LocalProcessSpawner.MinUID < 0 {
		id := "LocalProcessSpawner.min_uid"
		b.errorf(b.setPos(id), b.label(id), "must not be negative: use 0 for the default "+
			"from /etc/login.defs")
	}
	local := c.LocalProcessSpawner
	if local.MaxUID < 0 {
		id := "LocalProcessSpawner.max_uid"
		b.errorf(b.setPos(id), b.label(id), "must not be negative: use 0 for the default "+
			"from /etc/login.defs")
	} else if local.MaxUID > 0 && local.MaxUID < local.MinUID {
		id := "LocalProcessSpawner.max_uid"
		b.errorf(b.setPos(id), b.label(id), "%d is below min_uid %d, so no account could run "+
			"a server", local.MaxUID, local.MinUID)
	}
}

// parseUmask parses a umask written in octal digits, such as "022".
func parseUmask(s string) (int, error) {
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o777 {
		return 0, fmt.Errorf("invalid umask %q: use octal digits for a value up to \"0777\", "+
			"such as \"022\"", s)
	}
	return int(n), nil
}

// spawnerFields returns the template fields of notebook_dir and
// default_url, with sample values, as in JupyterHub.
func spawnerFields() map[string]string { return map[string]string{"username": "u", "base_url": "/"} }

// homeFields returns the template fields of home_dir_template, with sample
// values, as in JupyterHub.
func homeFields() map[string]string { return map[string]string{"username": "u"} }

func checkTemplate(b *builder, id, template string, fields map[string]string) {
	if _, err := ExpandTemplate(template, fields); err != nil {
		b.errorf(b.setPos(id), id, "%v", err)
	}
}

// resolveServices fills in service defaults and checks names and URLs.
func resolveServices(c *Config, b *builder) {
	seen := map[string]bool{}
	fallback := b.setPos("JupyterHub.services")
	for i := range c.JupyterHub.Services {
		s := &c.JupyterHub.Services[i]
		path := fmt.Sprintf("%s[%d]", servicesClass, i)
		at := func(name string) (Position, string) {
			p := path + "." + name
			return b.posOf(p, b.posOf(path, fallback)), p
		}
		if err := checkName(s.Name); err != nil {
			pos, p := at("name")
			b.errorf(pos, p, "%v", err)
		} else if seen[s.Name] {
			pos, p := at("name")
			b.errorf(pos, p, "service %q is defined twice", s.Name)
		}
		seen[s.Name] = true
		if s.OAuthClientID == "" {
			s.OAuthClientID = "service-" + s.Name
		} else if !strings.HasPrefix(s.OAuthClientID, "service-") {
			pos, p := at("oauth_client_id")
			b.errorf(pos, p, "%q must start with \"service-\"", s.OAuthClientID)
		}
		if s.URL != "" {
			if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") ||
				u.Host == "" {
				pos, p := at("url")
				b.errorf(pos, p, "invalid URL %q: use an http or https URL", s.URL)
			}
			// A service without a token has no client secret, so it gets
			// the route but no OAuth client.
			if s.OAuthRedirectURI == "" && s.APIToken.Value() != "" {
				s.OAuthRedirectURI = c.JupyterHub.BaseURL + "services/" + s.Name + "/oauth_callback"
			}
		}
		if s.OAuthRedirectURI != "" && s.APIToken.Value() == "" {
			pos, p := at("oauth_redirect_uri")
			b.errorf(pos, p, "service %q has an oauth_redirect_uri but no api_token, which is "+
				"its OAuth client secret: set api_token", s.Name)
		}
		if len(s.Command) == 0 {
			s.Command = nil
		}
	}
}

func checkRoles(c *Config, b *builder) {
	seen := map[string]bool{}
	fallback := b.setPos("JupyterHub.load_roles")
	for i, r := range c.JupyterHub.LoadRoles {
		path := fmt.Sprintf("%s[%d].name", rolesClass, i)
		pos := b.posOf(path, b.posOf(fmt.Sprintf("%s[%d]", rolesClass, i), fallback))
		if err := checkName(r.Name); err != nil {
			b.errorf(pos, path, "%v", err)
		} else if seen[r.Name] {
			b.errorf(pos, path, "role %q is defined twice", r.Name)
		}
		seen[r.Name] = true
	}
}

// checkName checks the name of a service or role, which appears in URLs.
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("name is required")
	}
	if strings.ContainsAny(name, "/?#%\\ \t\r\n") {
		return fmt.Errorf("invalid name %q: it must not contain /, ?, #, %%, \\ or spaces", name)
	}
	return nil
}

// checkCryptKeys checks the auth state keys as JupyterHub's CryptKeeper
// reads them: 64 hex digits, or base64 of 32 bytes.
func checkCryptKeys(c *Config, b *builder) {
	id := "CryptKeeper.keys"
	for i, k := range c.CryptKeeper.Keys {
		if _, err := decodeCryptKey(k.Value()); err != nil {
			b.errorf(b.setPos(id), b.labelIndex(id, i), "%v", err)
		}
	}
	if c.Authenticator.EnableAuthState && len(c.CryptKeeper.Keys) == 0 {
		at := "Authenticator.enable_auth_state"
		b.errorf(b.setPos(at), at, "needs encryption keys: set $JUPYTERHUB_CRYPT_KEY "+
			"(openssl rand -hex 32) or %s", b.setting("CryptKeeper", "keys_file"))
	}
}

// decodeCryptKey returns the 32 bytes of an auth state key.
func decodeCryptKey(s string) ([]byte, error) {
	if len(s) == 64 {
		if key, err := hex.DecodeString(s); err == nil {
			return key, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		if key, err := enc.DecodeString(s); err == nil && len(key) == 32 {
			return key, nil
		}
	}
	return nil, fmt.Errorf("invalid key: use 32 bytes as 64 hex digits or in base64, " +
		"such as the output of openssl rand -hex 32")
}

// resolveCuller works out the default of IdleCuller.cull_every: 600
// seconds, or half of timeout or max_age when that is smaller, so that a
// server is stopped at most half its limit late.
func resolveCuller(c *Config, b *builder) {
	culler := &c.IdleCuller
	id := "IdleCuller.cull_every"
	if b.isSet(id) {
		if culler.CullEvery <= 0 && culler.Enabled() {
			b.errorf(b.setPos(id), id, "must be more than 0 seconds")
		}
		return
	}
	for _, limit := range []time.Duration{culler.Timeout, culler.MaxAge} {
		if half := limit / 2; half > 0 && half < culler.CullEvery {
			culler.CullEvery = half
		}
	}
}

// warnExternalProxy warns about each configurable-http-proxy setting,
// which a configuration written for JupyterHub with a proxy of its own
// sets, because jupygo hub routes through its built-in proxy.
func warnExternalProxy(b *builder) {
	for _, k := range classKeys() {
		if id := k.ID(); k.Class == "ConfigurableHTTPProxy" && b.isSet(id) {
			b.warnf(b.setPos(id), id, "ignored: jupygo hub routes through its built-in proxy, "+
				"so configurable-http-proxy's settings have no effect")
		}
	}
}
