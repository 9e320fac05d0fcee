package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/store"
)

var knownLoginTests = []test{
	{"RecordLookup", testKnownLoginRecordLookup},
	{"KeepsMostRecent", testKnownLoginKeepsMostRecent},
	{"Expiry", testKnownLoginExpiry},
	{"FollowsUser", testKnownLoginFollowsUser},
	{"Errors", testKnownLoginErrors},
}

// mustKnownLogin records a sign-in that keeps 10 addresses and drops
// those not seen since a day before at.
func mustKnownLogin(t *testing.T, s store.Store, user, address string, at time.Time) {
	t.Helper()
	err := s.RecordKnownLogin(t.Context(), user, address, at, 10, at.Add(-24*time.Hour))
	wantErr(t, "RecordKnownLogin", err, nil)
}

// before returns the microsecond before t, the smallest step the store
// keeps.
func before(t time.Time) time.Time { return t.Add(-time.Microsecond) }

// wantKnown fails the test unless IsKnownLogin returns want.
func wantKnown(t *testing.T, s store.Store, user, address string, since time.Time, want bool) {
	t.Helper()
	known, err := s.IsKnownLogin(t.Context(), user, address, since)
	wantErr(t, "IsKnownLogin", err, nil)
	if known != want {
		t.Errorf("IsKnownLogin(%q, %q, %v) = %v, want %v", user, address, since, known, want)
	}
}

func testKnownLoginRecordLookup(t *testing.T, s store.Store) {
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	mustKnownLogin(t, s, "alice", "10.0.0.1", t1)
	wantKnown(t, s, "alice", "10.0.0.1", before(t1), true)
	wantKnown(t, s, "alice", "10.0.0.1", t1, false)
	wantKnown(t, s, "alice", "10.0.0.2", before(t1), false)
	wantKnown(t, s, "bob", "10.0.0.1", before(t1), false)
	// A later sign-in moves the time forward, and an earlier one leaves it.
	mustKnownLogin(t, s, "alice", "10.0.0.1", t2)
	mustKnownLogin(t, s, "alice", "10.0.0.1", t1)
	wantKnown(t, s, "alice", "10.0.0.1", before(t2), true)
}

func testKnownLoginKeepsMostRecent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	for i := range 5 {
		at := t1.Add(time.Duration(i) * time.Minute)
		err := s.RecordKnownLogin(ctx, "alice", fmt.Sprintf("10.0.0.%d", i), at, 3, t1.Add(-time.Hour))
		wantErr(t, "RecordKnownLogin", err, nil)
	}
	for i := range 5 {
		wantKnown(t, s, "alice", fmt.Sprintf("10.0.0.%d", i), before(t1), i >= 2)
	}
	// Signing in again from a kept address does not drop another one.
	err := s.RecordKnownLogin(ctx, "alice", "10.0.0.2", t2, 3, t1.Add(-time.Hour))
	wantErr(t, "RecordKnownLogin(again)", err, nil)
	for i := 2; i < 5; i++ {
		wantKnown(t, s, "alice", fmt.Sprintf("10.0.0.%d", i), before(t1), true)
	}
}

func testKnownLoginExpiry(t *testing.T, s store.Store) {
	mustUser(t, s, "alice")
	mustKnownLogin(t, s, "alice", "10.0.0.1", t1)
	wantKnown(t, s, "alice", "10.0.0.1", t1.Add(-time.Hour), true)
	// The next sign-in, more than a day later, deletes the old address.
	later := t1.Add(25 * time.Hour)
	mustKnownLogin(t, s, "alice", "10.0.0.2", later)
	wantKnown(t, s, "alice", "10.0.0.1", time.Time{}.Add(time.Hour), false)
	wantKnown(t, s, "alice", "10.0.0.2", before(later), true)
}

func testKnownLoginFollowsUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustKnownLogin(t, s, "alice", "10.0.0.1", t1)
	_, err := s.UpdateUser(ctx, "alice", store.UserUpdate{Name: ptr("alice2")})
	wantErr(t, "UpdateUser(rename)", err, nil)
	wantKnown(t, s, "alice2", "10.0.0.1", before(t1), true)
	wantErr(t, "DeleteUser", s.DeleteUser(ctx, "alice2"), nil)
	mustUser(t, s, "alice2")
	wantKnown(t, s, "alice2", "10.0.0.1", before(t1), false)
}

func testKnownLoginErrors(t *testing.T, s store.Store) {
	ctx := t.Context()
	err := s.RecordKnownLogin(ctx, "nobody", "10.0.0.1", t1, 10, t1)
	wantErr(t, "RecordKnownLogin(unknown user)", err, store.ErrNotFound)
	mustUser(t, s, "alice")
	err = s.RecordKnownLogin(ctx, "alice", "10.0.0.1", t1, 0, t1)
	wantErr(t, "RecordKnownLogin(keep 0)", err, store.ErrInvalid)
	wantKnown(t, s, "nobody", "10.0.0.1", before(t1), false)
}
