package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// HubConfig holds the settings of single-user mode, in which JupyterHub (or
// jupygo hub) starts the server for one of its users. The hub passes them in
// JUPYTERHUB_* environment variables, which HubConfigFromEnv reads. With a
// HubConfig the server takes its address and base URL from it, has no token
// of its own and lets in only people the hub identifies through OAuth 2.
type HubConfig struct {
	// APIToken is the server's own hub token (JUPYTERHUB_API_TOKEN). It
	// authenticates activity reports and is the OAuth client secret.
	APIToken string
	// APIURL is the hub's REST API (JUPYTERHUB_API_URL), such as
	// http://127.0.0.1:8081/hub/api, without a trailing slash.
	APIURL string
	// ActivityURL receives activity reports (JUPYTERHUB_ACTIVITY_URL); ""
	// turns them off.
	ActivityURL string
	// ActivityInterval is the time between activity reports
	// (JUPYTERHUB_ACTIVITY_INTERVAL, in seconds, default 300); 0 turns them
	// off.
	ActivityInterval time.Duration
	// HubPrefix is the hub's own URL prefix, JUPYTERHUB_BASE_URL followed by
	// "hub/", such as /hub/.
	HubPrefix string
	// HubHost is the scheme and host of the hub's public URL (JUPYTERHUB_HOST),
	// "" unless the hub serves users on subdomains. It prefixes the URLs of
	// the hub's pages that browsers are sent to.
	HubHost string
	// ServiceURL is the URL the hub reaches this server at
	// (JUPYTERHUB_SERVICE_URL). The server listens on its host and port; port
	// 0 picks a free port.
	ServiceURL *url.URL
	// ServicePrefix is the path prefix of every URL of the server
	// (JUPYTERHUB_SERVICE_PREFIX), such as /user/alice/, with slashes at both
	// ends.
	ServicePrefix string
	// ClientID is the server's OAuth client id (JUPYTERHUB_CLIENT_ID). It
	// also names the cookie that holds a browser's OAuth token.
	ClientID string
	// OAuthCallbackURL is the redirect_uri of the OAuth flow
	// (JUPYTERHUB_OAUTH_CALLBACK_URL), default ServicePrefix + oauth_callback.
	OAuthCallbackURL string
	// AccessScopes are the scopes that let a user in
	// (JUPYTERHUB_OAUTH_ACCESS_SCOPES, a JSON list): a user needs at least
	// one of them. The default is access to this server and to all of
	// User's servers.
	AccessScopes []string
	// User is the name of the server's owner (JUPYTERHUB_USER).
	User string
	// ServerName is the server's name, "" for the default server
	// (JUPYTERHUB_SERVER_NAME).
	ServerName string
	// PublicURL is the server's public URL when the hub sets it
	// (JUPYTERHUB_PUBLIC_URL, hub 5.0 and later); an https URL makes the
	// cookies Secure.
	PublicURL string
	// DefaultURL is the redirect target of the server's root
	// (JUPYTERHUB_DEFAULT_URL, relative to ServicePrefix), default /lab.
	DefaultURL string
	// RootDir is the folder to serve (JUPYTERHUB_ROOT_DIR), "" for the
	// server's default.
	RootDir string
	// AllowTokenInURL accepts ?token= on requests other than WebSocket
	// upgrades and keeps such a token in the OAuth cookie
	// (JUPYTERHUB_ALLOW_TOKEN_IN_URL, default off as in JupyterHub 5). A
	// link with a token logs anyone who opens it in as the token's owner.
	AllowTokenInURL bool
	// AllowWebSocketCookieAuth accepts the OAuth cookie on WebSocket
	// upgrades (JUPYTERHUB_ALLOW_WEBSOCKET_COOKIE_AUTH, default on).
	// JupyterLab's kernel sockets authenticate only with the cookie.
	AllowWebSocketCookieAuth bool
	// CookieHostPrefix names the OAuth cookie __Host-<ClientID> with path /
	// (JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED), which browsers accept only
	// over https.
	CookieHostPrefix bool
	// CookieOptions adjust the OAuth cookie (JUPYTERHUB_COOKIE_OPTIONS).
	CookieOptions CookieOptions
}

// CookieOptions are the cookie attributes a hub operator may set through
// JUPYTERHUB_COOKIE_OPTIONS, a JSON object with the keyword arguments of
// Tornado's set_cookie. The keys read are secure, samesite, domain and
// expires_days; others are rejected.
type CookieOptions struct {
	// Secure forces the Secure attribute, for https deployments whose
	// proxy does not send X-Forwarded-Proto.
	Secure bool
	// SameSite is Lax, Strict or None; "" means Lax.
	SameSite string
	// Domain is the cookie's Domain attribute, "" for the request host.
	Domain string
	// MaxAge is the cookie's lifetime, 0 for a session cookie.
	MaxAge time.Duration
}

// hubEnvMarkers are the variables whose presence turns single-user mode on.
var hubEnvMarkers = []string{
	"JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN", "JUPYTERHUB_SERVICE_URL", "JUPYTERHUB_CLIENT_ID",
}

// defaultActivityInterval is JUPYTERHUB_ACTIVITY_INTERVAL's default, the
// interval jupyterhub-singleuser uses.
const defaultActivityInterval = 300 * time.Second

// HubConfigFromEnv reads the single-user settings from the environment
// through getenv (os.Getenv in production). It returns nil and no error when
// none of JUPYTERHUB_API_TOKEN, JPY_API_TOKEN, JUPYTERHUB_SERVICE_URL and
// JUPYTERHUB_CLIENT_ID is set, and an error that names the variable when a
// required one is missing or a value is invalid.
func HubConfigFromEnv(getenv func(string) string) (*HubConfig, error) {
	present := false
	for _, name := range hubEnvMarkers {
		present = present || getenv(name) != ""
	}
	if !present {
		return nil, nil
	}
	var errs []error
	c := &HubConfig{
		APIToken:                 firstNonEmpty(getenv("JUPYTERHUB_API_TOKEN"), getenv("JPY_API_TOKEN")),
		ActivityURL:              getenv("JUPYTERHUB_ACTIVITY_URL"),
		HubHost:                  strings.TrimSuffix(getenv("JUPYTERHUB_HOST"), "/"),
		ClientID:                 getenv("JUPYTERHUB_CLIENT_ID"),
		User:                     getenv("JUPYTERHUB_USER"),
		ServerName:               getenv("JUPYTERHUB_SERVER_NAME"),
		PublicURL:                getenv("JUPYTERHUB_PUBLIC_URL"),
		DefaultURL:               getenv("JUPYTERHUB_DEFAULT_URL"),
		RootDir:                  expandHome(getenv("JUPYTERHUB_ROOT_DIR")),
		AllowTokenInURL:          envBool(getenv("JUPYTERHUB_ALLOW_TOKEN_IN_URL"), false),
		AllowWebSocketCookieAuth: envBool(getenv("JUPYTERHUB_ALLOW_WEBSOCKET_COOKIE_AUTH"), true),
		CookieHostPrefix:         envBool(getenv("JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED"), false),
	}
	if c.APIToken == "" {
		errs = append(errs, errors.New("JUPYTERHUB_API_TOKEN is not set"))
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("JUPYTERHUB_CLIENT_ID is not set"))
	} else if !validCookieName(c.ClientID) {
		errs = append(errs, fmt.Errorf("JUPYTERHUB_CLIENT_ID %q cannot name a cookie", c.ClientID))
	}
	errs = append(errs, c.readURLs(getenv)...)
	errs = append(errs, c.readScopes(getenv)...)

	interval, err := parseActivityInterval(getenv("JUPYTERHUB_ACTIVITY_INTERVAL"))
	errs = append(errs, err)
	c.ActivityInterval = interval
	c.CookieOptions, err = parseCookieOptions(getenv("JUPYTERHUB_COOKIE_OPTIONS"))
	errs = append(errs, err)

	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("reading the JupyterHub environment: %w", err)
	}
	return c, nil
}

// readURLs fills the URL settings and returns the problems found.
func (c *HubConfig) readURLs(getenv func(string) string) []error {
	var errs []error
	api := strings.TrimSuffix(getenv("JUPYTERHUB_API_URL"), "/")
	if api == "" {
		errs = append(errs, errors.New("JUPYTERHUB_API_URL is not set"))
	} else if err := checkHTTPURL(api); err != nil {
		errs = append(errs, fmt.Errorf("JUPYTERHUB_API_URL: %w", err))
	}
	c.APIURL = api
	if c.ActivityURL != "" {
		if err := checkHTTPURL(c.ActivityURL); err != nil {
			errs = append(errs, fmt.Errorf("JUPYTERHUB_ACTIVITY_URL: %w", err))
		}
	}

	service := getenv("JUPYTERHUB_SERVICE_URL")
	if service == "" {
		errs = append(errs, errors.New("JUPYTERHUB_SERVICE_URL is not set"))
	} else if u, err := parseServiceURL(service); err != nil {
		errs = append(errs, fmt.Errorf("JUPYTERHUB_SERVICE_URL: %w", err))
	} else {
		c.ServiceURL = u
	}

	prefix, err := canonicalBaseURL(getenv("JUPYTERHUB_SERVICE_PREFIX"))
	if err != nil {
		errs = append(errs, fmt.Errorf("JUPYTERHUB_SERVICE_PREFIX: %w", err))
	}
	c.ServicePrefix = prefix
	hubBase, err := canonicalBaseURL(getenv("JUPYTERHUB_BASE_URL"))
	if err != nil {
		errs = append(errs, fmt.Errorf("JUPYTERHUB_BASE_URL: %w", err))
	}
	c.HubPrefix = hubBase + "hub/"
	c.OAuthCallbackURL = getenv("JUPYTERHUB_OAUTH_CALLBACK_URL")
	if c.OAuthCallbackURL == "" {
		c.OAuthCallbackURL = c.ServicePrefix + "oauth_callback"
	}
	if c.HubHost != "" {
		if err := checkHTTPURL(c.HubHost); err != nil {
			errs = append(errs, fmt.Errorf("JUPYTERHUB_HOST: %w", err))
		}
	}
	if c.DefaultURL != "" && (!strings.HasPrefix(c.DefaultURL, "/") ||
		strings.HasPrefix(c.DefaultURL, "//") || strings.ContainsAny(c.DefaultURL, "\\\r\n")) {
		errs = append(errs, fmt.Errorf(
			"JUPYTERHUB_DEFAULT_URL %q must be a path such as /lab", c.DefaultURL))
	}
	return errs
}

// readScopes fills AccessScopes from JUPYTERHUB_OAUTH_ACCESS_SCOPES, or the
// name hubs before 3.0 used, or the owner's default scopes.
func (c *HubConfig) readScopes(getenv func(string) string) []error {
	raw := firstNonEmpty(getenv("JUPYTERHUB_OAUTH_ACCESS_SCOPES"), getenv("JUPYTERHUB_OAUTH_SCOPES"))
	if raw == "" {
		if c.User == "" {
			return []error{errors.New(
				"JUPYTERHUB_OAUTH_ACCESS_SCOPES and JUPYTERHUB_USER are both unset: " +
					"nobody could be allowed in")}
		}
		c.AccessScopes = []string{
			"access:servers!server=" + c.User + "/" + c.ServerName,
			"access:servers!user=" + c.User,
		}
		return nil
	}
	if err := json.Unmarshal([]byte(raw), &c.AccessScopes); err != nil {
		return []error{fmt.Errorf("JUPYTERHUB_OAUTH_ACCESS_SCOPES is not a JSON list of strings: %w", err)}
	}
	return nil
}

// parseServiceURL parses JUPYTERHUB_SERVICE_URL and fills in the port its
// scheme implies.
func parseServiceURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "http":
	case "https":
		// NOTE: internal SSL needs the JUPYTERHUB_SSL_* certificates, which
		// the server cannot load yet.
		return nil, fmt.Errorf("%q asks for https, and internal SSL is not supported yet", s)
	default:
		return nil, fmt.Errorf("%q is not an http URL", s)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "80")
	} else if _, err := strconv.ParseUint(u.Port(), 10, 16); err != nil {
		return nil, fmt.Errorf("%q has an invalid port", s)
	}
	return u, nil
}

// checkHTTPURL returns an error unless s is an absolute http or https URL.
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http or https URL", s)
	}
	return nil
}

// parseActivityInterval parses JUPYTERHUB_ACTIVITY_INTERVAL, a whole number
// of seconds.
func parseActivityInterval(s string) (time.Duration, error) {
	if s == "" {
		return defaultActivityInterval, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 1<<31 {
		return 0, fmt.Errorf("JUPYTERHUB_ACTIVITY_INTERVAL %q is not a number of seconds", s)
	}
	return time.Duration(n) * time.Second, nil
}

// parseCookieOptions parses JUPYTERHUB_COOKIE_OPTIONS.
func parseCookieOptions(s string) (CookieOptions, error) {
	var opts CookieOptions
	if strings.TrimSpace(s) == "" {
		return opts, nil
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return opts, fmt.Errorf("JUPYTERHUB_COOKIE_OPTIONS is not a JSON object: %w", err)
	}
	var errs []error
	for key, value := range raw {
		if err := opts.set(strings.ToLower(key), value); err != nil {
			errs = append(errs, fmt.Errorf("JUPYTERHUB_COOKIE_OPTIONS: %w", err))
		}
	}
	return opts, errors.Join(errs...)
}

// set applies one key of JUPYTERHUB_COOKIE_OPTIONS.
func (o *CookieOptions) set(key string, value any) error {
	var ok bool
	switch key {
	case "secure":
		o.Secure, ok = value.(bool)
	case "samesite":
		o.SameSite, ok = value.(string)
		ok = ok && (strings.EqualFold(o.SameSite, "lax") ||
			strings.EqualFold(o.SameSite, "strict") || strings.EqualFold(o.SameSite, "none"))
	case "domain":
		o.Domain, ok = value.(string)
	case "expires_days":
		var days float64
		days, ok = value.(float64)
		ok = ok && days >= 0 && days < 1e5
		o.MaxAge = time.Duration(days * float64(24*time.Hour))
	default:
		return fmt.Errorf("key %q is not supported: use secure, samesite, domain or expires_days", key)
	}
	if !ok {
		return fmt.Errorf("invalid value %v for %q", value, key)
	}
	return nil
}

// envBool reads a boolean variable as JupyterHub does: "", "0" and "false"
// are false, other values true; unset gives def.
func envBool(s string, def bool) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return def
	case "0", "false", "no", "off":
		return false
	}
	return true
}

// validCookieName reports whether name is an RFC 6265 token, which a
// cookie name must be.
func validCookieName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) {
			return false
		}
	}
	return true
}

// expandHome replaces a leading ~ with the home folder.
func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// applyHub sets the fields that single-user mode takes from the hub: the
// address of the service URL, the service prefix, no port retries and no
// token of the server's own.
func (c *Config) applyHub() {
	h := c.Hub
	if h.ServiceURL != nil {
		c.IP = h.ServiceURL.Hostname()
		c.Port, _ = strconv.Atoi(h.ServiceURL.Port())
	}
	c.PortRetries = 0
	c.BaseURL = h.ServicePrefix
	c.Token = ""
	c.NoAuth = true // for the token authenticator; the hub authenticates instead
	if c.RootDir == "" {
		c.RootDir = h.RootDir
	}
}
