package kernel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// process is one kernel process. It runs in its own session, so its pid is
// also the id of a process group that contains the kernel and every child it
// starts. Signals go to that whole group.
type process struct {
	cmd     *exec.Cmd
	pid     int
	started time.Time
	done    chan struct{} // closed once the process has exited and been reaped

	// mu is held while signalling and while reaping, so a signal never
	// reaches a pid that was reaped and reused.
	mu     sync.Mutex
	reaped bool
	err    error // the exit status from Wait
}

// startProcess starts argv in dir with env. The kernel's stdout and stderr
// go to out. The caller must call watch, in a goroutine it waits for.
func startProcess(argv []string, dir string, env []string, out *outputLog) (*process, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr()
	// A grandchild in another session can keep the output pipe open after
	// the kernel exits; WaitDelay stops Wait from waiting on it for long.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("running %s: %w", argv[0], err)
	}
	return &process{
		cmd: cmd, pid: cmd.Process.Pid, started: time.Now(), done: make(chan struct{}),
	}, nil
}

// watch waits for the process to exit, kills what is left of its process
// group, reaps the process and closes p.done.
func (p *process) watch() {
	// The exited process stays a zombie until Wait, so its pid, and with it
	// the group id, cannot be reused while the rest of the group is killed.
	exitedUnreaped := waitExited(p.pid)
	if exitedUnreaped {
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	}

	p.mu.Lock()
	p.err = p.cmd.Wait()
	p.reaped = true
	p.mu.Unlock()
	if !exitedUnreaped {
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	}
	close(p.done)
}

// exited reports whether the process has exited and been reaped.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signalGroup sends sig to the process group of p. It returns
// os.ErrProcessDone once the process has been reaped.
func (p *process) signalGroup(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reaped {
		return os.ErrProcessDone
	}
	err := syscall.Kill(-p.pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		// The kernel left its group; signal the process itself.
		err = syscall.Kill(p.pid, sig)
	}
	return err
}

// wait waits until the process has exited or ctx is done.
func (p *process) wait(ctx context.Context) error {
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop ends the process: after a graceful request already sent by the
// caller, it waits up to grace/2, sends SIGTERM to the group, waits up to
// grace/2 more, then sends SIGKILL. A done ctx skips to SIGKILL.
func (p *process) stop(ctx context.Context, grace time.Duration, log *slog.Logger) {
	if waitFor(ctx, p.done, grace/2) {
		return
	}
	if ctx.Err() == nil {
		log.Info("kernel did not exit, sending SIGTERM", "pid", p.pid)
		_ = p.signalGroup(syscall.SIGTERM)
		if waitFor(ctx, p.done, grace/2) {
			return
		}
	}
	log.Warn("kernel did not exit, sending SIGKILL", "pid", p.pid)
	_ = p.signalGroup(syscall.SIGKILL)
	// SIGKILL cannot be caught; a process that still stays is stuck in the
	// kernel, and the watcher reaps it whenever it goes.
	if !waitFor(context.Background(), p.done, 10*time.Second) {
		log.Error("kernel survived SIGKILL", "pid", p.pid)
	}
}

// waitFor waits until done is closed, ctx is done or d has passed, and
// reports whether done was closed.
func waitFor(ctx context.Context, done <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-ctx.Done():
	case <-t.C:
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// outputLog is the stdout and stderr of a kernel process: each line becomes
// a log record, at most outputLines lines per outputWindow, so a kernel that
// floods its file descriptors cannot flood the log.
type outputLog struct {
	log *slog.Logger

	mu         sync.Mutex
	partial    []byte
	window     time.Time
	lines      int
	suppressed int
}

const (
	outputLines   = 200
	outputWindow  = 10 * time.Second
	maxOutputLine = 4096
)

func newOutputLog(log *slog.Logger) *outputLog { return &outputLog{log: log} }

func (o *outputLog) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := maxOutputLine - len(o.partial)
			o.partial = append(o.partial, p[:min(room, len(p))]...)
			break
		}
		room := maxOutputLine - len(o.partial)
		o.partial = append(o.partial, p[:min(room, i)]...)
		o.emitLocked()
		p = p[i+1:]
	}
	return n, nil
}

func (o *outputLog) emitLocked() {
	line := string(bytes.TrimRight(o.partial, "\r"))
	o.partial = o.partial[:0]
	now := time.Now()
	if now.Sub(o.window) > outputWindow {
		if o.suppressed > 0 {
			o.log.Warn("kernel output lines not logged", "count", o.suppressed)
		}
		o.window, o.lines, o.suppressed = now, 0, 0
	}
	if o.lines >= outputLines {
		o.suppressed++
		return
	}
	o.lines++
	o.log.Info("kernel output", "line", line)
}
