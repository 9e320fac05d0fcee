package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	// ErrNoRoute is the error passed to Options.ErrorHandler, with status
	// 404, for a request that matches no route.
	ErrNoRoute = errors.New("no route matches the request")
	// ErrClosed is the error passed to Options.ErrorHandler, with status
	// 503, for a request that arrives after Proxy.Close.
	ErrClosed = errors.New("proxy is closed")
)

// flushInterval is the longest a body of known length waits in the
// proxy's write buffer.
const flushInterval = 10 * time.Millisecond

// HealthPath is the health check path of configurable-http-proxy, served
// when Options.HealthCheck is set.
const HealthPath = "/_chp_healthz"

// Options configures a Proxy. The zero value forwards as
// configurable-http-proxy does by default.
type Options struct {
	// Logger receives upstream errors and debug events. Nil discards them.
	Logger *slog.Logger

	// NotFound serves requests that match no route. Nil means ErrorHandler
	// with status 404 and ErrNoRoute.
	NotFound http.Handler
	// ErrorHandler writes the response to a request the proxy could not
	// forward: status 503 when the upstream refused, reset or timed out
	// (err is the cause), 404 for no route when NotFound is nil, 503 with
	// ErrClosed after Close. r is the request as the client sent it. For a
	// WebSocket upgrade the response already has "Connection: close", so
	// the client connection is closed after it. Nil writes the status text.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, status int, err error)

	// StripPrefix removes the route's path prefix from the forwarded path
	// (configurable-http-proxy's --no-include-prefix). A request for the
	// prefix itself goes to the target's path alone.
	StripPrefix bool
	// IgnoreTargetPath forwards the request path alone, without the path
	// of the target URL in front (--no-prepend-path).
	IgnoreTargetPath bool
	// NoXForwarded sends no X-Forwarded-* headers (--no-x-forward). The
	// client's own are still removed unless TrustForwarded is set.
	NoXForwarded bool
	// TrustForwarded keeps the client's X-Forwarded-*, Forwarded, X-Real-Ip
	// and X-Scheme headers, appending to X-Forwarded-For, for a proxy behind
	// a trusted load balancer; configurable-http-proxy always keeps them.
	// When unset, they are removed, so a client cannot spoof its address or
	// scheme.
	TrustForwarded bool
	// ChangeOrigin sends the target's host as the Host header instead of the
	// client's (--change-origin).
	ChangeOrigin bool
	// Headers are set on every forwarded request (--custom-headers).
	Headers http.Header
	// HealthCheck serves requests for HealthPath with 200
	// {"status": "OK"} instead of routing them.
	HealthCheck bool

	// Transport sends requests upstream. Nil means a transport built from
	// the fields below, with keep-alive connections kept per route, so a
	// connection never serves a route other than the one it was dialed
	// for. A custom transport must return a body that implements
	// io.ReadWriteCloser for 101 responses, as http.Transport does, and
	// decides itself which requests share a connection.
	Transport http.RoundTripper
	// TLSClientConfig is used for https targets.
	TLSClientConfig *tls.Config
	// DialTimeout limits connecting to an upstream, and the TLS handshake.
	// Zero means DefaultDialTimeout.
	DialTimeout time.Duration
	// ResponseHeaderTimeout limits the wait for an upstream's response
	// headers after the request is sent (--proxy-timeout). Zero means no
	// limit, as in configurable-http-proxy. Bodies and upgraded connections
	// are never limited.
	ResponseHeaderTimeout time.Duration
	// IdleConnTimeout closes upstream keep-alive connections idle this long.
	// It should stay below the upstreams' own idle timeout, because a
	// request that is not idempotent fails when the upstream closes the
	// connection under it. Zero means DefaultIdleConnTimeout.
	IdleConnTimeout time.Duration
	// MaxIdleConnsPerHost is the number of keep-alive connections kept per
	// upstream. Zero means DefaultMaxIdleConnsPerHost.
	MaxIdleConnsPerHost int
}

// Proxy is an http.Handler that forwards each request to the target of the
// route it matches in a Table, including WebSocket upgrades. It is safe for
// concurrent use.
type Proxy struct {
	table     *Table
	opts      Options
	log       *slog.Logger
	rp        *httputil.ReverseProxy
	transport http.RoundTripper

	// upstreams are the fast path's keep-alive connections. headerLines
	// are opts.Headers as header lines, and customKeys their names in
	// lower case. fastOK is false when opts.Headers cannot be sent as
	// they are, so Serve leaves every request to net/http.
	upstreams   *upstreamPool
	headerLines []byte
	customKeys  []string
	fastOK      bool

	closed atomic.Bool

	mu       sync.Mutex
	closing  bool                       // guarded by mu
	conns    map[*upgradedConn]struct{} // guarded by mu
	servers  map[*fastServer]struct{}   // Serve calls; guarded by mu
	upgrades sync.WaitGroup             // upgrade requests being served
}

// New returns a Proxy that routes by table, which the caller keeps
// changing while the Proxy runs.
func New(table *Table, opts Options) *Proxy {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ErrorHandler == nil {
		opts.ErrorHandler = writeStatusText
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	if opts.IdleConnTimeout <= 0 {
		opts.IdleConnTimeout = DefaultIdleConnTimeout
	}
	if opts.MaxIdleConnsPerHost <= 0 {
		opts.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	}
	opts.Headers = canonicalHeaders(opts.Headers)
	p := &Proxy{
		table: table,
		opts:  opts,
		log:   opts.Logger,
		conns: make(map[*upgradedConn]struct{}),
	}
	p.upstreams = newUpstreamPool(&p.opts)
	p.headerLines, p.customKeys, p.fastOK = headerLines(opts.Headers)
	p.transport = opts.Transport
	if p.transport == nil {
		p.transport = &routeTransports{proxy: p, pruneAt: minPruneAt}
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:   p.rewrite,
		Transport: p.transport,
		// ReverseProxy flushes event streams and bodies of unknown length
		// after every write. Bodies of known length are flushed at most
		// flushInterval after data arrives: a negative interval would also
		// flush headers apart from a short body, costing a write and a
		// goroutine per response.
		FlushInterval:  flushInterval,
		BufferPool:     &bufferPool{},
		ErrorLog:       log.New(slogWriter{p.log}, "", 0),
		ErrorHandler:   p.handleError,
		ModifyResponse: p.modifyResponse,
	}
	return p
}

// requestState is the proxy's state of one request while the ReverseProxy
// serves it. Only the goroutine serving the request uses it.
type requestState struct {
	route    *route
	in       *http.Request
	status   int           // status of the upstream's response
	failed   bool          // the request ended in handleError
	hijacked bool          // the client connection was hijacked
	upgraded *upgradedConn // the upstream side of a switched connection
	body     *clientBody   // the client's request body, if any
}

// clientBody records the error of a failed read of the client's request
// body, such as malformed chunked encoding, so that handleError can tell
// it from an upstream failure. The transport may read the body on its own
// goroutine.
type clientBody struct {
	io.ReadCloser
	err atomic.Pointer[error]
}

func (b *clientBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.err.CompareAndSwap(nil, &err)
	}
	return n, err
}

// failed returns the error of the read that failed, or nil.
func (b *clientBody) failed() error {
	if b == nil {
		return nil
	}
	if err := b.err.Load(); err != nil {
		return *err
	}
	return nil
}

type stateKey struct{}

func stateOf(r *http.Request) *requestState {
	st, _ := r.Context().Value(stateKey{}).(*requestState)
	return st
}

// ServeHTTP forwards r to the target of its route.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.opts.HealthCheck && r.URL.Path == HealthPath {
		serveHealth(w)
		return
	}
	if r.Method == http.MethodConnect {
		w.Header().Set("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	if p.closed.Load() {
		p.fail(w, r, http.StatusServiceUnavailable, ErrClosed)
		return
	}
	rt := p.table.match(r.Host, r.URL.Path)
	if rt == nil {
		p.serveNotFound(w, r)
		return
	}

	st := &requestState{route: rt, in: r}
	r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
	if isUpgrade(r.Header) {
		p.serveUpgrade(w, r, st)
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		st.body = &clientBody{ReadCloser: r.Body}
		r.Body = st.body
	}
	p.rp.ServeHTTP(w, r)
	p.finish(st)
}

// serveUpgrade forwards a request to switch protocols, counted so Close can
// wait for it.
func (p *Proxy) serveUpgrade(w http.ResponseWriter, r *http.Request, st *requestState) {
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		p.fail(w, st.in, http.StatusServiceUnavailable, ErrClosed)
		return
	}
	p.upgrades.Add(1)
	p.mu.Unlock()
	defer p.upgrades.Done()

	p.rp.ServeHTTP(&upgradeWriter{ResponseWriter: w, state: st}, r)
	p.finish(st)
}

// finish counts a completed response below 300 as activity, as
// configurable-http-proxy does. ReverseProxy panics with
// http.ErrAbortHandler when a body copy fails, so such responses never
// reach finish.
func (p *Proxy) finish(st *requestState) {
	if !st.failed && st.status > 0 && st.status < 300 {
		st.route.activity.touch(p.table.nowNanos())
	}
}

func (p *Proxy) serveNotFound(w http.ResponseWriter, r *http.Request) {
	if p.opts.NotFound != nil {
		p.opts.NotFound.ServeHTTP(w, r)
		return
	}
	p.fail(w, r, http.StatusNotFound, ErrNoRoute)
}

// fail responds to r through the ErrorHandler, closing the client
// connection afterwards when r requested a protocol switch.
func (p *Proxy) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	if isUpgrade(r.Header) {
		w.Header().Set("Connection", "close")
	}
	p.opts.ErrorHandler(w, r, status, err)
}

// rewrite builds the upstream request. ReverseProxy has already removed the
// hop-by-hop headers and the client's Forwarded, X-Forwarded-For,
// X-Forwarded-Host and X-Forwarded-Proto.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	st := stateOf(pr.In)
	rt, out := st.route, pr.Out

	p.setURL(pr, rt)
	if p.opts.ChangeOrigin {
		out.Host = ""
	} else {
		out.Host = pr.In.Host
	}

	p.setForwarded(pr)
	for k, v := range p.opts.Headers {
		out.Header[k] = v
	}
	if out.Body != nil {
		out.Body = &activityBody{ReadCloser: out.Body, activity: rt.activity, table: p.table}
	}
}

// forwardURL returns the request target that setURL builds for a request
// with the origin-form target raw.
func (p *Proxy) forwardURL(raw string, rt *route) string {
	in, err := url.ParseRequestURI(raw)
	if err != nil {
		return raw
	}
	out := *in
	pr := &httputil.ProxyRequest{In: &http.Request{URL: in}, Out: &http.Request{URL: &out}}
	p.setURL(pr, rt)
	return pr.Out.URL.RequestURI()
}

// setURL points the upstream request at the route's target, with the path
// and query built as configurable-http-proxy builds them.
func (p *Proxy) setURL(pr *httputil.ProxyRequest, rt *route) {
	out := pr.Out.URL
	targetOnly := false
	if p.opts.StripPrefix {
		out.Path = cutSegments(pr.In.URL.Path, rt.prefixDepth, false)
		out.RawPath = ""
		if pr.In.URL.RawPath != "" {
			out.RawPath = cutSegments(pr.In.URL.RawPath, rt.prefixDepth, true)
		}
		// A request for the prefix itself goes to the target's path alone.
		targetOnly = out.Path == ""
		addLeadingSlash(out)
	}

	switch {
	case p.opts.IgnoreTargetPath:
		out.Scheme, out.Host = rt.target.Scheme, rt.target.Host
	case targetOnly:
		out.Scheme, out.Host = rt.target.Scheme, rt.target.Host
		out.Path, out.RawPath = rt.target.Path, rt.target.RawPath
		addLeadingSlash(out)
	default:
		pr.SetURL(rt.target)
	}
	// ReverseProxy re-encodes queries it cannot parse; configurable-http-proxy
	// forwards them unchanged, and so does this proxy.
	out.RawQuery = joinQuery(rt.target.RawQuery, pr.In.URL.RawQuery)
}

// addLeadingSlash makes u's path start with a slash, in both its decoded
// and its escaped form.
func addLeadingSlash(u *url.URL) {
	if u.RawPath != "" && !strings.HasPrefix(u.RawPath, "/") {
		u.RawPath = "/" + u.RawPath
		u.Path = "/" + u.Path
		return
	}
	if !strings.HasPrefix(u.Path, "/") {
		u.Path = "/" + u.Path
	}
}

func joinQuery(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "&" + b
}

// setForwarded sets the X-Forwarded-For, -Host, -Proto and -Port headers.
func (p *Proxy) setForwarded(pr *httputil.ProxyRequest) {
	h := pr.Out.Header
	if !p.opts.TrustForwarded {
		deleteForwarded(h)
	}
	if p.opts.NoXForwarded {
		return
	}
	in := pr.In.Header
	if v := in["X-Forwarded-For"]; p.opts.TrustForwarded && len(v) > 0 {
		h["X-Forwarded-For"] = v
	}
	// ReverseProxy removes Forwarded before Rewrite runs.
	if v := in["Forwarded"]; p.opts.TrustForwarded && len(v) > 0 {
		h["Forwarded"] = v
	}
	pr.SetXForwarded()
	port := forwardedPort(pr.In)
	if p.opts.TrustForwarded {
		if v := in.Get("X-Forwarded-Host"); v != "" {
			h.Set("X-Forwarded-Host", v)
		}
		if v := in.Get("X-Forwarded-Proto"); v != "" {
			h.Set("X-Forwarded-Proto", v)
		}
		if v := in.Get("X-Forwarded-Port"); v != "" {
			port = v
		}
	}
	h.Set("X-Forwarded-Port", port)
}

// deleteForwarded removes the headers a client could use to claim another
// address or scheme: Forwarded, every X-Forwarded-* header, and X-Real-Ip
// and X-Scheme, which Tornado trusts in xheaders mode, as JupyterHub runs
// it. Spellings with "_" for "-" go too, because CGI and WSGI servers map
// both to the same variable.
func deleteForwarded(h http.Header) {
	for k := range h {
		if isForwardingHeader(k) {
			delete(h, k)
		}
	}
}

func isForwardingHeader(key string) bool {
	if strings.IndexByte(key, '_') >= 0 {
		key = strings.ReplaceAll(key, "_", "-")
	}
	const prefix = "X-Forwarded-"
	if len(key) > len(prefix) && strings.EqualFold(key[:len(prefix)], prefix) {
		return true
	}
	return strings.EqualFold(key, "Forwarded") ||
		strings.EqualFold(key, "X-Real-Ip") ||
		strings.EqualFold(key, "X-Scheme")
}

// forwardedPort returns the port the client connected to: the port of the
// Host header, else the default port of the scheme.
func forwardedPort(r *http.Request) string {
	if _, port, err := net.SplitHostPort(r.Host); err == nil && port != "" {
		return port
	}
	if r.TLS != nil {
		return "443"
	}
	return "80"
}

// modifyResponse records the upstream's status and, for a status below 300,
// wraps the body to count activity. A declined upgrade gets
// "Connection: close", so the client connection does not linger in a state
// the client did not ask for.
func (p *Proxy) modifyResponse(res *http.Response) error {
	st := stateOf(res.Request)
	if err := st.body.failed(); err != nil {
		// The upstream responded to a body that broke off, and may have
		// read it as complete. handleError sends 400 instead.
		return err
	}
	st.status = res.StatusCode
	if res.StatusCode == http.StatusSwitchingProtocols {
		if rwc, ok := res.Body.(io.ReadWriteCloser); ok {
			st.upgraded = p.track(rwc, st.route)
			res.Body = st.upgraded
		}
		return nil
	}
	if isUpgrade(st.in.Header) {
		res.Header.Set("Connection", "close")
	}
	if res.StatusCode < 300 {
		res.Body = &activityBody{ReadCloser: res.Body, activity: st.route.activity, table: p.table}
	}
	return nil
}

// handleError is the ReverseProxy's ErrorHandler. r is the upstream
// request.
func (p *Proxy) handleError(w http.ResponseWriter, r *http.Request, err error) {
	st := stateOf(r)
	st.failed = true
	if st.hijacked {
		// The switched connection broke after the hijack. ReverseProxy
		// closes both sides; nothing can be written to w.
		p.log.Debug("switched connection failed", "route", st.route.spec, "err", err)
		return
	}
	if st.upgraded != nil {
		// The upstream switched protocols but the client cannot follow.
		// ReverseProxy leaves the upstream connection open in this case.
		st.upgraded.Close()
	}
	if bodyErr := st.body.failed(); bodyErr != nil {
		// The client's body broke off or is malformed: the request is
		// the client's fault, not the upstream's. A client that closed
		// its side after a body cut short still gets the 400, though its
		// request's context ends as if it went away.
		p.log.Debug("invalid request body", "route", st.route.spec, "path", st.in.URL.Path, "err", bodyErr)
		w.Header().Set("Connection", "close")
		p.fail(w, st.in, http.StatusBadRequest, fmt.Errorf("invalid request body: %w", bodyErr))
		return
	}
	if errors.Is(err, context.Canceled) && st.in.Context().Err() != nil {
		p.log.Debug("client went away", "route", st.route.spec, "path", st.in.URL.Path, "err", err)
		return
	}
	p.logUpstreamError(st.in.Context(), st.route, st.in, err)
	p.fail(w, st.in, http.StatusServiceUnavailable, err)
}

// upstreamErrorLogInterval is the shortest time between two Warn logs of
// upstream errors for one route; the others go to Debug and are counted.
const upstreamErrorLogInterval = int64(time.Second)

func (p *Proxy) logUpstreamError(ctx context.Context, rt *route, in *http.Request, err error) {
	now := time.Now().UnixNano()
	last := rt.lastErrorLog.Load()
	level := slog.LevelDebug
	var suppressed int64
	if now-last >= upstreamErrorLogInterval && rt.lastErrorLog.CompareAndSwap(last, now) {
		level = slog.LevelWarn
		suppressed = rt.suppressedErrors.Swap(0)
	} else {
		rt.suppressedErrors.Add(1)
	}
	p.log.Log(ctx, level, "upstream request failed",
		"route", rt.spec,
		"target", rt.targetText,
		"method", in.Method,
		"path", in.URL.Path,
		"err", err,
		"suppressed", suppressed)
}

// track registers the upstream side of a switched connection.
func (p *Proxy) track(rwc io.ReadWriteCloser, rt *route) *upgradedConn {
	c := &upgradedConn{rwc: rwc, activity: rt.activity, table: p.table, proxy: p}
	p.mu.Lock()
	closing := p.closing
	if !closing {
		p.conns[c] = struct{}{}
	}
	p.mu.Unlock()
	if closing {
		c.Close()
	}
	return c
}

func (p *Proxy) untrack(c *upgradedConn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// Close ends every switched connection and every connection that Serve's
// fast path serves, waits until the handlers serving them return, and
// closes idle upstream connections. Requests that arrive
// afterwards get status 503 with ErrClosed. http.Server.Shutdown does not
// wait for hijacked connections, so a server shutting down calls Shutdown
// and then Close. Close always returns nil.
func (p *Proxy) Close() error {
	p.closed.Store(true)
	p.mu.Lock()
	p.closing = true
	conns := make([]*upgradedConn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()

	for _, c := range conns {
		c.Close()
	}
	for _, s := range p.fastServers() {
		s.closeAll()
	}
	p.upgrades.Wait()
	p.upstreams.close()
	if t, ok := p.transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
	return nil
}

// isUpgrade reports whether h requests a protocol switch: an Upgrade header
// and the "upgrade" token in Connection.
func isUpgrade(h http.Header) bool {
	if h.Get("Upgrade") == "" {
		return false
	}
	for _, v := range h["Connection"] {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return true
			}
		}
	}
	return false
}

// writeStatusText is the default ErrorHandler.
func writeStatusText(w http.ResponseWriter, _ *http.Request, status int, _ error) {
	http.Error(w, http.StatusText(status), status)
}

func serveHealth(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, `{"status": "OK"}`)
}

// slogWriter adapts the ReverseProxy's log.Logger to slog at Debug level.
// The ReverseProxy logs there only what handleError already reports.
type slogWriter struct{ log *slog.Logger }

func (s slogWriter) Write(p []byte) (int, error) {
	s.log.Debug(strings.TrimSpace(string(p)))
	return len(p), nil
}

// canonicalHeaders returns a copy of h with canonical keys, so a custom
// header replaces the client's field of the same name in any case.
func canonicalHeaders(h http.Header) http.Header {
	if len(h) == 0 {
		return nil
	}
	out := make(http.Header, len(h))
	for k, v := range h {
		k = http.CanonicalHeaderKey(k)
		out[k] = append(out[k], v...)
	}
	return out
}

// headerLines returns the custom headers as header lines, sorted, and
// their names in lower case. ok is false when a name or value is invalid,
// which net/http's Transport would reject for every request.
func headerLines(h http.Header) (lines []byte, keys []string, ok bool) {
	for _, k := range slices.Sorted(maps.Keys(h)) {
		if !isToken([]byte(k)) {
			return nil, nil, false
		}
		keys = append(keys, strings.ToLower(k))
		for _, v := range h[k] {
			v = strings.TrimSpace(v)
			if !isFieldValue([]byte(v)) {
				return nil, nil, false
			}
			lines = appendField(lines, []byte(k), []byte(v))
		}
	}
	return lines, keys, true
}

// isCustomHeader reports whether name, a field name from a client, is one
// of Options.Headers, which replace it.
func (p *Proxy) isCustomHeader(name []byte) bool {
	for _, k := range p.customKeys {
		if equalFold(name, k) {
			return true
		}
	}
	return false
}
