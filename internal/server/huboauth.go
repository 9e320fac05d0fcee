package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/webpage"
)

// registerHub adds the pages of single-user mode: the OAuth callback, and
// login and logout, which both go through the hub.
func (s *Server) registerHub(mux httpapi.Router) {
	mux.HandleFunc("GET /oauth_callback", s.handleOAuthCallback)
	mux.HandleFunc("GET /login", s.handleHubLogin)
	mux.HandleFunc("GET /logout", s.handleHubLogout)
}

// handleOAuthCallback finishes a login. It checks the state against the
// state cookie, exchanges the code for a token at the hub and checks the
// user's access. Then it stores the token in the OAuth cookie and redirects
// to the page the login started from.
func (s *Server) handleOAuthCallback(w http.ResponseWriter, r *http.Request) {
	a := s.hub
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		s.hubPage(w, http.StatusBadRequest, "Login failed",
			"JupyterHub answered the login with an error: "+firstNonEmpty(q.Get("error_description"), e))
		return
	}
	code, state := q.Get("code"), q.Get("state")
	if code == "" || state == "" {
		s.hubPage(w, http.StatusBadRequest, "Login failed",
			"The OAuth callback came without a code or a state. Open the server again to log in.")
		return
	}
	next, ok := a.takeState(w, r, state)
	if !ok {
		if cred, err := a.authenticate(w, r); err == nil && cred.method != authNone {
			// A stale callback, such as a reloaded tab, of a browser that
			// is already logged in.
			http.Redirect(w, r, s.cfg.BaseURL, http.StatusFound)
			return
		}
		s.log.Warn("OAuth state does not match a login of this browser", "remote", r.RemoteAddr)
		s.hubPage(w, http.StatusBadRequest, "Login failed",
			"The OAuth state does not match a login started in this browser, "+
				"or the login took longer than 10 minutes. Open the server again to log in.")
		return
	}

	token, err := a.client.tokenForCode(r.Context(), code)
	if err != nil {
		s.oauthFailed(w, r, err)
		return
	}
	user, err := a.client.userForToken(r.Context(), token)
	if err == nil && user == nil {
		err = errors.New("the hub does not accept the token it has just issued")
	}
	if err != nil {
		s.oauthFailed(w, r, err)
		return
	}
	if err := a.checkAccess(user); err != nil {
		s.log.Warn("hub user not allowed", "user", user.Name)
		s.hubPage(w, http.StatusForbidden, "Access denied", errorMessage(err))
		return
	}

	s.log.Info("user logged in through the hub", "user", user.Name)
	a.cache.store(a.cacheKey(r, token), user, a.now())
	a.setTokenCookie(w, r, token)
	a.setXSRFCookie(w, r, a.xsrfToken(tokenSession(token)))
	if next == "" {
		next = s.cfg.BaseURL
	}
	http.Redirect(w, r, s.safeNext(next), http.StatusFound)
}

// oauthFailed writes the page of a callback whose code exchange failed: a
// 400 when the hub rejects the code (expired or used), else a 502.
func (s *Server) oauthFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errHubRejected) {
		s.log.Info("hub rejected the OAuth code", "remote", r.RemoteAddr, "err", err)
		s.hubPage(w, http.StatusBadRequest, "Login failed",
			"JupyterHub rejected the login code, which may have expired. Open the server again to log in.")
		return
	}
	s.log.Error("finishing OAuth login with the hub", "err", err)
	s.hubPage(w, http.StatusBadGateway, "Login failed",
		"JupyterHub could not be reached to finish the login. Try again later.")
}

// handleHubLogin starts a login with the hub that returns to ?next=.
func (s *Server) handleHubLogin(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if next == "" {
		next = s.cfg.BaseURL
	}
	s.hub.startLogin(w, r, s.safeNext(next))
}

// handleHubLogout clears the OAuth cookie and its cached reply, then
// redirects to the hub's logout page, which ends the hub session.
func (s *Server) handleHubLogout(w http.ResponseWriter, r *http.Request) {
	a := s.hub
	if token, ok := a.cookieToken(r); ok {
		a.cache.forget(a.cacheKey(r, token))
	}
	a.clearTokenCookie(w, r)
	http.Redirect(w, r, a.cfg.HubHost+a.cfg.HubPrefix+"logout", http.StatusFound)
}

// landingPath returns where the server's root redirects: /lab, or
// JUPYTERHUB_DEFAULT_URL in single-user mode.
func (s *Server) landingPath() string {
	if s.hub != nil && s.hub.cfg.DefaultURL != "" {
		return strings.TrimPrefix(s.hub.cfg.DefaultURL, "/")
	}
	return "lab"
}

// hubPage writes a small HTML page for a browser, with a link to the hub's
// home page.
func (s *Server) hubPage(w http.ResponseWriter, status int, title, message string) {
	home := s.hub.cfg.HubHost + s.hub.cfg.HubPrefix + "home"
	_ = webpage.Write(w, status, hubMessagePage(status, title, message, home))
}

// errorMessage returns the client-safe message of err.
func errorMessage(err error) string {
	var apiErr *httpapi.Error
	if errors.As(err, &apiErr) {
		return apiErr.Message
	}
	return http.StatusText(http.StatusInternalServerError)
}
