package hub

import (
	"context"
	"errors"
	"time"

	"github.com/jupygo/jupygo/internal/proxy"
	"github.com/jupygo/jupygo/internal/store"
)

// checkRoutes makes the routing table agree with the servers in the store,
// as JupyterHub's check_routes does. Every ready server gets a route to its
// stored URL. The route of a server that is neither ready nor pending is
// removed. Routes whose data names no user are left alone. It returns the
// number of routes changed.
func (h *Hub) checkRoutes(ctx context.Context) (int, error) {
	stale := map[string]proxy.Route{}
	for _, rt := range h.routes.List(time.Time{}) {
		if user, _ := rt.Data["user"].(string); user != "" {
			stale[rt.Spec] = rt
		}
	}
	servers, err := h.store.ListServers(ctx, "")
	if err != nil {
		return 0, err
	}
	changed := 0
	for _, sv := range servers {
		spec := proxy.CleanSpec(h.routeSpec(sv.User, sv.Name))
		current, routed := stale[spec]
		delete(stale, spec)
		if sv.Pending != "" || !sv.Ready() && !routed {
			continue
		}
		if origin, err := routeOrigin(sv.URL); err == nil && routed && current.Target == origin {
			continue
		}
		n, err := h.repairRoute(ctx, sv.User, sv.Name)
		if err != nil {
			return changed, err
		}
		changed += n
	}
	for _, rt := range stale {
		user, _ := rt.Data["user"].(string)
		name, _ := rt.Data["server_name"].(string)
		n, err := h.repairRoute(ctx, user, name)
		if err != nil {
			return changed, err
		}
		changed += n
	}
	return changed, nil
}

// repairRoute makes one server's route agree with the store and returns 1
// when it changed the route. A server with a start, stop or poll in
// progress is left alone, because that operation sets the route itself.
// Those operations register under h.mu, and repairRoute holds h.mu from
// its check to its change, so none of them can begin in between and have
// its own route change undone.
func (h *Hub) repairRoute(ctx context.Context, user, name string) (int, error) {
	key := runKey(user, name)
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, busy := h.runs[key]; busy || h.checking[key] {
		return 0, nil
	}
	spec := h.routeSpec(user, name)
	current, routed := h.routes.Get(spec)
	log := h.log.With("user", user, "server", name)
	sv, err := h.store.GetServer(ctx, user, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, err
	}
	switch {
	case err == nil && sv.Pending != "":
		return 0, nil
	case err == nil && sv.Ready():
		origin, err := routeOrigin(sv.URL)
		if err != nil {
			log.Error("repairing the route of a running server", "err", err)
			return 0, nil
		}
		if routed && current.Target == origin {
			return 0, nil
		}
		if err := h.addRoute(user, name, origin); err != nil {
			return 0, err
		}
		if routed {
			log.Warn("route updated", "old_target", current.Target, "target", origin)
		} else {
			log.Warn("missing route added", "target", origin)
		}
		return 1, nil
	case routed:
		h.removeRoute(user, name)
		log.Warn("stale route removed", "target", current.Target)
		return 1, nil
	}
	return 0, nil
}
