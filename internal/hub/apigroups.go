package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/hub/spawn"
	"github.com/jupygo/jupygo/internal/store"
)

// groupModel is JupyterHub's group model.
func groupModel(g store.Group) map[string]any {
	var props any = map[string]any{}
	if len(g.Properties) > 0 {
		props = json.RawMessage(g.Properties)
	}
	return map[string]any{"kind": "group", "name": g.Name, "users": nonNil(g.Users),
		"roles": nonNil(g.Roles), "properties": props}
}

// groupAllows reports whether s holds base for the named group, unfiltered
// or filtered to it.
func groupAllows(s scopeSet, base, group string) bool {
	return s.has(base) || s.has(base+"!group="+group)
}

func (h *Hub) handleListGroups(w http.ResponseWriter, r *http.Request, id *identity) error {
	if !id.scopes.hasAny("list:groups") {
		return forbidden("list:groups")
	}
	offset, limit, err := h.pageParams(r)
	if err != nil {
		return err
	}
	groups, _, err := h.store.ListGroups(r.Context(), store.Page{})
	if err != nil {
		return err
	}
	var visible []any
	for _, g := range groups {
		if groupAllows(id.scopes, "list:groups", g.Name) {
			visible = append(visible, groupModel(g))
		}
	}
	total := len(visible)
	page := nonNilAny(visible[min(offset, total):min(offset+limit, total)])
	return writeList(w, r, page, offset, limit, total)
}

func nonNilAny(s []any) []any {
	if s == nil {
		return []any{}
	}
	return s
}

// lookupGroup returns the named group when the caller holds scope for it.
func (h *Hub) lookupGroup(r *http.Request, id *identity, scope string) (store.Group, error) {
	name := r.PathValue("group")
	if !groupAllows(id.scopes, scope, name) {
		return store.Group{}, deny(id.scopes, scope)
	}
	g, err := h.store.GetGroup(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		return store.Group{}, notFound("No such group: %s", name)
	}
	return g, err
}

func (h *Hub) handleGetGroup(w http.ResponseWriter, r *http.Request, id *identity) error {
	g, err := h.lookupGroup(r, id, "read:groups")
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, groupModel(g))
}

// handleCreateGroup serves POST /hub/api/groups/{group}, with an optional
// {"users": [...]}.
func (h *Hub) handleCreateGroup(w http.ResponseWriter, r *http.Request, id *identity) error {
	if !id.scopes.has("admin:groups") {
		return forbidden("admin:groups")
	}
	var body struct {
		Users []string `json:"users"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		return err
	}
	name := r.PathValue("group")
	// Every check comes first, so that a rejected request creates no group.
	// A new group has no roles, because deleting a group drops its grants.
	users, err := h.checkNewGroups(r.Context(), id, []string{name}, body.Users)
	if err != nil {
		return err
	}
	if _, err := h.store.CreateGroup(r.Context(), name, nil); errors.Is(err, store.ErrExists) {
		return httpapi.Errorf(http.StatusConflict, "Group %s already exists", name)
	} else if err != nil {
		return err
	}
	g, err := h.store.AddGroupMembers(r.Context(), name, users...)
	if err != nil {
		return err
	}
	h.log.Info("group created", "group", name, "by", id.name())
	return writeJSON(w, http.StatusCreated, groupModel(g))
}

// handleCreateGroups serves POST /hub/api/groups: {"groups": [...]}, with
// an optional "users" list that each new group gets, as in JupyterHub 3.0.
// JupyterHub creates the groups one at a time until it meets one that
// exists, which gets a 409. This handler checks every name and user
// first, so a 409 or 400 creates no group.
func (h *Hub) handleCreateGroups(w http.ResponseWriter, r *http.Request, id *identity) error {
	if !id.scopes.has("admin:groups") {
		return forbidden("admin:groups")
	}
	var body struct {
		Groups []string `json:"groups"`
		Users  []string `json:"users"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		return err
	}
	if len(body.Groups) == 0 {
		return badRequest("Must specify at least one group to create")
	}
	ctx := r.Context()
	users, err := h.checkNewGroups(ctx, id, body.Groups, body.Users)
	if err != nil {
		return err
	}

	created := make([]any, 0, len(body.Groups))
	for _, name := range body.Groups {
		if _, err := h.store.CreateGroup(ctx, name, nil); errors.Is(err, store.ErrExists) {
			return httpapi.Errorf(http.StatusConflict, "Group %s already exists", name)
		} else if err != nil {
			return err
		}
		g, err := h.store.AddGroupMembers(ctx, name, users...)
		if err != nil {
			return err
		}
		h.log.Info("group created", "group", name, "users", len(users), "by", id.name())
		created = append(created, groupModel(g))
	}
	return writeJSON(w, http.StatusCreated, created)
}

// checkNewGroups returns the normalized names of the users to add to the
// new groups, or an error unless every user exists, every group is new and
// named once, and the caller may add the users to each group.
func (h *Hub) checkNewGroups(ctx context.Context, id *identity, groups, rawUsers []string) ([]string, error) {
	users := make([]string, len(rawUsers))
	for i, name := range rawUsers {
		users[i] = h.auth.NormalizeUsername(name)
	}
	if err := h.checkUsersExist(ctx, users); err != nil {
		return nil, err
	}
	for i, name := range groups {
		if name == "" {
			return nil, badRequest("Group names must not be empty")
		}
		if err := spawn.CheckHiddenCharacters("group", name); err != nil {
			return nil, badRequest("%s", err.Error())
		}
		_, err := h.store.GetGroup(ctx, name)
		if err == nil || slices.Contains(groups[:i], name) {
			return nil, httpapi.Errorf(http.StatusConflict, "Group %s already exists", name)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if err := h.checkGroupMembers(ctx, id, name, nil, users); err != nil {
			return nil, err
		}
	}
	return users, nil
}

func (h *Hub) handleDeleteGroup(w http.ResponseWriter, r *http.Request, id *identity) error {
	g, err := h.lookupGroup(r, id, "delete:groups")
	if err != nil {
		return err
	}
	if err := h.store.DeleteGroup(r.Context(), g.Name); err != nil {
		return err
	}
	h.log.Info("group deleted", "group", g.Name, "by", id.name())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleGroupUsers serves POST and DELETE /hub/api/groups/{group}/users:
// {"users": [...]} to add or remove.
func (h *Hub) handleGroupUsers(w http.ResponseWriter, r *http.Request, id *identity) error {
	g, err := h.lookupGroup(r, id, "groups")
	if err != nil {
		return err
	}
	var body struct {
		Users []string `json:"users"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		return err
	}
	if len(body.Users) == 0 {
		return badRequest("Must specify users to add or remove")
	}
	if r.Method == http.MethodPost {
		if err := h.checkUsersExist(r.Context(), body.Users); err != nil {
			return err
		}
		if err := h.checkGroupMembers(r.Context(), id, g.Name, g.Roles, body.Users); err != nil {
			return err
		}
		g, err = h.store.AddGroupMembers(r.Context(), g.Name, body.Users...)
	} else {
		g, err = h.store.RemoveGroupMembers(r.Context(), g.Name, body.Users...)
	}
	if errors.Is(err, store.ErrNotFound) {
		return badRequest("A user in %v does not exist", body.Users)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, groupModel(g))
}

// checkGroupMembers returns a 403 error unless the caller may add users to
// the group, which has the given roles. For each new member the caller
// must hold every scope that the group's roles and the shares with the
// group give the member, and every
// scope that a role filtered to the group, such as
// "admin:servers!group=NAME", gives its holders over the member. Otherwise
// a holder of admin:groups could join a stronger group, or hand the
// holders of such a role an admin's servers. Members already in the group
// and names that are not users are skipped, because adding them grants
// nothing.
func (h *Hub) checkGroupMembers(ctx context.Context, id *identity, group string,
	roles, users []string) error {
	granted, err := h.roleScopes(ctx, roles)
	if err != nil {
		return err
	}
	shared, err := h.groupShareScopes(ctx, group)
	if err != nil {
		return err
	}
	granted = append(granted, shared...)
	overMembers, err := h.groupFilteredScopes(ctx, group)
	if err != nil {
		return err
	}
	for _, name := range users {
		u, err := h.store.GetUser(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if slices.Contains(u.Groups, group) {
			continue
		}
		raw := slices.Clone(granted)
		for _, base := range overMembers {
			raw = append(raw, base+"!user="+u.Name)
		}
		member := principal{user: u.Name, groups: append(slices.Clone(u.Groups), group)}
		if !id.scopes.coversAll(expandScopes(raw, member)) {
			return httpapi.Errorf(http.StatusForbidden,
				"Adding %s to group %s needs every scope the membership grants", u.Name, group)
		}
	}
	return nil
}

// groupShareScopes returns the scopes that the shares with the group grant
// its members, each narrowed to its server, and none for a group that does
// not exist yet.
func (h *Hub) groupShareScopes(ctx context.Context, group string) ([]string, error) {
	shares, _, err := h.store.ListShares(ctx, store.ShareQuery{Group: group})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing the shares with group %q: %w", group, err)
	}
	return shareScopes(shares), nil
}

// groupFilteredScopes returns the bases of the scopes that roles in the
// store grant filtered to the group, such as "admin:servers" for
// "admin:servers!group=NAME". A built-in role is in the store only when
// load_roles overrides it, and otherwise grants no such scope.
func (h *Hub) groupFilteredScopes(ctx context.Context, group string) ([]string, error) {
	roles, err := h.store.ListRoles(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing roles to check group %q: %w", group, err)
	}
	var bases []string
	for _, role := range roles {
		for _, scope := range role.Scopes {
			if base, filter, _ := strings.Cut(scope, "!"); filter == "group="+group {
				bases = append(bases, base)
			}
		}
	}
	return bases, nil
}

// handleGroupProperties serves PUT /hub/api/groups/{group}/properties.
// Properties grant no scopes, so changing them needs no check beyond the
// groups scope.
func (h *Hub) handleGroupProperties(w http.ResponseWriter, r *http.Request, id *identity) error {
	g, err := h.lookupGroup(r, id, "groups")
	if err != nil {
		return err
	}
	var props map[string]any
	if err := decodeBody(w, r, &props); err != nil {
		return err
	}
	raw, err := json.Marshal(props)
	if err != nil || props == nil {
		return badRequest("properties must be a JSON object")
	}
	g, err = h.store.SetGroupProperties(r.Context(), g.Name, raw)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, groupModel(g))
}

// checkUsersExist returns a 400 error that names the first of users that
// does not exist.
func (h *Hub) checkUsersExist(ctx context.Context, users []string) error {
	for _, name := range users {
		if _, err := h.store.GetUser(ctx, name); errors.Is(err, store.ErrNotFound) {
			return badRequest("No such user: %s", name)
		} else if err != nil {
			return err
		}
	}
	return nil
}
