package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ignorePositions leaves out of a comparison of configurations the key
// positions that ErrorAt reads.
var ignorePositions = cmpopts.IgnoreUnexported(Config{})

// clearEnv empties every environment variable the package reads, so tests
// see only what they set themselves.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, k := range classKeys() {
		for _, name := range k.Env {
			t.Setenv(name, "")
		}
	}
}

// want returns the defaults with edit applied and File set to name.
func want(name string, edit func(c *Config)) *Config {
	c := Default()
	c.File = name
	if edit != nil {
		edit(c)
	}
	return c
}

func TestParseValid(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name string
		src  string
		want *Config
	}{
		{"empty", "", want("hub.toml", nil)},
		{"comments only", "# nothing\n\n[JupyterHub]\n# still nothing\n", want("hub.toml", nil)},
		{
			"listener parts",
			"[JupyterHub]\nip = \"\"\nport = 443\nbase_url = \"jupyter\"\n",
			want("hub.toml", func(c *Config) {
				h := &c.JupyterHub
				h.IP, h.Port, h.BaseURL = "", 443, "/jupyter/"
				h.BindURL = "http://:443/jupyter/"
			}),
		},
		{
			"ipv6 listener",
			"[JupyterHub]\nip = \"::1\"\n",
			want("hub.toml", func(c *Config) {
				c.JupyterHub.IP = "::1"
				c.JupyterHub.BindURL = "http://[::1]:8000/"
			}),
		},
		{
			"bind_url alone",
			"[JupyterHub]\nbind_url = \"http://0.0.0.0:9000/hub-base\"\n",
			want("hub.toml", func(c *Config) {
				h := &c.JupyterHub
				h.IP, h.Port, h.BaseURL = "0.0.0.0", 9000, "/hub-base/"
				h.BindURL = "http://0.0.0.0:9000/hub-base/"
			}),
		},
		{
			"bind_url without port",
			"[JupyterHub]\nbind_url = \"http://example.org\"\n",
			want("hub.toml", func(c *Config) {
				h := &c.JupyterHub
				h.IP, h.Port, h.BaseURL = "example.org", 80, "/"
				h.BindURL = "http://example.org:80/"
			}),
		},
		{
			"tls",
			"[JupyterHub]\nssl_cert = \"/etc/hub/cert.pem\"\nssl_key = \"/etc/hub/key.pem\"\nport = 8443\n",
			want("hub.toml", func(c *Config) {
				h := &c.JupyterHub
				h.SSLCert, h.SSLKey, h.Port = "/etc/hub/cert.pem", "/etc/hub/key.pem", 8443
				h.BindURL = "https://127.0.0.1:8443/"
			}),
		},
		{
			"acme",
			"[JupyterHub]\nacme_domains = [\"Hub.Example.org.\", \"lab.example.org\"]\n" +
				"acme_email = \"ops@example.org\"\nport = 443\nhttp_redirect_port = 80\n" +
				"hsts_max_age = 600\n",
			want("hub.toml", func(c *Config) {
				h := &c.JupyterHub
				h.ACMEDomains = []string{"hub.example.org", "lab.example.org"}
				h.ACMEEmail, h.Port, h.HTTPRedirectPort = "ops@example.org", 443, 80
				h.HSTSMaxAge = 10 * time.Minute
				h.BindURL = "https://127.0.0.1:443/"
			}),
		},
		{
			"class aliases",
			`[JupyterHub]
authenticator_class = "jupyterhub.auth.DummyAuthenticator"
spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
proxy_class = "jupygo"
`,
			want("hub.toml", func(c *Config) {
				c.JupyterHub.AuthenticatorClass = AuthenticatorDummy
				c.JupyterHub.SpawnerClass = SpawnerLocalProcess
				c.Authenticator.AllowAll = true
			}),
		},
		{
			"dummy with a shared password",
			`[JupyterHub]
authenticator_class = "dummy"

[DummyAuthenticator]
password = "shared"
`,
			want("hub.toml", func(c *Config) {
				c.JupyterHub.AuthenticatorClass = AuthenticatorDummy
				c.DummyAuthenticator.Password = "shared"
				c.Authenticator.AllowAll = true
			}),
		},
		{
			"dummy with allowed users",
			`[JupyterHub]
authenticator_class = "dummy"

[Authenticator]
allowed_users = ["alice"]
`,
			want("hub.toml", func(c *Config) {
				c.JupyterHub.AuthenticatorClass = AuthenticatorDummy
				c.Authenticator.AllowedUsers = []string{"alice"}
				c.Authenticator.AllowExistingUsers = true
			}),
		},
		{
			"dummy with allow_all off",
			`[JupyterHub]
authenticator_class = "dummy"

[DummyAuthenticator]
allow_all = false
`,
			want("hub.toml", func(c *Config) {
				c.JupyterHub.AuthenticatorClass = AuthenticatorDummy
			}),
		},
		{
			"fixed spawner port",
			"[Spawner]\nport = 8888\n",
			want("hub.toml", func(c *Config) { c.Spawner.Port = 8888 }),
		},
		{
			"hub scalars",
			`[JupyterHub]
hub_ip = "10.0.0.1"
hub_port = 18081
cookie_secret = "00ff00ff"
cookie_secret_file = "/srv/hub/secret"
db_url = "postgresql://hub@db/hub"
data_dir = "/srv/hub"
allow_named_servers = true
named_server_limit_per_user = 3
active_server_limit = 40
concurrent_spawn_limit = 0
last_activity_interval = 60
shutdown_on_logout = true
api_page_default_limit = 20
api_page_max_limit = 100
`,
			want("hub.toml", func(c *Config) {
				h := &c.JupyterHub
				h.HubIP, h.HubPort = "10.0.0.1", 18081
				h.CookieSecret, h.CookieSecretFile = "00ff00ff", "/srv/hub/secret"
				h.DBURL, h.DataDir = "postgresql://hub@db/hub", "/srv/hub"
				h.AllowNamedServers, h.NamedServerLimitPerUser = true, 3
				h.ActiveServerLimit, h.ConcurrentSpawnLimit = 40, 0
				h.LastActivityInterval = time.Minute
				h.ShutdownOnLogout = true
				h.APIPageDefaultLimit, h.APIPageMaxLimit = 20, 100
				overHTTP := "ignored over http: user servers and services reach the hub on " +
					"the public listener, and the internal one opens only with ssl_cert or " +
					"acme_domains"
				c.Warnings = []Warning{
					{File: "hub.toml", Pos: Position{2, 1}, Key: "JupyterHub.hub_ip", Message: overHTTP},
					{File: "hub.toml", Pos: Position{3, 1}, Key: "JupyterHub.hub_port", Message: overHTTP},
				}
			}),
		},
		{
			"services and roles",
			`[[JupyterHub.services]]
name = "idle-culler"

[[JupyterHub.services]]
name = "grader"
api_token = "tok"
display = false

[[JupyterHub.load_roles]]
name = "culler"
description = "stops idle servers"
scopes = ["list:users", "read:users:activity", "delete:servers"]
services = ["idle-culler"]

[[JupyterHub.load_roles]]
name = "teachers"
users = ["alice"]
groups = ["staff"]
`,
			want("hub.toml", func(c *Config) {
				c.JupyterHub.Services = []Service{
					{Name: "idle-culler", OAuthClientID: "service-idle-culler", Display: true},
					{Name: "grader", APIToken: "tok", OAuthClientID: "service-grader"},
				}
				c.Warnings = []Warning{{File: "hub.toml", Pos: Position{7, 1},
					Key:     "JupyterHub.services[1].display",
					Message: "ignored: the home page does not list services yet"}}
				c.JupyterHub.LoadRoles = []Role{
					{Name: "culler", Description: "stops idle servers",
						Scopes:   []string{"list:users", "read:users:activity", "delete:servers"},
						Services: []string{"idle-culler"}},
					{Name: "teachers", Users: []string{"alice"}, Groups: []string{"staff"}},
				}
			}),
		},
		{
			"services as inline tables",
			"[JupyterHub]\nservices = [{ name = \"a\", api_token = \"t\" }, { name = \"b\" }]\n",
			want("hub.toml", func(c *Config) {
				c.JupyterHub.Services = []Service{
					{Name: "a", APIToken: "t", OAuthClientID: "service-a", Display: true},
					{Name: "b", OAuthClientID: "service-b", Display: true},
				}
			}),
		},
		{
			"dotted keys outside tables",
			"JupyterHub.port = 9999\nSpawner.environment.LANG = \"C.UTF-8\"\n",
			want("hub.toml", func(c *Config) {
				c.JupyterHub.Port = 9999
				c.JupyterHub.BindURL = "http://127.0.0.1:9999/"
				c.Spawner.Environment = map[string]string{"LANG": "C.UTF-8"}
			}),
		},
		{
			"authenticator",
			`[Authenticator]
allowed_users = ["alice", "bob", "alice"]
admin_users = ["alice"]
blocked_users = ["mallory"]
allow_all = true
auto_login = true
delete_invalid_users = true
`,
			want("hub.toml", func(c *Config) {
				a := &c.Authenticator
				a.AllowedUsers = []string{"alice", "bob"}
				a.AdminUsers = []string{"alice"}
				a.BlockedUsers = []string{"mallory"}
				a.AllowAll, a.AutoLogin, a.DeleteInvalidUsers = true, true, true
				a.AllowExistingUsers = true
			}),
		},
		{
			"allow_existing_users set",
			"[Authenticator]\nallowed_users = [\"alice\"]\nallow_existing_users = false\n",
			want("hub.toml", func(c *Config) {
				c.Authenticator.AllowedUsers = []string{"alice"}
			}),
		},
		{
			"spawner",
			`[Spawner]
cmd = "jupyterhub-singleuser"
args = ["--debug"]
environment = { PATH = "/usr/bin", HOME_HINT = "x" }
env_keep = ["PATH"]
notebook_dir = "~/notebooks/{username}"
default_url = "/lab"
start_timeout = 120
http_timeout = 7.5
mem_limit = "1.5G"
cpu_limit = 0.5
ip = "0.0.0.0"
port = 8888
debug = true
`,
			want("hub.toml", func(c *Config) {
				c.Spawner = Spawner{
					Cmd:          []string{"jupyterhub-singleuser"},
					Args:         []string{"--debug"},
					Environment:  map[string]string{"PATH": "/usr/bin", "HOME_HINT": "x"},
					EnvKeep:      []string{"PATH"},
					NotebookDir:  "~/notebooks/{username}",
					DefaultURL:   "/lab",
					StartTimeout: 2 * time.Minute,
					HTTPTimeout:  7500 * time.Millisecond,
					MemLimit:     3 << 29,
					CPULimit:     0.5,
					IP:           "0.0.0.0",
					Port:         8888,
					Debug:        true,
				}
				c.Warnings = []Warning{
					{File: "hub.toml", Pos: Position{10, 1}, Key: "Spawner.mem_limit",
						Message: "not enforced: the local spawners do not limit resources"},
					{File: "hub.toml", Pos: Position{11, 1}, Key: "Spawner.cpu_limit",
						Message: "not enforced: the local spawners do not limit resources"},
				}
			}),
		},
		{
			"byte size as integer",
			"[Spawner]\nmem_limit = 0\n",
			want("hub.toml", nil),
		},
		{
			"byte size as float",
			"[Spawner]\nmem_limit = 1.5e3\n",
			want("hub.toml", func(c *Config) {
				c.Spawner.MemLimit = 1500
				c.Warnings = []Warning{{File: "hub.toml", Pos: Position{2, 1}, Key: "Spawner.mem_limit",
					Message: "not enforced: the local spawners do not limit resources"}}
			}),
		},
		{
			"subclass tables win",
			`[Spawner]
start_timeout = 10
http_timeout = 11
[SimpleLocalProcessSpawner]
start_timeout = 30
home_dir_template = "/home/jupyter/{username}"
[LocalProcessSpawner]
start_timeout = 20
http_timeout = 21
term_timeout = 2
`,
			want("hub.toml", func(c *Config) {
				c.Spawner.StartTimeout = 30 * time.Second
				c.Spawner.HTTPTimeout = 21 * time.Second
				c.LocalProcessSpawner.TermTimeout = 2 * time.Second
				c.SimpleLocalProcessSpawner.HomeDirTemplate = "/home/jupyter/{username}"
			}),
		},
		{
			"system accounts",
			`[JupyterHub]
spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
[LocalAuthenticator]
create_system_users = true
add_user_cmd = ["useradd", "-m", "-d", "/srv/USERNAME"]
[LocalProcessSpawner]
umask = "0077"
min_uid = 2000
max_uid = 2999
blocked_groups = ["sudo", "operators"]
allow_root = true
`,
			want("hub.toml", func(c *Config) {
				c.JupyterHub.SpawnerClass = SpawnerLocalProcess
				c.LocalAuthenticator.CreateSystemUsers = true
				c.LocalAuthenticator.AddUserCmd = []string{"useradd", "-m", "-d", "/srv/USERNAME"}
				c.LocalProcessSpawner.Umask = "0077"
				c.LocalProcessSpawner.MinUID = 2000
				c.LocalProcessSpawner.MaxUID = 2999
				c.LocalProcessSpawner.BlockedGroups = []string{"sudo", "operators"}
				c.LocalProcessSpawner.AllowRoot = true
			}),
		},
		{
			"no blocked groups",
			"[LocalProcessSpawner]\nblocked_groups = []\n",
			want("hub.toml", func(c *Config) {
				c.LocalProcessSpawner.BlockedGroups = []string{}
			}),
		},
		{
			"subclass table of another class",
			"[Authenticator]\nadmin_users = [\"a\"]\n[GitHubOAuthenticator]\nadmin_users = [\"b\"]\n" +
				"allowed_organizations = [\"org:team\"]\n",
			want("hub.toml", func(c *Config) {
				c.Authenticator.AdminUsers = []string{"a"}
				c.GitHubOAuthenticator.AllowedOrganizations = []string{"org:team"}
				c.Warnings = []Warning{{File: "hub.toml", Pos: Position{4, 1},
					Key: "GitHubOAuthenticator.admin_users",
					Message: "ignored: [GitHubOAuthenticator] applies only when " +
						"authenticator_class names it or a subclass"}}
			}),
		},
		{
			"github",
			`[JupyterHub]
authenticator_class = "github"
[OAuthenticator]
client_id = "base-id"
[GitHubOAuthenticator]
client_id = "gh-id"
client_secret = "gh-secret"
oauth_callback_url = "https://hub.example.org/hub/oauth_callback"
admin_users = ["octocat"]
`,
			want("hub.toml", func(c *Config) {
				c.JupyterHub.AuthenticatorClass = AuthenticatorGitHub
				c.OAuthenticator = OAuthenticator{ClientID: "gh-id", ClientSecret: "gh-secret",
					OAuthCallbackURL: "https://hub.example.org/hub/oauth_callback", EnablePKCE: true}
				c.Authenticator.AdminUsers = []string{"octocat"}
			}),
		},
		{
			"github enterprise",
			`[JupyterHub]
authenticator_class = "github"
[GitHubOAuthenticator]
client_id = "id"
client_secret = "s"
github_url = "https://ghe.example.org"
allowed_organizations = ["jupyter", "jupyter:hub-ops"]
populate_teams_in_auth_state = true
scope = ["read:org"]
enable_pkce = false
`,
			want("hub.toml", func(c *Config) {
				c.JupyterHub.AuthenticatorClass = AuthenticatorGitHub
				c.OAuthenticator = OAuthenticator{ClientID: "id", ClientSecret: "s",
					Scope: []string{"read:org"}}
				c.GitHubOAuthenticator = GitHubOAuthenticator{GitHubURL: "https://ghe.example.org",
					AllowedOrganizations:     []string{"jupyter", "jupyter:hub-ops"},
					PopulateTeamsInAuthState: true}
			}),
		},
		{
			"generic oidc",
			`[JupyterHub]
authenticator_class = "oauthenticator.generic.GenericOAuthenticator"
[GenericOAuthenticator]
client_id = "id"
client_secret = "s"
oidc_issuer = "https://sso.example.org/realms/lab"
username_claim = "preferred_username"
login_service = "Lab SSO"
scope = ["profile", "email"]
`,
			want("hub.toml", func(c *Config) {
				c.JupyterHub.AuthenticatorClass = AuthenticatorGeneric
				c.OAuthenticator = OAuthenticator{ClientID: "id", ClientSecret: "s",
					UsernameClaim: "preferred_username", LoginService: "Lab SSO",
					Scope: []string{"profile", "email"}, EnablePKCE: true}
				c.GenericOAuthenticator.OIDCIssuer = "https://sso.example.org/realms/lab"
			}),
		},
		{
			"github chain",
			`[JupyterHub]
authenticator_class = "oauthenticator.GitHubOAuthenticator"
[LocalAuthenticator]
create_system_users = true
[Authenticator]
admin_users = ["root-ish"]
[GitHubOAuthenticator]
client_id = "id"
client_secret = "s"
admin_users = ["octocat"]
[OAuthenticator]
admin_users = ["oauth-admin"]
`,
			want("hub.toml", func(c *Config) {
				c.JupyterHub.AuthenticatorClass = AuthenticatorGitHub
				c.LocalAuthenticator.CreateSystemUsers = true
				c.OAuthenticator.ClientID, c.OAuthenticator.ClientSecret = "id", "s"
				c.Authenticator.AdminUsers = []string{"octocat"}
			}),
		},
		{
			"proxy and crypt",
			`[ConfigurableHTTPProxy]
auth_token = "proxy-token"
api_url = "http://127.0.0.1:8001"
should_start = false
[CryptKeeper]
keys = ["` + hexKey + `"]
[Authenticator]
enable_auth_state = true
`,
			want("hub.toml", func(c *Config) {
				c.ConfigurableHTTPProxy.AuthToken = "proxy-token"
				c.ConfigurableHTTPProxy.ShouldStart = false
				c.CryptKeeper.Keys = []Secret{hexKey}
				c.Authenticator.EnableAuthState = true
				const ignored = "ignored: jupygo hub routes through its built-in proxy, " +
					"so configurable-http-proxy's settings have no effect"
				c.Warnings = []Warning{
					{File: "hub.toml", Pos: Position{2, 1}, Key: "ConfigurableHTTPProxy.auth_token", Message: ignored},
					{File: "hub.toml", Pos: Position{3, 1}, Key: "ConfigurableHTTPProxy.api_url", Message: ignored},
					{File: "hub.toml", Pos: Position{4, 1}, Key: "ConfigurableHTTPProxy.should_start", Message: ignored},
				}
			}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.src), "hub.toml")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, ignorePositions); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

const hexKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// TestLocalGitHubSpawner checks that local-github runs servers as system
// accounts: its spawner is localprocess unless the file names one, and the
// [LocalAuthenticator] and [LocalProcessSpawner] keys apply.
func TestLocalGitHubSpawner(t *testing.T) {
	clearEnv(t)
	const base = "[JupyterHub]\nauthenticator_class = %q\n%s" +
		"[GitHubOAuthenticator]\nclient_id = \"id\"\nclient_secret = \"s\"\n" +
		"[LocalAuthenticator]\ncreate_system_users = true\n" +
		"[LocalProcessSpawner]\numask = \"077\"\n"
	for _, tc := range []struct{ name, class, spawner string }{
		{"default spawner", "local-github", ""},
		{"alias", "oauthenticator.github.LocalGitHubOAuthenticator", ""},
		{"explicit localprocess", "oauthenticator.LocalGitHubOAuthenticator",
			"spawner_class = \"jupyterhub.spawner.LocalProcessSpawner\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(fmt.Sprintf(base, tc.class, tc.spawner)), "c.toml")
			if err != nil {
				t.Fatal(err)
			}
			if got := c.JupyterHub.AuthenticatorClass; got != AuthenticatorLocalGitHub {
				t.Errorf("authenticator_class = %q, want local-github", got)
			}
			if got := c.JupyterHub.SpawnerClass; got != SpawnerLocalProcess {
				t.Errorf("spawner_class = %q, want localprocess", got)
			}
			if !c.LocalAuthenticator.CreateSystemUsers {
				t.Error("create_system_users = false, want true")
			}
			if got := c.LocalProcessSpawner.Umask; got != "077" {
				t.Errorf("umask = %q, want 077", got)
			}
			if len(c.Warnings) != 0 {
				t.Errorf("warnings: %v", c.Warnings)
			}
		})
	}
}

func TestParseEmptyIsDefault(t *testing.T) {
	clearEnv(t)
	got, err := Parse(nil, "")
	if err != nil {
		t.Fatalf("Parse(nil): %v", err)
	}
	if diff := cmp.Diff(Default(), got, ignorePositions); diff != "" {
		t.Errorf("Parse(nil) differs from Default (-want +got):\n%s", diff)
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"bind_url", c.JupyterHub.BindURL, "http://127.0.0.1:8000/"},
		{"ip", c.JupyterHub.IP, "127.0.0.1"},
		{"authenticator", c.JupyterHub.AuthenticatorClass, AuthenticatorLocal},
		{"spawner", c.JupyterHub.SpawnerClass, SpawnerSimple},
		{"proxy", c.JupyterHub.ProxyClass, ProxyBuiltin},
		{"cmd", c.Spawner.Cmd, []string{exe, "server"}},
		{"start_timeout", c.Spawner.StartTimeout, 60 * time.Second},
		{"http_timeout", c.Spawner.HTTPTimeout, 30 * time.Second},
		{"last_activity_interval", c.JupyterHub.LastActivityInterval, 300 * time.Second},
		{"allow_existing_users", c.Authenticator.AllowExistingUsers, false},
		{"warnings", len(c.Warnings), 0},
	}
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			if diff := cmp.Diff(ch.want, ch.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("database", func(t *testing.T) {
		db, err := c.Database()
		if err != nil {
			t.Fatal(err)
		}
		wd, _ := os.Getwd()
		wantDB := Database{Driver: "sqlite", Path: filepath.Join(wd, "jupygo-data", "jupyterhub.sqlite")}
		if diff := cmp.Diff(wantDB, db); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestDefaultsMatchKeyTable(t *testing.T) {
	// Every key's documented default must be what Default holds, except the
	// keys whose default is worked out at load time.
	c := Default()
	for _, k := range Keys() {
		if k.defaultText != "" || k.Class == servicesClass || k.Class == rolesClass {
			continue
		}
		t.Run(k.ID(), func(t *testing.T) {
			if got := formatValue(k.field(c)); got != k.Default {
				t.Errorf("Default() holds %s, key table says %s", got, k.Default)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "jupygo_hub.toml")
	if err := os.WriteFile(path, []byte("[JupyterHub]\nport = 1234\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.File != path || c.JupyterHub.Port != 1234 {
		t.Errorf("Load = file %q port %d, want %q 1234", c.File, c.JupyterHub.Port, path)
	}
	if _, err := Load(filepath.Join(dir, "missing.toml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want a not-exist error", err)
	}
}

func TestClassNames(t *testing.T) {
	names := ClassNames("authenticator_class")
	for alias, canonical := range map[string]string{
		"local":                              AuthenticatorLocal,
		"dummy":                              AuthenticatorDummy,
		"jupyterhub.auth.DummyAuthenticator": AuthenticatorDummy,
		"pam":                                AuthenticatorPAM,
		"github":                             AuthenticatorGitHub,
		"oauthenticator.github.GitHubOAuthenticator": AuthenticatorGitHub,
		"generic-oauth": AuthenticatorGeneric,
		"oauthenticator.generic.GenericOAuthenticator": AuthenticatorGeneric,
		"oauthenticator.LocalGitHubOAuthenticator":     AuthenticatorLocalGitHub,
	} {
		if got := names[alias]; got != canonical {
			t.Errorf("ClassNames(authenticator_class)[%q] = %q, want %q", alias, got, canonical)
		}
	}
	if got := ClassNames("spawner_class")["simple"]; got != SpawnerSimple {
		t.Errorf("spawner_class simple = %q", got)
	}
	if got := ClassNames("port"); got != nil {
		t.Errorf("ClassNames(port) = %v, want nil", got)
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		class, name string
		wantID      string
	}{
		{"JupyterHub", "port", "JupyterHub.port"},
		{"GitHubOAuthenticator", "admin_users", "Authenticator.admin_users"},
		{"GitHubOAuthenticator", "client_secret_file", "OAuthenticator.client_secret"},
		{"SimpleLocalProcessSpawner", "cmd", "Spawner.cmd"},
		{"Spawner", "home_dir_template", ""},
		{"Authenticator", "client_id", ""},
		{"JupyterHub", "cookie_secret_file", "JupyterHub.cookie_secret_file"},
		{"Nope", "port", ""},
	}
	for _, tt := range tests {
		t.Run(tt.class+"."+tt.name, func(t *testing.T) {
			k, ok := Lookup(tt.class, tt.name)
			if got := k.ID(); ok && got != tt.wantID || !ok && tt.wantID != "" {
				t.Errorf("Lookup = %q, %v; want %q", got, ok, tt.wantID)
			}
		})
	}
}

func TestBuildFromValues(t *testing.T) {
	// A second reader hands Build the values it found, as a Python reader
	// would for c.JupyterHub.port = 9000 and a services list.
	clearEnv(t)
	values := []Value{
		{Class: "JupyterHub", Key: "port", Value: int64(9000), Pos: Position{3, 1}},
		{Class: "JupyterHub", Key: "services", Pos: Position{4, 1}, Value: []any{
			map[string]any{"name": "svc", "api_token": 5},
		}},
	}
	_, err := Build("jupyterhub_config.py", values,
		map[string]Position{"JupyterHub.services[0].api_token": {5, 9}})
	want := "jupyterhub_config.py:5:9: JupyterHub.services[0].api_token: expected a string, got an integer"
	if err == nil || err.Error() != want {
		t.Fatalf("Build error = %v, want %s", err, want)
	}
	_, err = Build("jupyterhub_config.py", []Value{{Key: "port", Value: int64(1), Pos: Position{1, 1}}}, nil)
	want = "jupyterhub_config.py:1:1: port: keys must be inside a table: put port under [JupyterHub]"
	if err == nil || err.Error() != want {
		t.Errorf("Build of a key without class: %v, want %s", err, want)
	}
	values[1].Value = []any{map[string]any{"name": "svc"}}
	c, err := Build("jupyterhub_config.py", values, nil)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if c.JupyterHub.Port != 9000 || c.JupyterHub.Services[0].Name != "svc" {
		t.Errorf("Build = port %d services %v", c.JupyterHub.Port, c.JupyterHub.Services)
	}
}

// TestIdleCullerDefaults checks the [IdleCuller] defaults and how
// cull_every follows timeout and max_age unless set.
func TestIdleCullerDefaults(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       IdleCuller
	}{
		{"off", "", IdleCuller{CullEvery: 600 * time.Second, CullAdminUsers: true}},
		{"long timeout", "[IdleCuller]\ntimeout = 3600\n",
			IdleCuller{Timeout: time.Hour, CullEvery: 600 * time.Second, CullAdminUsers: true}},
		{"short timeout", "[IdleCuller]\ntimeout = 300\n",
			IdleCuller{Timeout: 300 * time.Second, CullEvery: 150 * time.Second, CullAdminUsers: true}},
		{"short max_age", "[IdleCuller]\ntimeout = 3600\nmax_age = 200\n",
			IdleCuller{Timeout: time.Hour, MaxAge: 200 * time.Second, CullEvery: 100 * time.Second,
				CullAdminUsers: true}},
		{"cull_every set", "[IdleCuller]\ntimeout = 60\ncull_every = 45\ncull_admin_users = false\n" +
			"remove_named_servers = true\n",
			IdleCuller{Timeout: time.Minute, CullEvery: 45 * time.Second, RemoveNamedServers: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.file), "test.toml")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, c.IdleCuller); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	_, err := Parse([]byte("[IdleCuller]\ntimeout = 60\ncull_every = 0\n"), "test.toml")
	if err == nil || !strings.Contains(err.Error(), "IdleCuller.cull_every") {
		t.Errorf("cull_every = 0 with a timeout: error %v, want one naming IdleCuller.cull_every", err)
	}
}

func TestServiceOAuthDefaults(t *testing.T) {
	const token = "a-service-token-0123456789abcdef"
	for _, tc := range []struct {
		name, file            string
		clientID, redirectURI string
	}{
		{"url and token", `[JupyterHub]
base_url = "/jupyter/"
[[JupyterHub.services]]
name = "whoami"
url = "http://127.0.0.1:10101"
api_token = "` + token + `"
`, "service-whoami", "/jupyter/services/whoami/oauth_callback"},
		{"url without token", `[[JupyterHub.services]]
name = "whoami"
url = "http://127.0.0.1:10101"
`, "service-whoami", ""},
		{"token without url", `[[JupyterHub.services]]
name = "whoami"
api_token = "` + token + `"
`, "service-whoami", ""},
		{"redirect and client set", `[[JupyterHub.services]]
name = "whoami"
api_token = "` + token + `"
oauth_client_id = "service-whoami-app"
oauth_redirect_uri = "https://app.example.org/callback"
`, "service-whoami-app", "https://app.example.org/callback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.file), "test.toml")
			if err != nil {
				t.Fatal(err)
			}
			s := c.JupyterHub.Services[0]
			if s.OAuthClientID != tc.clientID {
				t.Errorf("oauth_client_id = %q, want %q", s.OAuthClientID, tc.clientID)
			}
			if s.OAuthRedirectURI != tc.redirectURI {
				t.Errorf("oauth_redirect_uri = %q, want %q", s.OAuthRedirectURI, tc.redirectURI)
			}
		})
	}
}
