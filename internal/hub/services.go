package hub

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jupygo/jupygo/internal/store"
)

// Services of the configuration that have a URL get a route at
// {base_url}services/NAME/, and those with an OAuth redirect URI get an OAuth
// client. That is what JupyterHub 3.0 sets up for an external service, so
// a service written with JupyterHub's HubOAuth signs users in through
// this hub. The client's ID is the service's oauth_client_id, its secret
// the service's api_token, and a token issued to it carries
// access:services!service=NAME, which the user must hold, plus those of
// oauth_client_allowed_scopes that the user holds.

// serviceClientPrefix starts the OAuth client ID of every service, as
// JupyterHub requires; user servers' client IDs start otherwise.
const serviceClientPrefix = "service-"

// servicePrefix is the path under which the proxy routes to the service.
func (h *Hub) servicePrefix(name string) string {
	return h.base + "services/" + name + "/"
}

// serviceAccessScope is the scope that a user needs to sign in to the
// service.
func serviceAccessScope(name string) string {
	return "access:services!service=" + name
}

// syncServiceClients makes the OAuth clients of services those of the
// configuration. A client of a service that no longer signs users in is
// deleted with its tokens.
func (h *Hub) syncServiceClients(ctx context.Context) error {
	configured := map[string]bool{}
	for _, s := range h.cfg.JupyterHub.Services {
		if s.OAuthRedirectURI == "" {
			continue
		}
		configured[s.OAuthClientID] = true
		scopes := append(slices.Clone(s.OAuthClientAllowedScopes), serviceAccessScope(s.Name))
		slices.Sort(scopes)
		_, err := h.store.PutOAuthClient(ctx, store.OAuthClient{
			ID: s.OAuthClientID, Description: "JupyterHub service " + s.Name,
			RedirectURI: s.OAuthRedirectURI, AllowedScopes: slices.Compact(scopes),
		}, s.APIToken.Value())
		if err != nil {
			return fmt.Errorf("service %q: %w", s.Name, err)
		}
	}
	clients, err := h.store.ListOAuthClients(ctx)
	if err != nil {
		return err
	}
	for _, c := range clients {
		if strings.HasPrefix(c.ID, serviceClientPrefix) && !configured[c.ID] {
			if err := h.store.DeleteOAuthClient(ctx, c.ID); err != nil {
				return fmt.Errorf("deleting OAuth client %q, no longer configured: %w", c.ID, err)
			}
			h.log.Info("service OAuth client removed", "client", c.ID)
		}
	}
	return nil
}

// addServiceRoutes routes the prefix of every service with a URL to the
// service's origin. The path goes to the service whole, as with
// JupyterHub's proxy. checkRoutes leaves these routes alone, because their
// data names no user.
func (h *Hub) addServiceRoutes() error {
	for _, s := range h.cfg.JupyterHub.Services {
		if s.URL == "" {
			continue
		}
		origin, err := routeOrigin(s.URL)
		if err != nil {
			return fmt.Errorf("service %q: %w", s.Name, err)
		}
		if err := h.routes.Add(h.servicePrefix(s.Name), origin,
			map[string]any{"service": s.Name}); err != nil {
			return fmt.Errorf("service %q: adding its route: %w", s.Name, err)
		}
		h.log.Info("service route added", "service", s.Name, "target", origin)
	}
	return nil
}
