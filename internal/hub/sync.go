package hub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jupygo/jupygo/internal/hub/config"
	"github.com/jupygo/jupygo/internal/hub/spawn"
	"github.com/jupygo/jupygo/internal/store"
)

// syncConfig makes the store reflect the configuration at startup: the
// users of allowed_users and admin_users exist, admin_users are admins,
// the services and their API tokens are those configured, and the roles of
// load_roles exist with their grants.
func (h *Hub) syncConfig(ctx context.Context) error {
	if err := h.checkStoredTokens(ctx); err != nil {
		return err
	}
	if err := h.checkStoredUsers(ctx); err != nil {
		return err
	}
	a := h.cfg.Authenticator
	for _, raw := range append(slices.Clone(a.AllowedUsers), a.AdminUsers...) {
		name := h.auth.NormalizeUsername(raw)
		if err := spawn.ValidateUserName(name); err != nil {
			return fmt.Errorf("allowed_users or admin_users: %w", err)
		}
		admin := h.isConfigAdmin(name)
		u, err := h.store.GetUser(ctx, name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if _, err := h.store.CreateUser(ctx, name, admin); err != nil {
				return fmt.Errorf("adding configured user: %w", err)
			}
			h.log.Info("configured user added", "user", name, "admin", admin)
		case err != nil:
			return err
		case admin && !u.Admin:
			if _, err := h.store.UpdateUser(ctx, name, store.UserUpdate{Admin: &admin}); err != nil {
				return err
			}
		}
	}
	if err := h.syncServices(ctx); err != nil {
		return err
	}
	return h.syncRoles(ctx)
}

// checkStoredUsers validates the names of the users in the store at start,
// as JupyterHub 3.0 does. A user whose name the hub no longer accepts is
// deleted, servers first, when delete_invalid_users is set, and only logged
// otherwise.
func (h *Hub) checkStoredUsers(ctx context.Context) error {
	users, _, err := h.store.ListUsers(ctx, store.UserQuery{})
	if err != nil {
		return fmt.Errorf("listing users to validate their names: %w", err)
	}
	for _, u := range users {
		invalid := spawn.ValidateUserName(u.Name)
		if invalid == nil {
			continue
		}
		if !h.cfg.Authenticator.DeleteInvalidUsers {
			h.log.Warn("invalid user name in the store; setting "+
				"Authenticator.delete_invalid_users to true deletes such users at start",
				"user", u.Name, "err", invalid)
			continue
		}
		if err := h.deleteUser(ctx, u.Name); err != nil {
			h.log.Error("deleting a user with an invalid name", "user", u.Name, "err", err)
			continue
		}
		h.log.Warn("user with an invalid name deleted", "user", u.Name, "err", invalid)
	}
	return nil
}

// isConfigAdmin reports whether admin_users names the user.
func (h *Hub) isConfigAdmin(name string) bool {
	for _, a := range h.cfg.Authenticator.AdminUsers {
		if h.auth.NormalizeUsername(a) == name {
			return true
		}
	}
	return false
}

// allowed reports whether a signed-in user may use the hub, as JupyterHub's
// check_allowed and check_blocked_users decide. A blocked user never may.
// Others may when allow_all is on, when allowed_users or admin_users names
// them, or when they exist already and allow_existing_users is on. A local
// account exists only because an admin made it, so with local accounts an
// existing user is allowed unless allowed_users is set and
// allow_existing_users is off.
func (h *Hub) allowed(name string, exists bool) bool {
	a := h.cfg.Authenticator
	for _, b := range a.BlockedUsers {
		if h.auth.NormalizeUsername(b) == name {
			return false
		}
	}
	if a.AllowAll || h.isConfigAdmin(name) {
		return true
	}
	for _, u := range a.AllowedUsers {
		if h.auth.NormalizeUsername(u) == name {
			return true
		}
	}
	if !exists {
		return false
	}
	if _, local := h.auth.(passwordSetter); local && len(a.AllowedUsers) == 0 {
		return true
	}
	return a.AllowExistingUsers
}

// syncServices creates or updates the configured services, replaces
// their API tokens with the configured ones and puts their OAuth clients. Services that were in an
// earlier configuration are deleted.
func (h *Hub) syncServices(ctx context.Context) error {
	configured := map[string]bool{}
	for _, s := range h.cfg.JupyterHub.Services {
		configured[s.Name] = true
		fromConfig := true
		_, err := h.store.GetService(ctx, s.Name)
		if errors.Is(err, store.ErrNotFound) {
			_, err = h.store.CreateService(ctx, store.Service{Name: s.Name, URL: s.URL,
				OAuthClientID: s.OAuthClientID, FromConfig: true})
		} else if err == nil {
			url, client := s.URL, s.OAuthClientID
			_, err = h.store.UpdateService(ctx, s.Name, store.ServiceUpdate{
				URL: &url, OAuthClientID: &client, FromConfig: &fromConfig})
		}
		if err != nil {
			return fmt.Errorf("service %q: %w", s.Name, err)
		}
		if err := h.syncServiceToken(ctx, s.Name, s.APIToken.Value()); err != nil {
			return err
		}
	}
	if err := h.syncServiceClients(ctx); err != nil {
		return err
	}
	services, err := h.store.ListServices(ctx)
	if err != nil {
		return err
	}
	for _, s := range services {
		if s.FromConfig && !configured[s.Name] {
			if err := h.store.DeleteService(ctx, s.Name); err != nil {
				return fmt.Errorf("deleting service %q, no longer configured: %w", s.Name, err)
			}
			h.log.Info("service removed", "service", s.Name)
		}
	}
	return nil
}

// syncServiceToken makes token the service's only configured token.
func (h *Hub) syncServiceToken(ctx context.Context, service, token string) error {
	owner := store.Owner{Service: service}
	if _, err := h.store.DeleteTokens(ctx, store.TokenFilter{Owner: owner}); err != nil {
		return fmt.Errorf("service %q: %w", service, err)
	}
	if token == "" {
		return nil
	}
	_, _, err := h.store.CreateToken(ctx, store.NewToken{Token: token, Owner: owner,
		Scopes: []string{"inherit"}, Note: "from configuration"})
	if errors.Is(err, store.ErrExists) {
		return fmt.Errorf("service %q: its api_token is already another token", service)
	}
	if err != nil {
		return fmt.Errorf("service %q: %w", service, err)
	}
	return nil
}

// syncRoles makes the roles in the store those of load_roles, as
// JupyterHub 3.0 does at start. Each configured role gets its scopes and
// exactly the users, groups and services listed, so a list left out
// revokes the role from everyone of that kind. A role that is no longer
// configured is deleted with its grants, unless it is a built-in role,
// which gets its built-in scopes back and keeps its grants.
func (h *Hub) syncRoles(ctx context.Context) error {
	configured := map[string]bool{}
	for _, r := range h.cfg.JupyterHub.LoadRoles {
		configured[r.Name] = true
		if err := h.syncRole(ctx, r); err != nil {
			return fmt.Errorf("role %q: %w", r.Name, err)
		}
	}
	roles, err := h.store.ListRoles(ctx)
	if err != nil {
		return err
	}
	for _, role := range roles {
		if configured[role.Name] {
			continue
		}
		if scopes, builtin := builtinRoles()[role.Name]; builtin {
			if slices.Equal(role.Scopes, scopes) {
				continue
			}
			role.Scopes, role.Description = scopes, ""
			if _, err := h.store.PutRole(ctx, role); err != nil {
				return fmt.Errorf("resetting built-in role %q: %w", role.Name, err)
			}
			h.log.Info("built-in role reset, no longer configured", "role", role.Name)
			continue
		}
		if err := h.store.DeleteRole(ctx, role.Name); err != nil {
			return fmt.Errorf("deleting role %q, no longer configured: %w", role.Name, err)
		}
		h.log.Warn("role deleted, no longer configured", "role", role.Name)
	}
	return nil
}

// syncRole stores one role of load_roles and makes its grants to users,
// groups and services those listed, creating the users and groups that do
// not exist yet. Grants to tokens are left alone. Leaving out the users of
// the built-in user role keeps its grants to users, as in JupyterHub,
// because every user holds that role anyway.
func (h *Hub) syncRole(ctx context.Context, r config.Role) error {
	role, err := configuredRole(r)
	if err != nil {
		return err
	}
	if _, err := h.store.PutRole(ctx, role); err != nil {
		return err
	}
	want, err := h.roleGrantees(ctx, r)
	if err != nil {
		return err
	}
	current, err := h.store.ListGrantees(ctx, r.Name)
	if err != nil {
		return err
	}
	keepUsers := r.Name == "user" && r.Users == nil
	for _, g := range current {
		if g.Kind == store.KindToken || keepUsers && g.Kind == store.KindUser ||
			slices.Contains(want, g) {
			continue
		}
		if err := h.store.RevokeRole(ctx, r.Name, g); err != nil {
			return fmt.Errorf("revoking from %s: %w", g, err)
		}
		h.log.Info("role revoked, no longer configured", "role", r.Name, "grantee", g.String())
	}
	for _, g := range want {
		if err := h.store.GrantRole(ctx, r.Name, g); err != nil {
			return fmt.Errorf("granting to %s: %w", g, err)
		}
	}
	return nil
}

// configuredRole returns the role that r defines. JupyterHub 3.0 merges an
// override of a built-in role with the default role key by key, so an
// override that leaves out scopes keeps the built-in scopes, while
// "scopes = []" empties them. The admin role's scopes cannot change, as in
// JupyterHub 3.0, but their order may.
func configuredRole(r config.Role) (store.Role, error) {
	role := store.Role{Name: r.Name, Description: r.Description, Scopes: r.Scopes}
	builtin, ok := builtinRoles()[r.Name]
	if !ok {
		return role, nil
	}
	if role.Scopes == nil {
		role.Scopes = slices.Clone(builtin)
	}
	if r.Name == "admin" && !sameStrings(role.Scopes, builtin) {
		return store.Role{}, fmt.Errorf("the scopes of the built-in admin role cannot "+
			"be changed: leave out scopes or list exactly [%s]", tomlStrings(builtin))
	}
	return role, nil
}

// sameStrings reports whether a and b contain the same strings in any order.
func sameStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// roleGrantees returns the users, groups and services that a role of
// load_roles lists, creating the users and groups that do not exist.
func (h *Hub) roleGrantees(ctx context.Context, r config.Role) ([]store.Grantee, error) {
	var grantees []store.Grantee
	for _, u := range r.Users {
		name := h.auth.NormalizeUsername(u)
		_, err := h.store.GetUser(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			_, err = h.store.CreateUser(ctx, name, false)
		}
		if err != nil {
			return nil, err
		}
		grantees = append(grantees, store.Grantee{Kind: store.KindUser, Name: name})
	}
	for _, g := range r.Groups {
		_, err := h.store.GetGroup(ctx, g)
		if errors.Is(err, store.ErrNotFound) {
			_, err = h.store.CreateGroup(ctx, g, nil)
		}
		if err != nil {
			return nil, err
		}
		grantees = append(grantees, store.Grantee{Kind: store.KindGroup, Name: g})
	}
	for _, s := range r.Services {
		grantees = append(grantees, store.Grantee{Kind: store.KindService, Name: s})
	}
	return grantees, nil
}

// tomlStrings formats strs as the items of a TOML array, ready to paste
// into a configuration file.
func tomlStrings(strs []string) string {
	quoted := make([]string, len(strs))
	for i, s := range strs {
		quoted[i] = strconv.Quote(s)
	}
	return strings.Join(quoted, ", ")
}
