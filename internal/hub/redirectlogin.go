package hub

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/jupygo/jupygo/internal/hub/auth"
)

// Sign-in through another site (a RedirectAuthenticator): /hub/oauth_login
// sets a state cookie and sends the browser to the provider, which sends
// it back to /hub/oauth_callback with the same state.

const (
	oauthStateCookie = "jupygo-oauth-state"
	// oauthStateMaxAge bounds the time a sign-in at the provider may take.
	oauthStateMaxAge = 10 * time.Minute
)

// callbackURL returns the URL the provider sends browsers back to:
// OAuthenticator.oauth_callback_url, else this hub's oauth_callback page
// on the host the browser used.
func (h *Hub) callbackURL(r *http.Request) string {
	if u := h.cfg.OAuthenticator.OAuthCallbackURL; u != "" {
		return u
	}
	scheme := "http"
	if isHTTPS(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host + h.prefix + "oauth_callback"
}

// admits reports whether a signed-in user may use the hub: a user whom
// the authenticator admits itself (auth.User.Allowed) unless blocked_users
// names them, and otherwise a user whom the allow settings admit.
func (h *Hub) admits(signed auth.User, exists bool) bool {
	if !signed.Allowed {
		return h.allowed(signed.Name, exists)
	}
	for _, b := range h.cfg.Authenticator.BlockedUsers {
		if h.auth.NormalizeUsername(b) == signed.Name {
			return false
		}
	}
	return true
}

func (h *Hub) handleOAuthLogin(w http.ResponseWriter, r *http.Request) {
	ra, ok := h.auth.(auth.RedirectAuthenticator)
	if !ok {
		http.Redirect(w, r, h.prefix+"login", http.StatusFound)
		return
	}
	state := newSessionID()
	next := h.nextOr(r, h.prefix+"home")
	encodedNext := base64.RawURLEncoding.EncodeToString([]byte(next))
	value := state + "." + encodedNext + "." + h.sessions.sign("oauth state", state, encodedNext)
	http.SetCookie(w, &http.Cookie{Name: oauthStateCookie, Value: value, Path: h.prefix,
		MaxAge: int(oauthStateMaxAge / time.Second), HttpOnly: true, Secure: isHTTPS(r),
		SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, ra.LoginURL(state, h.callbackURL(r)), http.StatusFound)
}

// readOAuthState returns the state and next of a valid state cookie.
func (h *Hub) readOAuthState(r *http.Request) (state, next string, ok bool) {
	c, err := r.Cookie(oauthStateCookie)
	if err != nil {
		return "", "", false
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 {
		return "", "", false
	}
	want := h.sessions.sign("oauth state", parts[0], parts[1])
	if subtle.ConstantTimeCompare([]byte(want), []byte(parts[2])) != 1 {
		return "", "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", "", false
	}
	return parts[0], h.safeNext(string(raw)), true
}

func (h *Hub) handleOAuthCallback(w http.ResponseWriter, r *http.Request) {
	ra, ok := h.auth.(auth.RedirectAuthenticator)
	if !ok {
		http.Redirect(w, r, h.prefix+"login", http.StatusFound)
		return
	}
	state, next, ok := h.readOAuthState(r)
	got := r.URL.Query().Get("state")
	if !ok || subtle.ConstantTimeCompare([]byte(state), []byte(got)) != 1 {
		h.errorPage(w, r, http.StatusBadRequest, "Sign-in failed",
			"The sign-in did not start in this browser, or took longer than 10 minutes. Try again.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: oauthStateCookie, Path: h.prefix, MaxAge: -1,
		HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode})
	if e := r.URL.Query().Get("error"); e != "" {
		h.errorPage(w, r, http.StatusForbidden, "Sign-in failed", "The provider answered: "+e)
		return
	}
	signed, err := ra.Callback(r.Context(), r.URL.Query(), h.callbackURL(r))
	if err != nil {
		h.log.Warn("sign-in callback failed", "err", err)
		h.errorPage(w, r, http.StatusForbidden, "Sign-in failed",
			"The provider did not confirm who you are. Try again.")
		return
	}
	signed.Name = h.auth.NormalizeUsername(signed.Name)
	if next == "" {
		next = h.prefix + "home"
	}
	h.completeLogin(w, r, signed, next)
}
