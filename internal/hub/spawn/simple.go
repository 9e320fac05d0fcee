package spawn

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Defaults of SimpleLocalProcess, those of JupyterHub's Spawner and
// LocalProcessSpawner.
const (
	DefaultStartTimeout     = 60 * time.Second
	DefaultHTTPTimeout      = 30 * time.Second
	DefaultInterruptTimeout = 10 * time.Second
	DefaultTermTimeout      = 5 * time.Second
	DefaultKillTimeout      = 5 * time.Second
)

// pollProbeTimeout bounds the HTTP check of Poll.
const pollProbeTimeout = 5 * time.Second

// ErrStartTimeout reports that a server did not respond to HTTP within its
// start or HTTP timeout. Start's errors wrap it.
var ErrStartTimeout = errors.New("server did not respond in time")

// ErrNotResponding reports that a server's process runs but its URL does
// not respond. Poll returns it with running set to true.
var ErrNotResponding = errors.New("server process runs but does not respond to HTTP")

// ErrPortInUse reports a start with a fixed SimpleLocalProcess.Port while
// another server or program holds that port.
var ErrPortInUse = errors.New("server port in use")

// SimpleLocalProcess starts every server as a process of the hub's own
// account, as JupyterHub's SimpleLocalProcessSpawner does. It gives each
// user a home folder but no other isolation: every user's code can read
// the others' files and the hub's. Set the exported fields before the
// first Start and do not change them after; the methods are safe for
// concurrent use.
type SimpleLocalProcess struct {
	// UsersDir is the folder that holds a home folder per user, named
	// after the user; the hub passes <data dir>/users. Folders are
	// created with mode 0700.
	UsersDir string
	// HomeDir, when set, returns the home folder of a user in place of
	// UsersDir/<name>, for a home_dir_template setting. Relative paths are
	// taken from the hub's working folder.
	HomeDir func(user string) (string, error)
	// DeletedDir is the folder that ArchiveHome moves the home folders of
	// deleted users to; the hub passes <data dir>/deleted-users. Empty
	// makes ArchiveHome fail for a user who has a home folder.
	DeletedDir string
	// DataDir is the hub's data folder, which holds its database and
	// cookie secret. No home folder may be it or contain it, and none may
	// lie inside it except under UsersDir, so that no user's server can
	// read the hub's secrets through a home_dir_template such as
	// "../{username}". Empty skips the check.
	DataDir string
	// Cmd is the default command line of servers, used when a Request has
	// none. Empty means this binary followed by "server".
	Cmd []string
	// EnvKeep names the variables of the hub's environment that servers
	// inherit. Nil means PATH and LANG.
	EnvKeep []string
	// IP is the loopback address servers listen on. Empty means
	// 127.0.0.1.
	IP string
	// Port is the TCP port every server listens on, as JupyterHub's
	// Spawner.port sets it. Zero picks a free port for each start. With a
	// fixed port only one server runs at a time: Start fails with
	// ErrPortInUse while another server, or any other program, holds it.
	Port int
	// StartTimeout and HTTPTimeout apply when a Request leaves them 0.
	// Zero means DefaultStartTimeout and DefaultHTTPTimeout.
	StartTimeout, HTTPTimeout time.Duration
	// InterruptTimeout is how long Stop waits after SIGINT before it
	// sends SIGTERM. Zero means DefaultInterruptTimeout.
	InterruptTimeout time.Duration
	// TermTimeout is how long Stop waits after SIGTERM before it sends
	// SIGKILL. Zero means DefaultTermTimeout.
	TermTimeout time.Duration
	// KillTimeout is how long Stop waits after SIGKILL before it reports
	// an error. Zero means DefaultKillTimeout.
	KillTimeout time.Duration
	// Log receives lifecycle events and each line of the servers' output,
	// with user and server attributes. Nil discards them.
	Log *slog.Logger

	// prepareFunc, when set, replaces prepare. LocalProcess sets it to run
	// servers as system accounts with this value's process handling.
	prepareFunc func(ctx context.Context, r Request, progress func(Event)) (plan, error)

	initOnce sync.Once
	probe    *http.Client
	rootWarn sync.Once
	exited   chan struct{}

	mu       sync.Mutex
	children map[int]*child    // processes this value started, by pid
	running  map[string]*child // the same by user/server, nil while starting
	// portHolder is the key of the server that starts or runs on the fixed
	// Port, "" when none does.
	portHolder string
}

var (
	_ Spawner      = (*SimpleLocalProcess)(nil)
	_ ExitNotifier = (*SimpleLocalProcess)(nil)
)

// Exited is ExitNotifier.Exited.
func (s *SimpleLocalProcess) Exited() <-chan struct{} {
	s.init()
	return s.exited
}

// child is a server process this value started. Its waiter reaps it.
type child struct {
	pid       int
	startTime uint64
	key       string
	done      chan struct{} // closed once the process is reaped
	waitErr   error         // the result of Wait, set before done closes
}

func (s *SimpleLocalProcess) init() {
	s.initOnce.Do(func() {
		s.probe = newProbeClient()
		s.exited = make(chan struct{}, 1)
		s.children = map[int]*child{}
		s.running = map[string]*child{}
	})
}

func (s *SimpleLocalProcess) logger() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// serverKey names a server in messages: alice, or alice/analysis for a
// named server.
func serverKey(user, server string) string {
	if server == "" {
		return user
	}
	return user + "/" + server
}

// Start starts the server of r and waits until it responds at
// http://IP:PORT + r.Prefix, with PORT the fixed Port or a free port picked
// now. The process
// gets its own session, so signals to the hub do not reach it and it keeps
// running when the hub exits. Its stdout and stderr go to a file in the
// user's home folder, whose last lines a *StartError carries when the
// server exits early or does not respond in time. progress is called from
// the goroutine of Start.
func (s *SimpleLocalProcess) Start(ctx context.Context, r Request, progress func(Event)) (Started, error) {
	s.init()
	began := time.Now()
	if progress == nil {
		progress = func(Event) {}
	}
	key := serverKey(r.User, r.Server)
	if err := checkRequest(r); err != nil {
		return Started{}, fmt.Errorf("starting server for %s: %w", key, err)
	}
	log := s.logger().With("user", r.User, "server", r.Server)
	if err := s.reserve(key); err != nil {
		return Started{}, fmt.Errorf("starting server for %s: %w", key, err)
	}

	prepare := s.prepare
	if s.prepareFunc != nil {
		prepare = s.prepareFunc
	}
	p, err := prepare(ctx, r, progress)
	if err != nil {
		s.release(key)
		return Started{}, fmt.Errorf("starting server for %s: %w", key, err)
	}
	defer p.tail.Close()
	argv := p.cmd.Args
	c, releaseEnd, err := s.launch(key, p)
	if err != nil {
		p.follow.Close()
		s.release(key)
		return Started{}, fmt.Errorf("starting server for %s: %w", key, err)
	}
	defer releaseEnd.Close()
	go followOutput(p.follow, log, c.done)
	base, outPath := p.base, p.outPath
	log.Info("server process started", "pid", c.pid, "url", base, "cmd", argv)
	// Marshal cannot fail on this struct of strings and numbers.
	state, _ := json.Marshal(processState{
		PID: c.pid, StartTime: c.startTime, BootID: bootID(), URL: base, Prefix: r.Prefix,
	})
	// The process waits in LaunchCommand until it is released, so that the
	// hub stores its state (in progress) before the server runs. A hub that
	// dies before the release leaves no server behind.
	progress(Event{Progress: 40, State: state, Message: fmt.Sprintf(
		"Server process started (pid %d), waiting for it to respond", c.pid)})
	if ctx.Err() != nil {
		s.kill(c)
		return Started{}, fmt.Errorf("starting server for %s: start abandoned before the "+
			"server command ran: %w", key, context.Cause(ctx))
	}
	if err := sendRelease(releaseEnd); err != nil {
		log.Warn("server process exited before its release", "pid", c.pid, "err", err)
	}

	err = s.awaitReady(ctx, r, c, base, began)
	if err != nil {
		s.kill(c)
		startErr := &StartError{User: r.User, Server: r.Server, Err: err, OutputPath: outPath}
		startErr.Output, _ = tailOpenFile(p.tail)
		return Started{}, startErr
	}
	log.Info("server ready", "pid", c.pid, "url", base, "duration", time.Since(began))
	progress(Event{Progress: 90, Message: "Server responds at " + base + r.Prefix})
	return Started{URL: base, State: state}, nil
}

// checkRequest rejects a Request that could not be started safely.
func checkRequest(r Request) error {
	if err := ValidateUserName(r.User); err != nil {
		return err
	}
	if r.Server != "" {
		if err := ValidateServerName(r.Server); err != nil {
			return err
		}
	}
	if r.StartTimeout < 0 || r.HTTPTimeout < 0 {
		return fmt.Errorf("invalid timeouts %v and %v: they must not be negative",
			r.StartTimeout, r.HTTPTimeout)
	}
	if !strings.HasPrefix(r.Prefix, "/") || !strings.HasSuffix(r.Prefix, "/") ||
		strings.ContainsAny(r.Prefix, "?#\x00") {
		return fmt.Errorf("invalid URL prefix %q: it must be a path with slashes at both ends",
			r.Prefix)
	}
	for k, v := range r.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			return fmt.Errorf("invalid environment variable %q: names must be non-empty "+
				"without '=' or NUL, and values without NUL", k)
		}
	}
	return nil
}

// plan is a server process ready to start.
type plan struct {
	cmd     *exec.Cmd // its Stdout and Stderr are the output file
	base    string    // http://IP:PORT
	outPath string    // the file that receives its output
	// umask is the server's file mode creation mask, or
	// launchUmaskUnchanged for the hub's own.
	umask int
	// follow and tail read the output file, for followOutput and for the
	// lines of a StartError.
	follow, tail *os.File
}

// prepare creates the home folder and the output file and returns the
// server's command.
func (s *SimpleLocalProcess) prepare(_ context.Context, r Request,
	progress func(Event)) (plan, error) {
	s.warnRoot()
	progress(Event{Progress: 10, Message: "Preparing the home folder"})
	home, err := s.home(r.User)
	if err != nil {
		return plan{}, err
	}
	root, err := rootDir(r.NotebookDir, home)
	if err != nil {
		return plan{}, err
	}
	argv, err := s.command(r)
	if err != nil {
		return plan{}, err
	}
	base, err := s.serverBase()
	if err != nil {
		return plan{}, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = s.environ(r, home, root, base+r.Prefix)
	cmd.Dir = home
	// Setsid makes the server the leader of a new session and process
	// group: the hub's terminal and signals do not reach it, Stop can
	// signal the whole group, and no Pdeathsig ties it to the hub.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return attachOutput(plan{cmd: cmd, base: base, umask: launchUmaskUnchanged},
		outputPath(home, r.Server), nil)
}

// warnRoot logs once that servers run as root when the hub does.
func (s *SimpleLocalProcess) warnRoot() {
	if os.Geteuid() != 0 {
		return
	}
	// NOTE: servers should never run as root; this spawner warns rather
	// than rejects, so that a hub in a root-only container still works.
	s.rootWarn.Do(func() {
		s.logger().Warn("the hub runs as root, so every user's server does too: " +
			"run the hub as an unprivileged account, or use spawner_class \"localprocess\"")
	})
}

// serverBase returns http://IP:PORT for a new server, with the fixed Port
// or a port that is free now.
func (s *SimpleLocalProcess) serverBase() (string, error) {
	ip := cmp.Or(s.IP, "127.0.0.1")
	port := s.Port
	var err error
	if port == 0 {
		port, err = freePort(ip)
	} else {
		// Another program on the port would reply to the readiness probe
		// in place of this server, so the port must be free now.
		err = checkPortFree(ip, port)
	}
	if err != nil {
		return "", err
	}
	return "http://" + net.JoinHostPort(ip, strconv.Itoa(port)), nil
}

// attachOutput creates the output file at path for p's command, as
// createOutput does for owner, and opens its two read ends.
func attachOutput(p plan, path string, owner *account) (plan, error) {
	out, err := createOutput(path, owner)
	if err != nil {
		return plan{}, fmt.Errorf("creating the output file: %w", err)
	}
	follow, err := openOutputReader(path, out)
	if err != nil {
		out.Close()
		return plan{}, fmt.Errorf("opening the output file: %w", err)
	}
	tail, err := openOutputReader(path, out)
	if err != nil {
		out.Close()
		follow.Close()
		return plan{}, fmt.Errorf("opening the output file: %w", err)
	}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	p.outPath, p.follow, p.tail = path, follow, tail
	return p, nil
}

// home returns the user's home folder, created with mode 0700 if missing.
func (s *SimpleLocalProcess) home(user string) (string, error) {
	home, err := s.homePath(user)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", fmt.Errorf("creating the home folder: %w", err)
	}
	return home, nil
}

// homePath returns the absolute path of the user's home folder.
func (s *SimpleLocalProcess) homePath(user string) (string, error) {
	var home string
	switch {
	case s.HomeDir != nil:
		dir, err := s.HomeDir(user)
		if err != nil {
			return "", fmt.Errorf("home folder: %w", err)
		}
		home = dir
	case s.UsersDir != "":
		home = filepath.Join(s.UsersDir, user)
	default:
		return "", errors.New("the spawner has no UsersDir or HomeDir to put home folders in")
	}
	if !filepath.IsAbs(home) {
		abs, err := filepath.Abs(home)
		if err != nil {
			return "", fmt.Errorf("home folder %q: %w", home, err)
		}
		home = abs
	}
	home = filepath.Clean(home)
	if err := s.checkOutsideData(home); err != nil {
		return "", err
	}
	return home, nil
}

// checkOutsideData rejects a home folder that is the data folder,
// contains it, or lies inside it outside UsersDir.
func (s *SimpleLocalProcess) checkOutsideData(home string) error {
	if s.DataDir == "" {
		return nil
	}
	data, err := filepath.Abs(s.DataDir)
	if err != nil {
		return fmt.Errorf("data folder %q: %w", s.DataDir, err)
	}
	users := ""
	if s.UsersDir != "" {
		if users, err = filepath.Abs(s.UsersDir); err != nil {
			return fmt.Errorf("users folder %q: %w", s.UsersDir, err)
		}
	}
	switch {
	case isWithin(data, home):
		return fmt.Errorf("the home folder %s is or contains the hub's data folder %s, whose "+
			"secrets the server could read: change home_dir_template", home, data)
	case isWithin(home, data) && (users == "" || !isWithin(home, users) || home == users):
		return fmt.Errorf("the home folder %s is inside the hub's data folder %s but not in "+
			"its users folder: change home_dir_template", home, data)
	}
	return nil
}

// isWithin reports whether path is dir or a path below it. Both are
// clean and absolute.
func isWithin(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// rootDir resolves the folder a server serves: dir with "~" standing for
// the home folder and relative paths taken from it, or home when dir is
// empty. The folder must exist.
func rootDir(dir, home string) (string, error) {
	switch {
	case dir == "" || dir == "~":
		return home, nil
	case strings.HasPrefix(dir, "~/"):
		dir = filepath.Join(home, dir[2:])
	case !filepath.IsAbs(dir):
		dir = filepath.Join(home, dir)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("notebook folder: %w", err)
	}
	if !info.IsDir() {
		return "", fmt.Errorf("notebook folder %s is not a folder", dir)
	}
	return dir, nil
}

// command returns the command line of r's server.
func (s *SimpleLocalProcess) command(r Request) ([]string, error) {
	argv := slices.Clone(r.Cmd)
	if len(argv) == 0 {
		argv = slices.Clone(s.Cmd)
	}
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("finding this program to run as the server: %w", err)
		}
		argv = []string{exe, "server"}
	}
	if argv[0] == "" {
		return nil, errors.New("the server command is empty")
	}
	return append(argv, r.Args...), nil
}

// environ returns the server's environment. It starts from the EnvKeep
// variables of the hub, HOME as the home folder and USER as the hub user's
// name (as JupyterHub's SimpleLocalProcessSpawner sets them), and
// JUPYTERHUB_ROOT_DIR as the root folder. r.Env may override all of these.
// JUPYTERHUB_SERVICE_URL comes last, with the port picked for this start.
func (s *SimpleLocalProcess) environ(r Request, home, root, serviceURL string) []string {
	return environList(keptEnv(s.EnvKeep),
		map[string]string{"HOME": home, "USER": r.User, "JUPYTERHUB_ROOT_DIR": root},
		r.Env,
		map[string]string{"JUPYTERHUB_SERVICE_URL": serviceURL})
}

// keptEnv returns the variables of the hub's environment that keep names,
// where nil means PATH and LANG.
func keptEnv(keep []string) map[string]string {
	if keep == nil {
		keep = []string{"PATH", "LANG"}
	}
	env := map[string]string{}
	for _, name := range keep {
		if v, ok := os.LookupEnv(name); ok {
			env[name] = v
		}
	}
	return env
}

// environList merges layers of variables, later ones winning, into a
// sorted environment list.
func environList(layers ...map[string]string) []string {
	env := map[string]string{}
	for _, layer := range layers {
		maps.Copy(env, layer)
	}
	list := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		list = append(list, k+"="+env[k])
	}
	return list
}

// freePort returns a TCP port on ip that was free a moment ago.
//
// NOTE: another program may take the port before the server binds it; the
// server then exits with "address already in use" and Start fails.
func freePort(ip string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, fmt.Errorf("finding a free port on %s: %w", ip, err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// checkPortFree returns an error wrapping ErrPortInUse when a program
// listens on port of ip.
func checkPortFree(ip string, port int) error {
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%w: port %d on %s is taken by another program. Every server "+
			"listens on this fixed port (Spawner.port), so stop that program, or set the "+
			"port to 0 to give each server a free port", ErrPortInUse, port, ip)
	}
	if err != nil {
		return fmt.Errorf("checking that port %d on %s is free: %w", port, ip, err)
	}
	return ln.Close()
}

// reserve marks the server key as starting, and makes it the holder of a
// fixed Port. It fails while this value starts or runs that server
// already, before a second start could truncate the first one's output
// file, and while another server holds the fixed port.
func (s *SimpleLocalProcess) reserve(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.running[key]
	switch {
	case ok && c != nil:
		return fmt.Errorf("its process %d, started by this hub, still runs", c.pid)
	case ok:
		return errors.New("another start of it is in progress")
	case s.Port != 0 && s.portHolder != "":
		return fmt.Errorf("%w: port %d is held by the server of %s. Every server listens "+
			"on this fixed port (Spawner.port), so only one can run at a time: stop that "+
			"server, or set the port to 0 to give each server a free port",
			ErrPortInUse, s.Port, s.portHolder)
	}
	s.running[key] = nil
	if s.Port != 0 {
		s.portHolder = key
	}
	return nil
}

// release undoes reserve after a start that launched no process.
func (s *SimpleLocalProcess) release(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[key] == nil {
		delete(s.running, key)
	}
	if s.portHolder == key {
		s.portHolder = ""
	}
}

// launch starts p's command as LaunchCommand, in the room reserve has
// made, and a goroutine that reaps it. It returns the write end of the
// release pipe, which lets the process run the command. The parent's
// copies of the output file and of the pipe's read end are closed once the
// child has its own.
func (s *SimpleLocalProcess) launch(key string, p plan) (*child, *os.File, error) {
	cmd := p.cmd
	out, _ := cmd.Stdout.(*os.File)
	defer out.Close()
	program := cmd.Path
	releaseEnd, err := launchCommand(cmd, p.umask)
	if err != nil {
		return nil, nil, err
	}
	defer cmd.ExtraFiles[0].Close()

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := cmd.Start(); err != nil {
		releaseEnd.Close()
		return nil, nil, fmt.Errorf("running %s to start %q: %w", selfExe, program, err)
	}
	// The child exists until it is reaped below, exited or not, so its
	// start time can be read now.
	pid := cmd.Process.Pid
	stat, err := readProcStat(pid)
	if err != nil {
		releaseEnd.Close()
		syscall.Kill(-pid, syscall.SIGKILL)
		cmd.Wait()
		return nil, nil, fmt.Errorf("reading the start time of process %d: %w", pid, err)
	}
	c := &child{pid: pid, startTime: stat.startTime, key: key, done: make(chan struct{})}
	s.children[pid] = c
	s.running[key] = c
	go s.reap(c, cmd)
	return c, releaseEnd, nil
}

// reap waits for c to exit and removes it from the maps of children.
func (s *SimpleLocalProcess) reap(c *child, cmd *exec.Cmd) {
	awaitExit(c.pid)
	err := cmd.Wait()
	s.mu.Lock()
	delete(s.children, c.pid)
	if s.running[c.key] == c {
		delete(s.running, c.key)
	}
	if s.portHolder == c.key {
		s.portHolder = ""
	}
	c.waitErr = err
	s.mu.Unlock()
	close(c.done)
	select {
	case s.exited <- struct{}{}:
	default:
	}
}

// awaitReady waits until the server responds, within the start and HTTP
// timeouts, counted from began and from now.
func (s *SimpleLocalProcess) awaitReady(ctx context.Context, r Request, c *child,
	base string, began time.Time) error {
	startTimeout := cmp.Or(r.StartTimeout, s.StartTimeout, DefaultStartTimeout)
	httpTimeout := cmp.Or(r.HTTPTimeout, s.HTTPTimeout, DefaultHTTPTimeout)
	deadline := began.Add(startTimeout)
	if d := time.Now().Add(httpTimeout); d.Before(deadline) {
		deadline = d
	}
	waitCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	err := waitUp(waitCtx, s.probe, base, r.Prefix, c.done)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errExited):
		<-c.done
		return fmt.Errorf("server process %d exited before it responded: %w", c.pid, c.waitErr)
	case ctx.Err() != nil:
		return fmt.Errorf("start abandoned: %w", ctx.Err())
	default:
		return fmt.Errorf("%w: no response at %s%s within %v",
			ErrStartTimeout, base, r.Prefix, deadline.Sub(began).Round(time.Millisecond))
	}
}

// kill ends c's process group at once and waits until c is reaped.
func (s *SimpleLocalProcess) kill(c *child) {
	select {
	case <-c.done:
		return
	default:
	}
	// The pid cannot be reused before the reaper runs, so the group is
	// still c's.
	syscall.Kill(-c.pid, syscall.SIGKILL)
	<-c.done
}

// Poll reports whether the server of state still runs. It needs nothing
// but state, so a hub started after the server finds it: the process must
// exist with the start time and boot ID recorded in state, and lead its
// process group. A running process whose URL does not respond is reported
// as running, with an error wrapping ErrNotResponding. Other errors mean
// that state is invalid or the check failed, and running is then false.
func (s *SimpleLocalProcess) Poll(ctx context.Context, state json.RawMessage) (bool, error) {
	s.init()
	st, err := parseState(state)
	if err != nil {
		return false, err
	}
	if err := checkProcess(st, bootID()); err != nil {
		if errors.Is(err, errProcessGone) {
			return false, nil
		}
		return false, err
	}
	probeCtx, cancel := context.WithTimeout(ctx, pollProbeTimeout)
	defer cancel()
	status, err := probe(probeCtx, s.probe, st.URL+st.Prefix)
	if err != nil {
		return true, fmt.Errorf("%w: process %d at %s: %v", ErrNotResponding, st.PID, st.URL, err)
	}
	if status >= 500 {
		return true, fmt.Errorf("%w: process %d at %s: status %d",
			ErrNotResponding, st.PID, st.URL, status)
	}
	return true, nil
}
