package hub

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jupygo/jupygo/internal/hub/auth"
	"github.com/jupygo/jupygo/internal/hub/config"
	"github.com/jupygo/jupygo/internal/hub/spawn"
	"github.com/jupygo/jupygo/internal/proxy"
	"github.com/jupygo/jupygo/internal/store"
)

// APIVersion is the JupyterHub version whose REST API and single-user
// contract the hub serves. It is sent in X-JupyterHub-Version and in
// GET /hub/api, where clients such as jupyterhub-singleuser compare it
// with their own. The hub serves JupyterHub 3.0's API with the sharing
// endpoints of 5.0, and reports 5.0.0 because JupyterLab's share dialog
// (@jupyter/collaboration 5) offers shares only to a hub of version 5 or
// later.
const APIVersion = "5.0.0"

// Options configures a Hub.
type Options struct {
	// Config is the loaded configuration. Required.
	Config *config.Config
	// Store is the state database. Required; the caller closes it after
	// Serve returns.
	Store store.Store
	// Spawner starts user servers. Required.
	Spawner spawn.Spawner
	// Authenticator signs people in. Required.
	Authenticator auth.Authenticator
	// CookieSecret signs the hub's cookies; at least 32 bytes.
	CookieSecret []byte
	// Logger receives the hub's log records. Nil discards them.
	Logger *slog.Logger
	// Version is jupygo's version, shown in /hub/api/info and the pages.
	Version string
	// APIURL is the hub API's URL as user servers and services reach it,
	// such as "http://127.0.0.1:8081/hub/api". Set it when they cannot
	// use the listener that Serve gets, as when that one serves HTTPS.
	// "" means plain http to that listener's address.
	APIURL string
	// SlowSpawnTimeout is how long a start request waits for the server
	// before the hub replies 202 and the start continues in the
	// background. Zero means 10 seconds, JupyterHub's default.
	SlowSpawnTimeout time.Duration
	// IdleTimeout is how long a client's keep-alive connection may wait
	// for its next request, on the hub's pages and through the proxy.
	// Zero means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Now replaces the clock in tests. Nil means time.Now.
	Now func() time.Time
}

// DefaultIdleTimeout is how long the hub keeps an idle keep-alive connection
// of a client open. Browsers reuse a connection within seconds while a page
// works, so two minutes keeps them fast without holding sockets for days.
const DefaultIdleTimeout = 2 * time.Minute

// Hub is the hub: its pages, REST API and OAuth provider under
// {base_url}hub/, and the built-in proxy in front of the user servers. Use
// New, then Serve.
type Hub struct {
	cfg      *config.Config
	store    store.Store
	spawner  spawn.Spawner
	auth     auth.Authenticator
	log      *slog.Logger
	version  string
	now      func() time.Time
	sessions *sessions
	// logins counts failed sign-ins and failed checks of the current
	// password.
	logins *auth.LoginLimiter
	// base is the base URL, such as "/", and prefix the hub's own prefix,
	// base + "hub/".
	base, prefix string
	slowSpawn    time.Duration
	idle         time.Duration

	routes  *proxy.Table
	proxy   *proxy.Proxy
	metrics *hubMetrics
	mux     *http.ServeMux

	// newTokens keeps the tokens that the token page has just created
	// until it shows them.
	newTokens newTokens

	// warnTokenOwnerOnce logs the deprecation of
	// GET /hub/api/authorizations/token once per process.
	warnTokenOwnerOnce sync.Once

	// namedServers caches the users' named servers for serveUserPath.
	namedServers namedServerSet

	// prepared is set once Prepare has synced the store and restored the
	// routes.
	prepared bool

	// apiURL is the hub API as user servers reach it, such as
	// http://127.0.0.1:8000/hub/api: Options.APIURL, else Serve sets it
	// before serving.
	apiURL string

	// runs tracks the servers being started or stopped by this process,
	// keyed by runKey.
	mu   sync.Mutex
	runs map[string]*run
	// restoredRoutes is the activity of each route that restoreServers
	// added at the time it added it, keyed by runKey. routeMu guards it, apart from mu because
	// repairRoute removes routes while it holds mu.
	routeMu        sync.Mutex
	restoredRoutes map[string]time.Time
	// checking marks the servers whose reachability checkRoute is polling.
	checking map[string]bool
	// failures holds the error of each server's last failed start, for the
	// progress page, until the next start.
	failures map[string]string
	// ctx is cancelled when the hub shuts down, which abandons pending
	// starts; wg waits for their goroutines.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// closing is closed when shutdown begins, which ends progress streams
	// so that http.Server.Shutdown need not wait for them.
	closing   chan struct{}
	closeOnce sync.Once
	// shutdown is closed by POST /hub/api/shutdown, which ends Serve.
	shutdown     chan struct{}
	shutdownOnce sync.Once
}

// loginLimits slow password guessing down without locking people out for
// long. Five failures a minute per user name and address stop guessing at
// one account. Thirty per address stop one client from trying many
// accounts. A hundred per user name, over all addresses, stop guessing
// spread over many addresses, and no single address can reach it. The
// last ten addresses a user signed in from in the last 30 days are exempt
// from the last two limits.
var loginLimits = auth.LoginLimits{
	PerPair: 5, PerAddress: 30, PerUser: 100,
	Window: time.Minute, KnownFor: 30 * 24 * time.Hour, KnownPerUser: 10,
}

// New returns a hub. It checks the configuration and reads nothing from
// the store yet: Serve does.
func New(opts Options) (*Hub, error) {
	switch {
	case opts.Config == nil:
		return nil, errors.New("hub: Options.Config is nil")
	case opts.Store == nil:
		return nil, errors.New("hub: Options.Store is nil")
	case opts.Spawner == nil:
		return nil, errors.New("hub: Options.Spawner is nil")
	case opts.Authenticator == nil:
		return nil, errors.New("hub: Options.Authenticator is nil")
	case len(opts.CookieSecret) < 32:
		return nil, fmt.Errorf("hub: the cookie secret has %d bytes, want at least 32",
			len(opts.CookieSecret))
	}
	if err := CheckConfig(opts.Config, opts.Authenticator.NormalizeUsername); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	h := &Hub{
		cfg:            opts.Config,
		store:          opts.Store,
		spawner:        opts.Spawner,
		auth:           opts.Authenticator,
		log:            log,
		version:        opts.Version,
		now:            now,
		base:           opts.Config.JupyterHub.BaseURL,
		slowSpawn:      opts.SlowSpawnTimeout,
		idle:           cmp.Or(opts.IdleTimeout, DefaultIdleTimeout),
		apiURL:         opts.APIURL,
		runs:           map[string]*run{},
		checking:       map[string]bool{},
		restoredRoutes: map[string]time.Time{},
		failures:       map[string]string{},
		logins:         auth.NewLoginLimiter(loginLimits, opts.Store, now),
	}
	if h.slowSpawn == 0 {
		h.slowSpawn = 10 * time.Second
	}
	h.prefix = h.base + "hub/"
	h.sessions = newSessions(opts.CookieSecret, h.base, now)
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.closing = make(chan struct{})
	h.shutdown = make(chan struct{})
	h.routes = proxy.NewTable(proxy.TableOptions{Now: now})
	h.proxy = proxy.New(h.routes, proxy.Options{
		Logger:       log.With("component", "proxy"),
		NotFound:     http.HandlerFunc(h.serveNoRoute),
		ErrorHandler: h.serveProxyError,
	})
	h.metrics = newMetrics(h)
	h.mux = http.NewServeMux()
	h.register(h.mux)
	return h, nil
}

// ServeHTTP sends requests under the hub's prefix to the hub, and every
// other request through the proxy to the user server whose route matches
// (see serveUserPath for the exception).
// Only the hub's own responses get X-JupyterHub-Version, because user
// servers send their own.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	if h.isHubPath(r.URL.Path) {
		w.Header().Set("X-JupyterHub-Version", APIVersion)
		h.setHSTS(w, r)
		h.mux.ServeHTTP(sw, r)
		h.logRequest(r, sw.status, began, false)
		return
	}
	h.serveUserPath(sw, r)
	h.logRequest(r, sw.status, began, true)
}

// isHubPath reports whether a request for the decoded path is the hub's
// own, rather than one for the proxy.
func (h *Hub) isHubPath(path string) bool {
	return strings.HasPrefix(path, h.prefix) || path+"/" == h.prefix
}

// isReserved reports whether a request for the decoded path must reach
// ServeHTTP instead of the proxy's fast path: the hub's own paths, and
// those of named servers without a route, for which serveUserPath serves
// the not-running page. It must stay in step with ServeHTTP.
func (h *Hub) isReserved(path string) bool {
	if h.isHubPath(path) {
		return true
	}
	// isUnroutedNamedServer reads only the path and the context.
	return h.cfg.JupyterHub.AllowNamedServers &&
		h.isUnroutedNamedServer(&http.Request{URL: &url.URL{Path: path}})
}

// Prepare syncs the store with the configuration, restores the routes of
// the servers that still run and adds those of the services. Serve calls
// it unless it ran already. A caller that announces the hub calls it
// first, so that a start that fails announces nothing.
func (h *Hub) Prepare(ctx context.Context) error {
	if h.prepared {
		return nil
	}
	// A stop signal during these steps ends the start cleanly: what they
	// did not finish, the next start does.
	if err := h.syncConfig(ctx); err != nil {
		return err
	}
	if err := h.restoreServers(ctx); err != nil {
		return err
	}
	if err := h.addServiceRoutes(); err != nil {
		return err
	}
	h.prepared = true
	return nil
}

// Serve calls Prepare, and serves on ln until ctx is done. Then it stops
// accepting requests, abandons pending starts and returns. Running user
// servers are left running, so a restarted hub finds them again.
func (h *Hub) Serve(ctx context.Context, ln net.Listener) error {
	if h.apiURL == "" {
		h.apiURL = "http://" + connectAddr(ln.Addr()) + h.prefix + "api"
	}
	if err := h.Prepare(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       h.idle,
		ErrorLog:          slog.NewLogLogger(h.log.Handler(), slog.LevelDebug),
	}
	srv.RegisterOnShutdown(func() { h.closeOnce.Do(func() { close(h.closing) }) })
	h.recordActivity(h.cfg.JupyterHub.LastActivityInterval)
	h.watch()
	h.cullIdle()
	errc := make(chan error, 1)
	// The proxy's fast path serves the proxied requests it can on its own
	// and hands every other connection to srv.
	opts := proxy.ServeOptions{Reserved: h.isReserved, AccessLog: h.logForwarded}
	go func() { errc <- h.proxy.Serve(srv, ln, opts) }()
	h.log.Info("hub started", "address", ln.Addr().String(), "base_url", h.base,
		"version", h.version)
	var err error
	select {
	case <-ctx.Done():
	case <-h.shutdown:
		h.log.Info("hub shutting down at an API request")
	case err = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	_ = h.proxy.Shutdown(shutdownCtx)
	h.proxy.Close()
	h.cancel()
	h.wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// connectAddr returns the host:port that local clients use to reach addr:
// a listener on all interfaces is reached through loopback.
func connectAddr(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		if ip != nil && ip.To4() == nil {
			host = "::1"
		} else {
			host = "127.0.0.1"
		}
	}
	return net.JoinHostPort(host, port)
}
