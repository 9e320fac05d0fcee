package storetest

import (
	"encoding/json"
	"testing"

	"github.com/jupygo/jupygo/internal/store"
)

var groupTests = []test{
	{"CreateGet", testGroupCreateGet},
	{"CreateErrors", testGroupCreateErrors},
	{"Properties", testGroupProperties},
	{"Members", testGroupMembers},
	{"AddUnknownMember", testGroupAddUnknownMember},
	{"ListPages", testGroupListPages},
	{"Delete", testGroupDelete},
}

func testGroupCreateGet(t *testing.T, s store.Store) {
	g, err := s.CreateGroup(t.Context(), "staff", []byte(`{"room": "3.14"}`))
	wantErr(t, "CreateGroup", err, nil)
	want := store.Group{Name: "staff", Properties: json.RawMessage(`{"room": "3.14"}`),
		Users: []string{}, Roles: []string{}}
	diff(t, "created group", g, want)

	got, err := s.GetGroup(t.Context(), "staff")
	wantErr(t, "GetGroup", err, nil)
	diff(t, "group", got, want)
	if got.ID != g.ID || g.ID == 0 {
		t.Errorf("IDs: created %d, got %d", g.ID, got.ID)
	}

	plain, err := s.CreateGroup(t.Context(), "plain", nil)
	wantErr(t, "CreateGroup(nil properties)", err, nil)
	diff(t, "default properties", string(plain.Properties), "{}")
}

func testGroupCreateErrors(t *testing.T, s store.Store) {
	mustGroup(t, s, "staff")
	tests := []struct {
		name       string
		group      string
		properties string
		want       error
	}{
		{"duplicate", "staff", "{}", store.ErrExists},
		{"empty name", "", "{}", store.ErrInvalid},
		{"not JSON", "a", "{", store.ErrInvalid},
		{"array", "b", "[1]", store.ErrInvalid},
		{"null", "c", "null", store.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateGroup(t.Context(), tc.group, []byte(tc.properties))
			wantErr(t, "CreateGroup", err, tc.want)
		})
	}
	_, err := s.GetGroup(t.Context(), "missing")
	wantErr(t, "GetGroup(missing)", err, store.ErrNotFound)
}

func testGroupProperties(t *testing.T, s store.Store) {
	mustGroup(t, s, "staff")
	g, err := s.SetGroupProperties(t.Context(), "staff", []byte(`{"a": [1, 2]}`))
	wantErr(t, "SetGroupProperties", err, nil)
	diff(t, "properties", string(g.Properties), `{"a": [1, 2]}`)

	_, err = s.SetGroupProperties(t.Context(), "staff", []byte(`"text"`))
	wantErr(t, "SetGroupProperties(string)", err, store.ErrInvalid)
	_, err = s.SetGroupProperties(t.Context(), "missing", []byte(`{}`))
	wantErr(t, "SetGroupProperties(missing)", err, store.ErrNotFound)

	g, err = s.GetGroup(t.Context(), "staff")
	wantErr(t, "GetGroup", err, nil)
	diff(t, "properties after failures", string(g.Properties), `{"a": [1, 2]}`)
}

func testGroupMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, n := range []string{"carol", "alice", "bob"} {
		mustUser(t, s, n)
	}
	mustGroup(t, s, "staff")
	mustGroup(t, s, "admins")

	g, err := s.AddGroupMembers(ctx, "staff", "carol", "alice")
	wantErr(t, "AddGroupMembers", err, nil)
	diff(t, "members", g.Users, []string{"alice", "carol"})

	g, err = s.AddGroupMembers(ctx, "staff", "alice", "bob")
	wantErr(t, "AddGroupMembers(again)", err, nil)
	diff(t, "members after re-adding", g.Users, []string{"alice", "bob", "carol"})

	_, err = s.AddGroupMembers(ctx, "admins", "alice")
	wantErr(t, "AddGroupMembers(admins)", err, nil)
	u, err := s.GetUser(ctx, "alice")
	wantErr(t, "GetUser", err, nil)
	diff(t, "groups of alice", u.Groups, []string{"admins", "staff"})

	g, err = s.RemoveGroupMembers(ctx, "staff", "alice", "nobody")
	wantErr(t, "RemoveGroupMembers", err, nil)
	diff(t, "members after removal", g.Users, []string{"bob", "carol"})
	u, err = s.GetUser(ctx, "alice")
	wantErr(t, "GetUser", err, nil)
	diff(t, "groups of alice after removal", u.Groups, []string{"admins"})

	users, _, err := s.ListUsers(ctx, store.UserQuery{})
	wantErr(t, "ListUsers", err, nil)
	groupsOf := map[string][]string{}
	for _, u := range users {
		groupsOf[u.Name] = u.Groups
	}
	diff(t, "groups in list", groupsOf, map[string][]string{
		"alice": {"admins"}, "bob": {"staff"}, "carol": {"staff"},
	})

	_, err = s.RemoveGroupMembers(ctx, "missing", "bob")
	wantErr(t, "RemoveGroupMembers(missing group)", err, store.ErrNotFound)
}

func testGroupAddUnknownMember(t *testing.T, s store.Store) {
	mustUser(t, s, "alice")
	mustGroup(t, s, "staff")
	_, err := s.AddGroupMembers(t.Context(), "staff", "alice", "nobody")
	wantErr(t, "AddGroupMembers", err, store.ErrNotFound)
	g, err := s.GetGroup(t.Context(), "staff")
	wantErr(t, "GetGroup", err, nil)
	diff(t, "members after failed add", g.Users, []string{})

	_, err = s.AddGroupMembers(t.Context(), "missing", "alice")
	wantErr(t, "AddGroupMembers(missing group)", err, store.ErrNotFound)
}

func testGroupListPages(t *testing.T, s store.Store) {
	mustUser(t, s, "alice")
	names := []string{"g0", "g1", "g2", "g3"}
	for _, n := range names {
		mustGroup(t, s, n, "alice")
	}
	tests := []struct {
		page store.Page
		want []string
	}{
		{store.Page{}, names},
		{store.Page{Limit: 3}, names[:3]},
		{store.Page{Offset: 2}, names[2:]},
		{store.Page{Offset: 1, Limit: 2}, names[1:3]},
	}
	for _, tc := range tests {
		groups, total, err := s.ListGroups(t.Context(), tc.page)
		wantErr(t, "ListGroups", err, nil)
		if total != len(names) {
			t.Errorf("ListGroups(%+v) total = %d, want %d", tc.page, total, len(names))
		}
		var got []string
		for _, g := range groups {
			got = append(got, g.Name)
			diff(t, "members of "+g.Name, g.Users, []string{"alice"})
		}
		diff(t, "groups of page", got, tc.want)
	}
}

func testGroupDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustGroup(t, s, "staff", "alice")
	mustRole(t, s, "reader")
	wantErr(t, "GrantRole", s.GrantRole(ctx, "reader", store.Grantee{Kind: store.KindGroup, Name: "staff"}), nil)

	wantErr(t, "DeleteGroup", s.DeleteGroup(ctx, "staff"), nil)
	wantErr(t, "DeleteGroup(again)", s.DeleteGroup(ctx, "staff"), store.ErrNotFound)
	u, err := s.GetUser(ctx, "alice")
	wantErr(t, "GetUser", err, nil)
	diff(t, "groups of alice", u.Groups, []string{})
	grantees, err := s.ListGrantees(ctx, "reader")
	wantErr(t, "ListGrantees", err, nil)
	diff(t, "grantees", grantees, []store.Grantee{})

	g := mustGroup(t, s, "staff")
	diff(t, "new staff group", g.Users, []string{})
}
