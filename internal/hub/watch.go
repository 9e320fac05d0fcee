package hub

import (
	"context"
	"errors"
	"time"

	"github.com/jupygo/jupygo/internal/hub/spawn"
	"github.com/jupygo/jupygo/internal/store"
)

// deleteAfterStop deletes a named server's record once its stop in
// progress ends, for DELETE with {"remove": true} on a slow stop.
func (h *Hub) deleteAfterStop(user, name string) {
	if rn := h.runOf(user, name); rn != nil {
		h.deleteAfterRun(rn)
	}
}

// deleteAfterRun deletes the record of rn's server once rn ends.
func (h *Hub) deleteAfterRun(rn *run) {
	user, name := rn.user, rn.server
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		select {
		case <-rn.done:
		case <-h.ctx.Done():
			return
		}
		err := h.store.DeleteServer(context.WithoutCancel(h.ctx), user, name)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			h.log.Error("deleting a stopped server", "user", user, "server", name, "err", err)
		}
	}()
}

// checkRoute polls a ready server in the background: when the proxy could
// not reach it, and every pollInterval. When the spawner reports that the
// server no longer runs, the hub marks it stopped, so the next request
// offers to start it again.
func (h *Hub) checkRoute(user, name string) {
	key := runKey(user, name)
	h.mu.Lock()
	if _, busy := h.runs[key]; busy || h.checking[key] {
		h.mu.Unlock()
		return
	}
	h.checking[key] = true
	h.mu.Unlock()

	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer func() {
			h.mu.Lock()
			delete(h.checking, key)
			h.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
		defer cancel()
		sv, err := h.store.GetServer(ctx, user, name)
		if err != nil || !sv.Ready() {
			return
		}
		running, err := h.spawner.Poll(ctx, sv.State)
		if err != nil {
			h.log.Warn("polling an unreachable server", "user", user, "server", name, "err", err)
		}
		if running || ctx.Err() != nil {
			return
		}
		h.log.Info("server exited", "user", user, "server", name)
		h.markStopped(context.WithoutCancel(ctx), user, name)
	}()
}

// recordActivity starts a goroutine that, every interval until the hub
// shuts down, copies the last activity of each route to the server and its
// user in the store. The proxy moves a route's activity as traffic flows,
// and JupyterHub reads configurable-http-proxy's routes the same way.
func (h *Hub) recordActivity(interval time.Duration) {
	if interval > 0 {
		h.every(interval, h.copyRouteActivity)
	}
}

func (h *Hub) copyRouteActivity(ctx context.Context) {
	for _, rt := range h.routes.List(time.Time{}) {
		user, _ := rt.Data["user"].(string)
		name, _ := rt.Data["server_name"].(string)
		if user == "" {
			continue
		}
		at, ok := h.routeActivity(user, name, rt)
		if !ok {
			continue
		}
		if _, err := h.store.UpdateServer(ctx, user, name, store.ServerUpdate{LastActivity: &at}); err != nil {
			if ctx.Err() == nil {
				h.log.Warn("recording server activity", "user", user, "server", name, "err", err)
			}
			continue
		}
		if _, err := h.store.UpdateUser(ctx, user, store.UserUpdate{LastActivity: &at}); err != nil &&
			ctx.Err() == nil {
			h.log.Warn("recording user activity", "user", user, "err", err)
		}
	}
}

// Intervals of the hub's background checks.
const (
	// pollInterval is how often running servers are polled, JupyterHub's
	// Spawner.poll_interval default.
	pollInterval = 30 * time.Second
	// purgeInterval is how often expired tokens, codes and sessions are
	// deleted.
	purgeInterval = time.Hour
)

// watch starts the goroutines that poll running servers, so that one
// whose process died is marked stopped even without traffic, and that
// purge expired rows from the store.
func (h *Hub) watch() {
	h.every(pollInterval, h.pollServers)
	if n, ok := h.spawner.(spawn.ExitNotifier); ok {
		h.onExits(n.Exited())
	}
	h.every(purgeInterval, func(ctx context.Context) {
		if _, err := h.store.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			h.log.Warn("purging expired tokens and sessions", "err", err)
		}
	})
}

// onExits polls the servers each time exited receives, until the hub
// shuts down.
func (h *Hub) onExits(exited <-chan struct{}) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		for {
			select {
			case <-exited:
				h.pollServers(h.ctx)
			case <-h.ctx.Done():
				return
			}
		}
	}()
}

// every runs f every interval until the hub shuts down.
func (h *Hub) every(interval time.Duration, f func(ctx context.Context)) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-h.ctx.Done():
				return
			case <-tick.C:
				f(h.ctx)
			}
		}
	}()
}

// pollServers polls every ready server and marks stopped those whose
// spawner reports them gone.
func (h *Hub) pollServers(ctx context.Context) {
	servers, err := h.store.ListServers(ctx, "")
	if err != nil {
		if ctx.Err() == nil {
			h.log.Warn("listing servers to poll", "err", err)
		}
		return
	}
	for _, sv := range servers {
		if sv.Ready() && h.runOf(sv.User, sv.Name) == nil {
			h.checkRoute(sv.User, sv.Name)
		}
	}
}
