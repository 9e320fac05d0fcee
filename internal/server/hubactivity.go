package server

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// activityReporter reports to the hub when the server was last used, the
// time idle cullers read. It reports once at start and then every
// interval, give or take 10 %, when there was activity since the last
// report.
type activityReporter struct {
	interval time.Duration
	last     func() time.Time
	post     func(ctx context.Context, t time.Time) error
	log      *slog.Logger
	// jitter spreads the reports of many servers; tests replace it.
	jitter func(time.Duration) time.Duration
}

// Retries of a failed report wait activityRetryStart, doubling up to
// activityRetryMax, and stop activityRetryTimeout after the first attempt,
// as jupyterhub-singleuser's do.
const (
	activityRetryStart   = time.Second
	activityRetryMax     = 15 * time.Second
	activityRetryTimeout = 60 * time.Second
)

// run reports until ctx ends.
func (a *activityReporter) run(ctx context.Context) {
	a.log.Info("reporting activity to the hub", "interval", a.interval)
	var sent time.Time
	for {
		if last := a.last(); last.After(sent) {
			if err := a.postRetrying(ctx, last); err != nil {
				if ctx.Err() != nil {
					return
				}
				a.log.Warn("cannot report activity to the hub", "err", err)
			} else {
				sent = last
			}
		}
		t := time.NewTimer(a.jitter(a.interval))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// postRetrying posts t, retrying with backoff until activityRetryTimeout.
func (a *activityReporter) postRetrying(ctx context.Context, t time.Time) error {
	deadline := time.Now().Add(activityRetryTimeout)
	wait := activityRetryStart
	for {
		err := a.post(ctx, t)
		if err == nil {
			return nil
		}
		if time.Now().Add(wait).After(deadline) {
			return fmt.Errorf("giving up after %v: %w", activityRetryTimeout, err)
		}
		a.log.Debug("activity report failed, retrying", "wait", wait, "err", err)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		wait = min(2*wait, activityRetryMax)
	}
}

// jitterTenPercent returns d changed by a random amount of at most 10 %.
func jitterTenPercent(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}

// lastActivityTime returns when the server was last used: the last
// authenticated request, kernel message or terminal input or output,
// whichever is latest.
func (s *Server) lastActivityTime() time.Time {
	_, kernelActivity, _ := s.kernels.ActivityStats()
	terminalActivity, _ := s.terminals.ActivityStats()
	s.mu.Lock()
	last := s.lastActivity
	s.mu.Unlock()
	for _, t := range []time.Time{kernelActivity, terminalActivity} {
		if t.After(last) {
			last = t
		}
	}
	return last
}

// startHub runs the start of single-user mode: it checks that the hub
// replies, failing after a few attempts, and then starts the activity
// reports. The returned function stops them and waits for them to end.
// Outside single-user mode it does nothing.
func (s *Server) startHub(ctx context.Context) (stop func(), err error) {
	if s.hub == nil {
		return func() {}, nil
	}
	version, err := s.hub.client.check(ctx)
	if err != nil {
		return nil, err
	}
	s.hub.version.Store(&version)
	s.log.Info("hub reachable", "url", s.hub.cfg.APIURL, "hub_version", version,
		"user", s.hub.cfg.User, "server", s.hub.cfg.ServerName)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { s.hub.runSocketChecks(ctx) })
	stop = func() {
		cancel()
		wg.Wait()
	}

	cfg := s.hub.cfg
	if cfg.ActivityURL == "" || cfg.ActivityInterval <= 0 {
		s.log.Warn("activity reports to the hub are off: JUPYTERHUB_ACTIVITY_URL is unset " +
			"or JUPYTERHUB_ACTIVITY_INTERVAL is 0")
		return stop, nil
	}
	reporter := &activityReporter{
		interval: cfg.ActivityInterval,
		last:     s.lastActivityTime,
		post:     s.hub.client.postActivity,
		log:      s.log,
		jitter:   jitterTenPercent,
	}
	wg.Go(func() { reporter.run(ctx) })
	return stop, nil
}

// hubHeaders adds X-JupyterHub-Version to every response in single-user
// mode, as jupyterhub-singleuser does; the hub warns when it is missing.
//
// NOTE: the value is the version the hub reported at start, because the
// server follows the single-user contract of that hub. Until the start-up
// check has run, the header is left out.
func (s *Server) hubHeaders(next http.Handler) http.Handler {
	if s.hub == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := s.hub.version.Load(); v != nil && *v != "" {
			w.Header().Set("X-JupyterHub-Version", *v)
		}
		next.ServeHTTP(w, r)
	})
}
