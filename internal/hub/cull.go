package hub

import (
	"context"
	"time"

	"github.com/jupygo/jupygo/internal/store"
)

// cullIdle starts the goroutine that stops the servers idle longer than
// [IdleCuller] timeout or running longer than max_age. It culls once at
// start, as jupyterhub-idle-culler does, then every cull_every until the
// hub shuts down. Activity comes from the store, so a restarted hub goes
// on where the last one stopped.
func (h *Hub) cullIdle() {
	culler := h.cfg.IdleCuller
	if !culler.Enabled() {
		return
	}
	h.log.Info("culling idle servers", "timeout", culler.Timeout, "max_age", culler.MaxAge,
		"cull_every", culler.CullEvery)
	cull := func(ctx context.Context) { h.cullServers(ctx, h.now()) }
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		cull(h.ctx)
	}()
	h.every(culler.CullEvery, cull)
}

// cullServers stops every ready server that, at now, is idle longer than
// the timeout or older than max_age. A server's activity is the later of
// the store's (its own reports and the proxy's, copied every
// last_activity_interval) and the proxy's current one. The stops go on in
// the background.
func (h *Hub) cullServers(ctx context.Context, now time.Time) {
	culler := h.cfg.IdleCuller
	servers, err := h.store.ListServers(ctx, "")
	if err != nil {
		if ctx.Err() == nil {
			h.log.Warn("listing servers to cull", "err", err)
		}
		return
	}
	seen := map[string]time.Time{}
	for _, rt := range h.routes.List(time.Time{}) {
		user, _ := rt.Data["user"].(string)
		name, _ := rt.Data["server_name"].(string)
		if at, ok := h.routeActivity(user, name, rt); ok && user != "" {
			seen[runKey(user, name)] = at
		}
	}
	admins := map[string]bool{}
	for _, sv := range servers {
		if ctx.Err() != nil {
			return
		}
		if !sv.Ready() || h.runOf(sv.User, sv.Name) != nil {
			continue
		}
		last := sv.LastActivity
		if at := seen[runKey(sv.User, sv.Name)]; at.After(last) {
			last = at
		}
		if last.IsZero() {
			last = sv.Started
		}
		idle, age := now.Sub(last), now.Sub(sv.Started)
		var reason string
		switch {
		case culler.Timeout > 0 && idle >= culler.Timeout:
			reason = "idle"
		case culler.MaxAge > 0 && age >= culler.MaxAge:
			reason = "max_age"
		default:
			continue
		}
		if !culler.CullAdminUsers {
			admin, ok := admins[sv.User]
			if !ok {
				u, err := h.store.GetUser(ctx, sv.User)
				if err != nil {
					h.log.Warn("looking up the owner of a server to cull", "user", sv.User, "err", err)
					continue
				}
				admin = u.Admin
				admins[sv.User] = admin
			}
			if admin {
				continue
			}
		}
		h.cullServer(ctx, sv, reason, idle, age)
	}
}

// cullServer stops one server for reason, and deletes a named server when
// remove_named_servers is set.
func (h *Hub) cullServer(ctx context.Context, sv store.Server, reason string, idle, age time.Duration) {
	h.log.Info("culling server", "user", sv.User, "server", sv.Name, "reason", reason,
		"idle", idle.Round(time.Second), "age", age.Round(time.Second))
	rn, _, err := h.beginStop(ctx, sv.User, sv.Name)
	if err != nil {
		h.log.Warn("culling server failed", "user", sv.User, "server", sv.Name, "err", err)
		return
	}
	h.metrics.culled(reason)
	if sv.Name == "" || !h.cfg.IdleCuller.RemoveNamedServers || rn == nil {
		return
	}
	h.deleteAfterRun(rn)
	h.namedServers.forget(sv.User)
}
