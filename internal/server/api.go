package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/terminal"
	"github.com/jupygo/jupygo/internal/wsconn"
)

// registerAPI mounts the server's own endpoints: /api, status, identity,
// frontend config sections, the event stream, and the redirects to
// JupyterLab.
func (s *Server) registerAPI(mux httpapi.Router, served *http.ServeMux) {
	h := func(f httpapi.HandlerFunc) http.Handler { return httpapi.Handle(s.log, f) }
	mux.Handle("GET /api", h(s.handleVersion))
	mux.Handle("GET /api/{$}", h(s.handleVersion))
	mux.Handle("GET /api/status", h(s.handleStatus))
	mux.Handle("GET /api/me", h(s.handleMe))
	mux.Handle("GET /api/config/{section}", h(s.handleGetConfig))
	mux.Handle("PATCH /api/config/{section}", h(s.handlePatchConfig))
	mux.Handle("PUT /api/config/{section}", h(s.handlePutConfig))
	mux.Handle("POST /api/shutdown", h(s.handleShutdown))
	mux.Handle("/api/shutdown", h(methodNotAllowed("POST")))
	mux.Handle("GET /api/events/subscribe", h(s.handleEvents))
	mux.Handle("GET /api/resolvePath", h(s.handleResolvePath))
	mux.Handle("/api/", h(func(w http.ResponseWriter, r *http.Request) error {
		if allow := allowedMethods(served, r, "/api/"); allow != "" {
			return methodNotAllowed(allow)(w, r)
		}
		return httpapi.Errorf(http.StatusNotFound, "no API endpoint %s %s", r.Method, r.URL.Path)
	}))

	mux.HandleFunc("GET /{$}", s.redirect(s.landingPath()))
	mux.HandleFunc("GET /tree", s.redirect("lab/tree"))
	mux.HandleFunc("GET /tree/{path...}", func(w http.ResponseWriter, r *http.Request) {
		s.redirect("lab/tree/"+escapePath(r.PathValue("path")))(w, r)
	})
}

// redirect returns a handler that redirects to a path below the base URL.
func (s *Server) redirect(to string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, s.cfg.BaseURL+to, http.StatusFound)
	}
}

func (s *Server) handleVersion(w http.ResponseWriter, r *http.Request) error {
	return httpapi.WriteJSON(w, http.StatusOK, map[string]string{"version": s.cfg.Version})
}

// status is the model of /api/status.
type status struct {
	Started      string `json:"started"`
	LastActivity string `json:"last_activity"`
	Connections  int    `json:"connections"`
	Kernels      int    `json:"kernels"`
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) error {
	conns, _, running := s.kernels.ActivityStats()
	last := s.lastActivityTime()
	return httpapi.WriteJSON(w, http.StatusOK, status{
		Started:      isoTime(s.started),
		LastActivity: isoTime(last),
		Connections:  conns,
		Kernels:      running,
	})
}

// isoTime formats t as jupyter_server does: UTC, microseconds, a Z suffix.
func isoTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

// handleMe returns the user's identity and, for each resource named in the
// permissions query (a JSON object of resource to actions), the actions the
// user may take. The user of a single-user server may take all of them.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) error {
	perms := map[string][]string{}
	if q := r.URL.Query().Get("permissions"); q != "" {
		if err := json.Unmarshal([]byte(q), &perms); err != nil {
			return httpapi.Errorf(http.StatusBadRequest,
				"permissions must be a JSON object of resource names to lists of actions: %v", err)
		}
	}
	return httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"identity":    requestIdentity(r.Context(), s.cfg.Collaborative),
		"permissions": perms,
	})
}

// handleShutdown serves POST /api/shutdown as jupyter_server does: it
// responds with 200 and an empty body, and then Serve stops the server
// with its kernels and terminals, as on SIGTERM.
func (s *Server) handleShutdown(w http.ResponseWriter, r *http.Request) error {
	s.log.Info("shutting down on /api/shutdown request")
	w.WriteHeader(http.StatusOK)
	// Serve waits for this response in http.Server.Shutdown; flushing
	// sends it before the kernels, which take seconds, are stopped.
	_ = http.NewResponseController(w).Flush()
	s.quitOnce.Do(func() { close(s.quit) })
	return nil
}

// methodNotAllowed returns a handler that responds with 405 and names the
// allowed methods of the path.
// allowedMethods lists the methods, comma-separated, for which mux has a
// pattern other than fallback that matches r's path, or "" when it has
// none. A catch-all pattern such as "/api/" matches every method, so the
// mux itself never returns 405 below it.
func allowedMethods(mux *http.ServeMux, r *http.Request, fallback string) string {
	var allow []string
	for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		probe := r.Clone(r.Context())
		probe.Method = method
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != fallback {
			allow = append(allow, method)
		}
	}
	return strings.Join(allow, ", ")
}

func methodNotAllowed(allow string) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", allow)
		return httpapi.Errorf(http.StatusMethodNotAllowed,
			"method %s is not allowed for %s: use %s", r.Method, r.URL.Path, allow)
	}
}

// eventsReadLimit is the read limit of the event stream, which takes no
// messages: the default of the WebSocket library.
const eventsReadLimit = 32 << 10

// handleEvents accepts the event stream JupyterLab opens at start. The
// server emits no events yet, so the socket stays quiet until either side
// closes it. A message from the client closes it with status 1008 (policy
// violation), or with the status of its frame when RFC 6455 gives one.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) error {
	c, _, err := wsconn.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true},
		eventsReadLimit, false)
	if err != nil {
		return nil // Accept has written the error response
	}
	events, unsubscribe := s.events.subscribe()
	defer unsubscribe()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		defer cancel()
		_, _, err := c.Reader(ctx)
		switch fe := wsconn.AsFrameError(err); {
		case fe != nil:
			c.Close(fe.Code, fe.Reason)
		case err == nil:
			c.Close(websocket.StatusPolicyViolation, "the event stream takes no messages")
		default:
			c.Close(websocket.StatusGoingAway, "server shutting down")
		}
	}()
	for {
		select {
		case msg := <-events:
			if c.Write(ctx, websocket.MessageText, msg) != nil {
				return nil
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// pageConfig returns the page-config keys that come from the server rather
// than from the JupyterLab build: those of the labconfig/page_config.json
// files, then the server's own.
func (s *Server) pageConfig(r *http.Request) map[string]any {
	config := labPageConfig(s.cfg.ConfigPath, s.log)
	for key, value := range map[string]any{
		"token":              "",
		"terminalsAvailable": terminal.Supported,
		"serverRoot":         s.cfg.RootDir,
		"preferredPath":      "/",
		"allow_hidden_files": s.cfg.AllowHidden,
		"delete_to_trash":    false,
		"exposeAppInBrowser": s.cfg.ExposeAppInBrowser,
		// File > Shut Down, which JupyterHub's single-user servers hide.
		"quitButton": s.hub == nil,
	} {
		config[key] = value
	}
	for key, value := range s.hubPageConfig(r) {
		config[key] = value
	}
	return config
}

// escapePath escapes each segment of a slash-separated path for a URL.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		parts[i] = pathEscape(part)
	}
	return strings.Join(parts, "/")
}
