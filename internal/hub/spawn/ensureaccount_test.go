package spawn

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

// These tests create real system accounts (jgtest followed by hex digits)
// as the tests of localprocess_test.go do, and delete them at their end.

func TestEnsureAccountCreatesMissing(t *testing.T) {
	requireRoot(t)
	name := newAccountName(t)
	removeAccountAtCleanup(t, name)
	l, rec := newLocalProcess()
	l.CreateUsers = true

	created, err := l.EnsureAccount(t.Context(), name)
	if err != nil {
		t.Fatalf("EnsureAccount: %v", err)
	}
	if !created {
		t.Error("EnsureAccount of a missing account reports no creation")
	}
	a, err := lookupAccount(name)
	if err != nil {
		t.Fatalf("the account was not created: %v", err)
	}
	if err := checkHome(a); err != nil {
		t.Errorf("the new account has no usable home folder: %v", err)
	}
	if rec.find("system account created", map[string]string{"user": name}) == nil {
		t.Errorf("no log record of the new account: %v", rec.messages())
	}

	// The account exists now, so a second call creates nothing.
	created, err = l.EnsureAccount(t.Context(), name)
	if err != nil || created {
		t.Errorf("second EnsureAccount = %v, %v, want false and no error", created, err)
	}
}

func TestEnsureAccountWithoutCreateUsers(t *testing.T) {
	requireRoot(t)
	name := newAccountName(t)
	removeAccountAtCleanup(t, name)
	l, _ := newLocalProcess()
	created, err := l.EnsureAccount(t.Context(), name)
	if err != nil || created {
		t.Errorf("EnsureAccount without CreateUsers = %v, %v, want false and no error",
			created, err)
	}
	if _, err := user.Lookup(name); err == nil {
		t.Errorf("account %s was created without CreateUsers", name)
	}
}

func TestEnsureAccountFailingCommand(t *testing.T) {
	requireRoot(t)
	name := newAccountName(t)
	removeAccountAtCleanup(t, name)
	l, _ := newLocalProcess()
	l.CreateUsers = true
	l.AddUserCmd = []string{"/bin/sh", "-c", "echo 'no space left' >&2; exit 3"}
	created, err := l.EnsureAccount(t.Context(), name)
	if err == nil || created {
		t.Fatalf("EnsureAccount with a failing add_user_cmd = %v, %v, want an error", created, err)
	}
	for _, want := range []string{"creating system account " + name, "add_user_cmd",
		"exit status 3", "no space left"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestEnsureAccountInvalidName(t *testing.T) {
	// No root needed: the name is rejected before anything else.
	marker := filepath.Join(t.TempDir(), "ran")
	l, _ := newLocalProcess()
	l.CreateUsers = true
	l.AddUserCmd = []string{"/bin/sh", "-c", "touch " + marker}
	for _, name := range []string{"Alice", "1abc", "a.b", "-rf", "ada@example.org"} {
		created, err := l.EnsureAccount(t.Context(), name)
		if err == nil || created || !strings.Contains(err.Error(), "invalid user name") {
			t.Errorf("EnsureAccount(%q) = %v, %v, want an invalid name error", name, created, err)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("add_user_cmd ran for an invalid name")
	}
}
