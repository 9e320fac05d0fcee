package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// hubTokenCacheAge is how long the hub's reply about a token is reused,
// the default cache_max_age of JupyterHub's HubAuth. A token the hub revokes
// keeps working here for at most this long. A hub logout ends sooner,
// because it changes the browser's jupyterhub-session-id cookie, which is
// part of the cache key.
const hubTokenCacheAge = 300 * time.Second

// hubDeniedCacheAge is how long a reply that gives a token no access to
// this server is reused: a token the hub does not know, or a user outside
// the access scopes. It is short so that access given again, such as a
// renewed share, works within seconds. A tab that keeps retrying without
// access then sends the hub one request per interval.
const hubDeniedCacheAge = 20 * time.Second

// hubTokenCacheSize is the maximum number of cached token replies.
const hubTokenCacheSize = 4096

// hubAuth is the identity provider of single-user mode. A request
// authenticates with a hub token: in the Authorization header, in ?token=
// (on WebSocket upgrades, or everywhere with AllowTokenInURL), or in the
// OAuth cookie that the OAuth flow with the hub sets. The hub identifies
// the token's owner, who is let in when their scopes cover one of the
// access scopes. It is safe for concurrent use.
type hubAuth struct {
	cfg    *HubConfig
	client *hubClient
	log    *slog.Logger
	key    []byte // signs cookies and XSRF tokens
	cache  *tokenCache
	now    func() time.Time
	// sockets are the open WebSockets, by the token that opened them.
	sockets hubSockets
	// version is the hub's version, learned at start, which every response
	// carries in X-JupyterHub-Version.
	version atomic.Pointer[string]
}

// newHubAuth returns the hub identity provider. Its signing key comes from
// the cookie secret and the server's API token, so cookies of an earlier
// server of the same user stop working when the hub starts a new one.
func newHubAuth(cfg *HubConfig, secret []byte, log *slog.Logger) *hubAuth {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("jupygo hub cookie\x00"))
	mac.Write([]byte(cfg.ClientID + "\x00"))
	mac.Write([]byte(cfg.APIToken))
	return &hubAuth{
		cfg:    cfg,
		client: newHubClient(cfg, log),
		log:    log,
		key:    mac.Sum(nil),
		cache:  newTokenCache(hubTokenCacheAge, hubTokenCacheSize),
		now:    time.Now,
	}
}

// authenticate identifies the hub user behind r. A token in the request
// comes first; when the hub does not accept it, the OAuth cookie is tried,
// as JupyterHub's HubAuth does. A known user whose scopes do not cover the
// access scopes gets a 403 error; an unreachable hub a 502.
func (a *hubAuth) authenticate(w http.ResponseWriter, r *http.Request) (credentials, error) {
	if token, fromURL := a.requestToken(r); token != "" {
		user, checked, err := a.userFor(r, token)
		if err != nil {
			return credentials{}, err
		}
		if user != nil {
			if err := a.checkAccess(user); err != nil {
				return credentials{}, err
			}
			if fromURL && a.cfg.AllowTokenInURL && isPageRequest(r) {
				// Later requests of the page carry no token, so the browser
				// keeps it in the OAuth cookie, as JupyterHub does.
				a.setTokenCookie(w, r, token)
				cred := cookieCredentials(user, token, checked)
				cred.method = authToken
				return cred, nil
			}
			return credentials{method: authToken, user: user, token: token, checked: checked}, nil
		}
	}

	token, ok := a.cookieToken(r)
	if !ok || (isWebSocket(r) && !a.cfg.AllowWebSocketCookieAuth) {
		return credentials{}, nil
	}
	user, checked, err := a.userFor(r, token)
	if err != nil {
		return credentials{}, err
	}
	if user == nil {
		a.log.Info("hub no longer accepts the token of an OAuth cookie", "remote", r.RemoteAddr)
		a.clearTokenCookie(w, r)
		return credentials{}, nil
	}
	if err := a.checkAccess(user); err != nil {
		return credentials{}, err
	}
	return cookieCredentials(user, token, checked), nil
}

// cookieCredentials returns the credentials of a cookie session that holds
// token, which the hub accepted at checked.
func cookieCredentials(user *hubUser, token string, checked time.Time) credentials {
	return credentials{method: authCookie, session: tokenSession(token), user: user, token: token,
		checked: checked}
}

// requestToken returns the token that r carries in its Authorization header
// or, where allowed, its token query parameter.
func (a *hubAuth) requestToken(r *http.Request) (token string, fromURL bool) {
	token, fromURL = requestToken(r)
	if fromURL && !isWebSocket(r) && !a.cfg.AllowTokenInURL {
		return "", false
	}
	return token, fromURL
}

// userFor returns the owner of token, or nil when the hub rejects the
// token, and the time of the request to the hub. A cached reply that gives
// access to this server is reused for hubTokenCacheAge, and one that does
// not for hubDeniedCacheAge. A reply from before the hub's last rejection
// of the token for open WebSockets is not reused, because their clients
// would reconnect on it.
func (a *hubAuth) userFor(r *http.Request, token string) (*hubUser, time.Time, error) {
	now := a.now()
	rejected := a.sockets.rejectedAt(token)
	usable := func(e tokenCacheEntry) bool {
		if !rejected.IsZero() && !e.at.After(rejected) {
			return false
		}
		return a.hasAccess(e.user) || now.Sub(e.at) < hubDeniedCacheAge
	}
	e, err := a.cache.lookup(r.Context(), a.cacheKey(r, token), now, usable,
		func(ctx context.Context) (*hubUser, error) {
			return a.client.userForToken(ctx, token)
		})
	if err != nil {
		return nil, time.Time{}, httpapi.Wrap(http.StatusBadGateway, err,
			"cannot check the token with JupyterHub; try again later")
	}
	return e.user, e.at, nil
}

// cacheKey keys the token cache by the hub session cookie and the token's
// hash, as JupyterHub does, so a hub logout (which ends the session) makes
// the next request ask the hub again.
func (a *hubAuth) cacheKey(r *http.Request, token string) string {
	session := ""
	if c, err := r.Cookie("jupyterhub-session-id"); err == nil {
		session = c.Value
	}
	sum := sha256.Sum256([]byte(token))
	return session + ":" + hex.EncodeToString(sum[:])
}

// checkAccess returns a 403 error unless the user's scopes cover one of the
// access scopes.
func (a *hubAuth) checkAccess(user *hubUser) error {
	if a.hasAccess(user) {
		return nil
	}
	kind := user.Kind
	if kind == "" {
		kind = "user"
	}
	a.log.Debug("hub user lacks the access scopes", "user", user.Name, "kind", kind,
		"scopes", user.Scopes, "access_scopes", a.cfg.AccessScopes)
	return httpapi.Errorf(http.StatusForbidden, "%s %s is not allowed to access this server",
		kind, user.Name)
}

// hasAccess reports whether user, which may be nil, has one of the access
// scopes.
func (a *hubAuth) hasAccess(user *hubUser) bool {
	return user != nil && len(grantedScopes(a.cfg.AccessScopes, user.Scopes)) > 0
}

// challenge answers a request without credentials: a page request starts
// the OAuth flow with the hub, anything else gets a 403.
func (a *hubAuth) challenge(w http.ResponseWriter, r *http.Request) {
	if isPageRequest(r) {
		a.startLogin(w, r, a.requestURL(r))
		return
	}
	httpapi.WriteError(a.log, w, r, httpapi.Errorf(http.StatusForbidden, "Forbidden"))
}

// requestURL returns the path and query of r as the browser sent them,
// with the service prefix that routing removed.
func (a *hubAuth) requestURL(r *http.Request) string {
	u := a.cfg.ServicePrefix + strings.TrimPrefix(r.URL.EscapedPath(), "/")
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	return u
}

// tokenSession returns the session id of a cookie session, which binds its
// XSRF token to the OAuth token the cookie holds.
func tokenSession(token string) string {
	sum := sha256.Sum256([]byte("session\x00" + token))
	return hex.EncodeToString(sum[:16])
}

func (a *hubAuth) sign(parts ...string) []byte {
	mac := hmac.New(sha256.New, a.key)
	for _, p := range parts {
		mac.Write([]byte(p))
		mac.Write([]byte{0})
	}
	return mac.Sum(nil)
}

// xsrfToken returns the XSRF token of a cookie session.
func (a *hubAuth) xsrfToken(session string) string {
	return hex.EncodeToString(a.sign("xsrf", session)[:20])
}

// setXSRFCookie sets the _xsrf cookie, readable by scripts on purpose. It
// is Secure under the same rule as the OAuth cookie.
func (a *hubAuth) setXSRFCookie(w http.ResponseWriter, r *http.Request, value string) {
	c := a.newCookie(r, "_xsrf", value, a.cfg.ServicePrefix)
	c.HttpOnly = false
	http.SetCookie(w, c)
}

// identity returns the /api/me identity of a hub user: the display name
// that the hub sends, else the hub name, with initials taken from it, and
// the avatar URL when it is an absolute http or https URL.
func (u *hubUser) identity() identity {
	display := strings.TrimSpace(u.DisplayName)
	if display == "" {
		display = u.Name
	}
	id := identity{
		Username:    u.Name,
		Name:        display,
		DisplayName: display,
		Initials:    initials(display),
	}
	if avatar, err := url.Parse(u.AvatarURL); err == nil && avatar.Host != "" &&
		(avatar.Scheme == "https" || avatar.Scheme == "http") {
		avatarURL := u.AvatarURL
		id.AvatarURL = &avatarURL
	}
	return id
}

// hubPageConfig returns the page config keys of single-user mode: the hub's
// prefix and host, the user and the server's name, which JupyterLab's hub
// extension reads for its Hub menu. The key token is the user's hub token,
// which JupyterLab sends in the Authorization header of its API requests.
func (s *Server) hubPageConfig(r *http.Request) map[string]any {
	if s.hub == nil {
		return nil
	}
	cred := requestCredentials(r.Context())
	user := ""
	if cred.user != nil {
		user = cred.user.Name
	}
	cfg := s.hub.cfg
	return map[string]any{
		"hubUser":       user,
		"hubServerUser": cfg.User,
		"hubPrefix":     cfg.HubPrefix,
		"hubHost":       cfg.HubHost,
		"hubServerName": cfg.ServerName,
		"shareUrl":      cfg.HubPrefix + "user-redirect",
		"token":         cred.token,
	}
}
