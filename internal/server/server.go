// Package server is the single-user Jupyter server behind `jupygo server`:
// it wires the contents manager, the kernel manager, sessions and the
// JupyterLab endpoints into one HTTP handler under a base URL, authenticates
// every request, and runs the listener.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jupygo/jupygo/internal/collab"
	"github.com/jupygo/jupygo/internal/contents"
	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/kernel"
	"github.com/jupygo/jupygo/internal/lab"
	"github.com/jupygo/jupygo/internal/nbconvert"
	"github.com/jupygo/jupygo/internal/terminal"
)

// Config is the configuration of `jupygo server`. The zero value of each
// field is its documented default unless noted.
type Config struct {
	// IP is the address to listen on; "" means 127.0.0.1.
	IP string
	// Port is the port to listen on; 0 picks a free one. When the port is
	// taken, the next PortRetries ports are tried in turn.
	Port        int
	PortRetries int
	// RootDir is the folder the contents API serves; "" means the current
	// folder.
	RootDir string
	// BaseURL is the path prefix of every URL, with slashes at both ends;
	// "" means "/". It is a URL path, so "/x%20y/" serves /x%20y/ and so
	// does "/x y/", whose space New escapes.
	BaseURL string
	// Token authenticates clients. NoAuth turns authentication off, which is
	// only safe behind another authenticating layer.
	Token  string
	NoAuth bool
	// AllowHidden lets the contents API read and write hidden files.
	AllowHidden bool
	// AllowSymlinksOutsideRoot lets the contents API follow symbolic links
	// that point out of RootDir.
	AllowSymlinksOutsideRoot bool
	// DeleteToTrash makes the contents API move deleted files to the
	// user's trash. The zero value deletes for good; `jupygo server` turns
	// it on unless --delete-to-trash=false.
	DeleteToTrash bool
	// AlwaysDeleteDir lets the contents API delete a folder with files in
	// it for good when DeleteToTrash is off.
	AlwaysDeleteDir bool
	// RuntimeDir holds connection files, the cookie secret and the server
	// info file; "" means the Jupyter runtime dir.
	RuntimeDir string
	// ConfigDir is the Jupyter config dir (lab settings, workspaces,
	// serverconfig); "" means ~/.jupyter or JUPYTER_CONFIG_DIR.
	ConfigDir string
	// ConfigPath is the list of Jupyter config folders whose serverconfig
	// sections /api/config merges, highest priority first; it should hold
	// ConfigDir, where changes are written. nil means JUPYTER_CONFIG_PATH's
	// folders, then ConfigDir, /usr/local/etc/jupyter and /etc/jupyter.
	ConfigPath []string
	// CullIdleTimeout turns on the culling of idle kernels: a kernel idle
	// for longer is shut down. 0 (the default) culls nothing.
	CullIdleTimeout time.Duration
	// CullInterval is how often kernels are checked for culling; 0 means
	// 5 minutes.
	CullInterval time.Duration
	// CullConnected and CullBusy also cull idle kernels that have a
	// WebSocket attached, and kernels whose state is busy.
	CullConnected bool
	CullBusy      bool
	// Collaborative turns on real-time collaboration: the file id API,
	// document sessions and the room WebSockets of jupyter-collaboration,
	// and JupyterLab's shared documents (page config disableRTC false).
	Collaborative bool
	// Collab tunes the collaboration service. New sets its Files, DataDir,
	// RootDir, Version and Log; zero fields take the defaults that
	// collab.Options documents.
	Collab collab.Options
	// DataDir is the Jupyter data folder, where the collaboration service
	// keeps its database; "" means JUPYTER_DATA_DIR or
	// ~/.local/share/jupyter.
	DataDir string
	// ExposeAppInBrowser makes JupyterLab set window.jupyterapp, which
	// browser tests and extensions under development use.
	ExposeAppInBrowser bool
	// Frontend is the built JupyterLab. When it is nil, /lab serves a page
	// that explains how to build it.
	Frontend fs.FS
	// Version is reported by /api.
	Version string
	Log     *slog.Logger
	// Hub turns on single-user mode: the server runs for a JupyterHub user,
	// takes IP, Port, BaseURL and an empty RootDir from the hub's settings,
	// tries no other port, has no token of its own and authenticates
	// through the hub. nil runs a standalone server.
	Hub *HubConfig
}

// Server is a running single-user server. Create it with New, start it with
// Serve, and stop it by cancelling the context given to Serve.
type Server struct {
	cfg       Config
	log       *slog.Logger
	memory    memoryReleaser
	auth      *authenticator
	contents  *contents.Manager
	kernels   *kernel.Manager
	terminals *terminal.Manager
	sessions  *sessionManager
	config    *configStore
	lab       *lab.Lab
	nbconvert *nbconvert.Exporter
	// collab is nil unless Config.Collaborative is set.
	collab *collab.Service
	// events are the events that /api/events/subscribe streams.
	events  eventBus
	handler http.Handler
	// basePath is cfg.BaseURL decoded, which request paths are matched
	// against.
	basePath string
	started  time.Time
	reqSeq   atomic.Uint64

	// idp authenticates requests: auth, or hub in single-user mode, where
	// auth holds no token and only fills the server info file.
	idp identityProvider
	hub *hubAuth

	mu           sync.Mutex
	lastActivity time.Time

	// quit is closed by POST /api/shutdown, which ends Serve.
	quit     chan struct{}
	quitOnce sync.Once
}

// New prepares a server from cfg: it resolves the folders, loads the cookie
// secret and creates the managers. It listens on nothing yet.
func New(cfg Config) (*Server, error) {
	if err := cfg.fillDefaults(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Log, started: time.Now().UTC(), quit: make(chan struct{})}
	s.basePath, _ = url.PathUnescape(cfg.BaseURL) // canonicalBaseURL checked it
	s.lastActivity = s.started

	secret, err := loadCookieSecret(filepath.Join(cfg.RuntimeDir, "jupygo_cookie_secret"))
	if err != nil {
		return nil, err
	}
	token := cfg.Token
	if cfg.NoAuth {
		token = ""
	}
	s.auth = newAuthenticator(token, secret, cookieName(cfg.IP, cfg.Port), cfg.BaseURL)
	s.idp = s.auth
	if cfg.Hub != nil {
		s.hub = newHubAuth(cfg.Hub, secret, cfg.Log.With("component", "hubauth"))
		s.idp = s.hub
	}

	s.contents, err = contents.New(cfg.RootDir, contents.Options{
		Log:                      cfg.Log.With("component", "contents"),
		AllowHidden:              cfg.AllowHidden,
		AllowSymlinksOutsideRoot: cfg.AllowSymlinksOutsideRoot,
		DeleteToTrash:            cfg.DeleteToTrash,
		AlwaysDeleteDir:          cfg.AlwaysDeleteDir,
	})
	if err != nil {
		return nil, fmt.Errorf("opening root folder: %w", err)
	}
	s.kernels, err = kernel.NewManager(kernel.Options{
		Log:        cfg.Log.With("component", "kernel"),
		RuntimeDir: cfg.RuntimeDir,
		ResolveCwd: s.contents.ResolveDir,
		BaseURL:    cfg.BaseURL,

		CullIdleTimeout: cfg.CullIdleTimeout,
		CullInterval:    cfg.CullInterval,
		CullConnected:   cfg.CullConnected,
		CullBusy:        cfg.CullBusy,
	})
	if err != nil {
		return nil, fmt.Errorf("starting kernel manager: %w", err)
	}
	s.terminals = terminal.NewManager(terminal.Options{
		Log:        cfg.Log.With("component", "terminal"),
		RootDir:    cfg.RootDir,
		ResolveCwd: s.contents.ResolveDir,
		Env:        s.terminalEnv,
	})
	if cfg.Collaborative {
		if err := s.startCollab(); err != nil {
			return nil, err
		}
	}
	s.sessions = newSessionManager(s.kernels, s.contents)
	s.nbconvert = nbconvert.New(nbconvert.Options{
		Log:      cfg.Log.With("component", "nbconvert"),
		Contents: s.contents,
	})
	s.config = newConfigStore(cfg.ConfigDir, cfg.ConfigPath)
	s.lab, err = lab.New(lab.Options{
		Log:             cfg.Log.With("component", "lab"),
		Build:           cfg.Frontend,
		BaseURL:         cfg.BaseURL,
		UserSettingsDir: filepath.Join(cfg.ConfigDir, "lab", "user-settings"),
		WorkspacesDir:   filepath.Join(cfg.ConfigDir, "lab", "workspaces"),
		AppSettingsDirs: appSettingsDirs(),
		// Prebuilt extensions, in the labextensions folder of each
		// Jupyter data folder, as jupyterlab_server finds them.
		LabextensionsDirs: labextensionsDirs(),
		PageConfig:        s.pageConfig,
		Collaborative:     cfg.Collaborative,
	})
	if err != nil {
		return nil, fmt.Errorf("preparing JupyterLab: %w", err)
	}
	s.handler = s.routes()
	return s, nil
}

func (c *Config) fillDefaults() error {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Hub != nil {
		c.applyHub()
	}
	if c.IP == "" {
		c.IP = "127.0.0.1"
	}
	if c.RootDir == "" {
		c.RootDir = "."
	}
	root, err := filepath.Abs(c.RootDir)
	if err != nil {
		return fmt.Errorf("resolving root folder %q: %w", c.RootDir, err)
	}
	if fi, err := os.Stat(root); err != nil {
		return fmt.Errorf("root folder: %w", err)
	} else if !fi.IsDir() {
		return fmt.Errorf("root folder %s is not a folder", root)
	}
	c.RootDir = root
	if c.BaseURL, err = canonicalBaseURL(c.BaseURL); err != nil {
		return err
	}
	if c.RuntimeDir == "" {
		c.RuntimeDir = jupyterRuntimeDir()
	}
	if c.ConfigDir == "" {
		c.ConfigDir = jupyterConfigDir()
	}
	if c.ConfigPath == nil {
		c.ConfigPath = jupyterConfigPath(c.ConfigDir)
	}
	if c.DataDir == "" {
		c.DataDir = jupyterDataDir()
	}
	if !c.NoAuth && c.Token == "" {
		c.Token = newToken()
	}
	return os.MkdirAll(c.RuntimeDir, 0o700)
}

// startCollab starts the collaboration service and has it follow the
// contents manager's renames, copies and deletes.
func (s *Server) startCollab() error {
	opts := s.cfg.Collab
	opts.Files = collab.ContentsFiles(s.contents)
	opts.DataDir = s.cfg.DataDir
	opts.RootDir = s.cfg.RootDir
	opts.Version = s.cfg.Version
	opts.Log = s.cfg.Log.With("component", "collab")
	opts.Emit = s.events.publish
	svc, err := collab.New(opts)
	if err != nil {
		return fmt.Errorf("starting collaboration: %w", err)
	}
	s.collab = svc
	s.contents.OnChange(svc.ContentsChanged)
	return nil
}

func (s *Server) closeCollab(ctx context.Context) error {
	if s.collab == nil {
		return nil
	}
	if err := s.collab.Close(ctx); err != nil {
		return fmt.Errorf("closing collaboration rooms: %w", err)
	}
	return nil
}

// normalizeBaseURL returns base with exactly one slash at each end.
func normalizeBaseURL(base string) string {
	base = strings.Trim(base, "/")
	if base == "" {
		return "/"
	}
	return "/" + base + "/"
}

// newToken returns a random token of 48 hex digits, as jupyter_server makes.
func newToken() string {
	var b [24]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// cookieName returns the login cookie's name. Browsers share cookies across
// ports, so the name carries host and port to keep two servers on one machine
// from logging each other out.
func cookieName(ip string, port int) string {
	r := strings.NewReplacer(".", "-", ":", "-", "[", "", "]", "")
	return fmt.Sprintf("jupygo-%s-%d", r.Replace(ip), port)
}

// Handler returns the server's HTTP handler, for tests and for embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// Token returns the token clients authenticate with, "" when authentication
// is off.
func (s *Server) Token() string { return s.auth.token }

// BaseURL returns the base URL, with slashes at both ends.
func (s *Server) BaseURL() string { return s.cfg.BaseURL }

// RootDir returns the absolute, cleaned path of the root folder, as the
// server info file gives it.
func (s *Server) RootDir() string { return s.cfg.RootDir }

// Listen opens the listening socket, trying the following ports when the
// configured one is taken, and returns it.
func (s *Server) Listen() (net.Listener, error) {
	var lastErr error
	for i := 0; i <= s.cfg.PortRetries; i++ {
		port := s.cfg.Port
		if port != 0 {
			port += i
		}
		addr := net.JoinHostPort(s.cfg.IP, fmt.Sprint(port))
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			if i > 0 {
				s.log.Info("port taken, using the next free one",
					"requested", s.cfg.Port, "port", port)
			}
			s.setPort(ln.Addr().(*net.TCPAddr).Port)
			return ln, nil
		}
		lastErr = err
		if s.cfg.Port == 0 {
			break
		}
	}
	return nil, fmt.Errorf("listening on %s port %d: %w", s.cfg.IP, s.cfg.Port, lastErr)
}

// setPort records the port actually bound, which names the login cookie.
func (s *Server) setPort(port int) {
	s.cfg.Port = port
	s.auth.cookieName = cookieName(s.cfg.IP, port)
}

// Serve serves HTTP on ln until ctx is cancelled or a client requests
// POST /api/shutdown, then shuts down: it stops accepting, closes
// WebSockets, and ends every kernel and terminal. In
// single-user mode it first checks that the hub answers, returning an error
// if it does not, and reports activity to the hub while it serves.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stopHub, err := s.startHub(ctx)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopHub()

	connCtx, cancelConns := context.WithCancel(context.Background())
	defer cancelConns()
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return connCtx },
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	info, err := s.writeServerInfo()
	if err != nil {
		s.log.Warn("cannot write server info file", "err", err)
	}

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
	case <-s.quit:
	}

	s.log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cancelConns() // WebSocket handlers watch their request context
	if e := hs.Shutdown(shutCtx); e != nil && err == nil {
		err = fmt.Errorf("stopping HTTP server: %w", e)
	}
	if e := s.kernels.Close(shutCtx); e != nil && err == nil {
		err = fmt.Errorf("shutting down kernels: %w", e)
	}
	if e := s.terminals.Close(shutCtx); e != nil && err == nil {
		err = fmt.Errorf("shutting down terminals: %w", e)
	}
	s.nbconvert.Close()
	// Rooms save their documents before the contents manager closes.
	if e := s.closeCollab(shutCtx); e != nil && err == nil {
		err = e
	}
	// This also removes the temporary files of unfinished uploads.
	if e := s.contents.Close(); e != nil && err == nil {
		err = fmt.Errorf("closing the contents manager: %w", e)
	}
	if e := s.lab.Close(); e != nil && err == nil {
		err = fmt.Errorf("closing the JupyterLab extension folders: %w", e)
	}
	if info != "" {
		os.Remove(info)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// URLs returns the addresses a person opens to reach JupyterLab, with the
// token for the first visit.
func (s *Server) URLs() []string {
	hosts := []string{s.cfg.IP}
	switch s.cfg.IP {
	case "127.0.0.1", "localhost":
		hosts = []string{"localhost", "127.0.0.1"}
	case "0.0.0.0", "::", "":
		name, err := os.Hostname()
		if err == nil {
			hosts = []string{name, "127.0.0.1"}
		}
	}
	var urls []string
	for _, h := range hosts {
		u := fmt.Sprintf("http://%s%slab", net.JoinHostPort(h, fmt.Sprint(s.cfg.Port)), s.cfg.BaseURL)
		if s.auth.token != "" {
			u += "?token=" + url.QueryEscape(s.auth.token)
		}
		urls = append(urls, u)
	}
	return urls
}

// terminalEnv returns the variables jupyter_server adds to a terminal's
// environment: the root folder and the server's URL.
func (s *Server) terminalEnv() []string {
	u := fmt.Sprintf("http://%s%s", net.JoinHostPort(s.cfg.IP, fmt.Sprint(s.cfg.Port)), s.cfg.BaseURL)
	return []string{"JUPYTER_SERVER_ROOT=" + s.cfg.RootDir, "JUPYTER_SERVER_URL=" + u}
}

// touch records activity for /api/status.
func (s *Server) touch() {
	s.mu.Lock()
	s.lastActivity = time.Now().UTC()
	s.mu.Unlock()
}

// requestID returns a short id for a request, for log lines.
func (s *Server) requestID() string {
	return fmt.Sprintf("%x", s.reqSeq.Add(1))
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	httpapi.WriteError(s.log, w, r, err)
}
