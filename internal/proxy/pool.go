package proxy

import (
	"context"
	"net"
	"sync"
	"time"
)

// upstreamConn is a keep-alive connection to an upstream, used by the fast
// path for one request at a time.
type upstreamConn struct {
	conn   *net.TCPConn
	sock   *socket   // conn, for the reads and writes of requests
	check  idleCheck // of the connection while it is idle
	route  *route    // the route it was dialed for, and the only one it serves
	idleAt time.Time // when it went back to the pool
	reused bool      // it served a request before
}

// upstreamPool keeps idle upstream connections of the fast path by route,
// most recently used first. Connections idle longer than the timeout are
// closed by a timer that runs while any are idle.
//
// A connection serves only the route it was dialed for, never another
// route with the same address. When a user's server stops and another
// server later listens on its port, a process of the first server that
// survived with its connections open would otherwise receive requests
// meant for the second server and respond to them.
type upstreamPool struct {
	dialer      net.Dialer
	maxIdle     int
	idleTimeout time.Duration

	mu     sync.Mutex
	idle   map[*route][]*upstreamConn // guarded by mu
	sweep  *time.Timer                // guarded by mu; nil while none idle
	closed bool                       // guarded by mu
}

func newUpstreamPool(o *Options) *upstreamPool {
	return &upstreamPool{
		dialer:      net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second},
		maxIdle:     o.MaxIdleConnsPerHost,
		idleTimeout: o.IdleConnTimeout,
		idle:        make(map[*route][]*upstreamConn),
	}
}

// get returns an idle connection of rt, or dials one. It first checks that
// an idle connection has nothing to read. The end of the stream means that
// the upstream closed it. Bytes mean that the upstream sent them while no
// request was pending, and they would be read as the response to the next
// request. net/http's Transport reads idle connections for the same reason.
func (p *upstreamPool) get(rt *route) (*upstreamConn, error) {
	for {
		uc := p.take(rt)
		if uc == nil {
			return p.dial(rt)
		}
		if uc.check.isOpen() {
			uc.reused = true
			return uc, nil
		}
		uc.conn.Close()
	}
}

func (p *upstreamPool) take(rt *route) *upstreamConn {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	conns := p.idle[rt]
	for len(conns) > 0 {
		uc := conns[len(conns)-1]
		conns = conns[:len(conns)-1]
		if now.Sub(uc.idleAt) < p.idleTimeout {
			p.idle[rt] = conns
			return uc
		}
		uc.conn.Close()
	}
	delete(p.idle, rt)
	return nil
}

func (p *upstreamPool) dial(rt *route) (*upstreamConn, error) {
	c, err := dialRoute(context.Background(), &p.dialer, "tcp", rt.addr, rt)
	if err != nil {
		return nil, err
	}
	tcp := c.(*net.TCPConn)
	raw, err := tcp.SyscallConn()
	if err != nil {
		c.Close()
		return nil, err
	}
	uc := &upstreamConn{conn: tcp, sock: newSocket(tcp), route: rt}
	uc.check.init(raw)
	return uc, nil
}

// put returns uc to the pool, or closes it when the pool is full or
// closed.
func (p *upstreamPool) put(uc *upstreamConn) {
	uc.idleAt = time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	conns := p.idle[uc.route]
	if p.closed || len(conns) >= p.maxIdle {
		uc.conn.Close()
		return
	}
	p.idle[uc.route] = append(conns, uc)
	if p.sweep == nil {
		p.sweep = time.AfterFunc(p.idleTimeout, p.closeExpired)
	}
}

// closeExpired closes the connections idle longer than the timeout, and
// runs again while any are left.
func (p *upstreamPool) closeExpired() {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for rt, conns := range p.idle {
		kept := conns[:0]
		for _, uc := range conns {
			if now.Sub(uc.idleAt) < p.idleTimeout {
				kept = append(kept, uc)
			} else {
				uc.conn.Close()
			}
		}
		clear(conns[len(kept):])
		if len(kept) == 0 {
			delete(p.idle, rt)
		} else {
			p.idle[rt] = kept
		}
	}
	p.sweep = nil
	if len(p.idle) > 0 && !p.closed {
		p.sweep = time.AfterFunc(p.idleTimeout, p.closeExpired)
	}
}

// close closes the idle connections, and every connection put back later.
func (p *upstreamPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, conns := range p.idle {
		for _, uc := range conns {
			uc.conn.Close()
		}
	}
	clear(p.idle)
	if p.sweep != nil {
		p.sweep.Stop()
		p.sweep = nil
	}
}
