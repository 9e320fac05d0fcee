package hub

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jupygo/jupygo/internal/hub/auth"
	"github.com/jupygo/jupygo/internal/hub/config"
	"github.com/jupygo/jupygo/internal/store"
	"golang.org/x/crypto/bcrypt"
)

// newHubWithConfig calls New for a hub with the TOML configuration src,
// and returns the store it gave New and the error of New.
func newHubWithConfig(t *testing.T, src string) (store.Store, error) {
	t.Helper()
	cfg, err := config.Parse([]byte(src), "hub.toml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	st, err := store.Open(t.Context(), "sqlite:///"+filepath.Join(t.TempDir(), "hub.sqlite"),
		store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	local, err := auth.NewLocal(st, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(Options{Config: cfg, Store: st, Spawner: newFakeSpawner(), Authenticator: local,
		CookieSecret: []byte(strings.Repeat("k", 32))})
	return st, err
}

func TestNewRejectsUnknownRoleScopes(t *testing.T) {
	for _, c := range []struct {
		name, scopes, want string
	}{
		{"unknown scope", `["read:users", "read:everything"]`,
			`hub.toml:4:1: JupyterHub.load_roles[0].scopes: role "ops": scope 'read:everything' does not exist`},
		{"unknown filter", `["read:users!team=a"]`,
			`hub.toml:4:1: JupyterHub.load_roles[0].scopes: role "ops": filter '!team=a' in scope 'read:users!team=a' does not exist`},
		{"group filter without a name", `["read:users!group"]`,
			`role "ops": filter '!group' in scope 'read:users!group' does not exist`},
		{"all", `["all"]`, `use 'inherit'`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := newHubWithConfig(t, "[[JupyterHub.load_roles]]\nname = \"ops\"\nusers = [\"alice\"]\n"+
				"scopes = "+c.scopes+"\n")
			if err == nil {
				t.Fatal("New accepted the role")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("New error = %q, want it to contain %q", err, c.want)
			}
			var list config.ErrorList
			if !errors.As(err, &list) {
				t.Errorf("New error is a %T, want a config.ErrorList", err)
			}
		})
	}
}

func TestNewAcceptsKnownRoleScopes(t *testing.T) {
	_, err := newHubWithConfig(t, `[[JupyterHub.load_roles]]
name = "ops"
scopes = ["read:users!group=staff", "admin:servers!user=alice", "access:servers!server",
  "users:activity!user", "list:services!service=cull"]
`)
	if err != nil {
		t.Errorf("New: %v", err)
	}
}
