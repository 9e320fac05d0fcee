package hub

import (
	"errors"
	"net/http"

	"github.com/jupygo/jupygo/internal/store"
)

// The endpoints of JupyterHub 5.0 about the shares that a user or a group
// received: /users/{name}/shared and /groups/{name}/shared. A user's list
// includes the shares with the user's groups; the single-share paths name
// the user's or group's own share only.

// handleUserShared serves GET /hub/api/users/{name}/shared.
func (h *Hub) handleUserShared(w http.ResponseWriter, r *http.Request, id *identity) error {
	u, err := h.lookupUser(r.Context(), id, r.PathValue("name"), "read:users:shares")
	if err != nil {
		return err
	}
	return h.writeShares(w, r, store.ShareQuery{User: u.Name})
}

// handleGroupShared serves GET /hub/api/groups/{group}/shared.
func (h *Hub) handleGroupShared(w http.ResponseWriter, r *http.Request, id *identity) error {
	g, err := h.lookupGroup(r, id, "read:groups:shares")
	if err != nil {
		return err
	}
	return h.writeShares(w, r, store.ShareQuery{Group: g.Name})
}

// receivedShare returns the share that a /users/{name}/shared/{owner}/{server}
// or /groups/{group}/shared/{owner}/{server} path names, after checking
// scope on the user or group. A missing server or share is a 404.
func (h *Hub) receivedShare(r *http.Request, id *identity, scope string) (store.Share, error) {
	k := store.ShareKey{Owner: r.PathValue("owner"), Server: r.PathValue("server")}
	with := ""
	if name := r.PathValue("name"); name != "" {
		u, err := h.lookupUser(r.Context(), id, name, scope)
		if err != nil {
			return store.Share{}, err
		}
		k.User, with = u.Name, "user "+u.Name
	} else {
		g, err := h.lookupGroup(r, id, scope)
		if err != nil {
			return store.Share{}, err
		}
		k.Group, with = g.Name, "group "+g.Name
	}
	sh, err := h.store.GetShare(r.Context(), k)
	if errors.Is(err, store.ErrNotFound) {
		return store.Share{}, notFound("No such share for %s on %s/%s", with, k.Owner, k.Server)
	}
	return sh, err
}

// handleGetReceivedShare serves GET /hub/api/users/{name}/shared/{owner}/{server}
// and GET /hub/api/groups/{group}/shared/{owner}/{server}.
func (h *Hub) handleGetReceivedShare(w http.ResponseWriter, r *http.Request, id *identity) error {
	scope := "read:users:shares"
	if r.PathValue("group") != "" {
		scope = "read:groups:shares"
	}
	sh, err := h.receivedShare(r, id, scope)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h.shareModel(sh))
}

// handleLeaveShare serves DELETE /hub/api/users/{name}/shared/{owner}/{server}
// and DELETE /hub/api/groups/{group}/shared/{owner}/{server}: the user or
// group gives up its share.
func (h *Hub) handleLeaveShare(w http.ResponseWriter, r *http.Request, id *identity) error {
	scope := "users:shares"
	if r.PathValue("group") != "" {
		scope = "groups:shares"
	}
	sh, err := h.receivedShare(r, id, scope)
	if err != nil {
		return err
	}
	k := store.ShareKey{Owner: sh.Server.User, Server: sh.Server.Name, User: sh.User, Group: sh.Group}
	if _, _, err := h.store.RevokeShare(r.Context(), k, nil); err != nil {
		return err
	}
	h.log.Info("share left", "user", sh.Server.User, "server", sh.Server.Name,
		"with_user", sh.User, "with_group", sh.Group, "by", id.name())
	w.WriteHeader(http.StatusNoContent)
	return nil
}
