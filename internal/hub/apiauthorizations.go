package hub

import (
	"errors"
	"net/http"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/store"
)

// handleTokenOwner serves GET /hub/api/authorizations/token/{token}: the
// model of the user or service that owns the token. JupyterHub 3.0 still
// serves it, deprecated since 2.0 in favour of GET /hub/api/user. As there,
// only a token authenticates the request, and no scope is needed. The
// caller's scopes gain those that identify a user owner, so the model has
// at least the owner's name and groups, and the fields the caller may
// read. The call records activity of the token and of its user.
func (h *Hub) handleTokenOwner(w http.ResponseWriter, r *http.Request, id *identity) error {
	if id.token == nil {
		return httpapi.Errorf(http.StatusForbidden,
			"Only token authentication can look up a token's owner")
	}
	h.warnTokenOwnerOnce.Do(func() {
		h.log.Warn("GET /hub/api/authorizations/token/TOKEN is deprecated since JupyterHub "+
			"2.0: clients should call GET /hub/api/user with the token", "by", id.name())
	})

	ctx := r.Context()
	t, err := h.store.FindToken(ctx, r.PathValue("token"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Not Found")
	}
	if err != nil {
		return err
	}

	now := h.now()
	if err := h.store.TouchToken(ctx, t.ID, now); err != nil {
		h.log.Warn("recording token activity", "token_id", t.ID, "err", err)
	}

	if t.Owner.Service != "" {
		s, err := h.store.GetService(ctx, t.Owner.Service)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, h.serviceModel(s))
	}
	u, err := h.store.UpdateUser(ctx, t.Owner.User, store.UserUpdate{LastActivity: &now})
	if err != nil {
		return err
	}
	servers, err := h.store.ListServers(ctx, u.Name)
	if err != nil {
		return err
	}
	scopes := withIdentifyScopes(id.scopes, u.Name)
	return writeJSON(w, http.StatusOK, h.userModel(u, servers, scopes, false))
}
