package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jupygo/jupygo/internal/store"
)

var userTests = []test{
	{"CreateGet", testUserCreateGet},
	{"CreateErrors", testUserCreateErrors},
	{"CookieID", testUserCookieID},
	{"Update", testUserUpdate},
	{"UpdateErrors", testUserUpdateErrors},
	{"LastActivityForward", testUserLastActivity},
	{"ListPages", testUserListPages},
	{"ListNamePrefix", testUserListNamePrefix},
	{"ListState", testUserListState},
	{"DeleteCascades", testUserDeleteCascades},
	{"CreateMany", testUserCreateMany},
	{"CreateManyAllOrNone", testUserCreateManyAllOrNone},
}

func testUserCreateGet(t *testing.T, s store.Store) {
	created, err := s.CreateUser(t.Context(), "alice", true)
	wantErr(t, "CreateUser", err, nil)
	want := store.User{Name: "alice", Admin: true}
	diff(t, "created user", created, want)
	checkStamped(t, "Created", created.Created)
	if created.ID == 0 || created.CookieID == "" {
		t.Errorf("created user has ID %d and cookie ID %q, want both set", created.ID, created.CookieID)
	}

	got, err := s.GetUser(t.Context(), "alice")
	wantErr(t, "GetUser", err, nil)
	if d := cmp.Diff(created, got); d != "" {
		t.Errorf("GetUser differs from CreateUser (-create +get):\n%s", d)
	}
	if got.Groups == nil || got.Roles == nil {
		t.Errorf("Groups = %#v, Roles = %#v, want empty lists", got.Groups, got.Roles)
	}

	other := mustUser(t, s, "bob")
	if other.CookieID == created.CookieID || other.ID == created.ID {
		t.Errorf("two users share ID %d or cookie ID %q", other.ID, other.CookieID)
	}
}

func testUserCreateErrors(t *testing.T, s store.Store) {
	mustUser(t, s, "alice")
	tests := []struct {
		name string
		user string
		want error
	}{
		{"duplicate", "alice", store.ErrExists},
		{"empty", "", store.ErrInvalid},
		{"other case", "Alice", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateUser(t.Context(), tc.user, false)
			wantErr(t, "CreateUser", err, tc.want)
		})
	}
	_, err := s.GetUser(t.Context(), "carol")
	wantErr(t, "GetUser(missing)", err, store.ErrNotFound)
}

func testUserCookieID(t *testing.T, s store.Store) {
	u := mustUser(t, s, "alice")
	got, err := s.GetUserByCookieID(t.Context(), u.CookieID)
	wantErr(t, "GetUserByCookieID", err, nil)
	if got.Name != "alice" {
		t.Errorf("GetUserByCookieID returned %q, want alice", got.Name)
	}

	rotated, err := s.RotateCookieID(t.Context(), "alice")
	wantErr(t, "RotateCookieID", err, nil)
	if rotated.CookieID == u.CookieID || rotated.CookieID == "" {
		t.Errorf("cookie ID after rotation = %q, before %q", rotated.CookieID, u.CookieID)
	}
	_, err = s.GetUserByCookieID(t.Context(), u.CookieID)
	wantErr(t, "GetUserByCookieID(old)", err, store.ErrNotFound)
	_, err = s.GetUserByCookieID(t.Context(), rotated.CookieID)
	wantErr(t, "GetUserByCookieID(new)", err, nil)
	_, err = s.GetUserByCookieID(t.Context(), "")
	wantErr(t, "GetUserByCookieID(empty)", err, store.ErrNotFound)
	_, err = s.RotateCookieID(t.Context(), "nobody")
	wantErr(t, "RotateCookieID(missing)", err, store.ErrNotFound)
}

func testUserUpdate(t *testing.T, s store.Store) {
	u := mustUser(t, s, "alice")
	state := []byte{0, 1, 2, 0xff}
	got, err := s.UpdateUser(t.Context(), "alice", store.UserUpdate{
		Name:         ptr("alicia"),
		Admin:        ptr(true),
		PasswordHash: ptr("$2a$10$abcdefghijklmnopqrstuv"),
		AuthState:    &state,
		LastActivity: ptr(t1),
	})
	wantErr(t, "UpdateUser", err, nil)
	want := store.User{Name: "alicia", Admin: true, PasswordHash: "$2a$10$abcdefghijklmnopqrstuv",
		AuthState: state, LastActivity: t1}
	diff(t, "updated user", got, want)
	if got.ID != u.ID || got.CookieID != u.CookieID || !got.Created.Equal(u.Created) {
		t.Errorf("update changed ID, cookie ID or created time: %+v, was %+v", got, u)
	}
	_, err = s.GetUser(t.Context(), "alice")
	wantErr(t, "GetUser(old name)", err, store.ErrNotFound)
	reread, err := s.GetUser(t.Context(), "alicia")
	wantErr(t, "GetUser(new name)", err, nil)
	diff(t, "reread user", reread, want)

	got, err = s.UpdateUser(t.Context(), "alicia", store.UserUpdate{
		PasswordHash: ptr(""),
		AuthState:    new([]byte),
	})
	wantErr(t, "UpdateUser(clear)", err, nil)
	diff(t, "cleared user", got, store.User{Name: "alicia", Admin: true, LastActivity: t1})
	if got.AuthState != nil {
		t.Errorf("AuthState = %#v after clearing, want nil", got.AuthState)
	}

	got, err = s.UpdateUser(t.Context(), "alicia", store.UserUpdate{})
	wantErr(t, "UpdateUser(nothing)", err, nil)
	diff(t, "unchanged user", got, store.User{Name: "alicia", Admin: true, LastActivity: t1})
}

func testUserUpdateErrors(t *testing.T, s store.Store) {
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	tests := []struct {
		name   string
		user   string
		update store.UserUpdate
		want   error
	}{
		{"rename to taken", "alice", store.UserUpdate{Name: ptr("bob")}, store.ErrExists},
		{"rename to empty", "alice", store.UserUpdate{Name: ptr("")}, store.ErrInvalid},
		{"missing user", "carol", store.UserUpdate{Admin: ptr(true)}, store.ErrNotFound},
		{"missing user, no change", "carol", store.UserUpdate{}, store.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.UpdateUser(t.Context(), tc.user, tc.update)
			wantErr(t, "UpdateUser", err, tc.want)
		})
	}
	u, err := s.GetUser(t.Context(), "alice")
	wantErr(t, "GetUser", err, nil)
	diff(t, "user after failed updates", u, store.User{Name: "alice"})
}

func testUserLastActivity(t *testing.T, s store.Store) {
	mustUser(t, s, "alice")
	steps := []struct {
		set  time.Time
		want time.Time
	}{
		{t2, t2},
		{t1, t2}, // earlier: kept
		{t3, t3},
	}
	for _, step := range steps {
		u, err := s.UpdateUser(t.Context(), "alice", store.UserUpdate{LastActivity: ptr(step.set)})
		wantErr(t, "UpdateUser", err, nil)
		if !u.LastActivity.Equal(step.want) {
			t.Errorf("after setting %v, LastActivity = %v, want %v", step.set, u.LastActivity, step.want)
		}
	}
}

func testUserListPages(t *testing.T, s store.Store) {
	names := []string{"u0", "u1", "u2", "u3", "u4"}
	for _, n := range names {
		mustUser(t, s, n)
	}
	tests := []struct {
		page store.Page
		want []string
	}{
		{store.Page{}, names},
		{store.Page{Limit: 2}, names[:2]},
		{store.Page{Offset: 3}, names[3:]},
		{store.Page{Offset: 1, Limit: 3}, names[1:4]},
		{store.Page{Offset: 4, Limit: 3}, names[4:]},
		{store.Page{Offset: 9}, nil},
	}
	for _, tc := range tests {
		users, total, err := s.ListUsers(t.Context(), store.UserQuery{Page: tc.page})
		wantErr(t, "ListUsers", err, nil)
		if total != len(names) {
			t.Errorf("ListUsers(%+v) total = %d, want %d", tc.page, total, len(names))
		}
		diff(t, "names of page", userNames(users), tc.want)
	}
}

func testUserListNamePrefix(t *testing.T, s store.Store) {
	for _, n := range []string{"ab", "abc", "Abd", "a_x", "a%y", "b"} {
		mustUser(t, s, n)
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"ab", []string{"ab", "abc"}},
		{"A", []string{"Abd"}},
		{"a_", []string{"a_x"}},
		{"a%", []string{"a%y"}},
		{"abcd", nil},
	}
	for _, tc := range tests {
		users, total, err := s.ListUsers(t.Context(), store.UserQuery{NamePrefix: tc.prefix})
		wantErr(t, "ListUsers", err, nil)
		diff(t, "users with prefix "+tc.prefix, userNames(users), tc.want)
		if total != len(tc.want) {
			t.Errorf("prefix %q: total = %d, want %d", tc.prefix, total, len(tc.want))
		}
	}
}

func testUserListState(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, n := range []string{"idle", "stopped", "spawning", "ready", "stopping"} {
		mustUser(t, s, n)
	}
	mustServer(t, s, "stopped", "")
	mustServer(t, s, "spawning", "")
	mustServer(t, s, "ready", "")
	mustServer(t, s, "ready", "second")
	mustServer(t, s, "stopping", "")
	updates := []struct {
		user, server string
		update       store.ServerUpdate
	}{
		{"spawning", "", store.ServerUpdate{Pending: ptr(store.PendingSpawn), Started: ptr(t1)}},
		{"ready", "", store.ServerUpdate{Started: ptr(t1), URL: ptr("http://127.0.0.1:1/user/ready/")}},
		{"stopping", "", store.ServerUpdate{Pending: ptr(store.PendingStop), Started: ptr(t1),
			URL: ptr("http://127.0.0.1:2/user/stopping/")}},
	}
	for _, u := range updates {
		if _, err := s.UpdateServer(ctx, u.user, u.server, u.update); err != nil {
			t.Fatalf("UpdateServer(%q): %v", u.user, err)
		}
	}
	tests := []struct {
		state store.UserState
		want  []string
	}{
		{"", []string{"idle", "stopped", "spawning", "ready", "stopping"}},
		{store.UserActive, []string{"spawning", "ready", "stopping"}},
		{store.UserReady, []string{"ready"}},
		{store.UserInactive, []string{"idle", "stopped"}},
	}
	for _, tc := range tests {
		users, total, err := s.ListUsers(ctx, store.UserQuery{State: tc.state})
		wantErr(t, "ListUsers", err, nil)
		diff(t, "users in state "+string(tc.state), userNames(users), tc.want)
		if total != len(tc.want) {
			t.Errorf("state %q: total = %d, want %d", tc.state, total, len(tc.want))
		}
	}
	_, _, err := s.ListUsers(ctx, store.UserQuery{State: "sleeping"})
	wantErr(t, "ListUsers(bad state)", err, store.ErrInvalid)
}

func testUserDeleteCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	mustGroup(t, s, "staff", "alice", "bob")
	mustRole(t, s, "reader", "read:users")
	if err := s.GrantRole(ctx, "reader", store.Grantee{Kind: store.KindUser, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	mustServer(t, s, "alice", "")
	_, clear := mustToken(t, s, store.NewToken{Owner: store.Owner{User: "alice"}})
	mustClient(t, s, "client", "secret")
	code, err := s.CreateOAuthCode(ctx, store.OAuthCode{ClientID: "client", User: "alice",
		ExpiresAt: time.Now().Add(time.Hour)})
	wantErr(t, "CreateOAuthCode", err, nil)

	wantErr(t, "DeleteUser", s.DeleteUser(ctx, "alice"), nil)
	wantErr(t, "DeleteUser(again)", s.DeleteUser(ctx, "alice"), store.ErrNotFound)

	_, err = s.GetUser(ctx, "alice")
	wantErr(t, "GetUser", err, store.ErrNotFound)
	_, err = s.FindToken(ctx, clear)
	wantErr(t, "FindToken", err, store.ErrNotFound)
	_, err = s.ConsumeOAuthCode(ctx, code)
	wantErr(t, "ConsumeOAuthCode", err, store.ErrNotFound)
	servers, err := s.ListServers(ctx, "")
	wantErr(t, "ListServers", err, nil)
	diff(t, "servers", servers, []store.Server{})
	g, err := s.GetGroup(ctx, "staff")
	wantErr(t, "GetGroup", err, nil)
	diff(t, "group members", g.Users, []string{"bob"})
	grantees, err := s.ListGrantees(ctx, "reader")
	wantErr(t, "ListGrantees", err, nil)
	diff(t, "grantees", grantees, []store.Grantee{})

	// The name is free again, and nothing of the old user comes back.
	u := mustUser(t, s, "alice")
	diff(t, "new alice", u, store.User{Name: "alice"})
}

func userNames(users []store.User) []string {
	names := []string{}
	for _, u := range users {
		names = append(names, u.Name)
	}
	return names
}

func testUserCreateMany(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := []store.NewUser{
		{Name: "alice", Admin: true},
		{Name: "bob", PasswordHash: "$2a$04$hash", AuthState: []byte(`{"k":1}`)},
	}
	created, err := s.CreateUsers(ctx, in)
	wantErr(t, "CreateUsers", err, nil)
	want := []store.User{
		{Name: "alice", Admin: true},
		{Name: "bob", PasswordHash: "$2a$04$hash", AuthState: []byte(`{"k":1}`)},
	}
	diff(t, "created users", created, want)
	for i, u := range created {
		checkStamped(t, "Created", u.Created)
		if u.CookieID == "" {
			t.Errorf("user %s has no cookie ID", u.Name)
		}
		got, err := s.GetUser(ctx, u.Name)
		wantErr(t, "GetUser", err, nil)
		diff(t, "stored user", got, want[i])
	}
	if created[0].CookieID == created[1].CookieID {
		t.Error("two created users share a cookie ID")
	}
	list, err := s.CreateUsers(ctx, nil)
	wantErr(t, "CreateUsers(none)", err, nil)
	if len(list) != 0 {
		t.Errorf("CreateUsers(none) = %v, want no users", list)
	}
}

func testUserCreateManyAllOrNone(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "taken")
	cases := []struct {
		name  string
		names []string
		want  error
	}{
		{"taken name last", []string{"a1", "a2", "a3", "taken"}, store.ErrExists},
		{"taken name first", []string{"taken", "a1"}, store.ErrExists},
		{"repeated name", []string{"a1", "a2", "a1"}, store.ErrInvalid},
		{"empty name", []string{"a1", ""}, store.ErrInvalid},
	}
	for _, tc := range cases {
		var in []store.NewUser
		for _, name := range tc.names {
			in = append(in, store.NewUser{Name: name})
		}
		_, err := s.CreateUsers(ctx, in)
		wantErr(t, "CreateUsers("+tc.name+")", err, tc.want)
		for _, name := range []string{"a1", "a2", "a3"} {
			if _, err := s.GetUser(ctx, name); err == nil {
				t.Errorf("CreateUsers(%s) failed but created %s", tc.name, name)
			}
		}
	}
	_, total, err := s.ListUsers(ctx, store.UserQuery{})
	wantErr(t, "ListUsers", err, nil)
	if total != 1 {
		t.Errorf("users after the failed calls = %d, want only taken", total)
	}
}
