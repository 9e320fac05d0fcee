package server

import (
	"context"
	"sync"
	"time"
)

// tokenCache keeps the hub's replies about tokens for maxAge, at most limit
// of them. Concurrent lookups of one key share a single call to the hub,
// which matters when JupyterLab opens and sends a burst of requests with a
// new token. It is safe for concurrent use.
type tokenCache struct {
	maxAge time.Duration
	limit  int

	mu      sync.Mutex
	entries map[string]tokenCacheEntry
	pending map[string]*tokenLookup
}

// tokenCacheEntry is one reply: the user, or nil for a rejected token, and
// the time of the request to the hub.
type tokenCacheEntry struct {
	user *hubUser
	at   time.Time
}

// tokenLookup is a call to the hub in progress; done is closed when user,
// at and err are set.
type tokenLookup struct {
	done chan struct{}
	user *hubUser
	at   time.Time
	err  error
}

func newTokenCache(maxAge time.Duration, limit int) *tokenCache {
	return &tokenCache{
		maxAge:  maxAge,
		limit:   limit,
		entries: map[string]tokenCacheEntry{},
		pending: map[string]*tokenLookup{},
	}
}

// lookup returns the cached reply for key if it is younger than maxAge at
// now and usable reports true for it, and otherwise calls fetch, once for
// all concurrent callers of key. A nil usable accepts every reply. Replies
// are cached, rejections (a nil user) included, but errors are not. fetch
// runs without ctx's cancellation, so that one caller giving up does not
// fail the others; a caller whose ctx ends stops waiting.
func (c *tokenCache) lookup(ctx context.Context, key string, now time.Time,
	usable func(tokenCacheEntry) bool,
	fetch func(context.Context) (*hubUser, error)) (tokenCacheEntry, error) {
	c.mu.Lock()
	if e, ok := c.entries[key]; ok && now.Sub(e.at) < c.maxAge && !e.at.After(now) &&
		(usable == nil || usable(e)) {
		c.mu.Unlock()
		return e, nil
	}
	call, inFlight := c.pending[key]
	if !inFlight {
		call = &tokenLookup{done: make(chan struct{})}
		c.pending[key] = call
	}
	c.mu.Unlock()

	if !inFlight {
		c.run(context.WithoutCancel(ctx), key, now, call, fetch)
	}
	select {
	case <-call.done:
		return tokenCacheEntry{user: call.user, at: call.at}, call.err
	case <-ctx.Done():
		return tokenCacheEntry{}, ctx.Err()
	}
}

// run calls fetch for the first caller of key and records the reply.
func (c *tokenCache) run(ctx context.Context, key string, now time.Time, call *tokenLookup,
	fetch func(context.Context) (*hubUser, error)) {
	call.user, call.err = fetch(ctx)
	call.at = now
	c.mu.Lock()
	delete(c.pending, key)
	if call.err == nil {
		c.storeLocked(key, tokenCacheEntry{user: call.user, at: now}, now)
	}
	c.mu.Unlock()
	close(call.done)
}

// storeLocked adds an entry, first dropping expired entries when the cache
// is full, and then an arbitrary one if it is still full.
func (c *tokenCache) storeLocked(key string, e tokenCacheEntry, now time.Time) {
	if len(c.entries) >= c.limit {
		for k, old := range c.entries {
			if now.Sub(old.at) >= c.maxAge {
				delete(c.entries, k)
			}
		}
	}
	for k := range c.entries {
		if len(c.entries) < c.limit {
			break
		}
		delete(c.entries, k)
	}
	c.entries[key] = e
}

// store caches user as the reply for key at now.
func (c *tokenCache) store(key string, user *hubUser, now time.Time) {
	c.mu.Lock()
	c.storeLocked(key, tokenCacheEntry{user: user, at: now}, now)
	c.mu.Unlock()
}

// forget drops the reply for key.
func (c *tokenCache) forget(key string) {
	c.mu.Lock()
	delete(c.entries, key)
	c.mu.Unlock()
}
