package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/store"
)

var shareTests = []test{
	{"GrantGet", testShareGrantGet},
	{"GrantErrors", testShareGrantErrors},
	{"List", testShareList},
	{"Revoke", testShareRevoke},
	{"DeleteShares", testShareDeleteAll},
	{"Cascade", testShareCascade},
	{"RenameKeeps", testShareRename},
	{"CodeCreateFind", testShareCodeCreateFind},
	{"CodeExchange", testShareCodeExchange},
	{"CodeExpiry", testShareCodeExpiry},
	{"CodeList", testShareCodeList},
	{"CodeDelete", testShareCodeDelete},
}

// shareFixture creates alice with a default and a named server, bob, carol
// and the group staff with carol in it.
func shareFixture(t *testing.T, s store.Store) {
	t.Helper()
	for _, name := range []string{"alice", "bob", "carol"} {
		mustUser(t, s, name)
	}
	mustServer(t, s, "alice", "")
	mustServer(t, s, "alice", "lab")
	mustGroup(t, s, "staff", "carol")
}

func mustShare(t *testing.T, s store.Store, k store.ShareKey, scopes ...string) store.Share {
	t.Helper()
	sh, err := s.GrantShare(t.Context(), k, scopes)
	if err != nil {
		t.Fatalf("GrantShare(%v): %v", k, err)
	}
	return sh
}

// shareNames returns "owner/server>user" or "owner/server>@group" for each
// share, to compare lists.
func shareNames(shares []store.Share) []string {
	out := []string{}
	for _, sh := range shares {
		with := sh.User
		if sh.Group != "" {
			with = "@" + sh.Group
		}
		out = append(out, sh.Server.User+"/"+sh.Server.Name+">"+with)
	}
	return out
}

func testShareGrantGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	shareFixture(t, s)
	k := store.ShareKey{Owner: "alice", Server: "lab", User: "bob"}
	sh, err := s.GrantShare(ctx, k, []string{"access:servers"})
	wantErr(t, "GrantShare", err, nil)
	checkStamped(t, "Created", sh.Created)
	if sh.ID == 0 || sh.User != "bob" || sh.Group != "" || sh.Server.User != "alice" ||
		sh.Server.Name != "lab" {
		t.Errorf("granted share = %+v", sh)
	}
	diff(t, "scopes", sh.Scopes, []string{"access:servers"})

	// A second grant adds scopes to the same share.
	again, err := s.GrantShare(ctx, k, []string{"servers", "access:servers", "servers"})
	wantErr(t, "GrantShare(again)", err, nil)
	if again.ID != sh.ID || !again.Created.Equal(sh.Created) {
		t.Errorf("second grant made share %d created %v, want %d created %v",
			again.ID, again.Created, sh.ID, sh.Created)
	}
	diff(t, "merged scopes", again.Scopes, []string{"access:servers", "servers"})

	got, err := s.GetShare(ctx, k)
	wantErr(t, "GetShare", err, nil)
	diff(t, "share", got, again)

	group := store.ShareKey{Owner: "alice", Server: "", Group: "staff"}
	g := mustShare(t, s, group, "access:servers")
	if g.Group != "staff" || g.User != "" || g.Server.Name != "" {
		t.Errorf("group share = %+v", g)
	}
	_, err = s.GetShare(ctx, store.ShareKey{Owner: "alice", Server: "", User: "bob"})
	wantErr(t, "GetShare(no share)", err, store.ErrNotFound)
}

func testShareGrantErrors(t *testing.T, s store.Store) {
	shareFixture(t, s)
	tests := []struct {
		name   string
		k      store.ShareKey
		scopes []string
		want   error
	}{
		{"no scopes", store.ShareKey{Owner: "alice", User: "bob"}, nil, store.ErrInvalid},
		{"user and group", store.ShareKey{Owner: "alice", User: "bob", Group: "staff"},
			[]string{"access:servers"}, store.ErrInvalid},
		{"neither", store.ShareKey{Owner: "alice"}, []string{"access:servers"}, store.ErrInvalid},
		{"missing server", store.ShareKey{Owner: "alice", Server: "gpu", User: "bob"},
			[]string{"access:servers"}, store.ErrNotFound},
		{"missing owner", store.ShareKey{Owner: "zed", User: "bob"},
			[]string{"access:servers"}, store.ErrNotFound},
		{"missing user", store.ShareKey{Owner: "alice", User: "zed"},
			[]string{"access:servers"}, store.ErrNotFound},
		{"missing group", store.ShareKey{Owner: "alice", Group: "zed"},
			[]string{"access:servers"}, store.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.GrantShare(t.Context(), tc.k, tc.scopes)
			wantErr(t, "GrantShare", err, tc.want)
		})
	}
	shares, total, err := s.ListShares(t.Context(), store.ShareQuery{})
	wantErr(t, "ListShares", err, nil)
	if len(shares) != 0 || total != 0 {
		t.Errorf("failed grants left %d shares, total %d", len(shares), total)
	}
}

func testShareList(t *testing.T, s store.Store) {
	ctx := t.Context()
	shareFixture(t, s)
	mustUser(t, s, "dave")
	mustServer(t, s, "dave", "")
	mustShare(t, s, store.ShareKey{Owner: "alice", Server: "lab", User: "bob"}, "access:servers")
	mustShare(t, s, store.ShareKey{Owner: "alice", Group: "staff"}, "access:servers")
	mustShare(t, s, store.ShareKey{Owner: "dave", User: "carol"}, "access:servers")
	mustShare(t, s, store.ShareKey{Owner: "alice", User: "carol"}, "access:servers")
	lab, def := "lab", ""

	tests := []struct {
		name  string
		q     store.ShareQuery
		want  []string
		total int
	}{
		{"all", store.ShareQuery{},
			[]string{"alice/lab>bob", "alice/>@staff", "dave/>carol", "alice/>carol"}, 4},
		{"owner", store.ShareQuery{Owner: "alice"},
			[]string{"alice/lab>bob", "alice/>@staff", "alice/>carol"}, 3},
		{"server", store.ShareQuery{Owner: "alice", Server: &lab}, []string{"alice/lab>bob"}, 1},
		{"default server", store.ShareQuery{Owner: "alice", Server: &def},
			[]string{"alice/>@staff", "alice/>carol"}, 2},
		{"user with groups", store.ShareQuery{User: "carol"},
			[]string{"alice/>@staff", "dave/>carol", "alice/>carol"}, 3},
		{"group", store.ShareQuery{Group: "staff"}, []string{"alice/>@staff"}, 1},
		{"user and owner", store.ShareQuery{User: "carol", Owner: "dave"}, []string{"dave/>carol"}, 1},
		{"page", store.ShareQuery{Page: store.Page{Offset: 1, Limit: 2}},
			[]string{"alice/>@staff", "dave/>carol"}, 4},
		{"offset past end", store.ShareQuery{Page: store.Page{Offset: 9}}, []string{}, 4},
		{"nothing for dave", store.ShareQuery{User: "dave"}, []string{}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			shares, total, err := s.ListShares(ctx, tc.q)
			wantErr(t, "ListShares", err, nil)
			diff(t, "shares", shareNames(shares), tc.want)
			if total != tc.total {
				t.Errorf("total = %d, want %d", total, tc.total)
			}
		})
	}
	gpu := "gpu"
	for name, q := range map[string]store.ShareQuery{
		"missing owner":  {Owner: "zed"},
		"missing server": {Owner: "alice", Server: &gpu},
		"missing user":   {User: "zed"},
		"missing group":  {Group: "zed"},
	} {
		_, _, err := s.ListShares(ctx, q)
		wantErr(t, "ListShares("+name+")", err, store.ErrNotFound)
	}
}

func testShareRevoke(t *testing.T, s store.Store) {
	ctx := t.Context()
	shareFixture(t, s)
	k := store.ShareKey{Owner: "alice", User: "bob"}
	mustShare(t, s, k, "access:servers", "servers", "read:servers")

	sh, remains, err := s.RevokeShare(ctx, k, []string{"servers", "admin:users"})
	wantErr(t, "RevokeShare(some)", err, nil)
	if !remains {
		t.Fatal("RevokeShare(some) deleted the share")
	}
	diff(t, "scopes left", sh.Scopes, []string{"access:servers", "read:servers"})

	_, remains, err = s.RevokeShare(ctx, k, []string{"access:servers", "read:servers"})
	wantErr(t, "RevokeShare(rest)", err, nil)
	if remains {
		t.Error("RevokeShare of every scope left the share")
	}
	_, err = s.GetShare(ctx, k)
	wantErr(t, "GetShare after revoking every scope", err, store.ErrNotFound)

	mustShare(t, s, k, "access:servers")
	_, remains, err = s.RevokeShare(ctx, k, nil)
	wantErr(t, "RevokeShare(nil)", err, nil)
	if remains {
		t.Error("RevokeShare(nil) left the share")
	}
	_, remains, err = s.RevokeShare(ctx, k, nil)
	wantErr(t, "RevokeShare(no share)", err, nil)
	if remains {
		t.Error("RevokeShare of a missing share reports one")
	}
	_, _, err = s.RevokeShare(ctx, store.ShareKey{Owner: "alice", Server: "gpu", User: "bob"}, nil)
	wantErr(t, "RevokeShare(missing server)", err, store.ErrNotFound)
}

func testShareDeleteAll(t *testing.T, s store.Store) {
	ctx := t.Context()
	shareFixture(t, s)
	mustShare(t, s, store.ShareKey{Owner: "alice", User: "bob"}, "access:servers")
	mustShare(t, s, store.ShareKey{Owner: "alice", Group: "staff"}, "access:servers")
	mustShare(t, s, store.ShareKey{Owner: "alice", Server: "lab", User: "bob"}, "access:servers")
	n, err := s.DeleteShares(ctx, "alice", "")
	wantErr(t, "DeleteShares", err, nil)
	if n != 2 {
		t.Errorf("DeleteShares deleted %d, want 2", n)
	}
	shares, _, err := s.ListShares(ctx, store.ShareQuery{})
	wantErr(t, "ListShares", err, nil)
	diff(t, "shares left", shareNames(shares), []string{"alice/lab>bob"})
	_, err = s.DeleteShares(ctx, "alice", "gpu")
	wantErr(t, "DeleteShares(missing server)", err, store.ErrNotFound)
}

// Deleting the server, the user or group shared with, or the owner deletes
// the shares and codes that depend on them.
func testShareCascade(t *testing.T, s store.Store) {
	ctx := t.Context()
	shareFixture(t, s)
	mustUser(t, s, "dave")
	mustServer(t, s, "dave", "")
	mustShare(t, s, store.ShareKey{Owner: "alice", User: "bob"}, "access:servers")
	mustShare(t, s, store.ShareKey{Owner: "alice", Server: "lab", User: "bob"}, "access:servers")
	mustShare(t, s, store.ShareKey{Owner: "alice", Group: "staff"}, "access:servers")
	mustShare(t, s, store.ShareKey{Owner: "dave", User: "bob"}, "access:servers")
	mustShare(t, s, store.ShareKey{Owner: "dave", User: "carol"}, "access:servers")
	expires := time.Now().Add(time.Hour)
	for _, sv := range []string{"", "lab"} {
		_, _, err := s.CreateShareCode(ctx, store.NewShareCode{Owner: "alice", Server: sv,
			Scopes: []string{"access:servers"}, ExpiresAt: expires})
		wantErr(t, "CreateShareCode", err, nil)
	}
	left := func(want ...string) {
		t.Helper()
		shares, _, err := s.ListShares(ctx, store.ShareQuery{})
		wantErr(t, "ListShares", err, nil)
		diff(t, "shares left", shareNames(shares), append([]string{}, want...))
	}

	wantErr(t, "DeleteServer", s.DeleteServer(ctx, "alice", "lab"), nil)
	left("alice/>bob", "alice/>@staff", "dave/>bob", "dave/>carol")
	wantErr(t, "DeleteGroup", s.DeleteGroup(ctx, "staff"), nil)
	left("alice/>bob", "dave/>bob", "dave/>carol")
	wantErr(t, "DeleteUser(bob)", s.DeleteUser(ctx, "bob"), nil)
	left("dave/>carol")

	codes, _, err := s.ListShareCodes(ctx, store.ShareCodeQuery{Owner: "alice"})
	wantErr(t, "ListShareCodes", err, nil)
	if len(codes) != 1 || codes[0].Server.Name != "" {
		t.Errorf("codes after deleting the server lab: %+v, want the default server's", codes)
	}
	mustShare(t, s, store.ShareKey{Owner: "alice", User: "carol"}, "access:servers")
	wantErr(t, "DeleteUser(alice)", s.DeleteUser(ctx, "alice"), nil)
	left("dave/>carol")
	_, total, err := s.ListShareCodes(ctx, store.ShareCodeQuery{Owner: "dave"})
	wantErr(t, "ListShareCodes(dave)", err, nil)
	if total != 0 {
		t.Errorf("dave has %d codes, want 0", total)
	}
	// Nothing is left to purge: the codes went with their servers.
	n, err := s.PurgeExpired(ctx)
	wantErr(t, "PurgeExpired", err, nil)
	if n != 0 {
		t.Errorf("PurgeExpired deleted %d rows, want 0", n)
	}
}

// Shares name their server and users by ID, so renames keep them.
func testShareRename(t *testing.T, s store.Store) {
	ctx := t.Context()
	shareFixture(t, s)
	mustShare(t, s, store.ShareKey{Owner: "alice", User: "bob"}, "access:servers")
	_, err := s.UpdateUser(ctx, "alice", store.UserUpdate{Name: ptr("ann")})
	wantErr(t, "rename alice", err, nil)
	_, err = s.UpdateUser(ctx, "bob", store.UserUpdate{Name: ptr("rob")})
	wantErr(t, "rename bob", err, nil)
	sh, err := s.GetShare(ctx, store.ShareKey{Owner: "ann", User: "rob"})
	wantErr(t, "GetShare after renames", err, nil)
	if sh.Server.User != "ann" || sh.User != "rob" {
		t.Errorf("share after renames = %+v", sh)
	}
}

func mustShareCode(t *testing.T, s store.Store, nc store.NewShareCode) (store.ShareCode, string) {
	t.Helper()
	c, code, err := s.CreateShareCode(t.Context(), nc)
	if err != nil {
		t.Fatalf("CreateShareCode(%+v): %v", nc, err)
	}
	return c, code
}

func testShareCodeCreateFind(t *testing.T, s store.Store) {
	ctx := t.Context()
	shareFixture(t, s)
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	c, code := mustShareCode(t, s, store.NewShareCode{Owner: "alice", Server: "lab",
		Scopes: []string{"servers", "access:servers", "servers"}, ExpiresAt: expires})
	if len(code) != 43 || strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		t.Errorf("code %q, want 43 URL-safe base64 characters", code)
	}
	checkStamped(t, "Created", c.Created)
	if c.ID == 0 || c.Server.User != "alice" || c.Server.Name != "lab" || !c.ExpiresAt.Equal(expires) ||
		c.ExchangeCount != 0 || !c.LastExchanged.IsZero() {
		t.Errorf("created code = %+v", c)
	}
	diff(t, "scopes", c.Scopes, []string{"access:servers", "servers"})

	found, err := s.FindShareCode(ctx, code)
	wantErr(t, "FindShareCode", err, nil)
	diff(t, "found code", found, c)
	for _, wrong := range []string{"", code[:42], code + "A", code[:4]} {
		_, err := s.FindShareCode(ctx, wrong)
		wantErr(t, "FindShareCode("+wrong+")", err, store.ErrNotFound)
	}

	for name, nc := range map[string]store.NewShareCode{
		"no scopes": {Owner: "alice", ExpiresAt: expires},
		"no expiry": {Owner: "alice", Scopes: []string{"access:servers"}},
	} {
		_, _, err := s.CreateShareCode(ctx, nc)
		wantErr(t, "CreateShareCode("+name+")", err, store.ErrInvalid)
	}
	_, _, err = s.CreateShareCode(ctx, store.NewShareCode{Owner: "alice", Server: "gpu",
		Scopes: []string{"access:servers"}, ExpiresAt: expires})
	wantErr(t, "CreateShareCode(missing server)", err, store.ErrNotFound)
}

// A code is exchanged any number of times until it expires, and each
// exchange is counted.
func testShareCodeExchange(t *testing.T, s store.Store) {
	ctx := t.Context()
	shareFixture(t, s)
	_, code := mustShareCode(t, s, store.NewShareCode{Owner: "alice", Server: "lab",
		Scopes: []string{"access:servers"}, ExpiresAt: time.Now().Add(time.Hour)})
	mustShare(t, s, store.ShareKey{Owner: "alice", Server: "lab", User: "carol"}, "servers")

	sh, err := s.ExchangeShareCode(ctx, code, "bob")
	wantErr(t, "ExchangeShareCode(bob)", err, nil)
	if sh.User != "bob" || sh.Server.Name != "lab" {
		t.Errorf("share from the code = %+v", sh)
	}
	diff(t, "bob's scopes", sh.Scopes, []string{"access:servers"})
	_, err = s.ExchangeShareCode(ctx, code, "bob")
	wantErr(t, "ExchangeShareCode(bob again)", err, nil)
	sh, err = s.ExchangeShareCode(ctx, code, "carol")
	wantErr(t, "ExchangeShareCode(carol)", err, nil)
	diff(t, "carol's merged scopes", sh.Scopes, []string{"access:servers", "servers"})

	c, err := s.FindShareCode(ctx, code)
	wantErr(t, "FindShareCode", err, nil)
	if c.ExchangeCount != 3 {
		t.Errorf("ExchangeCount = %d, want 3", c.ExchangeCount)
	}
	checkStamped(t, "LastExchanged", c.LastExchanged)

	_, err = s.ExchangeShareCode(ctx, code, "alice")
	wantErr(t, "ExchangeShareCode(owner)", err, store.ErrInvalid)
	_, err = s.ExchangeShareCode(ctx, code, "zed")
	wantErr(t, "ExchangeShareCode(missing user)", err, store.ErrNotFound)
	_, err = s.ExchangeShareCode(ctx, "not-a-code", "bob")
	wantErr(t, "ExchangeShareCode(wrong code)", err, store.ErrNotFound)
	c, err = s.FindShareCode(ctx, code)
	wantErr(t, "FindShareCode", err, nil)
	if c.ExchangeCount != 3 {
		t.Errorf("ExchangeCount after failed exchanges = %d, want 3", c.ExchangeCount)
	}
}

// An expired code is deleted when it is used, and otherwise purged.
func testShareCodeExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	shareFixture(t, s)
	past := time.Now().Add(-time.Hour)
	_, first := mustShareCode(t, s, store.NewShareCode{Owner: "alice",
		Scopes: []string{"access:servers"}, ExpiresAt: past})
	_, second := mustShareCode(t, s, store.NewShareCode{Owner: "alice",
		Scopes: []string{"access:servers"}, ExpiresAt: past})
	mustShareCode(t, s, store.NewShareCode{Owner: "alice",
		Scopes: []string{"access:servers"}, ExpiresAt: past})

	_, err := s.ExchangeShareCode(ctx, first, "bob")
	wantErr(t, "ExchangeShareCode(expired)", err, store.ErrNotFound)
	_, err = s.GetShare(ctx, store.ShareKey{Owner: "alice", User: "bob"})
	wantErr(t, "GetShare after an expired exchange", err, store.ErrNotFound)
	_, err = s.FindShareCode(ctx, second)
	wantErr(t, "FindShareCode(expired)", err, store.ErrNotFound)

	codes, total, err := s.ListShareCodes(ctx, store.ShareCodeQuery{Owner: "alice"})
	wantErr(t, "ListShareCodes", err, nil)
	if len(codes) != 0 || total != 0 {
		t.Errorf("ListShareCodes listed %d expired codes, total %d", len(codes), total)
	}
	// Using the first two codes deleted them, so one is left to purge.
	n, err := s.PurgeExpired(ctx)
	wantErr(t, "PurgeExpired", err, nil)
	if n != 1 {
		t.Errorf("PurgeExpired deleted %d rows, want the one unused expired code", n)
	}
}

func testShareCodeList(t *testing.T, s store.Store) {
	ctx := t.Context()
	shareFixture(t, s)
	expires := time.Now().Add(time.Hour)
	var ids []int64
	for _, sv := range []string{"", "lab", "", "lab"} {
		c, _ := mustShareCode(t, s, store.NewShareCode{Owner: "alice", Server: sv,
			Scopes: []string{"access:servers"}, ExpiresAt: expires})
		ids = append(ids, c.ID)
	}
	idsOf := func(codes []store.ShareCode) []int64 {
		out := []int64{}
		for _, c := range codes {
			out = append(out, c.ID)
		}
		return out
	}
	lab := "lab"
	tests := []struct {
		name  string
		q     store.ShareCodeQuery
		want  []int64
		total int
	}{
		{"owner", store.ShareCodeQuery{Owner: "alice"}, ids, 4},
		{"server", store.ShareCodeQuery{Owner: "alice", Server: &lab}, []int64{ids[1], ids[3]}, 2},
		{"page", store.ShareCodeQuery{Owner: "alice", Page: store.Page{Offset: 1, Limit: 2}},
			ids[1:3], 4},
		{"none", store.ShareCodeQuery{Owner: "bob"}, []int64{}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			codes, total, err := s.ListShareCodes(ctx, tc.q)
			wantErr(t, "ListShareCodes", err, nil)
			diff(t, "code IDs", idsOf(codes), tc.want)
			if total != tc.total {
				t.Errorf("total = %d, want %d", total, tc.total)
			}
		})
	}
	_, _, err := s.ListShareCodes(ctx, store.ShareCodeQuery{Owner: "zed"})
	wantErr(t, "ListShareCodes(missing owner)", err, store.ErrNotFound)
}

func testShareCodeDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	shareFixture(t, s)
	expires := time.Now().Add(time.Hour)
	nc := store.NewShareCode{Owner: "alice", Scopes: []string{"access:servers"}, ExpiresAt: expires}
	byID, _ := mustShareCode(t, s, nc)
	_, byCode := mustShareCode(t, s, nc)
	mustShareCode(t, s, nc)
	mustShareCode(t, s, nc)
	lab, labCode := mustShareCode(t, s, store.NewShareCode{Owner: "alice", Server: "lab",
		Scopes: []string{"access:servers"}, ExpiresAt: expires})

	tests := []struct {
		name string
		f    store.ShareCodeFilter
		want int64
	}{
		{"ID of another server", store.ShareCodeFilter{Owner: "alice", ID: lab.ID}, 0},
		{"code of another server", store.ShareCodeFilter{Owner: "alice", Code: labCode}, 0},
		{"ID", store.ShareCodeFilter{Owner: "alice", ID: byID.ID}, 1},
		{"code", store.ShareCodeFilter{Owner: "alice", Code: byCode}, 1},
		{"unknown code", store.ShareCodeFilter{Owner: "alice", Code: "nope"}, 0},
		{"rest", store.ShareCodeFilter{Owner: "alice"}, 2},
	}
	for _, tc := range tests {
		n, err := s.DeleteShareCodes(ctx, tc.f)
		wantErr(t, "DeleteShareCodes("+tc.name+")", err, nil)
		if n != tc.want {
			t.Errorf("DeleteShareCodes(%s) deleted %d, want %d", tc.name, n, tc.want)
		}
	}
	_, err := s.FindShareCode(ctx, labCode)
	wantErr(t, "FindShareCode(lab)", err, nil)
	_, err = s.DeleteShareCodes(ctx, store.ShareCodeFilter{Owner: "alice", Server: "gpu"})
	wantErr(t, "DeleteShareCodes(missing server)", err, store.ErrNotFound)
}
