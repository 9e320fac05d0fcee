package auth

import (
	"errors"
	"testing"
)

func TestDummyAnyPassword(t *testing.T) {
	d := &Dummy{}
	for _, password := range []string{"", "anything"} {
		u, err := d.AuthenticateForm(t.Context(), " Carol ", password)
		if err != nil {
			t.Fatalf("password %q: %v", password, err)
		}
		if u.Name != "carol" {
			t.Errorf("name = %q, want carol", u.Name)
		}
	}
	if _, err := d.AuthenticateForm(t.Context(), "  ", "anything"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("empty name: err = %v, want ErrInvalidCredentials", err)
	}
}

func TestDummySharedPassword(t *testing.T) {
	d := &Dummy{Password: "shared secret"}
	if u, err := d.AuthenticateForm(t.Context(), "dave", "shared secret"); err != nil || u.Name != "dave" {
		t.Errorf("shared password = %+v, %v; want dave", u, err)
	}
	for _, password := range []string{"", "shared", "shared secret ", "Shared secret"} {
		if _, err := d.AuthenticateForm(t.Context(), "dave", password); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("password %q: err = %v, want ErrInvalidCredentials", password, err)
		}
	}
}

func TestDummyIsFormAuthenticator(t *testing.T) {
	var a Authenticator = &Dummy{}
	if _, ok := a.(FormAuthenticator); !ok {
		t.Error("Dummy does not implement FormAuthenticator")
	}
	if a.Class() != "jupyterhub.auth.DummyAuthenticator" {
		t.Errorf("Class() = %q", a.Class())
	}
}
