package hub

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/store"
)

// The sharing endpoints of JupyterHub 5.0. A share grants a user or a group
// scopes on one server, narrowed to it with "!server=OWNER/SERVER"; the
// store keeps the base scopes. A share code is a secret that a signed-in
// user exchanges for a share at {prefix}accept-share. Every list is
// paginated, {"items": [...], "_pagination": {...}}, whatever the Accept
// header, as in JupyterHub 5.0.

// defaultShareScopes are the base scopes of a share or code whose request
// names none.
var defaultShareScopes = []string{"access:servers"}

// shareModel is JupyterHub 5.0's share model.
func (h *Hub) shareModel(sh store.Share) map[string]any {
	var user, group any
	kind := "user"
	if sh.User != "" {
		user = map[string]any{"name": sh.User}
	} else {
		group, kind = map[string]any{"name": sh.Group}, "group"
	}
	return map[string]any{
		"server":     h.sharedServerModel(sh.Server),
		"scopes":     serverScopes(sh.Scopes, sh.Server.User, sh.Server.Name),
		"user":       user,
		"group":      group,
		"kind":       kind,
		"created_at": isoTime(sh.Created),
	}
}

// sharedServerModel is the short server model of shares and share codes.
// full_url is null because the hub has no public URL setting, as in
// JupyterHub without public_url.
func (h *Hub) sharedServerModel(sv store.Server) map[string]any {
	return map[string]any{
		"user":     map[string]any{"name": sv.User},
		"name":     sv.Name,
		"url":      h.serverURLPath(sv.User, sv.Name),
		"full_url": nil,
		"ready":    sv.Ready(),
	}
}

// shareCodeModel is JupyterHub 5.0's share code model. code is the clear
// code, "" except in the reply that creates it.
func (h *Hub) shareCodeModel(c store.ShareCode, code string) map[string]any {
	m := map[string]any{
		"server":            h.sharedServerModel(c.Server),
		"scopes":            serverScopes(c.Scopes, c.Server.User, c.Server.Name),
		"id":                "sc_" + strconv.FormatInt(c.ID, 10),
		"created_at":        isoTime(c.Created),
		"expires_at":        isoTime(c.ExpiresAt),
		"exchange_count":    c.ExchangeCount,
		"last_exchanged_at": isoTime(c.LastExchanged),
	}
	if code != "" {
		m["code"] = code
		m["accept_url"] = h.prefix + "accept-share?" + url.Values{"code": {code}}.Encode()
		m["full_accept_url"] = nil
	}
	return m
}

// writeShares writes a page of shares in the paginated form.
func (h *Hub) writeShares(w http.ResponseWriter, r *http.Request, q store.ShareQuery) error {
	offset, limit, err := h.pageParams(r)
	if err != nil {
		return err
	}
	q.Page = store.Page{Offset: offset, Limit: limit}
	shares, total, err := h.store.ListShares(r.Context(), q)
	if err != nil {
		return err
	}
	items := make([]map[string]any, len(shares))
	for i, sh := range shares {
		items[i] = h.shareModel(sh)
	}
	return writePaginated(w, r, items, offset, limit, total)
}

// sharePath is the server that a /shares or /share-codes path names.
// server is nil for the paths that name the owner alone.
type sharePath struct {
	owner  store.User
	server *string
}

// serverName returns the server's name, "" for the default server.
func (p sharePath) serverName() string {
	if p.server == nil {
		return ""
	}
	return *p.server
}

// lookupSharePath returns the owner and server that r's path names, after
// checking that id holds scope for them. A missing owner or server is a
// 404 for a caller with the scope, and deny's error for others.
func (h *Hub) lookupSharePath(r *http.Request, id *identity, scope string) (sharePath, error) {
	name := r.PathValue("owner")
	var server *string
	if strings.HasSuffix(r.URL.Path, "/") || r.PathValue("server") != "" {
		s := r.PathValue("server")
		server = &s
	}
	if server == nil {
		u, err := h.lookupUser(r.Context(), id, name, scope)
		return sharePath{owner: u, server: nil}, err
	}
	u, err := h.store.GetUser(r.Context(), name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return sharePath{}, err
	}
	if !id.scopes.allows(scope, serverTarget(name, u.Groups, *server)) {
		return sharePath{}, deny(id.scopes, scope)
	}
	if err == nil {
		_, err = h.store.GetServer(r.Context(), name, *server)
	}
	if errors.Is(err, store.ErrNotFound) {
		return sharePath{}, notFound("No such server: %s/%s", name, *server)
	}
	return sharePath{owner: u, server: server}, err
}

// handleListShares serves GET /hub/api/shares/{owner} and
// GET /hub/api/shares/{owner}/{server}.
func (h *Hub) handleListShares(w http.ResponseWriter, r *http.Request, id *identity) error {
	p, err := h.lookupSharePath(r, id, "read:shares")
	if err != nil {
		return err
	}
	return h.writeShares(w, r, store.ShareQuery{Owner: p.owner.Name, Server: p.server})
}

// handleOwnerOnly rejects with a 405 the methods that the paths naming an
// owner alone lack, as JupyterHub 5.0 does.
func (h *Hub) handleOwnerOnly(w http.ResponseWriter, r *http.Request, id *identity) error {
	return httpapi.Errorf(http.StatusMethodNotAllowed,
		"%s needs a server name in the path: %s{server}", r.Method,
		strings.TrimSuffix(r.URL.Path, "/")+"/")
}

// readShareBody reads and parses the JSON body of a share request.
func (h *Hub) readShareBody(w http.ResponseWriter, r *http.Request, kind shareBodyKind,
	p sharePath) (shareRequest, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		return shareRequest{}, httpapi.Wrap(http.StatusBadRequest, err, "cannot read the request body")
	}
	req, err := parseShareBody(data, kind, p.owner.Name, p.serverName())
	if err != nil {
		return shareRequest{}, httpapi.Wrap(http.StatusBadRequest, err, err.Error())
	}
	return req, nil
}

// withDefaultScopes returns req with defaultShareScopes when it names no
// scopes.
func withDefaultScopes(req shareRequest) shareRequest {
	if req.Scopes == nil {
		req.Scopes = defaultShareScopes
	}
	return req
}

// checkGrantable returns a 403 unless id holds every scope it would grant
// on the server, as JupyterHub 5.0 checks before a share or a code.
func (h *Hub) checkGrantable(ctx context.Context, id *identity, p sharePath, base []string) error {
	for _, scope := range serverScopes(base, p.owner.Name, p.serverName()) {
		ok, err := h.coversWithGroups(ctx, id.scopes, scope)
		if err != nil {
			return err
		}
		if !ok {
			return httpapi.Errorf(http.StatusForbidden,
				"Do not have permission to grant share with scope %s", scope)
		}
	}
	return nil
}

// grantRequest returns the server and the checked body of a request that
// grants scopes on the server, a share or a share code: id must hold
// shares on the server and every scope that the body grants, which are
// defaultShareScopes when it names none.
func (h *Hub) grantRequest(w http.ResponseWriter, r *http.Request, id *identity,
	kind shareBodyKind) (sharePath, shareRequest, error) {
	p, err := h.lookupSharePath(r, id, "shares")
	if err != nil {
		return sharePath{}, shareRequest{}, err
	}
	req, err := h.readShareBody(w, r, kind, p)
	if err != nil {
		return sharePath{}, shareRequest{}, err
	}
	req = withDefaultScopes(req)
	if err := h.checkGrantable(r.Context(), id, p, req.Scopes); err != nil {
		return sharePath{}, shareRequest{}, err
	}
	return p, req, nil
}

// handleGrantShare serves POST /hub/api/shares/{owner}/{server}.
func (h *Hub) handleGrantShare(w http.ResponseWriter, r *http.Request, id *identity) error {
	ctx := r.Context()
	p, req, err := h.grantRequest(w, r, id, shareGrantBody)
	if err != nil {
		return err
	}
	if err := h.checkRecipient(ctx, id, req); err != nil {
		return err
	}

	k := store.ShareKey{Owner: p.owner.Name, Server: p.serverName(), User: req.User, Group: req.Group}
	sh, err := h.store.GrantShare(ctx, k, req.Scopes)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("No such server or recipient: %s", k)
	}
	if err != nil {
		return err
	}
	h.log.Info("share granted", "user", p.owner.Name, "server", p.serverName(),
		"with_user", req.User, "with_group", req.Group, "scopes", req.Scopes, "by", id.name())
	return writeJSON(w, http.StatusOK, h.shareModel(sh))
}

// checkRecipient checks the user or group that req shares with, as
// JupyterHub 5.0 does: a 403 unless id may read its name, with a scope
// that is unfiltered or filtered to it (or to the user's groups), and a
// 400 when it does not exist.
func (h *Hub) checkRecipient(ctx context.Context, id *identity, req shareRequest) error {
	if req.Group != "" {
		if !groupAllows(id.scopes, "read:groups:name", req.Group) {
			return httpapi.Errorf(http.StatusForbidden,
				"Need scope 'read:groups:name' to share with groups by name")
		}
		if _, err := h.store.GetGroup(ctx, req.Group); errors.Is(err, store.ErrNotFound) {
			return badRequest("No such group: %s", req.Group)
		}
		return nil
	}
	ok, err := h.coversWithGroups(ctx, id.scopes, "read:users:name!user="+req.User)
	if err != nil {
		return err
	}
	if !ok {
		return httpapi.Errorf(http.StatusForbidden,
			"Need scope 'read:users:name' to share with users by name")
	}
	if _, err := h.store.GetUser(ctx, req.User); errors.Is(err, store.ErrNotFound) {
		return badRequest("No such user: %s", req.User)
	}
	return nil
}

// handleRevokeShare serves PATCH /hub/api/shares/{owner}/{server}: it takes
// scopes, or all of them, away from one user's or group's share. It
// returns the share that remains, or {} when none does, also for a user or
// group that does not exist.
func (h *Hub) handleRevokeShare(w http.ResponseWriter, r *http.Request, id *identity) error {
	p, err := h.lookupSharePath(r, id, "shares")
	if err != nil {
		return err
	}
	req, err := h.readShareBody(w, r, shareGrantBody, p)
	if err != nil {
		return err
	}
	k := store.ShareKey{Owner: p.owner.Name, Server: p.serverName(), User: req.User, Group: req.Group}
	sh, remains, err := h.store.RevokeShare(r.Context(), k, req.Scopes)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !remains) {
		h.log.Info("share revoked", "user", p.owner.Name, "server", p.serverName(),
			"with_user", req.User, "with_group", req.Group, "by", id.name())
		return writeJSON(w, http.StatusOK, map[string]any{})
	}
	if err != nil {
		return err
	}
	h.log.Info("share narrowed", "user", p.owner.Name, "server", p.serverName(),
		"with_user", req.User, "with_group", req.Group, "scopes", sh.Scopes, "by", id.name())
	return writeJSON(w, http.StatusOK, h.shareModel(sh))
}

// handleDeleteShares serves DELETE /hub/api/shares/{owner}/{server}: it
// revokes every share of the server.
func (h *Hub) handleDeleteShares(w http.ResponseWriter, r *http.Request, id *identity) error {
	p, err := h.lookupSharePath(r, id, "shares")
	if err != nil {
		return err
	}
	n, err := h.store.DeleteShares(r.Context(), p.owner.Name, p.serverName())
	if err != nil {
		return err
	}
	h.log.Info("shares deleted", "user", p.owner.Name, "server", p.serverName(),
		"count", n, "by", id.name())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleListShareCodes serves GET /hub/api/share-codes/{owner} and
// GET /hub/api/share-codes/{owner}/{server}. The codes themselves are not
// stored, so the models lack them.
func (h *Hub) handleListShareCodes(w http.ResponseWriter, r *http.Request, id *identity) error {
	p, err := h.lookupSharePath(r, id, "read:shares")
	if err != nil {
		return err
	}
	offset, limit, err := h.pageParams(r)
	if err != nil {
		return err
	}
	codes, total, err := h.store.ListShareCodes(r.Context(), store.ShareCodeQuery{
		Owner: p.owner.Name, Server: p.server, Page: store.Page{Offset: offset, Limit: limit}})
	if err != nil {
		return err
	}
	items := make([]map[string]any, len(codes))
	for i, c := range codes {
		items[i] = h.shareCodeModel(c, "")
	}
	return writePaginated(w, r, items, offset, limit, total)
}

// handleCreateShareCode serves POST /hub/api/share-codes/{owner}/{server}.
// The reply is the only one that contains the code.
func (h *Hub) handleCreateShareCode(w http.ResponseWriter, r *http.Request, id *identity) error {
	ctx := r.Context()
	p, req, err := h.grantRequest(w, r, id, shareCodeBody)
	if err != nil {
		return err
	}
	c, code, err := h.store.CreateShareCode(ctx, store.NewShareCode{
		Owner: p.owner.Name, Server: p.serverName(), Scopes: req.Scopes,
		ExpiresAt: h.now().Add(req.ExpiresIn),
	})
	if err != nil {
		return err
	}
	h.log.Info("share code created", "user", p.owner.Name, "server", p.serverName(),
		"share_code_id", c.ID, "expires_at", c.ExpiresAt, "by", id.name())
	return writeJSON(w, http.StatusOK, h.shareCodeModel(c, code))
}

// handleDeleteShareCodes serves DELETE /hub/api/share-codes/{owner}/{server}:
// the code of ?code=, or the one with ?id=sc_N, or else every code of the
// server.
func (h *Hub) handleDeleteShareCodes(w http.ResponseWriter, r *http.Request, id *identity) error {
	p, err := h.lookupSharePath(r, id, "shares")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.ShareCodeFilter{Owner: p.owner.Name, Server: p.serverName(), Code: q.Get("code")}
	if f.Code == "" && q.Get("id") != "" {
		n, err := strconv.ParseInt(strings.TrimPrefix(q.Get("id"), "sc_"), 10, 64)
		if !strings.HasPrefix(q.Get("id"), "sc_") || err != nil || n <= 0 {
			return notFound("No code found matching id=%s", q.Get("id"))
		}
		f.ID = n
	}
	n, err := h.store.DeleteShareCodes(r.Context(), f)
	if err != nil {
		return err
	}
	if n == 0 && (f.Code != "" || f.ID != 0) {
		if f.Code != "" {
			return notFound("No matching code found")
		}
		return notFound("No code found matching id=%s", q.Get("id"))
	}
	h.log.Info("share codes deleted", "user", p.owner.Name, "server", p.serverName(),
		"count", n, "by", id.name())
	w.WriteHeader(http.StatusNoContent)
	return nil
}
