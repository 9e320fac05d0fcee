package server

import (
	"errors"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// routes builds the handler chain: access log, base URL, authentication and
// the browser checks, then the mux of every endpoint.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	var rt httpapi.Routes
	s.contents.Register(&rt)
	s.kernels.Register(&rt)
	s.terminals.Register(&rt)
	s.lab.Register(&rt)
	s.nbconvert.Register(&rt)
	s.registerAPI(&rt, mux)
	s.registerSessions(&rt)
	if s.collab != nil {
		s.collab.Register(&rt)
	}
	if s.hub != nil {
		s.registerHub(&rt)
	} else {
		s.registerLogin(&rt)
	}
	rt.Install(mux)

	return s.hubHeaders(s.logRequests(s.baseURL(s.guard(mux))))
}

// publicPath reports whether a path (below the base URL) is served without
// authentication: the static bundle, the login pages and the /api version
// probe that hubs use as a readiness check.
func publicPath(p string) bool {
	switch p {
	case "/login", "/logout", "/api", "/api/", "/favicon.ico":
		return true
	}
	return strings.HasPrefix(p, "/static/")
}

// isAuthPage reports whether p is a page of the login process, which is
// reached without credentials.
func (s *Server) isAuthPage(p string) bool {
	return p == "/login" || p == "/logout" || (s.hub != nil && p == "/oauth_callback")
}

// baseURL handles requests outside the base URL: the base without its
// trailing slash redirects to the base, anything else is a 404. It also
// redirects unclean paths within the base, and strips the base from the
// path of the others. It matches the decoded path against the decoded base
// URL, so every escaping of the base matches.
func (s *Server) baseURL(next http.Handler) http.Handler {
	base := s.basePath
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if base != "/" && p == strings.TrimSuffix(base, "/") {
			http.Redirect(w, r, s.cfg.BaseURL, http.StatusFound)
			return
		}
		if !strings.HasPrefix(p, base) {
			s.writeError(w, r, httpapi.Errorf(http.StatusNotFound, "not found"))
			return
		}
		// The mux redirects unclean paths (//, /./, /../) to their clean
		// form. It gets the path without the base URL, so its redirect
		// would leave the base; this one keeps it. url.URL uses the
		// cleaned RawPath only when it still encodes the cleaned path.
		if clean := cleanPath(p); clean != p {
			u := *r.URL
			u.Path, u.RawPath = clean, ""
			if r.URL.RawPath != "" {
				u.RawPath = cleanPath(r.URL.RawPath)
			}
			http.Redirect(w, r, u.String(), http.StatusTemporaryRedirect)
			return
		}
		w.Header().Set("Content-Security-Policy", "frame-ancestors 'self'")
		next.ServeHTTP(w, stripBase(r, strings.TrimSuffix(base, "/")))
	})
}

// cleanPath returns p with repeated slashes and . and .. segments removed,
// keeping a trailing slash, as ServeMux cleans paths.
func cleanPath(p string) string {
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean
}

// guard authenticates the request and applies the checks that protect
// cookie-authenticated browsers: XSRF tokens on unsafe methods, the Origin of
// WebSocket upgrades, and same-origin reads of files, exports and archives.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.allowedHost(r) {
			s.writeError(w, r, httpapi.Errorf(http.StatusForbidden,
				"host %q is not allowed: the server listens on a loopback address", r.Host))
			return
		}
		if s.isAuthPage(r.URL.Path) {
			next.ServeHTTP(w, r) // these pages check their own requests
			return
		}
		cred, err := s.idp.authenticate(w, r)
		if err != nil || cred.method == authNone {
			switch {
			case publicPath(r.URL.Path):
				next.ServeHTTP(w, r)
			case err != nil:
				s.writeAuthError(w, r, err)
			default:
				s.idp.challenge(w, r)
			}
			return
		}
		method, sid := cred.method, cred.session
		if err := s.checkBrowserRequest(r, method, sid); err != nil {
			s.writeError(w, r, err)
			return
		}
		if sid != "" {
			s.ensureXSRFCookie(w, r, sid)
		}
		if r.URL.Path != "/api/status" {
			// Polling the status is not activity, or an idle server
			// would never look idle to a culler.
			s.touch()
		}
		if conn := requestConn(r.Context()); cred.token != "" && isWebSocket(r) && conn != nil && s.hub != nil {
			forget := s.hub.sockets.watch(cred.token, conn, cred.checked)
			defer forget()
		}
		next.ServeHTTP(w, r.WithContext(withIdentity(r.Context(), cred)))
	})
}

// writeAuthError sends err, the reason r failed authentication. Under a
// hub, a page request gets an HTML page with the message and a link to the
// hub's home, because a browser would show the JSON error as raw text.
func (s *Server) writeAuthError(w http.ResponseWriter, r *http.Request, err error) {
	var apiErr *httpapi.Error
	if s.hub == nil || !isPageRequest(r) || !errors.As(err, &apiErr) {
		s.writeError(w, r, err)
		return
	}
	title := "Access denied"
	if apiErr.Status != http.StatusForbidden {
		title = http.StatusText(apiErr.Status)
	}
	s.log.Info("page request rejected", "path", r.URL.Path, "status", apiErr.Status,
		"message", apiErr.Message)
	s.hubPage(w, apiErr.Status, title, errorMessage(err))
}

// checkBrowserRequest returns an error for requests that a cookie-carrying
// browser could be tricked into sending from another site.
func (s *Server) checkBrowserRequest(r *http.Request, method authMethod, sid string) error {
	if method == authToken {
		return nil
	}
	if crossOrigin(r) && !isWebSocket(r) {
		return httpapi.Errorf(http.StatusForbidden,
			"cross-origin request from %q refused: this server answers only its own pages",
			requestOrigin(r))
	}
	if isWebSocket(r) {
		if !websocketOriginAllowed(r) {
			return httpapi.Errorf(http.StatusForbidden,
				"WebSocket from origin %q is not allowed", r.Header.Get("Origin"))
		}
		return nil
	}
	if !isSafeMethod(r.Method) {
		if method == authOpen && !fromBrowser(r) {
			return nil
		}
		if !checkXSRF(r) {
			return httpapi.Errorf(http.StatusForbidden,
				"'_xsrf' argument missing or invalid: send the _xsrf cookie's value in the X-XSRFToken header")
		}
		return nil
	}
	if isDownload(r.URL.Path) && !sameOrigin(r) && !checkXSRF(r) {
		return httpapi.Errorf(http.StatusForbidden,
			"cross-site request for a file is not allowed: open it from JupyterLab or pass _xsrf")
	}
	return nil
}

// isDownload reports whether p serves the bytes of a file, a notebook
// export or a folder archive: reads that another site must not be able to
// make with the user's cookies.
func isDownload(p string) bool {
	for _, prefix := range []string{"/files/", "/nbconvert/", "/directories/"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// fromBrowser reports whether a request carries the headers browsers add to
// every cross-origin and unsafe request.
func fromBrowser(r *http.Request) bool {
	return r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Site") != ""
}

// isPageRequest reports whether r is a browser navigating to a page: a GET
// or HEAD of a path outside the APIs, as tornado's @authenticated redirects
// those two methods to the login page.
func isPageRequest(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead || isWebSocket(r) {
		return false
	}
	return !strings.HasPrefix(r.URL.Path, "/api/") && !strings.HasPrefix(r.URL.Path, "/lab/api/")
}

// ensureXSRFCookie sets the _xsrf cookie when the browser has none. A
// cookie that another server on this host set is kept: checkXSRF accepts
// any value echoed back, and replacing it would break that server's pages.
func (s *Server) ensureXSRFCookie(w http.ResponseWriter, r *http.Request, sid string) {
	if c, err := r.Cookie("_xsrf"); err == nil && c.Value != "" {
		return
	}
	s.idp.setXSRFCookie(w, r, s.idp.xsrfToken(sid))
}

// requestOrigin names the page a browser request came from, for errors.
func requestOrigin(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" {
		return o
	}
	return r.Header.Get("Sec-Fetch-Site") + " page"
}

// allowedHost rejects requests whose Host header names another machine when
// the server listens only on loopback, which stops DNS rebinding attacks.
// In single-user mode the hub's proxy forwards the public Host, and every
// request needs a hub token, so any host is allowed.
func (s *Server) allowedHost(r *http.Request) bool {
	if s.hub != nil || !isLoopbackIP(s.cfg.IP) {
		return true
	}
	return isLoopbackHost(r.Host)
}

// statusRecorder remembers the status a handler wrote, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status  int
	written int64 // bytes of the response body
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.written += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection, which WebSocket
// upgrades and flushes need.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests gives each request an id and logs it once it is done. The query
// string is never logged, because it can carry the token.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := s.requestID()
		rec := &statusRecorder{ResponseWriter: w}
		var body *countingBody
		if r.Body != nil && r.Body != http.NoBody {
			body = &countingBody{ReadCloser: r.Body}
			r.Body = body
		}
		next.ServeHTTP(rec, r.WithContext(httpapi.WithRequestID(r.Context(), id)))
		transferred := rec.written
		if body != nil {
			transferred += body.read
		}
		s.memory.afterRequest(transferred)
		level := s.accessLogLevel(rec.status)
		s.log.Log(r.Context(), level, "request",
			"request_id", id,
			"method", r.Method,
			"path", r.URL.Path,
			"status", rec.status,
			"duration", time.Since(start).Round(time.Microsecond))
	})
}

func (s *Server) accessLogLevel(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return slog.LevelWarn
	case status == http.StatusNotFound:
		return slog.LevelDebug // JupyterLab probes optional endpoints such as /lsp/status
	case status >= 400:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}
