package hub

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Cookie names, as JupyterHub names them, so that single-user servers and
// tools that look for them find them.
const (
	loginCookie   = "jupyterhub-hub-login"
	sessionCookie = "jupyterhub-session-id"
)

// loginMaxAge is how long a login cookie stays valid, JupyterHub's
// cookie_max_age_days default of 14 days.
const loginMaxAge = 14 * 24 * time.Hour

// sessions signs and checks the hub's cookies. A login cookie carries the
// user's cookie ID (which the store can rotate to end every session of the
// user), the session ID and the issue time, with an HMAC over them. The
// session ID also names the session in jupyterhub-session-id and in the
// OAuth tokens issued through it, so logging out revokes those tokens.
type sessions struct {
	key  []byte
	base string // cookie path of jupyterhub-session-id
	path string // cookie path of the login cookie, base + "hub/"
	now  func() time.Time
}

func newSessions(secret []byte, base string, now func() time.Time) *sessions {
	return &sessions{key: deriveKey(secret, "login cookie"), base: base, path: base + "hub/",
		now: now}
}

// deriveKey returns a key for one purpose, so that no two uses of the
// cookie secret share a key.
func deriveKey(secret []byte, purpose string) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("jupygo hub\x00" + purpose))
	return mac.Sum(nil)
}

// login is the content of a valid login cookie.
type login struct {
	cookieID  string
	sessionID string
}

func (s *sessions) sign(parts ...string) string {
	mac := hmac.New(sha256.New, s.key)
	for _, p := range parts {
		mac.Write([]byte(p))
		mac.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// setLogin sets the login cookie of a new session and the session ID
// cookie.
func (s *sessions) setLogin(w http.ResponseWriter, r *http.Request, cookieID, sessionID string) {
	issued := strconv.FormatInt(s.now().Unix(), 10)
	value := strings.Join([]string{
		base64.RawURLEncoding.EncodeToString([]byte(cookieID)), sessionID, issued,
		s.sign(cookieID, sessionID, issued),
	}, ".")
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: value, Path: s.path,
		MaxAge: int(loginMaxAge / time.Second), HttpOnly: true, Secure: isHTTPS(r),
		SameSite: http.SameSiteLaxMode})
	s.setSessionID(w, r, sessionID)
}

// readLogin returns the login of a valid, unexpired login cookie.
func (s *sessions) readLogin(r *http.Request) (login, bool) {
	c, err := r.Cookie(loginCookie)
	if err != nil {
		return login{}, false
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 4 {
		return login{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return login{}, false
	}
	cookieID, sessionID, issued := string(raw), parts[1], parts[2]
	want := s.sign(cookieID, sessionID, issued)
	if subtle.ConstantTimeCompare([]byte(want), []byte(parts[3])) != 1 {
		return login{}, false
	}
	t, err := strconv.ParseInt(issued, 10, 64)
	if err != nil || s.now().Sub(time.Unix(t, 0)) > loginMaxAge {
		return login{}, false
	}
	return login{cookieID: cookieID, sessionID: sessionID}, true
}

// clear removes the login and session cookies.
func (s *sessions) clear(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: s.path, MaxAge: -1,
		HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: s.base, MaxAge: -1,
		HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode})
}

func (s *sessions) setSessionID(w http.ResponseWriter, r *http.Request, id string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: s.base,
		HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode})
}

// browserSession returns the session ID of the browser: the one of its
// login cookie, else its session ID cookie. When it has neither, it sets
// a new session ID cookie, so that the login form has an XSRF token to
// check.
func (s *sessions) browserSession(w http.ResponseWriter, r *http.Request) string {
	if l, ok := s.readLogin(r); ok {
		return l.sessionID
	}
	if c, err := r.Cookie(sessionCookie); err == nil && validSessionID(c.Value) {
		return c.Value
	}
	id := newSessionID()
	s.setSessionID(w, r, id)
	// Later reads in this request see the new cookie.
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: id})
	return id
}

// xsrfToken returns the XSRF token of a session: an HMAC of its ID, so a
// token works only with the session it was made for.
func (s *sessions) xsrfToken(sessionID string) string {
	return s.sign("xsrf", sessionID)
}

// checkXSRF reports whether token is the XSRF token of the browser's
// session.
func (s *sessions) checkXSRF(r *http.Request, token string) bool {
	sessionID := ""
	if l, ok := s.readLogin(r); ok {
		sessionID = l.sessionID
	} else if c, err := r.Cookie(sessionCookie); err == nil {
		sessionID = c.Value
	}
	if sessionID == "" || token == "" {
		return false
	}
	want := s.xsrfToken(sessionID)
	return subtle.ConstantTimeCompare([]byte(want), []byte(token)) == 1
}

func newSessionID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// validSessionID reports whether id has the form newSessionID makes.
func validSessionID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// isHTTPS reports whether the browser reached the hub over https, which
// gives every cookie of the hub the Secure attribute. The hub trusts no
// X-Forwarded-Proto header for it.
func isHTTPS(r *http.Request) bool { return r.TLS != nil }
