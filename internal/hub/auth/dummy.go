package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
)

// DummyClass is the class name of Dummy, the same as JupyterHub's.
const DummyClass = "jupyterhub.auth.DummyAuthenticator"

// Dummy is JupyterHub's DummyAuthenticator, for testing only: it signs in
// any user name with any password, or with Password when that is set.
// Which names may then use the hub is up to the hub's allow settings.
type Dummy struct {
	// Password, when not empty, is the one password that every user name
	// signs in with.
	Password string
}

// Class implements Authenticator.
func (d *Dummy) Class() string { return DummyClass }

// NormalizeUsername implements Authenticator as Local does: names are
// lower-cased and stripped of surrounding white space.
func (d *Dummy) NormalizeUsername(name string) string {
	return NormalizeUsername(name)
}

// AuthenticateForm implements FormAuthenticator. It returns an error
// wrapping ErrInvalidCredentials for an empty user name, and for a
// password other than Password when that is set.
func (d *Dummy) AuthenticateForm(_ context.Context, username, password string) (User, error) {
	name := d.NormalizeUsername(username)
	if name == "" {
		return User{}, fmt.Errorf("signing in: the user name is empty: %w", ErrInvalidCredentials)
	}
	if d.Password != "" && !samePassword(password, d.Password) {
		return User{}, fmt.Errorf("signing in %q: %w", name, ErrInvalidCredentials)
	}
	return User{Name: name}, nil
}

// samePassword compares two passwords in a time that does not depend on
// where they differ, nor on their lengths, by comparing their hashes.
func samePassword(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}
