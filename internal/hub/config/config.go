package config

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/jupygo/jupygo/internal/hub/spawn"
)

// Config is the hub's configuration: one field per configurable class,
// named as in JupyterHub. Every field holds its default when the file does
// not set it. Parse and Load return a Config whose cross-field defaults are
// already worked out (see doc.go), so readers use the fields as they are.
//
// A Config is a plain value: it is safe to read from several goroutines and
// it is never changed by this package after it is returned.
type Config struct {
	// File is the name of the file the configuration was read from, "" when
	// it was not read from a file.
	File string

	JupyterHub                JupyterHub
	Authenticator             Authenticator
	LocalAuthenticator        LocalAuthenticator
	DummyAuthenticator        DummyAuthenticator
	OAuthenticator            OAuthenticator
	GitHubOAuthenticator      GitHubOAuthenticator
	GenericOAuthenticator     GenericOAuthenticator
	Spawner                   Spawner
	LocalProcessSpawner       LocalProcessSpawner
	SimpleLocalProcessSpawner SimpleLocalProcessSpawner
	ConfigurableHTTPProxy     ConfigurableHTTPProxy
	CryptKeeper               CryptKeeper
	IdleCuller                IdleCuller

	// Warnings lists settings that were read but have no effect, in file
	// order. The hub logs them at startup (see LogWarnings).
	Warnings []Warning

	// positions holds the position of each key that the file sets, by the
	// paths that Build describes, for ErrorAt.
	positions map[string]Position
}

// JupyterHub is the [JupyterHub] table: the hub application itself.
type JupyterHub struct {
	// IP is the address the public listener binds, where "" means all
	// interfaces. Default "127.0.0.1".
	IP string
	// Port is the public listener's TCP port. Default 8000.
	Port int
	// BindURL is the public listener's URL: scheme, address, port and base
	// URL. After loading it always agrees with IP, Port and BaseURL.
	BindURL string
	// BaseURL is the path prefix of every hub URL. It starts and ends with
	// "/". Default "/".
	BaseURL string
	// HubIP is the address of the hub's internal listener, which user
	// servers and services use for the hub API. Default "127.0.0.1".
	HubIP string
	// HubPort is the internal listener's TCP port. Default 8081.
	HubPort int
	// CookieSecret is the hex-encoded key that signs cookies. When it is "",
	// the hub reads or creates CookieSecretFile.
	CookieSecret Secret
	// CookieSecretFile is the file that holds the cookie secret. The hub
	// creates it with mode 0600 when it is missing. Relative to DataDir.
	CookieSecretFile string
	// DBURL is the database URL, in SQLAlchemy's form. Default
	// "sqlite:///jupyterhub.sqlite". Config.Database parses it.
	DBURL string
	// DataDir is the folder for the hub's own files: the database, the
	// cookie secret and the homes of the simple spawner. Default
	// "jupygo-data", relative to the folder the hub starts in.
	DataDir string
	// AllowNamedServers lets users run named servers besides their default
	// one. Default false.
	AllowNamedServers bool
	// NamedServerLimitPerUser caps the named servers one user may have;
	// 0 means no limit.
	NamedServerLimitPerUser int
	// AuthenticatorClass is the canonical name of the authenticator, one
	// of the Authenticator* constants. Default AuthenticatorLocal.
	AuthenticatorClass string
	// SpawnerClass is the canonical name of the spawner, one of the
	// Spawner* constants. Default SpawnerSimple, or SpawnerLocalProcess
	// with AuthenticatorLocalGitHub.
	SpawnerClass string
	// ProxyClass is the canonical name of the proxy, one of the Proxy*
	// constants. Default ProxyBuiltin.
	ProxyClass string
	// Services are the hub's services, in file order.
	Services []Service
	// LoadRoles are the roles the hub creates or updates at startup.
	LoadRoles []Role
	// SSLCert and SSLKey are the PEM files of the public listener's TLS
	// certificate and key. Both or neither are set. The hub reloads them
	// when they change.
	SSLCert string
	SSLKey  string
	// ACMEDomains are the DNS names of the certificate the hub obtains
	// and renews itself from an ACME CA. Non-empty turns HTTPS on, and
	// excludes SSLCert.
	ACMEDomains []string
	// ACMEEmail is the contact address of the ACME account, where "" means
	// none.
	ACMEEmail string
	// ACMEDirectoryURL is the ACME CA's directory. Default Let's Encrypt's
	// production directory, DefaultACMEDirectoryURL.
	ACMEDirectoryURL string
	// ACMECARoots is a PEM file of CA certificates trusted for the ACME
	// directory's own HTTPS, besides the system roots, such as a test CA.
	// "" means the system roots alone.
	ACMECARoots string
	// HTTPRedirectPort is the TCP port of a plain-HTTP listener on IP that
	// serves ACME http-01 challenges and redirects every other request
	// to HTTPS. 0 means no such listener. It requires HTTPS.
	HTTPRedirectPort int
	// HSTSMaxAge is the max-age of the Strict-Transport-Security header
	// on the hub's own HTTPS responses. 0 sends no header. Default 365
	// days.
	HSTSMaxAge time.Duration
	// ActiveServerLimit caps the servers running or starting at once, where
	// 0 means no limit.
	ActiveServerLimit int
	// ConcurrentSpawnLimit caps the servers starting at once, where 0 means
	// no limit. Default 100.
	ConcurrentSpawnLimit int
	// LastActivityInterval is how often last-activity times are updated.
	// Default 5 minutes.
	LastActivityInterval time.Duration
	// ShutdownOnLogout stops all of a user's servers when they log out.
	ShutdownOnLogout bool
	// APIPageDefaultLimit is the page size of paginated API replies when
	// the request gives none. Default 50.
	APIPageDefaultLimit int
	// APIPageMaxLimit is the largest page size a request may ask for.
	// Default 200.
	APIPageMaxLimit int
	// UseLegacyStoppedServerStatusCode makes requests for a server that is
	// not running get 503 instead of 424, for JupyterLab before 3.2.
	UseLegacyStoppedServerStatusCode bool
}

// Service is one [[JupyterHub.services]] entry: a program that uses the hub
// API, either started by the hub (Command set) or running on its own.
type Service struct {
	// Name identifies the service in /services/NAME/ URLs.
	Name string
	// APIToken is the service's hub API token.
	APIToken Secret
	// URL is the address the service listens on, which the hub proxies
	// {base_url}services/NAME/ to. It is "" for services without an HTTP
	// endpoint.
	URL string
	// Command starts a hub-managed service. It is nil for external services.
	Command []string
	// Environment holds extra environment variables of a managed service.
	Environment map[string]string
	// Cwd is the working directory of a managed service.
	Cwd string
	// User is the system user a managed service runs as, where "" means
	// the hub's own user.
	User string
	// OAuthClientID is the service's OAuth client id, which starts with
	// "service-". Default "service-" + Name.
	OAuthClientID string
	// OAuthRedirectURI is the service's OAuth callback. Resolving sets it
	// to {base_url}services/NAME/oauth_callback for a service with a URL and
	// an API token. "" means the service has no OAuth client.
	OAuthRedirectURI string
	// OAuthNoConfirm skips the OAuth confirmation page for this service.
	OAuthNoConfirm bool
	// OAuthClientAllowedScopes are the scopes that OAuth tokens issued to
	// this service may carry.
	OAuthClientAllowedScopes []string
	// Display lists the service on the hub's home page. Default true.
	Display bool
}

// Role is one [[JupyterHub.load_roles]] entry: a named set of scopes and the
// users, groups and services that hold it.
type Role struct {
	Name        string
	Description string
	Scopes      []string
	Users       []string
	Groups      []string
	Services    []string
}

// Authenticator is the [Authenticator] table: who may log in and who is an
// admin, for every authenticator.
type Authenticator struct {
	// AllowedUsers are the users who may log in, besides those that other
	// allow settings admit.
	AllowedUsers []string
	// AdminUsers are granted the admin role at startup.
	AdminUsers []string
	// BlockedUsers may never log in, whatever else allows them.
	BlockedUsers []string
	// AllowAll lets every user who authenticates log in. When the file does
	// not set it, it is true exactly when AuthenticatorClass is
	// AuthenticatorDummy and AllowedUsers is empty, as in JupyterHub 5.
	AllowAll bool
	// AllowExistingUsers lets every user in the database log in. When the
	// file does not set it, it is true exactly when AllowedUsers is not
	// empty, as in JupyterHub.
	AllowExistingUsers bool
	// AutoLogin skips the login page and starts the external login flow.
	AutoLogin bool
	// EnableAuthState stores authentication state, encrypted with
	// CryptKeeper.Keys.
	EnableAuthState bool
	// DeleteInvalidUsers removes users that fail validation at startup.
	DeleteInvalidUsers bool
}

// LocalAuthenticator is the [LocalAuthenticator] table: authenticators whose
// users are system accounts.
type LocalAuthenticator struct {
	// CreateSystemUsers creates a missing system account when the
	// localprocess spawner first starts a server for the user.
	CreateSystemUsers bool
	// AddUserCmd is the command that creates a system account, with
	// USERNAME in any element replaced by the name, which is also
	// appended. Nil means spawn.DefaultAddUserCmd.
	AddUserCmd []string
}

// DummyAuthenticator is the [DummyAuthenticator] table, used when
// JupyterHub.AuthenticatorClass is AuthenticatorDummy.
type DummyAuthenticator struct {
	// Password is the one password every user name signs in with. Empty
	// lets any password sign in.
	Password Secret
}

// OAuthenticator is the [OAuthenticator] table: settings of every OAuth2
// login, read by GitHubOAuthenticator too.
type OAuthenticator struct {
	// ClientID is the OAuth2 client id registered with the provider.
	ClientID string
	// ClientSecret is the OAuth2 client secret.
	ClientSecret Secret
	// OAuthCallbackURL is the redirect URL registered with the provider,
	// usually https://HOST/hub/oauth_callback.
	OAuthCallbackURL string
	// AuthorizeURL, TokenURL and UserdataURL are the provider's endpoints.
	// Empty means the authenticator's own: GitHub's from GitHubURL, or
	// the ones that OIDC discovery finds.
	AuthorizeURL string
	TokenURL     string
	UserdataURL  string
	// UsernameClaim is the field of the user data that is the user name.
	// Empty means the authenticator's default: "login" for GitHub and
	// "username" for GenericOAuthenticator.
	UsernameClaim string
	// Scope lists the scopes requested from the provider.
	Scope []string
	// LoginService is the provider's name on the login button. Empty means
	// "GitHub" or "OAuth 2.0".
	LoginService string
	// EnablePKCE sends a PKCE code challenge (RFC 7636). Default true.
	EnablePKCE bool
	// BasicAuth sends the client credentials to TokenURL in an HTTP Basic
	// Authorization header instead of the form body.
	BasicAuth bool
}

// GitHubOAuthenticator is the [GitHubOAuthenticator] table.
type GitHubOAuthenticator struct {
	// AllowedOrganizations admits members of these organizations, or of
	// teams written "org:team".
	AllowedOrganizations []string
	// GitHubURL is GitHub's web URL. Default "https://github.com".
	GitHubURL string
	// GitHubAPI is GitHub's REST API URL. Empty means
	// "https://api.github.com" for github.com and GitHubURL + "/api/v3"
	// for any other GitHubURL.
	GitHubAPI string
	// PopulateTeamsInAuthState keeps the user's teams in the auth state.
	PopulateTeamsInAuthState bool
}

// GenericOAuthenticator is the [GenericOAuthenticator] table.
type GenericOAuthenticator struct {
	// OIDCIssuer turns on OpenID Connect: endpoints come from the issuer's
	// discovery document and each ID token is verified. Only jupygo has
	// it.
	OIDCIssuer string
}

// Spawner is the [Spawner] table: how user servers are started.
type Spawner struct {
	// Cmd is the server command. Default: this binary with "server".
	Cmd []string
	// Args are extra arguments after Cmd.
	Args []string
	// Environment holds extra environment variables of each server.
	Environment map[string]string
	// EnvKeep names the hub's environment variables that servers inherit.
	EnvKeep []string
	// NotebookDir is the server's root folder, a template (see
	// ExpandTemplate). The empty string means the user's home.
	NotebookDir string
	// DefaultURL is the page a server opens first, a template. The empty
	// string lets the server choose.
	DefaultURL string
	// StartTimeout is how long a server may take to start. Default 60 s.
	StartTimeout time.Duration
	// HTTPTimeout is how long a started server may take to respond to
	// HTTP requests. Default 30 s.
	HTTPTimeout time.Duration
	// MemLimit is a memory limit in bytes, 0 for none. The local spawners
	// do not enforce it.
	MemLimit int64
	// CPULimit is a limit in CPU cores, 0 for none. The local spawners do
	// not enforce it.
	CPULimit float64
	// IP is the address servers bind. Default "127.0.0.1".
	IP string
	// Port is the port servers bind, where 0 picks a free port per server.
	Port int
	// Debug turns on debug logging in servers.
	Debug bool
	// OAuthClientAllowedScopes are the scopes, beyond the server's access
	// scope, that the OAuth tokens of a server's client may carry. A bare
	// "!server" or "!user" filter stands for the server or its owner.
	OAuthClientAllowedScopes []string
}

// LocalProcessSpawner is the [LocalProcessSpawner] table: servers run as
// local processes.
type LocalProcessSpawner struct {
	// InterruptTimeout is how long a server may take to exit after SIGINT
	// before it gets SIGTERM. Default 10 s.
	InterruptTimeout time.Duration
	// TermTimeout is how long after SIGTERM before SIGKILL. Default 5 s.
	TermTimeout time.Duration
	// KillTimeout is how long after SIGKILL before the hub gives up on
	// the process. Default 5 s.
	KillTimeout time.Duration
	// Umask is the file mode creation mask of localprocess servers, in
	// octal digits. Default "022". UmaskBits returns its value.
	Umask string
	// MinUID is the lowest uid localprocess servers may run as, root
	// aside. 0 means SYS_UID_MAX + 1 from /etc/login.defs, else its
	// UID_MIN, else 1000.
	MinUID int
	// MaxUID is the highest uid localprocess servers may run as. 0 means
	// UID_MAX from /etc/login.defs, else 60000.
	MaxUID int
	// BlockedGroups names the groups whose members localprocess servers
	// never run as. Default spawn.DefaultBlockedGroups.
	BlockedGroups []string
	// AllowRoot lets localprocess servers run as root. Default false.
	AllowRoot bool
}

// UmaskBits returns Umask as a number, or the default 0o022 when Umask
// does not parse, which Load rejects.
func (l LocalProcessSpawner) UmaskBits() int {
	n, err := parseUmask(l.Umask)
	if err != nil {
		return 0o022
	}
	return n
}

// SimpleLocalProcessSpawner is the [SimpleLocalProcessSpawner] table:
// servers run as the hub's own user, each in its own home folder.
type SimpleLocalProcessSpawner struct {
	// HomeDirTemplate is the home of each user, a template. Relative paths
	// are relative to DataDir. Default "users/{username}".
	HomeDirTemplate string
}

// ConfigurableHTTPProxy is the [ConfigurableHTTPProxy] table, used when
// JupyterHub.ProxyClass is ProxyCHP.
type ConfigurableHTTPProxy struct {
	// AuthToken is the token of the proxy's REST API.
	AuthToken Secret
	// APIURL is the proxy's REST API URL. Default "http://127.0.0.1:8001".
	APIURL string
	// ShouldStart makes the hub start and stop the proxy. Default true.
	ShouldStart bool
	// Command starts the proxy. Default ["configurable-http-proxy"].
	Command []string
	// Debug turns on the proxy's debug logging. Default false.
	Debug bool
	// LogLevel is the proxy's log level. Default "info".
	LogLevel string
	// PIDFile is the file of the proxy's PID that JupyterHub writes. Default
	// "jupyterhub-proxy.pid".
	PIDFile string
	// ExtraRoutes are routes kept in the proxy besides the hub's, by
	// routespec. Default none.
	ExtraRoutes map[string]string
	// Concurrency bounds the REST requests to the proxy at once. Default 10.
	Concurrency int
	// CheckRunningInterval is the interval, in seconds, of JupyterHub's check that
	// the proxy runs. Default 5.
	CheckRunningInterval int
}

// CryptKeeper is the [CryptKeeper] table: encryption of stored auth state.
type CryptKeeper struct {
	// Keys are the encryption keys, hex or base64 of 32 bytes. The first
	// one encrypts, and all of them decrypt.
	Keys []Secret
}

// IdleCuller is the [IdleCuller] table: the hub stops servers that have
// been idle, or have run, too long, as jupyterhub-idle-culler does for
// JupyterHub. Culling is off while Timeout and MaxAge are both 0.
type IdleCuller struct {
	// Timeout is how long a server may go without activity before it is
	// stopped, 0 for no limit. Default 0.
	Timeout time.Duration
	// CullEvery is how often servers are checked. Default 600 seconds, or
	// half of Timeout or MaxAge when that is smaller.
	CullEvery time.Duration
	// MaxAge is how long a server may run, active or not, 0 for no limit.
	// Default 0.
	MaxAge time.Duration
	// CullAdminUsers culls the servers of admins too. Default true.
	CullAdminUsers bool
	// RemoveNamedServers deletes a culled named server, as DELETE with
	// {"remove": true} does, instead of only stopping it. Default false.
	RemoveNamedServers bool
}

// Enabled reports whether the hub culls servers: Timeout or MaxAge is set.
func (c IdleCuller) Enabled() bool { return c.Timeout > 0 || c.MaxAge > 0 }

// Secret is a configuration value that must never reach a log. Its String,
// LogValue and MarshalText methods hide it, and Value returns it.
type Secret string

// Value returns the secret itself.
func (s Secret) Value() string { return string(s) }

// String returns "[secret]", or "" when s is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[secret]"
}

// LogValue hides the secret from log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText hides the secret from encoders such as encoding/json.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// GoString hides the secret from the %#v verb.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.String()) }

// DefaultACMEDirectoryURL is the directory of Let's Encrypt's production
// CA, the default of acme_directory_url.
const DefaultACMEDirectoryURL = "https://acme-v02.api.letsencrypt.org/directory"

// HTTPS reports whether the public listener serves HTTPS: ssl_cert or
// acme_domains is set.
func (h *JupyterHub) HTTPS() bool { return h.SSLCert != "" || len(h.ACMEDomains) > 0 }

// Default returns the built-in configuration: local accounts, the simple
// spawner, SQLite in the working folder, and HTTP on 127.0.0.1:8000. It
// reads no environment variable. Parse(nil, "") gives the same defaults
// with the environment fallbacks applied.
func Default() *Config {
	c := &Config{}
	applyDefaults(c)
	if err := resolve(c, newBuilder("")); err != nil {
		panic(fmt.Sprintf("config: built-in defaults are invalid: %v", err))
	}
	return c
}

// applyDefaults sets every field to its default. Cross-field defaults are
// left to resolve.
func applyDefaults(c *Config) {
	c.JupyterHub = JupyterHub{
		IP:                   "127.0.0.1",
		Port:                 8000,
		BaseURL:              "/",
		HubIP:                "127.0.0.1",
		HubPort:              8081,
		CookieSecretFile:     "jupyterhub_cookie_secret",
		DBURL:                "sqlite:///jupyterhub.sqlite",
		DataDir:              "jupygo-data",
		AuthenticatorClass:   AuthenticatorLocal,
		SpawnerClass:         SpawnerSimple,
		ProxyClass:           ProxyBuiltin,
		ConcurrentSpawnLimit: 100,
		LastActivityInterval: 300 * time.Second,
		APIPageDefaultLimit:  50,
		APIPageMaxLimit:      200,
		ACMEDirectoryURL:     DefaultACMEDirectoryURL,
		HSTSMaxAge:           365 * 24 * time.Hour,
	}
	c.Spawner = Spawner{
		Cmd:          []string{executable(), "server"},
		EnvKeep:      defaultEnvKeep(),
		StartTimeout: 60 * time.Second,
		HTTPTimeout:  30 * time.Second,
		IP:           "127.0.0.1",
	}
	c.LocalProcessSpawner = LocalProcessSpawner{
		InterruptTimeout: 10 * time.Second,
		TermTimeout:      5 * time.Second,
		KillTimeout:      5 * time.Second,
		Umask:            "022",
		BlockedGroups:    slices.Clone(spawn.DefaultBlockedGroups),
	}
	c.SimpleLocalProcessSpawner.HomeDirTemplate = "users/{username}"
	c.IdleCuller = IdleCuller{CullEvery: defaultCullEvery, CullAdminUsers: true}
	c.OAuthenticator.EnablePKCE = true
	c.GitHubOAuthenticator.GitHubURL = "https://github.com"
	c.ConfigurableHTTPProxy = ConfigurableHTTPProxy{
		APIURL:               "http://127.0.0.1:8001",
		ShouldStart:          true,
		Command:              []string{"configurable-http-proxy"},
		LogLevel:             "info",
		PIDFile:              "jupyterhub-proxy.pid",
		ExtraRoutes:          map[string]string{},
		Concurrency:          10,
		CheckRunningInterval: 5,
	}
}

// defaultEnvKeep is LocalProcessSpawner's env_keep default in JupyterHub 5.
func defaultEnvKeep() []string {
	return []string{
		"CONDA_DEFAULT_ENV", "CONDA_ROOT", "JUPYTERHUB_SINGLEUSER_APP", "LANG",
		"LC_ALL", "LD_LIBRARY_PATH", "PATH", "PYTHONPATH", "VIRTUAL_ENV",
	}
}

// executable returns the path of the running binary, or "jupygo" (looked up
// in PATH when the server starts) when the system cannot tell.
func executable() string {
	path, err := os.Executable()
	if err != nil || path == "" {
		return "jupygo"
	}
	return path
}

// LogWarnings logs each of c's warnings at level Warn.
func (c *Config) LogWarnings(log *slog.Logger) {
	for _, w := range c.Warnings {
		log.Warn("hub config warning", "file", w.File, "pos", w.Pos.String(),
			"key", w.Key, "reason", w.Message)
	}
}
