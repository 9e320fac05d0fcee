package hub

import (
	"errors"
	"slices"
	"testing"

	"github.com/jupygo/jupygo/internal/hub/config"
	"github.com/jupygo/jupygo/internal/store"
)

// restartWithConfig stops th and starts a hub on the same store and
// spawner with another configuration.
func restartWithConfig(t *testing.T, th *testHub, configTOML string) *testHub {
	t.Helper()
	th.stop()
	return startHub(t, hubOptions{config: configTOML, store: th.store, spawn: th.spawner})
}

// grantees returns the grantees of a role as strings, such as `user "ops"`.
func grantees(t *testing.T, st store.Store, role string) []string {
	t.Helper()
	gs, err := st.ListGrantees(t.Context(), role)
	if err != nil {
		t.Fatalf("grantees of %s: %v", role, err)
	}
	var out []string
	for _, g := range gs {
		out = append(out, g.String())
	}
	return out
}

func TestLoadRolesMembershipExact(t *testing.T) {
	th := startHub(t, hubOptions{config: `
[[JupyterHub.load_roles]]
name = "useradmin"
scopes = ["admin:users"]
users = ["ops", "bob"]
groups = ["staff"]
`})
	want := []string{`user "bob"`, `user "ops"`, `group "staff"`}
	if got := grantees(t, th.store, "useradmin"); !slices.Equal(got, want) {
		t.Fatalf("first start: grantees = %q, want %q", got, want)
	}

	th = restartWithConfig(t, th, `
[[JupyterHub.load_roles]]
name = "useradmin"
scopes = ["admin:users"]
users = ["ops"]
`)
	want = []string{`user "ops"`}
	if got := grantees(t, th.store, "useradmin"); !slices.Equal(got, want) {
		t.Errorf("bob and staff left out: grantees = %q, want %q", got, want)
	}
	bob := th.api("GET", "/hub/api/user", th.token("bob"), nil)
	var m struct{ Scopes []string }
	bob.json(t, &m)
	if slices.Contains(m.Scopes, "admin:users") {
		t.Errorf("bob's scopes after the revoke = %q, want no admin:users", m.Scopes)
	}

	th = restartWithConfig(t, th, `
[[JupyterHub.load_roles]]
name = "useradmin"
scopes = ["admin:users"]
users = []
`)
	if got := grantees(t, th.store, "useradmin"); len(got) != 0 {
		t.Errorf("users = []: grantees = %q, want none", got)
	}
}

func TestLoadRolesRemovedRole(t *testing.T) {
	th := startHub(t, hubOptions{config: `
[[JupyterHub.load_roles]]
name = "useradmin"
scopes = ["admin:users"]
users = ["ops"]

[[JupyterHub.load_roles]]
name = "server"
scopes = ["users:activity!user"]
users = ["ops"]
`})
	opsToken := th.token("ops")

	th = restartWithConfig(t, th, "")
	if _, err := th.store.GetRole(t.Context(), "useradmin"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRole(useradmin) after its removal: err = %v, want ErrNotFound", err)
	}
	if r := th.api("GET", "/hub/api/users", opsToken, nil); r.status != 403 {
		t.Errorf("ops's token listing users after the role's removal = %d, want 403", r.status)
	}
	server, err := th.store.GetRole(t.Context(), "server")
	if err != nil {
		t.Fatalf("built-in role server after its override's removal: %v", err)
	}
	if !slices.Equal(server.Scopes, builtinRoles()["server"]) {
		t.Errorf("role server scopes = %q, want the built-in %q", server.Scopes, builtinRoles()["server"])
	}
	if got, want := grantees(t, th.store, "server"), []string{`user "ops"`}; !slices.Equal(got, want) {
		t.Errorf("built-in role server grantees = %q, want %q kept", got, want)
	}
}

func TestDeleteInvalidUsers(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	if _, err := th.store.CreateUser(t.Context(), "bad/name", false); err != nil {
		t.Fatal(err)
	}

	th = restartWithConfig(t, th, "")
	if _, err := th.store.GetUser(t.Context(), "bad/name"); err != nil {
		t.Errorf("invalid user without delete_invalid_users: %v, want it kept", err)
	}

	th = restartWithConfig(t, th, "[Authenticator]\ndelete_invalid_users = true\n")
	if _, err := th.store.GetUser(t.Context(), "bad/name"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("invalid user with delete_invalid_users: err = %v, want ErrNotFound", err)
	}
	if _, err := th.store.GetUser(t.Context(), "alice"); err != nil {
		t.Errorf("valid user alice with delete_invalid_users: %v, want her kept", err)
	}
}

func TestLoadRolesOverrideKeepsScopes(t *testing.T) {
	th := startHub(t, hubOptions{config: `
[[JupyterHub.load_roles]]
name = "user"
description = "everyone"
users = ["alice"]

[[JupyterHub.load_roles]]
name = "server"
users = ["ops"]

[[JupyterHub.load_roles]]
name = "token"
scopes = []
`})
	for name, want := range map[string][]string{
		"user": builtinRoles()["user"], "server": builtinRoles()["server"], "token": {}} {
		role, err := th.store.GetRole(t.Context(), name)
		if err != nil {
			t.Fatalf("GetRole(%s): %v", name, err)
		}
		if !slices.Equal(role.Scopes, want) {
			t.Errorf("role %s scopes = %q, want %q", name, role.Scopes, want)
		}
	}
	th.addUser("alice", false)
	if r := th.api("GET", "/hub/api/users/alice", th.token("alice"), nil); r.status != 200 {
		t.Errorf("alice reading herself under the overridden user role = %d %s, want 200",
			r.status, r.body)
	}
}

func TestConfiguredRoleAdminScopes(t *testing.T) {
	reversed := slices.Clone(builtinRoles()["admin"])
	slices.Reverse(reversed)
	for _, c := range []struct {
		name    string
		scopes  []string
		wantErr bool
	}{
		{"left out", nil, false},
		{"same in another order", reversed, false},
		{"narrower", []string{"admin:users"}, true},
		{"empty", []string{}, true},
		{"wider", append(slices.Clone(builtinRoles()["admin"]), "admin:auth_state"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			role, err := configuredRole(config.Role{Name: "admin", Scopes: c.scopes})
			if (err != nil) != c.wantErr {
				t.Fatalf("configuredRole(admin, %q) error = %v, want error %v", c.scopes, err, c.wantErr)
			}
			if err == nil && !sameStrings(role.Scopes, builtinRoles()["admin"]) {
				t.Errorf("admin scopes = %q, want the built-in ones", role.Scopes)
			}
		})
	}
}
