package hub

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/hub/auth"
	"github.com/jupygo/jupygo/internal/hub/spawn"
	"github.com/jupygo/jupygo/internal/store"
)

// handleAPIRoot serves GET /hub/api/, the only API call without
// authentication.
func (h *Hub) handleAPIRoot(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeJSON(w, http.StatusOK, map[string]string{"version": APIVersion})
}

func (h *Hub) handleInfo(w http.ResponseWriter, r *http.Request, id *identity) error {
	if !id.scopes.has("read:hub") {
		return forbidden("read:hub")
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"version":        APIVersion,
		"jupygo_version": h.version,
		"python":         nil,
		"sys_executable": nil,
		"authenticator":  map[string]any{"class": h.auth.Class(), "version": h.version},
		"spawner":        map[string]any{"class": h.cfg.JupyterHub.SpawnerClass, "version": h.version},
	})
}

// handleSelf serves GET /hub/api/user: the model of the user or service
// that owns the token or cookie, with its expanded scopes.
func (h *Hub) handleSelf(w http.ResponseWriter, r *http.Request, id *identity) error {
	ctx := r.Context()
	sessionID := id.sessionID
	if id.token != nil {
		sessionID = id.token.SessionID
	}
	if id.service != nil {
		scopes := id.scopes
		return writeJSON(w, http.StatusOK, map[string]any{
			"kind": "service", "name": id.service.Name, "admin": id.service.Admin,
			"roles": nonNil(id.service.Roles), "scopes": scopes.list(),
			"session_id": nullString(sessionID),
		})
	}
	scopes := withIdentifyScopes(id.scopes, id.user.Name)
	servers, err := h.store.ListServers(ctx, id.user.Name)
	if err != nil {
		return err
	}
	m := h.userModel(*id.user, servers, scopes, false)
	m["groups"] = nonNil(id.user.Groups)
	m["scopes"] = scopes.list()
	m["session_id"] = nullString(sessionID)
	addProfile(m, id.user.AuthState)
	return writeJSON(w, http.StatusOK, m)
}

// addProfile adds to the user's own model the display name and avatar URL
// that the OAuth provider returned at sign-in, as display_name and
// avatar_url, when it returned them. User servers read them for
// JupyterLab's user menu. They are fields that JupyterHub's model lacks
// and its clients ignore, and they stand in for the auth state, which
// needs admin:auth_state.
func addProfile(m map[string]any, authState []byte) {
	p := auth.ProfileFromAuthState(authState)
	if p.DisplayName != "" {
		m["display_name"] = p.DisplayName
	}
	if p.AvatarURL != "" {
		m["avatar_url"] = p.AvatarURL
	}
}

func (h *Hub) handleListUsers(w http.ResponseWriter, r *http.Request, id *identity) error {
	if !id.scopes.hasAny("list:users") {
		return forbidden("list:users")
	}
	ctx := r.Context()
	offset, limit, err := h.pageParams(r)
	if err != nil {
		return err
	}
	q := store.UserQuery{State: store.UserState(r.URL.Query().Get("state")),
		NamePrefix: r.URL.Query().Get("name_filter")}
	switch q.State {
	case "", store.UserActive, store.UserReady, store.UserInactive:
	default:
		return badRequest("state %q is not one of active, ready, inactive", q.State)
	}
	var users []store.User
	var total int
	if id.scopes.has("list:users") {
		q.Page = store.Page{Offset: offset, Limit: limit}
		users, total, err = h.store.ListUsers(ctx, q)
		if err != nil {
			return err
		}
	} else {
		// Filtered scopes: read everyone, keep whom the caller may list,
		// and page the rest here.
		all, _, err := h.store.ListUsers(ctx, q)
		if err != nil {
			return err
		}
		var visible []store.User
		for _, u := range all {
			if id.scopes.allows("list:users", userTarget(u.Name, u.Groups)) {
				visible = append(visible, u)
			}
		}
		total = len(visible)
		users = visible[min(offset, total):min(offset+limit, total)]
	}
	includeStopped := queryBool(r, "include_stopped_servers")
	models := make([]any, 0, len(users))
	for _, u := range users {
		servers, err := h.store.ListServers(ctx, u.Name)
		if err != nil {
			return err
		}
		models = append(models, h.userModel(u, servers, id.scopes, includeStopped))
	}
	return writeList(w, r, models, offset, limit, total)
}

func queryBool(r *http.Request, name string) bool {
	v, ok := r.URL.Query()[name]
	if !ok {
		return false
	}
	switch strings.ToLower(v[0]) {
	case "", "1", "true", "yes":
		return true
	}
	return false
}

// handleCreateUsers serves POST /hub/api/users: {"usernames": [...],
// "admin": false}. Existing users are skipped; when all exist it is a 409.
// The others are created in one transaction, all or none.
func (h *Hub) handleCreateUsers(w http.ResponseWriter, r *http.Request, id *identity) error {
	if !id.scopes.has("admin:users") {
		return forbidden("admin:users")
	}
	var body struct {
		Usernames []string `json:"usernames"`
		Admin     bool     `json:"admin"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		return err
	}
	if len(body.Usernames) == 0 {
		return badRequest("Must specify at least one user to create")
	}
	if err := h.checkGrantAdmin(id, body.Admin); err != nil {
		return err
	}
	names, err := h.newUserNames(body.Usernames)
	if err != nil {
		return err
	}
	var fresh []store.NewUser
	for _, name := range names {
		_, err := h.store.GetUser(r.Context(), name)
		if err == nil {
			continue
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		fresh = append(fresh, store.NewUser{Name: name, Admin: body.Admin})
	}
	if len(fresh) == 0 {
		return httpapi.Errorf(http.StatusConflict, "All %d users already exist", len(names))
	}
	users, err := h.createUsers(r.Context(), fresh)
	if err != nil {
		return err
	}
	created := make([]any, 0, len(users))
	for _, u := range users {
		h.log.Info("user created", "user", u.Name, "by", id.name())
		created = append(created, h.userModel(u, nil, id.scopes, false))
	}
	return writeJSON(w, http.StatusCreated, created)
}

// newUserNames normalizes the names of users to create and drops repeats.
// As JupyterHub's POST /users does, it checks every name before any user
// is created, and returns one 400 that lists each invalid name.
func (h *Hub) newUserNames(raw []string) ([]string, error) {
	var names, invalid []string
	for _, r := range raw {
		name := h.auth.NormalizeUsername(r)
		if err := spawn.ValidateUserName(name); err != nil {
			invalid = append(invalid, err.Error())
		} else if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if len(invalid) > 0 {
		return nil, badRequest("No users created: %s", strings.Join(invalid, "; "))
	}
	return names, nil
}

// checkGrantAdmin rejects making someone an admin unless the caller holds
// every scope of the admin role, so that admin:users alone cannot raise
// anyone's rights above its own.
func (h *Hub) checkGrantAdmin(id *identity, admin bool) error {
	if !admin {
		return nil
	}
	if !id.scopes.coversAll(expandScopes(builtinRoles()["admin"], principal{})) {
		return httpapi.Errorf(http.StatusForbidden,
			"Making a user an admin needs every scope of the admin role")
	}
	return nil
}

// checkNoEscalation returns a 403 error unless the caller holds every
// scope of u, the rule that also bounds the tokens a caller may create for
// u. Acting on u's password, name, admin flag or record needs it, because
// otherwise a holder of admin:users could set an admin's password and sign
// in as that admin. Deleting u gives nobody u's own scopes (those
// filtered to u and u's servers), so a deletion leaves them out: deleting
// a plain user needs delete:users alone, as in JupyterHub. action starts
// the message, as in "Deleting".
func (h *Hub) checkNoEscalation(ctx context.Context, id *identity, u store.User,
	action string) error {
	targetScopes, err := h.userScopes(ctx, u)
	if err != nil {
		return err
	}
	if action == actionDelete {
		targetScopes = withoutOwnScopes(targetScopes, u.Name)
	}
	if missing := id.scopes.missing(targetScopes); len(missing) > 0 {
		return httpapi.Errorf(http.StatusForbidden,
			"%s %s needs every scope that %s holds, and the request lacks %s",
			action, u.Name, u.Name, strings.Join(missing, ", "))
	}
	return nil
}

// actionDelete is the action of checkNoEscalation that leaves out the
// target's own scopes.
const actionDelete = "Deleting"

// withoutOwnScopes returns the scopes of s that are not filtered to user
// or to one of user's servers.
func withoutOwnScopes(s scopeSet, user string) scopeSet {
	out := scopeSet{}
	for scope := range s {
		_, filter, _ := strings.Cut(scope, "!")
		if filter == "user="+user || strings.HasPrefix(filter, "server="+user+"/") {
			continue
		}
		out[scope] = struct{}{}
	}
	return out
}

// lookupUser returns the named user when the caller may see it with one
// of the given scopes: 404 when it does not exist and the caller could
// see it, 403 otherwise.
func (h *Hub) lookupUser(ctx context.Context, id *identity, name string,
	scopes ...string) (store.User, error) {
	u, err := h.store.GetUser(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		for _, s := range scopes {
			if id.scopes.allows(s, userTarget(name, nil)) {
				return store.User{}, notFound("No such user: %s", name)
			}
		}
		return store.User{}, deny(id.scopes, scopes...)
	}
	if err != nil {
		return store.User{}, err
	}
	for _, s := range scopes {
		if id.scopes.allows(s, userTarget(u.Name, u.Groups)) {
			return u, nil
		}
	}
	return store.User{}, deny(id.scopes, scopes...)
}

func (h *Hub) handleGetUser(w http.ResponseWriter, r *http.Request, id *identity) error {
	u, err := h.lookupUser(r.Context(), id, r.PathValue("name"),
		"read:users", "read:users:name", "read:servers")
	if err != nil {
		return err
	}
	servers, err := h.store.ListServers(r.Context(), u.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK,
		h.userModel(u, servers, id.scopes, queryBool(r, "include_stopped_servers")))
}

func (h *Hub) handleCreateUser(w http.ResponseWriter, r *http.Request, id *identity) error {
	if !id.scopes.has("admin:users") {
		return forbidden("admin:users")
	}
	var body struct {
		Admin bool `json:"admin"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		return err
	}
	if err := h.checkGrantAdmin(id, body.Admin); err != nil {
		return err
	}
	name := h.auth.NormalizeUsername(r.PathValue("name"))
	if err := spawn.ValidateUserName(name); err != nil {
		return badRequest("%s", err.Error())
	}
	u, err := h.store.CreateUser(r.Context(), name, body.Admin)
	if errors.Is(err, store.ErrExists) {
		return httpapi.Errorf(http.StatusConflict, "User %s already exists", name)
	}
	if err != nil {
		return err
	}
	h.log.Info("user created", "user", name, "by", id.name())
	return writeJSON(w, http.StatusCreated, h.userModel(u, nil, id.scopes, false))
}

func (h *Hub) handlePatchUser(w http.ResponseWriter, r *http.Request, id *identity) error {
	ctx := r.Context()
	u, err := h.lookupUser(ctx, id, r.PathValue("name"), "admin:users")
	if err != nil {
		return err
	}
	var body struct {
		Name  *string `json:"name"`
		Admin *bool   `json:"admin"`
	}
	if err := decodeUserPatch(w, r, &body); err != nil {
		return err
	}
	if body.Admin != nil || body.Name != nil {
		if err := h.checkNoEscalation(ctx, id, u, "Changing"); err != nil {
			return err
		}
	}
	var upd store.UserUpdate
	if body.Admin != nil {
		if err := h.checkGrantAdmin(id, *body.Admin); err != nil {
			return err
		}
		upd.Admin = body.Admin
	}
	if body.Name != nil && *body.Name != u.Name {
		name := h.auth.NormalizeUsername(*body.Name)
		if err := spawn.ValidateUserName(name); err != nil {
			return badRequest("%s", err.Error())
		}
		servers, err := h.store.ListServers(ctx, u.Name)
		if err != nil {
			return err
		}
		for _, sv := range servers {
			if sv.Active() {
				return badRequest("%s's servers must be stopped before renaming", u.Name)
			}
		}
		if _, err := h.store.GetUser(ctx, name); err == nil {
			return badRequest("User %s already exists, username must be unique", *body.Name)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		upd.Name = &name
	}
	oldName := u.Name
	if upd.Name != nil {
		if err := h.renameHome(oldName, *upd.Name); err != nil {
			return err
		}
	}
	u, err = h.store.UpdateUser(ctx, u.Name, upd)
	if upd.Name != nil {
		h.namedServers.forget(oldName, *upd.Name)
		if err != nil {
			h.undoRenameHome(oldName, *upd.Name)
		}
	}
	if errors.Is(err, store.ErrExists) {
		return badRequest("User %s already exists, username must be unique", *body.Name)
	}
	if err != nil {
		return err
	}
	servers, err := h.store.ListServers(ctx, u.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h.userModel(u, servers, id.scopes, false))
}

// decodeUserPatch decodes the body of PATCH /hub/api/users/{name} into
// body. Like JupyterHub 3.0, it returns a 400 for a key that a user model
// does not have, and also for groups, roles and auth_state, which jupygo
// does not change through this request.
func decodeUserPatch(w http.ResponseWriter, r *http.Request, body any) error {
	var raw json.RawMessage
	if err := decodeBody(w, r, &raw); err != nil || raw == nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return badRequest("Invalid JSON data: the body must be a JSON object")
	}
	for key := range fields {
		switch key {
		case "name", "admin":
		case "groups", "roles":
			return badRequest("Changing %s with PATCH is not supported: use the %s API", key, key)
		case "auth_state":
			return badRequest("Changing auth_state with PATCH is not supported")
		default:
			return badRequest("Invalid JSON key: %q", key)
		}
	}
	if err := json.Unmarshal(raw, body); err != nil {
		return badRequest("Invalid user model: name must be a string and admin a boolean")
	}
	return nil
}

func (h *Hub) handleDeleteUser(w http.ResponseWriter, r *http.Request, id *identity) error {
	ctx := r.Context()
	u, err := h.lookupUser(ctx, id, r.PathValue("name"), "delete:users")
	if err != nil {
		return err
	}
	// JupyterHub rejects this too: an admin deleting itself could leave
	// the hub with no admin.
	if id.user != nil && id.user.Name == u.Name {
		return badRequest("Cannot delete yourself!")
	}
	if err := h.checkNoEscalation(ctx, id, u, actionDelete); err != nil {
		return err
	}
	if err := h.deleteUser(ctx, u.Name); err != nil {
		return err
	}
	h.log.Info("user deleted", "user", u.Name, "by", id.name())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteUser stops the user's servers, moves the user's home folder aside
// and then deletes the user. When the deletion fails, the folder moves
// back.
func (h *Hub) deleteUser(ctx context.Context, name string) error {
	servers, err := h.store.ListServers(ctx, name)
	if err != nil {
		return err
	}
	for _, sv := range servers {
		if !sv.Active() {
			continue
		}
		done, err := h.stopServer(ctx, name, sv.Name)
		if err != nil {
			return err
		}
		if !done {
			return badRequest("%s is still stopping; try again", serverLabel(name, sv.Name))
		}
	}
	defer h.namedServers.forget(name)
	restore, err := h.archiveHome(name)
	if err != nil {
		return err
	}
	if err := h.store.DeleteUser(ctx, name); err != nil {
		if restore != nil {
			if rerr := restore(); rerr != nil {
				h.log.Error("moving the home folder of a user back after the deletion failed",
					"user", name, "err", rerr)
			}
		}
		return err
	}
	return nil
}

// maxActivityAhead is how far in the future an activity report may be, as
// in JupyterHub (59 minutes, for clocks slightly ahead).
const maxActivityAhead = 59 * time.Minute

// handleActivity serves POST /hub/api/users/{name}/activity from a user's
// servers: {"last_activity": T, "servers": {NAME: {"last_activity": T}}}.
func (h *Hub) handleActivity(w http.ResponseWriter, r *http.Request, id *identity) error {
	ctx := r.Context()
	u, err := h.lookupUser(ctx, id, r.PathValue("name"), "users:activity")
	if err != nil {
		return err
	}
	var body struct {
		LastActivity *string `json:"last_activity"`
		Servers      map[string]struct {
			LastActivity *string `json:"last_activity"`
		} `json:"servers"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		return err
	}
	if body.LastActivity == nil && body.Servers == nil {
		return badRequest("body has neither last_activity nor servers")
	}
	if body.LastActivity != nil {
		t, err := h.parseActivity(*body.LastActivity)
		if err != nil {
			return err
		}
		if _, err := h.store.UpdateUser(ctx, u.Name, store.UserUpdate{LastActivity: &t}); err != nil {
			return err
		}
	}
	for name, sv := range body.Servers {
		if sv.LastActivity == nil {
			return badRequest("server %q has no last_activity", name)
		}
		t, err := h.parseActivity(*sv.LastActivity)
		if err != nil {
			return err
		}
		_, err = h.store.UpdateServer(ctx, u.Name, name, store.ServerUpdate{LastActivity: &t})
		if errors.Is(err, store.ErrNotFound) {
			return badRequest("No such server '%s' for user %s", name, u.Name)
		}
		if err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// parseActivity parses an activity timestamp: ISO 8601 with a zone, or
// without one meaning UTC, as JupyterHub accepts.
func (h *Hub) parseActivity(s string) (time.Time, error) {
	var t time.Time
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err = time.Parse(layout, s); err == nil {
			break
		}
	}
	if err != nil {
		return time.Time{}, badRequest("last_activity %q is not an ISO 8601 timestamp", s)
	}
	if t.Sub(h.now()) > maxActivityAhead {
		return time.Time{}, badRequest("last_activity %q is more than 59 minutes in the future", s)
	}
	return t.UTC(), nil
}
