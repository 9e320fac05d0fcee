package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/store"
)

var tokenTests = []test{
	{"CreateFind", testTokenCreateFind},
	{"Supplied", testTokenSupplied},
	{"CreateErrors", testTokenCreateErrors},
	{"SharedPrefix", testTokenSharedPrefix},
	{"ServiceOwner", testTokenServiceOwner},
	{"Expiry", testTokenExpiry},
	{"PurgeExpired", testTokenPurgeExpired},
	{"Touch", testTokenTouch},
	{"List", testTokenList},
	{"Delete", testTokenDelete},
	{"DeleteByFilter", testTokenDeleteByFilter},
}

func testTokenCreateFind(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	nt := store.NewToken{
		Owner:     store.Owner{User: "alice"},
		Scopes:    []string{"read:users!user=alice", "access:servers!user=alice"},
		Note:      "server at /user/alice/",
		ExpiresAt: time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond),
		SessionID: "session-1",
	}
	tok, clear, err := s.CreateToken(ctx, nt)
	wantErr(t, "CreateToken", err, nil)
	if len(clear) != 32 || strings.Trim(clear, "0123456789abcdef") != "" {
		t.Errorf("generated token %q, want 32 hexadecimal characters", clear)
	}
	if tok.Prefix == "" || !strings.HasPrefix(clear, tok.Prefix) || len(tok.Prefix) >= len(clear)/2 {
		t.Errorf("prefix %q of token %q, want a short prefix of it", tok.Prefix, clear)
	}
	want := store.Token{Owner: nt.Owner, Scopes: nt.Scopes, Note: nt.Note,
		ExpiresAt: nt.ExpiresAt, SessionID: "session-1"}
	diff(t, "created token", tok, want)
	checkStamped(t, "Created", tok.Created)

	found, err := s.FindToken(ctx, clear)
	wantErr(t, "FindToken", err, nil)
	diff(t, "found token", found, want)
	if found.ID != tok.ID || found.Prefix != tok.Prefix {
		t.Errorf("found token %d %q, created %d %q", found.ID, found.Prefix, tok.ID, tok.Prefix)
	}
	got, err := s.GetToken(ctx, tok.ID)
	wantErr(t, "GetToken", err, nil)
	diff(t, "token by ID", got, want)

	for _, wrong := range []string{"", clear[:31], clear + "0", flipLast(clear), clear[:4]} {
		_, err := s.FindToken(ctx, wrong)
		wantErr(t, "FindToken("+wrong+")", err, store.ErrNotFound)
	}
	_, err = s.GetToken(ctx, tok.ID+100)
	wantErr(t, "GetToken(missing)", err, store.ErrNotFound)

	_, other, err := s.CreateToken(ctx, store.NewToken{Owner: nt.Owner})
	wantErr(t, "CreateToken(second)", err, nil)
	if other == clear {
		t.Errorf("two generated tokens are both %q", clear)
	}
}

func testTokenSupplied(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	supplied := store.NewToken{Token: "configured-secret", Owner: store.Owner{User: "alice"}}
	tok, clear, err := s.CreateToken(ctx, supplied)
	wantErr(t, "CreateToken", err, nil)
	if clear != "configured-secret" {
		t.Errorf("CreateToken returned %q, want the supplied token", clear)
	}
	found, err := s.FindToken(ctx, "configured-secret")
	wantErr(t, "FindToken", err, nil)
	if found.ID != tok.ID {
		t.Errorf("FindToken returned token %d, want %d", found.ID, tok.ID)
	}
	_, _, err = s.CreateToken(ctx, supplied)
	wantErr(t, "CreateToken(duplicate)", err, store.ErrExists)
}

func testTokenCreateErrors(t *testing.T, s store.Store) {
	mustUser(t, s, "alice")
	mustService(t, s, "cull")
	tests := []struct {
		name string
		nt   store.NewToken
		want error
	}{
		{"no owner", store.NewToken{}, store.ErrInvalid},
		{"two owners", store.NewToken{Owner: store.Owner{User: "alice", Service: "cull"}}, store.ErrInvalid},
		{"short token", store.NewToken{Token: "1234567", Owner: store.Owner{User: "alice"}}, store.ErrInvalid},
		{"missing user", store.NewToken{Owner: store.Owner{User: "bob"}}, store.ErrNotFound},
		{"missing service", store.NewToken{Owner: store.Owner{Service: "x"}}, store.ErrNotFound},
		{"missing client", store.NewToken{Owner: store.Owner{User: "alice"}, OAuthClientID: "x"},
			store.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.CreateToken(t.Context(), tc.nt)
			wantErr(t, "CreateToken", err, tc.want)
		})
	}
	tokens, err := s.ListTokens(t.Context(), store.Owner{User: "alice"})
	wantErr(t, "ListTokens", err, nil)
	diff(t, "tokens after failures", tokens, []store.Token{})
}

func testTokenSharedPrefix(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	a, _ := mustToken(t, s, store.NewToken{Token: "samepfx-alice", Owner: store.Owner{User: "alice"}})
	b, _ := mustToken(t, s, store.NewToken{Token: "samepfx-bob", Owner: store.Owner{User: "bob"}})
	for _, tc := range []struct {
		token string
		want  int64
	}{{"samepfx-alice", a.ID}, {"samepfx-bob", b.ID}} {
		got, err := s.FindToken(ctx, tc.token)
		wantErr(t, "FindToken("+tc.token+")", err, nil)
		if got.ID != tc.want {
			t.Errorf("FindToken(%q) = token %d, want %d", tc.token, got.ID, tc.want)
		}
	}
	_, err := s.FindToken(ctx, "samepfx-carol")
	wantErr(t, "FindToken(other)", err, store.ErrNotFound)
}

func testTokenServiceOwner(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustService(t, s, "cull")
	cull := store.Owner{Service: "cull"}
	_, clear := mustToken(t, s, store.NewToken{Owner: cull, Scopes: []string{"admin:users"}})
	tok, err := s.FindToken(ctx, clear)
	wantErr(t, "FindToken", err, nil)
	diff(t, "service token", tok, store.Token{Owner: cull, Scopes: []string{"admin:users"}})

	wantErr(t, "DeleteService", s.DeleteService(ctx, "cull"), nil)
	_, err = s.FindToken(ctx, clear)
	wantErr(t, "FindToken after deleting service", err, store.ErrNotFound)
}

func testTokenExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	alice := store.Owner{User: "alice"}
	live, liveClear := mustToken(t, s, store.NewToken{Owner: alice, ExpiresAt: time.Now().Add(time.Hour)})
	dead, deadClear := mustToken(t, s, store.NewToken{Owner: alice, ExpiresAt: time.Now().Add(-time.Hour)})
	forever, _ := mustToken(t, s, store.NewToken{Owner: alice})
	if !forever.ExpiresAt.IsZero() {
		t.Errorf("token without expiry has ExpiresAt %v", forever.ExpiresAt)
	}
	far := time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC)
	distant, distantClear := mustToken(t, s, store.NewToken{Owner: alice, ExpiresAt: far})
	if distant.ExpiresAt.Year() != 9999 {
		t.Errorf("token expiring in year 20000 has ExpiresAt %v, want the year 9999", distant.ExpiresAt)
	}
	_, err := s.FindToken(ctx, distantClear)
	wantErr(t, "FindToken(year 20000)", err, nil)

	_, err = s.FindToken(ctx, liveClear)
	wantErr(t, "FindToken(live)", err, nil)
	_, err = s.GetToken(ctx, dead.ID)
	wantErr(t, "GetToken(expired)", err, store.ErrNotFound)
	tokens, err := s.ListTokens(ctx, alice)
	wantErr(t, "ListTokens", err, nil)
	diff(t, "listed token IDs", tokenIDs(tokens), []int64{live.ID, forever.ID, distant.ID})

	_, err = s.FindToken(ctx, deadClear)
	wantErr(t, "FindToken(expired)", err, store.ErrNotFound)
	// FindToken deleted the expired token, so there is nothing left to purge.
	n, err := s.PurgeExpired(ctx)
	wantErr(t, "PurgeExpired", err, nil)
	if n != 0 {
		t.Errorf("PurgeExpired deleted %d rows after FindToken, want 0", n)
	}
	wantErr(t, "DeleteToken(expired)", s.DeleteToken(ctx, dead.ID), store.ErrNotFound)
}

func testTokenPurgeExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustClient(t, s, "client", "")
	alice := store.Owner{User: "alice"}
	past := time.Now().Add(-time.Hour)
	live, _ := mustToken(t, s, store.NewToken{Owner: alice, ExpiresAt: time.Now().Add(time.Hour)})
	mustToken(t, s, store.NewToken{Owner: alice, ExpiresAt: past})
	mustToken(t, s, store.NewToken{Owner: alice, ExpiresAt: past})
	_, err := s.CreateOAuthCode(ctx, store.OAuthCode{ClientID: "client", User: "alice", ExpiresAt: past})
	wantErr(t, "CreateOAuthCode", err, nil)
	liveCode, err := s.CreateOAuthCode(ctx, store.OAuthCode{ClientID: "client", User: "alice",
		ExpiresAt: time.Now().Add(time.Hour)})
	wantErr(t, "CreateOAuthCode", err, nil)

	n, err := s.PurgeExpired(ctx)
	wantErr(t, "PurgeExpired", err, nil)
	if n != 3 {
		t.Errorf("PurgeExpired deleted %d rows, want 3", n)
	}
	_, err = s.GetToken(ctx, live.ID)
	wantErr(t, "GetToken(live)", err, nil)
	_, err = s.ConsumeOAuthCode(ctx, liveCode)
	wantErr(t, "ConsumeOAuthCode(live)", err, nil)
}

func testTokenTouch(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	tok, _ := mustToken(t, s, store.NewToken{Owner: store.Owner{User: "alice"}})
	if !tok.LastActivity.IsZero() {
		t.Errorf("new token has LastActivity %v, want zero", tok.LastActivity)
	}
	for _, step := range []struct{ set, want time.Time }{{t2, t2}, {t1, t2}, {t3, t3}} {
		wantErr(t, "TouchToken", s.TouchToken(ctx, tok.ID, step.set), nil)
		got, err := s.GetToken(ctx, tok.ID)
		wantErr(t, "GetToken", err, nil)
		if !got.LastActivity.Equal(step.want) {
			t.Errorf("after touching at %v, LastActivity = %v, want %v", step.set, got.LastActivity, step.want)
		}
	}
	wantErr(t, "TouchToken(missing)", s.TouchToken(ctx, tok.ID+100, t1), store.ErrNotFound)
}

func testTokenList(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	mustService(t, s, "alice") // a service may share a user's name
	a1, _ := mustToken(t, s, store.NewToken{Owner: store.Owner{User: "alice"}, Note: "one"})
	mustToken(t, s, store.NewToken{Owner: store.Owner{User: "bob"}})
	sv, _ := mustToken(t, s, store.NewToken{Owner: store.Owner{Service: "alice"}})
	a2, _ := mustToken(t, s, store.NewToken{Owner: store.Owner{User: "alice"}, Note: "two"})

	tokens, err := s.ListTokens(ctx, store.Owner{User: "alice"})
	wantErr(t, "ListTokens(user)", err, nil)
	diff(t, "tokens of user alice", tokenIDs(tokens), []int64{a1.ID, a2.ID})
	tokens, err = s.ListTokens(ctx, store.Owner{Service: "alice"})
	wantErr(t, "ListTokens(service)", err, nil)
	diff(t, "tokens of service alice", tokenIDs(tokens), []int64{sv.ID})

	_, err = s.ListTokens(ctx, store.Owner{User: "carol"})
	wantErr(t, "ListTokens(missing)", err, store.ErrNotFound)
	_, err = s.ListTokens(ctx, store.Owner{})
	wantErr(t, "ListTokens(no owner)", err, store.ErrInvalid)
}

func testTokenDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	tok, clear := mustToken(t, s, store.NewToken{Owner: store.Owner{User: "alice"}})
	keep, keepClear := mustToken(t, s, store.NewToken{Owner: store.Owner{User: "alice"}})
	wantErr(t, "DeleteToken", s.DeleteToken(ctx, tok.ID), nil)
	wantErr(t, "DeleteToken(again)", s.DeleteToken(ctx, tok.ID), store.ErrNotFound)
	_, err := s.FindToken(ctx, clear)
	wantErr(t, "FindToken(deleted)", err, store.ErrNotFound)
	got, err := s.FindToken(ctx, keepClear)
	wantErr(t, "FindToken(kept)", err, nil)
	if got.ID != keep.ID {
		t.Errorf("FindToken = %d, want %d", got.ID, keep.ID)
	}

	// IDs of deleted tokens are not reused, so a stale ID never names a
	// newer token.
	next, _ := mustToken(t, s, store.NewToken{Owner: store.Owner{User: "alice"}})
	if next.ID <= keep.ID {
		t.Errorf("new token ID %d, want more than %d", next.ID, keep.ID)
	}
}

func testTokenDeleteByFilter(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	mustService(t, s, "cull")
	mustClient(t, s, "jupyterhub-user-alice", "")
	alice, bob := store.Owner{User: "alice"}, store.Owner{User: "bob"}
	mustToken(t, s, store.NewToken{Owner: alice, SessionID: "s1"})
	mustToken(t, s, store.NewToken{Owner: alice, SessionID: "s1", OAuthClientID: "jupyterhub-user-alice"})
	s2, _ := mustToken(t, s, store.NewToken{Owner: alice, SessionID: "s2"})
	b1, _ := mustToken(t, s, store.NewToken{Owner: bob, SessionID: "s1"})
	c1, _ := mustToken(t, s, store.NewToken{Owner: store.Owner{Service: "cull"}})

	steps := []struct {
		filter store.TokenFilter
		want   int64
		err    error
	}{
		{store.TokenFilter{}, 0, store.ErrInvalid},
		{store.TokenFilter{OAuthClientID: "jupyterhub-user-alice"}, 1, nil},
		{store.TokenFilter{Owner: alice, SessionID: "s1"}, 1, nil},
		{store.TokenFilter{SessionID: "s9"}, 0, nil},
		{store.TokenFilter{Owner: store.Owner{User: "nobody"}}, 0, nil},
	}
	for _, step := range steps {
		n, err := s.DeleteTokens(ctx, step.filter)
		wantErr(t, "DeleteTokens", err, step.err)
		if n != step.want {
			t.Errorf("DeleteTokens(%+v) deleted %d, want %d", step.filter, n, step.want)
		}
	}
	for _, tc := range []struct {
		owner store.Owner
		want  []int64
	}{
		{alice, []int64{s2.ID}},
		{bob, []int64{b1.ID}},
		{store.Owner{Service: "cull"}, []int64{c1.ID}},
	} {
		tokens, err := s.ListTokens(ctx, tc.owner)
		wantErr(t, "ListTokens", err, nil)
		diff(t, "tokens of "+tc.owner.String(), tokenIDs(tokens), tc.want)
	}

	n, err := s.DeleteTokens(ctx, store.TokenFilter{Owner: store.Owner{Service: "cull"}})
	wantErr(t, "DeleteTokens(service)", err, nil)
	if n != 1 {
		t.Errorf("DeleteTokens(service) deleted %d, want 1", n)
	}
}

func tokenIDs(tokens []store.Token) []int64 {
	ids := []int64{}
	for _, t := range tokens {
		ids = append(ids, t.ID)
	}
	return ids
}

// flipLast returns token with its last character changed.
func flipLast(token string) string {
	last := byte('0')
	if token[len(token)-1] == '0' {
		last = '1'
	}
	return token[:len(token)-1] + string(last)
}
