package kernel

import (
	"context"
	"time"
)

// defaultCullInterval is how often idle kernels are looked for when
// Options.CullInterval is not positive, as in jupyter_server.
const defaultCullInterval = 5 * time.Minute

// cullPolicy decides which kernels the culler shuts down. Its zero value
// culls nothing.
type cullPolicy struct {
	// timeout is the idle time after which a kernel is culled; 0 is off.
	timeout time.Duration
	// connected culls kernels that have WebSockets attached.
	connected bool
	// busy culls kernels whose execution state is busy.
	busy bool
}

// enabled reports whether the policy culls anything.
func (p cullPolicy) enabled() bool { return p.timeout > 0 }

// shouldCull reports whether a kernel whose model is m is culled at now. A
// dead kernel always is. Any other kernel is culled when its last activity
// is older than the timeout, it is not busy (unless busy kernels are
// culled too), and no WebSocket is attached (unless connected kernels are
// culled too), as jupyter_server's MappingKernelManager decides.
func (p cullPolicy) shouldCull(m Model, now time.Time) bool {
	if !p.enabled() {
		return false
	}
	if m.ExecutionState == stateDead {
		return true
	}
	idle := now.Sub(m.LastActivity) > p.timeout
	notBusy := p.busy || m.ExecutionState != "busy"
	unused := p.connected || m.Connections == 0
	return idle && notBusy && unused
}

// startCuller starts the goroutine that shuts idle kernels down, when the
// options ask for one. Close stops it.
func (m *Manager) startCuller() {
	if !m.cull.enabled() {
		return
	}
	interval := m.opts.CullInterval
	if interval <= 0 {
		if interval < 0 {
			m.log.Warn("invalid kernel cull interval, using the default",
				"interval", interval, "default", defaultCullInterval)
		}
		interval = defaultCullInterval
	}
	m.log.Info("culling idle kernels", "idle_timeout", m.cull.timeout, "interval", interval,
		"cull_connected", m.cull.connected, "cull_busy", m.cull.busy)
	ctx, cancel := context.WithCancel(context.Background())
	m.stopCuller = cancel
	m.cullerDone = make(chan struct{})
	go func() {
		defer close(m.cullerDone)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-ticker.C:
				m.cullIdle(ctx, now)
			}
		}
	}()
}

// haltCuller stops the culler and waits for it. A kernel it is shutting
// down meanwhile is killed at once, because ctx is done.
func (m *Manager) haltCuller() {
	if m.stopCuller == nil {
		return
	}
	m.stopCuller()
	<-m.cullerDone
}

// cullIdle shuts down, one after the other, the kernels that the policy
// culls at now.
func (m *Manager) cullIdle(ctx context.Context, now time.Time) {
	for _, model := range m.List() {
		if ctx.Err() != nil {
			return
		}
		if !m.cull.shouldCull(model, now) {
			continue
		}
		if model.ExecutionState == stateDead {
			m.log.Warn("culling dead kernel", "kernel_id", model.ID, "kernel_name", model.Name)
		} else {
			m.log.Warn("culling idle kernel", "kernel_id", model.ID, "kernel_name", model.Name,
				"execution_state", model.ExecutionState, "connections", model.Connections,
				"idle", now.Sub(model.LastActivity).Round(time.Second))
		}
		_ = m.Shutdown(ctx, model.ID) // ErrNotFound: deleted meanwhile
	}
}
