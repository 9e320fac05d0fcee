package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/hub/auth"
	"github.com/jupygo/jupygo/internal/store"
)

// pageServer returns the signed-in user and the owner of the server named
// by the path's {user} and {server}, when the user holds scope for it.
// Otherwise it writes the page and returns nil.
func (h *Hub) pageServer(w http.ResponseWriter, r *http.Request, scope string) (*identity, *store.User) {
	id := h.pageUser(w, r)
	if id == nil {
		return nil, nil
	}
	name, server := r.PathValue("user"), r.PathValue("server")
	owner, err := h.store.GetUser(r.Context(), name)
	if err != nil || !id.scopes.allows(scope, serverTarget(owner.Name, owner.Groups, server)) {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			h.serverErrorPage(w, r, err)
			return nil, nil
		}
		h.errorPage(w, r, http.StatusForbidden, "Forbidden",
			"You may not manage the servers of "+name+".")
		return nil, nil
	}
	return id, &owner
}

// handleSpawn starts a server from a browser: a form post from the home or
// admin page, or a GET as JupyterHub's /hub/spawn links make it. A GET from
// another site only shows the start button, so a link elsewhere cannot
// start anyone's server.
func (h *Hub) handleSpawn(w http.ResponseWriter, r *http.Request) {
	id, owner := h.pageServer(w, r, "servers")
	if id == nil {
		return
	}
	server := r.PathValue("server")
	if r.Method == http.MethodPost {
		if !h.pageForm(w, r) {
			return
		}
		if server == "" {
			server = strings.TrimSpace(r.PostForm.Get("server_name"))
		}
	} else if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" {
		h.errorPageAction(w, r, http.StatusOK, "Start the server?",
			"A page on another site sent you here to start "+serverLabel(owner.Name, server)+".",
			&pageAction{URL: h.prefix + "home", Label: "Go to the hub's home page"})
		return
	}
	next := h.safeNext(r.URL.Query().Get("next"))
	if next == "" {
		next = h.serverURLPath(owner.Name, server)
	}
	pending := h.prefix + "spawn-pending/" + h.serverRow(store.Server{User: owner.Name, Name: server}).Path +
		"?next=" + url.QueryEscape(next)
	if rn := h.runOf(owner.Name, server); rn != nil && rn.action == store.PendingSpawn {
		http.Redirect(w, r, pending, http.StatusSeeOther)
		return
	}
	if sv, err := h.store.GetServer(r.Context(), owner.Name, server); err == nil && sv.Ready() {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	rn, err := h.startServer(r.Context(), *owner, server, nil)
	if errors.Is(err, errSpawnPending) {
		http.Redirect(w, r, pending, http.StatusSeeOther)
		return
	}
	if err != nil {
		h.pageActionError(w, r, err)
		return
	}
	// A quick start goes straight to the server, as JupyterHub does.
	if done, err := h.waitStartBriefly(r, rn); done && err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, pending, http.StatusSeeOther)
}

// handleSpawnSelf serves /hub/spawn, which names no user: JupyterHub's
// link that starts the signed-in user's default server. JupyterLab's
// dialog for a lost server opens it from its Restart button.
func (h *Hub) handleSpawnSelf(w http.ResponseWriter, r *http.Request) {
	id := h.pageUser(w, r)
	if id == nil {
		return
	}
	r.SetPathValue("user", id.user.Name)
	h.handleSpawn(w, r)
}

// waitStartBriefly waits a moment for a start, so that a fast spawner
// skips the progress page.
func (h *Hub) waitStartBriefly(r *http.Request, rn *run) (bool, error) {
	t := time.NewTimer(min(h.slowSpawn, time.Second))
	defer t.Stop()
	select {
	case <-rn.done:
		rn.mu.Lock()
		defer rn.mu.Unlock()
		return true, rn.err
	case <-t.C:
	case <-r.Context().Done():
	}
	return false, nil
}

// pageActionError writes the error of a page action: its message for a
// client error, an internal error page otherwise.
func (h *Hub) pageActionError(w http.ResponseWriter, r *http.Request, err error) {
	var apiErr *httpapi.Error
	if errors.As(err, &apiErr) && apiErr.Status < 500 {
		h.errorPage(w, r, apiErr.Status, "Cannot do that", apiErr.Message)
		return
	}
	h.serverErrorPage(w, r, err)
}

// clientMessage returns the client-safe message of err.
func clientMessage(err error) string {
	var apiErr *httpapi.Error
	if errors.As(err, &apiErr) && apiErr.Status < 500 {
		return apiErr.Message
	}
	return "The hub could not complete the request."
}

// handleSpawnPending shows the progress of a start. Once the server is
// ready it redirects to next, or to the server. As in JupyterHub, a server
// that is stopping gets a page that reloads until the stop ends, and a
// server that is not running gets the failure of its last start, if any,
// and a button to start it.
func (h *Hub) handleSpawnPending(w http.ResponseWriter, r *http.Request) {
	id, owner := h.pageServer(w, r, "read:servers")
	if id == nil {
		return
	}
	server := r.PathValue("server")
	next := h.safeNext(r.URL.Query().Get("next"))
	if next == "" {
		next = h.serverURLPath(owner.Name, server)
	}
	sv, err := h.store.GetServer(r.Context(), owner.Name, server)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.serverErrorPage(w, r, err)
		return
	}
	rn := h.runOf(owner.Name, server)
	starting := rn != nil && rn.action == store.PendingSpawn
	stopping := rn != nil && rn.action == store.PendingStop || sv.Pending == store.PendingStop
	if sv.Ready() && !starting && !stopping {
		http.Redirect(w, r, next, http.StatusFound)
		return
	}
	row := h.serverRow(store.Server{User: owner.Name, Name: server})
	data := spawnPendingPageData{label: serverLabel(owner.Name, server), serverPath: row.Path,
		next: next, progressURL: h.progressURL(owner.Name, server)}
	title := "Starting server"
	switch {
	case stopping:
		data.stopping = true
		title = "Stopping server"
	case !starting:
		title = "Server not running"
		data.message, data.failed = h.failedStart(owner.Name, server)
		data.notRunning = !data.failed
	}
	h.render(w, r, http.StatusOK, title, id, pageOf(spawnPendingView, data))
}

// progressURL returns the path of the progress event stream of a server.
func (h *Hub) progressURL(user, server string) string {
	if server == "" {
		return h.prefix + "api/users/" + escapePath(user) + "/server/progress"
	}
	return h.prefix + "api/users/" + escapePath(user) + "/servers/" + escapePath(server) + "/progress"
}

// handleStopPage stops a server from the home or admin page.
func (h *Hub) handleStopPage(w http.ResponseWriter, r *http.Request) {
	id, owner := h.pageServer(w, r, "delete:servers")
	if id == nil || !h.pageForm(w, r) {
		return
	}
	done, err := h.stopServer(r.Context(), owner.Name, r.PathValue("server"))
	if err != nil {
		h.pageActionError(w, r, err)
		return
	}
	notice := "Server stopped."
	if !done {
		notice = "The server is stopping."
	}
	http.Redirect(w, r, h.sessions.flashURL(r, h.nextOr(r, h.prefix+"home"), notice, ""),
		http.StatusSeeOther)
}

// handleDeleteServerPage stops and deletes a named server.
func (h *Hub) handleDeleteServerPage(w http.ResponseWriter, r *http.Request) {
	id, owner := h.pageServer(w, r, "delete:servers")
	if id == nil || !h.pageForm(w, r) {
		return
	}
	server := r.PathValue("server")
	done, err := h.stopServer(r.Context(), owner.Name, server)
	if err == nil && !done {
		err = badRequest("%s is still stopping; delete it once it stopped",
			serverLabel(owner.Name, server))
	}
	if err == nil {
		err = h.store.DeleteServer(r.Context(), owner.Name, server)
		h.namedServers.forget(owner.Name)
	}
	if err != nil {
		h.pageActionError(w, r, err)
		return
	}
	http.Redirect(w, r, h.sessions.flashURL(r, h.prefix+"home", "Server "+server+" deleted.", ""),
		http.StatusSeeOther)
}

// handleUserRedirect serves /hub/user-redirect/..., a link that redirects
// each signed-in user to the same path on their own server.
func (h *Hub) handleUserRedirect(w http.ResponseWriter, r *http.Request) {
	id := h.pageUser(w, r)
	if id == nil {
		return
	}
	target := h.serverURLPath(id.user.Name, "") + pathAfter(r, segmentCount(h.prefix)+1)
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	if h.safeNext(target) == "" {
		h.errorPage(w, r, http.StatusBadRequest, "Bad request", "The link is not valid.")
		return
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// serveNoRoute handles requests outside the hub's prefix that match no
// route, as JupyterHub's default route does: the same path under the hub's
// prefix, so /user/alice/lab goes to /hub/user/alice/lab.
func (h *Hub) serveNoRoute(w http.ResponseWriter, r *http.Request) {
	rest, _ := h.pathAfterBase(r)
	target := h.prefix + rest
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	if h.safeNext(target) == "" {
		target = h.prefix
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// pathAfterBase returns the escaped path of r after the base URL, with the
// request's escaping. It returns "" and false unless the path's leading
// segments, decoded one at a time, are those of the base URL. So for the
// base URL /jupyter/, neither /jupyterx/lab nor /jupyter%2Fuser/ is under
// it, while /jupyter is.
func (h *Hub) pathAfterBase(r *http.Request) (string, bool) {
	n := segmentCount(h.base)
	if n == 0 {
		return pathAfter(r, 0), true
	}
	base := strings.Split(strings.Trim(h.base, "/"), "/")
	segments := strings.SplitN(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/", n+1)
	if len(segments) < n {
		return "", false
	}
	for i, want := range base {
		if got, err := url.PathUnescape(segments[i]); err != nil || got != want {
			return "", false
		}
	}
	return pathAfter(r, n), true
}

// serveProxyError writes the response to a request the proxy could not
// forward, such as one for a server that has just exited.
func (h *Hub) serveProxyError(w http.ResponseWriter, r *http.Request, status int, err error) {
	h.log.Warn("proxy error", "path", r.URL.Path, "status", status, "err", err)
	if rt, ok := h.routes.Lookup(r.Host, r.URL.Path); ok && status == http.StatusServiceUnavailable {
		user, _ := rt.Data["user"].(string)
		name, _ := rt.Data["server_name"].(string)
		if user != "" {
			h.checkRoute(user, name)
		}
	}
	if isWebSocket(r) || !strings.Contains(r.Header.Get("Accept"), "text/html") {
		writeJSON(w, status, map[string]any{"status": status,
			"message": "The server could not be reached: " + http.StatusText(status)})
		return
	}
	h.errorPage(w, r, status, http.StatusText(status),
		"Your server could not be reached. It may have stopped; start it again from the home page.")
}

func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// adminUserRow is a user as the admin page shows it.
type adminUserRow struct {
	Name, Path, LastActivity string
	Admin                    bool
	Servers                  []serverRow
}

func (h *Hub) handleAdmin(w http.ResponseWriter, r *http.Request) {
	id := h.pageUser(w, r)
	if id == nil {
		return
	}
	if !id.scopes.has("admin-ui") {
		h.errorPage(w, r, http.StatusForbidden, "Forbidden", "The admin page is for admins.")
		return
	}
	users, _, err := h.store.ListUsers(r.Context(), store.UserQuery{})
	if err != nil {
		h.serverErrorPage(w, r, err)
		return
	}
	var rows []adminUserRow
	for _, u := range users {
		servers, err := h.store.ListServers(r.Context(), u.Name)
		if err != nil {
			h.serverErrorPage(w, r, err)
			return
		}
		row := adminUserRow{Name: u.Name, Path: escapePath(u.Name), Admin: u.Admin,
			LastActivity: formatTime(u.LastActivity)}
		hasDefault := false
		for _, sv := range servers {
			hasDefault = hasDefault || sv.Name == ""
			row.Servers = append(row.Servers, h.serverRow(sv))
		}
		if !hasDefault {
			row.Servers = append([]serverRow{h.serverRow(store.Server{User: u.Name})}, row.Servers...)
		}
		rows = append(rows, row)
	}
	notice, message := h.sessions.readFlash(r)
	h.render(w, r, http.StatusOK, "Admin", id, pageOf(adminView, adminPageData{
		users: rows, notice: notice, errText: message,
	}))
}

// passwordSetter is an authenticator of local accounts, whose passwords
// the admin page can set. A password that an admin sets is temporary: the
// user replaces it after signing in with it.
type passwordSetter interface {
	SetPassword(ctx context.Context, name, password string) error
	SetTemporaryPassword(ctx context.Context, name, password string) error
	HashTemporaryPassword(password string) (hash string, authState []byte, err error)
	PasswordIsTemporary(u store.User) bool
}

// handleAdminAddUsers adds users from the admin page, one name a line,
// with a password when the hub has local accounts.
func (h *Hub) handleAdminAddUsers(w http.ResponseWriter, r *http.Request) {
	id := h.pageUser(w, r)
	if id == nil || !h.pageForm(w, r) {
		return
	}
	if !id.scopes.has("admin:users") {
		h.errorPage(w, r, http.StatusForbidden, "Forbidden", "Adding users needs admin:users.")
		return
	}
	admin := r.PostForm.Get("admin") != ""
	if err := h.checkGrantAdmin(id, admin); err != nil {
		h.pageActionError(w, r, err)
		return
	}
	password := r.PostForm.Get("password")
	names, err := h.checkNewUsers(r, password)
	var apiErr *httpapi.Error
	if err != nil && !errors.As(err, &apiErr) {
		h.log.Error("checking users to add from the admin page", "err", err)
	}
	if err != nil {
		h.redirectAdmin(w, r, "", clientMessage(err))
		return
	}
	users, err := h.newUsers(names, admin, password)
	if err == nil {
		_, err = h.createUsers(r.Context(), users)
	}
	if err != nil {
		h.log.Error("adding users from the admin page", "users", names, "err", err)
		message := clientMessage(err)
		// The messages of createUsers, 500 included, say that no user
		// was created and show nothing of the store.
		if errors.As(err, &apiErr) {
			message = apiErr.Message
		}
		h.redirectAdmin(w, r, "", message)
		return
	}
	h.log.Info("users added", "users", names, "by", id.user.Name)
	h.redirectAdmin(w, r, "Added "+strings.Join(names, ", ")+".", "")
}

// newUsers returns the users that the admin page adds, each with its own
// hash of the temporary password when password is not "".
func (h *Hub) newUsers(names []string, admin bool, password string) ([]store.NewUser, error) {
	users := make([]store.NewUser, len(names))
	for i, name := range names {
		users[i] = store.NewUser{Name: name, Admin: admin}
	}
	if password == "" {
		return users, nil
	}
	setter, ok := h.auth.(passwordSetter)
	if !ok {
		return nil, badRequest("No users created: this hub has no local accounts, " +
			"so passwords cannot be set")
	}
	for i := range users {
		hash, state, err := setter.HashTemporaryPassword(password)
		if err != nil {
			return nil, badRequest("No users created: %s", err.Error())
		}
		users[i].PasswordHash, users[i].AuthState = hash, state
	}
	return users, nil
}

// createUsers stores users in one transaction, so that a failure creates
// none of them.
func (h *Hub) createUsers(ctx context.Context, users []store.NewUser) ([]store.User, error) {
	created, err := h.store.CreateUsers(ctx, users)
	if errors.Is(err, store.ErrExists) {
		return nil, httpapi.Errorf(http.StatusConflict, "No users created: another request "+
			"created one of them meanwhile. Send the request again to create the others")
	}
	if err != nil {
		return nil, &httpapi.Error{Status: http.StatusInternalServerError, Err: err,
			Message: "No users created: the hub could not store them. The hub's log has the details."}
	}
	return created, nil
}

// checkNewUsers returns the names of the admin page's form, one a line,
// after checking all of them and the password, so that a mistake creates
// no user. Blank lines are skipped and repeated names kept once.
func (h *Hub) checkNewUsers(r *http.Request, password string) ([]string, error) {
	var lines []string
	for _, line := range strings.Split(r.PostForm.Get("usernames"), "\n") {
		if strings.TrimSpace(line) != "" {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return nil, badRequest("No users created: enter at least one user name")
	}
	names, err := h.newUserNames(lines)
	if err != nil {
		return nil, err
	}
	var exist []string
	for _, name := range names {
		if _, err := h.store.GetUser(r.Context(), name); err == nil {
			exist = append(exist, name)
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("looking up user %q: %w", name, err)
		}
	}
	if len(exist) > 0 {
		verb := "already exist"
		if len(exist) == 1 {
			verb = "already exists"
		}
		return nil, badRequest("No users created: %s %s", strings.Join(exist, ", "), verb)
	}
	if password == "" {
		return names, nil
	}
	if _, ok := h.auth.(passwordSetter); !ok {
		return nil, badRequest("No users created: this hub has no local accounts, " +
			"so passwords cannot be set")
	}
	if err := auth.CheckPassword(password); err != nil {
		return nil, badRequest("No users created: %s", err.Error())
	}
	return names, nil
}

// redirectAdmin returns the browser to the admin page, which shows the
// notice, or the error message when notice is "".
func (h *Hub) redirectAdmin(w http.ResponseWriter, r *http.Request, notice, message string) {
	if notice != "" {
		message = ""
	}
	http.Redirect(w, r, h.sessions.flashURL(r, h.prefix+"admin", notice, message),
		http.StatusSeeOther)
}

func (h *Hub) handleAdminDeleteUser(w http.ResponseWriter, r *http.Request) {
	id := h.pageUser(w, r)
	if id == nil || !h.pageForm(w, r) {
		return
	}
	name := r.PathValue("user")
	if !id.scopes.allows("delete:users", userTarget(name, nil)) {
		h.errorPage(w, r, http.StatusForbidden, "Forbidden", "Deleting users needs delete:users.")
		return
	}
	if name == id.user.Name {
		h.redirectAdmin(w, r, "", "You cannot delete yourself.")
		return
	}
	if h.adminTarget(w, r, id, actionDelete) == nil {
		return
	}
	if err := h.deleteUser(r.Context(), name); err != nil {
		h.redirectAdmin(w, r, "", clientMessage(err))
		return
	}
	h.log.Info("user deleted", "user", name, "by", id.user.Name)
	h.redirectAdmin(w, r, "Deleted "+name+".", "")
}

// adminTarget returns the user named by the path when the caller may act
// on that account, as checkNoEscalation decides. Otherwise it writes the
// page and returns nil.
func (h *Hub) adminTarget(w http.ResponseWriter, r *http.Request, id *identity,
	action string) *store.User {
	name := r.PathValue("user")
	u, err := h.store.GetUser(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		h.redirectAdmin(w, r, "", "No such user: "+name)
		return nil
	}
	if err != nil {
		h.serverErrorPage(w, r, err)
		return nil
	}
	if err := h.checkNoEscalation(r.Context(), id, u, action); err != nil {
		h.pageActionError(w, r, err)
		return nil
	}
	return &u
}

// handleAdminSetPassword sets a user's password from the admin page.
func (h *Hub) handleAdminSetPassword(w http.ResponseWriter, r *http.Request) {
	id := h.pageUser(w, r)
	if id == nil || !h.pageForm(w, r) {
		return
	}
	name := r.PathValue("user")
	if !id.scopes.allows("admin:users", userTarget(name, nil)) {
		h.errorPage(w, r, http.StatusForbidden, "Forbidden", "Setting passwords needs admin:users.")
		return
	}
	setter, ok := h.auth.(passwordSetter)
	if !ok {
		h.redirectAdmin(w, r, "", "This hub has no local accounts, so it keeps no passwords.")
		return
	}
	if h.adminTarget(w, r, id, "Setting the password of") == nil {
		return
	}
	// A password set for someone else is temporary, because the admin
	// chose it. An admin who sets their own password keeps it.
	set := setter.SetTemporaryPassword
	if name == id.user.Name {
		set = setter.SetPassword
	}
	if err := set(r.Context(), name, r.PostForm.Get("password")); err != nil {
		h.redirectAdmin(w, r, "", "Password of "+name+" not set: "+err.Error())
		return
	}
	h.log.Info("password set", "user", name, "by", id.user.Name)
	// An admin who sets their own password keeps the session doing it.
	keep := ""
	if name == id.user.Name {
		keep = id.sessionID
	}
	if err := h.endOtherSessions(r.Context(), name, keep); err != nil {
		h.redirectAdmin(w, r, "", "Password of "+name+" set, but the sessions of "+name+
			" could not be ended: the hub's log has the details.")
		return
	}
	h.redirectAdmin(w, r, "Password of "+name+" set.", "")
}

func (h *Hub) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
}

// formatTime formats a time for the pages, "never" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
