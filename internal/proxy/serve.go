package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ServeOptions configures Proxy.Serve.
type ServeOptions struct {
	// Reserved reports whether a request, by its decoded path, is for the
	// http.Server's own handler rather than for the proxy, such as the
	// hub's pages under /hub/. Serve hands such requests to the server. Nil
	// reserves no path.
	Reserved func(path string) bool
	// AccessLog, when set, is called after each request that Serve forwards
	// on its fast path, because those requests never reach the server's
	// handler.
	AccessLog func(AccessLogEntry)
}

// AccessLogEntry describes one request forwarded on the fast path.
type AccessLogEntry struct {
	Method string
	// Path is the decoded request path, without the query.
	Path string
	// Status is the status sent to the client: the upstream's, or the
	// ErrorHandler's when the upstream could not be reached.
	Status   int
	Duration time.Duration
	// RemoteAddr is the client's IP address.
	RemoteAddr string
}

// Serve accepts connections on ln and serves them with p's fast path,
// handing the rest to srv. It returns srv.Serve's error, which is
// http.ErrServerClosed after srv.Shutdown or srv.Close.
//
// The fast path reads HTTP/1.1 requests itself and forwards those that
// match a route with plain http targets, each on a keep-alive upstream
// connection, with no goroutine per request. It must behave as srv's
// handler does, so srv.Handler must serve every request that
// opts.Reserved does not reserve with p.ServeHTTP. Serve hands a
// connection to srv, with the bytes it has read, at the first request it
// does not forward, and the connection then stays with srv. Such requests
// are those for reserved paths or without a route, protocol upgrades such
// as WebSockets, chunked or 100-continue request bodies, HTTP/1.0, heads
// over 64 KiB, malformed requests, and every request after Close.
// Connections that are not TCP, such as TLS connections, go to srv at
// once.
//
// The fast path applies srv's ReadHeaderTimeout, ReadTimeout (to heads
// only) and IdleTimeout as srv would. Call Shutdown after srv.Shutdown
// to let forwarded requests finish, then Close.
func (p *Proxy) Serve(srv *http.Server, ln net.Listener, opts ServeOptions) error {
	if p.opts.Transport != nil || !p.fastOK {
		// The fast path would bypass a custom transport, and net/http
		// rejects invalid custom headers.
		return srv.Serve(ln)
	}
	s := &fastServer{
		proxy:     p,
		ln:        ln,
		opts:      opts,
		handoff:   make(chan net.Conn),
		acceptErr: make(chan error),
		closed:    make(chan struct{}),
		conns:     make(map[*fastConn]struct{}),
	}
	s.headerTimeout, s.idleTimeout = serverTimeouts(srv)
	srv.RegisterOnShutdown(s.drain)
	go s.accept()
	p.addServer(s)
	err := srv.Serve(&handoffListener{s})
	// srv.Serve returns when it closes the listener, often before the
	// fast path's connections end; the last of them unregisters s.
	s.closeListener()
	return err
}

// serverTimeouts returns the limits srv puts on reading a request head and
// on waiting for the next request, following http.Server's rules.
func serverTimeouts(srv *http.Server) (header, idle time.Duration) {
	header = srv.ReadHeaderTimeout
	if header <= 0 {
		header = srv.ReadTimeout
	}
	idle = srv.IdleTimeout
	if idle == 0 {
		idle = srv.ReadTimeout
	}
	return max(header, 0), max(idle, 0)
}

// fastServer is one Serve call: the listener it accepts on, the
// connections its fast path serves, and the listener that passes the
// other connections to the http.Server.
type fastServer struct {
	proxy         *Proxy
	ln            net.Listener
	opts          ServeOptions
	headerTimeout time.Duration
	idleTimeout   time.Duration

	handoff   chan net.Conn // connections for the http.Server
	acceptErr chan error    // errors of ln.Accept, for the http.Server
	closed    chan struct{} // closed when the http.Server closes its listener
	closeOnce sync.Once

	draining atomic.Bool // set by drain: no keep-alive after a response

	mu sync.Mutex
	// conns are the connections the fast path serves, each until its
	// goroutine returns. guarded by mu
	conns map[*fastConn]struct{}
	// listenerClosed is set with closed; guarded by mu.
	listenerClosed bool
}

// accept runs until ln fails for good, starting a goroutine for every
// connection. Accept errors go to the http.Server. After a temporary one,
// the server waits before it calls Accept again.
func (s *fastServer) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			select {
			case s.acceptErr <- err:
			case <-s.closed:
				return
			}
			if !isTemporary(err) {
				return
			}
			continue
		}
		s.start(c)
	}
}

// isTemporary reports whether err is an accept error after which
// http.Server keeps serving.
func isTemporary(err error) bool {
	var te interface{ Temporary() bool }
	return errors.As(err, &te) && te.Temporary()
}

// start serves c on the fast path, or hands it to the http.Server when it
// is no plain TCP connection or the proxy is closing.
func (s *fastServer) start(c net.Conn) {
	tcp, ok := c.(*net.TCPConn)
	if !ok {
		go s.handOff(c, nil)
		return
	}
	fc := newFastConn(s, tcp)
	s.mu.Lock()
	if s.listenerClosed || s.proxy.closed.Load() {
		s.mu.Unlock()
		go s.handOff(c, nil)
		return
	}
	s.conns[fc] = struct{}{}
	s.mu.Unlock()
	go fc.serve()
}

// finish stops tracking fc, whose goroutine is returning.
func (s *fastServer) finish(fc *fastConn) {
	s.mu.Lock()
	delete(s.conns, fc)
	done := s.listenerClosed && len(s.conns) == 0
	s.mu.Unlock()
	if done {
		s.proxy.removeServer(s)
	}
}

// closeListener closes ln and the handoff listener. The proxy stops
// tracking s once no connection is left.
func (s *fastServer) closeListener() error {
	s.closeOnce.Do(func() { close(s.closed) })
	s.mu.Lock()
	s.listenerClosed = true
	done := len(s.conns) == 0
	s.mu.Unlock()
	if done {
		s.proxy.removeServer(s)
	}
	return s.ln.Close()
}

// idle reports whether the fast path serves no connection.
func (s *fastServer) idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns) == 0
}

// handOff gives c to the http.Server, which reads pending before the rest
// of the connection. It closes c when the server no longer accepts.
func (s *fastServer) handOff(c net.Conn, pending []byte) {
	if len(pending) > 0 {
		c = &replayConn{Conn: c, pending: pending}
	}
	select {
	case s.handoff <- c:
	case <-s.closed:
		c.Close()
	}
}

// drain ends keep-alive on the fast path: idle connections close at once,
// busy ones after their current response. http.Server.Shutdown calls it.
func (s *fastServer) drain() {
	s.draining.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	for fc := range s.conns {
		fc.closeIfIdle()
	}
}

// waitIdle waits until the fast path serves no connection or ctx is done.
// Like http.Server.Shutdown it polls, from every millisecond up to every
// half second.
func (s *fastServer) waitIdle(ctx context.Context) error {
	interval := time.Millisecond
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for !s.idle() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		interval = min(2*interval, 500*time.Millisecond)
		timer.Reset(interval)
	}
	return nil
}

// closeAll closes every fast-path connection, client and upstream side,
// and waits until their goroutines have stopped serving them.
func (s *fastServer) closeAll() {
	s.mu.Lock()
	for fc := range s.conns {
		fc.abort()
	}
	s.mu.Unlock()
	s.waitIdle(context.Background())
}

// handoffListener is the listener the http.Server serves: it returns the
// connections the fast path hands off. Closing it closes ln.
type handoffListener struct{ s *fastServer }

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.s.handoff:
		return c, nil
	case err := <-l.s.acceptErr:
		return nil, err
	case <-l.s.closed:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error { return l.s.closeListener() }

func (l *handoffListener) Addr() net.Addr { return l.s.ln.Addr() }

// replayConn is a connection whose first bytes were read by the fast path:
// Read returns them before reading from the connection.
type replayConn struct {
	net.Conn
	pending []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// CloseWrite shuts down the writing side of a TCP connection, so that
// httputil.ReverseProxy half-closes a switched connection whose upstream
// ended. Otherwise it closes it at once, and a client still sending gets
// a reset that destroys the last bytes, such as a WebSocket close frame.
func (c *replayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

func (p *Proxy) addServer(s *fastServer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.servers == nil {
		p.servers = make(map[*fastServer]struct{})
	}
	p.servers[s] = struct{}{}
}

func (p *Proxy) removeServer(s *fastServer) {
	p.mu.Lock()
	delete(p.servers, s)
	p.mu.Unlock()
}

func (p *Proxy) fastServers() []*fastServer {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*fastServer, 0, len(p.servers))
	for s := range p.servers {
		out = append(out, s)
	}
	return out
}

// Shutdown ends keep-alive on the connections that Serve's fast path
// serves, closing the idle ones, and waits until the others finish their
// current response or ctx is done, when it returns ctx's error. Requests
// the http.Server serves are left to http.Server.Shutdown.
func (p *Proxy) Shutdown(ctx context.Context) error {
	for _, s := range p.fastServers() {
		s.drain()
		if err := s.waitIdle(ctx); err != nil {
			return err
		}
	}
	return nil
}
