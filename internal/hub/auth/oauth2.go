package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// This file holds what the OAuth 2 authenticators (GitHub and Generic)
// share: the client configuration, PKCE and nonce values bound to the
// hub's state, and bounded JSON requests to the provider.

// ErrMissingCode reports a callback without an authorization code, such as
// one whose sign-in the person cancelled at the provider.
var ErrMissingCode = errors.New("callback has no authorization code")

// OAuthOptions are the settings that every OAuth 2 authenticator takes,
// named after oauthenticator's OAuthenticator traits.
type OAuthOptions struct {
	// ClientID and ClientSecret are the credentials registered with the
	// provider. Both are required.
	ClientID     string
	ClientSecret string
	// Scope lists the scopes requested at the authorize URL.
	Scope []string
	// BasicAuth sends the client credentials to the token URL in an HTTP
	// Basic Authorization header instead of the form body.
	BasicAuth bool
	// DisablePKCE leaves out the PKCE challenge (RFC 7636), for a provider
	// that rejects the extra parameters. PKCE is on by default, as in
	// oauthenticator 16.3 and later.
	DisablePKCE bool
	// StateKey derives each sign-in's PKCE verifier and OIDC nonce from
	// the hub's state, so nothing but the hub's state cookie has to be
	// kept between the redirect and the callback. It should be at least 32
	// bytes. Nil picks a random key, so sign-ins that started before a
	// restart of the hub fail at their callback.
	StateKey []byte
	// HTTPClient makes the requests to the provider. Nil means a client
	// with a 30 s timeout.
	HTTPClient *http.Client
}

// defaultProviderTimeout bounds each request to a provider when the
// caller gives no client.
const defaultProviderTimeout = 30 * time.Second

func defaultHTTPClient() *http.Client {
	return &http.Client{Timeout: defaultProviderTimeout}
}

// maxProviderReply bounds the provider replies that are read, because a
// user or token reply is a few kilobytes.
const maxProviderReply = 1 << 20

// oauthClient is the OAuth 2 client side that the authenticators share.
// It is safe for concurrent use: its fields are not changed after
// newOAuthClient returns.
type oauthClient struct {
	config   oauth2.Config
	pkce     bool
	stateKey []byte
	http     *http.Client
}

// newOAuthClient checks opts and returns a client of the provider whose
// endpoints are authorizeURL and tokenURL.
func newOAuthClient(opts OAuthOptions, authorizeURL, tokenURL string) (*oauthClient, error) {
	if opts.ClientID == "" {
		return nil, errors.New("client_id is missing: set it to the provider's OAuth client id")
	}
	if opts.ClientSecret == "" {
		return nil, errors.New("client_secret is missing: set it to the provider's OAuth client secret")
	}
	for name, u := range map[string]string{"authorize_url": authorizeURL, "token_url": tokenURL} {
		if err := checkProviderURL(name, u); err != nil {
			return nil, err
		}
	}
	key := opts.StateKey
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key)
	}
	style := oauth2.AuthStyleInParams
	if opts.BasicAuth {
		style = oauth2.AuthStyleInHeader
	}
	client := opts.HTTPClient
	if client == nil {
		client = defaultHTTPClient()
	}
	return &oauthClient{
		config: oauth2.Config{
			ClientID:     opts.ClientID,
			ClientSecret: opts.ClientSecret,
			Endpoint:     oauth2.Endpoint{AuthURL: authorizeURL, TokenURL: tokenURL, AuthStyle: style},
			Scopes:       opts.Scope,
		},
		pkce:     !opts.DisablePKCE,
		stateKey: key,
		http:     client,
	}, nil
}

// checkProviderURL rejects a provider URL that is not absolute http or
// https, naming the configuration key.
func checkProviderURL(key, raw string) error {
	if raw == "" {
		return fmt.Errorf("%s is missing: set it to the provider's URL", key)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s %q is invalid: use an absolute http or https URL", key, raw)
	}
	return nil
}

// derive returns a value bound to one sign-in's state: the base64url form
// of HMAC-SHA256(stateKey, purpose, state), 43 characters, which is a valid
// PKCE code verifier (RFC 7636 section 4.1). Only the hub can compute it,
// so a person who reads the state in a URL cannot.
func (c *oauthClient) derive(purpose, state string) string {
	mac := hmac.New(sha256.New, c.stateKey)
	mac.Write([]byte(purpose))
	mac.Write([]byte{0})
	mac.Write([]byte(state))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// authCodeURL returns the authorize URL of one sign-in, with its PKCE
// challenge unless PKCE is off.
func (c *oauthClient) authCodeURL(state, callbackURL string, extra ...oauth2.AuthCodeOption) string {
	cfg := c.config
	cfg.RedirectURL = callbackURL
	opts := extra
	if c.pkce {
		opts = append(opts, oauth2.S256ChallengeOption(c.derive("pkce", state)))
	}
	return cfg.AuthCodeURL(state, opts...)
}

// exchange trades the code of a callback for a token, sending the PKCE
// verifier of the callback's state.
func (c *oauthClient) exchange(ctx context.Context, query url.Values, callbackURL string) (*oauth2.Token, error) {
	code := query.Get("code")
	if code == "" {
		return nil, ErrMissingCode
	}
	cfg := c.config
	cfg.RedirectURL = callbackURL
	var opts []oauth2.AuthCodeOption
	if c.pkce {
		opts = append(opts, oauth2.VerifierOption(c.derive("pkce", query.Get("state"))))
	}
	// GitHub's token endpoint replies with a form-encoded body unless the
	// request accepts JSON, and other providers reply with JSON anyway.
	client := &http.Client{Transport: acceptJSON{c.transport()}, Timeout: c.http.Timeout,
		CheckRedirect: c.http.CheckRedirect, Jar: c.http.Jar}
	token, err := cfg.Exchange(context.WithValue(ctx, oauth2.HTTPClient, client), code, opts...)
	if err != nil {
		return nil, fmt.Errorf("exchanging the authorization code at %s: %w", cfg.Endpoint.TokenURL,
			tokenError(err))
	}
	return token, nil
}

func (c *oauthClient) transport() http.RoundTripper {
	if c.http.Transport != nil {
		return c.http.Transport
	}
	return http.DefaultTransport
}

// tokenError shortens an oauth2.RetrieveError to the provider's error code
// and description, leaving out the response body, which may echo the code.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return err
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	if re.ErrorCode == "" {
		return fmt.Errorf("token endpoint returned status %d", status)
	}
	msg := fmt.Sprintf("token endpoint returned error %q", re.ErrorCode)
	if re.ErrorDescription != "" {
		msg += ": " + re.ErrorDescription
	}
	return errors.New(msg)
}

// acceptJSON adds "Accept: application/json" to requests that set no
// Accept header.
type acceptJSON struct{ base http.RoundTripper }

func (t acceptJSON) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Accept") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("Accept", "application/json")
	}
	return t.base.RoundTrip(r)
}

// errHTTPStatus is a provider reply with an unexpected status.
type errHTTPStatus struct {
	url     string
	status  int
	message string
}

func (e *errHTTPStatus) Error() string {
	msg := fmt.Sprintf("GET %s returned status %d", e.url, e.status)
	if e.message != "" {
		msg += ": " + e.message
	}
	return msg
}

// getJSON sends GET url with the access token and decodes a 200 reply
// into v. Other statuses return an *errHTTPStatus with the provider's
// "message" or "error_description", if any. Extra headers are added as
// given.
func (c *oauthClient) getJSON(ctx context.Context, token *oauth2.Token, url string,
	headers map[string]string, v any) (http.Header, error) {
	resp, err := c.get(ctx, token, url, headers)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProviderReply))
	if err != nil {
		return nil, fmt.Errorf("reading GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &errHTTPStatus{url: url, status: resp.StatusCode, message: replyMessage(body)}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return nil, fmt.Errorf("decoding GET %s: %w", url, err)
	}
	return resp.Header, nil
}

// get sends GET url with the access token in the Authorization header.
// The caller closes the body.
func (c *oauthClient) get(ctx context.Context, token *oauth2.Token, url string,
	headers map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	token.SetAuthHeader(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return resp, nil
}

// replyMessage returns the human-readable message of a provider's JSON
// error reply, "" if it has none.
func replyMessage(body []byte) string {
	var reply struct {
		Message          string `json:"message"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal(body, &reply) != nil {
		return ""
	}
	for _, s := range []string{reply.Message, reply.ErrorDescription, reply.Error} {
		if s != "" {
			return s
		}
	}
	return ""
}

// grantedScopes returns the scopes of a token reply's "scope" field,
// which providers separate with spaces (RFC 6749) or, as GitHub does, with
// commas.
func grantedScopes(token *oauth2.Token) []string {
	raw, _ := token.Extra("scope").(string)
	return strings.FieldsFunc(raw, func(r rune) bool { return r == ' ' || r == ',' })
}
