package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/webpage"
)

func (s *Server) registerLogin(mux httpapi.Router) {
	mux.HandleFunc("GET /login", s.handleLoginPage)
	mux.HandleFunc("POST /login", s.handleLogin)
	mux.HandleFunc("GET /logout", s.handleLogout)
}

// loginXSRFCookie holds the value the login form must echo. It protects the
// form before any session exists.
const loginXSRFCookie = "_xsrf_login"

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	next := s.safeNext(r.URL.Query().Get("next"))
	if s.auth.token == "" {
		http.Redirect(w, r, next, http.StatusFound)
		return
	}
	// A browser that is signed in already, or brings the token in the URL,
	// goes on to next, as jupyter_server's login page sends it.
	if cred, err := s.auth.authenticate(w, r); err == nil && cred.method != authNone {
		if cred.session != "" {
			s.ensureXSRFCookie(w, r, cred.session)
		}
		http.Redirect(w, r, next, http.StatusFound)
		return
	}
	s.renderLogin(w, r, next, false)
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, next string, failed bool) {
	var b [16]byte
	rand.Read(b[:])
	xsrf := hex.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{
		Name: loginXSRFCookie, Value: xsrf, Path: s.cfg.BaseURL,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.auth.secure,
	})
	status := http.StatusOK
	if failed {
		status = http.StatusUnauthorized
	}
	_ = webpage.Write(w, status, loginPage(s.cfg.BaseURL+"login", next, xsrf, failed))
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	next := s.safeNext(r.PostFormValue("next"))
	c, err := r.Cookie(loginXSRFCookie)
	form := r.PostFormValue("_xsrf")
	if err != nil || form == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) != 1 {
		http.Error(w, "403: login form expired or sent from another site; reload the login page",
			http.StatusForbidden)
		return
	}
	// Our form names the field "token"; jupyter_server's, which scripts
	// fill in, names it "password".
	token := r.PostFormValue("token")
	if token == "" {
		token = r.PostFormValue("password")
	}
	if !s.auth.checkToken(strings.TrimSpace(token)) {
		s.log.Info("login rejected", "remote", r.RemoteAddr)
		s.renderLogin(w, r, next, true)
		return
	}
	sid := s.auth.setLoginCookie(w)
	s.auth.setXSRFCookie(w, r, s.auth.xsrfToken(sid))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	s.auth.clearLoginCookie(w)
	http.Redirect(w, r, s.cfg.BaseURL+"login", http.StatusFound)
}

// safeNext returns next when it is a path on this server below the base URL,
// and the JupyterLab page otherwise. Scheme-relative forms (//host, /\host)
// and absolute URLs would send the browser to another site. The path is
// compared decoded and without dot segments, as the browser resolves it,
// with the decoded base URL.
func (s *Server) safeNext(next string) string {
	fallback := s.cfg.BaseURL + "lab"
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n\t") {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "//") ||
		strings.Contains(u.Path, "\\") || !strings.HasPrefix(cleanPath(u.Path), s.basePath) {
		return fallback
	}
	return next
}
