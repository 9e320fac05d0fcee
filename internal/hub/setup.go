package hub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jupygo/jupygo/internal/hub/auth"
	"github.com/jupygo/jupygo/internal/hub/config"
	"github.com/jupygo/jupygo/internal/store"
)

// cookieSecretBytes is the size of a generated cookie secret, 256 bits.
const cookieSecretBytes = 32

// PrepareDataDir creates the data folder, mode 0700, when it is missing.
func PrepareDataDir(cfg *config.Config) error {
	dir := cfg.Path(".")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the data folder: %w", err)
	}
	return nil
}

// LoadCookieSecret returns the cookie secret: cookie_secret (or
// JPY_COOKIE_SECRET) when set, else the contents of cookie_secret_file,
// which it creates with mode 0600 and a new random secret when missing.
// The secret is hex, as in JupyterHub. A file that group or others may
// read is rejected.
func LoadCookieSecret(cfg *config.Config) ([]byte, error) {
	if s := cfg.JupyterHub.CookieSecret.Value(); s != "" {
		return decodeSecret(s, "cookie_secret")
	}
	path := cfg.Path(cfg.JupyterHub.CookieSecretFile)
	text, err := config.ReadSecretFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return createCookieSecret(path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the cookie secret: %w", err)
	}
	return decodeSecret(text, path)
}

func createCookieSecret(path string) ([]byte, error) {
	secret := make([]byte, cookieSecretBytes)
	rand.Read(secret)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the cookie secret: %w", err)
	}
	// O_EXCL, so that two hubs starting at once never overwrite each
	// other's secret.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating the cookie secret: %w", err)
	}
	_, err = f.WriteString(hex.EncodeToString(secret) + "\n")
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("writing the cookie secret: %w", err)
	}
	return secret, nil
}

func decodeSecret(text, source string) ([]byte, error) {
	secret, err := hex.DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("the cookie secret in %s is not hex", source)
	}
	if len(secret) < cookieSecretBytes {
		return nil, fmt.Errorf("the cookie secret in %s has %d bytes; use at least %d "+
			"(openssl rand -hex 32)", source, len(secret), cookieSecretBytes)
	}
	return secret, nil
}

// EnsureFirstAdmin gives a hub of local accounts its first admin: the
// first of admin_users, or "admin". While no account has a password that
// its user chose, it sets a new random temporary password for that admin
// at every start, makes the user an admin and returns the name and the
// password for the operator. An operator who missed the printed password
// gets another one by restarting. replaced reports that the
// admin already had a temporary password, which no longer works. Once a
// user has chosen a password it returns "".
func EnsureFirstAdmin(ctx context.Context, st store.Store, local *auth.Local,
	cfg *config.Config) (name, password string, replaced bool, err error) {
	name = "admin"
	if len(cfg.Authenticator.AdminUsers) > 0 {
		name = local.NormalizeUsername(cfg.Authenticator.AdminUsers[0])
	}
	users, _, err := st.ListUsers(ctx, store.UserQuery{})
	if err != nil {
		return "", "", false, err
	}
	for _, u := range users {
		switch {
		case u.PasswordHash == "":
		case !local.PasswordIsTemporary(u):
			return "", "", false, nil
		case u.Name == name:
			replaced = true
		}
	}
	b := make([]byte, 12)
	rand.Read(b)
	password = hex.EncodeToString(b)
	if err := local.SetTemporaryPassword(ctx, name, password); err != nil {
		return "", "", false, fmt.Errorf("setting the first admin's password: %w", err)
	}
	admin := true
	if _, err := st.UpdateUser(ctx, name, store.UserUpdate{Admin: &admin}); err != nil {
		return "", "", false, err
	}
	return name, password, replaced, nil
}
