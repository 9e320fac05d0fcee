package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jupygo/jupygo/internal/store"
)

// TestHubInvalidConfigStoresNothing checks that a configuration that the
// hub cannot apply stops the start before it prints the one-time password
// or stores any of it, such as the user of an earlier role.
func TestHubInvalidConfigStoresNothing(t *testing.T) {
	const before = `[Authenticator]
admin_users = ["boss"]

[[JupyterHub.load_roles]]
name = "readers"
users = ["nobody"]
scopes = ["read:users"]
`
	for _, tc := range []struct {
		name, config, want string
	}{
		{"short service token", `[[JupyterHub.services]]
name = "cull"
api_token = "short"
`, `JupyterHub.services[0].api_token: the api_token of service "cull" has 5 characters: use at least 8`},
		{"role of an unknown service", `[[JupyterHub.load_roles]]
name = "culler"
services = ["cull"]
scopes = ["admin:users"]
`, `role "culler": service "cull" is not in JupyterHub.services`},
		{"admin scopes changed", `[[JupyterHub.load_roles]]
name = "admin"
scopes = ["admin:users"]
`, `role "admin": the scopes of the built-in admin role cannot be changed`},
		{"unknown scope", `[[JupyterHub.load_roles]]
name = "ops"
scopes = ["read:everything"]
`, `role "ops": scope 'read:everything' does not exist`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeHubConfig(t, before+"\n"+tc.config)
			dataDir := filepath.Join(t.TempDir(), "data")
			var stdout, stderr strings.Builder
			code := runHub([]string{"-f", path, "--port", "0", "--data-dir", dataDir},
				&stdout, &stderr)
			if code == 0 {
				t.Errorf("exit code = 0, want an error")
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, stderr.String())
			}
			if strings.Contains(stdout.String(), "one-time password") {
				t.Errorf("a start that failed printed a password:\n%s", stdout.String())
			}
			if strings.Contains(stdout.String(), "is running") {
				t.Errorf("a start that failed announced the hub:\n%s", stdout.String())
			}
			checkStoreEmpty(t, dataDir)
		})
	}
}

// checkStoreEmpty checks that the hub's database in dataDir, at the
// default db_url, has no users, roles or services, if it exists at all.
func checkStoreEmpty(t *testing.T, dataDir string) {
	t.Helper()
	path := filepath.Join(dataDir, "jupyterhub.sqlite")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return
	}
	st, err := store.Open(t.Context(), "sqlite:///"+path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	users, _, err := st.ListUsers(t.Context(), store.UserQuery{})
	if err != nil || len(users) > 0 {
		t.Errorf("stored users = %v, err %v, want none", users, err)
	}
	roles, err := st.ListRoles(t.Context())
	if err != nil || len(roles) > 0 {
		t.Errorf("stored roles = %v, err %v, want none", roles, err)
	}
	services, err := st.ListServices(t.Context())
	if err != nil || len(services) > 0 {
		t.Errorf("stored services = %v, err %v, want none", services, err)
	}
}
