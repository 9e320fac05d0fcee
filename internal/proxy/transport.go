package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// Defaults for the Options fields of the upstream transport.
const (
	DefaultDialTimeout         = 10 * time.Second
	DefaultIdleConnTimeout     = 30 * time.Second
	DefaultMaxIdleConnsPerHost = 128
)

// newTransport returns the transport to the upstream of rt: HTTP/1.1 with
// keep-alive, no proxy from the environment, and bodies passed through
// unchanged.
func newTransport(o *Options, rt *route) *http.Transport {
	dialer := &net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		return dialRoute(ctx, dialer, network, addr, rt)
	}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           dial,
		DialTLSContext:        dialTargetTLS(dial, o.TLSClientConfig),
		TLSClientConfig:       o.TLSClientConfig,
		TLSHandshakeTimeout:   o.DialTimeout,
		ResponseHeaderTimeout: o.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       o.IdleConnTimeout,
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   o.MaxIdleConnsPerHost,
		DisableCompression:    true,
	}
}

// dialFunc is the type of http.Transport's DialContext.
type dialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// newRouteGrace is how long after a route is added a refused connection
// to its target is tried again, every refusedRetryDelay. A client may add a
// route as it starts the target, which then listens a moment later.
// JupyterHub adds a route once the server responds, but its tests start
// some servers in a thread and send the first request at once.
var (
	newRouteGrace     = 2 * time.Second
	refusedRetryDelay = 50 * time.Millisecond
)

// dialRoute dials the upstream of rt. While the route is younger than
// newRouteGrace, a refused connection is tried again.
func dialRoute(ctx context.Context, dialer *net.Dialer, network, addr string, rt *route) (net.Conn, error) {
	for {
		conn, err := dialer.DialContext(ctx, network, addr)
		if err == nil || !errors.Is(err, syscall.ECONNREFUSED) || time.Since(rt.added) >= newRouteGrace {
			return conn, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(refusedRetryDelay):
		}
	}
}

// routeTransports is the handler path's http.RoundTripper when
// Options.Transport is nil. It gives each route its own http.Transport, so
// a keep-alive connection serves only the route it was dialed for, as in
// the fast path's upstreamPool. One Transport would share connections by
// address, also with a later route whose server took over the port of a
// stopped one.
type routeTransports struct {
	proxy   *Proxy
	byRoute sync.Map // *route to *http.Transport

	mu sync.Mutex
	// pruneAt is the number of transports at which the next new one first
	// closes those of routes that left the table. guarded by mu
	pruneAt int
	count   int // guarded by mu
}

// minPruneAt is the number of transports below which none are pruned.
const minPruneAt = 64

func (t *routeTransports) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.get(stateOf(r).route).RoundTrip(r)
}

// get returns the transport of rt, creating it on first use.
func (t *routeTransports) get(rt *route) *http.Transport {
	if v, ok := t.byRoute.Load(rt); ok {
		return v.(*http.Transport)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.byRoute.Load(rt); ok {
		return v.(*http.Transport)
	}
	if t.count >= t.pruneAt {
		t.pruneLocked()
		// Doubling the threshold keeps the cost of pruning proportional
		// to the number of routes added.
		t.pruneAt = max(2*t.count, minPruneAt)
	}
	tr := newTransport(&t.proxy.opts, rt)
	t.byRoute.Store(rt, tr)
	t.count++
	return tr
}

// pruneLocked removes the transports of routes that are no longer in the
// table and closes their idle connections. A request still in flight on
// such a route leaves its connection idle in a transport that no route
// uses, until IdleConnTimeout closes it.
func (t *routeTransports) pruneLocked() {
	table := t.proxy.table
	t.byRoute.Range(func(k, v any) bool {
		rt := k.(*route)
		if table.get(rt.spec) != rt {
			v.(*http.Transport).CloseIdleConnections()
			t.byRoute.Delete(rt)
			t.count--
		}
		return true
	})
}

// CloseIdleConnections closes the idle connections of every route.
func (t *routeTransports) CloseIdleConnections() {
	t.byRoute.Range(func(_, v any) bool {
		v.(*http.Transport).CloseIdleConnections()
		return true
	})
}

// copyBufferSize is the size of the buffers that copy bodies.
const copyBufferSize = 32 << 10

// bufferPool implements httputil.BufferPool with a sync.Pool.
type bufferPool struct {
	pool sync.Pool
}

func (b *bufferPool) Get() []byte {
	if p, ok := b.pool.Get().(*[]byte); ok {
		return *p
	}
	return make([]byte, copyBufferSize)
}

func (b *bufferPool) Put(buf []byte) {
	if cap(buf) < copyBufferSize {
		return
	}
	buf = buf[:copyBufferSize]
	b.pool.Put(&buf)
}
