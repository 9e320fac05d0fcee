package hub

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// jupyterHubEscapes maps user names to their escaping by JupyterHub 3.0,
// the output of Python's urllib.parse.quote(name, safe="@~").
var jupyterHubEscapes = map[string]string{
	"alice":             "alice",
	"alice@example.com": "alice@example.com",
	"a b":               "a%20b",
	"ünïcödé":           "%C3%BCn%C3%AFc%C3%B6d%C3%A9",
	"a?b":               "a%3Fb",
	"a;b":               "a%3Bb",
	"a&b=c":             "a%26b%3Dc",
	"a+b":               "a%2Bb",
	"a%b":               "a%25b",
	"a~b":               "a~b",
	"a$b:c,d":           "a%24b%3Ac%2Cd",
	"a#b":               "a%23b",
	`a"b`:               "a%22b",
	"*!()'":             "%2A%21%28%29%27",
	"a\tb":              "a%09b",
}

func TestEscapePathLikeJupyterHub(t *testing.T) {
	for name, want := range jupyterHubEscapes {
		if got := escapePath(name); got != want {
			t.Errorf("escapePath(%q) = %q, want %q", name, got, want)
		}
	}
}

// otherEscapings returns escapings of name that a client may send besides
// JupyterHub's: url.PathEscape's, which keeps "+", "&" and "=", and
// JupyterHub's with lower-case hex digits.
func otherEscapings(name string) []string {
	jupyterHub := escapePath(name)
	var lower strings.Builder
	for i := 0; i < len(jupyterHub); i++ {
		if jupyterHub[i] == '%' && i+2 < len(jupyterHub) {
			lower.WriteString(strings.ToLower(jupyterHub[i : i+3]))
			i += 2
			continue
		}
		lower.WriteByte(jupyterHub[i])
	}
	return []string{url.PathEscape(name), lower.String()}
}

func TestOddUserNamePaths(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	rootToken := th.token("root")
	admin := th.browser()
	admin.mustLogin("root")
	for _, name := range []string{"a b", "ünïcödé", "a?b", "a;b", "a&b=c", "a+b", "a%b",
		"alice@example.com"} {
		t.Run(name, func(t *testing.T) {
			q := jupyterHubEscapes[name]
			prefix := "/user/" + q + "/"
			th.addUser(name, false)
			tok := th.token(name)
			startByAPI(t, th, tok, q, "")

			req := th.spawner.lastRequest()
			for k, want := range map[string]string{
				"JUPYTERHUB_SERVICE_PREFIX":     prefix,
				"JUPYTERHUB_OAUTH_CALLBACK_URL": prefix + "oauth_callback",
				"JUPYTERHUB_ACTIVITY_URL":       th.url + "/hub/api/users/" + q + "/activity",
			} {
				if req.Env[k] != want {
					t.Errorf("%s = %q, want %q", k, req.Env[k], want)
				}
			}
			if req.Prefix != prefix {
				t.Errorf("spawn request prefix = %q, want %q", req.Prefix, prefix)
			}
			checkUserModelPaths(t, th, tok, q)
			if r := th.api("GET", "/hub/api/proxy", rootToken, nil); !strings.Contains(
				string(r.body), `"routespec":"`+prefix+`"`) {
				t.Errorf("GET /hub/api/proxy = %s, want routespec %s", r.body, prefix)
			}

			for _, escaped := range append([]string{q}, otherEscapings(name)...) {
				checkProxiedAs(t, th, "/user/"+escaped+"/api/status", name)
			}

			b := th.browser()
			b.mustLogin(name)
			for _, escaped := range otherEscapings(name) {
				p := b.get("/hub/user/" + escaped + "/lab?reset")
				if want := prefix + "lab?reset"; p.status != http.StatusFound || p.location != want {
					t.Errorf("GET /hub/user/%s/lab = %d %q, want a redirect to %s",
						escaped, p.status, p.location, want)
				}
			}
			p := b.get("/hub/user-redirect/lab/tree/x%3Fy%20z.ipynb?k=v")
			if want := prefix + "lab/tree/x%3Fy%20z.ipynb?k=v"; p.location != want {
				t.Errorf("user-redirect = %d %q, want a redirect to %s", p.status, p.location, want)
			}
			home := b.get("/hub/home").body
			for _, want := range []string{`href="` + prefix + `"`, `action="/hub/stop/` + q + `"`} {
				if !strings.Contains(home, want) {
					t.Errorf("home page has no %s:\n%s", want, home)
				}
			}
			adminPage := admin.get("/hub/admin").body
			for _, want := range []string{`href="` + prefix + `"`,
				`action="/hub/admin/users/` + q + `/delete"`} {
				if !strings.Contains(adminPage, want) {
					t.Errorf("admin page has no %s", want)
				}
			}
		})
	}
}

// checkUserModelPaths checks the paths in the REST API's model of the user
// whose name escapes to q.
func checkUserModelPaths(t *testing.T, th *testHub, tok, q string) {
	t.Helper()
	var model struct {
		Server  string
		Servers map[string]struct {
			URL         string `json:"url"`
			ProgressURL string `json:"progress_url"`
		}
	}
	th.api("GET", "/hub/api/users/"+q, tok, nil).json(t, &model)
	prefix := "/user/" + q + "/"
	if model.Server != prefix {
		t.Errorf("user model server = %q, want %q", model.Server, prefix)
	}
	if got := model.Servers[""].URL; got != prefix {
		t.Errorf("server model url = %q, want %q", got, prefix)
	}
	want := "/hub/api/users/" + q + "/server/progress"
	if got := model.Servers[""].ProgressURL; got != want {
		t.Errorf("server model progress_url = %q, want %q", got, want)
	}
}

// checkProxiedAs checks that a request for path reaches the server of user.
func checkProxiedAs(t *testing.T, th *testHub, path, user string) {
	t.Helper()
	resp, err := http.Get(th.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got echo
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Errorf("GET %s = %d, not the server's JSON: %v", path, resp.StatusCode, err)
		return
	}
	if resp.StatusCode != http.StatusOK || got.User != user {
		t.Errorf("GET %s = %d from the server of %q, want 200 from that of %q",
			path, resp.StatusCode, got.User, user)
	}
}
