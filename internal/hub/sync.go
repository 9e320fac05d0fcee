package hub

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jupygo/jupygo/internal/hub/spawn"
	"github.com/jupygo/jupygo/internal/store"
)

// syncConfig makes the store reflect the configuration at startup: the
// users of allowed_users and admin_users exist, admin_users are admins,
// the services and their API tokens are those configured, and the roles of
// load_roles exist with their grants.
func (h *Hub) syncConfig(ctx context.Context) error {
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

// syncServices creates or updates the configured services and replaces
// their API tokens with the configured ones. Services that were in an
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

// syncRoles creates or updates the roles of load_roles and grants them.
func (h *Hub) syncRoles(ctx context.Context) error {
	for _, r := range h.cfg.JupyterHub.LoadRoles {
		if _, err := h.store.PutRole(ctx, store.Role{Name: r.Name, Description: r.Description,
			Scopes: r.Scopes}); err != nil {
			return fmt.Errorf("role %q: %w", r.Name, err)
		}
		var grantees []store.Grantee
		for _, u := range r.Users {
			name := h.auth.NormalizeUsername(u)
			if _, err := h.store.GetUser(ctx, name); errors.Is(err, store.ErrNotFound) {
				if _, err := h.store.CreateUser(ctx, name, false); err != nil {
					return fmt.Errorf("role %q: %w", r.Name, err)
				}
			}
			grantees = append(grantees, store.Grantee{Kind: store.KindUser, Name: name})
		}
		for _, g := range r.Groups {
			if _, err := h.store.GetGroup(ctx, g); errors.Is(err, store.ErrNotFound) {
				if _, err := h.store.CreateGroup(ctx, g, nil); err != nil {
					return fmt.Errorf("role %q: %w", r.Name, err)
				}
			}
			grantees = append(grantees, store.Grantee{Kind: store.KindGroup, Name: g})
		}
		for _, s := range r.Services {
			grantees = append(grantees, store.Grantee{Kind: store.KindService, Name: s})
		}
		for _, g := range grantees {
			if err := h.store.GrantRole(ctx, r.Name, g); err != nil {
				return fmt.Errorf("granting role %q to %s: %w", r.Name, g, err)
			}
		}
	}
	return nil
}
