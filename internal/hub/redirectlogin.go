package hub

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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
	if code := r.URL.Query().Get("error"); code != "" {
		h.providerErrorPage(w, r, code, r.URL.Query().Get("error_description"))
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

// oauthErrorCodes are the error codes of an authorization response in
// RFC 6749, section 4.1.2.1.
var oauthErrorCodes = []string{
	"invalid_request",
	"unauthorized_client",
	"access_denied",
	"unsupported_response_type",
	"invalid_scope",
	"server_error",
	"temporarily_unavailable",
}

// maxLoggedProviderText bounds each provider value in the log, since any
// site may send the browser to the callback with any text.
const maxLoggedProviderText = 500

// providerErrorPage logs the error and error_description that the provider
// sent and shows a fixed message. The page names the code only when it is
// one of RFC 6749's, so a crafted link cannot put its own text on the hub's
// page. A user who declined (access_denied) gets 403, and other errors 400.
func (h *Hub) providerErrorPage(w http.ResponseWriter, r *http.Request, code, description string) {
	h.log.Warn("sign-in provider returned an error",
		"error", truncate(code, maxLoggedProviderText),
		"error_description", truncate(description, maxLoggedProviderText))
	if !slices.Contains(oauthErrorCodes, code) {
		h.errorPage(w, r, http.StatusBadRequest, "Sign-in failed",
			"The provider reported an error. Try again, or ask the hub's administrator.")
		return
	}
	status := http.StatusBadRequest
	if code == "access_denied" {
		status = http.StatusForbidden
	}
	h.errorPage(w, r, status, "Sign-in failed",
		"The provider reported the error "+code+". Try again, or ask the hub's administrator.")
}

// truncate cuts s to at most n bytes, at a UTF-8 character boundary, and
// marks a cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
