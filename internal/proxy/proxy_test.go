package proxy

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// echoed is what echoHandler returns about the request it received.
type echoed struct {
	Method     string      `json:"method"`
	RequestURI string      `json:"request_uri"`
	Host       string      `json:"host"`
	Header     http.Header `json:"header"`
	Body       string      `json:"body"`
}

func echoHandler(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(echoed{
		Method:     r.Method,
		RequestURI: r.RequestURI,
		Host:       r.Host,
		Header:     r.Header,
		Body:       string(body),
	})
}

// sendEcho sends req through the client and decodes the upstream's echo.
func sendEcho(t *testing.T, req *http.Request) echoed {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("%s %s: status %d: %s", req.Method, req.URL, res.StatusCode, body)
	}
	var e echoed
	if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
		t.Fatalf("decoding echo: %v", err)
	}
	return e
}

func TestProxyPath(t *testing.T) { forEachFront(t, testProxyPath) }

func testProxyPath(t *testing.T, f front) {
	upstream, _ := startUpstream(t, http.HandlerFunc(echoHandler))
	tests := []struct {
		name   string
		opts   Options
		spec   string
		target string
		uri    string
		want   string
	}{
		{"full path kept", Options{}, "/user/alice", "", "/user/alice/lab/tree", "/user/alice/lab/tree"},
		{"prefix itself", Options{}, "/user/alice", "", "/user/alice", "/user/alice"},
		{"trailing slash", Options{}, "/user/alice", "", "/user/alice/", "/user/alice/"},
		{"query", Options{}, "/user/alice", "", "/user/alice/api?a=1&b=%20x", "/user/alice/api?a=1&b=%20x"},
		{"query unparsable", Options{}, "/user/alice", "", "/user/alice/api?a=1;b=2&c=%ZZ", "/user/alice/api?a=1;b=2&c=%ZZ"},
		{"encoded slash", Options{}, "/user/alice", "", "/user/alice/files/a%2Fb", "/user/alice/files/a%2Fb"},
		{"encoded hash and space", Options{}, "/user/alice", "", "/user/alice/files/a%23b%20c.txt", "/user/alice/files/a%23b%20c.txt"},
		{"encoded unreserved", Options{}, "/user/alice", "", "/user/alice/%41%7e", "/user/alice/%41%7e"},
		{"encoded utf-8", Options{}, "/user/alice", "", "/user/alice/files/%C3%A9t%C3%A9", "/user/alice/files/%C3%A9t%C3%A9"},
		{"encoded slash in prefix", Options{}, "/user/alice", "", "/user/alice%2Flab", "/user/alice%2Flab"},
		{"target path prepended", Options{}, "/svc", "/prefix", "/svc/x?q=1", "/prefix/svc/x?q=1"},
		{"target path with slash", Options{}, "/svc", "/prefix/", "/svc/x", "/prefix/svc/x"},
		{"target query", Options{}, "/svc", "/prefix?t=1", "/svc/x?q=1", "/prefix/svc/x?t=1&q=1"},
		{"root route", Options{}, "/", "", "/hub/login?next=%2Fuser%2Falice", "/hub/login?next=%2Fuser%2Falice"},
		{"strip prefix", Options{StripPrefix: true}, "/user/alice", "", "/user/alice/lab?x=1", "/lab?x=1"},
		{"strip prefix whole", Options{StripPrefix: true}, "/user/alice", "", "/user/alice", "/"},
		{"strip prefix escaped", Options{StripPrefix: true}, "/user/alice", "", "/user/alice/a%2Fb", "/a%2Fb"},
		{"strip prefix with target", Options{StripPrefix: true}, "/svc", "/base", "/svc/x", "/base/x"},
		{"strip prefix whole with target", Options{StripPrefix: true}, "/svc", "/base", "/svc?q=1", "/base?q=1"},
		{"strip prefix root route", Options{StripPrefix: true}, "/", "", "/x/y", "/x/y"},
		{
			"strip prefix at escaped slash",
			Options{StripPrefix: true, IgnoreTargetPath: true},
			"/user/alice", "/base", "/user/alice%2Flab", "/%2Flab",
		},
		{"ignore target path", Options{IgnoreTargetPath: true}, "/svc", "/base", "/svc/x", "/svc/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := NewTable(TableOptions{})
			mustAdd(t, table, tt.spec, upstream.URL+tt.target, nil)
			_, srv := startProxy(t, f, table, tt.opts)
			req, err := http.NewRequest("GET", srv.URL+tt.uri, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := sendEcho(t, req).RequestURI; got != tt.want {
				t.Errorf("upstream request URI = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProxyHeaders(t *testing.T) { forEachFront(t, testProxyHeaders) }

func testProxyHeaders(t *testing.T, f front) {
	upstream, _ := startUpstream(t, http.HandlerFunc(echoHandler))
	upstreamHost := strings.TrimPrefix(upstream.URL, "http://")
	spoofed := map[string]string{
		"X-Forwarded-For":    "203.0.113.9",
		"X-Forwarded-Proto":  "https",
		"X-Forwarded-Host":   "evil.example.com",
		"X-Forwarded-Port":   "443",
		"X-Forwarded-Prefix": "/evil",
		"X-Real-Ip":          "203.0.113.9",
		"X-Scheme":           "https",
		"Forwarded":          "for=203.0.113.9;proto=https",
		"X_Forwarded_For":    "203.0.113.9",
	}
	forwardedKeys := []string{
		"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port",
		"X-Forwarded-Prefix", "X-Real-Ip", "X-Scheme", "Forwarded", "X-Custom",
		"X_forwarded_for",
	}

	tests := []struct {
		name     string
		opts     Options
		spoof    bool
		wantHost string // "" means the proxy's host
		want     map[string]string
	}{
		{
			name: "set",
			want: map[string]string{
				"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "http",
				"X-Forwarded-Host": "PROXY", "X-Forwarded-Port": "PORT",
			},
		},
		{
			name:  "client values stripped",
			spoof: true,
			want: map[string]string{
				"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "http",
				"X-Forwarded-Host": "PROXY", "X-Forwarded-Port": "PORT",
			},
		},
		{
			name:  "trusted client values kept",
			opts:  Options{TrustForwarded: true},
			spoof: true,
			want: map[string]string{
				"X-Forwarded-For": "203.0.113.9, 127.0.0.1", "X-Forwarded-Proto": "https",
				"X-Forwarded-Host": "evil.example.com", "X-Forwarded-Port": "443",
				"X-Forwarded-Prefix": "/evil", "X-Real-Ip": "203.0.113.9", "X-Scheme": "https",
				"X_forwarded_for": "203.0.113.9", "Forwarded": "for=203.0.113.9;proto=https",
			},
		},
		{
			name:  "no x-forwarded",
			opts:  Options{NoXForwarded: true},
			spoof: true,
			want:  map[string]string{},
		},
		{
			name:     "change origin",
			opts:     Options{ChangeOrigin: true},
			wantHost: upstreamHost,
			want: map[string]string{
				"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "http",
				"X-Forwarded-Host": "PROXY", "X-Forwarded-Port": "PORT",
			},
		},
		{
			name: "custom headers",
			opts: Options{Headers: http.Header{"X-Custom": {"1"}}},
			want: map[string]string{
				"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "http",
				"X-Forwarded-Host": "PROXY", "X-Forwarded-Port": "PORT", "X-Custom": "1",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := NewTable(TableOptions{})
			mustAdd(t, table, "/", upstream.URL, nil)
			_, srv := startProxy(t, f, table, tt.opts)
			proxyHost := strings.TrimPrefix(srv.URL, "http://")
			_, proxyPort, _ := net.SplitHostPort(proxyHost)

			req, _ := http.NewRequest("GET", srv.URL+"/x", nil)
			if tt.spoof {
				for k, v := range spoofed {
					req.Header.Set(k, v)
				}
			}
			e := sendEcho(t, req)

			wantHost := tt.wantHost
			if wantHost == "" {
				wantHost = proxyHost
			}
			if e.Host != wantHost {
				t.Errorf("upstream Host = %q, want %q", e.Host, wantHost)
			}
			got := map[string]string{}
			for _, k := range forwardedKeys {
				if v := e.Header.Values(k); len(v) > 0 {
					got[k] = strings.Join(v, " | ")
				}
			}
			want := map[string]string{}
			for k, v := range tt.want {
				v = strings.ReplaceAll(v, "PROXY", proxyHost)
				want[k] = strings.ReplaceAll(v, "PORT", proxyPort)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("upstream headers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProxyRequestBody(t *testing.T) { forEachFront(t, testProxyRequestBody) }

func testProxyRequestBody(t *testing.T, f front) {
	upstream, _ := startUpstream(t, http.HandlerFunc(echoHandler))
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/user/alice", upstream.URL, nil)
	_, srv := startProxy(t, f, table, Options{})

	tests := []struct {
		name   string
		body   io.Reader
		length int64
	}{
		{"sized", strings.NewReader(`{"type": "notebook"}`), -2},
		{"chunked", io.MultiReader(strings.NewReader(`{"type": `), strings.NewReader(`"notebook"}`)), -1},
		{"empty", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", srv.URL+"/user/alice/api/contents", tt.body)
			if tt.length != -2 {
				req.ContentLength = tt.length
			}
			want := ""
			if tt.body != nil {
				want = `{"type": "notebook"}`
			}
			e := sendEcho(t, req)
			if e.Method != "POST" || e.Body != want {
				t.Errorf("upstream got %s %q, want POST %q", e.Method, e.Body, want)
			}
		})
	}
}

func TestProxyMalformedRequestBody(t *testing.T) { forEachFront(t, testProxyMalformedRequestBody) }

// testProxyMalformedRequestBody sends request bodies that break off or
// are not valid chunked encoding. The client gets 400, not the 503 of an
// upstream failure.
func testProxyMalformedRequestBody(t *testing.T, f front) {
	upstream, _ := startUpstream(t, http.HandlerFunc(echoHandler))
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/user/alice", upstream.URL, nil)
	_, srv := startProxy(t, f, table, Options{})
	addr := strings.TrimPrefix(srv.URL, "http://")

	bodies := map[string]string{
		"bad chunk size":   "3\r\nabc\r\nzz\r\n",
		"chunk too long":   "3\r\nabcdef\r\n0\r\n\r\n",
		"unfinished chunk": "a\r\nabc",
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			req := "POST /user/alice/api/contents HTTP/1.1\r\nHost: " + addr +
				"\r\nTransfer-Encoding: chunked\r\n\r\n" + body
			if _, err := io.WriteString(conn, req); err != nil {
				t.Fatal(err)
			}
			if name == "unfinished chunk" {
				conn.(*net.TCPConn).CloseWrite()
			}
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("reading the response: %v", err)
			}
			defer res.Body.Close()
			if res.StatusCode != http.StatusBadRequest {
				b, _ := io.ReadAll(res.Body)
				t.Errorf("status %d, want 400: %s", res.StatusCode, b)
			}
		})
	}
}

func TestProxyStreaming(t *testing.T) { forEachFront(t, testProxyStreaming) }

func testProxyStreaming(t *testing.T, f front) {
	tests := []struct {
		name   string
		header http.Header
	}{
		{"event stream", http.Header{"Content-Type": {"text/event-stream"}}},
		{"chunked", http.Header{"Content-Type": {"application/octet-stream"}}},
		{"content length", http.Header{"Content-Length": {"30"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			upstream, _ := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				io.WriteString(w, "data: first event\n\n")
				http.NewResponseController(w).Flush()
				select {
				case <-release:
				case <-r.Context().Done():
					return
				}
				io.WriteString(w, "data: end\n\n")
			}))
			table := NewTable(TableOptions{})
			mustAdd(t, table, "/", upstream.URL, nil)
			_, srv := startProxy(t, f, table, Options{})

			res, err := http.Get(srv.URL + "/events")
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			br := bufio.NewReader(res.Body)
			first := make(chan string, 1)
			go func() {
				line, _ := br.ReadString('\n')
				first <- line
			}()
			select {
			case line := <-first:
				if line != "data: first event\n" {
					t.Errorf("first line = %q", line)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the first event did not arrive before the response ended")
			}
			close(release)
			rest, err := io.ReadAll(br)
			if err != nil || string(rest) != "\ndata: end\n\n" {
				t.Errorf("rest of the stream = %q, %v", rest, err)
			}
		})
	}
}

func TestProxyActivity(t *testing.T) { forEachFront(t, testProxyActivity) }

func testProxyActivity(t *testing.T, f front) {
	upstream, _ := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/user/alice/missing":
			http.Error(w, "missing", http.StatusNotFound)
		case "/user/alice/redirect":
			http.Redirect(w, r, "/hub/login", http.StatusFound)
		default:
			io.Copy(io.Discard, r.Body)
			io.WriteString(w, "ok")
		}
	}))
	clock := newFakeClock()
	table := NewTable(TableOptions{Now: clock.Now})
	mustAdd(t, table, "/user/alice", upstream.URL, nil)
	mustAdd(t, table, "/user/down", "http://"+closedAddr(t), nil)
	_, srv := startProxy(t, f, table, Options{})
	added := clock.Now()

	tests := []struct {
		name  string
		path  string
		want  int
		moves bool
	}{
		{"success", "/user/alice/api/status", 200, true},
		{"not found", "/user/alice/missing", 404, false},
		{"redirect", "/user/alice/redirect", 302, false},
		{"upstream down", "/user/down/api", 503, false},
		{"success again", "/user/alice/lab", 200, true},
	}
	last := map[string]time.Time{"/user/alice": added, "/user/down": added}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := clock.Advance(time.Minute)
			status, _ := get(t, client, srv.URL+tt.path)
			if status != tt.want {
				t.Fatalf("status = %d, want %d", status, tt.want)
			}
			r, _ := table.Lookup("", tt.path)
			if tt.moves {
				last[r.Spec] = now
			}
			if !r.LastActivity.Equal(last[r.Spec]) {
				t.Errorf("last activity of %s = %v, want %v", r.Spec, r.LastActivity, last[r.Spec])
			}
		})
	}
}

func TestProxyUpstreamDown(t *testing.T) { forEachFront(t, testProxyUpstreamDown) }

func testProxyUpstreamDown(t *testing.T, f front) {
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/user/bob", "http://"+closedAddr(t), nil)
	type call struct {
		status  int
		path    string
		refused bool
	}
	calls := make(chan call, 1)
	_, srv := startProxy(t, f, table, Options{
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, status int, err error) {
			calls <- call{status, r.URL.Path, errors.Is(err, syscall.ECONNREFUSED)}
			w.WriteHeader(status)
			io.WriteString(w, "hub error page")
		},
	})

	status, body := get(t, http.DefaultClient, srv.URL+"/user/bob/api/status")
	if status != 503 || body != "hub error page" {
		t.Errorf("response = %d %q, want 503 from the error handler", status, body)
	}
	want := call{503, "/user/bob/api/status", true}
	if diff := cmp.Diff(want, <-calls, cmp.AllowUnexported(call{})); diff != "" {
		t.Errorf("error handler call (-want +got):\n%s", diff)
	}
}

func TestProxyResponseHeaderTimeout(t *testing.T) { forEachFront(t, testProxyResponseHeaderTimeout) }

func testProxyResponseHeaderTimeout(t *testing.T, f front) {
	release := make(chan struct{})
	defer close(release)
	upstream, _ := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/", upstream.URL, nil)
	_, srv := startProxy(t, f, table, Options{ResponseHeaderTimeout: 50 * time.Millisecond})

	if status, _ := get(t, http.DefaultClient, srv.URL+"/slow"); status != 503 {
		t.Errorf("status = %d, want 503", status)
	}
}

func TestProxyNotFound(t *testing.T) { forEachFront(t, testProxyNotFound) }

func testProxyNotFound(t *testing.T, f front) {
	tests := []struct {
		name       string
		opts       Options
		wantStatus int
		wantBody   string
	}{
		{"default", Options{}, 404, "Not Found\n"},
		{
			"not found handler",
			Options{NotFound: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusTeapot)
				io.WriteString(w, "hub: "+r.URL.Path)
			})},
			418, "hub: /nowhere",
		},
		{
			"error handler",
			Options{ErrorHandler: func(w http.ResponseWriter, r *http.Request, status int, err error) {
				w.WriteHeader(status)
				fmt.Fprintf(w, "%d %v", status, errors.Is(err, ErrNoRoute))
			}},
			404, "404 true",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := NewTable(TableOptions{})
			mustAdd(t, table, "/user/alice", "http://127.0.0.1:1", nil)
			_, srv := startProxy(t, f, table, tt.opts)
			status, body := get(t, http.DefaultClient, srv.URL+"/nowhere")
			if status != tt.wantStatus || body != tt.wantBody {
				t.Errorf("response = %d %q, want %d %q", status, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestProxyHealthCheck(t *testing.T) { forEachFront(t, testProxyHealthCheck) }

func testProxyHealthCheck(t *testing.T, f front) {
	upstream, _ := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "upstream")
	}))
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"off", Options{}, "upstream"},
		{"on", Options{HealthCheck: true}, `{"status": "OK"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := NewTable(TableOptions{})
			mustAdd(t, table, "/", upstream.URL, nil)
			_, srv := startProxy(t, f, table, tt.opts)
			if status, body := get(t, http.DefaultClient, srv.URL+HealthPath); status != 200 || body != tt.want {
				t.Errorf("GET %s = %d %q, want 200 %q", HealthPath, status, body, tt.want)
			}
		})
	}
}

func TestProxyConnectRejected(t *testing.T) { forEachFront(t, testProxyConnectRejected) }

func testProxyConnectRejected(t *testing.T, f front) {
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/", "http://127.0.0.1:1", nil)
	_, srv := startProxy(t, f, table, Options{})

	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("CONNECT status = %d, want 405", res.StatusCode)
	}
}

func TestProxyClosed(t *testing.T) { forEachFront(t, testProxyClosed) }

func testProxyClosed(t *testing.T, f front) {
	upstream, _ := startUpstream(t, http.HandlerFunc(echoHandler))
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/", upstream.URL, nil)
	errs := make(chan error, 1)
	p, srv := startProxy(t, f, table, Options{
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, status int, err error) {
			errs <- err
			w.WriteHeader(status)
		},
	})
	if status, _ := get(t, http.DefaultClient, srv.URL+"/x"); status != 200 {
		t.Fatalf("status before Close = %d", status)
	}
	p.Close()
	if status, _ := get(t, http.DefaultClient, srv.URL+"/x"); status != 503 {
		t.Errorf("status after Close = %d, want 503", status)
	}
	if err := <-errs; !errors.Is(err, ErrClosed) {
		t.Errorf("error after Close = %v, want ErrClosed", err)
	}
}

func TestProxyHostRouting(t *testing.T) { forEachFront(t, testProxyHostRouting) }

func testProxyHostRouting(t *testing.T, f front) {
	alice, _ := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "alice "+r.URL.Path)
	}))
	hub, _ := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hub "+r.URL.Path)
	}))
	table := NewTable(TableOptions{HostRouting: true})
	mustAdd(t, table, "/", hub.URL, nil)
	mustAdd(t, table, "/alice.hub.test", alice.URL, nil)
	_, srv := startProxy(t, f, table, Options{})

	tests := []struct {
		host, path, want string
	}{
		{"alice.hub.test", "/lab", "alice /lab"},
		{"Alice.Hub.Test:8443", "/lab", "alice /lab"},
		{"hub.test", "/hub/login", "hub /hub/login"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+tt.path, nil)
			req.Host = tt.host
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(body) != tt.want {
				t.Errorf("body = %q, want %q", body, tt.want)
			}
		})
	}
}

// TestProxyKeepAlive checks that sequential requests reuse upstream
// connections. A connection returns to the pool just after its response
// body ends, so a request may occasionally find none idle and dial another.
func TestProxyKeepAlive(t *testing.T) { forEachFront(t, testProxyKeepAlive) }

func testProxyKeepAlive(t *testing.T, f front) {
	upstream, conns := startUpstream(t, http.HandlerFunc(echoHandler))
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/", upstream.URL, nil)
	_, srv := startProxy(t, f, table, Options{})
	for i := range 20 {
		if status, _ := get(t, http.DefaultClient, fmt.Sprintf("%s/%d", srv.URL, i)); status != 200 {
			t.Fatalf("request %d: status %d", i, status)
		}
	}
	if n := conns.Open(); n >= 10 {
		t.Errorf("upstream has %d open connections after 20 sequential requests", n)
	}
}

// A route added just before its target listens gets the response, not a
// 503: refused connections to a new route are tried again for a moment.
func TestNewRouteRefusedRetried(t *testing.T) {
	forEachFront(t, func(t *testing.T, f front) {
		addr := closedAddr(t)
		table := NewTable(TableOptions{})
		mustAdd(t, table, "/user/late", "http://"+addr, nil)
		_, srv := startProxy(t, f, table, Options{})

		listening := make(chan error, 1)
		go func() {
			time.Sleep(3 * refusedRetryDelay)
			ln, err := net.Listen("tcp", addr)
			listening <- err
			if err != nil {
				return
			}
			late := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				io.WriteString(w, "late")
			})}
			t.Cleanup(func() { late.Close() })
			late.Serve(ln)
		}()
		status, body := get(t, http.DefaultClient, srv.URL+"/user/late/api")
		if err := <-listening; err != nil {
			t.Skipf("the closed port was taken meanwhile: %v", err)
		}
		if status != 200 || body != "late" {
			t.Errorf("response = %d %q, want 200 \"late\" from the server that listened late", status, body)
		}
	})
}

// Once a route is older than newRouteGrace, a refused connection is a 503
// at once.
func TestOldRouteRefused(t *testing.T) {
	grace := newRouteGrace
	newRouteGrace = 0
	t.Cleanup(func() { newRouteGrace = grace })
	forEachFront(t, func(t *testing.T, f front) {
		table := NewTable(TableOptions{})
		mustAdd(t, table, "/user/down", "http://"+closedAddr(t), nil)
		_, srv := startProxy(t, f, table, Options{})
		if status, _ := get(t, http.DefaultClient, srv.URL+"/user/down/api"); status != 503 {
			t.Errorf("status = %d, want 503", status)
		}
	})
}
