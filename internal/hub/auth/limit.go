package auth

import (
	"context"
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
// A user name and address that signed in successfully within KnownFor
// are exempt from the address limit and the user ceiling, so a user who
// shares an address with a guesser (behind NAT or a proxy) still gets in.
// Only the pair limit applies to them. The successful sign-ins are kept
// in a KnownAddresses, the hub's store, so that they outlive a restart and
// take no memory. The failure counts live in memory. It is safe for
// concurrent use.
type LoginLimiter struct {
	pair, addr, user *Limiter
	known            KnownAddresses
	knownFor         time.Duration
	knownPerUser     int
	now              func() time.Time
}

// KnownAddresses stores the client addresses of users' successful
// sign-ins. store.Store implements it.
type KnownAddresses interface {
	// RecordKnownLogin stores that user signed in from address at time at,
	// keeps the user's keep most recent addresses and deletes those last
	// used at since or before.
	RecordKnownLogin(ctx context.Context, user, address string, at time.Time,
		keep int, since time.Time) error
	// IsKnownLogin reports whether user signed in from address after
	// since.
	IsKnownLogin(ctx context.Context, user, address string, since time.Time) (bool, error)
}

// LoginLimits sets the failures that a LoginLimiter allows within Window.
type LoginLimits struct {
	PerPair, PerAddress, PerUser int
	Window                       time.Duration
	// KnownFor is how long a successful sign-in exempts its pair from the
	// address limit and the user ceiling.
	KnownFor time.Duration
	// KnownPerUser is how many of a user's most recent sign-in addresses
	// stay exempt. It must be at least 1.
	KnownPerUser int
}

// NewLoginLimiter returns a LoginLimiter with limits that keeps successful
// sign-ins in known. now is the clock; nil means time.Now.
func NewLoginLimiter(limits LoginLimits, known KnownAddresses, now func() time.Time) *LoginLimiter {
	if now == nil {
		now = time.Now
	}
	return &LoginLimiter{
		pair:         NewLimiter(limits.PerPair, limits.Window, now),
		addr:         NewLimiter(limits.PerAddress, limits.Window, now),
		user:         NewLimiter(limits.PerUser, limits.Window, now),
		known:        known,
		knownFor:     limits.KnownFor,
		knownPerUser: limits.KnownPerUser,
		now:          now,
	}
}

// pairKey joins a user name and an address. An address contains no NUL
// byte, so two pairs never share a key.
func pairKey(user, addr string) string { return user + "\x00" + addr }

// Reserve counts a sign-in attempt of user from addr against every limit
// that applies to it, before the password is checked. When one limit is
// reached it counts nothing and returns nil with the time to wait. An
// error from the lookup of known addresses counts nothing either.
func (l *LoginLimiter) Reserve(ctx context.Context, user, addr string) (*LoginReservation,
	time.Duration, error) {
	res := &LoginReservation{}
	byPair, wait := l.pair.Reserve(pairKey(user, addr))
	if byPair == nil {
		return nil, wait, nil
	}
	res.held = append(res.held, byPair)
	known, err := l.known.IsKnownLogin(ctx, user, addr, l.now().Add(-l.knownFor))
	if err != nil {
		res.Release()
		return nil, 0, err
	}
	if known {
		return res, 0, nil
	}
	for _, check := range []struct {
		limiter *Limiter
		key     string
	}{{l.addr, addr}, {l.user, user}} {
		r, wait := check.limiter.Reserve(check.key)
		if r == nil {
			res.Release()
			return nil, wait, nil
		}
		res.held = append(res.held, r)
	}
	return res, 0, nil
}

// Succeeded records a successful sign-in of user from addr: it clears the
// failures of the pair and exempts the pair from the address limit and the
// user ceiling for KnownFor. The failures counted against the address and
// the user name stay, so a guesser cannot clear them with an account of
// their own. The user must exist in the store of known addresses.
func (l *LoginLimiter) Succeeded(ctx context.Context, user, addr string) error {
	l.pair.Reset(pairKey(user, addr))
	now := l.now()
	return l.known.RecordKnownLogin(ctx, user, addr, now, l.knownPerUser, now.Add(-l.knownFor))
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
