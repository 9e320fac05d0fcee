package auth

import (
	"slices"
	"sync"
	"time"
)

// Limiter counts failed sign-ins per key (a user name or a client address)
// and blocks a key after too many failures within a window. Each failure
// is forgotten a window after it happened, so a blocked key is let in again
// without an operator. An attempt is counted by Reserve before the password
// is checked, so concurrent attempts cannot all pass a check that none of
// them has failed yet. It is safe for concurrent use.
type Limiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu       sync.Mutex
	failures map[string][]time.Time
}

// maxLimiterKeys bounds the memory a flood of distinct keys can take; past
// it, the oldest-looking entries are dropped first.
const maxLimiterKeys = 100_000

// NewLimiter returns a Limiter that allows max failures per key within
// window. now is the clock; nil means time.Now.
func NewLimiter(max int, window time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{max: max, window: window, now: now, failures: map[string][]time.Time{}}
}

// Reserve counts an attempt of key as a failure before its credentials
// are checked, and returns the reservation that undoes it. When key has
// max failures or reservations within the window already, it counts
// nothing and returns nil with the time until the oldest one expires.
func (l *Limiter) Reserve(key string) (*Reservation, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	recent := l.pruneLocked(key, now)
	if len(recent) >= l.max {
		if len(recent) == 0 {
			return nil, l.window // max is 0
		}
		return nil, recent[0].Add(l.window).Sub(now)
	}
	if len(l.failures) >= maxLimiterKeys {
		l.evictLocked(now)
	}
	l.failures[key] = append(recent, now)
	return &Reservation{limiter: l, key: key, at: now}, 0
}

// Reservation is an attempt that Reserve counted. The attempt stays counted
// as a failure unless Release is called.
type Reservation struct {
	limiter  *Limiter
	key      string
	at       time.Time
	released bool // guarded by limiter.mu
}

// Release stops counting the attempt, for one that did not fail on its
// credentials. Calling it again, or after the attempt expired, does nothing.
func (r *Reservation) Release() {
	l := r.limiter
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.released {
		return
	}
	r.released = true
	times := l.failures[r.key]
	if i := slices.IndexFunc(times, r.at.Equal); i >= 0 {
		times = slices.Delete(times, i, i+1)
		if len(times) == 0 {
			delete(l.failures, r.key)
		} else {
			l.failures[r.key] = times
		}
	}
}

// Reset clears the failures of key, after a successful sign-in.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	delete(l.failures, key)
	l.mu.Unlock()
}

// pruneLocked drops the failures of key older than the window and returns
// the rest.
func (l *Limiter) pruneLocked(key string, now time.Time) []time.Time {
	times := l.failures[key]
	cut := 0
	for cut < len(times) && now.Sub(times[cut]) >= l.window {
		cut++
	}
	times = times[cut:]
	if len(times) == 0 {
		delete(l.failures, key)
		return nil
	}
	l.failures[key] = times
	return times
}

// evictLocked drops expired entries, and every entry if none had expired.
func (l *Limiter) evictLocked(now time.Time) {
	for key := range l.failures {
		l.pruneLocked(key, now)
	}
	if len(l.failures) >= maxLimiterKeys {
		clear(l.failures)
	}
}
