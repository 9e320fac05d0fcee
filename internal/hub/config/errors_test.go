package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// problem is the part of an Error that a test checks: position, key and a
// piece of the message.
type problem struct {
	Pos  string
	Key  string
	Text string
}

// problems parses src and returns its errors, with Text set to the part of
// each message that want expects, so cmp shows the whole message on a
// mismatch.
func problems(t *testing.T, src string, want []problem) []problem {
	t.Helper()
	_, err := Parse([]byte(src), "hub.toml")
	if err == nil {
		t.Fatal("Parse succeeded, want errors")
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Parse error %T is not an ErrorList: %v", err, err)
	}
	var got []problem
	for i, e := range list {
		if e.File != "hub.toml" {
			t.Errorf("error %d has File %q, want hub.toml", i, e.File)
		}
		text := e.Message
		if i < len(want) && strings.Contains(e.Message, want[i].Text) {
			text = want[i].Text
		}
		got = append(got, problem{Pos: e.Pos.String(), Key: e.Key, Text: text})
	}
	return got
}

func TestParseErrors(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name string
		src  string
		want []problem
	}{
		{"syntax", "[JupyterHub]\nport = = 1\n",
			[]problem{{"2:8", "", "invalid TOML"}}},
		{"unclosed table", "[JupyterHub\nport = 1\n",
			[]problem{{"1:12", "", "invalid TOML"}}},
		{"unknown table", "[JupyterHub]\nport = 1\n\n[Spawnr]\ncmd = \"x\"\n",
			[]problem{{"4:1", "Spawnr", "unknown table [Spawnr]; did you mean Spawner?"}}},
		{"empty unknown table", "[Nothing]\n",
			[]problem{{"1:1", "Nothing", "unknown table [Nothing]"}}},
		{"unknown key", "[Authenticator]\nallowed_user = [\"a\"]\n",
			[]problem{{"2:1", "Authenticator.allowed_user", "did you mean allowed_users?"}}},
		{"renamed key", "[Authenticator]\n  whitelist = [\"a\"]\n",
			[]problem{{"2:3", "Authenticator.whitelist", "renamed it to allowed_users"}}},
		{"key of another class", "[Spawner]\nadmin_users = [\"a\"]\n",
			[]problem{{"2:1", "Spawner.admin_users", "admin_users is a key of [Authenticator]"}}},
		{"key outside tables", "port = 8000\n",
			[]problem{{"1:1", "port", "put port under [JupyterHub]"}}},
		{"python line", "c.JupyterHub.port = 8000\n",
			[]problem{{"1:1", "c.JupyterHub.port", "this file is TOML, not Python: write " +
				"c.JupyterHub.port as [JupyterHub] then port = 8000"}}},
		{"python lines", "c.Spawner.default_url = '/lab'\nc.Spawner.cmd = ['jupyter-labhub']\n" +
			"c.JupyterHub.cookie_secret = 'abc'\n",
			[]problem{
				{"1:1", "c.Spawner.default_url", `write c.Spawner.default_url as [Spawner] ` +
					`then default_url = "/lab"`},
				{"2:1", "c.Spawner.cmd", "as [Spawner] then cmd = ..."},
				{"3:1", "c.JupyterHub.cookie_secret", "as [JupyterHub] then cookie_secret = ..."},
			}},
		{"python table", "[c.JupyterHub]\nport = 8000\n",
			[]problem{{"2:1", "c.JupyterHub.port", "as [JupyterHub] then port = 8000"}}},
		{"python key without class", "c.port = 8000\n",
			[]problem{{"1:1", "c.port", "this file is TOML, not Python: put port under its " +
				"class table, such as [JupyterHub]"}}},
		{"array of tables outside a class", "[[services]]\nname = \"x\"\n",
			[]problem{{"1:1", "services", "unknown table [[services]]"}}},
		{"wrong type", "[JupyterHub]\nport = \"8000\"\n",
			[]problem{{"2:1", "JupyterHub.port", `expected an integer, got a string "8000"`}}},
		{"float for integer", "[JupyterHub]\nport = 80.0\n",
			[]problem{{"2:1", "JupyterHub.port", "expected an integer, got a float 80"}}},
		{"date", "[JupyterHub]\nport = 1979-05-27\n",
			[]problem{{"2:1", "JupyterHub.port", "got a date or time"}}},
		{"wrong element type", "[Authenticator]\nadmin_users = [\"a\",\n  7]\n",
			[]problem{{"3:3", "Authenticator.admin_users[1]", "expected a string, got an integer 7"}}},
		{"invalid allowed user", "[Authenticator]\nallowed_users = [\"alice\", \"a/b\"]\n",
			[]problem{{"2:27", "Authenticator.allowed_users[1]", `invalid user name "a/b": it contains '/'`}}},
		{"invalid admin user", "[LocalAuthenticator]\nadmin_users = [\" bob\"]\n",
			[]problem{{"2:16", "LocalAuthenticator.admin_users[0]", "starts or ends with whitespace"}}},
		{"allowed user with a tab", "[Authenticator]\nallowed_users = [\"bo\\tb\"]\n",
			[]problem{{"2:18", "Authenticator.allowed_users[0]", "control character U+0009"}}},
		{"admin user with a bidi override", "[Authenticator]\nadmin_users = [\"bob\u202eexe\"]\n",
			[]problem{{"2:16", "Authenticator.admin_users[0]", "bidirectional formatting character U+202E"}}},
		{"role user with a newline", "[[JupyterHub.load_roles]]\nname = \"r\"\nusers = [\"bo\\nb\"]\n",
			[]problem{{"3:10", "JupyterHub.load_roles[0].users[0]", "control character U+000A"}}},
		{"invalid blocked user", "[Authenticator]\nblocked_users = [\"..\"]\n",
			[]problem{{"2:18", "Authenticator.blocked_users[0]", "cannot name a folder"}}},
		{"wrong table value", "[Spawner.environment]\nA = \"x\"\nB = 2\n",
			[]problem{{"3:1", "Spawner.environment.B", "expected a string, got an integer 2"}}},
		{"services not an array", "[JupyterHub.services]\nname = \"x\"\n",
			[]problem{{"1:1", "JupyterHub.services", "expected an array of tables, written [[JupyterHub.services]]"}}},
		{"second service", `[[JupyterHub.services]]
name = "a"
api_token = "t"
[[JupyterHub.services]]
name = "b"
api_token = 7
`, []problem{{"6:1", "JupyterHub.services[1].api_token", "expected a string, got an integer"}}},
		{"secret value not quoted", "[ConfigurableHTTPProxy]\nauth_token = 12345\n",
			[]problem{{"2:1", "ConfigurableHTTPProxy.auth_token", "expected a string, got an integer"}}},
		{"service unknown key", "[[JupyterHub.services]]\nname = \"a\"\nadmin = true\n",
			[]problem{{"3:1", "JupyterHub.services[0].admin", "deprecated it: list the service under services of the role named \"admin\""}}},
		{"inline service unknown key", "[JupyterHub]\nservices = [{name = \"a\"}, {name = \"b\", urll = \"x\"}]\n",
			[]problem{{"2:40", "JupyterHub.services[1].urll", "did you mean url?"}}},
		{"unknown class name", "[JupyterHub]\nauthenticator_class = \"ldapauthenticator.LDAPAuthenticator\"\n",
			[]problem{{"2:1", "JupyterHub.authenticator_class", "unknown class \"ldapauthenticator.LDAPAuthenticator\""}}},
		{"unknown spawner", "[JupyterHub]\n\nspawner_class = \"docker\"\n",
			[]problem{{"3:1", "JupyterHub.spawner_class", `unknown class "docker"; use simple or ` +
				"localprocess, or an alias: jupyterhub.spawner.SimpleLocalProcessSpawner or " +
				"jupyterhub.spawner.LocalProcessSpawner"}}},
		{"pam", "[JupyterHub]\nport = 8000\nauthenticator_class = \"pam\"\n",
			[]problem{{"3:1", "JupyterHub.authenticator_class", `class "pam" is not supported ` +
				"yet; use local, dummy, github, local-github or generic-oauth, or an alias: native,"}}},
		{"local-github with the simple spawner", "[JupyterHub]\nauthenticator_class = " +
			"\"oauthenticator.LocalGitHubOAuthenticator\"\nspawner_class = \"simple\"\n" +
			"[GitHubOAuthenticator]\nclient_id = \"id\"\nclient_secret = \"s\"\n",
			[]problem{{"3:1", "JupyterHub.spawner_class", "simple runs every server as the hub's " +
				"own account, so authenticator_class \"local-github\" would create and use no " +
				"system account: remove spawner_class, which is then localprocess, set it to " +
				"localprocess, or use authenticator_class \"github\""}}},
		{"configurable-http-proxy", "[JupyterHub]\nproxy_class = \"configurable-http-proxy\"\n",
			[]problem{{"2:1", "JupyterHub.proxy_class", "not supported yet; use builtin, or an " +
				"alias: jupygo"}}},
		{"port range", "[JupyterHub]\nport = 70000\n",
			[]problem{{"2:1", "JupyterHub.port", "port 70000 is out of range"}}},
		{"negative seconds", "[Spawner]\nstart_timeout = -1\n",
			[]problem{{"2:1", "Spawner.start_timeout",
				"-1 seconds is out of range: use 0 to 86400 seconds (1 day)"}}},
		{"timeout over a day", "[LocalProcessSpawner]\nkill_timeout = 86401\n",
			[]problem{{"2:1", "LocalProcessSpawner.kill_timeout",
				"86401 seconds is out of range: use 0 to 86400 seconds (1 day)"}}},
		{"nan seconds", "[JupyterHub]\nlast_activity_interval = nan\n",
			[]problem{{"2:1", "JupyterHub.last_activity_interval",
				"expected a number of seconds, got a float NaN"}}},
		{"hsts over two years", "[JupyterHub]\nhsts_max_age = 63072001\n",
			[]problem{{"2:1", "JupyterHub.hsts_max_age",
				"use 0 to 63072000 seconds (730 days)"}}},
		{"zero timeout", "[Spawner]\nhttp_timeout = 0\n",
			[]problem{{"2:1", "Spawner.http_timeout", "must be more than 0 seconds"}}},
		{"seconds as string", "[JupyterHub]\nlast_activity_interval = \"5m\"\n",
			[]problem{{"2:1", "JupyterHub.last_activity_interval", "expected a number of seconds"}}},
		{"page limits", "[JupyterHub]\napi_page_default_limit = 500\n",
			[]problem{{"2:1", "JupyterHub.api_page_default_limit", "larger than api_page_max_limit (200)"}}},
		{"negative limit", "[JupyterHub]\nactive_server_limit = -1\n",
			[]problem{{"2:1", "JupyterHub.active_server_limit", "the minimum is 0"}}},
		{"cert without key", "[JupyterHub]\nssl_cert = \"c.pem\"\n",
			[]problem{{"2:1", "JupyterHub.ssl_cert", "ssl_key is missing"}}},
		{"acme and cert", "[JupyterHub]\nssl_cert = \"c.pem\"\nssl_key = \"k.pem\"\n" +
			"acme_domains = [\"hub.example.org\"]\n",
			[]problem{{"4:1", "JupyterHub.acme_domains", "not both"}}},
		{"acme domain with one label", "[JupyterHub]\nacme_domains = [\"hub.example.org\", \"localhost\"]\n",
			[]problem{{"2:1", "JupyterHub.acme_domains[1]", "invalid domain \"localhost\""}}},
		{"acme domain with port", "[JupyterHub]\nacme_domains = [\"hub.example.org:443\"]\n",
			[]problem{{"2:1", "JupyterHub.acme_domains[0]", "invalid domain"}}},
		{"acme wildcard", "[JupyterHub]\nacme_domains = [\"*.example.org\"]\n",
			[]problem{{"2:1", "JupyterHub.acme_domains[0]", "invalid domain"}}},
		{"acme IP address", "[JupyterHub]\nacme_domains = [\"192.0.2.1\"]\n",
			[]problem{{"2:1", "JupyterHub.acme_domains[0]", "invalid domain"}}},
		{"acme directory over http", "[JupyterHub]\nacme_domains = [\"hub.example.org\"]\n" +
			"acme_directory_url = \"http://ca.example.org/dir\"\n",
			[]problem{{"3:1", "JupyterHub.acme_directory_url", "invalid URL"}}},
		{"acme email with spaces", "[JupyterHub]\nacme_domains = [\"hub.example.org\"]\n" +
			"acme_email = \"not an email\"\n",
			[]problem{{"3:1", "JupyterHub.acme_email", "invalid email address"}}},
		{"acme email with a name", "[JupyterHub]\nacme_domains = [\"hub.example.org\"]\n" +
			"acme_email = \"Ops <ops@example.org>\"\n",
			[]problem{{"3:1", "JupyterHub.acme_email", "invalid email address"}}},
		{"acme email without a domain", "[JupyterHub]\nacme_domains = [\"hub.example.org\"]\n" +
			"acme_email = \"ops@localhost\"\n",
			[]problem{{"3:1", "JupyterHub.acme_email", "invalid email address"}}},
		{"redirect without https", "[JupyterHub]\nhttp_redirect_port = 80\n",
			[]problem{{"2:1", "JupyterHub.http_redirect_port", "needs HTTPS"}}},
		{"redirect on the https port", "[JupyterHub]\nacme_domains = [\"hub.example.org\"]\n" +
			"port = 443\nhttp_redirect_port = 443\n",
			[]problem{{"4:1", "JupyterHub.http_redirect_port", "also the port of the HTTPS listener"}}},
		{"redirect port range", "[JupyterHub]\nacme_domains = [\"hub.example.org\"]\n" +
			"http_redirect_port = 65536\n",
			[]problem{{"3:1", "JupyterHub.http_redirect_port", "out of range"}}},
		{"negative hsts", "[JupyterHub]\nhsts_max_age = -1\n",
			[]problem{{"2:1", "JupyterHub.hsts_max_age", "out of range"}}},
		{"bad bind_url", "[JupyterHub]\nbind_url = \"127.0.0.1:8000\"\n",
			[]problem{{"2:1", "JupyterHub.bind_url", "invalid URL"}}},
		{"bind_url with query", "[JupyterHub]\nbind_url = \"http://:8000/?x=1\"\n",
			[]problem{{"2:1", "JupyterHub.bind_url", "invalid URL"}}},
		{"bad base_url", "[JupyterHub]\nbase_url = \"/a/../b\"\n",
			[]problem{{"2:1", "JupyterHub.base_url", "invalid base URL"}}},
		{"unsupported database", "[JupyterHub]\ndb_url = \"mysql://hub@db/hub\"\n",
			[]problem{{"2:1", "JupyterHub.db_url", "database \"mysql\" is not supported"}}},
		{"cookie secret not hex", "[JupyterHub]\ncookie_secret = \"not-hex\"\n",
			[]problem{{"2:1", "JupyterHub.cookie_secret", "must be hex-encoded"}}},
		{"template field", "[Spawner]\nnotebook_dir = \"/home/{user}\"\n",
			[]problem{{"2:1", "Spawner.notebook_dir", "uses {user}; the fields are {base_url} or {username}"}}},
		{"template brace", "[SimpleLocalProcessSpawner]\nhome_dir_template = \"/h/{username\"\n",
			[]problem{{"2:1", "SimpleLocalProcessSpawner.home_dir_template", "unmatched {"}}},
		{"empty command", "[Spawner]\ncmd = []\n",
			[]problem{{"2:1", "Spawner.cmd", "must name a program"}}},
		{"bad byte size", "[Spawner]\nmem_limit = \"2GB\"\n",
			[]problem{{"2:1", "Spawner.mem_limit", `invalid byte size "2GB"`}}},
		{"negative byte size", "[Spawner]\nmem_limit = \"-1G\"\n",
			[]problem{{"2:1", "Spawner.mem_limit", "not negative"}}},
		{"service names", `[[JupyterHub.services]]
name = "a"
[[JupyterHub.services]]
name = "a"
[[JupyterHub.services]]
api_token = "t"
[[JupyterHub.services]]
name = "b/c"
oauth_client_id = "client"
url = "localhost:1"
`, []problem{
			{"4:1", "JupyterHub.services[1].name", `service "a" is defined twice`},
			{"5:1", "JupyterHub.services[2].name", "name is required"},
			{"8:1", "JupyterHub.services[3].name", `invalid name "b/c"`},
			{"9:1", "JupyterHub.services[3].oauth_client_id", `must start with "service-"`},
			{"10:1", "JupyterHub.services[3].url", "invalid URL"},
		}},
		{"unsupported service keys", `[[JupyterHub.services]]
name = "culler"
command = ["jupyterhub-idle-culler"]
environment = { A = "1" }
cwd = "/tmp"
user = "nobody"
url = "http://127.0.0.1:10101"
oauth_client_id = "service-culler-app"
oauth_redirect_uri = "https://app.example/callback"
oauth_no_confirm = true
oauth_client_allowed_scopes = ["read:users"]
`, []problem{
			{"3:1", "JupyterHub.services[0].command", "not supported yet: the hub does not start services"},
			{"4:1", "JupyterHub.services[0].environment", "not supported yet: the hub does not start services"},
			{"5:1", "JupyterHub.services[0].cwd", "not supported yet: the hub does not start services"},
			{"6:1", "JupyterHub.services[0].user", "not supported yet: the hub does not start services"},
			{"9:1", "JupyterHub.services[0].oauth_redirect_uri", "no api_token"},
		}},
		{"service OAuth without a token",
			"[JupyterHub]\nservices = [{ name = \"inline\", oauth_redirect_uri = \"/cb\" }]\n",
			[]problem{{"2:32", "JupyterHub.services[0].oauth_redirect_uri", "no api_token"}}},
		{"role names", "[[JupyterHub.load_roles]]\nscopes = [\"read:users\"]\n",
			[]problem{{"1:1", "JupyterHub.load_roles[0].name", "name is required"}}},
		{"generic without endpoints", "[JupyterHub]\nauthenticator_class = \"generic-oauth\"\n" +
			"[GenericOAuthenticator]\nclient_id = \"i\"\nclient_secret = \"s\"\n" +
			"token_url = \"https://p/token\"\n",
			[]problem{
				{"2:1", "OAuthenticator.authorize_url", "oidc_issuer"},
				{"2:1", "OAuthenticator.userdata_url", "oidc_issuer"},
			}},
		{"generic without credentials", "[JupyterHub]\nauthenticator_class = \"generic-oauth\"\n" +
			"[GenericOAuthenticator]\noidc_issuer = \"https://sso.example.org\"\n",
			[]problem{
				{"2:1", "OAuthenticator.client_id", "OAUTH_CLIENT_ID"},
				{"2:1", "OAuthenticator.client_secret", "OAUTH_CLIENT_SECRET"},
			}},
		{"github without credentials", "[JupyterHub]\nauthenticator_class = \"github\"\n",
			[]problem{
				{"2:1", "OAuthenticator.client_id", "GITHUB_CLIENT_ID"},
				{"2:1", "OAuthenticator.client_secret", "GITHUB_CLIENT_SECRET"},
			}},
		{"auth state without keys", "[Authenticator]\nenable_auth_state = true\n",
			[]problem{{"2:1", "Authenticator.enable_auth_state", "needs encryption keys"}}},
		{"bad crypt key", "[CryptKeeper]\nkeys = [\"short\"]\n",
			[]problem{{"2:1", "CryptKeeper.keys[0]", "invalid key"}}},
		{"secret and file", "[ConfigurableHTTPProxy]\nauth_token = \"a\"\nauth_token_file = \"/x\"\n",
			[]problem{
				{"3:1", "ConfigurableHTTPProxy.auth_token_file", "are both set"},
				{"3:1", "ConfigurableHTTPProxy.auth_token_file", "reading secret file"},
			}},
		{"umask not octal", "[LocalProcessSpawner]\numask = \"089\"\n",
			[]problem{{"2:1", "LocalProcessSpawner.umask", `invalid umask "089"`}}},
		{"umask too large", "[LocalProcessSpawner]\numask = \"1777\"\n",
			[]problem{{"2:1", "LocalProcessSpawner.umask", `invalid umask "1777"`}}},
		{"umask as a number", "[LocalProcessSpawner]\numask = 18\n",
			[]problem{{"2:1", "LocalProcessSpawner.umask", "expected a string"}}},
		{"negative min_uid", "[LocalProcessSpawner]\nmin_uid = -1\n",
			[]problem{{"2:1", "LocalProcessSpawner.min_uid", "must not be negative"}}},
		{"negative max_uid", "[LocalProcessSpawner]\nmax_uid = -1\n",
			[]problem{{"2:1", "LocalProcessSpawner.max_uid", "must not be negative"}}},
		{"max_uid below min_uid", "[LocalProcessSpawner]\nmin_uid = 2000\nmax_uid = 1999\n",
			[]problem{{"3:1", "LocalProcessSpawner.max_uid", "below min_uid 2000"}}},
		{"empty add_user_cmd", "[LocalAuthenticator]\nadd_user_cmd = []\n",
			[]problem{{"2:1", "LocalAuthenticator.add_user_cmd", "must name a program"}}},
		{"several at once", `[JupyterHub]
port = "x"
spawner_clas = "simple"
[Spawner]
debug = "yes"
[Bogus]
`, []problem{
			{"2:1", "JupyterHub.port", "expected an integer"},
			{"3:1", "JupyterHub.spawner_clas", "did you mean spawner_class?"},
			{"5:1", "Spawner.debug", "expected true or false"},
			{"6:1", "Bogus", "unknown table [Bogus]"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, tt.src, tt.want)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"full", &Error{File: "hub.toml", Pos: Position{3, 7}, Key: "JupyterHub.port", Message: "bad"},
			"hub.toml:3:7: JupyterHub.port: bad"},
		{"no file", &Error{Pos: Position{3, 0}, Key: "K", Message: "bad"}, "3: K: bad"},
		{"no position", &Error{File: "hub.toml", Key: "K", Message: "bad"}, "hub.toml: K: bad"},
		{"message only", &Error{Message: "bad"}, "bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorListUnwrap(t *testing.T) {
	_, err := Parse([]byte("[JupyterHub]\nport = \"a\"\nhub_port = \"b\"\n"), "hub.toml")
	var first *Error
	if !errors.As(err, &first) || first.Key != "JupyterHub.port" {
		t.Fatalf("errors.As(*Error) = %v, want the JupyterHub.port error", first)
	}
	want := "hub.toml:2:1: JupyterHub.port: expected an integer, got a string \"a\"\n" +
		"hub.toml:3:1: JupyterHub.hub_port: expected an integer, got a string \"b\""
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err, want)
	}
}

func TestErrorAtPosition(t *testing.T) {
	c, err := Parse([]byte(`[JupyterHub]
port = 8000

[[JupyterHub.load_roles]]
name = "a"

[[JupyterHub.load_roles]]
name = "b"
scopes = ["read:users"]
`), "hub.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ key, want string }{
		{"JupyterHub.load_roles[1].scopes", "hub.toml:9:1: JupyterHub.load_roles[1].scopes: bad"},
		{"JupyterHub.load_roles[0].scopes", "hub.toml:4:1: JupyterHub.load_roles[0].scopes: bad"},
		{"JupyterHub.services[0].api_token", "hub.toml:1:1: JupyterHub.services[0].api_token: bad"},
		{"Spawner.cmd", "hub.toml: Spawner.cmd: bad"},
	} {
		if got := c.ErrorAt(tc.key, "bad").Error(); got != tc.want {
			t.Errorf("ErrorAt(%s) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func TestParseRejectsUTF16(t *testing.T) {
	const text = "[JupyterHub]\nport = 8000\n"
	utf16 := func(bigEndian bool) []byte {
		out := []byte{0xFF, 0xFE}
		if bigEndian {
			out = []byte{0xFE, 0xFF}
		}
		for _, c := range []byte(text) {
			if bigEndian {
				out = append(out, 0, c)
			} else {
				out = append(out, c, 0)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"little-endian mark and ASCII", append([]byte{0xFF, 0xFE}, text...)},
		{"big-endian mark and ASCII", append([]byte{0xFE, 0xFF}, text...)},
		{"UTF-16LE", utf16(false)},
		{"UTF-16BE", utf16(true)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.data, "hub.toml")
			if err == nil {
				t.Fatal("Parse accepted the file")
			}
			if !strings.Contains(err.Error(), "UTF-16") {
				t.Errorf("Parse error = %q, want it to name UTF-16", err)
			}
			if !strings.HasPrefix(err.Error(), "hub.toml:1:") {
				t.Errorf("Parse error = %q, want it at line 1", err)
			}
		})
	}
}
