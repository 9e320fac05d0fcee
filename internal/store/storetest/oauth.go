package storetest

import (
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/store"
)

var oauthTests = []test{
	{"PutGetClient", testOAuthPutGetClient},
	{"ClientSecret", testOAuthClientSecret},
	{"DeleteClient", testOAuthDeleteClient},
	{"Code", testOAuthCode},
	{"CodeErrors", testOAuthCodeErrors},
	{"ExpiredCode", testOAuthExpiredCode},
}

func testOAuthPutGetClient(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := store.OAuthClient{ID: "jupyterhub-user-alice", Description: "Server at /user/alice/",
		RedirectURI: "/user/alice/oauth_callback", AllowedScopes: []string{"access:servers!server=alice/"}}
	c, err := s.PutOAuthClient(ctx, in, "secret")
	wantErr(t, "PutOAuthClient", err, nil)
	diff(t, "client", c, in)
	checkStamped(t, "Created", c.Created)

	got, err := s.GetOAuthClient(ctx, in.ID)
	wantErr(t, "GetOAuthClient", err, nil)
	diff(t, "client", got, in)

	replaced := store.OAuthClient{ID: in.ID, RedirectURI: "/user/alice/new_callback"}
	got, err = s.PutOAuthClient(ctx, replaced, "")
	wantErr(t, "PutOAuthClient(replace)", err, nil)
	diff(t, "replaced client", got, replaced)
	if !got.Created.Equal(c.Created) {
		t.Errorf("replacing changed Created from %v to %v", c.Created, got.Created)
	}

	mustClient(t, s, "a-client", "")
	list, err := s.ListOAuthClients(ctx)
	wantErr(t, "ListOAuthClients", err, nil)
	var ids []string
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	diff(t, "client IDs", ids, []string{"a-client", in.ID})

	_, err = s.PutOAuthClient(ctx, store.OAuthClient{}, "x")
	wantErr(t, "PutOAuthClient(no ID)", err, store.ErrInvalid)
	_, err = s.GetOAuthClient(ctx, "missing")
	wantErr(t, "GetOAuthClient(missing)", err, store.ErrNotFound)
}

func testOAuthClientSecret(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustClient(t, s, "with-secret", "s3cret")
	mustClient(t, s, "public", "")
	checks := []struct {
		name   string
		id     string
		secret string
		want   error
	}{
		{"right", "with-secret", "s3cret", nil},
		{"wrong", "with-secret", "s3cre", store.ErrNotFound},
		{"empty", "with-secret", "", store.ErrNotFound},
		{"client without secret", "public", "", store.ErrNotFound},
		{"client without secret, any", "public", "x", store.ErrNotFound},
		{"missing client", "missing", "s3cret", store.ErrNotFound},
	}
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			c, err := s.CheckOAuthClient(t.Context(), tc.id, tc.secret)
			wantErr(t, "CheckOAuthClient", err, tc.want)
			if err == nil && c.ID != tc.id {
				t.Errorf("CheckOAuthClient returned client %q, want %q", c.ID, tc.id)
			}
		})
	}

	// An empty secret keeps the old one; a new secret replaces it.
	mustClient(t, s, "with-secret", "")
	_, err := s.CheckOAuthClient(ctx, "with-secret", "s3cret")
	wantErr(t, "CheckOAuthClient(kept)", err, nil)
	mustClient(t, s, "with-secret", "rotated")
	_, err = s.CheckOAuthClient(ctx, "with-secret", "s3cret")
	wantErr(t, "CheckOAuthClient(old)", err, store.ErrNotFound)
	_, err = s.CheckOAuthClient(ctx, "with-secret", "rotated")
	wantErr(t, "CheckOAuthClient(new)", err, nil)
}

func testOAuthDeleteClient(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustClient(t, s, "client", "secret")
	mustClient(t, s, "other", "secret")
	_, clear := mustToken(t, s, store.NewToken{Owner: store.Owner{User: "alice"}, OAuthClientID: "client"})
	_, otherClear := mustToken(t, s, store.NewToken{Owner: store.Owner{User: "alice"}, OAuthClientID: "other"})
	code, err := s.CreateOAuthCode(ctx, store.OAuthCode{ClientID: "client", User: "alice",
		ExpiresAt: time.Now().Add(time.Hour)})
	wantErr(t, "CreateOAuthCode", err, nil)

	wantErr(t, "DeleteOAuthClient", s.DeleteOAuthClient(ctx, "client"), nil)
	wantErr(t, "DeleteOAuthClient(again)", s.DeleteOAuthClient(ctx, "client"), store.ErrNotFound)
	_, err = s.FindToken(ctx, clear)
	wantErr(t, "FindToken(client's token)", err, store.ErrNotFound)
	_, err = s.ConsumeOAuthCode(ctx, code)
	wantErr(t, "ConsumeOAuthCode(client's code)", err, store.ErrNotFound)
	tok, err := s.FindToken(ctx, otherClear)
	wantErr(t, "FindToken(other client's token)", err, nil)
	diff(t, "other client's token", tok.OAuthClientID, "other")
}

func testOAuthCode(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustClient(t, s, "client", "secret")
	in := store.OAuthCode{
		ClientID:            "client",
		User:                "alice",
		Scopes:              []string{"read:users!user=alice"},
		RedirectURI:         "http://127.0.0.1/client/oauth_callback",
		SessionID:           "session-1",
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		ExpiresAt:           time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond),
	}
	code, err := s.CreateOAuthCode(ctx, in)
	wantErr(t, "CreateOAuthCode", err, nil)
	if len(code) < 32 {
		t.Errorf("code %q is shorter than 32 characters", code)
	}
	other, err := s.CreateOAuthCode(ctx, in)
	wantErr(t, "CreateOAuthCode(second)", err, nil)
	if other == code {
		t.Errorf("two codes are both %q", code)
	}

	got, err := s.ConsumeOAuthCode(ctx, code)
	wantErr(t, "ConsumeOAuthCode", err, nil)
	diff(t, "code", got, in)
	checkStamped(t, "Created", got.Created)
	_, err = s.ConsumeOAuthCode(ctx, code)
	wantErr(t, "ConsumeOAuthCode(again)", err, store.ErrNotFound)
	_, err = s.ConsumeOAuthCode(ctx, other)
	wantErr(t, "ConsumeOAuthCode(other)", err, nil)
	_, err = s.ConsumeOAuthCode(ctx, "")
	wantErr(t, "ConsumeOAuthCode(empty)", err, store.ErrNotFound)
}

func testOAuthCodeErrors(t *testing.T, s store.Store) {
	mustUser(t, s, "alice")
	mustClient(t, s, "client", "")
	later := time.Now().Add(time.Hour)
	tests := []struct {
		name string
		code store.OAuthCode
		want error
	}{
		{"no expiry", store.OAuthCode{ClientID: "client", User: "alice"}, store.ErrInvalid},
		{"missing client", store.OAuthCode{ClientID: "x", User: "alice", ExpiresAt: later}, store.ErrNotFound},
		{"missing user", store.OAuthCode{ClientID: "client", User: "bob", ExpiresAt: later}, store.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateOAuthCode(t.Context(), tc.code)
			wantErr(t, "CreateOAuthCode", err, tc.want)
		})
	}
}

func testOAuthExpiredCode(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustClient(t, s, "client", "")
	code, err := s.CreateOAuthCode(ctx, store.OAuthCode{ClientID: "client", User: "alice",
		ExpiresAt: time.Now().Add(-time.Second)})
	wantErr(t, "CreateOAuthCode", err, nil)
	_, err = s.ConsumeOAuthCode(ctx, code)
	wantErr(t, "ConsumeOAuthCode(expired)", err, store.ErrNotFound)
	n, err := s.PurgeExpired(ctx)
	wantErr(t, "PurgeExpired", err, nil)
	if n != 0 {
		t.Errorf("PurgeExpired deleted %d rows, want 0: consuming the expired code should delete it", n)
	}
}
