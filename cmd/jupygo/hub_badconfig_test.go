//go:build !nohub

package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHubInvalidConfigStoresNothing checks that a configuration that the
// hub cannot apply stops the start before it prints the one-time password
// or creates the data folder, let alone stores any of it.
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
			if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a start that failed created the data folder %s (err %v)", dataDir, err)
			}
		})
	}
}
