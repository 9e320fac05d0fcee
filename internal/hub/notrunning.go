package hub

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/jupygo/jupygo/internal/store"
)

// namedServerSet caches the names of each user's named servers in the
// store, so that the proxy can tell /user/alice/work/ from a path of
// alice's default server without reading the store on every request. A
// user's names are loaded on first use and forgotten when the user's
// servers are created, deleted or renamed. The zero value is empty and
// ready to use.
type namedServerSet struct {
	mu    sync.RWMutex
	users map[string]map[string]bool
	// generation counts the calls of forget, so that a load that ran
	// while one happened is not cached.
	generation uint64
}

// has reports whether user has a named server called name in st.
func (s *namedServerSet) has(ctx context.Context, st store.Store, user, name string) (bool, error) {
	s.mu.RLock()
	names, loaded := s.users[user]
	generation := s.generation
	s.mu.RUnlock()
	if loaded {
		return names[name], nil
	}

	servers, err := st.ListServers(ctx, user)
	if err != nil {
		return false, err
	}
	names = map[string]bool{}
	for _, sv := range servers {
		if sv.Name != "" {
			names[sv.Name] = true
		}
	}
	s.mu.Lock()
	if s.generation == generation {
		if s.users == nil {
			s.users = map[string]map[string]bool{}
		}
		s.users[user] = names
	}
	s.mu.Unlock()
	return names[name], nil
}

// forget drops the cached names of the given users.
func (s *namedServerSet) forget(users ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.generation++
	for _, u := range users {
		delete(s.users, u)
	}
}

// serveUserPath serves a request outside the hub's prefix. It goes through
// the proxy unless it is for a named server that exists but has no route.
// Such a request would match the route of the user's default server, or
// none, so it goes to the hub's not-running page instead, as a request
// without a route does.
func (h *Hub) serveUserPath(w http.ResponseWriter, r *http.Request) {
	if h.cfg.JupyterHub.AllowNamedServers && h.isUnroutedNamedServer(r) {
		h.serveNoRoute(w, r)
		return
	}
	h.proxy.ServeHTTP(w, r)
}

// isUnroutedNamedServer reports whether r's path is /user/NAME/SERVER/...
// for a named server SERVER of NAME that the store has but the routing
// table does not. The route is looked up only for names that the cache
// lists, so requests for a default server cost no route copy.
func (h *Hub) isUnroutedNamedServer(r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.Path, h.base+"user/")
	if !ok {
		return false
	}
	user, rest, _ := strings.Cut(rest, "/")
	server, _, _ := strings.Cut(rest, "/")
	if user == "" || server == "" {
		return false
	}
	exists, err := h.namedServers.has(r.Context(), h.store, user, server)
	if err != nil {
		h.log.Warn("looking up named servers for a request", "user", user, "err", err)
		return false
	}
	if !exists {
		return false
	}
	_, routed := h.routes.Get(h.routeSpec(user, server))
	return !routed
}

// handleUserNotRunning serves /hub/user/{user}/..., where requests for a
// server without a route arrive, in the order of JupyterHub 3's
// UserUrlHandler. A GET from someone who may access the server goes to the
// server when it is ready. Otherwise an API request (one that prefers JSON
// or has an "api" path segment) gets a 424 JSON error. A browser goes to
// the spawn-pending page during a start or stop or after a failed start,
// and else gets a 424 page that offers to start the server. Other methods
// get the 424 JSON error, even without credentials, as in JupyterHub.
func (h *Hub) handleUserNotRunning(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.writeNotRunningJSON(w, r, r.PathValue("user"), h.serverForCaller(r))
		return
	}
	id, err := h.identify(r)
	if errors.Is(err, errNoIdentity) {
		h.redirectToLogin(w, r)
		return
	}
	if err != nil {
		h.serverErrorPage(w, r, err)
		return
	}
	if id.token == nil && h.mustChangePassword(w, r, id) {
		return
	}
	name, rest := r.PathValue("user"), r.PathValue("rest")
	server, ok := h.accessibleServer(w, r, id, name, rest)
	if !ok {
		return
	}

	sv, err := h.store.GetServer(r.Context(), name, server)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.serverErrorPage(w, r, err)
		return
	}
	if sv.Ready() && h.ensureRoute(r.Context(), name, server) {
		// The proxy sent the request here, so a cached list of named
		// servers may be stale: reload it at the next request.
		h.namedServers.forget(name)
		http.Redirect(w, r, h.publicPath(r), http.StatusFound)
		return
	}
	if wantsJSON(r) || slices.Contains(strings.Split(rest, "/"), "api") {
		h.writeNotRunningJSON(w, r, name, server)
		return
	}
	row := h.serverRow(store.Server{User: name, Name: server})
	next := url.QueryEscape(h.publicPath(r))
	_, failed := h.failedStart(name, server)
	if h.runOf(name, server) != nil || sv.Pending != "" || failed {
		http.Redirect(w, r, h.prefix+"spawn-pending/"+row.Path+"?next="+next, http.StatusSeeOther)
		return
	}
	label := "Launch server"
	if name != id.name() {
		label = "Launch server of " + name
	}
	h.errorPageAction(w, r, h.notRunningStatus(), "Server not running",
		serverLabel(name, server)+" is not running.",
		&pageAction{URL: h.prefix + "spawn/" + row.Path + "?next=" + next, Label: label})
}

// accessibleServer returns the server that a /hub/user/{name}/{rest} path
// names, when the caller may access it. Otherwise it writes the error as
// JupyterHub's access:servers check does and returns false: 403 without
// any access:servers scope, and 404 with one that does not cover the user,
// or for a user that does not exist.
func (h *Hub) accessibleServer(w http.ResponseWriter, r *http.Request, id *identity,
	name, rest string) (string, bool) {
	owner, err := h.store.GetUser(r.Context(), name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.serverErrorPage(w, r, err)
		return "", false
	}
	server := ""
	if err == nil {
		server = h.serverInPath(r, name, rest)
		if id.scopes.allows("access:servers", serverTarget(name, owner.Groups, server)) {
			return server, true
		}
	}
	switch {
	case !id.scopes.hasAny("access:servers"):
		h.errorPage(w, r, http.StatusForbidden, "Forbidden",
			"Accessing servers needs the access:servers scope.")
	case err == nil || !id.scopes.has("access:servers"):
		h.errorPage(w, r, http.StatusNotFound, "Not found",
			"You have no access to a server of "+name+", or it does not exist.")
	default:
		h.errorPage(w, r, http.StatusNotFound, "Not found", "No such user: "+name)
	}
	return "", false
}

// serverForCaller returns the server a request of another method than GET
// names, for the 424 message. It is the default server unless the caller
// may access the named server of the path, so the message reveals no
// server name to others.
func (h *Hub) serverForCaller(r *http.Request) string {
	name := r.PathValue("user")
	id, err := h.identify(r)
	if err != nil {
		return ""
	}
	owner, err := h.store.GetUser(r.Context(), name)
	if err != nil {
		return ""
	}
	server := h.serverInPath(r, name, r.PathValue("rest"))
	if !id.scopes.allows("access:servers", serverTarget(name, owner.Groups, server)) {
		return ""
	}
	return server
}

// ensureRoute reports whether a ready server has its route, adding it
// from the store when it is missing.
func (h *Hub) ensureRoute(ctx context.Context, user, server string) bool {
	if _, ok := h.routes.Get(h.routeSpec(user, server)); ok {
		return true
	}
	if _, err := h.repairRoute(ctx, user, server); err != nil {
		h.log.Error("adding the missing route of a ready server", "user", user,
			"server", server, "err", err)
	}
	_, ok := h.routes.Get(h.routeSpec(user, server))
	return ok
}

// writeNotRunningJSON writes JupyterHub's error for an API request to a
// server that is not running. JupyterLab shows its dialog to restart the
// server when it gets it.
func (h *Hub) writeNotRunningJSON(w http.ResponseWriter, r *http.Request, user, server string) {
	h.log.Debug("API request to a server that is not running", "path", r.URL.Path,
		"user", user, "server", server)
	spawnPath := h.prefix + "spawn/" + h.serverRow(store.Server{User: user, Name: server}).Path
	status := h.notRunningStatus()
	path := h.publicPath(r)
	path, _, _ = strings.Cut(path, "?")
	// JupyterHub gives the absolute URL of the spawn page. The path is
	// enough for a browser, and the hub may not know its public scheme.
	writeJSON(w, status, map[string]any{"status": status,
		"message": "JupyterHub server no longer running at " + path +
			". Restart the server at " + spawnPath})
}

// notRunningStatus returns the status of responses about a server that is
// not running: 424, or 503 with use_legacy_stopped_server_status_code.
func (h *Hub) notRunningStatus() int {
	if h.cfg.JupyterHub.UseLegacyStoppedServerStatusCode {
		return http.StatusServiceUnavailable
	}
	return http.StatusFailedDependency
}

// publicPath returns the path and query of a request for
// /hub/user/{user}/{rest} without the hub's prefix: /hub/user/alice/lab
// becomes /user/alice/lab. The user name is escaped by escapePath, however
// the request escaped it, so that the browser sends the server's cookies,
// whose path has that form. The rest keeps the request's escaping.
func (h *Hub) publicPath(r *http.Request) string {
	p := h.serverURLPath(r.PathValue("user"), "") + pathAfter(r, segmentCount(h.prefix)+2)
	if r.URL.RawQuery != "" {
		p += "?" + r.URL.RawQuery
	}
	return p
}

// pathAfter returns the escaped path of r after its first n segments, as
// the request escaped it: "lab/tree/a%3Fb" for
// /hub/user/alice/lab/tree/a%3Fb and n = 3. Each segment keeps its
// escaping, where r.PathValue would decode "%3F" to a "?" that ends the
// path of a URL built from it.
func pathAfter(r *http.Request, n int) string {
	segments := strings.SplitN(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/", n+1)
	if len(segments) <= n {
		return ""
	}
	return segments[n]
}

// segmentCount returns the number of segments of a path that starts and
// ends with "/", such as 1 for /hub/ and 0 for /.
func segmentCount(dir string) int {
	return strings.Count(dir, "/") - 1
}

// serverInPath returns the server a /user/{name}/{rest} path names: the
// first segment of rest when named servers are on and the user has a
// server of that name, else the default server.
func (h *Hub) serverInPath(r *http.Request, user, rest string) string {
	if !h.cfg.JupyterHub.AllowNamedServers {
		return ""
	}
	first, _, _ := strings.Cut(rest, "/")
	if first == "" {
		return ""
	}
	if _, err := h.store.GetServer(r.Context(), user, first); err == nil {
		return first
	}
	return ""
}

// wantsJSON reports whether r's Accept header prefers application/json to
// text/html. A vendor type such as application/vnd.x+json counts as JSON,
// as in JupyterHub. Of two types with the same q value, the first listed
// wins, and a header that names neither type wants HTML.
func wantsJSON(r *http.Request) bool {
	best, bestQ := "", 0.0
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if sub, ok := strings.CutPrefix(mediaType, "application/vnd."); ok &&
			strings.HasSuffix(sub, "+json") {
			mediaType = "application/json"
		}
		if mediaType != "application/json" && mediaType != "text/html" {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		if q > bestQ {
			best, bestQ = mediaType, q
		}
	}
	return best == "application/json"
}
