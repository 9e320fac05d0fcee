package hub

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/jupygo/jupygo/internal/hub/auth"
	"github.com/jupygo/jupygo/internal/hub/config"
	"github.com/jupygo/jupygo/internal/store"
	"golang.org/x/crypto/bcrypt"
)

func TestCookieSecretFile(t *testing.T) {
	cfg, err := config.Parse(nil, "")
	must(t, err)
	cfg.JupyterHub.DataDir = filepath.Join(t.TempDir(), "data")
	must(t, PrepareDataDir(cfg))
	first, err := LoadCookieSecret(cfg)
	must(t, err)
	path := cfg.Path(cfg.JupyterHub.CookieSecretFile)
	info, err := os.Stat(path)
	must(t, err)
	if info.Mode().Perm() != 0o600 {
		t.Errorf("new secret file has mode %o, want 600", info.Mode().Perm())
	}
	again, err := LoadCookieSecret(cfg)
	must(t, err)
	if !bytes.Equal(first, again) {
		t.Error("the secret changed between starts")
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		must(t, os.Chmod(path, mode))
		if _, err := LoadCookieSecret(cfg); err == nil {
			t.Errorf("a secret file with mode %04o, open to group or others, was accepted", mode)
		}
	}
	must(t, os.Chmod(path, 0o400))
	if _, err := LoadCookieSecret(cfg); err != nil {
		t.Errorf("a read-only secret file of mode 0400 was rejected: %v", err)
	}
	must(t, os.Chmod(path, 0o600))
	must(t, os.WriteFile(path, []byte("abcd"), 0o600))
	if _, err := LoadCookieSecret(cfg); err == nil {
		t.Error("a two-byte secret was accepted")
	}
}

func TestEnsureFirstAdmin(t *testing.T) {
	cfg, err := config.Parse(nil, "")
	must(t, err)
	st, err := store.Open(t.Context(), "sqlite://", store.Options{})
	must(t, err)
	defer st.Close()
	local, err := auth.NewLocal(st, bcrypt.MinCost)
	must(t, err)
	name, password, replaced, err := EnsureFirstAdmin(t.Context(), st, local, cfg)
	must(t, err)
	if name != "admin" || password == "" {
		t.Fatalf("first admin = %q %q", name, password)
	}
	if replaced {
		t.Error("the first start reports a replaced password")
	}
	if _, err := local.AuthenticateForm(t.Context(), name, password); err != nil {
		t.Errorf("the printed password does not work: %v", err)
	}
	u, _ := st.GetUser(t.Context(), "admin")
	if !u.Admin {
		t.Error("the first admin is not an admin")
	}
	if !local.PasswordIsTemporary(u) {
		t.Error("the printed password is not temporary")
	}

	// A start before the admin replaced the password prints a new one, and
	// the one printed before stops working.
	_, second, replaced, err := EnsureFirstAdmin(t.Context(), st, local, cfg)
	must(t, err)
	if second == "" || second == password {
		t.Fatalf("second start printed %q after %q, want a new password", second, password)
	}
	if !replaced {
		t.Error("the second start does not report the replaced password")
	}
	if _, err := local.AuthenticateForm(t.Context(), name, password); err == nil {
		t.Error("the first start's password still works")
	}
	if _, err := local.AuthenticateForm(t.Context(), name, second); err != nil {
		t.Errorf("the second start's password does not work: %v", err)
	}

	must(t, local.SetPassword(t.Context(), name, "the admin's own password"))
	if _, again, _, _ := EnsureFirstAdmin(t.Context(), st, local, cfg); again != "" {
		t.Error("a start after the admin chose a password printed a new one")
	}
	if _, err := local.AuthenticateForm(t.Context(), name, "the admin's own password"); err != nil {
		t.Errorf("the admin's own password stopped working: %v", err)
	}
}
