package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// deploymentPy is a single-VM deployment as JupyterHub's documentation
// writes it. deploymentTOML is the same configuration in TOML, each key on
// the line of its Python assignment, so that errors and warnings match
// line for line.
const deploymentPy = `# Configuration file for jupyterhub.
import os
from os.path import join

c = get_config()  # noqa

root = "/srv/jupyterhub"
c.JupyterHub.allow_named_servers = True
c.JupyterHub.port = 443
c.JupyterHub.ssl_key = join(root, "ssl", 'hub.key')
c.JupyterHub.ssl_cert = os.path.join(root, "ssl", """hub.crt""")
c.JupyterHub.cookie_secret_file = root + "/jupyterhub_cookie_secret"
c.JupyterHub.db_url = "sqlite:///" + join(root, 'jupyterhub.sqlite')
c.JupyterHub.authenticator_class = "oauthenticator.LocalGitHubOAuthenticator"
c.GitHubOAuthenticator.oauth_callback_url = os.environ["OAUTH_CALLBACK_URL"]
c.GitHubOAuthenticator.client_id = os.environ.get("GITHUB_CLIENT_ID", "id")
c.GitHubOAuthenticator.client_secret = os.getenv("GITHUB_CLIENT_SECRET", r"s\ecret")
c.LocalAuthenticator.create_system_users = True
c.Authenticator.allowed_users = {
    'alice',
    "bob",  # a comment inside the brackets
}
c.Authenticator.admin_users = {'alice'}
`

const deploymentTOML = `# Configuration file for jupyterhub.






JupyterHub.allow_named_servers = true
JupyterHub.port = 443
JupyterHub.ssl_key = "/srv/jupyterhub/ssl/hub.key"
JupyterHub.ssl_cert = "/srv/jupyterhub/ssl/hub.crt"
JupyterHub.cookie_secret_file = "/srv/jupyterhub/jupyterhub_cookie_secret"
JupyterHub.db_url = "sqlite:////srv/jupyterhub/jupyterhub.sqlite"
JupyterHub.authenticator_class = "oauthenticator.LocalGitHubOAuthenticator"
GitHubOAuthenticator.oauth_callback_url = "https://hub.example.org/hub/oauth_callback"
GitHubOAuthenticator.client_id = "id"
GitHubOAuthenticator.client_secret = 's\ecret'
LocalAuthenticator.create_system_users = true
Authenticator.allowed_users = [
    'alice',
    "bob",
]
Authenticator.admin_users = ['alice']
`

// comparable clears what differs between two files of the same
// configuration: their names and the columns of their keys.
func comparable(c *Config) *Config {
	if c == nil {
		return nil
	}
	out := *c
	out.File = ""
	out.positions = nil
	out.Warnings = nil
	for _, w := range c.Warnings {
		w.File, w.Pos.Column = "", 0
		out.Warnings = append(out.Warnings, w)
	}
	return &out
}

// comparableErrors returns the errors of err without their file names
// and columns.
func comparableErrors(err error) []Error {
	var list ErrorList
	if !errors.As(err, &list) {
		return nil
	}
	var out []Error
	for _, e := range list {
		out = append(out, Error{Pos: Position{Line: e.Pos.Line}, Key: e.Key, Message: e.Message})
	}
	return out
}

func TestParsePythonDeployment(t *testing.T) {
	clearEnv(t)
	t.Setenv("OAUTH_CALLBACK_URL", "https://hub.example.org/hub/oauth_callback")
	// Unset, not empty, so that the defaults of os.environ.get apply.
	for _, name := range []string{"GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"} {
		if err := os.Unsetenv(name); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ name, class, tomlClass, wantClass, wantSpawner string }{
		{"local-github", "", "", AuthenticatorLocalGitHub, SpawnerLocalProcess},
		{"local-github by class object", "LocalGitHubOAuthenticator",
			`"oauthenticator.github.LocalGitHubOAuthenticator"`, AuthenticatorLocalGitHub,
			SpawnerLocalProcess},
		{"github by class object", "GitHubOAuthenticator",
			`"oauthenticator.github.GitHubOAuthenticator"`, AuthenticatorGitHub, SpawnerSimple},
	} {
		t.Run(tc.name, func(t *testing.T) {
			py, toml := deploymentPy, deploymentTOML
			if tc.class != "" {
				// The import takes the place of the first comment, so
				// that lines stay aligned.
				py = strings.Replace(py, "# Configuration file for jupyterhub.",
					"from oauthenticator.github import "+tc.class, 1)
				py = strings.Replace(py, `"oauthenticator.LocalGitHubOAuthenticator"`, tc.class, 1)
				toml = strings.Replace(toml, `"oauthenticator.LocalGitHubOAuthenticator"`, tc.tomlClass, 1)
			}
			fromPy, errPy := ParsePython([]byte(py), "jupyterhub_config.py")
			fromTOML, errTOML := Parse([]byte(toml), "jupyterhub_config.toml")
			if d := cmp.Diff(comparableErrors(errTOML), comparableErrors(errPy)); d != "" {
				t.Errorf("errors differ (-toml +python):\n%s\npython: %v", d, errPy)
			}
			if errPy != nil || errTOML != nil {
				t.Fatalf("python: %v\ntoml: %v", errPy, errTOML)
			}
			if d := cmp.Diff(comparable(fromTOML), comparable(fromPy), ignorePositions); d != "" {
				t.Errorf("configs differ (-toml +python):\n%s", d)
			}
			h, a := fromPy.JupyterHub, fromPy.Authenticator
			for _, c := range []struct{ key, got, want string }{
				{"authenticator_class", h.AuthenticatorClass, tc.wantClass},
				{"spawner_class", h.SpawnerClass, tc.wantSpawner},
				{"ssl_cert", h.SSLCert, "/srv/jupyterhub/ssl/hub.crt"},
				{"db_url", h.DBURL, "sqlite:////srv/jupyterhub/jupyterhub.sqlite"},
				{"cookie_secret_file", h.CookieSecretFile, "/srv/jupyterhub/jupyterhub_cookie_secret"},
				{"oauth_callback_url", fromPy.OAuthenticator.OAuthCallbackURL,
					"https://hub.example.org/hub/oauth_callback"},
			} {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.key, c.got, c.want)
				}
			}
			if !fromPy.LocalAuthenticator.CreateSystemUsers {
				t.Error("create_system_users = false, want true")
			}
			if !slices.Equal(a.AllowedUsers, []string{"alice", "bob"}) {
				t.Errorf("allowed_users = %q, want alice and bob", a.AllowedUsers)
			}
			if !slices.Equal(a.AdminUsers, []string{"alice"}) {
				t.Errorf("admin_users = %q, want alice", a.AdminUsers)
			}
		})
	}
}

// TestParsePythonValues checks each supported expression against the TOML
// value it means.
func TestParsePythonValues(t *testing.T) {
	clearEnv(t)
	t.Setenv("JG_TEST_DIR", "/data")
	t.Setenv("JG_TEST_EMPTY", "")
	t.Setenv("JG_TEST_UNSET", "")
	if err := os.Unsetenv("JG_TEST_UNSET"); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, py, toml string }{
		{"empty", "", ""},
		{"comments and blank lines", "# x\n\n   # indented comment\nc = get_config()\n", ""},
		{"ints and floats", "c.JupyterHub.port = 0x1F90\nc.Spawner.start_timeout = 1_20\n" +
			"c.JupyterHub.last_activity_interval = 2.5e2\n",
			"[JupyterHub]\nport = 8080\nlast_activity_interval = 250.0\n[Spawner]\nstart_timeout = 120\n"},
		{"signs", "c.JupyterHub.port = - -80\nc.Spawner.start_timeout = +1.5\n",
			"[JupyterHub]\nport = 80\n[Spawner]\nstart_timeout = 1.5\n"},
		{"string escapes", `c.Spawner.environment = {'A': "/a\tb\x41\u00e9\101\\" 'c\q'}` + "\n",
			"[Spawner]\nenvironment = { A = \"/a\\tbAéA\\\\c\\\\q\" }\n"},
		{"raw and triple strings", "c.Spawner.notebook_dir = r'~\\{username}'\n" +
			"c.Spawner.default_url = '''/lab\\\n'''\n",
			"[Spawner]\nnotebook_dir = '~\\{username}'\ndefault_url = \"/lab\"\n"},
		{"backslash continuation", "c.JupyterHub.port = \\\n  8001\n", "[JupyterHub]\nport = 8001\n"},
		{"last assignment wins", "c.JupyterHub.port = 1\nc.JupyterHub.port = 2\n",
			"[JupyterHub]\nport = 2\n"},
		{"tuple and list concatenation", "c.Spawner.args = ('--a',) + ('--b', '--c')\n",
			"[Spawner]\nargs = [\"--a\", \"--b\", \"--c\"]\n"},
		{"extend", "c.Authenticator.admin_users = ['a']\nc.Authenticator.admin_users += ['b']\n" +
			"c.Authenticator.allowed_users += {'c', 'c'}\n",
			"[Authenticator]\nadmin_users = [\"a\", \"b\"]\nallowed_users = [\"c\"]\n"},
		{"variables", "port = 80\nhost = '0.0.0.0'\nc.JupyterHub.ip = host\nc.JupyterHub.port = port\n",
			"[JupyterHub]\nip = \"0.0.0.0\"\nport = 80\n"},
		{"environment", "import os.path\n" +
			"c.JupyterHub.data_dir = os.environ.get('JG_TEST_DIR')\n" +
			"c.JupyterHub.ssl_key = os.getenv('JG_TEST_UNSET', '')\n" +
			"c.JupyterHub.cookie_secret_file = os.path.join(os.environ['JG_TEST_DIR'], 's')\n" +
			"c.JupyterHub.db_url = os.environ.get('JG_TEST_EMPTY', 'x') + 'sqlite://'\n",
			"[JupyterHub]\ndata_dir = \"/data\"\nssl_key = \"\"\ncookie_secret_file = \"/data/s\"\n" +
				"db_url = \"sqlite://\"\n"},
		{"join alias and absolute part", "import os\njoin = os.path.join\n" +
			"c.JupyterHub.data_dir = join('a', 'b/', 'c', '/abs', 'd')\n",
			"[JupyterHub]\ndata_dir = \"/abs/d\"\n"},
		{"dicts and nested lists", "c.JupyterHub.load_roles = [\n  {'name': 'r', 'scopes': ['self'],\n" +
			"   'users': ('a',)},\n]\nc.Spawner.environment = {'A': 'x', \"B\": 'y'}\n",
			"[[JupyterHub.load_roles]]\nname = \"r\"\nscopes = [\"self\"]\nusers = [\"a\"]\n" +
				"[Spawner]\nenvironment = { A = \"x\", B = \"y\" }\n"},
		{"spawner class object", "from jupyterhub.spawner import LocalProcessSpawner as LPS\n" +
			"c.JupyterHub.spawner_class = LPS\n",
			"[JupyterHub]\nspawner_class = \"localprocess\"\n"},
		{"dummy class name", "c.JupyterHub.authenticator_class = 'jupyterhub.auth.DummyAuthenticator'\n",
			"[JupyterHub]\nauthenticator_class = \"dummy\"\n"},
		{"config under another name", "config = get_config()\nconfig.JupyterHub.port = 9\n",
			"[JupyterHub]\nport = 9\n"},
		{"None keeps the default", "c.Spawner.mem_limit = None\nc.JupyterHub.port = 1\n" +
			"c.JupyterHub.port = None\n", ""},
		{"None after a value", "c.JupyterHub.ip = '0.0.0.0'\nx = None\nc.JupyterHub.ip = x\n", ""},
		{"unset variable without a default", "import os\n" +
			"c.JupyterHub.base_url = os.environ.get('JG_TEST_UNSET')\n" +
			"c.JupyterHub.ip = os.getenv('JG_TEST_UNSET')\n", ""},
		{"empty set", "c.Authenticator.admin_users = set()\nc.Authenticator.allowed_users = set()\n" +
			"c.Authenticator.blocked_users = set()\n", "[Authenticator]\nadmin_users = []\n" +
			"allowed_users = []\nblocked_users = []\n"},
		{"set of a list and of a tuple", "c.Authenticator.admin_users = set(['a', 'b', 'a'])\n" +
			"c.Authenticator.allowed_users = set(('c',))\nc.Authenticator.blocked_users = set({'d'})\n",
			"[Authenticator]\nadmin_users = [\"a\", \"b\"]\nallowed_users = [\"c\"]\n" +
				"blocked_users = [\"d\"]\n"},
		{"chained assignment of names", "x = y = '/a/'\nc.JupyterHub.base_url = x\n" +
			"c.JupyterHub.data_dir = y\n", "[JupyterHub]\nbase_url = \"/a/\"\ndata_dir = \"/a/\"\n"},
		{"docstrings", "\"\"\"Configuration\nof the hub.\"\"\"\nc.JupyterHub.port = 1\n'a' \"b\"\n",
			"[JupyterHub]\nport = 1\n"},
		{"backslash before a blank last line", "c.JupyterHub.port = 1 \\\n\n", "[JupyterHub]\nport = 1\n"},
		{"parenthesized imports", "from os.path import (\n    join,\n)\nc.JupyterHub.data_dir = join('x')\n",
			"[JupyterHub]\ndata_dir = \"x\"\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fromPy, errPy := ParsePython([]byte(tc.py), "c.py")
			fromTOML, errTOML := Parse([]byte(tc.toml), "c.toml")
			if errPy != nil || errTOML != nil {
				t.Fatalf("python: %v\ntoml: %v", errPy, errTOML)
			}
			// Warnings name lines, which differ between the two.
			fromPy.Warnings, fromTOML.Warnings = nil, nil
			if d := cmp.Diff(comparable(fromTOML), comparable(fromPy), ignorePositions); d != "" {
				t.Errorf("configs differ (-toml +python):\n%s", d)
			}
		})
	}
}

func TestParsePythonErrors(t *testing.T) {
	clearEnv(t)
	os.Unsetenv("JG_TEST_UNSET")
	tests := []struct{ name, py, want string }{
		{"unknown class", "c = get_config()\n\nc.Nope.port = 1\n",
			"c.py:3:1: Nope: unknown class Nope"},
		{"unknown trait", "c.JupyterHub.prot = 1\n", "c.py:1:1: JupyterHub.prot: unknown key"},
		{"wrong type", "c.JupyterHub.port = '80'\n",
			"c.py:1:1: JupyterHub.port: expected an integer, got a string \"80\""},
		{"bad item in a set", "c.Authenticator.admin_users = {\n  'a',\n  1,\n}\n",
			"c.py:3:3: Authenticator.admin_users[1]: expected a string, got an integer 1"},
		{"bad key in a dict", "c.JupyterHub.services = [{'name': 'a', 'nope': 1}]\n",
			"c.py:1:40: JupyterHub.services[0].nope: unknown key"},
		{"unset environment variable", "import os\nx = 1\nc.JupyterHub.ip = os.environ['JG_TEST_UNSET']\n",
			"c.py:3:29: unsupported Python: environment variable JG_TEST_UNSET is not set"},
		{"f-string", "x = 1\nc.JupyterHub.ip = f'{x}'\n",
			"c.py:2:19: unsupported Python: f-strings are not supported"},
		{"builtin call", "\nc.JupyterHub.ip = str(1)\n",
			"c.py:2:19: unsupported Python: name str is not defined"},
		{"call of a string", "x = 'a'\nc.JupyterHub.ip = x()\n",
			"c.py:2:20: unsupported Python: calling a string is not supported"},
		{"call of another function", "import os\nc.JupyterHub.ip = os.path.exists('x')\n",
			"c.py:2:27: unsupported Python: os.path.exists is not supported"},
		{"augmented assignment", "c.JupyterHub.port = 1\nc.JupyterHub.port -= 1\n",
			"c.py:2:19: unsupported Python: augmented assignment -= is not supported"},
		{"undefined name", "c.JupyterHub.ip = ip\n", "c.py:1:19: unsupported Python: name ip is not defined"},
		{"if", "import os\nif True:\n    c.JupyterHub.port = 1\n",
			"c.py:2:1: unsupported Python: \"if\" statements are not supported"},
		{"indented line", "c.JupyterHub.port = 1\n  c.JupyterHub.port = 2\n",
			"c.py:2:3: unsupported Python: unexpected indentation"},
		{"loop", "for u in ['a']:\n", "c.py:1:1: unsupported Python: \"for\" statements"},
		{"lambda", "c.Spawner.pre_spawn_hook = lambda s: None\n",
			"c.py:1:28: unsupported Python: \"lambda\" is not supported"},
		{"method call on a trait", "c.Authenticator.admin_users.add('a')\n",
			"c.py:1:17: unsupported Python: reading c.Authenticator.admin_users is not supported"},
		{"attribute of another object", "x = 'a'\nc.JupyterHub.ip = x.strip\n",
			"c.py:2:21: unsupported Python: attribute strip of a string"},
		{"other import", "import sys\n", "c.py:1:8: unsupported Python: import sys is not supported"},
		{"unknown class import", "from dockerspawner import DockerSpawner\n",
			"c.py:1:27: unsupported Python: from dockerspawner import DockerSpawner is not supported"},
		{"class for another trait", "from jupyterhub.auth import DummyAuthenticator\n" +
			"c.JupyterHub.ip = DummyAuthenticator\n",
			"c.py:2:19: unsupported Python: a class can be the value of authenticator_class"},
		{"chained assignment to a trait", "c.JupyterHub.ip = x = '1'\n",
			"c.py:1:21: unsupported Python: chained assignments are supported between plain names only"},
		{"chained assignment of a name and a trait", "x = c.JupyterHub.ip = '1'\n",
			"c.py:1:21: unsupported Python: chained assignments are supported between plain names only"},
		{"walrus", "c.JupyterHub.port = (p := 80)\n",
			"c.py:1:24: unsupported Python: the walrus operator := is not supported"},
		{"walrus on a defined name", "p = 1\nc.JupyterHub.port = (p := 80)\n",
			"c.py:2:24: unsupported Python: the walrus operator := is not supported"},
		{"string expression", "'a' + 'b'\n",
			"c.py:1:1: unsupported Python: statements other than imports and assignments"},
		{"backslash at the end of the file", "c.JupyterHub.port = 1\n\\\n",
			"c.py:3:1: unsupported Python: unexpected end of file after a backslash"},
		{"backslash ending the last line", "c.JupyterHub.port = 1 \\\n",
			"c.py:2:1: unsupported Python: unexpected end of file after a backslash"},
		{"missing OAuth client", "c.JupyterHub.authenticator_class = 'github'\n",
			"c.py:1:1: OAuthenticator.client_id: is required by authenticator_class \"github\": " +
				"set c.GitHubOAuthenticator.client_id or $GITHUB_CLIENT_ID"},
		{"missing crypt keys", "c.Authenticator.enable_auth_state = True\n",
			"c.py:1:1: Authenticator.enable_auth_state: needs encryption keys: set " +
				"$JUPYTERHUB_CRYPT_KEY (openssl rand -hex 32) or c.CryptKeeper.keys_file"},
		{"key of another class", "c.JupyterHub.admin_users = ['a']\n",
			"c.py:1:1: JupyterHub.admin_users: unknown key; admin_users is a key of c.Authenticator"},
		{"services not a list of dicts", "c.JupyterHub.services = ['a']\n",
			"c.py:1:1: JupyterHub.services: expected a list of dicts, got a list"},
		{"list for a string", "c.JupyterHub.ip = ['a']\n",
			"c.py:1:1: JupyterHub.ip: expected a string, got a list"},
		{"dict for a list", "c.Spawner.args = {}\n",
			"c.py:1:1: Spawner.args: expected a list of strings, got a dict"},
		{"None in a list", "c.Spawner.args = ['a', None]\n",
			"c.py:1:24: unsupported Python: None inside a list, tuple, set or dict is not supported"},
		{"None in a dict", "c.Spawner.environment = {'A': None}\n",
			"c.py:1:31: unsupported Python: None inside a list, tuple, set or dict is not supported"},
		{"None for an unknown trait", "c.Spawner.nope = None\n", "c.py:1:1: Spawner.nope: unknown key"},
		{"None for an unknown class", "c.Nope.port = None\n", "c.py:1:1: Nope: unknown"},
		{"extending None", "c.Spawner.args = None\nc.Spawner.args += ['a']\n",
			"c.py:2:1: unsupported Python: += extends a list, but c.Spawner.args contains None"},
		{"set of a string", "c.Authenticator.admin_users = set('ab')\n",
			"c.py:1:34: unsupported Python: set takes no argument or a list, tuple or set, got a string"},
		{"set of two arguments", "c.Authenticator.admin_users = set([], [])\n",
			"c.py:1:34: unsupported Python: set takes no argument or a list, tuple or set, " +
				"got more than one argument"},
		{"set of lists", "c.Authenticator.admin_users = set([['a']])\n",
			"c.py:1:36: unsupported Python: a set cannot contain a list"},
		{"set literal of dicts", "c.Authenticator.admin_users = {{}}\n",
			"c.py:1:32: unsupported Python: a set cannot contain a dict"},
		{"frozenset", "c.Authenticator.admin_users = frozenset()\n",
			"c.py:1:31: unsupported Python: name frozenset is not defined"},
		{"extend a non-empty default", "c.Spawner.cmd += ['x']\n",
			"c.py:1:1: unsupported Python: += is supported only on a list trait"},
		{"other operator", "c.JupyterHub.port = 80 * 2\n",
			"c.py:1:24: unsupported Python: operator * is not supported"},
		{"comprehension", "c.Authenticator.admin_users = [u for u in 'ab']\n",
			"c.py:1:34: unsupported Python: comprehensions are not supported"},
		{"unterminated string", "c.JupyterHub.ip = 'abc\n", "c.py:1:19: unsupported Python: unterminated string"},
		{"unclosed bracket", "c.Authenticator.admin_users = [\n'a',\n",
			"c.py:3:1: unsupported Python: unexpected end of file"},
		{"leading zero", "c.JupyterHub.port = 0800\n", "c.py:1:21: unsupported Python: invalid number"},
		{"huge integer", "c.JupyterHub.port = 99999999999999999999\n",
			"c.py:1:21: unsupported Python: integer 99999999999999999999 is out of range"},
		{"plain expression", "c.JupyterHub\n",
			"c.py:1:1: unsupported Python: statements other than imports and assignments"},
		{"assignment to another target", "x = {}\nx['a'] = 1\n",
			"c.py:2:1: unsupported Python: only c.Class.trait and plain names"},
		{"adding a string and a number", "c.JupyterHub.ip = 'a' + 1\n",
			"c.py:1:23: unsupported Python: cannot add a string and an integer"},
		{"keyword argument", "import os\nc.JupyterHub.ip = os.getenv(key='X')\n",
			"c.py:2:29: unsupported Python: keyword arguments are not supported"},
		{"semicolon", "c.JupyterHub.port = 1; c.JupyterHub.ip = ''\n",
			"c.py:1:22: unsupported Python: semicolons are not supported"},
		{"dict with a number key", "c.Spawner.environment = {1: 'a'}\n",
			"c.py:1:26: unsupported Python: dict keys must be strings"},
		{"bytes", "c.JupyterHub.ip = b'x'\n", "c.py:1:19: unsupported Python: bytes literals"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePython([]byte(tc.py), "c.py")
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is not an ErrorList: %v", err)
			}
			if !strings.HasPrefix(list[0].Error(), tc.want) {
				t.Errorf("got  %v\nwant %s...", err, tc.want)
			}
		})
	}
}

func TestLoadPython(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	py := filepath.Join(dir, "jupyterhub_config.py")
	if err := os.WriteFile(py, []byte("c = get_config()\nc.JupyterHub.port = 8123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(py)
	if err != nil {
		t.Fatal(err)
	}
	if c.JupyterHub.Port != 8123 || c.File != py {
		t.Errorf("port %d, file %q", c.JupyterHub.Port, c.File)
	}
	// The same text is not TOML, so the extension decides.
	toml := filepath.Join(dir, "jupyterhub_config.toml")
	if err := os.WriteFile(toml, []byte("c = get_config()\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(toml); err == nil || !strings.Contains(err.Error(), "invalid TOML") {
		t.Errorf("Load(%s) = %v, want a TOML error", toml, err)
	}
}

// TestParsePythonProxyKeys checks that every configurable trait of
// JupyterHub's ConfigurableHTTPProxy (3.0 to 5.5) loads with a warning,
// as a file that ran JupyterHub with its own proxy sets them.
func TestParsePythonProxyKeys(t *testing.T) {
	clearEnv(t)
	src := `c.ConfigurableHTTPProxy.command = ['/usr/local/bin/jupygo', 'proxy']
c.ConfigurableHTTPProxy.debug = True
c.ConfigurableHTTPProxy.log_level = 'warn'
c.ConfigurableHTTPProxy.pid_file = '/run/jupyterhub-proxy.pid'
c.ConfigurableHTTPProxy.extra_routes = {'/grafana/': 'http://127.0.0.1:3000'}
c.ConfigurableHTTPProxy.concurrency = 20
c.ConfigurableHTTPProxy.check_running_interval = 10
c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:8001'
c.ConfigurableHTTPProxy.auth_token = 'token'
c.ConfigurableHTTPProxy.should_start = False
`
	c, err := ParsePython([]byte(src), "c.py")
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"command", "debug", "log_level", "pid_file", "extra_routes", "concurrency",
		"check_running_interval", "api_url", "auth_token", "should_start"}
	var got, want []string
	for _, w := range c.Warnings {
		got = append(got, fmt.Sprintf("%d %s", w.Pos.Line, w.Key))
		if !strings.Contains(w.Message, "ignored") {
			t.Errorf("warning %v does not say the key is ignored", w)
		}
	}
	for i, k := range keys {
		want = append(want, fmt.Sprintf("%d ConfigurableHTTPProxy.%s", i+1, k))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
	if c.JupyterHub.ProxyClass != ProxyBuiltin {
		t.Errorf("proxy_class = %q, want %q", c.JupyterHub.ProxyClass, ProxyBuiltin)
	}

	_, err = ParsePython([]byte("c.ConfigurableHTTPProxy.debug = 'yes'\n"), "c.py")
	if err == nil || !strings.Contains(err.Error(), "ConfigurableHTTPProxy.debug: expected true or false") {
		t.Errorf("a string for debug gives %v, want a type error", err)
	}
}

// TestClassSpellings checks every spelling of each class in the mapping
// of docs/migrate.md, as a string in Python and TOML and as an import in
// Python, against the canonical name it must load as. Unsupported classes
// must be recognized and rejected as such.
func TestClassSpellings(t *testing.T) {
	clearEnv(t)
	type spelling struct {
		key, canonical string
		// names are the strings the key accepts, and imports the modules
		// from which the class can be imported, under class.
		names   []string
		imports []string
		class   string
	}
	oauth := []string{"oauthenticator", "oauthenticator.github"}
	classes := []spelling{
		{"authenticator_class", AuthenticatorDummy, []string{"dummy", "jupyterhub.auth.DummyAuthenticator"},
			[]string{"jupyterhub.auth"}, "DummyAuthenticator"},
		{"authenticator_class", AuthenticatorGitHub, []string{"github", "oauthenticator.GitHubOAuthenticator",
			"oauthenticator.github.GitHubOAuthenticator"}, oauth, "GitHubOAuthenticator"},
		{"authenticator_class", AuthenticatorLocalGitHub, []string{"local-github",
			"oauthenticator.LocalGitHubOAuthenticator", "oauthenticator.github.LocalGitHubOAuthenticator"},
			oauth, "LocalGitHubOAuthenticator"},
		{"authenticator_class", AuthenticatorGeneric, []string{"generic-oauth",
			"oauthenticator.generic.GenericOAuthenticator"}, []string{"oauthenticator.generic"},
			"GenericOAuthenticator"},
		{"authenticator_class", AuthenticatorLocal, []string{"local", "native",
			"nativeauthenticator.NativeAuthenticator",
			"nativeauthenticator.nativeauthenticator.NativeAuthenticator"},
			[]string{"nativeauthenticator", "nativeauthenticator.nativeauthenticator"}, "NativeAuthenticator"},
		{"authenticator_class", AuthenticatorPAM, []string{"pam", "jupyterhub.auth.PAMAuthenticator"},
			[]string{"jupyterhub.auth"}, "PAMAuthenticator"},
		{"spawner_class", SpawnerLocalProcess, []string{"localprocess",
			"jupyterhub.spawner.LocalProcessSpawner"}, []string{"jupyterhub.spawner"}, "LocalProcessSpawner"},
		{"spawner_class", SpawnerSimple, []string{"simple", "jupyterhub.spawner.SimpleLocalProcessSpawner"},
			[]string{"jupyterhub.spawner"}, "SimpleLocalProcessSpawner"},
		{"proxy_class", ProxyBuiltin, []string{"builtin", "jupygo"}, nil, ""},
		{"proxy_class", ProxyCHP, []string{"configurable-http-proxy",
			"jupyterhub.proxy.ConfigurableHTTPProxy"}, []string{"jupyterhub.proxy"}, "ConfigurableHTTPProxy"},
	}
	// The OAuth settings that generic-oauth and the GitHub classes require.
	const prelude = "c.OAuthenticator.client_id = 'id'\nc.OAuthenticator.client_secret = 's'\n" +
		"c.OAuthenticator.authorize_url = 'https://127.0.0.1/a'\n" +
		"c.OAuthenticator.token_url = 'https://127.0.0.1/t'\n" +
		"c.OAuthenticator.userdata_url = 'https://127.0.0.1/u'\n"
	for _, sp := range classes {
		files := map[string]string{}
		for _, name := range sp.names {
			files["string "+name] = "c.JupyterHub." + sp.key + " = '" + name + "'\n"
			files["toml "+name] = "[JupyterHub]\n" + sp.key + " = \"" + name + "\"\n"
		}
		for _, module := range sp.imports {
			files["from "+module] = "from " + module + " import " + sp.class + "\n" +
				"c.JupyterHub." + sp.key + " = " + sp.class + "\n"
			files["from "+module+" as"] = "from " + module + " import " + sp.class + " as X\n" +
				"c.JupyterHub." + sp.key + " = X\n"
		}
		for name, src := range files {
			t.Run(sp.canonical+"/"+name, func(t *testing.T) {
				var c *Config
				var err error
				if strings.HasPrefix(name, "toml ") {
					c, err = Parse([]byte(strings.ReplaceAll(strings.ReplaceAll(prelude, "c.", ""),
						"'", "\"")+src), "c.toml")
				} else {
					c, err = ParsePython([]byte(prelude+src), "c.py")
				}
				if !isSupported(sp.canonical) {
					if err == nil || !strings.Contains(err.Error(), "is not supported yet") {
						t.Fatalf("got %v, want an error saying the class is not supported yet", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]string{"authenticator_class": c.JupyterHub.AuthenticatorClass,
					"spawner_class": c.JupyterHub.SpawnerClass, "proxy_class": c.JupyterHub.ProxyClass}[sp.key]
				if got != sp.canonical {
					t.Errorf("%s = %q, want %q", sp.key, got, sp.canonical)
				}
			})
		}
	}
}

// TestClassNotExported checks that a class named under a package that does
// not export it gets the spelling that works.
func TestClassNotExported(t *testing.T) {
	clearEnv(t)
	for _, src := range []string{
		"c.JupyterHub.authenticator_class = 'oauthenticator.GenericOAuthenticator'\n",
		"from oauthenticator import GenericOAuthenticator\n",
	} {
		_, err := ParsePython([]byte(src), "c.py")
		want := "oauthenticator does not export GenericOAuthenticator at its top level, so " +
			"JupyterHub cannot import oauthenticator.GenericOAuthenticator either: use " +
			"oauthenticator.generic.GenericOAuthenticator or generic-oauth"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q gives %v, want %q", src, err, want)
		}
	}
}
