// Package auth signs people in to the hub. An Authenticator checks who
// someone is; the hub decides afterwards whether that user may log in
// (allowed_users, admin_users, blocked_users) and keeps the session.
//
// Two kinds of sign-in fit the interface. A FormAuthenticator checks the
// user name and password of the hub's login form, as local accounts do. A
// RedirectAuthenticator sends the browser to another site, such as an OAuth
// 2 provider, and finishes the sign-in when the browser comes back to the
// hub's callback URL. An authenticator implements one of the two.
package auth

import (
	"context"
	"errors"
	"net/url"
)

// ErrInvalidCredentials reports a user name and password that do not match,
// or a user that does not exist. Both cases return this error, so a login
// form cannot be used to find out which names exist.
var ErrInvalidCredentials = errors.New("invalid user name or password")

// User is the result of a successful sign-in.
type User struct {
	// Name is the user's hub name, already normalized.
	Name string
	// Admin, when not nil, sets whether the user is an admin, for
	// authenticators that know it (such as an OAuth provider's groups).
	// Nil leaves the hub's record as it is.
	Admin *bool
	// Allowed reports that the authenticator admits the user itself, as
	// GitHub does for members of allowed_organizations. The hub then lets
	// the user in unless blocked_users names them. When false, the hub's
	// allow settings (allowed_users, allow_all, ...) decide alone.
	Allowed bool
	// AuthState is the authenticator's opaque state for the user, such as
	// an OAuth access token, nil if none.
	AuthState []byte
}

// Authenticator checks who someone is. Implementations are safe for
// concurrent use.
type Authenticator interface {
	// Class is the authenticator's class name, as /hub/api/info reports it.
	Class() string
	// NormalizeUsername returns the canonical form of a name typed by a
	// person or sent by a provider, such as its lower-case form.
	NormalizeUsername(name string) string
}

// FormAuthenticator signs users in with the fields of the hub's login form.
type FormAuthenticator interface {
	Authenticator
	// AuthenticateForm checks a user name and password. It returns an
	// error wrapping ErrInvalidCredentials when they do not match.
	AuthenticateForm(ctx context.Context, username, password string) (User, error)
}

// RedirectAuthenticator signs users in at another site.
type RedirectAuthenticator interface {
	Authenticator
	// LoginURL returns the URL that starts the sign-in. The provider must
	// send the browser back to callbackURL with state unchanged.
	LoginURL(state, callbackURL string) string
	// LoginService names the provider on the login button, such as
	// "GitHub".
	LoginService() string
	// Callback finishes the sign-in from the query of the request to the
	// callback URL, whose state the hub has checked already.
	Callback(ctx context.Context, query url.Values, callbackURL string) (User, error)
}
