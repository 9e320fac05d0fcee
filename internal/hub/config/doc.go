// Package config reads the hub's configuration file, a TOML file laid out
// like JupyterHub's Python configuration: one table per configurable class,
// with JupyterHub's trait names. The Python line
//
//	c.JupyterHub.port = 443
//
// is written
//
//	[JupyterHub]
//	port = 443
//
// and c.Authenticator.admin_users is admin_users under [Authenticator].
// Services and roles are arrays of tables, [[JupyterHub.services]] and
// [[JupyterHub.load_roles]]. Durations are numbers of seconds, as in
// JupyterHub. docs/hub-config.md, generated from Keys, lists every key
// with its type and default.
//
// # API
//
// Load reads a file and Parse parses bytes. Both return a *Config with every
// default applied, or an ErrorList. Load reads a file whose name ends in
// .py with ParsePython. It accepts a jupyterhub_config.py of the usual
// shape (imports of os and of classes, assignments of literals,
// os.environ, os.path.join) without running Python. Any other statement is
// an error at its line. Default returns the built-in
// configuration without reading the environment. Without a file, the hub
// calls Parse(nil, "") to get the defaults with the environment fallbacks.
//
// Keys describes every key: class, name, type, default and documentation.
// Lookup maps (class, trait) to a Key, and Build turns a list of Values into
// a Config. ParsePython produces Values and calls Build, so both formats
// share one key table and the same checks.
//
// # Classes
//
// A table of a subclass accepts the keys of its ancestors too, as traitlets
// does: [GitHubOAuthenticator] may set admin_users. Such a value wins over
// the same key under the ancestor's table when the chosen class is that
// subclass or inherits from it. Otherwise it is checked, ignored, and
// reported in Config.Warnings. Keys that a class defines itself, such as
// [GitHubOAuthenticator] allowed_organizations, are always kept.
//
// authenticator_class, spawner_class and proxy_class take a canonical name
// (the Authenticator*, Spawner* and Proxy* constants) or a JupyterHub name
// for the same class, such as "jupyterhub.auth.DummyAuthenticator" or
// "oauthenticator.LocalGitHubOAuthenticator", which ClassNames lists. The
// Config always holds the canonical name. An unknown name is an error at
// its line.
//
// # Defaults that differ from JupyterHub
//
//   - JupyterHub.ip is "127.0.0.1", not "" (all interfaces), so a new hub
//     is reachable from this machine only until ip or bind_url is set.
//   - authenticator_class is "local" (accounts kept in the hub's database),
//     not PAM. spawner_class is "simple", not "localprocess", unless
//     authenticator_class is "local-github". proxy_class is "builtin", not
//     configurable-http-proxy.
//   - Spawner.cmd is this binary with "server", and "jupyterhub-singleuser"
//     works too.
//   - SimpleLocalProcessSpawner.home_dir_template is "users/{username}"
//     under data_dir, not "/tmp/{username}", which other local users could
//     create first.
//   - data_dir is new: the folder that relative data paths (the SQLite file,
//     cookie_secret_file, home_dir_template) are relative to. Its default,
//     "jupygo-data", is a folder in the one the hub starts in, so the hub's
//     files stay together; JupyterHub keeps them in its working folder.
//
// # Cross-field defaults
//
// bind_url, when set, overrides ip, port and base_url (each one also set is
// reported as a warning). Otherwise it is built from them. Its scheme is
// https exactly when ssl_cert is set, as JupyterHub makes it, or
// acme_domains. After loading, BindURL, IP, Port and BaseURL agree, and
// BaseURL starts and ends with "/".
// allow_existing_users, when unset, is true exactly when allowed_users is
// not empty. allow_all, when unset, is true exactly when authenticator_class
// is dummy and allowed_users is empty, as in JupyterHub 5. A service's
// oauth_client_id defaults to "service-" + name.
//
// # Secrets
//
// Every secret key X (services' api_token, OAuthenticator.client_secret,
// DummyAuthenticator.password, ConfigurableHTTPProxy.auth_token,
// CryptKeeper.keys) also accepts X_file,
// the path of a file holding the value. The file is read at load and must
// be a regular file that neither group nor others may access (mode 0600 or
// stricter), and surrounding white space is dropped. A table that sets both X
// and X_file is an error. Some keys fall back to the environment variables
// that JupyterHub and oauthenticator read: JPY_COOKIE_SECRET,
// GITHUB_CLIENT_ID then OAUTH_CLIENT_ID, GITHUB_CLIENT_SECRET then
// OAUTH_CLIENT_SECRET, OAUTH_CALLBACK_URL, CONFIGPROXY_AUTH_TOKEN and
// JUPYTERHUB_CRYPT_KEY (keys separated by ";"). Precedence, highest first:
//
//  1. X or X_file in the file, a subclass table winning over its ancestors;
//  2. the environment variables, in the order given, skipping empty ones;
//  3. the default.
//
// cookie_secret_file is JupyterHub's own key and keeps its meaning: the
// hub reads the file, or creates it, at startup (ReadSecretFile checks its
// mode), so it is not read at load.
//
// Secret values have type Secret, whose String, LogValue and MarshalText
// hide them. Messages about them do not quote the value.
//
// # Errors
//
// A TOML syntax error is reported alone, with its line and column. After a
// file parses, every unknown table, unknown key, value of the wrong type and
// failed check is collected and returned together as an ErrorList sorted by
// position. Each *Error names the file, line, column and dotted key, such
// as "JupyterHub.services[1].api_token". Renamed JupyterHub keys
// (whitelist, blacklist) and near misses get a hint.
//
// The toml package (v1.6.0) exports no position per key, so positions come
// from a small scanner over the accepted document (positions.go). A key's
// position is that of its first character.
package config
