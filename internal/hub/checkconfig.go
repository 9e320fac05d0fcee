package hub

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jupygo/jupygo/internal/hub/config"
	"github.com/jupygo/jupygo/internal/hub/spawn"
	"github.com/jupygo/jupygo/internal/store"
)

// CheckConfig validates what the hub stores from the configuration at
// start and that config.Parse cannot check, because it needs the hub's
// scopes and roles, the store's rules or normalize, the authenticator's
// NormalizeUsername. New calls it, so that a hub with an invalid
// configuration stores nothing, and a command calls it before it opens
// listeners. It returns every problem in a config.ErrorList.
func CheckConfig(cfg *config.Config, normalize func(string) string) error {
	var errs config.ErrorList
	addError := func(key, format string, args ...any) {
		errs = append(errs, cfg.ErrorAt(key, format, args...))
	}
	a := cfg.Authenticator
	for _, list := range []struct {
		key   string
		names []string
	}{{"Authenticator.allowed_users", a.AllowedUsers}, {"Authenticator.admin_users", a.AdminUsers}} {
		for _, name := range list.names {
			if err := spawn.ValidateUserName(normalize(name)); err != nil {
				addError(list.key, "%v", err)
			}
		}
	}
	checkServiceTokens(cfg, addError)
	for i, s := range cfg.JupyterHub.Services {
		if err := checkScopesExist(s.OAuthClientAllowedScopes); err != nil {
			addError(fmt.Sprintf("JupyterHub.services[%d].oauth_client_allowed_scopes", i),
				"service %q: %v", s.Name, err)
		}
	}
	if err := checkScopesExist(cfg.Spawner.OAuthClientAllowedScopes); err != nil {
		addError("Spawner.oauth_client_allowed_scopes", "%v", err)
	}
	for i, r := range cfg.JupyterHub.LoadRoles {
		checkRole(cfg, fmt.Sprintf("JupyterHub.load_roles[%d]", i), r, normalize, addError)
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// checkServiceTokens checks each api_token of the services as the store
// does when it stores it: at least store.MinTokenLength characters, the
// minimum of JupyterHub 3.0, and no token shared by two services.
// Messages name the service, never the token.
func checkServiceTokens(cfg *config.Config, addError func(key, format string, args ...any)) {
	owners := map[string]string{}
	for i, s := range cfg.JupyterHub.Services {
		token := s.APIToken.Value()
		key := fmt.Sprintf("JupyterHub.services[%d].api_token", i)
		other, shared := owners[token]
		switch {
		case token == "":
			continue
		case len(token) < store.MinTokenLength:
			addError(key, "the api_token of service %q has %d characters: use at least %d, "+
				"such as the output of openssl rand -hex 32", s.Name, len(token), store.MinTokenLength)
		case shared:
			addError(key, "service %q has the same api_token as service %q: give each "+
				"service its own", s.Name, other)
		}
		owners[token] = s.Name
	}
}

// checkRole checks one role of load_roles, at path in the file: its
// scopes, as JupyterHub 3.0's create_role does, and its users, groups and
// services, which must be valid names and configured services.
func checkRole(cfg *config.Config, path string, r config.Role, normalize func(string) string,
	addError func(key, format string, args ...any)) {
	role, err := configuredRole(r)
	if err == nil {
		err = checkScopesExist(role.Scopes)
	}
	if err != nil {
		addError(path+".scopes", "role %q: %v", r.Name, err)
	}
	for _, name := range r.Users {
		if err := spawn.ValidateUserName(normalize(name)); err != nil {
			addError(path+".users", "role %q: %v", r.Name, err)
		}
	}
	if slices.Contains(r.Groups, "") {
		addError(path+".groups", "role %q: a group name is empty", r.Name)
	}
	for _, name := range r.Services {
		if !slices.ContainsFunc(cfg.JupyterHub.Services, func(s config.Service) bool {
			return s.Name == name
		}) {
			addError(path+".services", "role %q: service %q is not in JupyterHub.services: "+
				"define it there or remove it from the role", r.Name, name)
		}
	}
}

// checkStoredTokens returns an error when the store has the api_token of a
// configured service as a token of another user or service, which the
// sync cannot store. It runs before the sync changes anything.
func (h *Hub) checkStoredTokens(ctx context.Context) error {
	for _, s := range h.cfg.JupyterHub.Services {
		token := s.APIToken.Value()
		if token == "" {
			continue
		}
		t, err := h.store.FindToken(ctx, token)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("service %q: checking its api_token: %w", s.Name, err)
		}
		if t.Owner != (store.Owner{Service: s.Name}) {
			return fmt.Errorf("service %q: its api_token is already a token of %s: "+
				"choose another token for the service", s.Name, t.Owner)
		}
	}
	return nil
}
