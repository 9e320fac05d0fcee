package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// namesToEscape are user names that JupyterHub accepts and whose URL
// path segment needs percent-escapes.
var namesToEscape = []string{"a b", "ünïcödé", "a?b", "a#b", "a%b", "a;b", "a+b", `a"b`, "a&b=c"}

// jupyterhubEscape escapes a path segment as JupyterHub 3.0's
// url_escape_path does (Python's quote with safe "@~"), which escapes more
// than url.PathEscape: ; & = + among others.
func jupyterhubEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("_.-~@", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func TestCanonicalBaseURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "/"},
		{"user/alice", "/user/alice/"},
		{"/x%20y/", "/x%20y/"},
		{"/x y/", "/x%20y/"},
		{"/ü/", "/%C3%BC/"},
		{"/%c3%bc/", "/%c3%bc/"},
		{"/user/a%26b%3Dc/", "/user/a%26b%3Dc/"},
		{"/user/a&b=c/", "/user/a&b=c/"},
		{"/a?b#c/", "/a%3Fb%23c/"},
	} {
		got, err := canonicalBaseURL(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("canonicalBaseURL(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"/x%zz/", "/x%2/", "/a/../b/", "/a/%2e%2e/b/", "/a//b/"} {
		if got, err := canonicalBaseURL(in); err == nil {
			t.Errorf("canonicalBaseURL(%q) = %q, want an error", in, got)
		}
	}
}

func TestEscapedBaseURLStandalone(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.BaseURL = "/x%20y/" })
	for _, tt := range []struct {
		path string
		want int
	}{
		{"/x%20y/api", 200},
		{"/x%20y/api/status", 200},
		{"/x%2520y/api", 404},
	} {
		if resp, body := ts.do(t, "GET", tt.path, nil, true); resp.StatusCode != tt.want {
			t.Errorf("GET %s = %d %s, want %d", tt.path, resp.StatusCode, body, tt.want)
		}
	}

	raw := newTestServer(t, func(c *Config) { c.BaseURL = "/x y/" })
	if got := raw.srv.BaseURL(); got != "/x%20y/" {
		t.Errorf("BaseURL() of base URL %q = %q, want /x%%20y/", "/x y/", got)
	}
	if _, err := New(Config{BaseURL: "/x%zz/", RootDir: t.TempDir(), RuntimeDir: t.TempDir()}); err == nil {
		t.Error("New accepted the base URL /x%zz/")
	}
}

func TestEscapedBaseURLNames(t *testing.T) {
	for _, name := range namesToEscape {
		t.Run(name, func(t *testing.T) {
			prefix := "/user/" + jupyterhubEscape(name) + "/"
			ts := newTestServer(t, func(c *Config) { c.BaseURL = prefix })
			c := noRedirect(ts.Client())
			if resp, body := ts.do(t, "GET", prefix+"api", nil, false); resp.StatusCode != 200 {
				t.Errorf("readiness probe GET %sapi = %d %s, want 200", prefix, resp.StatusCode, body)
			}
			// The same path in the escaping of url.PathEscape matches too.
			for _, p := range []string{prefix, "/user/" + url.PathEscape(name) + "/"} {
				if resp, body := ts.do(t, "GET", p+"api/status", nil, true); resp.StatusCode != 200 {
					t.Errorf("GET %sapi/status = %d %s, want 200", p, resp.StatusCode, body)
				}
			}

			resp, _ := send(t, c, mustRequest(t, "GET", ts.URL+strings.TrimSuffix(prefix, "/"), nil))
			if loc := resp.Header.Get("Location"); resp.StatusCode != 302 || loc != prefix {
				t.Errorf("GET the prefix without its slash = %d to %q, want 302 to %q",
					resp.StatusCode, loc, prefix)
			}
			resp, _ = send(t, c, mustRequest(t, "GET", ts.URL+prefix+"lab/tree/a%20b.ipynb", nil))
			want := prefix + "login?next=" + url.QueryEscape(prefix+"lab/tree/a%20b.ipynb")
			if loc := resp.Header.Get("Location"); resp.StatusCode != 302 || loc != want {
				t.Errorf("page without credentials = %d to %q, want 302 to %q",
					resp.StatusCode, loc, want)
			}
			resp, _ = send(t, c, mustRequest(t, "GET", ts.URL+prefix+"api//status", nil))
			if loc := resp.Header.Get("Location"); resp.StatusCode != 307 || loc != prefix+"api/status" {
				t.Errorf("unclean path = %d to %q, want 307 to %q", resp.StatusCode, loc,
					prefix+"api/status")
			}
		})
	}
}

// browserJar is a cookie jar that matches cookie paths with the escaped
// request path, as browsers do (RFC 6265, section 5.1.4), where
// net/http/cookiejar matches the decoded path. It ignores domains, because
// every test server is on 127.0.0.1.
type browserJar struct {
	mu      sync.Mutex
	cookies map[string]*http.Cookie // by path and name
}

func (j *browserJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cookies {
		path := c.Path
		if path == "" {
			path = "/"
		}
		key := path + "\x00" + c.Name
		if c.MaxAge < 0 {
			delete(j.cookies, key)
			continue
		}
		j.cookies[key] = &http.Cookie{Name: c.Name, Value: c.Value, Path: path}
	}
}

func (j *browserJar) Cookies(u *url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	requestPath := u.EscapedPath()
	var out []*http.Cookie
	for _, c := range j.cookies {
		if requestPath == c.Path || strings.HasPrefix(requestPath, strings.TrimSuffix(c.Path, "/")+"/") {
			out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	return out
}

func TestHubEscapedServicePrefix(t *testing.T) {
	for _, name := range namesToEscape {
		t.Run(name, func(t *testing.T) {
			hub := newFakeHub(t)
			prefix := "/user/" + jupyterhubEscape(name) + "/"
			callback := prefix + "oauth_callback"
			scopes, _ := json.Marshal([]string{"access:servers!user=" + name})
			hub.clientID = "jupyterhub-user-" + url.QueryEscape(name)
			hub.redirectURI = callback
			hub.scopes[name] = []string{"access:servers!user=" + name}
			hub.setLoginAs(name)
			hs := startHubServer(t, hub, map[string]string{
				"JUPYTERHUB_USER":                name,
				"JUPYTERHUB_CLIENT_ID":           hub.clientID,
				"JUPYTERHUB_SERVICE_PREFIX":      prefix,
				"JUPYTERHUB_SERVICE_URL":         "http://127.0.0.1:0" + prefix,
				"JUPYTERHUB_OAUTH_CALLBACK_URL":  callback,
				"JUPYTERHUB_OAUTH_ACCESS_SCOPES": string(scopes),
				"JUPYTERHUB_ACTIVITY_URL": hub.URL + "/hub/api/users/" +
					jupyterhubEscape(name) + "/activity",
			})

			c := &http.Client{Jar: &browserJar{cookies: map[string]*http.Cookie{}},
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			hops := follow(t, c, hs.front.URL+prefix+"lab")
			authorize, err := url.Parse(hops[0].location)
			if err != nil {
				t.Fatal(err)
			}
			if got := authorize.Query().Get("redirect_uri"); got != callback {
				t.Errorf("redirect_uri = %q, want %q", got, callback)
			}
			state := findCookie(hops[0].cookies, hub.clientID+"-oauth-state")
			if state == nil || state.Path != prefix {
				t.Errorf("state cookie = %+v, want the path %s", state, prefix)
			}
			last := hops[len(hops)-1]
			if last.status != 200 || last.path != prefix+"lab" {
				t.Fatalf("sign-in ends with %d at %s, want 200 at %slab; hops %+v",
					last.status, last.path, prefix, hops)
			}
			if got := pageConfigOf(t, last.body)["baseUrl"]; got != prefix {
				t.Errorf("page config baseUrl = %v, want %s", got, prefix)
			}
		})
	}
}
