package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Errors a caller can branch on.
var (
	// ErrNotFound is returned for a kernel id the manager does not know.
	ErrNotFound = errors.New("kernel not found")
	// ErrSpecNotFound is returned for a kernel name no spec has.
	ErrSpecNotFound = errors.New("kernel spec not found")
	// ErrClosed is returned by Start once Close has begun.
	ErrClosed = errors.New("kernel manager is closed")
)

// errInvalidPath wraps errors of Options.ResolveCwd.
var errInvalidPath = errors.New("invalid kernel path")

// Options configure a Manager.
type Options struct {
	// Log receives the manager's records; nil discards them.
	Log *slog.Logger
	// RuntimeDir is the folder of the connection files; "" means the
	// Jupyter runtime dir (JUPYTER_RUNTIME_DIR, else
	// ~/.local/share/jupyter/runtime). It is created with mode 0700.
	RuntimeDir string
	// SpecDirs are the folders searched for kernel specs, in priority order.
	// Each contains one folder per spec with a kernel.json. Nil means the
	// kernels folder of every Jupyter data dir (see DataDirs).
	SpecDirs []string
	// ResolveCwd maps a contents API path to the OS folder a kernel started
	// for it runs in. A path naming a file runs in the nearest folder above
	// it. Nil runs kernels in the server's working folder.
	ResolveCwd func(apiPath string) (string, error)
	// BaseURL is the server's base URL, "/" or "/user/alice/", used in the
	// resource URLs of kernel specs and in Location headers; "" means "/".
	BaseURL string

	// IOPubMsgRateLimit is the largest rate of IOPub output messages sent to
	// one client, in messages per second averaged over RateLimitWindow; 0
	// means 1000, a negative value turns the limit off.
	IOPubMsgRateLimit float64
	// IOPubDataRateLimit is the largest rate of stream output sent to one
	// client, in bytes per second averaged over RateLimitWindow; 0 means
	// 1000000, a negative value turns the limit off.
	IOPubDataRateLimit float64
	// RateLimitWindow is the window of the IOPub rate limits; 0 means 3 s.
	RateLimitWindow time.Duration

	// StartTimeout is how long a started or restarted kernel process gets to
	// reply to kernel_info_request before it is killed; 0 means 60 s, the
	// default of jupyter_server's kernel_info_timeout.
	StartTimeout time.Duration

	// CullIdleTimeout turns on the culling of idle kernels: a kernel whose
	// last activity is older than this is shut down. 0 (the default) or
	// less culls nothing. A dead kernel is culled at the next check.
	CullIdleTimeout time.Duration
	// CullInterval is how often kernels are checked for culling; 0 means
	// 5 minutes, as does a negative value, with a warning.
	CullInterval time.Duration
	// CullConnected culls idle kernels even when WebSockets are attached.
	CullConnected bool
	// CullBusy culls idle kernels even when their state is busy, which a
	// kernel keeps while it runs code without output.
	CullBusy bool
}

// Model is the REST model of a kernel.
type Model struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	LastActivity   time.Time `json:"last_activity"`
	ExecutionState string    `json:"execution_state"`
	Connections    int       `json:"connections"`
	// Reason is the cause of a dead kernel's death. It is empty for a live
	// kernel and then omitted from the JSON, as jupyter_server omits it.
	Reason string `json:"reason,omitempty"`
}

type modelJSON struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	LastActivity   string `json:"last_activity"`
	ExecutionState string `json:"execution_state"`
	Connections    int    `json:"connections"`
	Reason         string `json:"reason,omitempty"`
}

// MarshalJSON writes last_activity as jupyter_server does: ISO 8601 in UTC
// with microseconds and a Z suffix.
func (m Model) MarshalJSON() ([]byte, error) {
	return json.Marshal(modelJSON{
		ID: m.ID, Name: m.Name, LastActivity: isoTime(m.LastActivity),
		ExecutionState: m.ExecutionState, Connections: m.Connections, Reason: m.Reason,
	})
}

// UnmarshalJSON reads the JSON that MarshalJSON writes.
func (m *Model) UnmarshalJSON(data []byte) error {
	var j modelJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339Nano, j.LastActivity)
	if err != nil {
		return fmt.Errorf("last_activity: %w", err)
	}
	*m = Model{
		ID: j.ID, Name: j.Name, LastActivity: t,
		ExecutionState: j.ExecutionState, Connections: j.Connections, Reason: j.Reason,
	}
	return nil
}

// Manager starts, tracks and stops kernels, and serves their REST API and
// WebSockets. It is safe for concurrent use. Close must be called before the
// server exits, so no kernel process outlives it.
type Manager struct {
	log        *slog.Logger
	opts       Options
	baseURL    string
	runtimeDir string
	limits     rateLimits
	startWait  time.Duration // Options.StartTimeout or its default
	zctx       *zmqContext

	python     string
	nativeOnce sync.Once
	native     *Spec

	mu      sync.Mutex
	kernels map[string]*Kernel
	closed  bool

	closeOnce sync.Once
	closeErr  error

	sockets sync.WaitGroup // WebSocket handlers

	cull       cullPolicy
	stopCuller context.CancelFunc // nil when culling is off
	cullerDone chan struct{}      // closed when the culler has returned
}

// NewManager returns a manager for opts. It creates the runtime dir, and
// starts the culler of idle kernels when opts.CullIdleTimeout is positive.
func NewManager(opts Options) (*Manager, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir := opts.RuntimeDir
	if dir == "" {
		var err error
		if dir, err = RuntimeDir(); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating runtime dir: %w", err)
	}
	zctx, err := newZMQContext()
	if err != nil {
		return nil, err
	}
	base := opts.BaseURL
	if base == "" {
		base = "/"
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	m := &Manager{
		log: log, opts: opts, baseURL: base, runtimeDir: dir, zctx: zctx,
		limits: rateLimits{
			msgRate:  limitOrDefault(opts.IOPubMsgRateLimit, defaultMsgRateLimit),
			dataRate: limitOrDefault(opts.IOPubDataRateLimit, defaultDataRateLimit),
			window:   cmpOr(opts.RateLimitWindow, defaultRateWindow),
		},
		startWait: cmpOr(opts.StartTimeout, defaultStartTimeout),
		python:    defaultPython,
		kernels:   make(map[string]*Kernel),
		cull: cullPolicy{
			timeout:   max(opts.CullIdleTimeout, 0),
			connected: opts.CullConnected,
			busy:      opts.CullBusy,
		},
	}
	m.startCuller()
	return m, nil
}

func limitOrDefault(v, def float64) float64 {
	switch {
	case v < 0:
		return 0
	case v == 0:
		return def
	}
	return v
}

func cmpOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Specs returns the installed kernel specs by name. When none is called
// python3 and /usr/bin/python3 can import ipykernel, a python3 spec for it is
// included, as jupyter_client includes its native kernel.
func (m *Manager) Specs() map[string]*Spec {
	dirs := m.opts.SpecDirs
	if dirs == nil {
		dirs = defaultSpecDirs()
	}
	specs := findSpecs(dirs, m.log)
	if _, ok := specs["python3"]; !ok {
		m.nativeOnce.Do(func() { m.native = nativeSpec(context.Background(), m.python) })
		if m.native != nil {
			specs["python3"] = m.native
		}
	}
	return specs
}

// DefaultKernelName returns the kernel name used when none is given:
// python3 when installed, else the first name in sorted order, else "".
func (m *Manager) DefaultKernelName() string {
	return defaultName(m.Specs())
}

func defaultName(specs map[string]*Spec) string {
	if _, ok := specs["python3"]; ok {
		return "python3"
	}
	names := make([]string, 0, len(specs))
	for name := range specs {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// Spec returns the spec called name, matched case-insensitively; "" means
// the default. The error wraps ErrSpecNotFound.
func (m *Manager) Spec(name string) (*Spec, error) {
	specs := m.Specs()
	if name == "" {
		name = defaultName(specs)
	}
	spec, ok := specs[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrSpecNotFound, name)
	}
	return spec, nil
}

// StartOptions are the parameters of Manager.Start.
type StartOptions struct {
	// Name is the name of the kernel spec; "" means the default.
	Name string
	// Path is the contents API path the kernel is started for. The kernel
	// runs in the folder Options.ResolveCwd maps it to.
	Path string
	// SessionName is the name of the session that starts the kernel, most
	// often the notebook's file name. When it is set, the kernel's
	// environment gets JPY_SESSION_NAME: the session name joined to the
	// kernel's working folder, as jupyter_server 2 sets it. ipykernel
	// releases newer than 6.17 publish it as __session__. A JPY_SESSION_NAME in the spec's
	// env wins, as in jupyter_client.
	SessionName string
}

// Start starts a kernel of the spec and for the path opts name. It returns once the process runs,
// with the model in state starting, as jupyter_server does. Clients can
// connect and send requests at once, and the requests reach the kernel when
// it replies to kernel_info_request. A kernel that does not reply within
// Options.StartTimeout is killed and declared dead. ctx is used only when
// the manager is closing meanwhile.
func (m *Manager) Start(ctx context.Context, opts StartOptions) (Model, error) {
	if m.isClosed() {
		return Model{}, ErrClosed
	}
	spec, err := m.Spec(opts.Name)
	if err != nil {
		return Model{}, err
	}
	cwd, err := m.kernelCwd(opts.Path)
	if err != nil {
		return Model{}, err
	}
	var session string
	if opts.SessionName != "" {
		if session, err = sessionPath(cwd, opts.SessionName); err != nil {
			return Model{}, fmt.Errorf("starting kernel %s: %w", spec.Name, err)
		}
	}
	k, err := m.newKernel(spec, cwd)
	if err != nil {
		return Model{}, fmt.Errorf("starting kernel %s: %w", spec.Name, err)
	}
	k.sessionName = session
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		k.shutdown(ctx)
		return Model{}, ErrClosed
	}
	m.kernels[k.id] = k
	m.mu.Unlock()

	if err := k.start(); err != nil {
		m.remove(k.id)
		k.shutdown(context.Background())
		return Model{}, fmt.Errorf("starting kernel %s: %w", spec.Name, err)
	}
	k.log.Info("kernel starting", "kernel_name", spec.Name, "cwd", cwd)
	return k.Model(), nil
}

// sessionPath returns the value of JPY_SESSION_NAME for a kernel in cwd
// started by the session called name: name joined to the absolute cwd. An
// empty cwd is the server's working folder.
func sessionPath(cwd, name string) (string, error) {
	if cwd == "" {
		var err error
		if cwd, err = os.Getwd(); err != nil {
			return "", fmt.Errorf("finding the working folder for JPY_SESSION_NAME: %w", err)
		}
	}
	return filepath.Join(cwd, name), nil
}

func (m *Manager) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// kernelCwd returns the folder for a kernel of apiPath.
func (m *Manager) kernelCwd(apiPath string) (string, error) {
	if m.opts.ResolveCwd == nil {
		return "", nil
	}
	dir, err := m.opts.ResolveCwd(apiPath)
	if err != nil {
		return "", fmt.Errorf("%w %q: %w", errInvalidPath, apiPath, err)
	}
	for {
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w %q: no folder found", errInvalidPath, apiPath)
		}
		dir = parent
	}
}

// newKernel creates a kernel with a new id, connection file and channels,
// and starts its goroutines; the process is started by Kernel.start.
func (m *Manager) newKernel(spec *Spec, cwd string) (*Kernel, error) {
	id := uuid.NewString()
	log := m.log.With("kernel_id", id)
	k := &Kernel{
		id: id, spec: spec, cwd: cwd, log: log, out: newOutputLog(log),
		connFile:     filepath.Join(m.runtimeDir, "kernel-"+id+".json"),
		startTimeout: m.startWait,
		state:        stateStarting,
		lastActivity: time.Now(),
		quit:         make(chan struct{}),
		exits:        make(chan *process),
	}
	info, err := newConnectionInfo(spec.Name)
	if err != nil {
		return nil, err
	}
	k.info = info
	if err := writeConnectionFile(k.connFile, info); err != nil {
		return nil, err
	}
	k.ch, err = newChannels(m.zctx, k, m.limits, log)
	if err != nil {
		os.Remove(k.connFile)
		return nil, fmt.Errorf("creating kernel channels: %w", err)
	}
	k.wg.Add(2)
	go func() {
		defer k.wg.Done()
		k.ch.run()
	}()
	go k.supervise()
	return k, nil
}

func (m *Manager) kernel(id string) (*Kernel, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.kernels[id]
	return k, ok
}

func (m *Manager) remove(id string) (*Kernel, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.kernels[id]
	delete(m.kernels, id)
	return k, ok
}

// Get returns the model of the kernel id.
func (m *Manager) Get(id string) (Model, bool) {
	k, ok := m.kernel(id)
	if !ok {
		return Model{}, false
	}
	return k.Model(), true
}

// List returns the models of all kernels, sorted by id.
func (m *Manager) List() []Model {
	m.mu.Lock()
	models := make([]Model, 0, len(m.kernels))
	for _, k := range m.kernels {
		models = append(models, k.Model())
	}
	m.mu.Unlock()
	sort.Slice(models, func(i, j int) bool { return models[i].ID < models[j].ID })
	return models
}

// Shutdown stops the kernel id and removes it: a shutdown_request first,
// then SIGTERM and SIGKILL to its process group; a done ctx skips to
// SIGKILL. It returns ErrNotFound for an unknown id.
func (m *Manager) Shutdown(ctx context.Context, id string) error {
	k, ok := m.remove(id)
	if !ok {
		return ErrNotFound
	}
	k.shutdown(ctx)
	return nil
}

// Interrupt interrupts the kernel id as its spec's interrupt_mode sets: with
// SIGINT to its process group, or with interrupt_request on control.
func (m *Manager) Interrupt(id string) error {
	k, ok := m.kernel(id)
	if !ok {
		return ErrNotFound
	}
	return k.interrupt()
}

// Restart restarts the kernel id with the same id and connection file and
// waits until it replies to kernel_info_request. Connected WebSockets stay open.
func (m *Manager) Restart(ctx context.Context, id string) (Model, error) {
	k, ok := m.kernel(id)
	if !ok {
		return Model{}, ErrNotFound
	}
	if err := k.restart(ctx); err != nil {
		if errors.Is(err, errShutDown) {
			return Model{}, ErrNotFound
		}
		return Model{}, fmt.Errorf("restarting kernel %s: %w", id, err)
	}
	return k.Model(), nil
}

// Close shuts every kernel down, waits for their WebSocket handlers to
// return, stops the culler and releases the ZeroMQ context. Start fails
// with ErrClosed after it begins. Later calls wait for the first and return
// its result.
func (m *Manager) Close(ctx context.Context) error {
	m.closeOnce.Do(func() { m.closeErr = m.close(ctx) })
	return m.closeErr
}

func (m *Manager) close(ctx context.Context) error {
	m.haltCuller()
	m.mu.Lock()
	m.closed = true
	kernels := make([]*Kernel, 0, len(m.kernels))
	for id, k := range m.kernels {
		kernels = append(kernels, k)
		delete(m.kernels, id)
	}
	m.mu.Unlock()

	var wg sync.WaitGroup
	for _, k := range kernels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k.shutdown(ctx)
		}()
	}
	wg.Wait()

	handlersDone := make(chan struct{})
	go func() {
		m.sockets.Wait()
		close(handlersDone)
	}()
	select {
	case <-handlersDone:
	case <-ctx.Done():
		return fmt.Errorf("waiting for kernel WebSockets to close: %w", ctx.Err())
	}
	if err := m.zctx.term(); err != nil {
		return fmt.Errorf("closing ZeroMQ context: %w", err)
	}
	return nil
}

// ActivityStats returns the number of WebSockets attached to kernels, the
// latest kernel activity and the number of kernels, for /api/status.
func (m *Manager) ActivityStats() (connections int, lastActivity time.Time, running int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.kernels {
		model := k.Model()
		connections += model.Connections
		if model.LastActivity.After(lastActivity) {
			lastActivity = model.LastActivity
		}
	}
	return connections, lastActivity, len(m.kernels)
}
