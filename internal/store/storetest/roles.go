package storetest

import (
	"slices"
	"testing"

	"github.com/jupygo/jupygo/internal/store"
)

var roleTests = []test{
	{"PutGet", testRolePutGet},
	{"PutKeepsGrants", testRolePutKeepsGrants},
	{"GrantEveryKind", testRoleGrantEveryKind},
	{"GrantErrors", testRoleGrantErrors},
	{"Revoke", testRoleRevoke},
	{"Delete", testRoleDelete},
	{"ListSortsBytewise", testRoleListSortsBytewise},
}

func testRolePutGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	r, err := s.PutRole(ctx, store.Role{Name: "user", Description: "every user",
		Scopes: []string{"self", "access:servers!user"}})
	wantErr(t, "PutRole", err, nil)
	want := store.Role{Name: "user", Description: "every user",
		Scopes: []string{"self", "access:servers!user"}}
	diff(t, "role", r, want)

	got, err := s.GetRole(ctx, "user")
	wantErr(t, "GetRole", err, nil)
	diff(t, "role", got, want)

	replaced, err := s.PutRole(ctx, store.Role{Name: "user", Scopes: []string{"self"}})
	wantErr(t, "PutRole(replace)", err, nil)
	diff(t, "replaced role", replaced, store.Role{Name: "user", Scopes: []string{"self"}})
	if replaced.ID != r.ID {
		t.Errorf("replacing the role changed its ID from %d to %d", r.ID, replaced.ID)
	}

	mustRole(t, s, "admin", "admin:users")
	mustRole(t, s, "empty")
	roles, err := s.ListRoles(ctx)
	wantErr(t, "ListRoles", err, nil)
	diff(t, "roles", roles, []store.Role{
		{Name: "admin", Scopes: []string{"admin:users"}},
		{Name: "empty", Scopes: []string{}},
		{Name: "user", Scopes: []string{"self"}},
	})

	_, err = s.PutRole(ctx, store.Role{})
	wantErr(t, "PutRole(no name)", err, store.ErrInvalid)
	_, err = s.GetRole(ctx, "missing")
	wantErr(t, "GetRole(missing)", err, store.ErrNotFound)
}

func testRolePutKeepsGrants(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustRole(t, s, "reader", "read:users")
	wantErr(t, "GrantRole", s.GrantRole(ctx, "reader", store.Grantee{Kind: store.KindUser, Name: "alice"}), nil)
	mustRole(t, s, "reader", "read:users", "read:groups")
	roles, err := s.RolesOf(ctx, store.Grantee{Kind: store.KindUser, Name: "alice"})
	wantErr(t, "RolesOf", err, nil)
	diff(t, "roles of alice", roles,
		[]store.Role{{Name: "reader", Scopes: []string{"read:users", "read:groups"}}})
}

func testRoleGrantEveryKind(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "bob")
	mustUser(t, s, "alice")
	mustGroup(t, s, "staff")
	mustService(t, s, "cull")
	tok, _ := mustToken(t, s, store.NewToken{Owner: store.Owner{User: "alice"}})
	mustRole(t, s, "b-role", "read:users")
	mustRole(t, s, "a-role", "read:groups")

	grantees := []store.Grantee{
		{Kind: store.KindUser, Name: "bob"},
		{Kind: store.KindUser, Name: "alice"},
		{Kind: store.KindGroup, Name: "staff"},
		{Kind: store.KindService, Name: "cull"},
		{Kind: store.KindToken, TokenID: tok.ID},
	}
	for _, g := range grantees {
		for _, role := range []string{"b-role", "a-role"} {
			wantErr(t, "GrantRole "+g.String(), s.GrantRole(ctx, role, g), nil)
			wantErr(t, "GrantRole again "+g.String(), s.GrantRole(ctx, role, g), nil)
		}
		roles, err := s.RolesOf(ctx, g)
		wantErr(t, "RolesOf "+g.String(), err, nil)
		diff(t, "roles of "+g.String(), roles, []store.Role{
			{Name: "a-role", Scopes: []string{"read:groups"}},
			{Name: "b-role", Scopes: []string{"read:users"}},
		})
	}

	got, err := s.ListGrantees(ctx, "a-role")
	wantErr(t, "ListGrantees", err, nil)
	diff(t, "grantees", got, []store.Grantee{
		{Kind: store.KindUser, Name: "alice"},
		{Kind: store.KindUser, Name: "bob"},
		{Kind: store.KindGroup, Name: "staff"},
		{Kind: store.KindService, Name: "cull"},
		{Kind: store.KindToken, TokenID: tok.ID},
	})

	both := []string{"a-role", "b-role"}
	u, err := s.GetUser(ctx, "alice")
	wantErr(t, "GetUser", err, nil)
	diff(t, "roles of user", u.Roles, both)
	g, err := s.GetGroup(ctx, "staff")
	wantErr(t, "GetGroup", err, nil)
	diff(t, "roles of group", g.Roles, both)
	sv, err := s.GetService(ctx, "cull")
	wantErr(t, "GetService", err, nil)
	diff(t, "roles of service", sv.Roles, both)
	services, err := s.ListServices(ctx)
	wantErr(t, "ListServices", err, nil)
	diff(t, "roles of listed service", services[0].Roles, both)
}

func testRoleGrantErrors(t *testing.T, s store.Store) {
	mustUser(t, s, "alice")
	mustRole(t, s, "reader")
	tests := []struct {
		name    string
		role    string
		grantee store.Grantee
		want    error
	}{
		{"missing role", "writer", store.Grantee{Kind: store.KindUser, Name: "alice"}, store.ErrNotFound},
		{"missing user", "reader", store.Grantee{Kind: store.KindUser, Name: "bob"}, store.ErrNotFound},
		{"missing group", "reader", store.Grantee{Kind: store.KindGroup, Name: "alice"}, store.ErrNotFound},
		{"missing service", "reader", store.Grantee{Kind: store.KindService, Name: "x"}, store.ErrNotFound},
		{"missing token", "reader", store.Grantee{Kind: store.KindToken, TokenID: 999}, store.ErrNotFound},
		{"bad kind", "reader", store.Grantee{Kind: "robot", Name: "alice"}, store.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, "GrantRole", s.GrantRole(t.Context(), tc.role, tc.grantee), tc.want)
			wantErr(t, "RevokeRole", s.RevokeRole(t.Context(), tc.role, tc.grantee), tc.want)
			if tc.role == "reader" {
				_, err := s.RolesOf(t.Context(), tc.grantee)
				wantErr(t, "RolesOf", err, tc.want)
			}
		})
	}
	_, err := s.ListGrantees(t.Context(), "writer")
	wantErr(t, "ListGrantees(missing role)", err, store.ErrNotFound)
}

func testRoleRevoke(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustRole(t, s, "reader")
	mustRole(t, s, "writer")
	alice := store.Grantee{Kind: store.KindUser, Name: "alice"}
	wantErr(t, "GrantRole", s.GrantRole(ctx, "reader", alice), nil)
	wantErr(t, "GrantRole", s.GrantRole(ctx, "writer", alice), nil)
	wantErr(t, "RevokeRole", s.RevokeRole(ctx, "reader", alice), nil)
	wantErr(t, "RevokeRole(again)", s.RevokeRole(ctx, "reader", alice), nil)
	u, err := s.GetUser(ctx, "alice")
	wantErr(t, "GetUser", err, nil)
	diff(t, "roles after revoke", u.Roles, []string{"writer"})
}

func testRoleDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustRole(t, s, "reader")
	alice := store.Grantee{Kind: store.KindUser, Name: "alice"}
	wantErr(t, "GrantRole", s.GrantRole(ctx, "reader", alice), nil)
	wantErr(t, "DeleteRole", s.DeleteRole(ctx, "reader"), nil)
	wantErr(t, "DeleteRole(again)", s.DeleteRole(ctx, "reader"), store.ErrNotFound)
	roles, err := s.RolesOf(ctx, alice)
	wantErr(t, "RolesOf", err, nil)
	diff(t, "roles after delete", roles, []store.Role{})

	mustRole(t, s, "reader")
	grantees, err := s.ListGrantees(ctx, "reader")
	wantErr(t, "ListGrantees", err, nil)
	diff(t, "grantees of the new role", grantees, []store.Grantee{})
}

// testRoleListSortsBytewise checks that names sort by their bytes, as Go
// sorts strings, whatever collation the database would use by default.
func testRoleListSortsBytewise(t *testing.T, s store.Store) {
	names := []string{"b", "B", "_", "a", "a-b", "ab", "Z", "\u00e9", "1"}
	for _, name := range names {
		mustRole(t, s, name)
	}
	roles, err := s.ListRoles(t.Context())
	wantErr(t, "ListRoles", err, nil)
	var got []string
	for _, r := range roles {
		got = append(got, r.Name)
	}
	want := slices.Clone(names)
	slices.Sort(want)
	diff(t, "role order", got, want)
}
