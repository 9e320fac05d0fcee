package proxy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// chpEnv names a configurable-http-proxy executable to compare with, such
// as node_modules/.bin/configurable-http-proxy from npm. Unset skips the
// comparison.
const chpEnv = "JUPYGO_CHP"

// chpRequest is a request sent to both proxies: the Host header and the
// request target, byte for byte.
type chpRequest struct{ host, path string }

// chpPathRequests are requests for path routing.
var chpPathRequests = []chpRequest{
	{"hub.test:8000", "/"},
	{"hub.test:8000", "/hub/login?next=%2Fuser%2Falice%2F"},
	{"hub.test:8000", "/user/alice"},
	{"hub.test:8000", "/user/alice/"},
	{"hub.test:8000", "/user/alice/api/contents?type=notebook&x=1;y=2"},
	{"hub.test:8000", "/user/alicex/lab"},
	{"hub.test:8000", "/user/alice/lab"},
	{"hub.test:8000", "/user/alice/lab/tree/a.ipynb"},
	{"hub.test:8000", "/user/alice%2Flab"},
	{"hub.test:8000", "/user/alice/files/a%2Fb%23c%20d.txt"},
	{"hub.test:8000", "/user/alice/files/%E2%9C%93.txt"},
	{"hub.test:8000", "/user/alice/%41%7e"},
	{"hub.test:8000", "/user//alice"},
	{"hub.test:8000", "/user/bob"},
	{"hub.test:8000", "/user/bob/"},
	{"hub.test:8000", "/services/x"},
	{"hub.test:8000", "/services/x/api"},
	{"hub.test:8000", "/user/alice/..%2F..%2Fhub"},
}

// chpStripBug lists the requests that configurable-http-proxy 5.3.0
// forwards wrong with --no-include-prefix, because it cuts the escaped URL
// by the length of the decoded prefix: "/user/alice%2Flab" becomes "ab".
var chpStripBug = map[string]bool{"/user/alice%2Flab": true}

// TestMatchesConfigurableHTTPProxy sends the same requests through this
// proxy and configurable-http-proxy, with the same routes, and compares the
// stored routes, the status, and the request the upstream receives.
func TestMatchesConfigurableHTTPProxy(t *testing.T) {
	forEachFront(t, testMatchesConfigurableHTTPProxy)
}

func testMatchesConfigurableHTTPProxy(t *testing.T, f front) {
	bin := os.Getenv(chpEnv)
	if bin == "" {
		t.Skipf("set %s to a configurable-http-proxy executable to compare with it", chpEnv)
	}
	upstream, _ := startUpstream(t, http.HandlerFunc(echoHandler))
	pathRoutes := []string{"/", "/user/alice", "user/bob/", "/user/alice/lab", "/services/x/"}
	modes := []struct {
		name     string
		chpArgs  []string
		table    TableOptions
		opts     Options
		routes   []string
		requests []chpRequest
	}{
		{"defaults", nil, TableOptions{}, Options{}, pathRoutes, chpPathRequests},
		{
			"no include prefix", []string{"--no-include-prefix"},
			TableOptions{}, Options{StripPrefix: true}, pathRoutes, chpPathRequests,
		},
		{
			"no prepend path", []string{"--no-prepend-path"},
			TableOptions{}, Options{IgnoreTargetPath: true}, pathRoutes, chpPathRequests,
		},
		{
			"host routing", []string{"--host-routing"},
			TableOptions{HostRouting: true}, Options{},
			[]string{"/", "/alice.hub.test", "/bob.hub.test/sub/"},
			[]chpRequest{
				{"alice.hub.test", "/lab"},
				{"alice.hub.test:8443", "/"},
				{"bob.hub.test", "/sub/x"},
				{"bob.hub.test", "/other"},
				{"hub.test", "/alice.hub.test/x"},
			},
		},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			chp := startCHP(t, bin, mode.chpArgs...)
			table := NewTable(mode.table)
			for i, spec := range mode.routes {
				target := fmt.Sprintf("%s/r%d", upstream.URL, i)
				data := map[string]any{"jupyterhub": true, "user": fmt.Sprint("u", i)}
				mustAdd(t, table, spec, target, data)
				data["target"] = target
				chp.addRoute(t, spec, data)
			}
			_, ours := startProxy(t, f, table, mode.opts)

			if diff := cmp.Diff(chp.routes(t), ourRoutes(t, table)); diff != "" {
				t.Errorf("stored routes (-chp +ours):\n%s", diff)
			}
			for _, req := range mode.requests {
				if mode.opts.StripPrefix && chpStripBug[req.path] {
					continue
				}
				want := sendRaw(t, chp.publicAddr, req.host, req.path)
				got := sendRaw(t, strings.TrimPrefix(ours.URL, "http://"), req.host, req.path)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("GET %s with Host %s (-chp +ours):\n%s", req.path, req.host, diff)
				}
			}
		})
	}
}

// ourRoutes returns the table as the REST API encodes it, without
// last_activity.
func ourRoutes(t *testing.T, table *Table) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, r := range table.List(time.Time{}) {
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "last_activity")
		out[r.Spec] = m
	}
	return out
}

// chpProcess is a running configurable-http-proxy.
type chpProcess struct {
	publicAddr, apiAddr, token string
}

func startCHP(t *testing.T, bin string, args ...string) *chpProcess {
	t.Helper()
	c := &chpProcess{publicAddr: closedAddr(t), apiAddr: closedAddr(t), token: "test-token"}
	_, port, _ := net.SplitHostPort(c.publicAddr)
	_, apiPort, _ := net.SplitHostPort(c.apiAddr)
	cmd := exec.Command(bin, "--ip", "127.0.0.1", "--port", port,
		"--api-ip", "127.0.0.1", "--api-port", apiPort, "--log-level", "warn")
	cmd.Args = append(cmd.Args, args...)
	cmd.Env = append(os.Environ(), "CONFIGPROXY_AUTH_TOKEN="+c.token)
	cmd.Stdout, cmd.Stderr = testWriter{t}, testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	waitFor(t, "configurable-http-proxy to listen", func() bool {
		res, err := c.api("GET", "/api/routes", nil)
		if err != nil {
			return false
		}
		res.Body.Close()
		return true
	})
	return c
}

func (c *chpProcess) api(method, path string, body any) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, "http://"+c.apiAddr+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "token "+c.token)
	return http.DefaultClient.Do(req)
}

func (c *chpProcess) addRoute(t *testing.T, spec string, body map[string]any) {
	t.Helper()
	res, err := c.api("POST", "/api/routes/"+url.PathEscape(strings.TrimPrefix(spec, "/")), body)
	if err != nil {
		t.Fatalf("adding %s to configurable-http-proxy: %v", spec, err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("adding %s to configurable-http-proxy: status %d", spec, res.StatusCode)
	}
}

// routes returns configurable-http-proxy's routes without last_activity.
func (c *chpProcess) routes(t *testing.T) map[string]map[string]any {
	t.Helper()
	res, err := c.api("GET", "/api/routes", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var routes map[string]map[string]any
	if err := json.NewDecoder(res.Body).Decode(&routes); err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if _, ok := r["last_activity"].(string); !ok {
			t.Errorf("configurable-http-proxy route without last_activity: %v", r)
		}
		delete(r, "last_activity")
	}
	return routes
}

// rawResult is what a proxy did with one request.
type rawResult struct {
	Status int
	// UpstreamURI is the request target the upstream received, empty when
	// the request did not reach it.
	UpstreamURI string
	Forwarded   map[string]string
}

// sendRaw sends a GET for the exact request target path to addr.
func sendRaw(t *testing.T, addr, host, path string) rawResult {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	result := rawResult{Status: res.StatusCode}
	if res.StatusCode != http.StatusOK {
		return result
	}
	var e echoed
	if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
		t.Fatalf("GET %s: decoding the echo: %v", path, err)
	}
	result.UpstreamURI = e.RequestURI
	result.Forwarded = map[string]string{"Host": e.Host}
	for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port"} {
		result.Forwarded[k] = e.Header.Get(k)
	}
	return result
}
