package config

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics and that it returns either a
// Config or an ErrorList of errors with messages.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		"[JupyterHub]\nport = 8000\nbind_url = \"http://:8000/x\"\n",
		"[[JupyterHub.services]]\nname = \"a\"\napi_token = \"t\"\n[[JupyterHub.services]]\nname = \"a\"\n",
		"[JupyterHub]\nservices = [{ name = \"a\", environment = { A = 1 } }]\n",
		"[Authenticator]\nallowed_users = [\"a\", 1]\nwhitelist = []\n[Nope]\n",
		"[Spawner]\ncmd = \"x\"\nmem_limit = \"1.5G\"\nnotebook_dir = \"~/{username}\"\n",
		"[GitHubOAuthenticator]\nclient_secret_file = \"/nonexistent\"\nadmin_users = [\"x\"]\n",
		"[JupyterHub]\nauthenticator_class = \"github\"\ndb_url = \"sqlite://\"\n",
		"[CryptKeeper]\nkeys = [\"00\"]\n[Authenticator]\nenable_auth_state = true\n",
		"[[JupyterHub.load_roles]]\nname = \"r\"\nscopes = [\"x\"]\n",
		"port = 1\n[JupyterHub.services]\nname = 1\n",
		"[JupyterHub]\nlast_activity_interval = 1e300\nport = -1\n",
		"[JupyterHub\n",
		"[Spawner]\nargs = " + strings.Repeat("[", 150) + strings.Repeat("]", 150) + "\n",
		"[Spawner]\n" + strings.Repeat("a.", 150) + "b = '[#'\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.toml")
		checkParseResult(t, c, err)
	})
}

// checkParseResult fails t unless exactly one of c and err is set and err
// is a non-empty ErrorList of errors with messages.
func checkParseResult(t *testing.T, c *Config, err error) ErrorList {
	t.Helper()
	if err == nil {
		if c == nil {
			t.Fatal("neither a Config nor an error")
		}
		return nil
	}
	var list ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("error is not a non-empty ErrorList: %v", err)
	}
	for _, e := range list {
		if e.Message == "" {
			t.Fatalf("error without a message: %+v", e)
		}
	}
	return list
}

// FuzzParsePython checks that ParsePython never panics and that it
// returns either a Config or an ErrorList of errors with messages and,
// for the Python subset's own errors, a line.
func FuzzParsePython(f *testing.F) {
	seeds := []string{
		"",
		deploymentPy,
		"c = get_config()  # noqa\nc.JupyterHub.port = 0x1F90\n",
		"import os\nfrom os.path import join as j\nc.JupyterHub.data_dir = j(os.environ.get('HOME', '/'), 'x')\n",
		"c.Authenticator.admin_users = {'a', \"b\", '''c''', r'\\d'}\nc.Authenticator.admin_users += ['e']\n",
		"c.JupyterHub.services = [{'name': 'a', 'api_token': 't', 'display': False}, ('x',)]\n",
		"from oauthenticator.github import GitHubOAuthenticator\nc.JupyterHub.authenticator_class = GitHubOAuthenticator\n",
		"x = (1,\n 2.5e3, -3, None, True)\nc.Spawner.args = x + (\\\n'y',)\n",
		"if x:\n  pass\n",
		"c.JupyterHub.ip = f'{x}' + \"\\N{DASH}\\x4\"\n",
		"c.Spawner.environment = {'A': 1, 2: 3}\n[\n",
		"c.JupyterHub.ip = 'a\nb'\n",
		"c.Spawner.args = " + strings.Repeat("[", 150) + strings.Repeat("]", 150) + "\n",
		"c.JupyterHub.port = " + strings.Repeat("-(", 150) + "1" + strings.Repeat(")", 150) + "\n",
		"c.Authenticator.admin_users = set()\nc.Spawner.mem_limit = None\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParsePython(data, "fuzz.py")
		for _, e := range checkParseResult(t, c, err) {
			if e.Key == "" && !e.Pos.IsValid() {
				t.Fatalf("error without a line: %+v", e)
			}
		}
	})
}
