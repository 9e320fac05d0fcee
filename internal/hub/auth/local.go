package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

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
	cost  int

	// dummyHash is compared against when the user does not exist, so that
	// a wrong name takes as long as a wrong password.
	dummyOnce sync.Once
	dummyHash string
}

// NewLocal returns the authenticator of the local accounts in users. cost
// is the bcrypt cost of new password hashes; 0 means bcrypt.DefaultCost
// (10). Tests pass bcrypt.MinCost to run fast.
func NewLocal(users store.Users, cost int) (*Local, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("bcrypt cost %d is outside %d to %d", cost, bcrypt.MinCost,
			bcrypt.MaxCost)
	}
	return &Local{users: users, cost: cost}, nil
}

func (l *Local) hash(password string) (string, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), l.cost)
	if err != nil {
		return "", fmt.Errorf("hashing password: %w", err)
	}
	return string(hash), nil
}

// checkDummy spends the time of a password check on a user who does not
// exist.
func (l *Local) checkDummy(password string) {
	l.dummyOnce.Do(func() { l.dummyHash, _ = l.hash("not the password of anyone") })
	store.CheckPassword(l.dummyHash, password)
}

// Class implements Authenticator.
func (l *Local) Class() string { return LocalClass }

// NormalizeUsername implements Authenticator: names are lower-cased and
// stripped of surrounding white space, as JupyterHub's base Authenticator
// does.
func (l *Local) NormalizeUsername(name string) string {
	return NormalizeUsername(name)
}

// NormalizeUsername is the user name normalization of every authenticator
// here: surrounding space removed, letters in lower case.
func NormalizeUsername(name string) string {
	return strings.ToLower(strings.TrimSpace(name))
}

// AuthenticateForm implements FormAuthenticator.
func (l *Local) AuthenticateForm(ctx context.Context, username, password string) (User, error) {
	name := l.NormalizeUsername(username)
	u, err := l.users.GetUser(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		l.checkDummy(password)
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
	hash, err := l.hash(password)
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
	// A password the user chose replaces any temporary one.
	var noState []byte
	_, err = l.users.UpdateUser(ctx, name, store.UserUpdate{PasswordHash: &hash, AuthState: &noState})
	return err
}

// localState is the auth state of a local account.
type localState struct {
	// TemporaryPassword marks a password that someone else chose, such as
	// the first admin's printed one, which the user must replace.
	TemporaryPassword bool `json:"temporary_password"`
}

// SetTemporaryPassword sets a password, as SetPassword does, that the user
// must replace with their own after signing in with it.
func (l *Local) SetTemporaryPassword(ctx context.Context, name, password string) error {
	if err := l.SetPassword(ctx, name, password); err != nil {
		return err
	}
	state, _ := json.Marshal(localState{TemporaryPassword: true})
	_, err := l.users.UpdateUser(ctx, name, store.UserUpdate{AuthState: &state})
	return err
}

// HashTemporaryPassword returns the password hash and the auth state that
// SetTemporaryPassword stores for password, for a user that the caller
// creates with them. It rejects the passwords that SetPassword rejects.
func (l *Local) HashTemporaryPassword(password string) (hash string, authState []byte, err error) {
	if err := CheckPassword(password); err != nil {
		return "", nil, err
	}
	if hash, err = l.hash(password); err != nil {
		return "", nil, err
	}
	state, _ := json.Marshal(localState{TemporaryPassword: true})
	return hash, state, nil
}

// PasswordIsTemporary reports whether u signs in with a temporary password
// that they must replace.
func (l *Local) PasswordIsTemporary(u store.User) bool {
	var st localState
	return len(u.AuthState) > 0 && json.Unmarshal(u.AuthState, &st) == nil && st.TemporaryPassword
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
