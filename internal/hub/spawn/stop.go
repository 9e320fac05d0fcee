package spawn

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// stopStep is one signal of Stop's sequence and how long Stop then waits
// for the process to exit.
type stopStep struct {
	sig     syscall.Signal
	timeout time.Duration
}

// stopSteps returns the signals of Stop with their timeouts, as
// JupyterHub's LocalProcessSpawner sends them: SIGINT, SIGTERM, SIGKILL.
func (s *SimpleLocalProcess) stopSteps() []stopStep {
	return []stopStep{
		{syscall.SIGINT, cmp.Or(s.InterruptTimeout, DefaultInterruptTimeout)},
		{syscall.SIGTERM, cmp.Or(s.TermTimeout, DefaultTermTimeout)},
		{syscall.SIGKILL, cmp.Or(s.KillTimeout, DefaultKillTimeout)},
	}
}

// Stop ends the server of state as JupyterHub's LocalProcessSpawner does:
// SIGINT to its process group, then SIGTERM after InterruptTimeout, then
// SIGKILL after TermTimeout. It returns once the process has exited (and
// has been reaped, when this value started it), and returns nil when it
// was already gone. It fails when the process still runs KillTimeout after
// SIGKILL. When ctx ends first, Stop sends SIGKILL at once, waits up to
// KillTimeout, and returns ctx's error.
func (s *SimpleLocalProcess) Stop(ctx context.Context, state json.RawMessage) error {
	s.init()
	st, err := parseState(state)
	if err != nil {
		return err
	}
	if st.PID == 0 {
		return nil
	}
	log := s.logger().With("pid", st.PID, "url", st.URL+st.Prefix)
	boot := bootID()
	own := s.child(st)

	steps := s.stopSteps()
	for i, step := range steps {
		if ctx.Err() != nil && step.sig != syscall.SIGKILL {
			continue
		}
		if err := signalGroup(st, boot, step.sig); err != nil {
			if errors.Is(err, errProcessGone) {
				s.awaitReaped(own)
				return nil
			}
			return fmt.Errorf("stopping server process: %w", err)
		}
		// Even when ctx has ended, wait the little a killed process takes
		// to go, so that a pending stop does not outlive the call.
		waitCtx := ctx
		if step.sig == syscall.SIGKILL {
			waitCtx = context.WithoutCancel(ctx)
		}
		if s.awaitExit(waitCtx, st, boot, own, step.timeout) {
			if step.sig == syscall.SIGKILL {
				log.Info("server killed")
			} else {
				log.Info("server stopped", "signal", unix.SignalName(step.sig))
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("stopping server process %d: %w", st.PID, err)
			}
			return nil
		}
		if i+1 < len(steps) && ctx.Err() == nil {
			log.Warn("server still runs after "+unix.SignalName(step.sig)+", sending "+
				unix.SignalName(steps[i+1].sig), "timeout", step.timeout)
		}
	}
	return fmt.Errorf("server process %d still runs %v after SIGKILL", st.PID,
		steps[len(steps)-1].timeout)
}

// child returns the process this value started for st, or nil.
func (s *SimpleLocalProcess) child(st processState) *child {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.children[st.PID]; c != nil && c.startTime == st.StartTime {
		return c
	}
	return nil
}

// awaitReaped waits until c, if it is not nil, has been reaped; a process
// found gone may still be a zombie for a moment.
func (s *SimpleLocalProcess) awaitReaped(c *child) {
	if c != nil {
		<-c.done
	}
}

// exitCheckInterval is how often Stop looks at a process it did not start.
const exitCheckInterval = 20 * time.Millisecond

// awaitExit waits up to timeout for st's process to exit and reports
// whether it did. It watches own when this value started the process, and
// else checks /proc.
func (s *SimpleLocalProcess) awaitExit(ctx context.Context, st processState, boot string,
	own *child, timeout time.Duration) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var done <-chan struct{}
	var tick <-chan time.Time
	if own != nil {
		done = own.done
	} else {
		t := time.NewTicker(exitCheckInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-done:
			return true
		case <-tick:
			if errors.Is(checkProcess(st, boot), errProcessGone) {
				return true
			}
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}
