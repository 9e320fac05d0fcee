package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

// fakeHub is a JupyterHub that serves the endpoints a single-user server
// uses, as JupyterHub 5 defines them: GET /hub/api/, GET /hub/api/user,
// GET /hub/api/oauth2/authorize, POST /hub/api/oauth2/token and POST
// /hub/api/users/{name}/activity, plus /hub/login and /hub/logout for
// browsers. Its users log in by visiting /hub/login as the user loginAs.
type fakeHub struct {
	*httptest.Server
	t           *testing.T
	version     string
	apiToken    string // the single-user server's token
	clientID    string
	redirectURI string

	mu       sync.Mutex
	loginAs  string              // who /hub/login logs in
	scopes   map[string][]string // user name -> scopes of the tokens issued to them
	tokens   map[string]hubUser  // token -> owner
	codes    map[string]string   // unused OAuth code -> token it is exchanged for
	issued   []string            // OAuth tokens, in issue order
	sessions map[string]string   // hub login cookie value -> user name
	// userCalls counts GET /hub/api/user requests.
	userCalls int
	activity  chan activityPost
}

// activityPost is one activity report the hub received.
type activityPost struct {
	user          string
	authorization string
	body          map[string]any
}

const (
	fakeHubAPIToken = "0123456789abcdef0123456789abcdef"
	fakeHubClientID = "jupyterhub-user-alice"
)

func newFakeHub(t *testing.T) *fakeHub {
	t.Helper()
	h := &fakeHub{
		t:           t,
		version:     "5.5.1",
		apiToken:    fakeHubAPIToken,
		clientID:    fakeHubClientID,
		redirectURI: "/user/alice/oauth_callback",
		loginAs:     "alice",
		scopes: map[string][]string{
			"alice": {"access:servers!user=alice", "read:users:name!user=alice", "users:activity!user=alice"},
			"bob":   {"access:servers!user=bob", "read:users:name!user=bob"},
			"carol": {"read:users:name!user=carol"},
			"admin": {"access:servers", "admin:users"},
		},
		tokens:   map[string]hubUser{},
		codes:    map[string]string{},
		sessions: map[string]string{},
		activity: make(chan activityPost, 16),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hub/api/{$}", h.handleRoot)
	mux.HandleFunc("GET /hub/api/user", h.handleUser)
	mux.HandleFunc("GET /hub/api/oauth2/authorize", h.handleAuthorize)
	mux.HandleFunc("POST /hub/api/oauth2/token", h.handleToken)
	mux.HandleFunc("POST /hub/api/users/{name}/activity", h.handleActivity)
	mux.HandleFunc("GET /hub/login", h.handleLogin)
	mux.HandleFunc("GET /hub/logout", h.handleLogout)
	h.Server = httptest.NewServer(mux)
	t.Cleanup(h.Close)
	return h
}

// newToken issues a token of user with the user's scopes, or with scopes
// when they are given.
func (h *fakeHub) newToken(user string, scopes ...string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.newTokenLocked(user, scopes...)
}

func (h *fakeHub) newTokenLocked(user string, scopes ...string) string {
	if scopes == nil {
		scopes = h.scopes[user]
	}
	token := randomHex(16)
	h.tokens[token] = hubUser{Kind: "user", Name: user, Groups: []string{}, Scopes: scopes}
	return token
}

func (h *fakeHub) revoke(token string) {
	h.mu.Lock()
	delete(h.tokens, token)
	h.mu.Unlock()
}

// setScopes changes the scopes the hub reports for token, as a share of a
// server given or revoked does for its guest.
func (h *fakeHub) setScopes(token string, scopes ...string) {
	h.mu.Lock()
	u := h.tokens[token]
	u.Scopes = scopes
	h.tokens[token] = u
	h.mu.Unlock()
}

func (h *fakeHub) lastIssued() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.issued) == 0 {
		return ""
	}
	return h.issued[len(h.issued)-1]
}

func (h *fakeHub) userRequests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.userCalls
}

func (h *fakeHub) setLoginAs(user string) {
	h.mu.Lock()
	h.loginAs = user
	h.mu.Unlock()
}

// writeError writes an error as the hub's REST API does.
func (h *fakeHub) writeError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"status": status, "message": message})
}

func (h *fakeHub) writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (h *fakeHub) handleRoot(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-JupyterHub-Version", h.version)
	h.writeJSON(w, map[string]string{"version": h.version})
}

var authHeader = regexp.MustCompile(`(?i)^(?:token|bearer)\s+(.+)$`)

// bearer returns the token of an Authorization header.
func bearer(r *http.Request) string {
	m := authHeader.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return ""
	}
	return m[1]
}

func (h *fakeHub) handleUser(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.userCalls++
	user, ok := h.tokens[bearer(r)]
	h.mu.Unlock()
	if !ok {
		h.writeError(w, http.StatusForbidden, "Missing or invalid credentials.")
		return
	}
	h.writeJSON(w, map[string]any{
		"kind": user.Kind, "name": user.Name, "admin": false, "groups": user.Groups,
		"scopes": user.Scopes, "session_id": nil,
	})
}

// handleAuthorize checks the client and redirect_uri and sends the browser
// back with a new code, skipping the confirmation page, as JupyterHub does
// for a user's own server.
func (h *fakeHub) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	user := h.loggedIn(r)
	if user == "" {
		http.Redirect(w, r, "/hub/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
		return
	}
	q := r.URL.Query()
	if q.Get("client_id") != h.clientID || q.Get("redirect_uri") != h.redirectURI ||
		q.Get("response_type") != "code" {
		h.writeError(w, http.StatusBadRequest, "invalid authorize request: "+r.URL.RawQuery)
		return
	}
	h.mu.Lock()
	code := randomHex(8)
	h.codes[code] = h.newTokenLocked(user)
	h.mu.Unlock()
	target := h.redirectURI + "?" + url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
	http.Redirect(w, r, target, http.StatusFound)
}

// handleToken exchanges a code once, for the client whose secret is the
// server's API token.
func (h *fakeHub) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		h.writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	f := r.PostForm
	if f.Get("client_id") != h.clientID || f.Get("client_secret") != h.apiToken {
		h.writeJSON(w, map[string]string{"error": "invalid_client"})
		return
	}
	h.mu.Lock()
	token, ok := h.codes[f.Get("code")]
	delete(h.codes, f.Get("code"))
	if ok {
		h.issued = append(h.issued, token)
	}
	h.mu.Unlock()
	if !ok || f.Get("grant_type") != "authorization_code" || f.Get("redirect_uri") != h.redirectURI {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{
			"error": "invalid_grant", "error_description": "Invalid code",
		})
		return
	}
	h.writeJSON(w, map[string]any{
		"access_token": token, "token_type": "Bearer", "expires_in": 1209600,
		"scope": "access:servers!server=alice/",
	})
}

// handleActivity checks an activity report as the hub does: the server's
// token, a servers object of known names and a valid timestamp.
func (h *fakeHub) handleActivity(w http.ResponseWriter, r *http.Request) {
	if bearer(r) != h.apiToken {
		h.writeError(w, http.StatusForbidden, "Action is not authorized with current scopes")
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		h.writeError(w, http.StatusBadRequest, "body is not JSON")
		return
	}
	if _, ok := body["servers"].(map[string]any); !ok && body["last_activity"] == nil {
		h.writeError(w, http.StatusBadRequest, "body has no servers and no last_activity")
		return
	}
	h.activity <- activityPost{user: r.PathValue("name"),
		authorization: r.Header.Get("Authorization"), body: body}
	w.WriteHeader(http.StatusOK)
}

func (h *fakeHub) handleLogin(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	user := h.loginAs
	session := randomHex(8)
	h.sessions[session] = user
	h.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "jupyterhub-hub-login", Value: session, Path: "/hub/",
		HttpOnly: true})
	http.SetCookie(w, &http.Cookie{Name: "jupyterhub-session-id", Value: randomHex(8), Path: "/"})
	next := r.URL.Query().Get("next")
	if !strings.HasPrefix(next, "/") {
		next = "/hub/home"
	}
	http.Redirect(w, r, next, http.StatusFound)
}

func (h *fakeHub) handleLogout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: "jupyterhub-hub-login", Path: "/hub/", MaxAge: -1})
	http.SetCookie(w, &http.Cookie{Name: "jupyterhub-session-id", Path: "/", MaxAge: -1})
	w.Write([]byte("logged out"))
}

func (h *fakeHub) loggedIn(r *http.Request) string {
	c, err := r.Cookie("jupyterhub-hub-login")
	if err != nil {
		return ""
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions[c.Value]
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// hubEnv returns the environment a hub gives alice's default server.
func (h *fakeHub) env() map[string]string {
	api := h.URL + "/hub/api"
	return map[string]string{
		"JUPYTERHUB_API_TOKEN":                   h.apiToken,
		"JUPYTERHUB_API_URL":                     api,
		"JUPYTERHUB_ACTIVITY_URL":                api + "/users/alice/activity",
		"JUPYTERHUB_BASE_URL":                    "/",
		"JUPYTERHUB_CLIENT_ID":                   h.clientID,
		"JUPYTERHUB_HOST":                        "",
		"JUPYTERHUB_OAUTH_CALLBACK_URL":          h.redirectURI,
		"JUPYTERHUB_OAUTH_ACCESS_SCOPES":         `["access:servers!server=alice/", "access:servers!user=alice"]`,
		"JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES": `[]`,
		"JUPYTERHUB_SERVER_NAME":                 "",
		"JUPYTERHUB_SERVICE_PREFIX":              "/user/alice/",
		// Port 0 picks a free port, which the test reads from the listener.
		"JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:0/user/alice/",
		"JUPYTERHUB_USER":        "alice",
	}
}

// hubServer is a single-user server run by a fake hub, with a proxy in
// front that sends /hub/ to the hub and everything else to the server, as
// the hub's proxy does.
type hubServer struct {
	srv    *Server
	hub    *fakeHub
	direct string // http://127.0.0.1:PORT of the server itself
	front  *httptest.Server
	logs   *syncBuffer
	root   string
}

// fakeBuild is a JupyterLab build whose page shows the page config.
var fakeBuild = fstest.MapFS{
	"static/index.html": {Data: []byte(`<!doctype html><html><head>` +
		`<script id="jupyter-config-data" type="application/json">{{PAGE_CONFIG_JSON}}</script>` +
		`</head><body></body></html>`)},
	"static/package.json": {Data: []byte(`{"name": "@jupygo/lab", "jupyterlab": {"version": "4.6.4"}}`)},
}

// startHubServer starts a server in single-user mode with the hub's
// environment, changed by env (an empty value removes a variable), and
// waits until it serves.
func startHubServer(t *testing.T, hub *fakeHub, env map[string]string) *hubServer {
	t.Helper()
	vars := hub.env()
	for k, v := range env {
		vars[k] = v
	}
	hc, err := HubConfigFromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	srv, err := New(Config{
		RootDir:    t.TempDir(),
		RuntimeDir: t.TempDir(),
		ConfigDir:  t.TempDir(),
		Version:    "test",
		Frontend:   fakeBuild,
		Log:        slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Hub:        hc,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.hub.client.checkBackoff = func(int) time.Duration { return 0 }
	ln, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})

	hs := &hubServer{srv: srv, hub: hub, logs: logs, root: srv.cfg.RootDir,
		direct: "http://" + ln.Addr().String()}
	hs.front = httptest.NewServer(frontProxy(hub.URL, hs.direct))
	t.Cleanup(hs.front.Close)
	hs.waitReady(t)
	return hs
}

// waitReady returns once the server serves requests. Serve accepts
// connections only after the start-up check of the hub, so the first
// request waits for it.
func (hs *hubServer) waitReady(t *testing.T) {
	t.Helper()
	probe := hs.srv.cfg.BaseURL + "api"
	resp, err := http.Get(hs.direct + probe)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d, want 200", probe, resp.StatusCode)
	}
}

// frontProxy routes /hub/ to the hub and the rest to the server, keeping
// the Host header, as configurable-http-proxy does.
func frontProxy(hubURL, serverURL string) http.Handler {
	hub, _ := url.Parse(hubURL)
	server, _ := url.Parse(serverURL)
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			target := server
			if strings.HasPrefix(r.In.URL.Path, "/hub/") {
				target = hub
			}
			r.SetURL(target)
			r.Out.Host = r.In.Host
			r.SetXForwarded()
			if proto := r.In.Header.Get("X-Forwarded-Proto"); proto != "" {
				r.Out.Header.Set("X-Forwarded-Proto", proto) // set by a TLS terminator in front
			}
		},
	}
}

// freePort returns a loopback port that nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}
