// Package hub is jupygo's multi-user hub, the replacement for JupyterHub
// and configurable-http-proxy: one process that signs people in, starts a
// single-user server per user (and named servers), and proxies to them.
//
// # Requests
//
// Hub is an http.Handler for the hub's one public listener. Requests under
// {base_url}hub/ go to the hub's own mux: the pages (login, home, spawn,
// spawn-pending, token, admin), the REST API under hub/api/ and the OAuth 2
// provider. Every other request goes through the built-in proxy
// (internal/proxy) to the server whose route matches, such as /user/alice/.
// A request that matches no route is redirected to the same path under
// hub/, where /hub/user/{name}/... offers to start the server, as
// JupyterHub does. Responses carry X-JupyterHub-Version.
//
// # Identity
//
// API requests authenticate with "Authorization: token T" (or bearer), and
// browsers with the jupyterhub-hub-login cookie, which carries the user's
// cookie ID and a session ID under an HMAC of the cookie secret. The
// session must also exist in the store, which logging out deletes it from.
// Cookie
// requests with unsafe methods need the session's XSRF token (the _xsrf
// form field or the X-XSRFToken header). Scopes follow JupyterHub 3's
// RBAC (scopes.go): built-in roles user, admin, server and token, plus
// load_roles from the configuration. JupyterHub 5.0's shares add scopes
// on one server to the user shared with and to the members of a group
// shared with (apishares.go), and every access check finds them among the
// user's scopes.
//
// # Servers
//
// A start marks the server pending in the store, issues its API token and
// OAuth client (jupyterhub-user-{name}[-{server}]), and runs the Spawner in
// a goroutine owned by the hub. When the spawner returns, the server's URL
// and spawner state are stored and its route added. A stop removes the
// route, stops the process and revokes the server's tokens. The store is
// the only record that outlives the process: at startup the hub polls
// every active server from its stored state, restores the routes of those
// that run and marks the others stopped. Shutting the hub down leaves
// running servers alone.
package hub
