// Package storetest is a conformance suite for implementations of
// store.Store, in the manner of testing/slogtest: every implementation
// runs the same tests, so the hub can rely on the behaviour the store
// package documents whichever database is behind it.
//
// An implementation's test calls RunConformance with a function that
// opens a new, empty store:
//
//	func TestConformance(t *testing.T) {
//		storetest.RunConformance(t, func(t *testing.T) store.Store {
//			s, err := store.Open(t.Context(), "sqlite:///"+t.TempDir()+"/hub.sqlite", store.Options{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// The stores must keep the real time (Options.Now nil): the suite tests
// expiry with times an hour before or after the present, never by waiting.
package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/jupygo/jupygo/internal/store"
)

// RunConformance runs the suite as subtests of t. open must return a new,
// empty store each time it is called; the suite closes it when the subtest
// ends.
func RunConformance(t *testing.T, open func(t *testing.T) store.Store) {
	suites := []struct {
		name  string
		tests []test
	}{
		{"Users", userTests},
		{"Groups", groupTests},
		{"Roles", roleTests},
		{"Servers", serverTests},
		{"Tokens", tokenTests},
		{"Services", serviceTests},
		{"OAuth", oauthTests},
		{"Sessions", sessionTests},
		{"KnownLogins", knownLoginTests},
		{"Shares", shareTests},
		{"Concurrency", concurrencyTests},
	}
	for _, suite := range suites {
		t.Run(suite.name, func(t *testing.T) {
			for _, tc := range suite.tests {
				t.Run(tc.name, func(t *testing.T) {
					s := open(t)
					t.Cleanup(func() {
						if err := s.Close(); err != nil {
							t.Errorf("Close: %v", err)
						}
					})
					tc.run(t, s)
				})
			}
		})
	}
}

// test is one case of the suite.
type test struct {
	name string
	run  func(t *testing.T, s store.Store)
}

// Times for fields that callers set. The microseconds check that the store
// keeps them.
var (
	t1 = time.Date(2031, 3, 4, 5, 6, 7, 123456000, time.UTC)
	t2 = t1.Add(time.Hour)
	t3 = t1.Add(2 * time.Hour)
)

// ignoreStored ignores the fields that the store fills in itself.
var ignoreStored = cmp.Options{
	cmpopts.IgnoreFields(store.User{}, "ID", "Created", "CookieID"),
	cmpopts.IgnoreFields(store.Group{}, "ID"),
	cmpopts.IgnoreFields(store.Role{}, "ID"),
	cmpopts.IgnoreFields(store.Server{}, "ID"),
	cmpopts.IgnoreFields(store.Token{}, "ID", "Prefix", "Created"),
	cmpopts.IgnoreFields(store.Service{}, "ID", "Created"),
	cmpopts.IgnoreFields(store.OAuthClient{}, "Created"),
	cmpopts.IgnoreFields(store.OAuthCode{}, "Created"),
	cmpopts.EquateEmpty(),
}

// wantErr fails the test unless errors.Is(err, target), or err is nil for
// a nil target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if target == nil {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return
	}
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// diff fails the test when got and want differ, ignoring the fields the
// store fills in.
func diff(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := cmp.Diff(want, got, ignoreStored); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// checkStamped fails the test unless at is set and in UTC.
func checkStamped(t *testing.T, what string, at time.Time) {
	t.Helper()
	if at.IsZero() || at.Location() != time.UTC {
		t.Errorf("%s = %v, want a UTC time", what, at)
	}
}

func mustUser(t *testing.T, s store.Store, name string) store.User {
	t.Helper()
	u, err := s.CreateUser(t.Context(), name, false)
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", name, err)
	}
	return u
}

func mustGroup(t *testing.T, s store.Store, name string, members ...string) store.Group {
	t.Helper()
	ctx := t.Context()
	g, err := s.CreateGroup(ctx, name, nil)
	if err != nil {
		t.Fatalf("CreateGroup(%q): %v", name, err)
	}
	if len(members) > 0 {
		if g, err = s.AddGroupMembers(ctx, name, members...); err != nil {
			t.Fatalf("AddGroupMembers(%q): %v", name, err)
		}
	}
	return g
}

func mustService(t *testing.T, s store.Store, name string) store.Service {
	t.Helper()
	sv, err := s.CreateService(t.Context(), store.Service{Name: name})
	if err != nil {
		t.Fatalf("CreateService(%q): %v", name, err)
	}
	return sv
}

func mustRole(t *testing.T, s store.Store, name string, scopes ...string) store.Role {
	t.Helper()
	r, err := s.PutRole(t.Context(), store.Role{Name: name, Scopes: scopes})
	if err != nil {
		t.Fatalf("PutRole(%q): %v", name, err)
	}
	return r
}

func mustServer(t *testing.T, s store.Store, user, name string) store.Server {
	t.Helper()
	sv, err := s.CreateServer(t.Context(), user, name)
	if err != nil {
		t.Fatalf("CreateServer(%q, %q): %v", user, name, err)
	}
	return sv
}

func mustToken(t *testing.T, s store.Store, nt store.NewToken) (store.Token, string) {
	t.Helper()
	tok, clear, err := s.CreateToken(t.Context(), nt)
	if err != nil {
		t.Fatalf("CreateToken(%+v): %v", nt, err)
	}
	return tok, clear
}

func mustClient(t *testing.T, s store.Store, id, secret string) store.OAuthClient {
	t.Helper()
	c, err := s.PutOAuthClient(t.Context(),
		store.OAuthClient{ID: id, RedirectURI: "http://127.0.0.1/" + id + "/oauth_callback"}, secret)
	if err != nil {
		t.Fatalf("PutOAuthClient(%q): %v", id, err)
	}
	return c
}

func ptr[T any](v T) *T { return &v }
