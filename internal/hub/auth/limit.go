package auth

import (
	"sync"
	"time"
)

// Limiter counts failed sign-ins per key (a user name or a client address)
// and blocks a key after too many failures within a window. Each failure
// is forgotten a window after it happened, so a blocked key is let in again
// without an operator. It is safe for concurrent use.
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

// Allow reports whether key may try again. When it may not, it also returns
// how long until the oldest counted failure expires.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	recent := l.pruneLocked(key, now)
	if len(recent) < l.max {
		return true, 0
	}
	return false, recent[0].Add(l.window).Sub(now)
}

// Fail records a failed attempt of key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	recent := l.pruneLocked(key, now)
	if len(l.failures) >= maxLimiterKeys {
		l.evictLocked(now)
	}
	l.failures[key] = append(recent, now)
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
