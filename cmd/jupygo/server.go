package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jupygo/jupygo/frontend"
	"github.com/jupygo/jupygo/internal/collab"
	"github.com/jupygo/jupygo/internal/server"
)

// serverFlags are the flags of `jupygo server`, named as jupyter-server
// names them so that the commands people already type keep working.
type serverFlags struct {
	ip          string
	port        int
	portRetries int
	rootDir     string
	baseURL     string
	token       string
	noBrowser   bool
	allowHidden bool
	allowLinks  bool
	trash       bool
	deleteDirs  bool
	exposeApp   bool
	version     bool
	logLevel    string

	collaborative    bool
	collabSaveDelay  float64 // seconds
	collabCleanup    float64 // seconds
	collabPoll       float64 // seconds
	collabMaxMessage int     // MiB
	collabMaxRooms   int

	cullIdleTimeout int // seconds
	cullInterval    int // seconds
	cullConnected   bool
	cullBusy        bool
}

func (f *serverFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.ip, "ip", "127.0.0.1", "address to listen on")
	fs.IntVar(&f.port, "port", 8888,
		"port to listen on; when it is taken the next free one is used; 0 picks any free port")
	fs.IntVar(&f.portRetries, "port-retries", 50, "how many following ports to try when --port is taken")
	fs.StringVar(&f.rootDir, "root-dir", "", "folder to serve (default the current folder)")
	fs.StringVar(&f.rootDir, "notebook-dir", "", "alias of --root-dir")
	fs.StringVar(&f.baseURL, "base-url", "/", "path prefix of every URL, for serving behind a proxy")
	fs.StringVar(&f.token, "token", "",
		"token that clients authenticate with (default $JUPYTER_TOKEN, or a random one);\n"+
			"--token '' turns authentication off")
	fs.BoolVar(&f.noBrowser, "no-browser", false, "do not open a web browser at start")
	fs.BoolVar(&f.allowHidden, "allow-hidden", false,
		"let the contents API read and write hidden files and folders (names starting with '.')")
	fs.BoolVar(&f.allowLinks, "allow-symlinks-outside-root", false,
		"follow symbolic links that point out of the root folder")
	fs.BoolVar(&f.trash, "delete-to-trash", true,
		"move deleted files and folders to the user's trash (freedesktop.org Trash);\n"+
			"when that fails nothing is deleted; --delete-to-trash=false deletes for good")
	fs.BoolVar(&f.deleteDirs, "always-delete-dir", false,
		"with --delete-to-trash=false, also delete folders that have files in them")
	fs.BoolVar(&f.exposeApp, "expose-app-in-browser", false,
		"set window.jupyterapp in JupyterLab's pages, for browser tests and extension development")
	fs.IntVar(&f.cullIdleTimeout, "cull-idle-timeout", 0,
		"seconds after which an idle kernel is shut down; 0 turns culling off")
	fs.IntVar(&f.cullInterval, "cull-interval", 300,
		"seconds between checks for idle kernels, with --cull-idle-timeout")
	fs.BoolVar(&f.cullConnected, "cull-connected", false,
		"with --cull-idle-timeout, also shut down idle kernels that have a browser tab\n"+
			"connected")
	fs.BoolVar(&f.cullBusy, "cull-busy", false,
		"with --cull-idle-timeout, also shut down busy kernels that have sent no output\n"+
			"for that long")
	fs.BoolVar(&f.collaborative, "collaborative", false,
		"turn on real-time collaboration: people who open the same file edit one shared\n"+
			"document, which the server saves (jupyter-collaboration's protocol)")
	fs.Float64Var(&f.collabSaveDelay, "collab-save-delay", 1,
		"seconds a shared document must go without changes before it is saved;\n"+
			"0 turns autosave off")
	fs.Float64Var(&f.collabCleanup, "collab-cleanup-delay", 60,
		"seconds a shared document stays in memory after its last client left")
	fs.Float64Var(&f.collabPoll, "collab-poll-interval", 1,
		"seconds between checks of a shared document's file for changes made on disk")
	fs.IntVar(&f.collabMaxMessage, "collab-max-message-mb", 64,
		"largest message, in MiB, that a client may send to a shared document")
	fs.IntVar(&f.collabMaxRooms, "collab-max-rooms", 256,
		"how many shared documents may be open at once")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
}

func runServer(args []string, stdout, stderr io.Writer) int {
	var f serverFlags
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintln(out, "Usage: jupygo server [flags]")
		fmt.Fprintln(out, "\nRuns a Jupyter server with JupyterLab, serving the root folder.")
		fmt.Fprintln(out, "It prints the URL to open, with a token for the first visit.")
		fmt.Fprintln(out, "Started by JupyterHub (JUPYTERHUB_* variables set), it runs as that hub's")
		fmt.Fprintln(out, "single-user server: address and base URL come from the hub, --ip, --port,")
		fmt.Fprintln(out, "--base-url and --token are ignored, and people log in through the hub.")
		fmt.Fprintln(out, "\nFlags:")
		printFlags(out, fs)
	}
	if code, exit := parseFlags(fs, args, stdout, stderr); exit {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "jupygo server: unexpected argument %q; see --help\n", fs.Arg(0))
		return 2
	}
	if f.version {
		return runVersion(nil, stdout, stderr)
	}
	if f.port < 0 || f.port > 65535 {
		fmt.Fprintf(stderr, "jupygo server: invalid --port %d: use 0 to 65535\n", f.port)
		return 2
	}
	if f.portRetries < 0 {
		fmt.Fprintf(stderr, "jupygo server: invalid --port-retries %d: use 0 or more\n", f.portRetries)
		return 2
	}
	if f.cullIdleTimeout < 0 {
		fmt.Fprintf(stderr, "jupygo server: invalid --cull-idle-timeout %d: use 0 (off) or more\n",
			f.cullIdleTimeout)
		return 2
	}
	if f.collabSaveDelay < 0 || f.collabCleanup <= 0 || f.collabPoll <= 0 ||
		f.collabMaxMessage < 1 || f.collabMaxRooms < 1 {
		fmt.Fprintln(stderr, "jupygo server: invalid --collab-* value: delays and the poll interval"+
			" must be positive (--collab-save-delay may be 0), sizes and counts at least 1")
		return 2
	}
	if f.cullInterval < 1 {
		fmt.Fprintf(stderr, "jupygo server: invalid --cull-interval %d: use 1 or more\n", f.cullInterval)
		return 2
	}
	// A closed terminal or stdout pipe must not kill the server before it
	// has shut its kernels down. SIGPIPE goes to a channel that is never
	// read, so writes to a closed pipe return an error instead.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)

	log, err := newLogger(stderr, serverLogLevel(fs, f.logLevel, os.Getenv))
	if err != nil {
		fmt.Fprintf(stderr, "jupygo server: %v\n", err)
		return 2
	}
	cfg := f.config(fs)
	cfg.Log = log
	if cfg.Hub, err = server.HubConfigFromEnv(os.Getenv); err != nil {
		log.Error("cannot start as a JupyterHub single-user server", "err", err)
		return 1
	}
	if err := serve(cfg, !f.noBrowser, stderr); err != nil {
		log.Error("server stopped", "err", err)
		return 1
	}
	return 0
}

// config turns the flags into a server.Config. The token comes from --token
// when given (even empty), else from JUPYTER_TOKEN, else it is generated.
func (f *serverFlags) config(fs *flag.FlagSet) server.Config {
	cfg := server.Config{
		IP:                       f.ip,
		Port:                     f.port,
		PortRetries:              f.portRetries,
		RootDir:                  f.rootDir,
		BaseURL:                  f.baseURL,
		AllowHidden:              f.allowHidden,
		AllowSymlinksOutsideRoot: f.allowLinks,
		DeleteToTrash:            f.trash,
		AlwaysDeleteDir:          f.deleteDirs,
		ExposeAppInBrowser:       f.exposeApp,
		CullIdleTimeout:          time.Duration(f.cullIdleTimeout) * time.Second,
		CullInterval:             time.Duration(f.cullInterval) * time.Second,
		CullConnected:            f.cullConnected,
		CullBusy:                 f.cullBusy,
		Version:                  currentVersion(),
		Collaborative:            f.collaborative,
		Collab: collab.Options{
			SaveDelay:       seconds(f.collabSaveDelay),
			CleanupDelay:    seconds(f.collabCleanup),
			PollInterval:    seconds(f.collabPoll),
			MaxMessageBytes: int64(f.collabMaxMessage) << 20,
			MaxRooms:        f.collabMaxRooms,
		},
	}
	if f.collabSaveDelay == 0 {
		cfg.Collab.SaveDelay = -1 // collab.Options takes a negative delay as off
	}
	switch {
	case flagSet(fs, "token"):
		cfg.Token = f.token
		cfg.NoAuth = f.token == ""
	case os.Getenv("JUPYTER_TOKEN") != "":
		cfg.Token = os.Getenv("JUPYTER_TOKEN")
	}
	if frontend.Built() {
		cfg.Frontend = frontend.FS()
	}
	return cfg
}

// seconds converts a flag's seconds to a duration.
func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second))
}

func serve(cfg server.Config, openBrowser bool, stderr io.Writer) error {
	log := cfg.Log
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}
	ln, err := srv.Listen()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM,
		syscall.SIGHUP)
	defer stop()

	urls := srv.URLs()
	log.Info("jupygo server started", "version", cfg.Version, "root", srv.RootDir(),
		"address", ln.Addr().String(), "base_url", srv.BaseURL())
	if cfg.Frontend == nil {
		log.Warn("this binary contains no JupyterLab build: the REST API works, and /lab explains how to build it")
	}
	if cfg.Hub != nil {
		// The hub sends people here after they log in; there is no URL to print.
		log.Info("single-user server for JupyterHub", "user", cfg.Hub.User,
			"server", cfg.Hub.ServerName, "hub_api", cfg.Hub.APIURL)
		return runUntilSignal(ctx, srv, ln)
	}
	if srv.Token() == "" {
		log.Warn("authentication is off: anyone who can reach the port can run code as this user")
	}
	// The URLs carry the token, so they go to the terminal only, never
	// through the logger.
	fmt.Fprintf(stderr, "\n    To open JupyterLab, copy and paste one of these URLs:\n")
	for _, u := range urls {
		fmt.Fprintf(stderr, "        %s\n", u)
	}
	fmt.Fprintln(stderr)
	if openBrowser {
		openURL(log, urls[0])
	}
	return runUntilSignal(ctx, srv, ln)
}

// runUntilSignal serves on ln until ctx, which a signal cancels, ends.
func runUntilSignal(ctx context.Context, srv *server.Server, ln net.Listener) error {
	err := srv.Serve(ctx, ln)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// openURL opens u in the desktop's browser when there is a desktop.
func openURL(log *slog.Logger, u string) {
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return
	}
	path, err := exec.LookPath("xdg-open")
	if err != nil {
		return
	}
	cmd := exec.Command(path, u)
	if err := cmd.Start(); err != nil {
		log.Debug("cannot open a browser", "err", err)
		return
	}
	go cmd.Wait()
}

// serverLogLevel returns the log level of --log-level when the command
// line sets it, else "debug" when the hub requests debug logging through
// JUPYTERHUB_DEBUG (Spawner.debug), else level. As in
// jupyterhub-singleuser, any value of JUPYTERHUB_DEBUG but "" and "0"
// counts.
func serverLogLevel(fs *flag.FlagSet, level string, getenv func(string) string) string {
	if flagSet(fs, "log-level") {
		return level
	}
	if v := getenv("JUPYTERHUB_DEBUG"); v != "" && v != "0" {
		return "debug"
	}
	return level
}

// flagSet reports whether the command line set the flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToLower(level))); err != nil {
		return nil, fmt.Errorf("invalid --log-level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
