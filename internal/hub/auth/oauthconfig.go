package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"log/slog"

	"github.com/jupygo/jupygo/internal/hub/config"
)

// NewOAuthFromConfig returns the OAuth authenticator that
// cfg.JupyterHub.AuthenticatorClass names: GitHub for "github" and
// "local-github", Generic for "generic-oauth". The localprocess spawner
// provides the system accounts of "local-github". cookieSecret derives the key of the PKCE verifiers
// and OIDC nonces, so a sign-in that is under way when the hub restarts
// still completes. With an OIDC issuer it fetches the discovery document,
// bounded by ctx.
func NewOAuthFromConfig(ctx context.Context, cfg *config.Config, cookieSecret []byte,
	log *slog.Logger) (RedirectAuthenticator, error) {
	o := cfg.OAuthenticator
	mac := hmac.New(sha256.New, cookieSecret)
	mac.Write([]byte("jupygo oauth state key"))
	common := OAuthOptions{
		ClientID:     o.ClientID,
		ClientSecret: o.ClientSecret.Value(),
		Scope:        o.Scope,
		BasicAuth:    o.BasicAuth,
		DisablePKCE:  !o.EnablePKCE,
		StateKey:     mac.Sum(nil),
	}
	switch class := cfg.JupyterHub.AuthenticatorClass; class {
	case config.AuthenticatorGitHub, config.AuthenticatorLocalGitHub:
		gh := cfg.GitHubOAuthenticator
		g, err := NewGitHub(GitHubOptions{
			OAuthOptions:             common,
			GitHubURL:                gh.GitHubURL,
			GitHubAPI:                gh.GitHubAPI,
			AuthorizeURL:             o.AuthorizeURL,
			TokenURL:                 o.TokenURL,
			UserdataURL:              o.UserdataURL,
			UsernameClaim:            o.UsernameClaim,
			AllowedOrganizations:     gh.AllowedOrganizations,
			PopulateTeamsInAuthState: gh.PopulateTeamsInAuthState,
			LoginService:             o.LoginService,
			Logger:                   log,
		})
		if err != nil {
			return nil, err
		}
		return g, nil
	case config.AuthenticatorGeneric:
		g, err := NewGeneric(ctx, GenericOptions{
			OAuthOptions:  common,
			OIDCIssuer:    cfg.GenericOAuthenticator.OIDCIssuer,
			AuthorizeURL:  o.AuthorizeURL,
			TokenURL:      o.TokenURL,
			UserdataURL:   o.UserdataURL,
			UsernameClaim: o.UsernameClaim,
			LoginService:  o.LoginService,
			Logger:        log,
		})
		if err != nil {
			return nil, err
		}
		return g, nil
	default:
		return nil, fmt.Errorf("authenticator_class %q is not an OAuth authenticator", class)
	}
}
