package storetest

import (
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/store"
)

var sessionTests = []test{
	{"CreateGet", testSessionCreateGet},
	{"Errors", testSessionErrors},
	{"Expired", testSessionExpired},
	{"Delete", testSessionDelete},
	{"DeletedWithUser", testSessionDeletedWithUser},
}

func testSessionCreateGet(t *testing.T, s store.Store) {
	mustUser(t, s, "alice")
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	sess, err := s.CreateSession(t.Context(), store.Session{ID: "s1", User: "alice", ExpiresAt: expires})
	wantErr(t, "CreateSession", err, nil)
	checkStamped(t, "Created", sess.Created)
	want := store.Session{ID: "s1", User: "alice", Created: sess.Created, ExpiresAt: expires}
	diff(t, "created session", sess, want)
	got, err := s.GetSession(t.Context(), "s1")
	wantErr(t, "GetSession", err, nil)
	diff(t, "session", got, want)
}

func testSessionErrors(t *testing.T, s store.Store) {
	mustUser(t, s, "alice")
	expires := time.Now().Add(time.Hour)
	_, err := s.CreateSession(t.Context(), store.Session{ID: "s1", User: "nobody", ExpiresAt: expires})
	wantErr(t, "CreateSession(unknown user)", err, store.ErrNotFound)
	_, err = s.CreateSession(t.Context(), store.Session{ID: "s1", User: "alice"})
	wantErr(t, "CreateSession(no expiry)", err, store.ErrInvalid)
	_, err = s.CreateSession(t.Context(), store.Session{User: "alice", ExpiresAt: expires})
	wantErr(t, "CreateSession(no ID)", err, store.ErrInvalid)
	_, err = s.CreateSession(t.Context(), store.Session{ID: "s1", User: "alice", ExpiresAt: expires})
	wantErr(t, "CreateSession", err, nil)
	_, err = s.CreateSession(t.Context(), store.Session{ID: "s1", User: "alice", ExpiresAt: expires})
	wantErr(t, "CreateSession(duplicate)", err, store.ErrExists)
	_, err = s.GetSession(t.Context(), "missing")
	wantErr(t, "GetSession(missing)", err, store.ErrNotFound)
	err = s.DeleteSession(t.Context(), "missing")
	wantErr(t, "DeleteSession(missing)", err, store.ErrNotFound)
}

func testSessionExpired(t *testing.T, s store.Store) {
	mustUser(t, s, "alice")
	_, err := s.CreateSession(t.Context(), store.Session{ID: "old", User: "alice",
		ExpiresAt: time.Now().Add(-time.Hour)})
	wantErr(t, "CreateSession", err, nil)
	_, err = s.GetSession(t.Context(), "old")
	wantErr(t, "GetSession(expired)", err, store.ErrNotFound)
	n, err := s.PurgeExpired(t.Context())
	wantErr(t, "PurgeExpired", err, nil)
	if n != 1 {
		t.Errorf("PurgeExpired deleted %d rows, want the expired session", n)
	}
}

func testSessionDelete(t *testing.T, s store.Store) {
	mustUser(t, s, "alice")
	expires := time.Now().Add(time.Hour)
	for _, id := range []string{"s1", "s2", "s3"} {
		_, err := s.CreateSession(t.Context(), store.Session{ID: id, User: "alice", ExpiresAt: expires})
		wantErr(t, "CreateSession", err, nil)
	}
	wantErr(t, "DeleteSession", s.DeleteSession(t.Context(), "s1"), nil)
	_, err := s.GetSession(t.Context(), "s1")
	wantErr(t, "GetSession(deleted)", err, store.ErrNotFound)
	n, err := s.DeleteUserSessions(t.Context(), "alice")
	wantErr(t, "DeleteUserSessions", err, nil)
	if n != 2 {
		t.Errorf("DeleteUserSessions deleted %d, want 2", n)
	}
	_, err = s.DeleteUserSessions(t.Context(), "nobody")
	wantErr(t, "DeleteUserSessions(unknown user)", err, store.ErrNotFound)
}

func testSessionDeletedWithUser(t *testing.T, s store.Store) {
	mustUser(t, s, "alice")
	_, err := s.CreateSession(t.Context(), store.Session{ID: "s1", User: "alice",
		ExpiresAt: time.Now().Add(time.Hour)})
	wantErr(t, "CreateSession", err, nil)
	wantErr(t, "DeleteUser", s.DeleteUser(t.Context(), "alice"), nil)
	mustUser(t, s, "alice")
	_, err = s.GetSession(t.Context(), "s1")
	wantErr(t, "GetSession(after the user was deleted)", err, store.ErrNotFound)
}
