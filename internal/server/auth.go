package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// authMethod says how a request proved who it is. The checks that protect
// browsers (XSRF, WebSocket Origin, cross-site reads of files, exports and
// archives) apply only to cookie authentication, because a token has to be
// sent on purpose.
type authMethod int

const (
	authNone authMethod = iota
	authToken
	authCookie
	authOpen // the server runs without a token
)

// identityProvider decides who sends each request, as jupyter_server's
// IdentityProvider does. authenticator checks the server's token and its
// login cookie; hubAuth checks JupyterHub OAuth tokens with the hub.
type identityProvider interface {
	// authenticate returns the credentials r carries, with method authNone
	// when it carries none or invalid ones. It may set cookies on w, for
	// example to start a cookie session from a token in a page URL. An error
	// is an *httpapi.Error: the user is not allowed in, or the credentials
	// cannot be checked now.
	authenticate(w http.ResponseWriter, r *http.Request) (credentials, error)
	// challenge answers a request that carries no valid credentials: a page
	// request is sent to log in, any other request gets a 403.
	challenge(w http.ResponseWriter, r *http.Request)
	// xsrfToken returns the XSRF token of a cookie session.
	xsrfToken(session string) string
	// setXSRFCookie sets the _xsrf cookie that JupyterLab echoes, in the
	// response to r.
	setXSRFCookie(w http.ResponseWriter, r *http.Request, value string)
}

// credentials are what authentication found on a request.
type credentials struct {
	method authMethod
	// session is the id a cookie session's XSRF token is bound to, set when
	// the request belongs to a cookie session or starts one.
	session string
	// user and token are the hub user and their token in single-user mode,
	// nil and "" otherwise.
	user  *hubUser
	token string
	// checked is the time of the request to the hub about token. It is
	// before the request served when the reply came from the cache.
	checked time.Time
}

// cookieMaxAge is how long a login cookie stays valid.
const cookieMaxAge = 30 * 24 * time.Hour

// authenticator checks tokens and login cookies. Cookies are stateless: a
// cookie holds a random session id, its issue time and an HMAC over both,
// keyed with a key derived from the cookie secret and the token, so a server
// restarted with a new token rejects the old cookies.
type authenticator struct {
	token      string // "" disables authentication
	key        []byte
	cookieName string
	cookiePath string
	secure     bool
}

func newAuthenticator(token string, secret []byte, cookieName, cookiePath string) *authenticator {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("jupygo login cookie\x00"))
	mac.Write([]byte(token))
	return &authenticator{
		token:      token,
		key:        mac.Sum(nil),
		cookieName: cookieName,
		cookiePath: cookiePath,
	}
}

// checkToken reports whether t is the server's token, in constant time.
func (a *authenticator) checkToken(t string) bool {
	if a.token == "" || t == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(t), []byte(a.token)) == 1
}

// requestToken returns the token a request carries in its Authorization
// header (schemes "token" and "bearer", as jupyter_server accepts) or in its
// token query parameter, and whether it came from the query.
func requestToken(r *http.Request) (token string, fromQuery bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, value, ok := strings.Cut(h, " ")
		if ok && (strings.EqualFold(scheme, "token") || strings.EqualFold(scheme, "bearer")) {
			return strings.TrimSpace(value), false
		}
	}
	if t := r.URL.Query().Get("token"); t != "" {
		return t, true
	}
	return "", false
}

// authenticate returns how r is authenticated and, for cookie sessions, the
// session id. A page request with the token in its URL starts a cookie
// session: the first visit carries ?token=, and JupyterLab's own requests
// carry no token.
func (a *authenticator) authenticate(w http.ResponseWriter, r *http.Request) (credentials, error) {
	if a.token == "" {
		return credentials{method: authOpen, session: "open"}, nil
	}
	if t, fromQuery := requestToken(r); t != "" {
		if !a.checkToken(t) {
			return credentials{}, nil
		}
		if fromQuery && isPageRequest(r) {
			// The request itself stays token-authenticated, which exempts
			// it from the browser checks, as the token was sent on purpose.
			return credentials{method: authToken, session: a.setLoginCookie(w)}, nil
		}
		return credentials{method: authToken}, nil
	}
	if c, err := r.Cookie(a.cookieName); err == nil {
		if sid, ok := a.verifyCookie(c.Value, time.Now()); ok {
			return credentials{method: authCookie, session: sid}, nil
		}
	}
	return credentials{}, nil
}

// challenge redirects a page request, /files/ included, to the login page
// with its path and query in next, as jupyter_server's @authenticated
// handlers do, and rejects any other request with a JSON 403.
func (a *authenticator) challenge(w http.ResponseWriter, r *http.Request) {
	base := a.cookiePath
	if isPageRequest(r) {
		next := base + strings.TrimPrefix(r.URL.EscapedPath(), "/")
		// The query goes along, so that ?download=1 or ?reset still hold
		// after the login, but a wrong token does not.
		q := r.URL.Query()
		q.Del("token")
		if len(q) > 0 {
			next += "?" + q.Encode()
		}
		http.Redirect(w, r, base+"login?next="+queryEscape(next), http.StatusFound)
		return
	}
	_ = httpapi.WriteJSON(w, http.StatusForbidden, map[string]any{"message": "Forbidden", "reason": nil})
}

func (a *authenticator) sign(parts ...string) []byte {
	mac := hmac.New(sha256.New, a.key)
	for _, p := range parts {
		mac.Write([]byte(p))
		mac.Write([]byte{0})
	}
	return mac.Sum(nil)
}

// newCookieValue returns a signed cookie value for a new session.
func (a *authenticator) newCookieValue(now time.Time) string {
	var raw [24]byte
	rand.Read(raw[:16])
	binary.BigEndian.PutUint64(raw[16:], uint64(now.Unix()))
	payload := base64.RawURLEncoding.EncodeToString(raw[:])
	sig := base64.RawURLEncoding.EncodeToString(a.sign("cookie", payload))
	return payload + "." + sig
}

// verifyCookie checks a cookie value's signature and age and returns its
// session id.
func (a *authenticator) verifyCookie(value string, now time.Time) (string, bool) {
	payload, sig, ok := strings.Cut(value, ".")
	if !ok {
		return "", false
	}
	want := base64.RawURLEncoding.EncodeToString(a.sign("cookie", payload))
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || len(raw) != 24 {
		return "", false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(raw[16:])), 0)
	if now.Sub(issued) > cookieMaxAge || issued.After(now.Add(time.Minute)) {
		return "", false
	}
	return payload, true
}

// setLoginCookie starts a cookie session on w and returns its session id.
func (a *authenticator) setLoginCookie(w http.ResponseWriter) string {
	value := a.newCookieValue(time.Now())
	http.SetCookie(w, &http.Cookie{
		Name:     a.cookieName,
		Value:    value,
		Path:     a.cookiePath,
		MaxAge:   int(cookieMaxAge / time.Second),
		HttpOnly: true,
		Secure:   a.secure,
		SameSite: http.SameSiteLaxMode,
	})
	sid, _, _ := strings.Cut(value, ".")
	return sid
}

func (a *authenticator) clearLoginCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: a.cookieName, Value: "", Path: a.cookiePath, MaxAge: -1,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode,
	})
}

// xsrfToken returns the XSRF token that a new cookie session's _xsrf
// cookie gets.
func (a *authenticator) xsrfToken(sessionID string) string {
	return hex.EncodeToString(a.sign("xsrf", sessionID)[:20])
}

// setXSRFCookie sets the _xsrf cookie that JupyterLab echoes in the
// X-XSRFToken header. It is readable by scripts on purpose.
func (a *authenticator) setXSRFCookie(w http.ResponseWriter, _ *http.Request, value string) {
	http.SetCookie(w, &http.Cookie{
		Name: "_xsrf", Value: value, Path: a.cookiePath,
		Secure: a.secure, SameSite: http.SameSiteLaxMode,
	})
}

// requestXSRF returns the XSRF token a request sends: the X-XSRFToken header,
// an _xsrf form field or query parameter.
func requestXSRF(r *http.Request) string {
	if v := r.Header.Get("X-XSRFToken"); v != "" {
		return v
	}
	if v := r.Header.Get("X-CSRFToken"); v != "" {
		return v
	}
	if r.Method == http.MethodPost &&
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if v := r.PostFormValue("_xsrf"); v != "" {
			return v
		}
	}
	return r.URL.Query().Get("_xsrf")
}

// checkXSRF reports whether r sends back, in a header, form field or query
// parameter, the value of its own _xsrf cookie. This is the double-submit
// check of jupyter_server: another site can send the cookie but cannot read
// it. The value is not tied to this server, because the _xsrf cookie is
// shared by every server on the host (cookies do not tell ports apart) and
// two servers in one browser must not lock each other out. Pages of those
// other ports could read the cookie, so what stops them is the Origin check
// of crossOrigin, which runs first.
func checkXSRF(r *http.Request) bool {
	got := requestXSRF(r)
	c, err := r.Cookie("_xsrf")
	return got != "" && err == nil && subtle.ConstantTimeCompare([]byte(got), []byte(c.Value)) == 1
}

// isSafeMethod reports whether a method is read-only by HTTP's definition.
func isSafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// sameOrigin reports whether the browser marks r as coming from a page of
// this server, by Sec-Fetch-Site, or else by an Origin or Referer whose host
// is the request's Host. A request that carries none of them is not same-origin.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin":
		return true
	case "cross-site", "same-site":
		return false
	}
	for _, h := range []string{"Origin", "Referer"} {
		v := r.Header.Get(h)
		if v == "" || v == "null" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil {
			return false
		}
		return strings.EqualFold(u.Host, r.Host)
	}
	return false
}

// crossOrigin reports whether a browser sent r from a page of another
// origin: its Origin header names another host, or is "null" (sandboxed
// frames and opaque origins), or, for an unsafe method, Sec-Fetch-Site marks
// the page as not of this origin. Requests without these headers come from
// programs, not from pages, and pass. Another port of the same host is
// another origin: its pages receive this server's cookies, since cookies
// ignore ports, which is why this check matters more than the XSRF token.
func crossOrigin(r *http.Request) bool {
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
			return true
		}
	}
	if isSafeMethod(r.Method) {
		return false // following a link from another site is fine
	}
	site := r.Header.Get("Sec-Fetch-Site")
	return site == "cross-site" || site == "same-site"
}

// websocketOriginAllowed reports whether a WebSocket upgrade's Origin may
// open a socket: no Origin (a program, not a browser) or this server's host.
func websocketOriginAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// isWebSocket reports whether r requests an upgrade to a WebSocket.
func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}
