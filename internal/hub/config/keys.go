package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jupygo/jupygo/internal/lazy"
)

// Type is the kind of value a key takes.
type Type string

// The types of keys.
const (
	TypeString      Type = "string"
	TypeInteger     Type = "integer"
	TypeBoolean     Type = "boolean"
	TypeFloat       Type = "float"
	TypeSeconds     Type = "seconds"
	TypeStringList  Type = "array of strings"
	TypeCommand     Type = "string or array of strings"
	TypeStringTable Type = "table of strings"
	TypeByteSize    Type = "byte size"
	TypeServices    Type = "array of tables (services)"
	TypeRoles       Type = "array of tables (roles)"
)

// Key describes one configuration key: a trait of a JupyterHub class, or a
// field of a service or role entry. Keys returns the whole table, which is
// the one mapping from (class, trait) to Config field that every reader of
// configuration files goes through.
type Key struct {
	// Class is the class that defines the key, such as "Spawner", or for
	// entries of an array of tables its dotted path, such as
	// "JupyterHub.services". Tables of subclasses accept the key too.
	Class string
	// Name is the trait name, such as "start_timeout".
	Name string
	// Type is the kind of value the key takes.
	Type Type
	// Default is the default in TOML syntax, or a description when the
	// default is worked out at load time.
	Default string
	// Doc says what the key sets, for operators.
	Doc string
	// Env lists environment variables read, in order, when the file sets
	// neither Name nor Name_file.
	Env []string
	// File is set when the key also accepts Name_file: the path of a file
	// that holds the value, which must not be readable by group or others
	// and must belong to root or to the hub's account.
	File bool
	// Secret marks values that are hidden in logs.
	Secret bool

	// ptr returns the field of owner (a *Config, *Service or *Role) that
	// the key sets.
	ptr func(owner any) any
	// defaultText overrides Default when the default is not a constant.
	defaultText string
	// isUserNames marks a list of hub user names, each of which must pass
	// spawn.ValidateUserName.
	isUserNames bool
	// maxDuration is the largest value of a TypeSeconds key.
	maxDuration time.Duration
}

// defaultMaxDuration bounds every key of TypeSeconds that sets no bound of
// its own, because a timeout or interval longer than a day is more likely a
// mistake, such as milliseconds written for seconds, than intended.
const defaultMaxDuration = 24 * time.Hour

// ID returns "Class.Name".
func (k Key) ID() string { return k.Class + "." + k.Name }

func (k Key) env(names ...string) Key       { k.Env = names; return k }
func (k Key) secret() Key                   { k.Secret, k.File = true, true; return k }
func (k Key) defaultIs(text string) Key     { k.defaultText = text; return k }
func (k Key) withType(t Type) Key           { k.Type = t; return k }
func (k Key) userNames() Key                { k.isUserNames = true; return k }
func (k Key) atMost(d time.Duration) Key    { k.maxDuration = d; return k }
func (k Key) field(owner any) any           { return k.ptr(owner) }
func (k Key) isItemTable() bool             { return k.Type == TypeServices || k.Type == TypeRoles }
func (k Key) acceptsFileName(n string) bool { return k.File && n == k.Name+"_file" }

// newKey makes a key whose field is found by ptr from an owner of type T.
func newKey[T any](class, name string, ptr func(*T) any, doc string) Key {
	k := Key{Class: class, Name: name, Doc: doc}
	k.ptr = func(owner any) any { return ptr(owner.(*T)) }
	var zero T
	k.Type = typeOf(ptr(&zero))
	if k.Type == TypeSeconds {
		k.maxDuration = defaultMaxDuration
	}
	return k
}

// typeOf returns the Type of the field ptr points to. Commands and byte
// sizes share Go types with other kinds, so their keys set Type themselves.
func typeOf(ptr any) Type {
	switch ptr.(type) {
	case *string, *Secret:
		return TypeString
	case *int:
		return TypeInteger
	case *bool:
		return TypeBoolean
	case *float64:
		return TypeFloat
	case *time.Duration:
		return TypeSeconds
	case *[]string, *[]Secret:
		return TypeStringList
	case *map[string]string:
		return TypeStringTable
	case *int64:
		return TypeByteSize
	case *[]Service:
		return TypeServices
	case *[]Role:
		return TypeRoles
	}
	panic(fmt.Sprintf("config: no key type for %T", ptr))
}

var classKeysValue lazy.Value[[]Key]

// classKeys returns the table of class keys, grouped by class in the order
// of the reference page. It is built on first use, so that programs that
// never read a hub configuration do not pay for it at start.
func classKeys() []Key {
	return classKeysValue.Get(buildClassKeys)
}

func buildClassKeys() []Key {
	return []Key{
		hub("ip", func(h *JupyterHub) any { return &h.IP },
			"Address of the public listener, where \"\" means all interfaces. "+
				"JupyterHub's default is \"\", but jupygo listens on loopback only until told otherwise."),
		hub("port", func(h *JupyterHub) any { return &h.Port },
			"TCP port of the public listener."),
		hub("bind_url", func(h *JupyterHub) any { return &h.BindURL },
			"URL of the public listener, such as \"https://:443/jupyter/\". "+
				"When set, it overrides ip, port and base_url. "+
				"The scheme follows ssl_cert and acme_domains: https when one is set, else http.").
			defaultIs(`"http://127.0.0.1:8000/", from ip, port and base_url`),
		hub("base_url", func(h *JupyterHub) any { return &h.BaseURL },
			"Path prefix of every hub URL, for running under an existing site."),
		hub("hub_ip", func(h *JupyterHub) any { return &h.HubIP },
			"Address of the hub's internal plain-HTTP listener, which user servers and services use "+
				"for the hub API while the public listener serves HTTPS. Over http they use the "+
				"public listener, and the hub opens no internal one and warns when it is set."),
		hub("hub_port", func(h *JupyterHub) any { return &h.HubPort },
			"TCP port of the hub's internal listener; 0 picks a free port at each start. "+
				"Over http the hub warns when it is set."),
		hub("cookie_secret", func(h *JupyterHub) any { return &h.CookieSecret },
			"Hex-encoded key that signs cookies. Unset, the hub reads cookie_secret_file, "+
				"or creates it with a random key.").env("JPY_COOKIE_SECRET").secretNoFile(),
		hub("cookie_secret_file", func(h *JupyterHub) any { return &h.CookieSecretFile },
			"File with the hex-encoded cookie secret, created with mode 0600 when missing. "+
				"Relative to data_dir. The hub rejects a file readable by group or others, or "+
				"owned by another account than root or its own."),
		hub("db_url", func(h *JupyterHub) any { return &h.DBURL },
			"Database URL: \"sqlite:///FILE\" (relative to data_dir), \"sqlite:////ABSOLUTE/FILE\", "+
				"\"sqlite://\" in memory, or \"postgresql://...\"."),
		hub("data_dir", func(h *JupyterHub) any { return &h.DataDir },
			"Folder for the hub's own files: the SQLite database, the cookie secret and the homes "+
				"of the simple spawner, created with mode 0700 when missing. Only jupygo has it: "+
				"JupyterHub uses its working folder."),
		hub("allow_named_servers", func(h *JupyterHub) any { return &h.AllowNamedServers },
			"Lets each user run named servers besides the default one."),
		hub("named_server_limit_per_user", func(h *JupyterHub) any { return &h.NamedServerLimitPerUser },
			"Maximum number of named servers per user, where 0 means no limit."),
		hub("authenticator_class", func(h *JupyterHub) any { return &h.AuthenticatorClass },
			"Authenticator: local, dummy, github, local-github or generic-oauth, or a JupyterHub "+
				"name for one (see the class names below). local-github is GitHub login whose users "+
				"are system accounts: it makes the default spawner_class localprocess and rejects "+
				"simple. pam is not supported yet, and the hub rejects it at load. JupyterHub's "+
				"default is pam."),
		hub("spawner_class", func(h *JupyterHub) any { return &h.SpawnerClass },
			"Spawner: simple or localprocess, or a JupyterHub name for one. The default is "+
				"localprocess with authenticator_class local-github, else simple. "+
				"JupyterHub's default is localprocess."),
		hub("proxy_class", func(h *JupyterHub) any { return &h.ProxyClass },
			"Proxy: builtin routes inside the hub. configurable-http-proxy, an external proxy "+
				"(see [ConfigurableHTTPProxy]), is not supported yet, and the hub rejects it at load. "+
				"JupyterHub's default is configurable-http-proxy."),
		hub("services", func(h *JupyterHub) any { return &h.Services },
			"Services, one [[JupyterHub.services]] table each (keys below).").defaultIs("[]"),
		hub("load_roles", func(h *JupyterHub) any { return &h.LoadRoles },
			"Roles created or updated at startup, one [[JupyterHub.load_roles]] table each (keys below).").
			defaultIs("[]"),
		hub("ssl_cert", func(h *JupyterHub) any { return &h.SSLCert },
			"PEM file of the public listener's certificate followed by its chain, such as "+
				"certbot's fullchain.pem. Setting it, with ssl_key, turns HTTPS on. On TLS "+
				"handshakes, at most every 5 seconds, the hub checks both files for changes and "+
				"loads a renewed pair without a restart. A pair that fails to load is logged, "+
				"and the hub keeps the previous one."),
		hub("ssl_key", func(h *JupyterHub) any { return &h.SSLKey },
			"PEM file of ssl_cert's private key, such as certbot's privkey.pem."),
		hub("acme_domains", func(h *JupyterHub) any { return &h.ACMEDomains },
			"DNS names of the certificate that the hub obtains and renews itself from the ACME CA "+
				"of acme_directory_url, such as [\"hub.example.org\"]. Setting it turns HTTPS on "+
				"and accepts the CA's terms of service. Each name must resolve to this machine, "+
				"which must be reachable on port 443 (tls-alpn-01) or on http_redirect_port 80 "+
				"(http-01). The account key and certificates are kept in the acme folder of "+
				"data_dir. Not with ssl_cert."),
		hub("acme_email", func(h *JupyterHub) any { return &h.ACMEEmail },
			"Contact address of the ACME account, for the CA's expiry notices. \"\" gives none."),
		hub("acme_directory_url", func(h *JupyterHub) any { return &h.ACMEDirectoryURL },
			"Directory URL of the ACME CA. The default is Let's Encrypt's production CA. Its "+
				"staging CA, https://acme-staging-v02.api.letsencrypt.org/directory, suits trials."),
		hub("acme_ca_roots", func(h *JupyterHub) any { return &h.ACMECARoots },
			"PEM file of CA certificates trusted for the HTTPS of acme_directory_url besides the "+
				"system roots, such as the CA of a test ACME server. \"\" trusts the system roots "+
				"alone."),
		hub("http_redirect_port", func(h *JupyterHub) any { return &h.HTTPRedirectPort },
			"TCP port of a plain-HTTP listener on ip that answers ACME http-01 challenges and "+
				"redirects every other request to HTTPS (301 for GET and HEAD, 308 otherwise). "+
				"The redirect keeps only hosts that the certificate is for. "+
				"Usually 80. 0 opens no such listener. Needs ssl_cert or acme_domains."),
		hub("hsts_max_age", func(h *JupyterHub) any { return &h.HSTSMaxAge },
			"max-age, in seconds, of the Strict-Transport-Security header on the hub's own HTTPS "+
				"responses, which makes browsers use HTTPS for the host for that long. "+
				"0 sends no header. The default is 365 days.").atMost(2 * 365 * 24 * time.Hour),
		hub("active_server_limit", func(h *JupyterHub) any { return &h.ActiveServerLimit },
			"Maximum number of servers running or starting at once. Further spawns get 429. "+
				"0 means no limit."),
		hub("concurrent_spawn_limit", func(h *JupyterHub) any { return &h.ConcurrentSpawnLimit },
			"Maximum number of servers starting at once. Further spawns get 429. 0 means no limit."),
		hub("last_activity_interval", func(h *JupyterHub) any { return &h.LastActivityInterval },
			"Interval at which last-activity times are updated, in seconds."),
		hub("shutdown_on_logout", func(h *JupyterHub) any { return &h.ShutdownOnLogout },
			"Stops all of a user's servers when they log out."),
		hub("api_page_default_limit", func(h *JupyterHub) any { return &h.APIPageDefaultLimit },
			"Page size of paginated API replies when the request sets no limit."),
		hub("api_page_max_limit", func(h *JupyterHub) any { return &h.APIPageMaxLimit },
			"Largest page size a request may ask for."),
		hub("use_legacy_stopped_server_status_code",
			func(h *JupyterHub) any { return &h.UseLegacyStoppedServerStatusCode },
			"Answers requests for a server that is not running with 503 instead of 424, "+
				"for JupyterLab before 3.2, which offers a restart only on 503."),

		auth("allowed_users", func(a *Authenticator) any { return &a.AllowedUsers },
			"Users who may log in, besides those other allow settings admit.").userNames(),
		auth("admin_users", func(a *Authenticator) any { return &a.AdminUsers },
			"Users granted the admin role at startup. Removing a name later does not revoke it.").userNames(),
		auth("blocked_users", func(a *Authenticator) any { return &a.BlockedUsers },
			"Users who may never log in, whatever else allows them.").userNames(),
		auth("allow_all", func(a *Authenticator) any { return &a.AllowAll },
			"Lets every user who authenticates log in.").
			defaultIs("true when authenticator_class is dummy and allowed_users is empty, else false"),
		auth("allow_existing_users", func(a *Authenticator) any { return &a.AllowExistingUsers },
			"Lets every user already in the database log in.").
			defaultIs("true when allowed_users is not empty, else false"),
		auth("auto_login", func(a *Authenticator) any { return &a.AutoLogin },
			"Skips the login page and starts the external login flow at once."),
		auth("enable_auth_state", func(a *Authenticator) any { return &a.EnableAuthState },
			"Stores authentication state: the provider's data about the user (name, email, avatar, teams or claims, "+
				"granted scopes), never its tokens. The hub requires [CryptKeeper] keys, as JupyterHub does, "+
				"but stores the state unencrypted for now."),
		auth("delete_invalid_users", func(a *Authenticator) any { return &a.DeleteInvalidUsers },
			"Deletes, at startup, the users whose names the hub no longer accepts, after stopping "+
				"their servers. Unset, the hub keeps such users and logs a warning for each."),

		newKey("LocalAuthenticator", "create_system_users",
			func(c *Config) any { return &c.LocalAuthenticator.CreateSystemUsers },
			"Creates a missing system account with add_user_cmd at the user's first sign-in, "+
				"as JupyterHub does, when spawner_class is localprocess and the hub runs as root. "+
				"Users that an admin adds get theirs when their first server starts."),
		newKey("LocalAuthenticator", "add_user_cmd",
			func(c *Config) any { return &c.LocalAuthenticator.AddUserCmd },
			"Command that creates a system account. USERNAME in any argument becomes the user "+
				"name, which is also appended as the last argument. It runs without a shell, "+
				"and only for names that match Debian's adduser NAME_REGEX "+
				"^[a-z][-a-z0-9_]*\\$?$ with at most 32 bytes.").
			withType(TypeCommand).
			defaultIs(`["adduser", "-q", "--gecos", "", "--disabled-password"] where /etc/adduser.conf ` +
				`exists (Debian, Ubuntu), else ["useradd", "-m"]`),

		newKey("DummyAuthenticator", "password", func(c *Config) any { return &c.DummyAuthenticator.Password },
			"Password that every user name signs in with when authenticator_class is dummy, which "+
				"lets anyone who knows it sign in as anyone, admins included. Empty lets any "+
				"password sign in. For tests only.").secret(),

		newKey("OAuthenticator", "client_id", func(c *Config) any { return &c.OAuthenticator.ClientID },
			"OAuth2 client id registered with the provider.").env("GITHUB_CLIENT_ID", "OAUTH_CLIENT_ID"),
		newKey("OAuthenticator", "client_secret", func(c *Config) any { return &c.OAuthenticator.ClientSecret },
			"OAuth2 client secret.").env("GITHUB_CLIENT_SECRET", "OAUTH_CLIENT_SECRET").secret(),
		newKey("OAuthenticator", "oauth_callback_url",
			func(c *Config) any { return &c.OAuthenticator.OAuthCallbackURL },
			"Redirect URL registered with the provider, usually \"https://HOST/hub/oauth_callback\".").
			env("OAUTH_CALLBACK_URL"),
		oauth("authorize_url", func(o *OAuthenticator) any { return &o.AuthorizeURL },
			"Provider URL that browsers are sent to for signing in.").
			env("OAUTH2_AUTHORIZE_URL").defaultIs(`"", which means github_url's or the discovered one`),
		oauth("token_url", func(o *OAuthenticator) any { return &o.TokenURL },
			"Provider URL where the hub exchanges the authorization code for an access token.").
			env("OAUTH2_TOKEN_URL").defaultIs(`"", which means github_url's or the discovered one`),
		oauth("userdata_url", func(o *OAuthenticator) any { return &o.UserdataURL },
			"Provider URL that returns the user's data as JSON for the access token.").
			env("OAUTH2_USERDATA_URL").
			defaultIs(`"", which means github_api's /user or the discovered userinfo endpoint`),
		oauth("username_claim", func(o *OAuthenticator) any { return &o.UsernameClaim },
			"Field of the user data that is the user name, such as \"preferred_username\" or "+
				"\"email\" for OpenID Connect.").
			env("OAUTH2_USERNAME_KEY").defaultIs(`"login" for github, "username" for generic-oauth`),
		oauth("scope", func(o *OAuthenticator) any { return &o.Scope },
			"Scopes requested from the provider. GitHub needs \"read:org\" to see private "+
				"organization memberships, and OpenID Connect always gets \"openid\"."),
		oauth("login_service", func(o *OAuthenticator) any { return &o.LoginService },
			"Provider name on the login button, \"Sign in with NAME\".").
			env("LOGIN_SERVICE").defaultIs(`"GitHub" for github, "OAuth 2.0" for generic-oauth`),
		oauth("enable_pkce", func(o *OAuthenticator) any { return &o.EnablePKCE },
			"Sends a PKCE code challenge (RFC 7636) with each sign-in. GitHub accepts PKCE."),
		oauth("basic_auth", func(o *OAuthenticator) any { return &o.BasicAuth },
			"Sends the client credentials to token_url in a Basic Authorization header instead of "+
				"the form body."),
		newKey("GitHubOAuthenticator", "allowed_organizations",
			func(c *Config) any { return &c.GitHubOAuthenticator.AllowedOrganizations },
			"Admits members of these GitHub organizations, or of teams written \"org:team\". "+
				"Private memberships count only with the \"read:org\" scope."),
		github("github_url", func(g *GitHubOAuthenticator) any { return &g.GitHubURL },
			"Web URL of GitHub, or of a GitHub Enterprise Server.").env("GITHUB_URL"),
		github("github_api", func(g *GitHubOAuthenticator) any { return &g.GitHubAPI },
			"REST API URL of GitHub.").
			defaultIs(`"https://api.github.com" for github.com, else github_url + "/api/v3"`),
		github("populate_teams_in_auth_state",
			func(g *GitHubOAuthenticator) any { return &g.PopulateTeamsInAuthState },
			"Keeps the user's GitHub teams in the auth state, under \"teams\". Needs the "+
				"\"read:org\" scope."),
		newKey("GenericOAuthenticator", "oidc_issuer",
			func(c *Config) any { return &c.GenericOAuthenticator.OIDCIssuer },
			"OpenID Connect issuer URL. When set, the endpoints come from its "+
				"/.well-known/openid-configuration, which must be reachable when the hub starts, "+
				"and each ID token's signature, issuer, audience, expiry and nonce are checked. "+
				"Only jupygo has it."),

		spawner("cmd", func(s *Spawner) any { return &s.Cmd },
			"Command that starts a user server. A string is a command without arguments. "+
				"JupyterHub's default is \"jupyterhub-singleuser\", which works too.").
			withType(TypeCommand).defaultIs(`["jupygo", "server"], with this binary's path for jupygo`),
		spawner("args", func(s *Spawner) any { return &s.Args },
			"Extra arguments after cmd."),
		spawner("environment", func(s *Spawner) any { return &s.Environment },
			"Extra environment variables of each server, which win over the ones the hub sets."),
		spawner("env_keep", func(s *Spawner) any { return &s.EnvKeep },
			"Environment variables of the hub that servers inherit."),
		spawner("notebook_dir", func(s *Spawner) any { return &s.NotebookDir },
			"Root folder of each server. \"~\" is the user's home and {username} the user's name. "+
				"The empty string means the home."),
		spawner("default_url", func(s *Spawner) any { return &s.DefaultURL },
			"Page a server opens first, such as \"/lab\". {username} is the user's name."),
		spawner("start_timeout", func(s *Spawner) any { return &s.StartTimeout },
			"Time a server may take to start, in seconds."),
		spawner("http_timeout", func(s *Spawner) any { return &s.HTTPTimeout },
			"Time a started server may take to respond to HTTP requests, in seconds."),
		spawner("mem_limit", func(s *Spawner) any { return &s.MemLimit },
			"Memory limit: bytes, or a number with K, M, G or T (powers of 1024), such as \"2G\". "+
				"0 means none. The local spawners do not enforce it.").defaultIs("0"),
		spawner("cpu_limit", func(s *Spawner) any { return &s.CPULimit },
			"CPU limit in cores, such as 0.5. 0 means none. The local spawners do not enforce it."),
		spawner("ip", func(s *Spawner) any { return &s.IP },
			"Address servers bind."),
		spawner("port", func(s *Spawner) any { return &s.Port },
			"TCP port every server listens on, where 0 picks a free port for each start. With a "+
				"fixed port only one server can run at a time, and a start while the port is taken "+
				"fails with an error that names it."),
		spawner("debug", func(s *Spawner) any { return &s.Debug },
			"Turns on debug logging in servers: the hub sets JUPYTERHUB_DEBUG=1, which jupygo server "+
				"and jupyterhub-singleuser read. A --log-level in args takes precedence."),
		spawner("oauth_client_allowed_scopes", func(s *Spawner) any { return &s.OAuthClientAllowedScopes },
			"Scopes that the OAuth tokens of each server's client may carry beside the access "+
				"to the server, such as [\"shares!server\", \"read:users:name\"] for "+
				"JupyterLab's share dialog. A bare !server or !user filter stands for the server or "+
				"its owner. A token gets the ones that the signed-in user holds. The hub does not "+
				"start when one of them, or its filter, does not exist."),

		newKey("LocalProcessSpawner", "interrupt_timeout",
			func(c *Config) any { return &c.LocalProcessSpawner.InterruptTimeout },
			"Time a server may take to exit after SIGINT before it gets SIGTERM, in seconds."),
		newKey("LocalProcessSpawner", "term_timeout",
			func(c *Config) any { return &c.LocalProcessSpawner.TermTimeout },
			"Time after SIGTERM before SIGKILL, in seconds."),
		newKey("LocalProcessSpawner", "kill_timeout",
			func(c *Config) any { return &c.LocalProcessSpawner.KillTimeout },
			"Time after SIGKILL before the hub gives up on the process, in seconds."),
		newKey("LocalProcessSpawner", "umask",
			func(c *Config) any { return &c.LocalProcessSpawner.Umask },
			"File mode creation mask of localprocess servers, in octal digits, such as \"077\" "+
				"for files that only their owner may read. Only jupygo has it: JupyterHub's "+
				"servers inherit the hub's umask, and so do the simple spawner's."),
		newKey("LocalProcessSpawner", "min_uid",
			func(c *Config) any { return &c.LocalProcessSpawner.MinUID },
			"Lowest uid that localprocess runs servers as, root aside, so that system accounts "+
				"never run them. 0 means SYS_UID_MAX + 1 from /etc/login.defs, else its UID_MIN, "+
				"else 1000. Only jupygo has it."),
		newKey("LocalProcessSpawner", "max_uid",
			func(c *Config) any { return &c.LocalProcessSpawner.MaxUID },
			"Highest uid that localprocess runs servers as, so that accounts such as nobody "+
				"(65534) never run them. 0 means UID_MAX from /etc/login.defs, else 60000. Only "+
				"jupygo has it."),
		newKey("LocalProcessSpawner", "blocked_groups",
			func(c *Config) any { return &c.LocalProcessSpawner.BlockedGroups },
			"Groups whose members localprocess never runs servers as, primary group included, "+
				"because a server as the operator's account (such as debian or ubuntu on a cloud "+
				"VM, in sudo) would give its notebooks that account's rights. A GitHub user with "+
				"the same login as such an account gets a 400 at the start. Groups missing on the "+
				"machine are skipped. The hub checks them only when it runs as root. Rights given "+
				"in /etc/sudoers by account name are not seen, so list such users in "+
				"blocked_users. Only jupygo has it."),
		newKey("LocalProcessSpawner", "allow_root",
			func(c *Config) any { return &c.LocalProcessSpawner.AllowRoot },
			"Lets localprocess run a server as root when the user is root, which gives that "+
				"user's notebooks full control of the machine. Only jupygo has it: JupyterHub "+
				"checks no uid."),
		newKey("SimpleLocalProcessSpawner", "home_dir_template",
			func(c *Config) any { return &c.SimpleLocalProcessSpawner.HomeDirTemplate },
			"Home folder of each user. {username} is the user's name, and relative paths are "+
				"relative to data_dir. JupyterHub's default is \"/tmp/{username}\", which other "+
				"local users could create first."),

		newKey("ConfigurableHTTPProxy", "auth_token",
			func(c *Config) any { return &c.ConfigurableHTTPProxy.AuthToken },
			"Token of configurable-http-proxy's REST API. Read for compatibility, with a warning: "+
				"jupygo hub routes through its built-in proxy, which has no REST API.").
			env("CONFIGPROXY_AUTH_TOKEN").secret(),
		newKey("ConfigurableHTTPProxy", "api_url",
			func(c *Config) any { return &c.ConfigurableHTTPProxy.APIURL },
			"URL of configurable-http-proxy's REST API. Read for compatibility, with a warning: "+
				"the built-in proxy has none."),
		newKey("ConfigurableHTTPProxy", "should_start",
			func(c *Config) any { return &c.ConfigurableHTTPProxy.ShouldStart },
			"Makes JupyterHub start and stop configurable-http-proxy. Read for compatibility, with a "+
				"warning: jupygo hub always routes through its built-in proxy."),
		chp("command", func(p *ConfigurableHTTPProxy) any { return &p.Command },
			"Command that starts configurable-http-proxy.").withType(TypeCommand),
		chp("debug", func(p *ConfigurableHTTPProxy) any { return &p.Debug },
			"Turns on configurable-http-proxy's debug logging."),
		chp("log_level", func(p *ConfigurableHTTPProxy) any { return &p.LogLevel },
			"Log level of configurable-http-proxy: debug, info, warn or error."),
		chp("pid_file", func(p *ConfigurableHTTPProxy) any { return &p.PIDFile },
			"File in which JupyterHub writes the PID of configurable-http-proxy."),
		chp("extra_routes", func(p *ConfigurableHTTPProxy) any { return &p.ExtraRoutes },
			"Routes that JupyterHub keeps in configurable-http-proxy besides its own, from "+
				"routespec to target URL."),
		chp("concurrency", func(p *ConfigurableHTTPProxy) any { return &p.Concurrency },
			"Maximum number of requests to configurable-http-proxy's REST API at once."),
		chp("check_running_interval",
			func(p *ConfigurableHTTPProxy) any { return &p.CheckRunningInterval },
			"Interval, in seconds, at which JupyterHub checks that configurable-http-proxy runs."),

		newKey("CryptKeeper", "keys", func(c *Config) any { return &c.CryptKeeper.Keys },
			"Keys that encrypt auth state: each 32 bytes, hex or base64. The first encrypts, all "+
				"decrypt. JUPYTERHUB_CRYPT_KEY holds them separated by \";\".").
			env("JUPYTERHUB_CRYPT_KEY").secret(),

		culler("timeout", func(c *IdleCuller) any { return &c.Timeout },
			"Stops a server after this long without activity, 0 for never. Activity is the later "+
				"of what the server reports and the last request the proxy forwarded to it.").
			atMost(maxCullerDuration),
		culler("cull_every", func(c *IdleCuller) any { return &c.CullEvery },
			"How often the hub looks for servers to stop.").
			defaultIs("600, or half of timeout or max_age when that is smaller"),
		culler("max_age", func(c *IdleCuller) any { return &c.MaxAge },
			"Stops a server this long after it started, active or not, 0 for never.").
			atMost(maxCullerDuration),
		culler("cull_admin_users", func(c *IdleCuller) any { return &c.CullAdminUsers },
			"Stops the servers of admin users too. With false, they run until stopped by hand. "+
				"jupyterhub-idle-culler reads this option only when it deletes users."),
		culler("remove_named_servers", func(c *IdleCuller) any { return &c.RemoveNamedServers },
			"Deletes a culled named server, as the API's DELETE with {\"remove\": true} does, "+
				"instead of only stopping it. Default servers are only stopped."),
	}
}

// maxCullerDuration bounds the timeout and max_age of [IdleCuller], because
// either may be several days.
const maxCullerDuration = 366 * 24 * time.Hour

// defaultCullEvery is the longest default of IdleCuller.cull_every.
// jupyterhub-idle-culler checks every timeout/2, so a timeout of hours
// would leave servers running for hours past it.
const defaultCullEvery = 600 * time.Second

// notSupported ends the doc of a key that checkUnsupported rejects.
const notSupported = " Not supported yet: the hub refuses to start when it is set."

var serviceKeysValue lazy.Value[[]Key]

// serviceKeys returns the keys of a [[JupyterHub.services]] table.
func serviceKeys() []Key {
	return serviceKeysValue.Get(buildServiceKeys)
}

func buildServiceKeys() []Key {
	return []Key{
		service("name", func(s *Service) any { return &s.Name },
			"Name of the service, required. Roles grant it to the service by this name."),
		service("api_token", func(s *Service) any { return &s.APIToken },
			"Hub API token of the service.").secret(),
		service("url", func(s *Service) any { return &s.URL },
			"URL the service listens on, which the hub proxies /services/NAME/ to. The service "+
				"serves its pages under that path, as the hub forwards it whole."),
		service("command", func(s *Service) any { return &s.Command },
			"Command that starts the service, which the hub would then run and stop."+notSupported).
			withType(TypeCommand),
		service("environment", func(s *Service) any { return &s.Environment },
			"Extra environment variables of a started service."+notSupported),
		service("cwd", func(s *Service) any { return &s.Cwd },
			"Working folder of a started service."+notSupported),
		service("user", func(s *Service) any { return &s.User },
			"System user a started service runs as, where \"\" means the hub's own user."+notSupported),
		service("oauth_client_id", func(s *Service) any { return &s.OAuthClientID },
			"OAuth client id of the service, its $JUPYTERHUB_CLIENT_ID. It must start with "+
				"\"service-\".").
			defaultIs(`"service-" followed by name`),
		service("oauth_redirect_uri", func(s *Service) any { return &s.OAuthRedirectURI },
			"OAuth callback of the service. When it is set, the service signs users in "+
				"through the hub's OAuth, with api_token as its client secret. The default is "+
				"{base_url}services/NAME/oauth_callback when url and api_token are set, and no "+
				"OAuth otherwise."),
		service("oauth_no_confirm", func(s *Service) any { return &s.OAuthNoConfirm },
			"Skips the OAuth confirmation page for this service."),
		service("oauth_client_allowed_scopes", func(s *Service) any { return &s.OAuthClientAllowedScopes },
			"Scopes that OAuth tokens issued to this service may carry, besides "+
				"access:services!service=NAME, which every one carries. A token gets those "+
				"that its user holds, and inherit gives it all of them. A bare !user filter "+
				"names the user. The hub does not start when one of them does not exist."),
		service("display", func(s *Service) any { return &s.Display },
			"Lists the service on the hub's home page, which lists no services yet, so the hub "+
				"warns when it is set."),
	}
}

var roleKeysValue lazy.Value[[]Key]

// roleKeys returns the keys of a [[JupyterHub.load_roles]] table.
func roleKeys() []Key {
	return roleKeysValue.Get(buildRoleKeys)
}

func buildRoleKeys() []Key {
	return []Key{
		role("name", func(r *Role) any { return &r.Name }, "Name of the role, required."),
		role("description", func(r *Role) any { return &r.Description }, "Description of the role."),
		role("scopes", func(r *Role) any { return &r.Scopes },
			"Scopes the role grants. The hub does not start when one of them, or its filter, does not exist."),
		role("users", func(r *Role) any { return &r.Users }, "Users who hold the role.").userNames(),
		role("groups", func(r *Role) any { return &r.Groups }, "Groups that hold the role."),
		role("services", func(r *Role) any { return &r.Services }, "Services that hold the role."),
	}
}

func hub(name string, ptr func(*JupyterHub) any, doc string) Key {
	return newKey("JupyterHub", name, func(c *Config) any { return ptr(&c.JupyterHub) }, doc)
}

func auth(name string, ptr func(*Authenticator) any, doc string) Key {
	return newKey("Authenticator", name, func(c *Config) any { return ptr(&c.Authenticator) }, doc)
}

func oauth(name string, ptr func(*OAuthenticator) any, doc string) Key {
	return newKey("OAuthenticator", name, func(c *Config) any { return ptr(&c.OAuthenticator) }, doc)
}

func github(name string, ptr func(*GitHubOAuthenticator) any, doc string) Key {
	return newKey("GitHubOAuthenticator", name,
		func(c *Config) any { return ptr(&c.GitHubOAuthenticator) }, doc)
}

// chp makes a key of configurable-http-proxy that jupygo hub reads, checks
// and ignores with a warning, because it routes through its built-in proxy.
func chp(name string, ptr func(*ConfigurableHTTPProxy) any, doc string) Key {
	return newKey("ConfigurableHTTPProxy", name,
		func(c *Config) any { return ptr(&c.ConfigurableHTTPProxy) },
		doc+" Read for compatibility, with a warning: jupygo hub routes through its built-in proxy.")
}

func culler(name string, ptr func(*IdleCuller) any, doc string) Key {
	return newKey("IdleCuller", name, func(c *Config) any { return ptr(&c.IdleCuller) }, doc)
}

func spawner(name string, ptr func(*Spawner) any, doc string) Key {
	return newKey("Spawner", name, func(c *Config) any { return ptr(&c.Spawner) }, doc)
}

func service(name string, ptr func(*Service) any, doc string) Key {
	return newKey(servicesClass, name, ptr, doc)
}

func role(name string, ptr func(*Role) any, doc string) Key {
	return newKey(rolesClass, name, ptr, doc)
}

// secretNoFile marks a secret whose file variant is a key of its own with
// other rules, as cookie_secret_file is.
func (k Key) secretNoFile() Key { k.Secret = true; return k }

const (
	servicesClass = "JupyterHub.services"
	rolesClass    = "JupyterHub.load_roles"
)

// Keys returns every key: the class keys grouped by class, then the keys of
// service and role entries. Each Key has its Default filled in. The slice is
// new on each call.
func Keys() []Key {
	defaults := &Config{}
	applyDefaults(defaults)
	var keys []Key
	for _, k := range classKeys() {
		keys = append(keys, withDefault(k, defaults))
	}
	svc := defaultService()
	for _, k := range serviceKeys() {
		keys = append(keys, withDefault(k, &svc))
	}
	for _, k := range roleKeys() {
		keys = append(keys, withDefault(k, &Role{}))
	}
	return keys
}

func withDefault(k Key, owner any) Key {
	k.Default = k.defaultText
	if k.Default == "" {
		k.Default = formatValue(k.field(owner))
	}
	return k
}

// Lookup returns the key that a table of class accepts under name: a key of
// the class itself or of one of its ancestors. It also finds a secret key by
// its Name_file variant. Lookup is how a reader of another file format maps
// (class, trait) to a key.
func Lookup(class, name string) (Key, bool) {
	for _, owner := range ancestors(class) {
		for _, k := range classKeys() {
			if k.Class == owner && (k.Name == name || k.acceptsFileName(name)) {
				return k, true
			}
		}
	}
	return Key{}, false
}

// lookupItem finds a key of a service or role entry.
func lookupItem(keys []Key, name string) (Key, bool) {
	for _, k := range keys {
		if k.Name == name || k.acceptsFileName(name) {
			return k, true
		}
	}
	return Key{}, false
}

// acceptedNames returns the names a table of class accepts, for
// suggestions.
func acceptedNames(class string) []string {
	var names []string
	for _, owner := range ancestors(class) {
		for _, k := range classKeys() {
			if k.Class == owner {
				names = append(names, k.Name)
				if k.File {
					names = append(names, k.Name+"_file")
				}
			}
		}
	}
	return names
}

func itemNames(keys []Key) []string {
	var names []string
	for _, k := range keys {
		names = append(names, k.Name)
		if k.File {
			names = append(names, k.Name+"_file")
		}
	}
	return names
}

// formatValue writes the value ptr points to in TOML syntax.
func formatValue(ptr any) string {
	switch p := ptr.(type) {
	case *string:
		return strconv.Quote(*p)
	case *Secret:
		return strconv.Quote(string(*p))
	case *int:
		return strconv.Itoa(*p)
	case *int64:
		return strconv.FormatInt(*p, 10)
	case *bool:
		return strconv.FormatBool(*p)
	case *float64:
		return strconv.FormatFloat(*p, 'g', -1, 64)
	case *time.Duration:
		return strconv.FormatFloat(p.Seconds(), 'f', -1, 64)
	case *[]string:
		return formatList(*p)
	case *[]Secret:
		return formatList(*p)
	case *map[string]string:
		return formatTable(*p)
	}
	return ""
}

func formatList[T ~string](list []T) string {
	quoted := make([]string, len(list))
	for i, s := range list {
		quoted[i] = strconv.Quote(string(s))
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

func formatTable(m map[string]string) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = k + " = " + strconv.Quote(m[k])
	}
	if len(parts) == 0 {
		return "{}"
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// defaultService returns a service entry with its defaults.
func defaultService() Service { return Service{Display: true} }
