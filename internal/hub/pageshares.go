package hub

import (
	"context"
	"errors"
	"net/http"

	"github.com/jupygo/jupygo/internal/store"
)

// The pages of sharing: {prefix}accept-share, where a signed-in user
// exchanges a share code for a share, and the forms of the home page that
// revoke a share of the user's server or leave a share with the user.

// handleAcceptSharePage serves GET {prefix}accept-share?code=...: a page
// that shows the server and the scopes the code grants, with a button
// that posts the code back.
func (h *Hub) handleAcceptSharePage(w http.ResponseWriter, r *http.Request) {
	id := h.pageUser(w, r)
	if id == nil {
		return
	}
	code := r.URL.Query().Get("code")
	c, err := h.store.FindShareCode(r.Context(), code)
	if errors.Is(err, store.ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "Not found", "Share not found or expired.")
		return
	}
	if err != nil {
		h.serverErrorPage(w, r, err)
		return
	}
	if c.Server.User == id.user.Name {
		h.errorPage(w, r, http.StatusForbidden, "Forbidden",
			"This code shares your own server: send it to the people you share it with.")
		return
	}
	serverURL := h.serverURLPath(c.Server.User, c.Server.Name)
	h.render(w, r, http.StatusOK, "Accept sharing invitation", id, pageOf(acceptShareView,
		acceptSharePageData{
			owner: c.Server.User, serverName: c.Server.Name, serverURL: serverURL,
			ready: c.Server.Ready(), code: code,
			scopes:    serverScopes(c.Scopes, c.Server.User, c.Server.Name),
			next:      h.nextOr(r, serverURL),
			expiresAt: formatTime(c.ExpiresAt),
		}))
}

// handleAcceptShare serves POST {prefix}accept-share: it exchanges the
// code of the form for a share with the signed-in user and redirects to
// next= or to the shared server.
func (h *Hub) handleAcceptShare(w http.ResponseWriter, r *http.Request) {
	id := h.pageUser(w, r)
	if id == nil || !h.pageForm(w, r) {
		return
	}
	sh, err := h.store.ExchangeShareCode(r.Context(), r.FormValue("code"), id.user.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.errorPage(w, r, http.StatusBadRequest, "Invalid share code",
			"The share code is not valid or has expired. Ask for a new one.")
		return
	case errors.Is(err, store.ErrInvalid):
		h.errorPage(w, r, http.StatusBadRequest, "Invalid share code",
			"This code shares your own server, which you can open already.")
		return
	case err != nil:
		h.serverErrorPage(w, r, err)
		return
	}
	h.log.Info("share code accepted", "user", sh.Server.User, "server", sh.Server.Name,
		"with_user", id.user.Name)
	http.Redirect(w, r, h.nextOr(r, h.serverURLPath(sh.Server.User, sh.Server.Name)),
		http.StatusFound)
}

// shareRow is a share as the home page shows it.
type shareRow struct {
	Owner, Server, ServerURL, User, Group, Created string
	Scopes                                         []string
	Ready                                          bool
	// CanRevoke reports whether the signed-in user may revoke or leave it.
	CanRevoke bool
}

// homeShares returns the shares of the user's servers and the shares with
// the user, directly or through a group, for the home page.
func (h *Hub) homeShares(ctx context.Context, id *identity) (granted, received []shareRow, err error) {
	name := id.user.Name
	mine, _, err := h.store.ListShares(ctx, store.ShareQuery{Owner: name})
	if err != nil {
		return nil, nil, err
	}
	for _, sh := range mine {
		row := h.shareRow(sh)
		row.CanRevoke = id.scopes.allows("shares", serverTarget(name, id.user.Groups, sh.Server.Name))
		granted = append(granted, row)
	}
	theirs, _, err := h.store.ListShares(ctx, store.ShareQuery{User: name})
	if err != nil {
		return nil, nil, err
	}
	for _, sh := range theirs {
		row := h.shareRow(sh)
		row.CanRevoke = sh.User == name && id.scopes.allows("users:shares", userTarget(name, nil))
		received = append(received, row)
	}
	return granted, received, nil
}

func (h *Hub) shareRow(sh store.Share) shareRow {
	return shareRow{Owner: sh.Server.User, Server: sh.Server.Name,
		ServerURL: h.serverURLPath(sh.Server.User, sh.Server.Name),
		User:      sh.User, Group: sh.Group, Created: formatTime(sh.Created),
		Scopes: serverScopes(sh.Scopes, sh.Server.User, sh.Server.Name), Ready: sh.Server.Ready()}
}

// handleRevokeSharePage serves POST {prefix}shares/revoke, the home page's
// form that revokes the share of one of the user's servers with the user
// or group of the form. It needs the scope shares on the server, as
// PATCH /hub/api/shares/{owner}/{server} does.
func (h *Hub) handleRevokeSharePage(w http.ResponseWriter, r *http.Request) {
	id := h.pageUser(w, r)
	if id == nil || !h.pageForm(w, r) {
		return
	}
	k := store.ShareKey{Owner: id.user.Name, Server: r.PostForm.Get("server"),
		User: r.PostForm.Get("user"), Group: r.PostForm.Get("group")}
	var notice, errText string
	if !id.scopes.allows("shares", serverTarget(k.Owner, id.user.Groups, k.Server)) {
		errText = "Revoking a share needs the shares scope on the server."
	} else if _, _, err := h.store.RevokeShare(r.Context(), k, nil); errors.Is(err, store.ErrNotFound) ||
		errors.Is(err, store.ErrInvalid) {
		errText = "No such share."
	} else if err != nil {
		h.serverErrorPage(w, r, err)
		return
	} else {
		h.log.Info("share revoked", "user", k.Owner, "server", k.Server,
			"with_user", k.User, "with_group", k.Group, "by", id.user.Name)
		notice = "Share revoked."
	}
	http.Redirect(w, r, h.sessions.flashURL(r, h.prefix+"home", notice, errText), http.StatusSeeOther)
}

// handleLeaveSharePage serves POST {prefix}shares/leave, the home page's
// form with which the user gives up a share of another user's server.
func (h *Hub) handleLeaveSharePage(w http.ResponseWriter, r *http.Request) {
	id := h.pageUser(w, r)
	if id == nil || !h.pageForm(w, r) {
		return
	}
	k := store.ShareKey{Owner: r.PostForm.Get("owner"), Server: r.PostForm.Get("server"),
		User: id.user.Name}
	var notice, errText string
	if !id.scopes.allows("users:shares", userTarget(id.user.Name, nil)) {
		errText = "Leaving a share needs the users:shares scope."
	} else if _, _, err := h.store.RevokeShare(r.Context(), k, nil); errors.Is(err, store.ErrNotFound) {
		errText = "No such share."
	} else if err != nil {
		h.serverErrorPage(w, r, err)
		return
	} else {
		h.log.Info("share left", "user", k.Owner, "server", k.Server, "with_user", k.User)
		notice = "You no longer have access to that server."
	}
	http.Redirect(w, r, h.sessions.flashURL(r, h.prefix+"home", notice, errText), http.StatusSeeOther)
}
