package terminal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"golang.org/x/sys/unix"
)

// Errors of Manager's methods, for callers to branch on.
var (
	ErrNotFound    = errors.New("terminal not found")
	ErrExists      = errors.New("terminal name taken")
	ErrInvalidName = errors.New("invalid terminal name")
	ErrInvalidCwd  = errors.New("invalid terminal folder")
	ErrClosed      = errors.New("terminal manager closed")
	ErrUnsupported = errors.New("terminals are not supported on this system")
)

// maxNameBytes bounds a terminal name that a client chooses.
const maxNameBytes = 255

// Options configures a Manager.
type Options struct {
	Log *slog.Logger
	// Shell is the command each terminal runs; nil means DefaultShell().
	Shell []string
	// RootDir is the folder terminals start in; "" means the current
	// folder.
	RootDir string
	// ResolveCwd turns the folder a client asks for, a path relative to
	// RootDir, into an operating system path, or returns an error when it
	// is outside RootDir. nil refuses every folder but RootDir.
	ResolveCwd func(apiPath string) (string, error)
	// Env returns "KEY=value" entries added to the server's environment
	// for each terminal, after TERM=xterm-256color; nil adds none.
	Env func() []string
	// KillGrace is how long a terminal that is ended gets between SIGHUP
	// and SIGKILL; 0 means 3 s.
	KillGrace time.Duration
}

// Model is the REST model of a terminal.
type Model struct {
	Name         string    `json:"name"`
	LastActivity time.Time `json:"last_activity"`
}

// MarshalJSON writes last_activity as jupyter_server does: ISO 8601 in UTC
// with microseconds and a Z suffix.
func (m Model) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name         string `json:"name"`
		LastActivity string `json:"last_activity"`
	}{m.Name, m.LastActivity.UTC().Format("2006-01-02T15:04:05.000000Z")})
}

// Manager starts, tracks and ends terminals, and serves their REST API and
// WebSockets. It is safe for concurrent use. Close must be called before
// the server exits, so that no terminal process outlives it.
type Manager struct {
	log   *slog.Logger
	opts  Options
	shell []string

	// lastActivity is the Unix time in nanoseconds of the latest start,
	// input or output of a terminal. Terminals update it while they hold
	// their own lock, so it is not guarded by mu.
	lastActivity atomic.Int64

	mu        sync.Mutex
	terms     map[string]*Terminal
	seq       uint64
	closed    bool
	sockets   sync.WaitGroup // WebSocket handlers, which Close waits for
	closeOnce sync.Once
}

// NewManager returns a Manager with no terminals.
func NewManager(opts Options) *Manager {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.KillGrace <= 0 {
		opts.KillGrace = 3 * time.Second
	}
	shell := opts.Shell
	if len(shell) == 0 {
		shell = DefaultShell()
	}
	return &Manager{log: opts.Log, opts: opts, shell: shell, terms: make(map[string]*Terminal)}
}

// DefaultShell returns the shell jupyter_server runs in a terminal: $SHELL,
// else sh from the PATH. When the server's standard output is not a
// terminal, as under a hub, the shell is a login shell, so that it reads
// the profile a login would have read.
func DefaultShell() []string {
	shell := os.Getenv("SHELL")
	if shell == "" {
		shell = "/bin/sh"
		if p, err := exec.LookPath("sh"); err == nil {
			shell = p
		}
	}
	if _, err := unix.IoctlGetTermios(int(os.Stdout.Fd()), unix.TCGETS); err != nil {
		return []string{shell, "-l"}
	}
	return []string{shell}
}

// CreateOptions are the optional fields of a new terminal.
type CreateOptions struct {
	// Name is the terminal's name; "" picks the lowest free number.
	Name string
	// Cwd is the folder to start in, relative to the root folder; "" is
	// the root folder.
	Cwd string
}

// Create starts a terminal and returns its model. A Name that another
// terminal has gives ErrExists; one that is not made of letters, digits
// and underscores gives ErrInvalidName.
func (m *Manager) Create(opts CreateOptions) (Model, error) {
	if !Supported {
		return Model{}, ErrUnsupported
	}
	if opts.Name != "" && !validName(opts.Name) {
		return Model{}, fmt.Errorf("%w %q: use at most %d bytes of letters, digits and underscores",
			ErrInvalidName, opts.Name, maxNameBytes)
	}
	dir, err := m.cwd(opts.Cwd)
	if err != nil {
		return Model{}, err
	}

	t, err := m.startTerminal(opts.Name, dir)
	if err != nil {
		return Model{}, err
	}
	m.touch(time.Now())
	t.log.Info("terminal started", "shell", m.shell[0], "cwd", dir)
	return t.model(), nil
}

// startTerminal starts a terminal in dir and adds it to the running ones.
func (m *Manager) startTerminal(name, dir string) (*Terminal, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if name == "" {
		name = m.nextNameLocked()
	} else if _, ok := m.terms[name]; ok {
		return nil, fmt.Errorf("%w: %s", ErrExists, name)
	}
	m.seq++
	t, err := start(startOptions{
		name: name, seq: m.seq, argv: m.shell, dir: dir, env: m.env(),
		grace: m.opts.KillGrace, log: m.log, touch: m.touch, ended: m.forget,
	})
	if err != nil {
		return nil, fmt.Errorf("starting terminal %s: %w", name, err)
	}
	m.terms[name] = t
	return t, nil
}

// validName reports whether name is made of letters, digits and
// underscores, which the WebSocket URL of jupyter_server accepts.
func validName(name string) bool {
	if len(name) > maxNameBytes {
		return false
	}
	for _, r := range name {
		if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// nextNameLocked returns the lowest number that names no terminal.
func (m *Manager) nextNameLocked() string {
	for n := 1; ; n++ {
		name := strconv.Itoa(n)
		if _, ok := m.terms[name]; !ok {
			return name
		}
	}
}

// cwd returns the folder for a new terminal. An absolute path inside the
// root folder is taken relative to it; other paths are relative to it
// already.
func (m *Manager) cwd(apiPath string) (string, error) {
	if apiPath == "" {
		return m.opts.RootDir, nil
	}
	if m.opts.ResolveCwd == nil {
		return "", fmt.Errorf("%w %q: only the root folder is allowed", ErrInvalidCwd, apiPath)
	}
	if filepath.IsAbs(apiPath) {
		if rel, err := filepath.Rel(m.opts.RootDir, apiPath); err == nil && filepath.IsLocal(rel) {
			apiPath = filepath.ToSlash(rel)
		}
	}
	dir, err := m.opts.ResolveCwd(apiPath)
	if err != nil {
		return "", fmt.Errorf("%w %q: %w", ErrInvalidCwd, apiPath, err)
	}
	return dir, nil
}

// env returns the environment of a new terminal: the server's, with TERM
// set for xterm.js, which JupyterLab's terminal uses, and Options.Env.
func (m *Manager) env() []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return len(kv) >= 5 && kv[:5] == "TERM="
	})
	env = append(env, "TERM=xterm-256color")
	if m.opts.Env != nil {
		env = append(env, m.opts.Env()...)
	}
	return env
}

// forget removes t, which has ended, from the running terminals.
func (m *Manager) forget(t *Terminal) {
	m.mu.Lock()
	if m.terms[t.name] == t {
		delete(m.terms, t.name)
	}
	m.mu.Unlock()
}

// touch records terminal activity at now.
func (m *Manager) touch(now time.Time) {
	ns := now.UnixNano()
	for {
		old := m.lastActivity.Load()
		if ns <= old || m.lastActivity.CompareAndSwap(old, ns) {
			return
		}
	}
}

// terminal returns the running terminal called name.
func (m *Manager) terminal(name string) (*Terminal, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.terms[name]
	return t, ok
}

// Get returns the model of the terminal called name.
func (m *Manager) Get(name string) (Model, bool) {
	t, ok := m.terminal(name)
	if !ok {
		return Model{}, false
	}
	return t.model(), true
}

// List returns the models of the running terminals, oldest first.
func (m *Manager) List() []Model {
	m.mu.Lock()
	terms := make([]*Terminal, 0, len(m.terms))
	for _, t := range m.terms {
		terms = append(terms, t)
	}
	m.mu.Unlock()
	slices.SortFunc(terms, func(a, b *Terminal) int { return int(a.seq) - int(b.seq) })
	models := make([]Model, len(terms))
	for i, t := range terms {
		models[i] = t.model()
	}
	return models
}

// Terminate ends the terminal called name and waits until its processes
// are gone: SIGHUP to its session, then SIGKILL after Options.KillGrace.
func (m *Manager) Terminate(name string) error {
	t, ok := m.terminal(name)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	t.terminate()
	return nil
}

// ActivityStats returns the latest terminal activity (starts, input and
// output) and the number of running terminals.
// The time is zero when no terminal was ever started.
func (m *Manager) ActivityStats() (lastActivity time.Time, running int) {
	m.mu.Lock()
	running = len(m.terms)
	m.mu.Unlock()
	if ns := m.lastActivity.Load(); ns != 0 {
		lastActivity = time.Unix(0, ns).UTC()
	}
	return lastActivity, running
}

// Close ends every terminal and waits for them and for their WebSocket
// handlers, or until ctx is done. Create fails with ErrClosed after it
// begins. Later calls return at once.
func (m *Manager) Close(ctx context.Context) error {
	var err error
	m.closeOnce.Do(func() { err = m.close(ctx) })
	return err
}

func (m *Manager) close(ctx context.Context) error {
	m.mu.Lock()
	m.closed = true
	terms := make([]*Terminal, 0, len(m.terms))
	for _, t := range m.terms {
		terms = append(terms, t)
	}
	m.mu.Unlock()
	if len(terms) > 0 {
		m.log.Info("shutting down terminals", "count", len(terms))
	}

	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		for _, t := range terms {
			wg.Go(t.terminate)
		}
		wg.Wait()
		m.sockets.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for terminals to end: %w", ctx.Err())
	}
}

// trackSocket counts a WebSocket handler for Close, unless Close has begun.
func (m *Manager) trackSocket() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.sockets.Add(1)
	return true
}
