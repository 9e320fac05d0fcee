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
// and returns the store it gave New, the hub and the error of New.
// prepare, when set, runs on the store first.
func newHubWithConfig(t *testing.T, src string, prepare func(store.Store)) (store.Store, *Hub, error) {
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
	if prepare != nil {
		prepare(st)
	}
	local, err := auth.NewLocal(st, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Config: cfg, Store: st, Spawner: newFakeSpawner(), Authenticator: local,
		CookieSecret: []byte(strings.Repeat("k", 32))})
	return st, h, err
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
			_, _, err := newHubWithConfig(t, "[[JupyterHub.load_roles]]\nname = \"ops\"\nusers = [\"alice\"]\n"+
				"scopes = "+c.scopes+"\n", nil)
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
	_, _, err := newHubWithConfig(t, `[[JupyterHub.load_roles]]
name = "ops"
scopes = ["read:users!group=staff", "admin:servers!user=alice", "access:servers!server",
  "users:activity!user", "list:services!service=cull"]
`, nil)
	if err != nil {
		t.Errorf("New: %v", err)
	}
}

func TestNewRejectsSharedServiceToken(t *testing.T) {
	_, _, err := newHubWithConfig(t, `[[JupyterHub.services]]
name = "a"
api_token = "0123456789abcdef"

[[JupyterHub.services]]
name = "b"
api_token = "0123456789abcdef"
`, nil)
	want := `hub.toml:7:1: JupyterHub.services[1].api_token: service "b" has the same api_token as service "a"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("New error = %v, want it to contain %q", err, want)
	}
	if err != nil && strings.Contains(err.Error(), "0123456789abcdef") {
		t.Errorf("New error shows the token: %v", err)
	}
}

func TestPrepareRejectsStoredTokenFirst(t *testing.T) {
	const token = "0123456789abcdef"
	st, h, err := newHubWithConfig(t, `[Authenticator]
admin_users = ["boss"]

[[JupyterHub.services]]
name = "cull"
api_token = "`+token+`"
`, func(st store.Store) {
		if _, err := st.CreateUser(t.Context(), "bob", false); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.CreateToken(t.Context(), store.NewToken{Token: token,
			Owner: store.Owner{User: "bob"}, Scopes: []string{"inherit"}}); err != nil {
			t.Fatal(err)
		}
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	err = h.Prepare(t.Context())
	want := `service "cull": its api_token is already a token of user "bob"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Prepare error = %v, want it to contain %q", err, want)
	}
	if _, err := st.GetUser(t.Context(), "boss"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetUser(boss) after the failed Prepare: err = %v, want ErrNotFound", err)
	}
	if _, err := st.GetService(t.Context(), "cull"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetService(cull) after the failed Prepare: err = %v, want ErrNotFound", err)
	}
	if tok, err := st.FindToken(t.Context(), token); err != nil || tok.Owner.User != "bob" {
		t.Errorf("FindToken after the failed Prepare = %+v, %v, want bob's token", tok, err)
	}
}

func TestNewRejectsUnknownClientScopes(t *testing.T) {
	_, _, err := newHubWithConfig(t, "[Spawner]\noauth_client_allowed_scopes = [\"shares!server\", \"share\"]\n", nil)
	if err == nil || !strings.Contains(err.Error(), "Spawner.oauth_client_allowed_scopes: scope 'share' does not exist") {
		t.Errorf("New with an unknown client scope: %v", err)
	}
	if _, _, err := newHubWithConfig(t, "[Spawner]\noauth_client_allowed_scopes = [\"shares!server\", \"read:users:name\"]\n", nil); err != nil {
		t.Errorf("New with known client scopes: %v", err)
	}
}
