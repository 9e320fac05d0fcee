package auth

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jupygo/jupygo/internal/store"
	"golang.org/x/crypto/bcrypt"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(),
		"sqlite:///"+filepath.Join(t.TempDir(), "hub.sqlite"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestLocalSignIn(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	l, err := NewLocal(st, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.SetPassword(ctx, "alice", "correct horse"); err != nil {
		t.Fatal(err)
	}
	u, err := l.AuthenticateForm(ctx, " Alice ", "correct horse")
	if err != nil {
		t.Fatalf("right password: %v", err)
	}
	if u.Name != "alice" {
		t.Errorf("name = %q, want alice", u.Name)
	}
	for _, tt := range []struct{ name, user, password string }{
		{"wrong password", "alice", "battery staple"},
		{"unknown user", "bob", "correct horse"},
		{"empty password", "alice", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := l.AuthenticateForm(ctx, tt.user, tt.password)
			if !errors.Is(err, ErrInvalidCredentials) {
				t.Errorf("err = %v, want ErrInvalidCredentials", err)
			}
		})
	}
}

func TestLocalUserWithoutPassword(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	if _, err := st.CreateUser(ctx, "carol", false); err != nil {
		t.Fatal(err)
	}
	l, _ := NewLocal(st, bcrypt.MinCost)
	if _, err := l.AuthenticateForm(ctx, "carol", ""); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("err = %v, want ErrInvalidCredentials", err)
	}
}

func TestSetPasswordChecks(t *testing.T) {
	st := openStore(t)
	l, _ := NewLocal(st, bcrypt.MinCost)
	for _, pw := range []string{"short", strings.Repeat("x", 73)} {
		if err := l.SetPassword(context.Background(), "dave", pw); err == nil {
			t.Errorf("SetPassword(%d characters) succeeded, want an error", len(pw))
		}
	}
	if _, err := st.GetUser(context.Background(), "dave"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a rejected password created the user: %v", err)
	}
}

func TestTemporaryPassword(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	l, _ := NewLocal(st, bcrypt.MinCost)
	if err := l.SetTemporaryPassword(ctx, "alice", "chosen by an admin"); err != nil {
		t.Fatal(err)
	}
	u, _ := st.GetUser(ctx, "alice")
	if !l.PasswordIsTemporary(u) {
		t.Error("a temporary password is not marked temporary")
	}
	if _, err := l.AuthenticateForm(ctx, "alice", "chosen by an admin"); err != nil {
		t.Errorf("temporary password does not sign in: %v", err)
	}
	if err := l.SetPassword(ctx, "alice", "chosen by alice"); err != nil {
		t.Fatal(err)
	}
	u, _ = st.GetUser(ctx, "alice")
	if l.PasswordIsTemporary(u) {
		t.Error("the user's own password is still marked temporary")
	}
}
