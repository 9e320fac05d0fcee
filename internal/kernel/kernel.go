package kernel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Lifecycle limits, as jupyter_client's defaults.
const (
	// shutdownWait is how long a kernel gets to exit after shutdown_request:
	// SIGTERM follows after half of it, SIGKILL after all of it.
	shutdownWait = 5 * time.Second
	// defaultStartTimeout bounds the wait for a started kernel's reply to
	// kernel_info_request, like jupyter_server's kernel_info_timeout.
	defaultStartTimeout = 60 * time.Second
	// restartLimit is how many automatic restarts in a row a kernel gets
	// before it is declared dead.
	restartLimit = 5
	// stableUptime is how long a kernel must have run for its death not to
	// count toward restartLimit.
	stableUptime = 10 * time.Second
	// startAttempts bounds the starts of one launch when the kernel exits
	// before it is ready, most often because another process took a port.
	startAttempts = 3
)

// Execution states the server sets itself; the others come from IOPub.
const (
	stateStarting   = "starting"
	stateIdle       = "idle"
	stateRestarting = "restarting"
	stateDead       = "dead"
)

var (
	errExitedEarly = errors.New("kernel exited before it was ready")
	errShutDown    = errors.New("kernel was shut down")
	errNotRunning  = errors.New("kernel process is not running")
)

// Kernel is one running kernel: its process, its connection file and the
// ZeroMQ channels every client shares.
type Kernel struct {
	id       string
	spec     *Spec
	cwd      string
	connFile string
	// sessionName is the JPY_SESSION_NAME of the process, or "" for none.
	sessionName string
	// startTimeout bounds the wait for each process's reply to
	// kernel_info_request.
	startTimeout time.Duration
	log          *slog.Logger
	out          *outputLog
	ch           *channels

	// opMu serializes the operations that change the process: start,
	// restart, automatic restart and shutdown.
	opMu      sync.Mutex
	info      ConnectionInfo
	restarts  int  // automatic restarts in a row
	procReady bool // whether the current process became ready
	dead      bool // no automatic restart until a requested one

	mu           sync.Mutex
	proc         *process
	state        string
	lastActivity time.Time
	connections  int
	stopping     bool
	reason       string // cause of death, reported in the REST model

	quit     chan struct{} // closed when shutdown begins
	quitOnce sync.Once
	exits    chan *process // exited processes, for supervise
	wg       sync.WaitGroup
}

// Model returns the REST model of k.
func (k *Kernel) Model() Model {
	k.mu.Lock()
	defer k.mu.Unlock()
	return Model{
		ID: k.id, Name: k.spec.Name, LastActivity: k.lastActivity,
		ExecutionState: k.state, Connections: k.connections, Reason: k.reason,
	}
}

func (k *Kernel) setState(state string) {
	k.mu.Lock()
	k.state = state
	k.mu.Unlock()
}

func (k *Kernel) currentProc() *process {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.proc
}

func (k *Kernel) isStopping() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.stopping
}

// The observer methods, called with the lock of the kernel's channels held.

// statusChanged records an IOPub status. A kernel publishes "starting" once
// as it boots, and that message can arrive after the nudge has proven the
// kernel ready. It is ignored, because the server tracks starting itself.
func (k *Kernel) statusChanged(state, parentType string) {
	if state == "" || state == stateStarting || untrackedParents[parentType] {
		return
	}
	k.setState(state)
}

func (k *Kernel) activity(t time.Time) {
	k.mu.Lock()
	k.lastActivity = t
	k.mu.Unlock()
}

func (k *Kernel) connectionsChanged(n int) {
	k.mu.Lock()
	k.connections = n
	k.mu.Unlock()
}

func (k *Kernel) ready() {
	k.mu.Lock()
	if k.state == stateStarting || k.state == stateRestarting {
		k.state = stateIdle
	}
	k.mu.Unlock()
}

// startLocked starts the kernel process and waits until it is ready. When
// the process exits before that, it retries with new ports. The caller
// holds opMu.
func (k *Kernel) startLocked(ctx context.Context, freshPorts bool) error {
	var err error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		err = k.launchLocked(ctx, freshPorts || attempt > 1)
		if !errors.Is(err, errExitedEarly) {
			return err
		}
		k.ch.disconnect()
		if attempt < startAttempts {
			k.log.Warn("kernel exited during start, retrying with new ports", "attempt", attempt)
		}
	}
	return err
}

// launchLocked starts one process and waits until it is ready. The caller
// holds opMu.
func (k *Kernel) launchLocked(ctx context.Context, freshPorts bool) error {
	p, ready, err := k.spawnLocked(freshPorts)
	if err != nil {
		return err
	}
	if err := k.waitReady(ctx, p, ready); err != nil {
		return err
	}
	k.procReady = true
	return nil
}

// spawnLocked starts one process and connects the channels to it, without
// waiting for its reply to kernel_info_request. The returned channel is
// closed once that reply has come. The caller holds opMu.
func (k *Kernel) spawnLocked(freshPorts bool) (*process, <-chan struct{}, error) {
	if freshPorts {
		if err := k.info.pickPorts(); err != nil {
			return nil, nil, err
		}
		if err := writeConnectionFile(k.connFile, k.info); err != nil {
			return nil, nil, err
		}
	}
	base := os.Environ()
	if k.sessionName != "" {
		// Before the spec's env, which may override it, as in jupyter_client.
		base = append(base, "JPY_SESSION_NAME="+k.sessionName)
	}
	env := k.spec.processEnv(base, map[string]string{
		// ipykernel exits when the process named here is gone.
		"JPY_PARENT_PID": strconv.Itoa(os.Getpid()),
	})
	p, err := startProcess(k.spec.argv(k.connFile), k.cwd, env, k.out)
	if err != nil {
		return nil, nil, err
	}
	k.mu.Lock()
	k.proc = p
	k.mu.Unlock()
	k.procReady = false
	k.wg.Add(1)
	go k.watch(p)
	k.log.Info("kernel process started", "pid", p.pid)

	ready, err := k.ch.connect(k.info)
	if err != nil {
		_ = p.signalGroup(syscall.SIGKILL)
		return nil, nil, fmt.Errorf("connecting to kernel: %w", err)
	}
	return p, ready, nil
}

// watch reaps p and hands it to supervise.
func (k *Kernel) watch(p *process) {
	defer k.wg.Done()
	p.watch()
	select {
	case k.exits <- p:
	case <-k.quit:
	}
}

// waitReady waits until the channels are ready. A process that is alive when
// the wait fails is killed, so it never lingers half started.
func (k *Kernel) waitReady(ctx context.Context, p *process, ready <-chan struct{}) error {
	timer := time.NewTimer(k.startTimeout)
	defer timer.Stop()
	var err error
	select {
	case <-ready:
		return nil
	case <-p.done:
		return fmt.Errorf("%w: %v", errExitedEarly, p.err)
	case <-ctx.Done():
		err = ctx.Err()
	case <-k.quit:
		err = errShutDown
	case <-timer.C:
		err = fmt.Errorf("kernel did not reply to kernel_info_request within %s", k.startTimeout)
	}
	_ = p.signalGroup(syscall.SIGKILL)
	// Waiting for the exit means that a kernel declared dead next has no
	// process left. SIGKILL cannot be caught, so the wait is short unless
	// the process is stuck in the OS kernel, which the bound covers.
	if !waitFor(context.Background(), p.done, 10*time.Second) {
		k.log.Error("kernel survived SIGKILL", "pid", p.pid)
	}
	return err
}

// stopProcessLocked ends the current process: an interrupt, then
// shutdown_request on control, then SIGTERM and SIGKILL to its process group
// as shutdownWait passes. The caller holds opMu.
func (k *Kernel) stopProcessLocked(ctx context.Context, restart bool) {
	p := k.currentProc()
	if p != nil && !p.exited() {
		// An interrupt first lets a busy kernel reach the shutdown request.
		k.interruptProcess(p)
		k.ch.sendOwn(channelControl, "shutdown_request", map[string]bool{"restart": restart})
		p.stop(ctx, shutdownWait, k.log)
	}
	k.ch.disconnect()
}

// interruptProcess interrupts p as the spec's interrupt_mode says.
func (k *Kernel) interruptProcess(p *process) error {
	if k.spec.InterruptMode == interruptMessage {
		k.ch.sendOwn(channelControl, "interrupt_request", struct{}{})
		return nil
	}
	return p.signalGroup(syscall.SIGINT)
}

// interrupt interrupts the running kernel.
func (k *Kernel) interrupt() error {
	p := k.currentProc()
	if p == nil || p.exited() {
		return errNotRunning
	}
	if err := k.interruptProcess(p); err != nil {
		return fmt.Errorf("interrupting kernel: %w", err)
	}
	return nil
}

// restart stops the process and starts a new one with the same connection
// file, keeping the kernel id and every client's WebSocket.
func (k *Kernel) restart(ctx context.Context) error {
	k.opMu.Lock()
	defer k.opMu.Unlock()
	if k.isStopping() {
		return errShutDown
	}
	k.setState(stateRestarting)
	k.stopProcessLocked(ctx, true)
	k.restarts, k.dead = 0, false
	k.mu.Lock()
	k.reason = ""
	k.mu.Unlock()
	if err := k.startLocked(ctx, false); err != nil {
		k.declareDeadLocked(err.Error())
		return err
	}
	k.log.Info("kernel restarted")
	return nil
}

// declareDeadLocked marks the kernel dead for reason and sends the dead
// status to its clients. It closes the sockets, which ends the nudge,
// because no process is left to reply to it. The kernel stays listed until it is shut down or restarted.
// The caller holds opMu.
func (k *Kernel) declareDeadLocked(reason string) {
	k.dead = true
	k.ch.abandon()
	k.mu.Lock()
	k.state, k.reason = stateDead, reason
	k.mu.Unlock()
	k.ch.broadcast(k.ch.status(stateDead))
}

// supervise restarts the kernel when its process exits on its own.
func (k *Kernel) supervise() {
	defer k.wg.Done()
	for {
		select {
		case p := <-k.exits:
			k.handleExit(p)
		case <-k.quit:
			return
		}
	}
}

// handleExit handles the exit of p. An exit the server did not cause is
// reported to clients as status restarting and followed by a restart, up to
// restartLimit times in a row; then the kernel is dead.
func (k *Kernel) handleExit(p *process) {
	k.opMu.Lock()
	defer k.opMu.Unlock()
	if k.isStopping() || k.dead || p != k.currentProc() {
		return
	}
	uptime := time.Since(p.started)
	k.log.Warn("kernel died", "pid", p.pid, "exit", p.err, "uptime", uptime.Round(time.Millisecond))
	k.ch.disconnect()
	if uptime >= stableUptime {
		k.restarts = 0
	}
	k.restarts++
	if k.restarts > restartLimit {
		k.log.Error("kernel died too often, not restarting it", "restarts", restartLimit)
		k.declareDeadLocked(fmt.Sprintf("kernel died %d times in a row", restartLimit+1))
		return
	}

	k.setState(stateRestarting)
	k.ch.broadcast(k.ch.status(stateRestarting))
	// A kernel that never became ready may have lost a port to another
	// process, so it gets new ones.
	err := k.launchLocked(context.Background(), !k.procReady)
	switch {
	case err == nil:
		k.log.Info("kernel restarted automatically", "restarts", k.restarts)
	case errors.Is(err, errShutDown):
	case k.currentProc() != p:
		// A new process started but exited or was killed before it was
		// ready. Its exit comes back here and counts as another death.
		k.log.Warn("kernel restart failed", "err", err)
	default:
		// No process could be started, so no exit will follow.
		k.log.Error("kernel restart failed", "err", err)
		k.declareDeadLocked(err.Error())
	}
}

// start starts the first process of k and returns once it runs and the
// channels are connected, because jupyter_server too replies to a kernel
// start before the kernel is ready. Clients may connect at once, and their
// messages wait in the channels until the kernel replies. A kernel that then fails to become ready
// is declared dead. On an error from start itself, the kernel is marked
// stopping before opMu is released, so the exit of the failed process is not
// taken for a death to restart from; the caller then shuts it down.
func (k *Kernel) start() error {
	k.opMu.Lock()
	p, ready, err := k.spawnLocked(false)
	if err != nil {
		k.mu.Lock()
		k.stopping = true
		k.mu.Unlock()
		k.opMu.Unlock()
		return err
	}
	k.wg.Add(1)
	go k.finishStart(p, ready)
	return nil
}

// finishStart waits until the first process is ready, retrying with new
// ports when it exits early, and then releases opMu, which start took.
func (k *Kernel) finishStart(p *process, ready <-chan struct{}) {
	defer k.wg.Done()
	defer k.opMu.Unlock()
	err := k.waitReady(context.Background(), p, ready)
	if err == nil {
		k.procReady = true
	}
	for attempt := 2; errors.Is(err, errExitedEarly) && attempt <= startAttempts; attempt++ {
		k.log.Warn("kernel exited during start, retrying with new ports", "attempt", attempt)
		k.ch.disconnect()
		// Clients may have seen the first process's idle status already.
		k.setState(stateRestarting)
		k.ch.broadcast(k.ch.status(stateRestarting))
		err = k.launchLocked(context.Background(), true)
	}
	switch {
	case err == nil:
		k.log.Info("kernel ready")
	case errors.Is(err, errShutDown):
	default:
		k.log.Error("kernel failed to start, so it is dead", "err", err)
		k.declareDeadLocked(err.Error())
	}
}

// shutdown stops the kernel for good: it ends the process, closes the
// channels and every client's WebSocket, removes the connection file and
// waits for the kernel's goroutines.
func (k *Kernel) shutdown(ctx context.Context) {
	k.mu.Lock()
	k.stopping = true
	k.mu.Unlock()
	k.quitOnce.Do(func() { close(k.quit) })

	k.opMu.Lock()
	k.stopProcessLocked(ctx, false)
	k.opMu.Unlock()

	k.ch.close()
	if err := os.Remove(k.connFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		k.log.Warn("removing connection file", "path", k.connFile, "err", err)
	}
	k.wg.Wait()
	k.log.Info("kernel shut down")
}
