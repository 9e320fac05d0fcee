package hub

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jupygo/jupygo/internal/store"
)

// The hub is the OAuth 2 provider of the user servers (RFC 6749's
// authorization code grant, with optional PKCE from RFC 7636). Each server
// is a client whose ID is clientID(user, server), whose secret is the
// server's API token and whose redirect URI is {prefix}oauth_callback.

const (
	// oauthCodeLifetime is how long an authorization code may be
	// exchanged, JupyterHub's 5 minutes.
	oauthCodeLifetime = 5 * time.Minute
	// oauthTokenLifetime is the lifetime of an access token, JupyterHub's
	// default of the login cookie's 14 days.
	oauthTokenLifetime = loginMaxAge
)

// handleAuthorize serves GET /hub/api/oauth2/authorize for a browser with
// a hub login. It checks the client and redirect URI and that the user may
// access the client's server, then sends the browser back with a code.
// As in JupyterHub 3, the user confirms on a page, with a form that posts
// back to the same URL, unless the client is one of the user's own servers
// or a service with oauth_no_confirm.
func (h *Hub) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := h.identify(r)
	if err != nil || id.user == nil || id.token != nil {
		h.redirectToLogin(w, r)
		return
	}
	if h.mustChangePassword(w, r, id) {
		return
	}
	q := r.URL.Query()
	client, err := h.store.GetOAuthClient(ctx, q.Get("client_id"))
	if err != nil {
		h.errorPage(w, r, http.StatusBadRequest, "Invalid OAuth request",
			"The OAuth client "+q.Get("client_id")+" is not known to this hub.")
		return
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" {
		redirect = client.RedirectURI
	}
	if !sameRedirect(r, redirect, client.RedirectURI) {
		h.errorPage(w, r, http.StatusBadRequest, "Invalid OAuth request",
			"The redirect_uri does not match the one registered for "+client.ID+".")
		return
	}
	if q.Get("response_type") != "code" {
		oauthRedirect(w, r, redirect, url.Values{"error": {"unsupported_response_type"},
			"state": {q.Get("state")}})
		return
	}
	method := q.Get("code_challenge_method")
	if q.Get("code_challenge") != "" && method != "S256" && method != "plain" && method != "" {
		oauthRedirect(w, r, redirect, url.Values{"error": {"invalid_request"},
			"error_description": {"unsupported code_challenge_method"}, "state": {q.Get("state")}})
		return
	}

	scopes := identifyScopes(id.user.Name)
	for _, s := range client.AllowedScopes {
		// Scopes beyond access are heldClientScopes', below.
		if !strings.HasPrefix(s, "access:") {
			continue
		}
		allowed, err := h.grantsAccess(ctx, id, s)
		if err != nil {
			h.serverErrorPage(w, r, err)
			return
		}
		if !allowed {
			h.log.Warn("user may not access an OAuth client", "user", id.user.Name,
				"client", client.ID)
			h.errorPage(w, r, http.StatusForbidden, "Access denied",
				"You do not have permission to access "+client.Description+".")
			return
		}
		scopes = append(scopes, s)
	}
	scopes = append(scopes, heldClientScopes(client, q.Get("scope"), id)...)
	if h.needsConfirm(ctx, id.user.Name, client.ID) {
		if r.Method != http.MethodPost {
			h.render(w, r, http.StatusOK, "Authorize access", id, pageOf(oauthConfirmView,
				oauthConfirmPageData{client: client.Description, scopes: scopes,
					action: r.URL.RequestURI()}))
			return
		}
		if !h.pageForm(w, r) {
			return
		}
	}
	if method == "" && q.Get("code_challenge") != "" {
		method = "plain"
	}
	code, err := h.store.CreateOAuthCode(ctx, store.OAuthCode{
		ClientID: client.ID, User: id.user.Name, Scopes: scopes, RedirectURI: redirect,
		SessionID: id.sessionID, CodeChallenge: q.Get("code_challenge"),
		CodeChallengeMethod: method, ExpiresAt: h.now().Add(oauthCodeLifetime),
	})
	if err != nil {
		h.serverErrorPage(w, r, err)
		return
	}
	oauthRedirect(w, r, redirect, url.Values{"code": {code}, "state": {q.Get("state")}})
}

// heldClientScopes returns the scopes other than access scopes that a
// token of the client gets. They are the client's allowed scopes that the
// user holds, limited to those named in requested, the space-separated
// scope parameter, when it names any. As in JupyterHub, a bare !user
// filter names the user, and scopes the user lacks are left out, not
// refused.
func heldClientScopes(client store.OAuthClient, requested string, id *identity) []string {
	want := strings.Fields(requested)
	var out []string
	for _, s := range client.AllowedScopes {
		if strings.HasPrefix(s, "access:") || len(want) > 0 && !slices.Contains(want, s) {
			continue
		}
		if strings.HasSuffix(s, "!user") {
			s += "=" + id.user.Name
		}
		// inherit, all of the user's scopes at each request, is the user's
		// to give, as in JupyterHub.
		if s == "inherit" || id.scopes.covers(s) {
			out = append(out, s)
		}
	}
	return out
}

// needsConfirm reports whether the user must confirm giving a token to the
// client: any client but the user's own servers and the services
// configured with oauth_no_confirm.
func (h *Hub) needsConfirm(ctx context.Context, user, client string) bool {
	for _, s := range h.cfg.JupyterHub.Services {
		if s.OAuthNoConfirm && s.OAuthClientID == client {
			return false
		}
	}
	servers, err := h.store.ListServers(ctx, user)
	if err != nil {
		h.log.Warn("listing servers to check an OAuth client", "user", user, "err", err)
		return true
	}
	for _, sv := range servers {
		if clientID(user, sv.Name) == client {
			return false
		}
	}
	return true
}

// sameRedirect reports whether redirect, from an authorization request,
// names registered: the same string, or an absolute URL on the request's
// own host with registered as its path.
func sameRedirect(r *http.Request, redirect, registered string) bool {
	if redirect == registered {
		return true
	}
	u, err := url.Parse(redirect)
	if err != nil || !strings.HasPrefix(registered, "/") {
		return false
	}
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host == r.Host &&
		u.RequestURI() == registered
}

func oauthRedirect(w http.ResponseWriter, r *http.Request, target string, params url.Values) {
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	http.Redirect(w, r, target+sep+params.Encode(), http.StatusFound)
}

// oauthError writes an RFC 6749 error response.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// handleToken serves POST /hub/api/oauth2/token: the exchange of an
// authorization code for an access token by the client.
func (h *Hub) handleToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body is not a form")
		return
	}

	f := r.PostForm
	id, secret := f.Get("client_id"), f.Get("client_secret")
	if user, pass, ok := r.BasicAuth(); ok {
		id, secret = user, pass
	}
	client, err := h.store.CheckOAuthClient(ctx, id, secret)
	if errors.Is(err, store.ErrNotFound) || secret == "" {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}
	if err != nil {
		h.writeAPIError(w, r, err)
		return
	}

	if f.Get("grant_type") != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type",
			"only authorization_code is supported")
		return
	}
	code, err := h.store.ConsumeOAuthCode(ctx, f.Get("code"))
	if errors.Is(err, store.ErrNotFound) {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid code")
		return
	}
	if err != nil {
		h.writeAPIError(w, r, err)
		return
	}
	redirectOK := code.RedirectURI == f.Get("redirect_uri") ||
		sameRedirect(r, f.Get("redirect_uri"), code.RedirectURI)
	if code.ClientID != client.ID || !redirectOK {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid code")
		return
	}
	if !checkPKCE(code, f.Get("code_verifier")) {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match")
		return
	}

	t, token, err := h.store.CreateToken(ctx, store.NewToken{
		Owner: store.Owner{User: code.User}, Scopes: code.Scopes,
		Note: "OAuth token for " + client.ID, SessionID: code.SessionID,
		OAuthClientID: client.ID, ExpiresAt: h.now().Add(oauthTokenLifetime),
	})
	if err != nil {
		h.writeAPIError(w, r, err)
		return
	}
	h.log.Info("OAuth token issued", "user", code.User, "client", client.ID, "token_id", t.ID)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": token, "token_type": "Bearer",
		"expires_in": int(oauthTokenLifetime / time.Second),
		"scope":      strings.Join(code.Scopes, " "),
	})
}

// checkPKCE reports whether verifier matches the code's challenge, or the
// code has none.
func checkPKCE(code store.OAuthCode, verifier string) bool {
	if code.CodeChallenge == "" {
		return true
	}
	want := verifier
	if code.CodeChallengeMethod == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return verifier != "" &&
		subtle.ConstantTimeCompare([]byte(want), []byte(code.CodeChallenge)) == 1
}

// grantsAccess reports whether id holds scope, an access scope that an
// OAuth client requires. See coversWithGroups.
func (h *Hub) grantsAccess(ctx context.Context, id *identity, scope string) (bool, error) {
	return h.coversWithGroups(ctx, id.scopes, scope)
}

// coversWithGroups reports whether held grants scope, one expanded scope.
// For a scope filtered to a user or to a user's server it counts scopes
// filtered to that user's groups too, as JupyterHub does, so a role with
// access:servers!group=students opens the servers of that group's members.
func (h *Hub) coversWithGroups(ctx context.Context, held scopeSet, scope string) (bool, error) {
	if held.covers(scope) {
		return true, nil
	}
	base, filter, ok := strings.Cut(scope, "!")
	if !ok {
		return false, nil
	}
	kind, value, _ := strings.Cut(filter, "=")

	var user, server string
	switch kind {
	case "user":
		user = value
	case "server":
		if user, server, ok = strings.Cut(value, "/"); !ok {
			return false, nil
		}
	default:
		return false, nil
	}

	u, err := h.store.GetUser(ctx, user)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if kind == "user" {
		return held.allows(base, userTarget(user, u.Groups)), nil
	}
	return held.allows(base, serverTarget(user, u.Groups, server)), nil
}

// intersectScopes is intersect, with the owner's scopes filtered to groups
// counted for requested scopes filtered to a member or a member's server.
// So an OAuth token for a group member's server keeps its access scope.
func (h *Hub) intersectScopes(ctx context.Context, requested, owner scopeSet) (scopeSet, error) {
	out := intersect(requested, owner)
	if requested.has("inherit") {
		return out, nil
	}
	for scope := range requested {
		if out.has(scope) || !strings.Contains(scope, "!") {
			continue
		}
		ok, err := h.coversWithGroups(ctx, owner, scope)
		if err != nil {
			return nil, err
		}
		if ok {
			out[scope] = struct{}{}
		}
	}
	return out, nil
}
