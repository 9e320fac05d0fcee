package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jupygo/jupygo/internal/store"
)

// LocalClass is the class name of Local.
const LocalClass = "jupygo.auth.LocalAuthenticator"

// MinPasswordLength is the shortest password SetPassword accepts.
const MinPasswordLength = 8

// Local is the authenticator of local accounts: users whose bcrypt password
// hash the hub keeps in its store. A user without a password cannot sign
// in with a password.
type Local struct {
	users store.Users
	// dummyHash is compared against when the user does not exist, so that
	// a wrong name takes as long as a wrong password.
	dummyHash string
}

// NewLocal returns the authenticator of the local accounts in users.
func NewLocal(users store.Users) (*Local, error) {
	dummy, err := store.HashPassword("not a password of anyone")
	if err != nil {
		return nil, err
	}
	return &Local{users: users, dummyHash: dummy}, nil
}

// Class implements Authenticator.
func (l *Local) Class() string { return LocalClass }

// NormalizeUsername implements Authenticator: names are lower-cased and
// stripped of surrounding white space, as JupyterHub's base Authenticator
// does.
func (l *Local) NormalizeUsername(name string) string {
	return strings.ToLower(strings.TrimSpace(name))
}

// AuthenticateForm implements FormAuthenticator.
func (l *Local) AuthenticateForm(ctx context.Context, username, password string) (User, error) {
	name := l.NormalizeUsername(username)
	u, err := l.users.GetUser(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		store.CheckPassword(l.dummyHash, password)
		return User{}, fmt.Errorf("signing in %q: %w", name, ErrInvalidCredentials)
	}
	if err != nil {
		return User{}, fmt.Errorf("signing in %q: %w", name, err)
	}
	if !store.CheckPassword(u.PasswordHash, password) {
		return User{}, fmt.Errorf("signing in %q: %w", name, ErrInvalidCredentials)
	}
	return User{Name: u.Name}, nil
}

// SetPassword sets the password of the named user, creating the user when
// missing (not as an admin). It rejects passwords shorter than
// MinPasswordLength characters or longer than bcrypt's 72 bytes.
func (l *Local) SetPassword(ctx context.Context, name, password string) error {
	if err := CheckPassword(password); err != nil {
		return err
	}
	hash, err := store.HashPassword(password)
	if err != nil {
		return err
	}
	if _, err := l.users.GetUser(ctx, name); errors.Is(err, store.ErrNotFound) {
		if _, err := l.users.CreateUser(ctx, name, false); err != nil &&
			!errors.Is(err, store.ErrExists) {
			return err
		}
	} else if err != nil {
		return err
	}
	_, err = l.users.UpdateUser(ctx, name, store.UserUpdate{PasswordHash: &hash})
	return err
}

// CheckPassword returns an error unless password is long enough for a local
// account and short enough for bcrypt.
func CheckPassword(password string) error {
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return fmt.Errorf("password is too short: use at least %d characters", MinPasswordLength)
	}
	if len(password) > 72 {
		return errors.New("password is too long: bcrypt reads at most 72 bytes")
	}
	return nil
}
