package hub

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jupygo/jupygo/internal/hub/auth"
	"github.com/jupygo/jupygo/internal/hub/config"
	"github.com/jupygo/jupygo/internal/hub/spawn"
	"github.com/jupygo/jupygo/internal/store"
	"golang.org/x/crypto/bcrypt"
)

// fakeSpawner starts an in-process HTTP server per user server, which
// replies to every request with what it received.
type fakeSpawner struct {
	mu       sync.Mutex
	next     int
	servers  map[int]*httptest.Server
	requests []spawn.Request
	// gate, when set, blocks Start until it is closed or receives.
	gate chan struct{}
	// fail makes Start return this error.
	fail error
	// reportState makes Start run the server before it waits for gate,
	// and report its state with the first progress event, as the real
	// spawner does once its process runs.
	reportState bool
}

type fakeState struct {
	ID int `json:"id"`
}

func newFakeSpawner() *fakeSpawner {
	return &fakeSpawner{servers: map[int]*httptest.Server{}}
}

func (f *fakeSpawner) Start(ctx context.Context, r spawn.Request, progress func(spawn.Event)) (spawn.Started, error) {
	f.mu.Lock()
	f.requests = append(f.requests, r)
	gate, fail, early := f.gate, f.fail, f.reportState
	f.mu.Unlock()
	var started spawn.Started
	event := spawn.Event{Progress: 50, Message: "process started"}
	if early {
		started = f.launch(r)
		event.State = started.State
	}
	progress(event)
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			f.Stop(ctx, started.State)
			return spawn.Started{}, ctx.Err()
		}
	}
	if fail != nil {
		f.Stop(ctx, started.State)
		return spawn.Started{}, fail
	}
	if !early {
		started = f.launch(r)
	}
	return started, nil
}

// launch starts the HTTP server that stands for r's server process.
func (f *fakeSpawner) launch(r spawn.Request) spawn.Started {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasSuffix(req.URL.Path, "/ws") {
			echoWebSocket(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"user": r.User, "server": r.Server, "path": req.URL.Path,
			"headers": req.Header,
		})
	}))
	f.mu.Lock()
	f.next++
	id := f.next
	f.servers[id] = srv
	f.mu.Unlock()
	state, _ := json.Marshal(fakeState{ID: id})
	return spawn.Started{URL: srv.URL, State: state}
}

// echoWebSocket sends every message of a WebSocket back.
func echoWebSocket(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer c.CloseNow()
	for {
		typ, data, err := c.Read(r.Context())
		if err != nil {
			return
		}
		if err := c.Write(r.Context(), typ, data); err != nil {
			return
		}
	}
}

func (f *fakeSpawner) server(state json.RawMessage) (*httptest.Server, int) {
	var st fakeState
	if json.Unmarshal(state, &st) != nil {
		return nil, 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.servers[st.ID], st.ID
}

func (f *fakeSpawner) Poll(ctx context.Context, state json.RawMessage) (bool, error) {
	srv, _ := f.server(state)
	return srv != nil, nil
}

func (f *fakeSpawner) Stop(ctx context.Context, state json.RawMessage) error {
	srv, id := f.server(state)
	if srv != nil {
		srv.Close()
		f.mu.Lock()
		delete(f.servers, id)
		f.mu.Unlock()
	}
	return nil
}

// kill ends every server as if its process died.
func (f *fakeSpawner) kill() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, srv := range f.servers {
		srv.Close()
		delete(f.servers, id)
	}
}

func (f *fakeSpawner) running() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.servers)
}

func (f *fakeSpawner) lastRequest() spawn.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[len(f.requests)-1]
}

// testHub is a hub serving on a loopback port with a store in a temp dir.
type testHub struct {
	t       testing.TB
	hub     *Hub
	store   store.Store
	spawner *fakeSpawner
	local   *auth.Local
	url     string
	stop    func()
	// client sends requests to the hub: http.DefaultClient, or over HTTPS
	// one that trusts the hub's certificate.
	client *http.Client
}

const testPassword = "correct horse battery"

// hubOptions adjusts a test hub before it starts.
type hubOptions struct {
	config string // TOML
	store  store.Store
	spawn  *fakeSpawner
	auth   auth.Authenticator
	// tls, when set, makes the hub serve HTTPS with this configuration,
	// and client is then the one that trusts its certificate.
	tls    *tls.Config
	client *http.Client
	// spawner, when set, is the hub's spawner in place of the fake one.
	spawner spawn.Spawner
	// log, when set, receives the hub's log records.
	log *slog.Logger
	// idleTimeout, when set, replaces DefaultIdleTimeout.
	idleTimeout time.Duration
}

func startHub(t testing.TB, o hubOptions) *testHub {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Parse([]byte(o.config), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	st := o.store
	if st == nil {
		st, err = store.Open(ctx, "sqlite:///"+filepath.Join(t.TempDir(), "hub.sqlite"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
	}
	sp := o.spawn
	if sp == nil {
		sp = newFakeSpawner()
		t.Cleanup(sp.kill)
	}
	local, err := auth.NewLocal(st, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	var a auth.Authenticator = local
	if o.auth != nil {
		a = o.auth
	}
	var spawner spawn.Spawner = sp
	if o.spawner != nil {
		spawner = o.spawner
	}
	log := o.log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h, err := New(Options{
		Config: cfg, Store: st, Spawner: spawner, Authenticator: a,
		CookieSecret: []byte(strings.Repeat("k", 32)),
		Logger:       log,
		Version:      "test", SlowSpawnTimeout: 5 * time.Second,
		IdleTimeout: o.idleTimeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	th := &testHub{t: t, hub: h, store: st, spawner: sp, local: local,
		url: "http://" + ln.Addr().String(), client: http.DefaultClient}
	if o.tls != nil {
		ln = tls.NewListener(ln, o.tls)
		th.url, th.client = "https://"+ln.Addr().String(), o.client
	}
	serveCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.Serve(serveCtx, ln) }()
	var once sync.Once
	th.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(th.stop)
	th.waitUp()
	return th
}

func (th *testHub) waitUp() {
	th.t.Helper()
	for range 200 {
		resp, err := th.client.Get(th.url + "/hub/health")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	th.t.Fatal("hub did not start")
}

// addUser creates a local account with testPassword.
func (th *testHub) addUser(name string, admin bool) {
	th.t.Helper()
	ctx := context.Background()
	if err := th.local.SetPassword(ctx, name, testPassword); err != nil {
		th.t.Fatal(err)
	}
	if _, err := th.store.UpdateUser(ctx, name, store.UserUpdate{Admin: &admin}); err != nil {
		th.t.Fatal(err)
	}
}

// token creates an API token of a user with the given scopes (nil for
// all of the user's).
func (th *testHub) token(user string, scopes ...string) string {
	th.t.Helper()
	if scopes == nil {
		scopes = []string{"inherit"}
	}
	_, tok, err := th.store.CreateToken(context.Background(), store.NewToken{
		Owner: store.Owner{User: user}, Scopes: scopes})
	if err != nil {
		th.t.Fatal(err)
	}
	return tok
}

// apiResult is a response of the REST API.
type apiResult struct {
	status int
	header http.Header
	body   []byte
}

func (r apiResult) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response %d is not JSON: %v: %s", r.status, err, r.body)
	}
}

// api calls the REST API with a token.
func (th *testHub) api(method, path, token string, body any) apiResult {
	th.t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = strings.NewReader(string(data))
	}
	req, err := http.NewRequest(method, th.url+path, rd)
	if err != nil {
		th.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "token "+token)
	}
	resp, err := th.client.Do(req)
	if err != nil {
		th.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return apiResult{status: resp.StatusCode, header: resp.Header, body: data}
}

// browser is an HTTP client with cookies that does not follow redirects.
type browser struct {
	t      testing.TB
	client *http.Client
	base   string
	prefix string // the hub's prefix, such as /hub/
}

func (th *testHub) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: th.t, base: th.url, prefix: th.hub.prefix, client: &http.Client{Jar: jar,
		Transport:     th.client.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type pageResult struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (b *browser) do(req *http.Request) pageResult {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return pageResult{status: resp.StatusCode, location: resp.Header.Get("Location"),
		body: string(data), header: resp.Header}
}

func (b *browser) get(path string) pageResult {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// withToken sends a request with the browser's cookies and an
// Authorization header, as JupyterLab's fetches carry.
func (b *browser) withToken(method, path, token string) pageResult {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+token)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) pageResult {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var xsrfField = regexp.MustCompile(`name="_xsrf" value="([^"]+)"`)

// xsrf returns the XSRF token of a page.
func (b *browser) xsrf(path string) string {
	b.t.Helper()
	p := b.get(path)
	m := xsrfField.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("GET %s: %d, no _xsrf field in %q", path, p.status, p.body)
	}
	return m[1]
}

// login signs in and returns the redirect of the login form.
func (b *browser) login(user, password, next string) pageResult {
	b.t.Helper()
	path := b.prefix + "login"
	if next != "" {
		path += "?next=" + url.QueryEscape(next)
	}
	token := b.xsrf(path)
	return b.post(path, url.Values{"_xsrf": {token}, "username": {user}, "password": {password}})
}

func (b *browser) mustLogin(user string) {
	b.t.Helper()
	if p := b.login(user, testPassword, ""); p.status != http.StatusFound {
		b.t.Fatalf("login of %s: %d %s", user, p.status, p.body)
	}
}

// waitFor polls cond until it holds, for at most 5 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var _ = fmt.Sprintf

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
