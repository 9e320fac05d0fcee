package proxy

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// routedTo is what a test upstream reports about a request: its own name
// and the request target and Host it received.
type routedTo struct {
	Upstream   string `json:"upstream"`
	RequestURI string `json:"request_uri"`
	Host       string `json:"host"`
}

// startNamedUpstreams starts one upstream per name, each responding with a
// routedTo, and returns their URLs by name.
func startNamedUpstreams(t *testing.T, names ...string) map[string]string {
	t.Helper()
	urls := make(map[string]string)
	for _, name := range names {
		srv, _ := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			json.NewEncoder(w).Encode(routedTo{Upstream: name, RequestURI: r.RequestURI, Host: r.Host})
		}))
		urls[name] = srv.URL
	}
	return urls
}

// TestServeRoutesLikeHandler sends requests whose targets and Host fields
// could be read in more than one way through Serve and through the plain
// handler. Both must choose the same route and forward the same target.
// The route must be the one of the decoded path that the upstream will
// see, and the fast path must take only targets that net/http reads the
// same way.
func TestServeRoutesLikeHandler(t *testing.T) {
	targets := []string{
		"/user/alice/x",
		"/user/alice/../bob/x",
		"/user/alice/..%2Fbob/x",
		"/user/alice%2F..%2Fbob/x",
		"/user/alice/%2e%2e/bob/x",
		"/user/bob/../alice/x",
		"//user/bob/x",
		"/user//bob/x",
		"/user/bob%2Fx",
		"/user%2Fbob/x",
		"/user/%62ob/x",
		"/user/%62%6Fb",
		"/user/Bob/x",
		"/USER/bob/x",
		"/user/bob;x/y",
		"/user/bob;/x",
		"/user/bob/x;y=1?z=2",
		"/user/bob?/user/alice",
		"/user/bob%3F/x",
		"/user/bob%23/x",
		"/user/bob%00/x",
		"/user/bob%zz/x",
		"/user/bob/%",
		"/user/bob%20/x",
		"/user/bob./x",
		"/user/alicex/y",
		"/user/bob/x#frag",
		"http://hub.test/user/bob/x",
		"//hub.test/user/bob/x",
		"*",
	}
	hosts := []string{"hub.test", "HUB.Test:8000", "bob.test", "Bob.Test.", "[::1]:8000", "bob.test:80"}

	upstreams := startNamedUpstreams(t, "root", "alice", "bob", "bob.test")
	plain := NewTable(TableOptions{})
	mustAdd(t, plain, "/", upstreams["root"], nil)
	mustAdd(t, plain, "/user/alice", upstreams["alice"], nil)
	mustAdd(t, plain, "/user/bob", upstreams["bob"], nil)
	byHost := NewTable(TableOptions{HostRouting: true})
	mustAdd(t, byHost, "/", upstreams["root"], nil)
	mustAdd(t, byHost, "/hub.test/user/alice", upstreams["alice"], nil)
	mustAdd(t, byHost, "/hub.test/user/bob", upstreams["bob"], nil)
	mustAdd(t, byHost, "/bob.test", upstreams["bob.test"], nil)

	for name, table := range map[string]*Table{"path routing": plain, "host routing": byHost} {
		t.Run(name, func(t *testing.T) {
			fast := startServed(t, table, Options{})
			_, handler := startProxy(t, front{"handler", false}, table, Options{})
			checked := 0
			for _, target := range targets {
				for _, host := range hosts {
					req := "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n"
					// The handler counts a request before it responds, and
					// net/http's server rejects malformed requests with 400
					// before calling any handler.
					handled, forwarded := fast.handled.Load(), fast.fastPath.Load()
					got := dialRaw(t, fast.addr).roundTrip(req)
					want := dialRaw(t, strings.TrimPrefix(handler.URL, "http://")).roundTrip(req)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("%q (-handler +fast path):\n%s", req, diff)
						continue
					}
					if fast.handled.Load() == handled && got.Status != http.StatusBadRequest {
						fast.waitFastPath(t, forwarded+1)
						checkRoute(t, table, upstreams, host, target, got)
						checked++
					}
				}
			}
			t.Logf("the fast path forwarded %d of %d requests", checked, len(targets)*len(hosts))
			if checked == 0 {
				t.Error("the fast path forwarded no request")
			}
		})
	}
}

// checkRoute checks that a request the fast path forwarded went, with its
// target and Host unchanged, to the route of the decoded path that its
// upstream received. upstreams are the URLs of the upstreams by name.
func checkRoute(t *testing.T, table *Table, upstreams map[string]string, host, target string,
	res rawResponse,
) {
	t.Helper()
	var seen routedTo
	if err := json.Unmarshal([]byte(res.Body), &seen); err != nil {
		t.Errorf("%s %s: response %d %q", host, target, res.Status, res.Body)
		return
	}
	if seen.RequestURI != target || seen.Host != host {
		t.Errorf("%s %s: the upstream received %s for Host %s", host, target, seen.RequestURI, seen.Host)
	}
	u, err := url.ParseRequestURI(seen.RequestURI)
	if err != nil {
		t.Errorf("%s %s: the upstream received %q: %v", host, target, seen.RequestURI, err)
		return
	}
	route, ok := table.Lookup(seen.Host, u.Path)
	if !ok || route.Target != upstreams[seen.Upstream] {
		t.Errorf("%s %s: upstream %s received it, but its path %q has route %+v",
			host, target, seen.Upstream, u.Path, route)
	}
}
