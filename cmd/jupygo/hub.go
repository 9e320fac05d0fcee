//go:build !nohub

package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jupygo/jupygo/internal/hub"
	"github.com/jupygo/jupygo/internal/hub/auth"
	"github.com/jupygo/jupygo/internal/hub/config"
	"github.com/jupygo/jupygo/internal/hub/spawn"
	"github.com/jupygo/jupygo/internal/hub/tlsconf"
	"github.com/jupygo/jupygo/internal/store"
)

// hubFlags are the flags of `jupygo hub` and its subcommands. Flags that
// are set win over the configuration file.
type hubFlags struct {
	configFile string
	dataDir    string
	ip         string
	port       int
	logLevel   string
}

func (f *hubFlags) register(fs *flag.FlagSet, serve bool) {
	fs.StringVar(&f.configFile, "f", "", "TOML configuration file, or JupyterHub Python one ending in .py (default: the built-in configuration)")
	fs.StringVar(&f.configFile, "config", "", "alias of -f")
	fs.StringVar(&f.dataDir, "data-dir", "",
		"folder of the hub's database, cookie secret and user homes (default data_dir, jupygo-data)")
	if serve {
		fs.StringVar(&f.ip, "ip", "", "address to listen on (default JupyterHub.ip, 127.0.0.1)")
		fs.IntVar(&f.port, "port", -1, "port to listen on; 0 picks a free port (default JupyterHub.port, 8000)")
	}
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
}

// load reads the configuration and applies the flags to it.
func (f *hubFlags) load(fs *flag.FlagSet) (*config.Config, error) {
	var cfg *config.Config
	var err error
	if f.configFile != "" {
		cfg, err = config.Load(f.configFile)
	} else {
		cfg, err = config.Parse(nil, "")
	}
	if err != nil {
		return nil, err
	}
	fs.Visit(func(fl *flag.Flag) {
		h := &cfg.JupyterHub
		switch fl.Name {
		case "data-dir":
			h.DataDir = f.dataDir
		case "ip":
			h.IP = f.ip
		case "port":
			h.Port = f.port
		}
	})
	if f.port > 65535 {
		return nil, fmt.Errorf("invalid --port %d: use 0 to 65535", f.port)
	}
	return cfg, nil
}

func runHub(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "set-password" {
		return runSetPassword(args[1:], os.Stdin, stdout, stderr)
	}
	var f hubFlags
	fs := flag.NewFlagSet("hub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs, true)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintln(out, "Usage: jupygo hub [flags]")
		fmt.Fprintln(out, "       jupygo hub set-password [flags] USER")
		fmt.Fprintln(out, "\nRuns the hub: people sign in, each gets their own JupyterLab server, and")
		fmt.Fprintln(out, "the built-in proxy routes /user/NAME/ to it. Without -f it uses the built-in")
		fmt.Fprintln(out, "configuration: local accounts, SQLite in the data folder, http on")
		fmt.Fprintln(out, "127.0.0.1:8000. At the first start it prints the admin's one-time password.")
		fmt.Fprintln(out, "set-password reads a new password for USER from standard input.")
		fmt.Fprintln(out, "\nFlags:")
		printFlags(out, fs)
	}
	if code, exit := parseFlags(fs, args, stdout, stderr); exit {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "jupygo hub: unexpected argument %q; see --help\n", fs.Arg(0))
		return 2
	}
	log, err := newLogger(stderr, f.logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "jupygo hub: %v\n", err)
		return 2
	}
	cfg, err := f.load(fs)
	if err != nil {
		fmt.Fprintf(stderr, "jupygo hub: %v\n", err)
		return 2
	}
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, stop := stopOnSignal(log)
	defer stop()
	if err := serveHub(ctx, cfg, log, stdout); err != nil {
		// An invalid configuration is reported as Load reports one.
		var invalid config.ErrorList
		if errors.As(err, &invalid) {
			fmt.Fprintf(stderr, "jupygo hub: %v\n", err)
			return 2
		}
		log.Error("hub stopped", "err", err)
		if errors.Is(err, store.ErrInUse) || errors.Is(err, hub.ErrDataDirInUse) {
			return exitInUse
		}
		return 1
	}
	return 0
}

// exitInUse is the exit status of a hub that stops because another hub
// holds its data folder or database, so that a service manager need not
// restart it (RestartPreventExitStatus=3 in deploy/jupygo-hub.service).
const exitInUse = 3

// stopOnSignal returns a context that SIGINT, SIGTERM or SIGHUP cancels,
// after logging the signal. After the first signal the default handling
// returns, so a second Ctrl-C ends the process at once.
func stopOnSignal(log *slog.Logger) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		select {
		case sig := <-signals:
			signal.Stop(signals)
			log.Info("hub stopping; user servers keep running", "signal", sig.String())
			cancel()
		case <-ctx.Done():
			signal.Stop(signals)
		}
	}()
	return ctx, cancel
}

// openHubStore prepares the data folder and opens the database. An
// exclusive store, the running hub's, fails to open on a PostgreSQL
// database that another hub uses.
func openHubStore(ctx context.Context, cfg *config.Config, log *slog.Logger, exclusive bool) (store.Store, error) {
	if err := hub.PrepareDataDir(cfg); err != nil {
		return nil, err
	}
	db, err := cfg.Database()
	if err != nil {
		return nil, err
	}
	var url string
	switch {
	case db.Driver == "postgres":
		url = db.URL
	case db.Path == store.MemoryPath:
		url = "sqlite://"
	default:
		url = "sqlite:///" + db.Path
	}
	return store.Open(ctx, url, store.Options{Logger: log.With("component", "store"), Exclusive: exclusive})
}

func serveHub(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) error {
	cfg.LogWarnings(log)
	switch c := cfg.JupyterHub.AuthenticatorClass; c {
	case config.AuthenticatorLocal, config.AuthenticatorGitHub, config.AuthenticatorGeneric,
		config.AuthenticatorDummy:
	case config.AuthenticatorLocalGitHub:
		// Loading rejects other spawners, and this check covers a Config
		// built in code.
		if s := cfg.JupyterHub.SpawnerClass; s != config.SpawnerLocalProcess {
			return fmt.Errorf("authenticator_class %q maps users to system accounts, which "+
				"spawner_class %q does not use: use spawner_class %q", c, s,
				config.SpawnerLocalProcess)
		}
	default:
		return fmt.Errorf("authenticator_class %q is not supported yet: use %q, %q, %q, %q or, "+
			"for tests, %q", c, config.AuthenticatorLocal, config.AuthenticatorGitHub,
			config.AuthenticatorLocalGitHub, config.AuthenticatorGeneric, config.AuthenticatorDummy)
	}
	sp, err := newSpawner(cfg, log.With("component", "spawner"))
	if err != nil {
		return err
	}
	if c := cfg.JupyterHub.ProxyClass; c != config.ProxyBuiltin {
		return fmt.Errorf("proxy_class %q is not supported yet: use %q", c, config.ProxyBuiltin)
	}
	tlsSetup, err := tlsconf.New(cfg, currentVersion(), log.With("component", "tls"))
	if err != nil {
		return err
	}
	// Check before anything is created in the data folder or the store, so
	// that a failed start leaves nothing behind. hub.New checks again with
	// the authenticator's own normalization.
	if err := hub.CheckConfig(cfg, auth.NormalizeUsername); err != nil {
		return err
	}
	if err := hub.PrepareDataDir(cfg); err != nil {
		return err
	}
	lock, err := hub.LockDataDir(cfg.Path("."))
	if err != nil {
		return err
	}
	defer lock.Close()
	st, err := openHubStore(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer st.Close()
	// A hub whose store lost its lock on a PostgreSQL database to another
	// hub stops, so that two hubs never serve the same users.
	ctx, stopLost := context.WithCancelCause(ctx)
	defer stopLost(nil)
	if l, ok := st.(interface{ Lost() <-chan error }); ok && l.Lost() != nil {
		go func() {
			select {
			case err := <-l.Lost():
				stopLost(err)
			case <-ctx.Done():
			}
		}()
	}
	secret, err := hub.LoadCookieSecret(cfg)
	if err != nil {
		return err
	}
	authenticator, err := newAuthenticator(ctx, cfg, secret, st, log, stdout)
	if err != nil {
		return err
	}
	listeners, err := openHubListeners(cfg, tlsSetup)
	if err != nil {
		return err
	}
	h, err := hub.New(hub.Options{
		Config: cfg, Store: st, Spawner: sp, Authenticator: authenticator, CookieSecret: secret,
		Logger: log, Version: currentVersion(), APIURL: listeners.apiURL(),
	})
	// The store follows the configuration before the password is printed,
	// so that a sync that fails prints none.
	if err == nil {
		err = h.Prepare(ctx)
	}
	if err == nil {
		err = printFirstAdmin(ctx, cfg, st, authenticator, stdout)
	}
	if err != nil {
		listeners.close()
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	listeners.logStart(log)
	logHubSetup(log, cfg, tlsSetup.Mode())
	warnSharedAccount(log, cfg)
	stopSide := listeners.serveSide(h, log)
	defer stopSide()
	fmt.Fprintf(stdout, "jupygo hub is running at %s\n", listeners.publicURL())
	if local := listeners.localURL(); local != "" {
		fmt.Fprintf(stdout, "    and on this machine at %s\n", local)
	}
	err = h.Serve(ctx, listeners.public)
	if cause := context.Cause(ctx); err == nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = fmt.Errorf("stopped, because the database lock was lost: %w", cause)
	}
	return err
}

// logHubSetup logs in one line the authenticator, the spawner, the store
// and the TLS mode that the hub runs with, as their configured names.
func logHubSetup(log *slog.Logger, cfg *config.Config, mode tlsconf.Mode) {
	attrs := []any{"authenticator", cfg.JupyterHub.AuthenticatorClass,
		"spawner", cfg.JupyterHub.SpawnerClass}
	attrs = append(attrs, storeLogAttrs(cfg)...)
	attrs = append(attrs, "tls", string(mode))
	log.Info("hub setup", attrs...)
}

// warnSharedAccount warns that the simple spawner isolates no user from
// the hub or from each other.
func warnSharedAccount(log *slog.Logger, cfg *config.Config) {
	if cfg.JupyterHub.SpawnerClass == config.SpawnerSimple {
		log.Warn("spawner_class simple runs every user's server as this hub's own account, " +
			"so each user's code can read the hub's data folder, including its database and " +
			"cookie secret, and can act as any user or admin: give accounts only to people you " +
			"would trust with the hub itself, or run the hub as root with spawner_class " +
			"\"localprocess\", which runs each server as its user's system account")
	}
}

// storeLogAttrs describes the store for the start log: the SQLite file,
// or the PostgreSQL servers, database and user without the password.
// Settings that db_url leaves out come from libpq's environment variables,
// as when the store connects.
func storeLogAttrs(cfg *config.Config) []any {
	db, err := cfg.Database()
	if err != nil {
		return []any{"store", "invalid db_url"}
	}
	if db.Driver != "postgres" {
		return []any{"store", "sqlite", "db_path", db.Path}
	}
	pg, err := pgconn.ParseConfig(db.URL)
	if err != nil {
		return []any{"store", "postgresql"}
	}
	hosts := []string{pgAddress(pg.Host, pg.Port)}
	for _, fb := range pg.Fallbacks {
		if addr := pgAddress(fb.Host, fb.Port); !slices.Contains(hosts, addr) {
			hosts = append(hosts, addr)
		}
	}
	return []any{"store", "postgresql", "db_host", strings.Join(hosts, ","),
		"db_name", pg.Database, "db_user", pg.User}
}

// pgAddress returns host:port, or the socket path for a host that is the
// folder of a Unix socket, as libpq names it.
func pgAddress(host string, port uint16) string {
	if strings.HasPrefix(host, "/") {
		return host + "/.s.PGSQL." + strconv.Itoa(int(port))
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// newSpawner returns the spawner that spawner_class names.
func newSpawner(cfg *config.Config, log *slog.Logger) (spawn.Spawner, error) {
	s, local := cfg.Spawner, cfg.LocalProcessSpawner
	switch cfg.JupyterHub.SpawnerClass {
	case config.SpawnerSimple:
		return &spawn.SimpleLocalProcess{
			UsersDir: cfg.Path("users"), HomeDir: cfg.HomeDir, DeletedDir: cfg.Path("deleted-users"),
			DataDir: cfg.Path("."),
			Cmd:     s.Cmd, EnvKeep: s.EnvKeep,
			IP: s.IP, Port: s.Port, StartTimeout: s.StartTimeout, HTTPTimeout: s.HTTPTimeout,
			InterruptTimeout: local.InterruptTimeout, TermTimeout: local.TermTimeout,
			KillTimeout: local.KillTimeout, Log: log,
		}, nil
	case config.SpawnerLocalProcess:
		if os.Geteuid() != 0 {
			log.Warn("the hub does not run as root, so spawner_class localprocess runs " +
				"servers only for the user whose system account the hub runs as")
		}
		warnInvalidAccountNames(cfg, log)
		umask := local.UmaskBits()
		return &spawn.LocalProcess{
			Cmd: s.Cmd, EnvKeep: s.EnvKeep, IP: s.IP, Port: s.Port,
			StartTimeout: s.StartTimeout, HTTPTimeout: s.HTTPTimeout,
			InterruptTimeout: local.InterruptTimeout, TermTimeout: local.TermTimeout,
			KillTimeout: local.KillTimeout,
			CreateUsers: cfg.LocalAuthenticator.CreateSystemUsers,
			AddUserCmd:  cfg.LocalAuthenticator.AddUserCmd,
			Umask:       &umask, MinUID: local.MinUID, MaxUID: local.MaxUID,
			BlockedGroups: blockedGroups(local.BlockedGroups), AllowRoot: local.AllowRoot,
			Log: log,
		}, nil
	}
	return nil, fmt.Errorf("spawner_class %q is not supported yet: use %q or %q",
		cfg.JupyterHub.SpawnerClass, config.SpawnerSimple, config.SpawnerLocalProcess)
}

// warnInvalidAccountNames logs a warning for each name of allowed_users and
// admin_users that cannot name a system account, since such a user can
// neither sign in nor start a server under spawner_class localprocess.
func warnInvalidAccountNames(cfg *config.Config, log *slog.Logger) {
	lists := []struct {
		key   string
		names []string
	}{
		{"[Authenticator] allowed_users", cfg.Authenticator.AllowedUsers},
		{"[Authenticator] admin_users", cfg.Authenticator.AdminUsers},
	}
	for _, list := range lists {
		for _, name := range list.names {
			// Every authenticator folds names to lower case, and the
			// account is named after the folded name.
			if err := spawn.ValidateSystemUserName(strings.ToLower(strings.TrimSpace(name))); err != nil {
				log.Warn("user name is not a valid system account name, so with spawner_class "+
					"localprocess the user can neither sign in nor start a server",
					"user", name, "setting", list.key, "err", err)
			}
		}
	}
}

// blockedGroups returns blocked_groups for spawn.LocalProcess, whose nil
// means the default list. The config's default is that list, so nil here
// comes from a file that sets blocked_groups = [], which blocks no group.
func blockedGroups(groups []string) []string {
	if groups == nil {
		return []string{}
	}
	return groups
}

// newAuthenticator returns the authenticator that authenticator_class
// names.
func newAuthenticator(ctx context.Context, cfg *config.Config, secret []byte, st store.Store,
	log *slog.Logger, stdout io.Writer) (auth.Authenticator, error) {
	switch cfg.JupyterHub.AuthenticatorClass {
	case config.AuthenticatorDummy:
		return newDummy(cfg, log, stdout), nil
	case config.AuthenticatorLocal:
		return auth.NewLocal(st, 0)
	}
	return auth.NewOAuthFromConfig(ctx, cfg, secret, log.With("component", "auth"))
}

// printFirstAdmin makes the first admin of local accounts and prints the
// admin's one-time password to stdout, at every start until a user has
// chosen a password. It runs once the listeners are open and the store
// follows the configuration, so that a start that fails prints no
// password.
func printFirstAdmin(ctx context.Context, cfg *config.Config, st store.Store,
	authenticator auth.Authenticator, stdout io.Writer) error {
	local, ok := authenticator.(*auth.Local)
	if !ok {
		return nil
	}
	name, password, replaced, err := hub.EnsureFirstAdmin(ctx, st, local, cfg)
	if err != nil || password == "" {
		return err
	}
	// The password goes to the terminal only, never through the logger.
	lead := "First start"
	if replaced {
		fmt.Fprintf(stdout, "\n    %q has not replaced the one-time password yet, so the one "+
			"printed at an earlier start\n    no longer works.", name)
		lead = "New one-time password"
	}
	fmt.Fprintf(stdout, "\n    %s: sign in as %q with the one-time password\n        %s\n"+
		"    The hub then asks for a new password.\n\n", lead, name, password)
	return nil
}

// newDummy returns the dummy authenticator, with a warning in the log and
// on stdout, because anyone who reaches the hub may sign in with it.
func newDummy(cfg *config.Config, log *slog.Logger, stdout io.Writer) *auth.Dummy {
	password := cfg.DummyAuthenticator.Password.Value()
	log.Warn("the dummy authenticator signs in any user name, for tests only: "+
		"do not use it on a hub that others can reach",
		"shared_password", password != "", "allow_all", cfg.Authenticator.AllowAll)
	fmt.Fprintln(stdout, "WARNING: authenticator_class = \"dummy\" signs in any user name with",
		"any password, or with [DummyAuthenticator] password when it is set. It is for tests only.")
	return &auth.Dummy{Password: password}
}

// runSetPassword sets the password of a local account, read from the first
// line of stdin, creating the account when it is missing.
func runSetPassword(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var f hubFlags
	var admin bool
	fs := flag.NewFlagSet("hub set-password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs, false)
	fs.BoolVar(&admin, "admin", false, "make the user an admin too")
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintln(out, "Usage: jupygo hub set-password [flags] USER")
		fmt.Fprintln(out, "\nSets the password of USER's local account, read from the first line of")
		fmt.Fprintln(out, "standard input, and creates the account when it is missing.")
		fmt.Fprintln(out, "\nFlags:")
		printFlags(out, fs)
	}
	if code, exit := parseFlags(fs, args, stdout, stderr); exit {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "jupygo hub set-password: give exactly one user name; see --help")
		return 2
	}
	log, err := newLogger(stderr, f.logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "jupygo hub set-password: %v\n", err)
		return 2
	}
	cfg, err := f.load(fs)
	if err != nil {
		fmt.Fprintf(stderr, "jupygo hub set-password: %v\n", err)
		return 2
	}
	password, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(stderr, "jupygo hub set-password: reading the password: %v\n", err)
		return 1
	}
	password = strings.TrimRight(password, "\r\n")
	if password == "" {
		fmt.Fprintln(stderr, "jupygo hub set-password: the password is empty: write it on the "+
			"first line of standard input, as in echo 'a long password' | jupygo hub set-password USER")
		return 1
	}
	if err := setPassword(cfg, log, fs.Arg(0), password, admin); err != nil {
		fmt.Fprintf(stderr, "jupygo hub set-password: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "password of %s set\n", fs.Arg(0))
	return 0
}

func setPassword(cfg *config.Config, log *slog.Logger, user, password string, admin bool) error {
	if err := checkHubExists(cfg); err != nil {
		return err
	}
	ctx := context.Background()
	st, err := openHubStore(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer st.Close()
	local, err := auth.NewLocal(st, 0)
	if err != nil {
		return err
	}
	name := local.NormalizeUsername(user)
	if err := spawn.ValidateUserName(name); err != nil {
		return err
	}
	if err := local.SetPassword(ctx, name, password); err != nil {
		return err
	}
	// As on the admin page, whoever knew the old password is signed out of
	// the hub, and of the user's servers once their token cache expires.
	sessions, tokens, err := st.EndOtherSessions(ctx, name, "")
	if err != nil {
		return fmt.Errorf("the password of %s is set, but ending the user's sessions failed: %w", name, err)
	}
	log.Info("password set; sessions ended", "user", name, "sessions", sessions, "oauth_tokens", tokens)
	if admin {
		if _, err := st.UpdateUser(ctx, name, store.UserUpdate{Admin: &admin}); err != nil {
			return err
		}
	}
	return nil
}

// checkHubExists returns an error when the data folder, or the SQLite
// database in it, does not exist, so that set-password run from the wrong
// folder does not create a new hub's database.
func checkHubExists(cfg *config.Config) error {
	const nameExisting = "name the hub's existing folder with --data-dir or its configuration with -f"
	dir := cfg.Path(".")
	create := "start the hub once to create it, with jupygo hub --data-dir " + shellQuote(dir) +
		" (and your -f, if you use one), or " + nameExisting
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("the data folder %s does not exist: %s", dir, create)
	case err != nil:
		return fmt.Errorf("the data folder %s is not readable (%w): %s", dir, err, nameExisting)
	case !info.IsDir():
		return fmt.Errorf("%s is not a folder, so it cannot be the data folder: %s", dir, nameExisting)
	}
	db, err := cfg.Database()
	if err != nil || db.Driver == "postgres" || db.Path == store.MemoryPath {
		return err
	}
	if _, err := os.Stat(db.Path); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("the database %s does not exist: %s", db.Path, create)
	} else if err != nil {
		return fmt.Errorf("the database %s is not readable (%w): %s", db.Path, err, nameExisting)
	}
	return nil
}

// shellSafe matches the words that a POSIX shell reads as they are.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote returns s as one word of a POSIX shell command, for a command
// that an error message suggests.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
