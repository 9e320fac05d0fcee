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

// LoginLimiter limits failed sign-ins with three Limiters, so that a
// guesser is slowed down without locking out the people they target:
//
//   - pair: failures of one user name from one client address, the tight
//     limit that stops a guesser from trying one account;
//   - address: failures from one client address over all user names, which
//     stops one client from trying many accounts;
//   - user: failures of one user name over all addresses, a ceiling that
//     stops guessing spread over many addresses and that one address can
//     never reach alone, because it is above the pair limit.
//
// A user name and address that signed in successfully within knownFor
// are exempt from the address limit and the user ceiling, so a user who
// shares an address with a guesser (behind NAT or a proxy) still gets in.
// Only the pair limit applies to them. It is safe for concurrent use.
type LoginLimiter struct {
	pair, addr, user *Limiter
	knownFor         time.Duration
	now              func() time.Time

	mu    sync.Mutex
	known map[string]time.Time // pair key: time of the last sign-in
}

// LoginLimits sets the failures that a LoginLimiter allows within Window.
type LoginLimits struct {
	PerPair, PerAddress, PerUser int
	Window                       time.Duration
	// KnownFor is how long a successful sign-in exempts its pair from the
	// address limit and the user ceiling.
	KnownFor time.Duration
}

// NewLoginLimiter returns a LoginLimiter with limits. now is the clock;
// nil means time.Now.
func NewLoginLimiter(limits LoginLimits, now func() time.Time) *LoginLimiter {
	if now == nil {
		now = time.Now
	}
	return &LoginLimiter{
		pair:     NewLimiter(limits.PerPair, limits.Window, now),
		addr:     NewLimiter(limits.PerAddress, limits.Window, now),
		user:     NewLimiter(limits.PerUser, limits.Window, now),
		knownFor: limits.KnownFor,
		now:      now,
		known:    map[string]time.Time{},
	}
}

// pairKey joins a user name and an address. An address contains no NUL
// byte, so two pairs never share a key.
func pairKey(user, addr string) string { return user + "\x00" + addr }

// Reserve counts a sign-in attempt of user from addr against every limit
// that applies to it, before the password is checked. When one limit is
// reached it counts nothing and returns nil with the time to wait.
func (l *LoginLimiter) Reserve(user, addr string) (*LoginReservation, time.Duration) {
	key := pairKey(user, addr)
	res := &LoginReservation{}
	byPair, wait := l.pair.Reserve(key)
	if byPair == nil {
		return nil, wait
	}
	res.held = append(res.held, byPair)
	if l.isKnown(key) {
		return res, 0
	}
	for _, check := range []struct {
		limiter *Limiter
		key     string
	}{{l.addr, addr}, {l.user, user}} {
		r, wait := check.limiter.Reserve(check.key)
		if r == nil {
			res.Release()
			return nil, wait
		}
		res.held = append(res.held, r)
	}
	return res, 0
}

// Succeeded records a successful sign-in of user from addr: it clears the
// failures of the pair and exempts the pair from the address limit and the
// user ceiling for KnownFor. The failures counted against the address and
// the user name stay, so a guesser cannot clear them with an account of
// their own.
func (l *LoginLimiter) Succeeded(user, addr string) {
	key := pairKey(user, addr)
	l.pair.Reset(key)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.known) >= maxLimiterKeys {
		for k, at := range l.known {
			if now.Sub(at) >= l.knownFor {
				delete(l.known, k)
			}
		}
		if len(l.known) >= maxLimiterKeys {
			clear(l.known)
		}
	}
	l.known[key] = now
}

func (l *LoginLimiter) isKnown(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	at, ok := l.known[key]
	if ok && l.now().Sub(at) >= l.knownFor {
		delete(l.known, key)
		return false
	}
	return ok
}

// LoginReservation is an attempt that LoginLimiter.Reserve counted. It
// stays counted as a failure unless Release is called.
type LoginReservation struct {
	held []*Reservation
}

// Release stops counting the attempt, for one that did not fail on its
// credentials. Calling it again does nothing.
func (r *LoginReservation) Release() {
	for _, res := range r.held {
		res.Release()
	}
}
