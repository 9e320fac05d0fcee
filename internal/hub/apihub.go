package hub

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/store"
)

// handleGetProxy serves GET /hub/api/proxy: the routing table in
// configurable-http-proxy's form. As in JupyterHub 3.0, a page of it holds
// the routes from offset on in the order of their routespecs.
func (h *Hub) handleGetProxy(w http.ResponseWriter, r *http.Request, id *identity) error {
	if !id.scopes.has("proxy") {
		return forbidden("proxy")
	}
	offset, limit, err := h.pageParams(r)
	if err != nil {
		return err
	}
	routes := map[string]any{}
	for _, rt := range h.routes.List(time.Time{}) {
		data := map[string]any{}
		for k, v := range rt.Data {
			data[k] = v
		}
		spec := escapeRoutespec(rt.Spec) + "/"
		routes[spec] = map[string]any{"routespec": spec, "target": rt.Target, "data": data}
	}
	specs := slices.Sorted(maps.Keys(routes))
	page := map[string]any{}
	for _, spec := range specs[min(offset, len(specs)):min(offset+limit, len(specs))] {
		page[spec] = routes[spec]
	}
	return writeList(w, r, page, offset, limit, len(routes))
}

// escapeRoutespec escapes each segment of a decoded routespec with
// escapePath. JupyterHub 3.0 does the same to the decoded routes it reads
// from configurable-http-proxy, so /user/a b/ is listed as /user/a%20b/.
func escapeRoutespec(spec string) string {
	segments := strings.Split(spec, "/")
	for i, s := range segments {
		segments[i] = escapePath(s)
	}
	return strings.Join(segments, "/")
}

// handleCheckProxy serves POST /hub/api/proxy: it checks the routing table
// against the servers in the store and repairs it, as JupyterHub's
// check_routes does. Like JupyterHub, it replies 200 with an empty body.
func (h *Hub) handleCheckProxy(w http.ResponseWriter, r *http.Request, id *identity) error {
	if !id.scopes.has("proxy") {
		return forbidden("proxy")
	}
	changed, err := h.checkRoutes(r.Context())
	if err != nil {
		return err
	}
	h.log.Info("routes checked", "by", id.name(), "changed", changed)
	w.WriteHeader(http.StatusOK)
	return nil
}

// externalProxyKeys are the keys of a PATCH /hub/api/proxy body that point
// JupyterHub at a new external proxy: api_url and auth_token in JupyterHub
// 3's handler, ip, port and protocol in its REST API description.
var externalProxyKeys = []string{"api_url", "auth_token", "ip", "port", "protocol"}

// handlePatchProxy serves PATCH /hub/api/proxy, which informs JupyterHub that
// a new external proxy is in charge. The hub's proxy is built in, so a body
// that names an external proxy gets a 400 and changes nothing. Any other
// JSON object, such as {}, checks the routes as POST does, and other keys
// are ignored, as JupyterHub ignores them.
func (h *Hub) handlePatchProxy(w http.ResponseWriter, r *http.Request, id *identity) error {
	if !id.scopes.has("proxy") {
		return forbidden("proxy")
	}
	var body map[string]json.RawMessage
	if err := httpapi.DecodeJSON(w, r, &body, 1<<20, false); err != nil {
		return err
	}
	if body == nil {
		return badRequest("Request body must be a JSON object")
	}
	var named []string
	for _, k := range externalProxyKeys {
		if _, ok := body[k]; ok {
			named = append(named, k)
		}
	}
	if len(named) > 0 {
		return badRequest("The proxy is built into jupygo hub, so it cannot be replaced by "+
			"an external proxy: %s cannot be set. Nothing was changed.", strings.Join(named, ", "))
	}
	return h.handleCheckProxy(w, r, id)
}

// handleListServices serves GET /hub/api/services.
func (h *Hub) handleListServices(w http.ResponseWriter, r *http.Request, id *identity) error {
	if !id.scopes.hasAny("list:services") {
		return forbidden("list:services")
	}
	services, err := h.store.ListServices(r.Context())
	if err != nil {
		return err
	}
	out := map[string]any{}
	for _, s := range services {
		if id.scopes.has("list:services") || id.scopes.has("list:services!service="+s.Name) {
			out[s.Name] = h.serviceModel(s)
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *Hub) handleGetService(w http.ResponseWriter, r *http.Request, id *identity) error {
	name := r.PathValue("service")
	if !id.scopes.has("read:services") && !id.scopes.has("read:services!service="+name) {
		return deny(id.scopes, "read:services")
	}
	s, err := h.store.GetService(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("No such service: %s", name)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h.serviceModel(s))
}

// serviceModel is JupyterHub's service model.
func (h *Hub) serviceModel(s store.Service) map[string]any {
	return map[string]any{"kind": "service", "name": s.Name, "admin": s.Admin,
		"roles": nonNil(s.Roles), "url": s.URL, "prefix": h.servicePrefix(s.Name)}
}

// handleShutdown serves POST /hub/api/shutdown: {"servers": bool}, where
// true stops every user server first. Unlike JupyterHub, whose
// cleanup_servers defaults to true, servers keep running unless asked,
// as they do when the hub stops at a signal. The "proxy" key is accepted
// and has no effect, because the proxy is part of the hub.
func (h *Hub) handleShutdown(w http.ResponseWriter, r *http.Request, id *identity) error {
	if !id.scopes.has("shutdown") {
		return forbidden("shutdown")
	}
	var body struct {
		Servers *bool `json:"servers"`
		Proxy   *bool `json:"proxy"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		return err
	}
	stopServers := body.Servers != nil && *body.Servers
	h.log.Info("shutdown requested", "by", id.name(), "stop_servers", stopServers)
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		if stopServers {
			h.stopEveryServer()
		}
		h.shutdownOnce.Do(func() { close(h.shutdown) })
	}()
	return writeJSON(w, http.StatusAccepted, map[string]string{"message": "Shutting down Hub"})
}

// stopEveryServer stops all active servers and waits for the stops.
func (h *Hub) stopEveryServer() {
	ctx := context.WithoutCancel(h.ctx)
	servers, err := h.store.ListServers(ctx, "")
	if err != nil {
		h.log.Error("listing servers to stop", "err", err)
		return
	}
	for _, sv := range servers {
		if !sv.Active() {
			continue
		}
		if _, err := h.stopServer(ctx, sv.User, sv.Name); err != nil {
			h.log.Error("stopping server at shutdown", "user", sv.User, "server", sv.Name, "err", err)
			continue
		}
		if rn := h.runOf(sv.User, sv.Name); rn != nil {
			<-rn.done
		}
	}
}
