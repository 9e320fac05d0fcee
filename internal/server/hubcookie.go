package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The OAuth cookie contains the user's hub token, and each OAuth state
// cookie the state of one login in progress. Both are signed with the hub
// identity provider's key, so another site cannot plant one, for example
// through a sibling subdomain. The format is local to this server.

// oauthStateMaxAge is how long a login may take from the redirect to the
// hub until the callback, as in JupyterHub.
const oauthStateMaxAge = 10 * time.Minute

// maxStateCookies bounds the state cookies of concurrent logins; beyond it
// a new login reuses the first cookie's name.
const maxStateCookies = 10

// tokenCookieName returns the OAuth cookie's name: the client id, with the
// __Host- prefix when JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED is set.
func (a *hubAuth) tokenCookieName() string {
	if a.cfg.CookieHostPrefix {
		return "__Host-" + a.cfg.ClientID
	}
	return a.cfg.ClientID
}

func (a *hubAuth) tokenCookiePath() string {
	if a.cfg.CookieHostPrefix {
		return "/" // browsers require it of __Host- cookies
	}
	return a.cfg.ServicePrefix
}

func (a *hubAuth) stateCookieName() string { return a.cfg.ClientID + "-oauth-state" }

// isStateCookie reports whether name is one of the server's state cookies:
// the plain name or the plain name with a suffix.
func (a *hubAuth) isStateCookie(name string) bool {
	base := a.stateCookieName()
	return name == base || strings.HasPrefix(name, base+"-")
}

// newCookie returns an HttpOnly cookie with the attributes of the operator's
// cookie options. It is Secure when the browser reaches the server over
// https (r is nil when the request is unknown).
func (a *hubAuth) newCookie(r *http.Request, name, value, path string) *http.Cookie {
	opts := a.cfg.CookieOptions
	c := &http.Cookie{
		Name: name, Value: value, Path: path, Domain: opts.Domain,
		HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteLaxMode,
	}
	switch strings.ToLower(opts.SameSite) {
	case "strict":
		c.SameSite = http.SameSiteStrictMode
	case "none":
		c.SameSite = http.SameSiteNoneMode
	}
	if strings.HasPrefix(name, "__Host-") {
		c.Domain = ""
	}
	return c
}

// secure reports whether cookies need the Secure attribute: when the
// cookie options or the host prefix ask for it, when the public URL, the
// hub's host or the OAuth callback URL is https, or when the request came
// over https. The hub's proxy sets X-Forwarded-Proto and drops the
// client's own unless configured to trust it, so the header is trusted
// here, as jupyterhub-singleuser trusts it.
func (a *hubAuth) secure(r *http.Request) bool {
	if a.cfg.CookieOptions.Secure || a.cfg.CookieHostPrefix {
		return true
	}
	for _, u := range []string{a.cfg.PublicURL, a.cfg.HubHost, a.cfg.OAuthCallbackURL} {
		if len(u) >= 6 && strings.EqualFold(u[:6], "https:") {
			return true
		}
	}
	if r == nil {
		return false
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return r.TLS != nil || strings.EqualFold(strings.TrimSpace(proto), "https")
}

// encodeSigned returns payload with a signature bound to the cookie name.
func (a *hubAuth) encodeSigned(name, payload string) string {
	p := base64.RawURLEncoding.EncodeToString([]byte(payload))
	sig := base64.RawURLEncoding.EncodeToString(a.sign("cookie", name, p))
	return p + "." + sig
}

// decodeSigned checks a value made by encodeSigned for the same cookie name
// and returns its payload.
func (a *hubAuth) decodeSigned(name, value string) (string, bool) {
	p, sig, ok := strings.Cut(value, ".")
	if !ok {
		return "", false
	}
	want := base64.RawURLEncoding.EncodeToString(a.sign("cookie", name, p))
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return "", false
	}
	return string(payload), true
}

// setTokenCookie stores the user's hub token in the OAuth cookie.
func (a *hubAuth) setTokenCookie(w http.ResponseWriter, r *http.Request, token string) {
	name := a.tokenCookieName()
	payload := strconv.FormatInt(a.now().Unix(), 10) + "|" + token
	c := a.newCookie(r, name, a.encodeSigned(name, payload), a.tokenCookiePath())
	if age := a.cfg.CookieOptions.MaxAge; age > 0 {
		c.MaxAge = int(age / time.Second)
	}
	http.SetCookie(w, c)
}

func (a *hubAuth) clearTokenCookie(w http.ResponseWriter, r *http.Request) {
	c := a.newCookie(r, a.tokenCookieName(), "", a.tokenCookiePath())
	c.MaxAge = -1
	http.SetCookie(w, c)
}

// cookieToken returns the hub token of r's OAuth cookie when the cookie is
// valid and younger than cookieMaxAge.
func (a *hubAuth) cookieToken(r *http.Request) (string, bool) {
	name := a.tokenCookieName()
	c, err := r.Cookie(name)
	if err != nil {
		return "", false
	}
	payload, ok := a.decodeSigned(name, c.Value)
	if !ok {
		return "", false
	}
	issuedText, token, ok := strings.Cut(payload, "|")
	issued, err := strconv.ParseInt(issuedText, 10, 64)
	if !ok || err != nil || token == "" {
		return "", false
	}
	age := a.now().Sub(time.Unix(issued, 0))
	if age > cookieMaxAge || age < -time.Minute {
		return "", false
	}
	return token, true
}

// oauthState is the content of a state cookie: the state sent to the hub,
// the URL to return to, and the time the login started.
type oauthState struct {
	State  string `json:"state"`
	Next   string `json:"next"`
	Issued int64  `json:"iat"`
}

// startLogin sends the browser to the hub's authorize URL, with a new state
// remembered in a state cookie together with next, the URL to come back to.
// A browser that starts several logins at once gets one cookie per login.
func (a *hubAuth) startLogin(w http.ResponseWriter, r *http.Request, next string) {
	var raw [16]byte
	rand.Read(raw[:])
	st := oauthState{
		State:  base64.RawURLEncoding.EncodeToString(raw[:]),
		Next:   next,
		Issued: a.now().Unix(),
	}
	payload, _ := json.Marshal(st)
	name := a.freeStateCookieName(r)
	c := a.newCookie(r, name, a.encodeSigned(name, string(payload)), a.cfg.ServicePrefix)
	c.MaxAge = int(oauthStateMaxAge / time.Second)
	http.SetCookie(w, c)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, a.authorizeURL(st.State), http.StatusFound)
}

// freeStateCookieName returns the state cookie name of a new login: the
// plain name, or the plain name with a random suffix when a login is
// already in progress.
func (a *hubAuth) freeStateCookieName(r *http.Request) string {
	base := a.stateCookieName()
	inUse := 0
	plainInUse := false
	for _, c := range r.Cookies() {
		if a.isStateCookie(c.Name) {
			inUse++
			plainInUse = plainInUse || c.Name == base
		}
	}
	if !plainInUse || inUse >= maxStateCookies {
		return base
	}
	var raw [6]byte
	rand.Read(raw[:])
	return base + "-" + base64.RawURLEncoding.EncodeToString(raw[:])
}

// authorizeURL returns the hub's authorize URL for a new login.
func (a *hubAuth) authorizeURL(state string) string {
	q := url.Values{
		"client_id":     {a.cfg.ClientID},
		"redirect_uri":  {a.cfg.OAuthCallbackURL},
		"response_type": {"code"},
		"state":         {state},
	}
	return a.cfg.HubHost + a.cfg.HubPrefix + "api/oauth2/authorize?" + q.Encode()
}

// takeState finds the state cookie of the login that state belongs to and
// returns the URL that login should return to. It clears every state
// cookie of r, used or not, as JupyterHub does. It reports false when no
// valid, unexpired cookie holds state.
func (a *hubAuth) takeState(w http.ResponseWriter, r *http.Request, state string) (string, bool) {
	next, found := "", false
	for _, c := range r.Cookies() {
		if !a.isStateCookie(c.Name) {
			continue
		}
		clear := a.newCookie(r, c.Name, "", a.cfg.ServicePrefix)
		clear.MaxAge = -1
		http.SetCookie(w, clear)
		if found {
			continue
		}
		if st, ok := a.decodeState(c); ok &&
			subtle.ConstantTimeCompare([]byte(st.State), []byte(state)) == 1 {
			next, found = st.Next, true
		}
	}
	return next, found
}

// decodeState returns the state a state cookie holds, if the cookie is
// valid and unexpired.
func (a *hubAuth) decodeState(c *http.Cookie) (oauthState, bool) {
	var st oauthState
	payload, ok := a.decodeSigned(c.Name, c.Value)
	if !ok || json.Unmarshal([]byte(payload), &st) != nil || st.State == "" {
		return st, false
	}
	age := a.now().Sub(time.Unix(st.Issued, 0))
	return st, age <= oauthStateMaxAge && age >= -time.Minute
}
