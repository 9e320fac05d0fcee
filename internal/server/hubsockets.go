package server

import (
	"context"
	"net"
	"sync"
	"time"
)

// hubSocketCheckInterval is how often the tokens of open WebSockets are
// checked. Each one goes to the hub again once its last check is
// hubTokenCacheAge old.
const hubSocketCheckInterval = time.Minute

// hubSockets tracks the connections of open WebSockets by the hub token
// that opened them. A WebSocket is authenticated only when it opens, so a
// token that the hub no longer accepts, or whose user lost access to this
// server, as after a revoked share, ends them within hubTokenCacheAge
// and a check interval. It is safe for concurrent use.
type hubSockets struct {
	mu     sync.Mutex
	tokens map[string]*watchedToken
	// rejected maps each token whose WebSockets were ended to the time
	// the hub rejected it. Replies about it cached before then are not
	// used again.
	rejected map[string]time.Time
}

// watchedToken is a token with open WebSockets: their connections, and
// when the hub last accepted the token.
type watchedToken struct {
	conns   map[net.Conn]struct{}
	checked time.Time
}

// watch records conn as a WebSocket opened with token, which the hub
// accepted at checked, and returns the function that removes it. checked
// is the time of the hub's reply, which may come from the cache. So a
// WebSocket opened on an old reply goes to the hub again once the reply is
// hubTokenCacheAge old, not that long after the WebSocket opened.
func (s *hubSockets) watch(token string, conn net.Conn, checked time.Time) (forget func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens == nil {
		s.tokens = map[string]*watchedToken{}
	}
	w := s.tokens[token]
	if w == nil {
		w = &watchedToken{conns: map[net.Conn]struct{}{}, checked: checked}
		s.tokens[token] = w
	} else if checked.After(w.checked) {
		w.checked = checked
	}
	w.conns[conn] = struct{}{}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(w.conns, conn)
		if len(w.conns) == 0 && s.tokens[token] == w {
			delete(s.tokens, token)
		}
	}
}

// due returns the watched tokens whose last check is maxAge old at now.
func (s *hubSockets) due(now time.Time, maxAge time.Duration) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var tokens []string
	for token, w := range s.tokens {
		if now.Sub(w.checked) >= maxAge {
			tokens = append(tokens, token)
		}
	}
	return tokens
}

// accepted records that the hub accepted token at now.
func (s *hubSockets) accepted(token string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.tokens[token]; w != nil {
		w.checked = now
	}
}

// end closes the connections of token's WebSockets, which the hub
// rejected at now, and returns how many there were. From then on
// rejectedAt returns now for token, until hubTokenCacheAge has passed and
// no cached reply from before remains.
func (s *hubSockets) end(token string, now time.Time) int {
	s.mu.Lock()
	if s.rejected == nil {
		s.rejected = map[string]time.Time{}
	}
	for t, at := range s.rejected {
		if now.Sub(at) > hubTokenCacheAge {
			delete(s.rejected, t)
		}
	}
	s.rejected[token] = now
	var conns []net.Conn
	if w := s.tokens[token]; w != nil {
		for conn := range w.conns {
			conns = append(conns, conn)
		}
	}
	delete(s.tokens, token)
	s.mu.Unlock()
	for _, conn := range conns {
		conn.Close()
	}
	return len(conns)
}

// rejectedAt returns when the hub last rejected token for its open
// WebSockets, or the zero time.
func (s *hubSockets) rejectedAt(token string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected[token]
}

// checkSockets sends the hub each token of open WebSockets whose last
// check is hubTokenCacheAge old, and ends the WebSockets of the tokens it
// no longer accepts for this server. A hub that cannot be reached ends
// nothing, and the tokens go to it again at the next check.
func (a *hubAuth) checkSockets(ctx context.Context) {
	now := a.now()
	for _, token := range a.sockets.due(now, hubTokenCacheAge) {
		user, err := a.client.userForToken(ctx, token)
		if err != nil {
			a.log.Debug("cannot check the token of open WebSockets with the hub", "err", err)
			continue
		}
		if user != nil && a.checkAccess(user) == nil {
			a.sockets.accepted(token, now)
			continue
		}
		name := ""
		if user != nil {
			name = user.Name
		}
		n := a.sockets.end(token, now)
		a.log.Info("closed WebSockets whose token the hub no longer accepts for this server",
			"user", name, "connections", n)
	}
}

// runSocketChecks runs checkSockets every hubSocketCheckInterval until ctx
// ends.
func (a *hubAuth) runSocketChecks(ctx context.Context) {
	t := time.NewTicker(hubSocketCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			a.checkSockets(ctx)
		case <-ctx.Done():
			return
		}
	}
}

// connKey is the context key of the connection a request came on.
type connKey struct{}

// requestConn returns the connection that the request of ctx came on, or
// nil.
func requestConn(ctx context.Context) net.Conn {
	c, _ := ctx.Value(connKey{}).(net.Conn)
	return c
}
