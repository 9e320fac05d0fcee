package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/hub/spawn"
	"github.com/jupygo/jupygo/internal/proxy"
	"github.com/jupygo/jupygo/internal/store"
)

// runKey names a server in Hub.runs.
func runKey(user, server string) string { return user + "/" + server }

// failedStart reports whether the server's last start failed, with its
// message. The next start clears the failure.
func (h *Hub) failedStart(user, server string) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m, ok := h.failures[runKey(user, server)]
	return m, ok
}

// runOf returns the start or stop of the server in progress, nil if none.
func (h *Hub) runOf(user, server string) *run {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.runs[runKey(user, server)]
}

// clientID returns the OAuth client ID of a server, which is also the name
// of its cookie: jupyterhub-user-NAME, with -SERVER for a named server, each
// part URL-escaped as JupyterHub does.
func clientID(user, server string) string {
	id := "jupyterhub-user-" + url.QueryEscape(user)
	if server != "" {
		id += "-" + url.QueryEscape(server)
	}
	return id
}

// serverTokenNote marks the API token the hub issues to a server.
func (h *Hub) serverTokenNote(user, server string) string {
	return "Server at " + h.serverURLPath(user, server)
}

// checkServerName returns a 400 error unless name may be started for the
// user: named servers must be on, the name valid, and the user under the
// limit of named servers.
func (h *Hub) checkServerName(ctx context.Context, user, name string) error {
	if name == "" {
		return nil
	}
	if !h.cfg.JupyterHub.AllowNamedServers {
		return badRequest("Named servers are not enabled.")
	}
	if _, err := h.store.GetServer(ctx, user, name); err == nil {
		return nil
	}
	if err := spawn.ValidateServerName(name); err != nil {
		return badRequest("%s", err.Error())
	}
	limit := h.cfg.JupyterHub.NamedServerLimitPerUser
	if limit <= 0 {
		return nil
	}
	servers, err := h.store.ListServers(ctx, user)
	if err != nil {
		return err
	}
	named := 0
	for _, sv := range servers {
		if sv.Name != "" {
			named++
		}
	}
	if named >= limit {
		return badRequest("User %s already has the maximum of %d named servers. "+
			"One must be deleted before a new server can be created", user, limit)
	}
	return nil
}

// errSpawnPending marks the error of a start that finds another start of
// the same server in progress. JupyterHub returns the 202 of a pending
// start to such a request.
var errSpawnPending = errors.New("start pending")

// pendingError returns the 400 error for a server with action pending,
// which wraps errSpawnPending for a start.
func pendingError(label, action string) error {
	message := label + " is pending " + action
	if action == store.PendingSpawn {
		return httpapi.Wrap(http.StatusBadRequest, errSpawnPending, message)
	}
	return badRequest("%s", message)
}

// startServer begins starting one of the user's servers and returns its
// run. It returns a 400 error when the server is running or has an action
// pending, and that error wraps errSpawnPending when the action is a start.
func (h *Hub) startServer(ctx context.Context, u store.User, name string,
	options json.RawMessage) (*run, error) {
	if err := h.checkServerName(ctx, u.Name, name); err != nil {
		return nil, err
	}
	if checker, ok := h.spawner.(spawn.UserChecker); ok {
		if err := checker.CheckUser(u.Name); err != nil {
			h.log.Warn("server start rejected", "user", u.Name, "server", name, "err", err)
			return nil, badRequest("Cannot start a server for %s: %s", u.Name, err.Error())
		}
	}
	sv, err := h.getOrCreateServer(ctx, u.Name, name)
	if err != nil {
		return nil, err
	}
	label := serverLabel(u.Name, name)
	if err := checkStartable(label, sv); err != nil {
		return nil, err
	}

	if err := h.checkActiveLimit(ctx); err != nil {
		return nil, err
	}
	rn := newRun(u.Name, name, store.PendingSpawn)
	h.mu.Lock()
	if cur, busy := h.runs[runKey(u.Name, name)]; busy {
		h.mu.Unlock()
		return nil, pendingError(label, cur.action)
	}
	if limit := h.cfg.JupyterHub.ConcurrentSpawnLimit; limit > 0 && h.pendingSpawnsLocked() >= limit {
		h.mu.Unlock()
		return nil, httpapi.Errorf(http.StatusTooManyRequests,
			"Too many users trying to log in right now. Try again in a minute.")
	}
	h.runs[runKey(u.Name, name)] = rn
	delete(h.failures, runKey(u.Name, name))
	h.mu.Unlock()

	// Another start of this server may have run to its end between the
	// read above and taking the run, so read the record again now that no
	// other start can begin.
	if sv, err := h.store.GetServer(ctx, u.Name, name); err != nil || checkStartable(label, sv) != nil {
		h.endRun(rn)
		if err != nil {
			return nil, err
		}
		return nil, checkStartable(label, sv)
	}

	req, err := h.prepareStart(ctx, u, name, options)
	if err != nil {
		h.endRun(rn)
		return nil, err
	}
	rn.add(progressEvent{Progress: 0, Message: "Server requested"})
	timeout := h.cfg.Spawner.StartTimeout
	if timeout <= 0 {
		timeout = spawn.DefaultStartTimeout
	}
	spawnCtx, cancel := context.WithTimeout(h.ctx, timeout)
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer cancel()
		h.runStart(spawnCtx, rn, req)
	}()
	return rn, nil
}

// checkStartable returns the 400 error of startServer when the server sv,
// named label in messages, is running or has an action pending, and nil
// otherwise.
func checkStartable(label string, sv store.Server) error {
	if sv.Pending != "" {
		return pendingError(label, sv.Pending)
	}
	if sv.Active() {
		return badRequest("%s is already running", label)
	}
	return nil
}

// getOrCreateServer returns the user's server, and creates its record
// when it has none. Concurrent first starts of the same server all get the
// one record that the first of them creates.
func (h *Hub) getOrCreateServer(ctx context.Context, user, name string) (store.Server, error) {
	sv, err := h.store.GetServer(ctx, user, name)
	if !errors.Is(err, store.ErrNotFound) {
		return sv, err
	}
	sv, err = h.store.CreateServer(ctx, user, name)
	h.namedServers.forget(user)
	if errors.Is(err, store.ErrExists) {
		return h.store.GetServer(ctx, user, name)
	}
	return sv, err
}

// checkActiveLimit returns a 429 error when active_server_limit servers
// are running or starting already.
func (h *Hub) checkActiveLimit(ctx context.Context) error {
	limit := h.cfg.JupyterHub.ActiveServerLimit
	if limit <= 0 {
		return nil
	}
	servers, err := h.store.ListServers(ctx, "")
	if err != nil {
		return err
	}
	active := 0
	for _, sv := range servers {
		if sv.Active() {
			active++
		}
	}
	if active >= limit {
		h.log.Warn("active server limit reached", "limit", limit)
		return httpapi.Errorf(http.StatusTooManyRequests,
			"Active user limit exceeded. Try again in a few minutes.")
	}
	return nil
}

func (h *Hub) pendingSpawnsLocked() int {
	n := 0
	for _, rn := range h.runs {
		if rn.action == store.PendingSpawn {
			n++
		}
	}
	return n
}

// endRun removes rn from the running operations. Callers end a run before they finish it, so that a
// caller woken by the finish finds the server free for its next action.
func (h *Hub) endRun(rn *run) {
	h.mu.Lock()
	if h.runs[runKey(rn.user, rn.server)] == rn {
		delete(h.runs, runKey(rn.user, rn.server))
	}
	h.mu.Unlock()
}

// prepareStart marks the server pending, issues its API token and OAuth
// client, and returns the spawner's request.
func (h *Hub) prepareStart(ctx context.Context, u store.User, name string,
	options json.RawMessage) (spawn.Request, error) {
	pending := store.PendingSpawn
	if len(options) == 0 || string(options) == "null" {
		options = json.RawMessage("{}")
	}
	if _, err := h.store.UpdateServer(ctx, u.Name, name, store.ServerUpdate{
		Pending: &pending, UserOptions: &options,
	}); err != nil {
		return spawn.Request{}, err
	}
	fail := func(err error) (spawn.Request, error) {
		h.markStopped(context.WithoutCancel(ctx), u.Name, name)
		return spawn.Request{}, err
	}
	prefix := h.serverURLPath(u.Name, name)
	h.revokeServerTokens(ctx, u.Name, name)
	_, token, err := h.store.CreateToken(ctx, store.NewToken{
		Owner: store.Owner{User: u.Name},
		// The scopes of JupyterHub's server role, narrowed to this server.
		Scopes: []string{"users:activity!user=" + u.Name,
			"access:servers!server=" + u.Name + "/" + name},
		Note: h.serverTokenNote(u.Name, name),
	})
	if err != nil {
		return fail(err)
	}
	id := clientID(u.Name, name)
	access := "access:servers!server=" + u.Name + "/" + name
	if _, err := h.store.PutOAuthClient(ctx, store.OAuthClient{
		ID: id, Description: "Server at " + prefix, RedirectURI: prefix + "oauth_callback",
		AllowedScopes: append([]string{access}, h.clientAllowedScopes(u.Name, name)...),
	}, token); err != nil {
		return fail(err)
	}
	// The spawner resolves "~" in the root folder, because only it looks
	// up the user's home folder.
	root, err := h.cfg.Spawner.ExpandNotebookDir(u.Name, prefix)
	if err != nil {
		return fail(err)
	}
	return spawn.Request{
		User:         u.Name,
		Server:       name,
		Env:          h.serverEnv(u.Name, name, token),
		Cmd:          h.cfg.Spawner.Cmd,
		Args:         h.cfg.Spawner.Args,
		NotebookDir:  root,
		StartTimeout: h.cfg.Spawner.StartTimeout,
		HTTPTimeout:  h.cfg.Spawner.HTTPTimeout,
		Prefix:       prefix,
	}, nil
}

// clientAllowedScopes returns Spawner.oauth_client_allowed_scopes for the
// server user/name, with a bare "!server" or "!user" filter filled in, as
// JupyterHub does.
func (h *Hub) clientAllowedScopes(user, name string) []string {
	var out []string
	for _, s := range h.cfg.Spawner.OAuthClientAllowedScopes {
		switch {
		case strings.HasSuffix(s, "!server"):
			s += "=" + user + "/" + name
		case strings.HasSuffix(s, "!user"):
			s += "=" + user
		}
		out = append(out, s)
	}
	return out
}

// serverEnv returns the JUPYTERHUB_* environment of a server, as
// JupyterHub 3's Spawner.get_env sets it, with the [Spawner] environment
// on top.
func (h *Hub) serverEnv(user, name, token string) map[string]string {
	prefix := h.serverURLPath(user, name)
	access, _ := json.Marshal([]string{
		"access:servers!server=" + user + "/" + name, "access:servers!user=" + user})
	allowed, _ := json.Marshal(nonNil(h.clientAllowedScopes(user, name)))
	env := map[string]string{}
	for k, v := range h.cfg.Spawner.Environment {
		env[k] = v
	}
	for k, v := range map[string]string{
		"JUPYTERHUB_API_TOKEN":                   token,
		"JPY_API_TOKEN":                          token,
		"JUPYTERHUB_CLIENT_ID":                   clientID(user, name),
		"JUPYTERHUB_HOST":                        "",
		"JUPYTERHUB_OAUTH_CALLBACK_URL":          prefix + "oauth_callback",
		"JUPYTERHUB_OAUTH_ACCESS_SCOPES":         string(access),
		"JUPYTERHUB_OAUTH_SCOPES":                string(access),
		"JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES": string(allowed),
		"JUPYTERHUB_USER":                        user,
		"JUPYTERHUB_SERVER_NAME":                 name,
		"JUPYTERHUB_API_URL":                     h.apiURL,
		"JUPYTERHUB_ACTIVITY_URL":                h.apiURL + "/users/" + escapePath(user) + "/activity",
		"JUPYTERHUB_BASE_URL":                    h.base,
		"JUPYTERHUB_SERVICE_PREFIX":              prefix,
	} {
		env[k] = v
	}
	if h.cfg.Spawner.DefaultURL != "" {
		env["JUPYTERHUB_DEFAULT_URL"] = h.cfg.Spawner.DefaultURL
	}
	if h.cfg.Spawner.Debug {
		env["JUPYTERHUB_DEBUG"] = "1"
	}
	return env
}

// runStart runs the spawner for rn and records the outcome.
func (h *Hub) runStart(ctx context.Context, rn *run, req spawn.Request) {
	log := h.log.With("user", rn.user, "server", rn.server)
	log.Info("starting server")
	begun := h.now()
	bg := context.WithoutCancel(ctx)
	// The spawner runs the server's command only after the progress
	// event with the process state returns. When storing the state fails,
	// abandon ends ctx, so the command never runs.
	ctx, abandon := context.WithCancelCause(ctx)
	defer abandon(nil)
	started, err := h.spawner.Start(ctx, req, func(e spawn.Event) {
		if len(e.State) > 0 {
			if err := h.recordLaunch(bg, rn, e.State); err != nil {
				abandon(err)
			}
		}
		rn.add(progressEvent{Progress: e.Progress, Message: e.Message})
	})
	if err == nil {
		err = h.markReady(bg, rn.user, rn.server, req.Prefix, started)
		if err != nil {
			// The store does not know the server, so nothing could stop
			// it later: stop it now.
			if stopErr := h.spawner.Stop(bg, started.State); stopErr != nil {
				log.Error("stopping a server the hub could not record", "err", stopErr)
			}
		}
	}
	// The duration is recorded before the run ends, so a client that sees
	// the start end also finds it in /hub/metrics.
	h.metrics.observe(spawnMetric, begun, err)
	if err != nil {
		log.Error("server did not start", "err", err)
		h.markStopped(bg, rn.user, rn.server)
		message := "Spawn failed: " + err.Error()
		h.mu.Lock()
		h.failures[runKey(rn.user, rn.server)] = message
		h.mu.Unlock()
		h.endRun(rn)
		rn.finish(progressEvent{Progress: 100, Failed: true, Message: message}, err)
		return
	}
	log.Info("server ready", "url", started.URL, "duration", h.now().Sub(begun))
	h.endRun(rn)
	rn.finish(h.readyEvent(rn.user, rn.server), nil)
}

// recordLaunch stores the state of a server process that has not run the
// server's command yet. The server stays pending, and a hub that crashes
// from now on leaves the state behind for restoreServers to stop the
// process.
func (h *Hub) recordLaunch(ctx context.Context, rn *run, state json.RawMessage) error {
	if _, err := h.store.UpdateServer(ctx, rn.user, rn.server,
		store.ServerUpdate{State: &state}); err != nil {
		return fmt.Errorf("recording the process of the starting server: %w", err)
	}
	return nil
}

// markReady records a started server and adds its route.
func (h *Hub) markReady(ctx context.Context, user, name, prefix string, s spawn.Started) error {
	target, err := url.Parse(s.URL)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return fmt.Errorf("spawner returned an invalid URL %q", s.URL)
	}
	origin := target.Scheme + "://" + target.Host
	now, none, stored := h.now(), "", origin+prefix
	state := s.State
	if _, err := h.store.UpdateServer(ctx, user, name, store.ServerUpdate{
		Started: &now, LastActivity: &now, Pending: &none, URL: &stored, State: &state,
	}); err != nil {
		return err
	}
	return h.addRoute(user, name, origin)
}

// routeSpec returns the routespec of a server: its prefix unescaped, since
// the proxy matches decoded request paths.
func (h *Hub) routeSpec(user, name string) string {
	spec := h.base + "user/" + user + "/"
	if name != "" {
		spec += name + "/"
	}
	return spec
}

// addRoute routes the server's prefix to origin.
func (h *Hub) addRoute(user, name, origin string) error {
	return h.routes.Add(h.routeSpec(user, name), origin,
		map[string]any{"user": user, "server_name": name})
}

// noteRestoredRoute notes the activity of a route that restoreServers
// added, which routeActivity does not count as a request.
func (h *Hub) noteRestoredRoute(user, name string) {
	if rt, ok := h.routes.Get(h.routeSpec(user, name)); ok {
		h.routeMu.Lock()
		h.restoredRoutes[runKey(user, name)] = rt.LastActivity
		h.routeMu.Unlock()
	}
}

// removeRoute removes the server's route.
func (h *Hub) removeRoute(user, name string) {
	h.routes.Remove(h.routeSpec(user, name))
	h.routeMu.Lock()
	delete(h.restoredRoutes, runKey(user, name))
	h.routeMu.Unlock()
}

// routeActivity returns the route's last activity, and false when it has
// none or the route was restored and has carried no request since. A new
// route's activity is the time it was added, and a restarted hub adds the
// routes of running servers again, so that time is not activity of the
// server.
func (h *Hub) routeActivity(user, name string, rt proxy.Route) (time.Time, bool) {
	h.routeMu.Lock()
	restored, ok := h.restoredRoutes[runKey(user, name)]
	h.routeMu.Unlock()
	if ok && !rt.LastActivity.After(restored) {
		return time.Time{}, false
	}
	return rt.LastActivity, !rt.LastActivity.IsZero()
}

// markStopped records a server as stopped, removes its route and revokes
// its tokens. Errors are logged, because the caller has none to return.
func (h *Hub) markStopped(ctx context.Context, user, name string) {
	h.removeRoute(user, name)
	var zero time.Time
	var none string
	var noState json.RawMessage
	if _, err := h.store.UpdateServer(ctx, user, name, store.ServerUpdate{
		Started: &zero, Pending: &none, URL: &none, State: &noState,
	}); err != nil && !errors.Is(err, store.ErrNotFound) {
		h.log.Error("recording a stopped server", "user", user, "server", name, "err", err)
	}
	h.revokeServerTokens(ctx, user, name)
}

// revokeServerTokens deletes the server's API token and the OAuth tokens
// issued to it, so that nothing a stopped server held keeps working.
func (h *Hub) revokeServerTokens(ctx context.Context, user, name string) {
	tokens, err := h.store.ListTokens(ctx, store.Owner{User: user})
	if err != nil {
		h.log.Error("listing tokens of a server", "user", user, "server", name, "err", err)
		return
	}
	note := h.serverTokenNote(user, name)
	for _, t := range tokens {
		if t.Note == note && t.OAuthClientID == "" {
			if err := h.store.DeleteToken(ctx, t.ID); err != nil {
				h.log.Error("deleting a server token", "user", user, "err", err)
			}
		}
	}
	if _, err := h.store.DeleteTokens(ctx, store.TokenFilter{
		OAuthClientID: clientID(user, name),
	}); err != nil {
		h.log.Error("revoking the OAuth tokens of a server", "user", user, "err", err)
	}
}

// stopServer stops one of the user's servers. It waits for the stop up to
// the slow-spawn timeout and reports whether it finished; a stop that takes
// longer goes on in the background. A stopped server is not an error.
func (h *Hub) stopServer(ctx context.Context, user, name string) (done bool, err error) {
	rn, done, err := h.beginStop(ctx, user, name)
	if rn == nil {
		return done, err
	}
	timer := time.NewTimer(h.slowSpawn)
	defer timer.Stop()
	select {
	case <-rn.done:
		return true, nil
	case <-timer.C:
		return false, nil
	case <-ctx.Done():
		return false, nil
	}
}

// beginStop starts stopping one of the user's servers in the background
// and returns its run. With no run, done reports whether the server is
// stopped already: it is false while another stop is in progress.
func (h *Hub) beginStop(ctx context.Context, user, name string) (rn *run, done bool, err error) {
	sv, err := h.store.GetServer(ctx, user, name)
	if errors.Is(err, store.ErrNotFound) {
		if name == "" {
			return nil, true, nil
		}
		return nil, false, notFound("%s has no server named '%s'", user, name)
	}
	if err != nil {
		return nil, false, err
	}
	rn = newRun(user, name, store.PendingStop)
	h.mu.Lock()
	if cur, busy := h.runs[runKey(user, name)]; busy {
		h.mu.Unlock()
		if cur.action == store.PendingStop {
			return nil, false, nil
		}
		return nil, false, badRequest("%s is pending %s, please wait", serverLabel(user, name), cur.action)
	}
	if !sv.Active() {
		h.mu.Unlock()
		return nil, true, nil
	}
	h.runs[runKey(user, name)] = rn
	h.mu.Unlock()

	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		bg := context.WithoutCancel(h.ctx)
		h.removeRoute(user, name)
		pending := store.PendingStop
		if _, err := h.store.UpdateServer(bg, user, name, store.ServerUpdate{Pending: &pending}); err != nil {
			h.log.Error("recording a pending stop", "user", user, "server", name, "err", err)
		}
		begun := time.Now()
		err := h.spawner.Stop(bg, sv.State)
		h.metrics.observe(stopMetric, begun, err)
		if err != nil {
			h.log.Error("stopping server", "user", user, "server", name, "err", err)
		} else {
			h.log.Info("server stopped", "user", user, "server", name)
		}
		h.markStopped(bg, user, name)
		h.endRun(rn)
		rn.finish(progressEvent{Progress: 100, Message: "Server stopped"}, err)
	}()
	return rn, false, nil
}

// waitStart waits for a start up to the slow-spawn timeout and reports
// whether it finished, and its error.
func (h *Hub) waitStart(ctx context.Context, rn *run) (bool, error) {
	timer := time.NewTimer(h.slowSpawn)
	defer timer.Stop()
	select {
	case <-rn.done:
		rn.mu.Lock()
		defer rn.mu.Unlock()
		return true, rn.err
	case <-timer.C:
	case <-ctx.Done():
	}
	return false, nil
}

// restoreServers polls each server the store lists as active, restores
// the route of each one that runs, and marks the others stopped. A start
// or stop that a previous hub left unfinished is settled the same way.
func (h *Hub) restoreServers(ctx context.Context) error {
	servers, err := h.store.ListServers(ctx, "")
	if err != nil {
		return fmt.Errorf("restoring servers: %w", err)
	}
	for _, sv := range servers {
		if !sv.Active() {
			continue
		}
		log := h.log.With("user", sv.User, "server", sv.Name)
		if sv.Started.IsZero() && len(sv.State) == 0 {
			// The last hub stopped during this start before it stored a
			// process state. The spawner runs a server's command only
			// after its state is stored, so no server runs.
			log.Info("start interrupted before the server ran")
			h.markStopped(ctx, sv.User, sv.Name)
			continue
		}
		if sv.Started.IsZero() {
			// The last hub stopped during this start, so the process
			// may run with no one to stop it later. Stop it, and
			// markStopped revokes the tokens the start issued.
			if err := h.spawner.Stop(ctx, sv.State); err != nil {
				log.Error("stopping the process of an interrupted start", "err", err)
			} else {
				log.Info("stopped the process of an interrupted start")
			}
			h.markStopped(ctx, sv.User, sv.Name)
			continue
		}
		running := false
		if len(sv.State) > 0 && !sv.Started.IsZero() {
			running, err = h.spawner.Poll(ctx, sv.State)
			if err != nil {
				log.Warn("polling server", "err", err)
			}
		}
		if running && sv.Pending == store.PendingStop {
			if err := h.spawner.Stop(ctx, sv.State); err != nil {
				log.Error("finishing an interrupted stop", "err", err)
			}
			running = false
		}
		if running {
			origin, err := routeOrigin(sv.URL)
			if err == nil {
				err = h.addRoute(sv.User, sv.Name, origin)
			}
			if err == nil {
				if sv.Pending != "" {
					none := ""
					_, err = h.store.UpdateServer(ctx, sv.User, sv.Name, store.ServerUpdate{Pending: &none})
				}
			}
			if err == nil {
				h.noteRestoredRoute(sv.User, sv.Name)
				log.Info("server restored", "url", sv.URL)
				continue
			}
			log.Error("restoring the route of a running server", "err", err)
		}
		log.Info("server no longer running")
		h.markStopped(ctx, sv.User, sv.Name)
	}
	return nil
}

// routeOrigin returns the scheme and host of a stored server URL.
func routeOrigin(stored string) (string, error) {
	u, err := url.Parse(stored)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("stored server URL %q is invalid", stored)
	}
	return u.Scheme + "://" + u.Host, nil
}

// serverLabel names a server in messages, as JupyterHub does: "alice's
// server" or "alice's server work".
func serverLabel(user, name string) string {
	if name == "" {
		return user + "'s server"
	}
	return user + "'s server " + name
}

// escapePath escapes a user or server name for a URL path segment as
// JupyterHub 3.0 does, with urllib.parse.quote(name, safe="@~"): every
// byte but ASCII letters, digits and "-._~@" becomes %XX, in upper case.
// So "a+b" is "a%2Bb", where url.PathEscape would keep the "+", and a
// client that builds the URL JupyterHub's way gets the path of the
// server's cookies.
func escapePath(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '@':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
