package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite docs/hub-config.md from the key table")

// referencePath is the generated page, relative to this package.
var referencePath = filepath.Join("..", "..", "..", "docs", "hub-config.md")

// TestReferencePage fails when docs/hub-config.md differs from what Keys
// describes. Run go test ./internal/hub/config -run TestReferencePage
// -update to rewrite it.
func TestReferencePage(t *testing.T) {
	page := referencePage()
	if *update {
		if err := os.WriteFile(referencePath, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	current, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatalf("reading the reference page: %v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(current), page); diff != "" {
		t.Errorf("%s is stale; run go test ./internal/hub/config -run TestReferencePage -update\n"+
			"(-file +generated):\n%s", referencePath, diff)
	}
}

func TestReferenceExampleParses(t *testing.T) {
	clearEnv(t)
	t.Setenv("GITHUB_CLIENT_SECRET", "from-env")
	c, err := Parse([]byte(referenceExample), "jupygo_hub.toml")
	if err != nil {
		t.Fatalf("the example of the reference page is invalid: %v", err)
	}
	if c.JupyterHub.BindURL != "http://:8000/" || len(c.Warnings) != 0 {
		t.Errorf("example gives bind_url %q and warnings %v", c.JupyterHub.BindURL, c.Warnings)
	}
}

func TestEveryKeyDocumented(t *testing.T) {
	for _, k := range Keys() {
		if k.Doc == "" || k.Default == "" || k.Type == "" {
			t.Errorf("key %s lacks a doc, default or type: %+v", k.ID(), k)
		}
		if !strings.HasSuffix(k.Doc, ".") {
			t.Errorf("doc of %s does not end with a period: %q", k.ID(), k.Doc)
		}
	}
}

const referenceExample = `[JupyterHub]
ip = ""                            # all interfaces
port = 8000
authenticator_class = "github"
allow_named_servers = true

[[JupyterHub.load_roles]]
name = "server-admins"
scopes = ["list:users", "admin:servers"]
groups = ["teaching-assistants"]

[Authenticator]
admin_users = ["octocat"]
allow_all = true

[GitHubOAuthenticator]
client_id = "Iv1.0123456789abcdef"
# client_secret comes from $GITHUB_CLIENT_SECRET
oauth_callback_url = "https://hub.example.org/hub/oauth_callback"

[Spawner]
default_url = "/lab"
notebook_dir = "~"
`

// referencePage renders docs/hub-config.md.
func referencePage() string {
	var b strings.Builder
	b.WriteString(referenceIntro)
	b.WriteString("```toml\n" + referenceExample + "```\n\n")
	b.WriteString(referenceRules)
	writeClassNames(&b)
	b.WriteString(referencePython)
	keys := Keys()
	for _, c := range classes {
		writeClass(&b, c, keys)
	}
	writeItems(&b, "[[JupyterHub.services]]", servicesClass,
		"Each entry is a service that runs on its own and calls the hub's REST API with its "+
			"`api_token`. With `url`, the hub proxies {base_url}services/NAME/ to it, and with "+
			"`url` or `oauth_redirect_uri` and an `api_token` the service can sign users in "+
			"with the hub's OAuth, as JupyterHub's `HubOAuth` does. The hub does not start "+
			"services yet, so it refuses to start when an entry sets a key marked "+
			"\"Not supported yet\".", keys)
	writeItems(&b, "[[JupyterHub.load_roles]]", rolesClass,
		"Each entry is a role the hub creates or updates at startup.", keys)
	return b.String()
}

const referenceIntro = `# Hub configuration

<!-- Generated from internal/hub/config by
     go test ./internal/hub/config -run TestReferencePage -update; edit the key table there. -->

` + "`jupygo hub -f FILE`" + ` reads a TOML file laid out like JupyterHub's Python configuration:
one table per configurable class, with JupyterHub's trait names. The Python line
` + "`c.JupyterHub.port = 443`" + ` is written ` + "`port = 443`" + ` under ` + "`[JupyterHub]`" + `, and
` + "`c.Authenticator.admin_users`" + ` is ` + "`admin_users`" + ` under ` + "`[Authenticator]`" + `.
Durations are numbers of seconds, as in JupyterHub. Without ` + "`-f`" + `, the hub uses the defaults
below with the environment fallbacks. A file whose name ends in ` + "`.py`" + ` is read as a
` + "`jupyterhub_config.py`" + ` instead (see [Python files](#python-files)).

`

const referencePython = `## Python files

` + "`jupygo hub -f jupyterhub_config.py`" + ` reads a JupyterHub configuration of the usual shape
without running Python. Each ` + "`c.Class.trait = value`" + ` sets the same key as the TOML line
` + "`trait = value`" + ` under ` + "`[Class]`" + `, with the same checks, defaults and messages. The last
assignment of a trait wins, as in Python. Supported:

- ` + "`c = get_config()`" + ` (optional, under any name), comments, blank lines, docstrings and other
  statements of string literals alone, and lines continued inside brackets or after a backslash;
- ` + "`import os`, `import os.path`, `from os import environ, getenv, path`, `from os.path import join`" + `,
  each optionally with ` + "`as`" + `, and imports of the classes in [Class names](#class-names), such as
  ` + "`from oauthenticator.github import LocalGitHubOAuthenticator`" + `, whose class is then a
  value of ` + "`authenticator_class`, `spawner_class` or `proxy_class`" + `;
- literals: strings in single, double or triple quotes with Python's escapes, raw strings,
  adjacent strings, integers (decimal, ` + "`0x`, `0o`, `0b`, with `_`" + `), floats, ` + "`True`, `False`" + `,
  ` + "`None`" + `, lists, tuples, sets and dicts with string keys, nested (a list, tuple or set is a
  TOML array, a dict a TOML table), and ` + "`set()`, `set([...])` and `set((...))`" + `;
- ` + "`None`" + ` as the whole value of a trait, which leaves the trait at its default, as if the
  line were absent; the class and trait must still exist. This is also what
  ` + "`os.environ.get(\"X\")`" + ` gives when X is unset. TOML has no null, so ` + "`None`" + ` inside a
  list, tuple, set or dict is an error. JupyterHub itself rejects ` + "`None`" + ` for a trait that
  does not allow it, such as ` + "`port`" + `, while jupygo takes the default for every trait;
- ` + "`os.environ[\"X\"]`" + ` (an error at its line when X is unset), ` + "`os.environ.get(\"X\")`" + `,
  ` + "`os.environ.get(\"X\", default)`" + `, ` + "`os.getenv`" + ` likewise, ` + "`os.path.join(...)`" + ` and an alias
  of it (` + "`join = os.path.join`" + `);
- ` + "`+`" + ` on strings, numbers, lists and tuples, a leading ` + "`-`" + ` on numbers, and local names assigned
  from any of these, one or several at once (` + "`x = y = value`" + `), and used below;
- ` + "`c.Class.trait += [...]`" + `, which extends the list that the file assigned to the trait before,
  or a list trait whose default is empty.

Anything else is an error at its file, line and column, and the hub does not start: f-strings,
bytes, ` + "`None`" + ` inside a list or dict, calls of other functions,
methods such as ` + "`.add()`" + `, reading ` + "`c.Class.trait`" + `, other imports, ` + "`if`" + `, loops,
` + "`def`" + `, ` + "`lambda`" + `, comprehensions, other operators (` + "`:=`" + ` among them) and other assignments,
such as a chain that reaches ` + "`c.Class.trait`" + `. Unknown classes and traits are errors as in TOML,
and messages name settings in Python syntax, such as ` + "`c.GitHubOAuthenticator.client_id`" + `.

`

const referenceRules = `## Rules

- **Subclass tables.** A table of a subclass accepts its ancestors' keys too, as traitlets does:
  ` + "`[GitHubOAuthenticator] admin_users`" + ` is allowed. Such a value wins over the ancestor's
  table, but only when the chosen class is that subclass or inherits from it; otherwise the hub
  ignores it and logs a warning. Keys a class defines itself are always kept.
- **bind_url.** When set, ` + "`bind_url`" + ` overrides ` + "`ip`, `port` and `base_url`" + ` (each one also set
  is logged as ignored). Its scheme is https exactly when ` + "`ssl_cert`" + ` or
  ` + "`acme_domains`" + ` is set.
- **Secrets.** Every secret key X also accepts X_file: the path of a file that holds the value,
  read at load, which must be a regular file that neither group nor others may access
  (` + "`chmod 600`" + `), owned by root or by the account the hub runs as. Setting both X and X_file in one table is an error. Precedence, highest
  first: X or X_file in the file (a subclass table over its ancestors), then the environment
  variables listed for the key, in order, skipping empty ones, then the default.
  ` + "`cookie_secret_file`" + ` is JupyterHub's own key and keeps its meaning: the hub reads it at
  startup, or creates it with a random key.
- **Paths.** Relative paths of the hub's own data (the SQLite file of ` + "`db_url`" + `,
  ` + "`cookie_secret_file`, `home_dir_template`" + `) are relative to ` + "`data_dir`" + `; other relative
  paths are relative to the folder the hub starts in.
- **Templates.** ` + "`notebook_dir`" + ` and ` + "`default_url`" + ` expand ` + "`{username}` and `{base_url}`" + `;
  ` + "`home_dir_template`" + ` expands ` + "`{username}`" + `. Write ` + "`{{` and `}}`" + ` for braces.
- **Nesting.** Keys and values nest at most 100 levels: in TOML each bracket, brace and dot
  of a key counts one, and in Python each expression inside another. A deeper file is an
  error at the first level too deep.
- **Errors.** Unknown tables, unknown keys, values of the wrong type and failed checks of
  single values are reported together, each with its file, line, column and key. Checks
  that relate several keys, such as the scopes of ` + "`load_roles`" + `, the services that roles
  name and the length of each ` + "`api_token`" + `, run once the file has no such error, so a second
  start may report more. Either way the hub stops before it creates anything in its data
  folder.

`

func writeClassNames(b *strings.Builder) {
	b.WriteString("## Class names\n\n")
	b.WriteString("`authenticator_class`, `spawner_class` and `proxy_class` take one of these names, " +
		"or a JupyterHub name for the same class. The hub rejects the classes marked " +
		"\"not supported yet\" when it loads the file.\n\n")
	b.WriteString("| key | name | also accepted | supported |\n| --- | --- | --- | --- |\n")
	for _, key := range []string{"authenticator_class", "spawner_class", "proxy_class"} {
		for _, impl := range implementations(key) {
			aliases := make([]string, len(impl.aliases))
			for i, a := range impl.aliases {
				aliases[i] = "`" + a + "`"
			}
			supported := "yes"
			if !isSupported(impl.canonical) {
				supported = "not supported yet"
			}
			fmt.Fprintf(b, "| %s | `%s` | %s | %s |\n", key, impl.canonical,
				strings.Join(aliases, ", "), supported)
		}
	}
	b.WriteString("\n")
	b.WriteString(referenceLocalGitHub)
}

const referenceLocalGitHub = `### GitHub sign-in as system accounts

` + "`authenticator_class = \"local-github\"`" + ` (LocalGitHubOAuthenticator) signs users in with
GitHub exactly as ` + "`github`" + ` does, with the same [GitHubOAuthenticator] and [OAuthenticator]
keys. It runs each user's servers as the system account of the same name, with the
[LocalAuthenticator] keys. ` + "`create_system_users = true`" + ` creates a missing account at
sign-in. Without it, the hub rejects a start for a missing account with a message that
names the account.

The system accounts are the work of the ` + "`localprocess`" + ` spawner, so local-github sets the
spawner:

- With no ` + "`spawner_class`" + ` in the file, the spawner is ` + "`localprocess`" + `, not ` + "`simple`" + `.
  JupyterHub's default spawner is LocalProcessSpawner, so a ` + "`jupyterhub_config.py`" + ` written
  for LocalGitHubOAuthenticator sets none, and it keeps running servers as system accounts.
- ` + "`spawner_class = \"simple\"`" + ` with local-github is an error at load: the simple spawner
  would run every user's server as the hub's own account, which can read the hub's database
  and cookie secret, and the accounts that local-github promises would never be used. Remove
  ` + "`spawner_class`" + `, set it to ` + "`localprocess`" + `, or use ` + "`authenticator_class = \"github\"`" + `.

`

func writeClass(b *strings.Builder, c class, keys []Key) {
	fmt.Fprintf(b, "## [%s]\n\n%s", c.name, c.doc)
	if inherited := ancestors(c.name)[1:]; len(inherited) > 0 {
		names := make([]string, len(inherited))
		for i, n := range inherited {
			names[i] = "[" + n + "]"
		}
		list := strings.Join(names, ", ")
		if len(names) > 1 {
			list = strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
		}
		fmt.Fprintf(b, " Also accepts the keys of %s.", list)
	}
	b.WriteString("\n\n")
	own := slices.DeleteFunc(slices.Clone(keys), func(k Key) bool { return k.Class != c.name })
	if len(own) == 0 {
		b.WriteString("No keys of its own.\n\n")
		return
	}
	writeKeyTable(b, own)
}

func writeItems(b *strings.Builder, title, class, doc string, keys []Key) {
	fmt.Fprintf(b, "## %s\n\n%s\n\n", title, doc)
	writeKeyTable(b, slices.DeleteFunc(slices.Clone(keys), func(k Key) bool { return k.Class != class }))
}

func writeKeyTable(b *strings.Builder, keys []Key) {
	b.WriteString("| key | type | default | description |\n| --- | --- | --- | --- |\n")
	for _, k := range keys {
		doc := k.Doc
		if k.File {
			doc += fmt.Sprintf(" Also `%s_file`.", k.Name)
		}
		if k.Type == TypeSeconds {
			doc += " At most " + describeLimit(k.maxDuration) + "."
		}
		if len(k.Env) > 0 {
			envs := make([]string, len(k.Env))
			for i, e := range k.Env {
				envs[i] = "`$" + e + "`"
			}
			doc += " Environment: " + strings.Join(envs, ", then ") + "."
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", k.Name, k.Type, formatDefault(k), cell(doc))
	}
	b.WriteString("\n")
}

// formatDefault shows a default in code, or as prose when it is worked
// out at load time.
func formatDefault(k Key) string {
	if k.defaultText != "" && strings.Contains(k.defaultText, " ") {
		return cell(k.defaultText)
	}
	return "`" + cell(k.Default) + "`"
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
