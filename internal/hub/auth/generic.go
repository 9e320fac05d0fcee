package auth

import (
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// GenericClass is the class name of Generic, as oauthenticator names its
// GenericOAuthenticator.
const GenericClass = "oauthenticator.generic.GenericOAuthenticator"

// GenericOptions configures a Generic authenticator. The names follow
// oauthenticator's GenericOAuthenticator traits, except OIDCIssuer.
type GenericOptions struct {
	OAuthOptions
	// OIDCIssuer turns on OpenID Connect: the provider's endpoints are
	// read from OIDCIssuer + "/.well-known/openid-configuration", the scope
	// gets "openid", and the ID token of each sign-in is verified
	// (signature, issuer, audience, expiry and nonce). Empty means plain
	// OAuth 2, with AuthorizeURL, TokenURL and UserdataURL all required.
	OIDCIssuer string
	// AuthorizeURL, TokenURL and UserdataURL are the provider's endpoints.
	// With OIDCIssuer they override the discovered ones.
	AuthorizeURL string
	TokenURL     string
	// UserdataURL returns the user's claims as JSON for the access token.
	// With OIDCIssuer it defaults to the userinfo endpoint, if the
	// provider has one, and otherwise the ID token's claims are used alone.
	UserdataURL string
	// UsernameClaim is the claim whose value is the user name. Empty means
	// "username", oauthenticator's default. OIDC providers usually send
	// "preferred_username", "email" or "sub".
	UsernameClaim string
	// LoginService is the provider name on the login button. Empty means
	// "OAuth 2.0".
	LoginService string
	// Logger receives the authenticator's log records. Nil discards them.
	Logger *slog.Logger
}

// Generic signs users in with any OAuth 2 provider, or with OpenID Connect
// when an issuer is configured. It is safe for concurrent use.
type Generic struct {
	oauth         *oauthClient
	userdataURL   string
	usernameClaim string
	loginService  string
	// verifier is nil without OIDC.
	verifier *oidc.IDTokenVerifier
	log      *slog.Logger
}

// NewGeneric checks opts and returns a Generic authenticator. With
// OIDCIssuer it fetches the provider's discovery document, so the provider
// must be reachable; ctx bounds that request.
func NewGeneric(ctx context.Context, opts GenericOptions) (*Generic, error) {
	g := &Generic{
		userdataURL:   opts.UserdataURL,
		usernameClaim: opts.UsernameClaim,
		loginService:  opts.LoginService,
		log:           opts.Logger,
	}
	if g.usernameClaim == "" {
		g.usernameClaim = "username"
	}
	if g.loginService == "" {
		g.loginService = "OAuth 2.0"
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	authorizeURL, tokenURL := opts.AuthorizeURL, opts.TokenURL
	if opts.OIDCIssuer != "" {
		p, err := discover(ctx, opts)
		if err != nil {
			return nil, err
		}
		authorizeURL = cmp.Or(authorizeURL, p.Endpoint().AuthURL)
		tokenURL = cmp.Or(tokenURL, p.Endpoint().TokenURL)
		g.userdataURL = cmp.Or(g.userdataURL, p.UserInfoEndpoint())
		g.verifier = p.Verifier(&oidc.Config{ClientID: opts.ClientID})
		if !slices.Contains(opts.Scope, oidc.ScopeOpenID) {
			opts.Scope = append([]string{oidc.ScopeOpenID}, opts.Scope...)
		}
	} else if g.userdataURL == "" {
		return nil, errors.New("userdata_url is missing: set it to the provider's user data URL, " +
			"or set oidc_issuer to use OpenID Connect")
	}
	if g.userdataURL != "" {
		if err := checkProviderURL("userdata_url", g.userdataURL); err != nil {
			return nil, err
		}
	}
	client, err := newOAuthClient(opts.OAuthOptions, authorizeURL, tokenURL)
	if err != nil {
		return nil, err
	}
	g.oauth = client
	return g, nil
}

// discover fetches the OIDC discovery document of opts.OIDCIssuer. go-oidc
// checks that the document names the same issuer.
func discover(ctx context.Context, opts GenericOptions) (*oidc.Provider, error) {
	if err := checkProviderURL("oidc_issuer", opts.OIDCIssuer); err != nil {
		return nil, err
	}
	client := opts.HTTPClient
	if client == nil {
		client = defaultHTTPClient()
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, client), strings.TrimRight(opts.OIDCIssuer, "/"))
	if err != nil {
		return nil, fmt.Errorf("reading the OpenID Connect discovery document of %s: %w",
			opts.OIDCIssuer, err)
	}
	return p, nil
}

// Class implements Authenticator.
func (g *Generic) Class() string { return GenericClass }

// LoginService returns the provider name of the login button.
func (g *Generic) LoginService() string { return g.loginService }

// NormalizeUsername implements Authenticator: names are lower-cased and
// stripped of surrounding white space, as JupyterHub's base Authenticator
// does.
func (g *Generic) NormalizeUsername(name string) string {
	return NormalizeUsername(name)
}

// LoginURL implements RedirectAuthenticator. With OIDC the URL carries a
// nonce derived from state, which the ID token must repeat.
func (g *Generic) LoginURL(state, callbackURL string) string {
	if g.verifier == nil {
		return g.oauth.authCodeURL(state, callbackURL)
	}
	return g.oauth.authCodeURL(state, callbackURL,
		oauth2.SetAuthURLParam("nonce", g.oauth.derive("nonce", state)))
}

// GenericAuthState is the auth state of a user of Generic.
//
// NOTE: tokens are left out, because the hub stores auth state
// unencrypted. Keep them out until the store encrypts auth state with
// CryptKeeper keys.
type GenericAuthState struct {
	// OAuthUser holds the user's claims: those of the verified ID token,
	// with the userdata reply's on top. oauthenticator names it the same.
	OAuthUser map[string]any `json:"oauth_user"`
	// Scope lists the scopes that the provider granted, empty when its token
	// reply has no scope field.
	Scope []string `json:"scope"`
}

// Callback implements RedirectAuthenticator.
func (g *Generic) Callback(ctx context.Context, query url.Values, callbackURL string) (User, error) {
	token, err := g.oauth.exchange(ctx, query, callbackURL)
	if err != nil {
		return User{}, err
	}
	claims := map[string]any{}
	subject := ""
	if g.verifier != nil {
		id, err := g.verifyIDToken(ctx, token, query.Get("state"))
		if err != nil {
			return User{}, err
		}
		if err := id.Claims(&claims); err != nil {
			return User{}, fmt.Errorf("decoding the ID token's claims: %w", err)
		}
		subject = id.Subject
	}
	if g.userdataURL != "" {
		var info map[string]any
		if _, err := g.oauth.getJSON(ctx, token, g.userdataURL, nil, &info); err != nil {
			return User{}, fmt.Errorf("reading the user's claims: %w", err)
		}
		// OpenID Connect Core 1.0 section 5.3.2: the userinfo reply is
		// about the ID token's subject, or it must not be used.
		if sub, _ := info["sub"].(string); subject != "" && sub != subject {
			return User{}, fmt.Errorf("userinfo subject %q differs from the ID token's %q", sub, subject)
		}
		for k, v := range info {
			claims[k] = v
		}
	}
	name, err := g.username(claims)
	if err != nil {
		return User{}, err
	}
	raw, err := json.Marshal(GenericAuthState{OAuthUser: claims, Scope: grantedScopes(token)})
	if err != nil {
		return User{}, err
	}
	return User{Name: g.NormalizeUsername(name), AuthState: raw}, nil
}

// verifyIDToken verifies the token reply's ID token and its nonce.
func (g *Generic) verifyIDToken(ctx context.Context, token *oauth2.Token, state string) (*oidc.IDToken, error) {
	raw, _ := token.Extra("id_token").(string)
	if raw == "" {
		return nil, errors.New("the token reply has no id_token")
	}
	id, err := g.verifier.Verify(oidc.ClientContext(ctx, g.oauth.http), raw)
	if err != nil {
		return nil, fmt.Errorf("verifying the ID token: %w", err)
	}
	want := g.oauth.derive("nonce", state)
	if subtle.ConstantTimeCompare([]byte(id.Nonce), []byte(want)) != 1 {
		return nil, errors.New("the ID token's nonce does not match this sign-in")
	}
	return id, nil
}

// username returns the configured claim as a string. The error lists the
// claim names that were sent, not their values, which may be personal.
func (g *Generic) username(claims map[string]any) (string, error) {
	v, ok := claims[g.usernameClaim]
	s, isString := v.(string)
	if ok && isString && strings.TrimSpace(s) != "" {
		return s, nil
	}
	names := make([]string, 0, len(claims))
	for k := range claims {
		names = append(names, k)
	}
	sort.Strings(names)
	if ok && !isString {
		return "", fmt.Errorf("username_claim %q is not a string; the claims are %s",
			g.usernameClaim, strings.Join(names, ", "))
	}
	return "", fmt.Errorf("username_claim %q is missing or empty; the claims are %s (request "+
		"more scopes or set username_claim)", g.usernameClaim, strings.Join(names, ", "))
}
