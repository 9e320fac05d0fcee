package hub

import (
	"sync"
	"time"
)

// maxNewTokens bounds the tokens that newTokens keeps at once. Each entry
// lives for flashMaxAge, so only more than this many tokens created on the
// token page within that time evict one before its page shows it.
const maxNewTokens = 1000

// newTokens keeps each token created on the token page in memory until the
// page that the POST redirects to shows it, once, so that the token is in
// neither the URL nor the browser's history. A hub restart in between loses
// it, and the user then revokes that token and requests another.
type newTokens struct {
	mu      sync.Mutex
	entries map[string]newToken
}

type newToken struct {
	plain   string
	expires time.Time
}

// put stores plain under key until now + flashMaxAge. When the store is
// full, it drops expired entries and then, if still full, the oldest.
func (n *newTokens) put(key, plain string, now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.entries == nil {
		n.entries = make(map[string]newToken)
	}
	if len(n.entries) >= maxNewTokens {
		n.dropOldest(now)
	}
	n.entries[key] = newToken{plain: plain, expires: now.Add(flashMaxAge)}
}

// dropOldest deletes the expired entries, or the one that expires first
// when none has expired. The caller holds n.mu.
func (n *newTokens) dropOldest(now time.Time) {
	var oldest string
	for key, e := range n.entries {
		if !now.Before(e.expires) {
			delete(n.entries, key)
		} else if oldest == "" || e.expires.Before(n.entries[oldest].expires) {
			oldest = key
		}
	}
	if len(n.entries) >= maxNewTokens {
		delete(n.entries, oldest)
	}
}

// take removes and returns the token stored under key, unless it has
// expired.
func (n *newTokens) take(key string, now time.Time) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	e, ok := n.entries[key]
	delete(n.entries, key)
	if !ok || !now.Before(e.expires) {
		return "", false
	}
	return e.plain, true
}
