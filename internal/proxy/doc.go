// Package proxy is the routing proxy in front of the hub and the user
// servers: a routing table with the semantics of configurable-http-proxy
// (CHP), and an http.Handler that forwards each request, WebSocket upgrades
// included, to the target of the route it matches. The hub's built-in proxy
// and `jupygo proxy`, a standalone proxy with CHP's REST API (API) and
// error pages (ErrorTarget, ErrorFiles, ErrorPage), share it.
//
// # Routes
//
// A Table maps routespecs to routes. A routespec is a path prefix; with
// TableOptions.HostRouting it is "/<host>" followed by a path prefix.
// Specs are cleaned by CleanSpec: a leading "/" is added and trailing
// slashes are removed, so "user/alice/" is stored as "/user/alice", and "/"
// stays "/". Each route has a target URL (http or https), extra data
// (map[string]any, stored and returned as CHP does, for example
// {"user": "alice", "server_name": ""}), and a last-activity time.
//
// A request goes to the route whose spec is the longest prefix of its
// decoded path by whole segments: "/user/alice" matches "/user/alice",
// "/user/alice/" and "/user/alice/lab", but not "/user/alicex". The root
// route "/" matches every request no other route matches. With host
// routing the lookup path is "/" + host + path, the host lower-cased and
// without its port. As in CHP, an encoded slash (%2F) separates segments in
// lookups, because lookups use the decoded path. Paths are not cleaned: a
// request for "/user/alice/../bob" goes to the route of "/user/alice", and
// its target receives the path unchanged.
//
// # Forwarding
//
// Proxy forwards with net/http/httputil.ReverseProxy. The forwarded path is
// the target's path followed by the full request path (CHP's includePrefix
// and prependPath defaults). The path keeps the escaped form the client
// sent, so %2F, %23 and %20 reach the target unchanged, and the query is
// forwarded byte for byte. The client's Host header is kept. X-Forwarded-For, -Host,
// -Proto and -Port are set. The client's own X-Forwarded-*, Forwarded,
// X-Real-Ip and X-Scheme headers are removed first unless
// Options.TrustForwarded is set, which `jupygo proxy` sets by default
// because CHP keeps them. Options mirror CHP's flags that change these rules.
//
// Responses are streamed: event streams and bodies of unknown length are
// flushed to the client after every write from the upstream, so events
// arrive as they are sent, and bodies of known length wait at most 10 ms in
// the write buffer. Upstream
// connections are kept alive and reused, each only for the route it was
// dialed for, unless Options.Transport replaces the built-in transport.
// So when a server stops and another one later listens on its port, a
// process of the stopped server that still holds its connections never
// receives requests for the new route. Dialing and, optionally, the wait
// for response headers have timeouts; bodies and upgraded connections
// have none.
//
// # Fast path
//
// As an http.Handler, Proxy costs a request net/http's server and its
// Transport, with their goroutines and channel hand-offs. Serve takes the
// listener instead and forwards plain HTTP/1.1 requests itself. One
// goroutine per client connection reads each request head in place, sends
// it on a pooled keep-alive upstream connection and copies the response
// back, with about one allocation per request. It writes to the client
// whenever it would otherwise wait for the upstream, so events are
// flushed at once and small responses leave in one write, with no timer.
// The rules are ReverseProxy's: the same request target, Host, hop-by-hop
// and forwarding headers, the same response fields and framing, and the
// same retry of idempotent requests on a fresh connection. Tests send the
// same requests and responses through both paths and compare them.
//
// The fast path takes only requests that net/http would read the same
// way. Anything else goes to the http.Server with the bytes already read,
// and its connection stays there. That covers requests without a route or
// for reserved paths (the hub's own pages), WebSocket and other upgrades,
// chunked and 100-continue bodies, HTTP/1.0, heads over 64 KiB, malformed
// heads, https targets, and TLS connections. Upstream errors go to the ErrorHandler as
// they do on the handler path, but the fast path closes the client
// connection after the error response. A request body larger than what
// arrived with the head is copied by a second goroutine, so an upstream
// may respond before it has read it all, as through the Transport.
//
// Responses cannot be handed on, so the fast path reads them itself, a
// little more strictly than the Transport: heads over 1 MiB (the
// Transport reads 10 MiB) and field names followed by white space get the
// ErrorHandler's 503. Before it reuses an idle upstream connection, it
// checks that the upstream sent nothing on it, so bytes sent after a
// response never count as the response to the next request.
//
// NOTE: while the fast path waits for a response head, it does not watch
// the client, so the upstream request is not cancelled when the client
// goes away before the response starts. The handler path cancels it.
//
// Requests that ask to switch protocols go to the same route. When the
// upstream answers 101, bytes are copied both ways until either side
// closes. When it answers anything else, or cannot be reached, the client
// receives that response, or the ErrorHandler's, with "Connection: close",
// and both connections are closed or returned to the keep-alive pool, so
// failed upgrades leak no sockets. Browsers open WebSockets over HTTP/1.1:
// Go's HTTP/2 server does not offer extended CONNECT by default, and the
// proxy rejects CONNECT with 405.
//
// # Activity
//
// As in CHP, a route's last activity moves when it is added, whenever
// request body data flows through it, and when a response with status below
// 300 finishes. It also moves while the body of a response below 300
// streams, and while frames flow either way on a WebSocket, so long-lived
// streams and sockets count as activity before they end. Error responses do
// not count. Each route keeps the time in an atomic integer with
// millisecond resolution, so counting activity takes no lock. Table.List
// with a non-zero inactiveSince returns the routes idle since then.
//
// # Errors
//
// A request that matches no route goes to Options.NotFound, or else to
// Options.ErrorHandler with 404 and ErrNoRoute. An upstream that refuses,
// resets or times out gives the ErrorHandler 503 with the cause. A request
// body that breaks off or is malformed gives it 400. Upstream
// errors are logged at Warn, at most once a second per route, the rest at
// Debug with a count. A client that goes away before the response is only
// logged at Debug.
//
// # Concurrency and lifecycle
//
// Table and Proxy are safe for concurrent use. Table lookups take no lock,
// and writes copy one of 256 shards, so adding a route costs about 1/256 of
// the table's size. Shutdown closes the fast path's idle connections and
// waits for its busy ones, as http.Server.Shutdown does for its own. Close
// ends the switched connections and the fast path's connections, waits
// for the handlers serving them, and closes idle upstream connections.
// Call http.Server.Shutdown, then Shutdown, then Close: the server does not
// wait for hijacked connections, nor for those the fast path serves.
// After ReverseProxy returns from a switched connection, one of its copy
// goroutines may still be returning from a read on the closed connections.
package proxy
