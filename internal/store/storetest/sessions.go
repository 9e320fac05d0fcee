package storetest

import (
	"fmt"
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
	{"EndOthers", testSessionEndOthers},
	{"EndAll", testSessionEndAll},
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

// mustSessions creates sessions of user with the given IDs, an hour long.
func mustSessions(t *testing.T, s store.Store, user string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		_, err := s.CreateSession(t.Context(), store.Session{ID: id, User: user,
			ExpiresAt: time.Now().Add(time.Hour)})
		wantErr(t, "CreateSession", err, nil)
	}
}

func testSessionEndOthers(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := store.Owner{User: "alice"}, store.Owner{User: "bob"}
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	mustClient(t, s, "client", "")
	mustSessions(t, s, "alice", "keep", "other1", "other2")
	mustSessions(t, s, "bob", "bob1")
	kept, _ := mustToken(t, s, store.NewToken{Owner: alice, SessionID: "keep"})
	mustToken(t, s, store.NewToken{Owner: alice, SessionID: "other1"})
	mustToken(t, s, store.NewToken{Owner: alice, SessionID: "expired-session"})
	plain, _ := mustToken(t, s, store.NewToken{Owner: alice})
	bobs, _ := mustToken(t, s, store.NewToken{Owner: bob, SessionID: "bob1"})
	code, err := s.CreateOAuthCode(ctx, store.OAuthCode{ClientID: "client", User: "alice",
		SessionID: "other2", ExpiresAt: time.Now().Add(time.Hour)})
	wantErr(t, "CreateOAuthCode", err, nil)

	sessions, tokens, err := s.EndOtherSessions(ctx, "alice", "keep")
	wantErr(t, "EndOtherSessions", err, nil)
	if sessions != 2 {
		t.Errorf("EndOtherSessions deleted %d sessions, want 2", sessions)
	}
	if tokens != 2 {
		t.Errorf("EndOtherSessions deleted %d tokens, want 2", tokens)
	}
	for _, id := range []string{"other1", "other2"} {
		_, err := s.GetSession(ctx, id)
		wantErr(t, "GetSession(ended "+id+")", err, store.ErrNotFound)
	}
	for _, id := range []string{"keep", "bob1"} {
		_, err := s.GetSession(ctx, id)
		wantErr(t, "GetSession(kept "+id+")", err, nil)
	}
	for _, tok := range []store.Token{kept, plain, bobs} {
		_, err := s.GetToken(ctx, tok.ID)
		wantErr(t, fmt.Sprintf("GetToken(kept %d)", tok.ID), err, nil)
	}
	_, err = s.ConsumeOAuthCode(ctx, code)
	wantErr(t, "ConsumeOAuthCode(of an ended session)", err, store.ErrNotFound)
	_, _, err = s.EndOtherSessions(ctx, "nobody", "")
	wantErr(t, "EndOtherSessions(unknown user)", err, store.ErrNotFound)
}

func testSessionEndAll(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustSessions(t, s, "alice", "s1", "s2")
	mustToken(t, s, store.NewToken{Owner: store.Owner{User: "alice"}, SessionID: "s1"})
	sessions, tokens, err := s.EndOtherSessions(ctx, "alice", "")
	wantErr(t, "EndOtherSessions", err, nil)
	if sessions != 2 || tokens != 1 {
		t.Errorf("EndOtherSessions deleted %d sessions and %d tokens, want 2 and 1",
			sessions, tokens)
	}
}
