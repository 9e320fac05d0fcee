package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/lazy"
	"github.com/jupygo/jupygo/internal/store"
)

// identity is who made a request: a user or a service, authenticated by an
// API token or by the hub's login cookie, with the scopes that hold.
type identity struct {
	user    *store.User
	service *store.Service
	// token is the API token used, nil for a login cookie.
	token *store.Token
	// sessionID is the login session of a cookie, "" for a token.
	sessionID string
	scopes    scopeSet
}

// name returns the user or service name.
func (id *identity) name() string {
	if id.user != nil {
		return id.user.Name
	}
	return id.service.Name
}

// describe returns the caller for messages: "user NAME" or "service NAME",
// preceded by "the token of" when a token authenticated the request.
func (id *identity) describe() string {
	who := "user " + id.name()
	if id.user == nil {
		who = "service " + id.name()
	}
	if id.token != nil {
		return "the token of " + who
	}
	return who
}

// checkPasswordChanged returns a 403 for a request that a login cookie
// authenticated while the user's password is temporary. So a session
// opened with a password an admin set, or with the one-time password of
// the first start, can do nothing but change it. Token requests pass,
// because the user's own tokens come from the token page, which waits for
// the change, and other tokens from someone who may already act for them.
func (h *Hub) checkPasswordChanged(id *identity) error {
	if id.token != nil || id.user == nil {
		return nil
	}
	setter, ok := h.auth.(passwordSetter)
	if !ok || !setter.PasswordIsTemporary(*id.user) {
		return nil
	}
	return httpapi.Errorf(http.StatusForbidden,
		"You signed in with a temporary password. Change it at %spassword before using the hub.",
		h.prefix)
}

// tokenActivityResolution is the age a token's stored last activity must
// reach before a request writes a new one.
const tokenActivityResolution = time.Minute

var authorizationHeaderValue lazy.Value[*regexp.Regexp]

func authorizationHeader() *regexp.Regexp {
	return authorizationHeaderValue.Get(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)^(?:token|bearer)\s+(\S+)\s*$`)
	})
}

// bearerToken returns the token of the Authorization header, "" if none.
func bearerToken(r *http.Request) string {
	m := authorizationHeader().FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return ""
	}
	return m[1]
}

// errNoIdentity reports a request with neither a valid token nor a valid
// login cookie.
var errNoIdentity = errors.New("no valid token or login cookie")

// identify authenticates r by its Authorization header, or else by its
// login cookie. It returns errNoIdentity when neither is valid. As in
// JupyterHub 3, a token that names no one falls back to the cookie.
// JupyterLab keeps sending its server's token after the server stopped
// and the hub revoked the token, and only a signed-in request gets the 424
// that makes JupyterLab offer a restart. The cookie grants no more than
// it would without the header, and api checks its XSRF token.
func (h *Hub) identify(r *http.Request) (*identity, error) {
	ctx := r.Context()
	if token := bearerToken(r); token != "" {
		id, err := h.identifyToken(ctx, token)
		if !errors.Is(err, errNoIdentity) {
			return id, err
		}
	}
	l, ok := h.sessions.readLogin(r)
	if !ok {
		return nil, errNoIdentity
	}
	u, err := h.store.GetUserByCookieID(ctx, l.cookieID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoIdentity
	}
	if err != nil {
		return nil, err
	}
	// The session row is what logging out deletes, so a signed cookie of
	// a session that ended is refused.
	sess, err := h.store.GetSession(ctx, l.sessionID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sess.User != u.Name) {
		return nil, errNoIdentity
	}
	if err != nil {
		return nil, err
	}
	scopes, err := h.userScopes(ctx, u)
	if err != nil {
		return nil, err
	}
	return &identity{user: &u, sessionID: l.sessionID, scopes: scopes}, nil
}

// identifyToken returns the owner of an API token with the token's scopes,
// limited to the owner's.
func (h *Hub) identifyToken(ctx context.Context, token string) (*identity, error) {
	t, err := h.store.FindToken(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoIdentity
	}
	if err != nil {
		return nil, err
	}
	id := &identity{token: &t}
	var owner scopeSet
	var who principal
	if t.Owner.User != "" {
		u, err := h.store.GetUser(ctx, t.Owner.User)
		if err != nil {
			return nil, err
		}
		id.user = &u
		who = principal{user: u.Name, groups: u.Groups}
		owner, err = h.userScopes(ctx, u)
		if err != nil {
			return nil, err
		}
	} else {
		s, err := h.store.GetService(ctx, t.Owner.Service)
		if err != nil {
			return nil, err
		}
		id.service = &s
		who = principal{service: s.Name}
		owner, err = h.serviceScopes(ctx, s)
		if err != nil {
			return nil, err
		}
	}
	id.scopes, err = h.intersectScopes(ctx, expandScopes(t.Scopes, who), owner)
	if err != nil {
		return nil, err
	}
	// The activity is written only when the stored time is a minute old or
	// more, which spares the database a write on every API call.
	if now := h.now(); now.Sub(t.LastActivity) >= tokenActivityResolution {
		if err := h.store.TouchToken(ctx, t.ID, now); err != nil {
			h.log.Warn("recording token activity", "token_id", t.ID, "err", err)
		}
	}
	return id, nil
}

// userScopes returns the expanded scopes of a user: the user role, the
// admin role for admins, the roles granted to the user and the user's
// groups, and the scopes of the shares with the user and the groups.
func (h *Hub) userScopes(ctx context.Context, u store.User) (scopeSet, error) {
	names := []string{"user"}
	if u.Admin {
		names = append(names, "admin")
	}
	names = append(names, u.Roles...)
	for _, g := range u.Groups {
		roles, err := h.store.RolesOf(ctx, store.Grantee{Kind: store.KindGroup, Name: g})
		if err != nil {
			return nil, fmt.Errorf("roles of group %q: %w", g, err)
		}
		for _, role := range roles {
			names = append(names, role.Name)
		}
	}
	raw, err := h.roleScopes(ctx, names)
	if err != nil {
		return nil, err
	}
	shared, err := h.sharedScopes(ctx, u.Name)
	if err != nil {
		return nil, err
	}
	return expandScopes(append(raw, shared...), principal{user: u.Name, groups: u.Groups}), nil
}

// sharedScopes returns the scopes that shares grant the user, directly or
// through the user's groups, each narrowed to its server.
func (h *Hub) sharedScopes(ctx context.Context, user string) ([]string, error) {
	shares, _, err := h.store.ListShares(ctx, store.ShareQuery{User: user})
	if err != nil {
		return nil, fmt.Errorf("shares with user %q: %w", user, err)
	}
	return shareScopes(shares), nil
}

// shareScopes returns the scopes of shares, each narrowed to its server.
func shareScopes(shares []store.Share) []string {
	var scopes []string
	for _, sh := range shares {
		scopes = append(scopes, serverScopes(sh.Scopes, sh.Server.User, sh.Server.Name)...)
	}
	return scopes
}

// serviceScopes returns the expanded scopes of a service's roles.
func (h *Hub) serviceScopes(ctx context.Context, s store.Service) (scopeSet, error) {
	names := s.Roles
	if s.Admin {
		names = append([]string{"admin"}, names...)
	}
	raw, err := h.roleScopes(ctx, names)
	if err != nil {
		return nil, err
	}
	return expandScopes(raw, principal{service: s.Name}), nil
}

// roleScopes returns the raw scopes of the named roles. A role in the store
// (from load_roles) wins over a built-in one of the same name.
func (h *Hub) roleScopes(ctx context.Context, names []string) ([]string, error) {
	var raw []string
	for _, name := range names {
		role, err := h.store.GetRole(ctx, name)
		switch {
		case err == nil:
			raw = append(raw, role.Scopes...)
		case errors.Is(err, store.ErrNotFound):
			raw = append(raw, builtinRoles()[name]...)
		default:
			return nil, fmt.Errorf("reading role %q: %w", name, err)
		}
	}
	return raw, nil
}
