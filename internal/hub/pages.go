package hub

import (
	"context"
	"embed"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/jupygo/jupygo/internal/hub/auth"
	"github.com/jupygo/jupygo/internal/hub/spawn"
	g "github.com/jupygo/jupygo/internal/markup"
	"github.com/jupygo/jupygo/internal/store"
	"github.com/jupygo/jupygo/internal/webpage"
)

//go:embed static
var staticFS embed.FS

// render writes the page that build returns with status. build gets the
// frame of the page: its title, the navigation of id's user (nil for none)
// and the XSRF token of its forms.
func (h *Hub) render(w http.ResponseWriter, r *http.Request, status int, title string,
	id *identity, build func(frame pageFrame) g.Node) {
	frame := pageFrame{title: title, prefix: h.prefix,
		xsrf: h.sessions.xsrfToken(h.sessions.browserSession(w, r))}
	if id != nil && id.user != nil {
		frame.user = id.user.Name
		frame.isAdmin = id.scopes.has("admin-ui")
		_, frame.localAccounts = h.auth.(passwordSetter)
	}
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "frame-ancestors 'none'")
	if err := webpage.Write(w, status, build(frame)); err != nil {
		h.log.Error("sending a page failed", "title", title, "err", err)
	}
}

// pageOf returns the builder of a page from its function and its data.
func pageOf[D any](page func(pageFrame, D) g.Node, data D) func(pageFrame) g.Node {
	return func(frame pageFrame) g.Node { return page(frame, data) }
}

// errorPage writes an error page for a browser.
func (h *Hub) errorPage(w http.ResponseWriter, r *http.Request, status int, heading, message string) {
	h.errorPageAction(w, r, status, heading, message, nil)
}

// pageAction is a button on an error page.
type pageAction struct{ URL, Label string }

func (h *Hub) errorPageAction(w http.ResponseWriter, r *http.Request, status int,
	heading, message string, action *pageAction) {
	id, _ := h.identify(r)
	h.render(w, r, status, heading, id, pageOf(errorView, errorPageData{
		status: status, heading: heading, message: message, action: action,
	}))
}

func (h *Hub) serverErrorPage(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	h.errorPage(w, r, http.StatusInternalServerError, "Internal error",
		"The hub could not complete the request. The hub's log has the details.")
}

// pageUser returns the signed-in user of a page request. Without one it
// redirects to the login page and returns nil.
func (h *Hub) pageUser(w http.ResponseWriter, r *http.Request) *identity {
	id, err := h.identify(r)
	if err == nil && id.user != nil && id.token == nil {
		if h.mustChangePassword(w, r, id) {
			return nil
		}
		return id
	}
	if err != nil && !errors.Is(err, errNoIdentity) {
		h.serverErrorPage(w, r, err)
		return nil
	}
	h.redirectToLogin(w, r)
	return nil
}

// mustChangePassword sends a user who signed in with a temporary password
// to the password page, which every other page waits for, and reports
// whether it did.
func (h *Hub) mustChangePassword(w http.ResponseWriter, r *http.Request, id *identity) bool {
	setter, ok := h.auth.(passwordSetter)
	if !ok || !setter.PasswordIsTemporary(*id.user) ||
		r.URL.Path == h.prefix+"password" || r.URL.Path == h.prefix+"logout" {
		return false
	}
	http.Redirect(w, r, h.prefix+"password?next="+url.QueryEscape(r.URL.RequestURI()),
		http.StatusFound)
	return true
}

// redirectToLogin sends the browser to the login page, which returns to
// the current URL.
func (h *Hub) redirectToLogin(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, h.prefix+"login?next="+url.QueryEscape(r.URL.RequestURI()),
		http.StatusFound)
}

// pageForm parses a form post and checks its XSRF token. On failure it
// writes a 403 page and returns false.
func (h *Hub) pageForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return false
	}
	if !h.sessions.checkXSRF(r, r.PostForm.Get("_xsrf")) {
		h.errorPage(w, r, http.StatusForbidden, "Forbidden",
			"The form's XSRF token is missing or does not match this browser's session. "+
				"Reload the page and try again.")
		return false
	}
	return true
}

// nextOr returns the safe next= of the request, or fallback.
func (h *Hub) nextOr(r *http.Request, fallback string) string {
	if next := h.safeNext(r.URL.Query().Get("next")); next != "" {
		return next
	}
	return fallback
}

// handleAddSlash redirects {base_url}hub to {base_url}hub/ with the same
// query, permanently, as JupyterHub 3.0's AddSlashHandler does.
func (h *Hub) handleAddSlash(w http.ResponseWriter, r *http.Request) {
	target := h.prefix
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, target, http.StatusMovedPermanently)
}

func (h *Hub) handleHubRoot(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, h.prefix+"home", http.StatusFound)
}

func (h *Hub) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	if id, err := h.identify(r); err == nil && id.user != nil && id.token == nil {
		http.Redirect(w, r, h.nextOr(r, h.prefix+"home"), http.StatusFound)
		return
	}
	h.renderLogin(w, r, http.StatusOK, "", "")
}

func (h *Hub) renderLogin(w http.ResponseWriter, r *http.Request, status int, username, message string) {
	next := h.safeNext(r.URL.Query().Get("next"))
	data := loginPageData{next: next, username: username, errText: message}
	if ra, ok := h.auth.(auth.RedirectAuthenticator); ok {
		if h.cfg.Authenticator.AutoLogin && message == "" {
			http.Redirect(w, r, h.prefix+"oauth_login?next="+url.QueryEscape(next), http.StatusFound)
			return
		}
		data.loginURL = webpage.WithQuery(h.prefix+"oauth_login", "next", next)
		data.loginService = ra.LoginService()
	}
	h.render(w, r, status, "Sign in", nil, pageOf(loginView, data))
}

// handleLogin checks the login form, then the allow lists, and starts a
// session with a new session ID.
func (h *Hub) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !h.pageForm(w, r) {
		return
	}
	form, ok := h.auth.(auth.FormAuthenticator)
	if !ok {
		h.errorPage(w, r, http.StatusBadRequest, "Sign-in",
			"This hub signs people in through another site, not with a password.")
		return
	}
	username := h.auth.NormalizeUsername(r.PostForm.Get("username"))
	client := clientAddr(r)
	reserved, wait, err := h.logins.Reserve(r.Context(), username, client)
	if err != nil {
		h.serverErrorPage(w, r, err)
		return
	}
	if reserved == nil {
		h.log.Warn("login rate limited", "user", username, "remote", client)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		h.renderLogin(w, r, http.StatusTooManyRequests, username,
			"Too many failed sign-ins. Wait a minute and try again.")
		return
	}
	signed, err := form.AuthenticateForm(r.Context(), username, r.PostForm.Get("password"))
	if errors.Is(err, auth.ErrInvalidCredentials) {
		// The reservation stays, as a failure of the user name and address.
		h.log.Info("login failed", "user", username, "remote", client)
		h.renderLogin(w, r, http.StatusForbidden, username, "Invalid user name or password.")
		return
	}
	reserved.Release()
	if err != nil {
		h.serverErrorPage(w, r, err)
		return
	}
	if !h.completeLogin(w, r, signed, h.nextOr(r, h.prefix+"home")) {
		return
	}
	if err := h.logins.Succeeded(r.Context(), signed.Name, client); err != nil {
		h.log.Error("recording the address of a sign-in", "user", signed.Name, "remote", client,
			"err", err)
	}
}

// completeLogin admits an authenticated user when the allow lists let them
// in: it creates their record if needed and starts a session. A user who
// is not allowed gets a 403 page and no record. It reports whether the
// session started.
func (h *Hub) completeLogin(w http.ResponseWriter, r *http.Request, signed auth.User,
	next string) bool {
	ctx := r.Context()
	if err := spawn.ValidateUserName(signed.Name); err != nil {
		h.log.Warn("sign-in with an invalid user name", "err", err)
		h.errorPage(w, r, http.StatusForbidden, "Not allowed", err.Error())
		return false
	}
	u, err := h.store.GetUser(ctx, signed.Name)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.serverErrorPage(w, r, err)
		return false
	}
	if !h.admits(signed, exists) {
		h.log.Warn("user not allowed", "user", signed.Name)
		h.errorPage(w, r, http.StatusForbidden, "Not allowed",
			"User "+signed.Name+" is not allowed to use this hub. Ask its administrator for access.")
		return false
	}
	if exists && !h.checkSameAccount(w, r, u, signed) {
		return false
	}
	if !h.ensureSystemAccount(w, r, signed.Name) {
		return false
	}
	if !exists {
		u, err = h.store.CreateUser(ctx, signed.Name, h.isConfigAdmin(signed.Name))
		if errors.Is(err, store.ErrExists) {
			// A concurrent first sign-in of the same user created it.
			u, err = h.store.GetUser(ctx, signed.Name)
		} else if err == nil {
			h.log.Info("user created at login", "user", u.Name)
		}
		if err != nil {
			h.serverErrorPage(w, r, err)
			return false
		}
	}
	if signed.Admin != nil && *signed.Admin != u.Admin {
		if u, err = h.store.UpdateUser(ctx, u.Name, store.UserUpdate{Admin: signed.Admin}); err != nil {
			h.serverErrorPage(w, r, err)
			return false
		}
	}
	if signed.AuthState != nil {
		state := signed.AuthState
		if _, err := h.store.UpdateUser(ctx, u.Name, store.UserUpdate{AuthState: &state}); err != nil {
			h.serverErrorPage(w, r, err)
			return false
		}
	}
	now := h.now()
	if _, err := h.store.UpdateUser(ctx, u.Name, store.UserUpdate{LastActivity: &now}); err != nil {
		h.log.Warn("recording login time", "user", u.Name, "err", err)
	}
	// A new session ID at each login, so that a session ID planted before
	// the login is worth nothing after it.
	sessionID := newSessionID()
	if _, err := h.store.CreateSession(ctx, store.Session{ID: sessionID, User: u.Name,
		ExpiresAt: now.Add(loginMaxAge)}); err != nil {
		h.serverErrorPage(w, r, err)
		return false
	}
	h.sessions.setLogin(w, r, u.CookieID, sessionID)
	h.log.Info("user logged in", "user", u.Name, "remote", clientAddr(r))
	http.Redirect(w, r, next, http.StatusFound)
	return true
}

// accountCreator is a spawner that runs each server as the system account
// of its user and creates missing accounts, as spawn.LocalProcess does.
type accountCreator interface {
	EnsureAccount(ctx context.Context, name string) (created bool, err error)
}

// ensureSystemAccount prepares the system account of a user who signs in,
// when the spawner runs servers as system accounts. It rejects a name that
// cannot be an account, and it creates a missing account when
// create_system_users is set, as JupyterHub's LocalAuthenticator does when
// it adds a user. On failure it writes an error page and returns false.
func (h *Hub) ensureSystemAccount(w http.ResponseWriter, r *http.Request, name string) bool {
	creator, ok := h.spawner.(accountCreator)
	if !ok {
		return true
	}
	if err := spawn.ValidateSystemUserName(name); err != nil {
		h.log.Warn("sign-in rejected: the user name cannot be a system account", "user", name,
			"err", err)
		h.errorPage(w, r, http.StatusForbidden, "Not allowed", "This hub runs each server as "+
			"the system account of the same name, so user "+name+" cannot sign in: "+
			err.Error()+". Ask its administrator for access.")
		return false
	}
	created, err := creator.EnsureAccount(r.Context(), name)
	if err != nil {
		h.log.Error("creating the system account at sign-in failed", "user", name, "err", err)
		h.errorPage(w, r, http.StatusInternalServerError, "Sign-in failed",
			"The hub could not create the system account "+name+" that your servers run as. "+
				"Try again later, or ask the hub's administrator, who finds the cause in the hub's log.")
		return false
	}
	if created {
		h.log.Info("system account created at sign-in", "user", name)
	}
	return true
}

// handleLogout deletes the hub session, so that copies of its cookie stop
// working, and revokes the OAuth tokens issued through it, which signs the
// browser out of the user servers too.
func (h *Hub) handleLogout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if id, err := h.identify(r); err == nil && id.user != nil && id.token == nil {
		if err := h.store.DeleteSession(ctx, id.sessionID); err != nil {
			h.log.Error("ending a session", "user", id.user.Name, "err", err)
		}
		n, err := h.store.DeleteTokens(ctx, store.TokenFilter{SessionID: id.sessionID})
		if err != nil {
			h.log.Error("revoking the tokens of a session", "user", id.user.Name, "err", err)
		}
		h.log.Info("user logged out", "user", id.user.Name, "revoked_tokens", n)
		if h.cfg.JupyterHub.ShutdownOnLogout {
			h.stopAllServers(r, id.user.Name)
		}
	}
	h.sessions.clear(w, r)
	http.Redirect(w, r, h.prefix+"login", http.StatusFound)
}

func (h *Hub) stopAllServers(r *http.Request, user string) {
	servers, err := h.store.ListServers(r.Context(), user)
	if err != nil {
		h.log.Error("listing servers to stop at logout", "user", user, "err", err)
		return
	}
	for _, sv := range servers {
		if sv.Active() {
			if _, err := h.stopServer(r.Context(), user, sv.Name); err != nil {
				h.log.Error("stopping a server at logout", "user", user, "server", sv.Name, "err", err)
			}
		}
	}
}

// clientAddr returns the IP address of the connection. The hub has no
// setting that trusts a proxy in front of it, so it ignores
// X-Forwarded-For, which any client can set.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// serverRow is a server as the home and admin pages show it.
type serverRow struct {
	Name, Path, URL, Pending, LastActivity string
	Ready                                  bool
}

func (h *Hub) serverRow(sv store.Server) serverRow {
	path := escapePath(sv.User)
	if sv.Name != "" {
		path += "/" + escapePath(sv.Name)
	}
	return serverRow{Name: sv.Name, Path: path, URL: h.serverURLPath(sv.User, sv.Name),
		Pending: sv.Pending, Ready: sv.Ready(), LastActivity: formatTime(sv.LastActivity)}
}

func (h *Hub) handleHome(w http.ResponseWriter, r *http.Request) {
	id := h.pageUser(w, r)
	if id == nil {
		return
	}
	servers, err := h.store.ListServers(r.Context(), id.user.Name)
	if err != nil {
		h.serverErrorPage(w, r, err)
		return
	}
	def := serverRow{URL: h.serverURLPath(id.user.Name, "")}
	var named []serverRow
	for _, sv := range servers {
		if sv.Name == "" {
			def = h.serverRow(sv)
		} else {
			named = append(named, h.serverRow(sv))
		}
	}
	granted, received, err := h.homeShares(r.Context(), id)
	if err != nil {
		h.serverErrorPage(w, r, err)
		return
	}
	notice, message := h.sessions.readFlash(r)
	h.render(w, r, http.StatusOK, "Home", id, pageOf(homeView, homePageData{
		def: def, named: named, userPath: escapePath(id.user.Name),
		namedServers: h.cfg.JupyterHub.AllowNamedServers,
		notice:       notice, errText: message,
		granted: granted, received: received,
	}))
}

// tokenRow is a token as the token page shows it.
type tokenRow struct {
	ID                                             int64
	Note, Prefix, Created, LastActivity, ExpiresAt string
}

// createdParam is the query parameter of the token page that names, by
// ID, the token that the page's form has just created.
const createdParam = "created"

// tokenPageText is the text of the token page beyond its list of tokens.
type tokenPageText struct {
	newToken, notice, errText string
}

func (h *Hub) handleTokenPage(w http.ResponseWriter, r *http.Request) {
	id := h.pageUser(w, r)
	if id == nil {
		return
	}
	var text tokenPageText
	if created := r.URL.Query().Get(createdParam); created != "" {
		text = h.createdTokenText(r, id, created)
	}
	h.renderTokens(w, r, id, http.StatusOK, text)
}

// createdTokenText returns the new token that handleCreateTokenPage stored
// for this login session, once. Later it returns a notice that the token
// was shown, when the token exists and belongs to the user.
func (h *Hub) createdTokenText(r *http.Request, id *identity, created string) tokenPageText {
	if plain, ok := h.newTokens.take(h.newTokenKey(r, id, created), h.now()); ok {
		return tokenPageText{newToken: plain}
	}
	tid, err := strconv.ParseInt(created, 10, 64)
	if err != nil {
		return tokenPageText{}
	}
	t, err := h.store.GetToken(r.Context(), tid)
	if err != nil || t.Owner.User != id.user.Name {
		return tokenPageText{}
	}
	return tokenPageText{notice: "The new token was shown only once. If you did not copy it, " +
		"revoke it below and request another."}
}

// newTokenKey returns the key in h.newTokens of the token with ID tokenID
// that the token page creates for r's user and login session, so that only
// the same session can show it.
func (h *Hub) newTokenKey(r *http.Request, id *identity, tokenID string) string {
	return id.user.Name + "\x00" + h.sessions.loginSessionID(r) + "\x00" + tokenID
}

func (h *Hub) renderTokens(w http.ResponseWriter, r *http.Request, id *identity, status int,
	text tokenPageText) {
	tokens, err := h.store.ListTokens(r.Context(), store.Owner{User: id.user.Name})
	if err != nil {
		h.serverErrorPage(w, r, err)
		return
	}
	var rows []tokenRow
	for _, t := range tokens {
		if t.OAuthClientID != "" || strings.HasPrefix(t.Note, "Server at ") {
			continue
		}
		expires := "never"
		if !t.ExpiresAt.IsZero() {
			expires = formatTime(t.ExpiresAt)
		}
		rows = append(rows, tokenRow{ID: t.ID, Note: t.Note, Prefix: t.Prefix,
			Created: formatTime(t.Created), LastActivity: formatTime(t.LastActivity),
			ExpiresAt: expires})
	}
	h.render(w, r, status, "Token", id, pageOf(tokenView, tokenPageData{tokens: rows,
		tokenPageText: text}))
}

// handleCreateTokenPage creates a token from the token page's form and
// redirects to the token page, which shows the token once. The redirect
// (POST-redirect-GET) keeps a reload from creating another token.
func (h *Hub) handleCreateTokenPage(w http.ResponseWriter, r *http.Request) {
	id := h.pageUser(w, r)
	if id == nil || !h.pageForm(w, r) {
		return
	}
	var expires *float64
	if s := strings.TrimSpace(r.PostForm.Get("expires_in")); s != "" {
		// ParseFloat returns ±Inf for a number beyond float64's range, which
		// createToken rejects with the message that names the maximum.
		v, err := strconv.ParseFloat(s, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			h.renderTokens(w, r, id, http.StatusBadRequest,
				tokenPageText{errText: "Expires in must be a number of seconds."})
			return
		}
		expires = &v
	}
	t, plain, err := h.createToken(r.Context(), id, *id.user, r.PostForm.Get("note"), expires, nil, nil)
	if err != nil {
		h.renderTokens(w, r, id, http.StatusBadRequest, tokenPageText{errText: clientMessage(err)})
		return
	}
	created := strconv.FormatInt(t.ID, 10)
	h.newTokens.put(h.newTokenKey(r, id, created), plain, h.now())
	target := h.prefix + "token?" + url.Values{createdParam: {created}}.Encode()
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (h *Hub) handleRevokeTokenPage(w http.ResponseWriter, r *http.Request) {
	id := h.pageUser(w, r)
	if id == nil || !h.pageForm(w, r) {
		return
	}
	t, err := h.tokenOf(r, *id.user)
	if err == nil {
		err = h.store.DeleteToken(r.Context(), t.ID)
	}
	if err != nil {
		h.renderTokens(w, r, id, http.StatusNotFound, tokenPageText{errText: clientMessage(err)})
		return
	}
	http.Redirect(w, r, h.prefix+"token", http.StatusSeeOther)
}

func (h *Hub) handlePasswordPage(w http.ResponseWriter, r *http.Request) {
	id := h.pageUser(w, r)
	if id == nil {
		return
	}
	var notice string
	if setter, ok := h.auth.(passwordSetter); ok && setter.PasswordIsTemporary(*id.user) {
		notice = "You signed in with a temporary password. Choose your own to go on."
	}
	h.render(w, r, http.StatusOK, "Change password", id, pageOf(passwordView, passwordPageData{
		notice: notice, next: h.safeNext(r.URL.Query().Get("next")),
	}))
}

// handleChangePassword changes the signed-in user's own password, which
// needs the current one.
func (h *Hub) handleChangePassword(w http.ResponseWriter, r *http.Request) {
	id := h.pageUser(w, r)
	if id == nil || !h.pageForm(w, r) {
		return
	}
	next := h.safeNext(r.URL.Query().Get("next"))
	fail := func(status int, message string) {
		h.render(w, r, status, "Change password", id,
			pageOf(passwordView, passwordPageData{errText: message, next: next}))
	}
	form, okForm := h.auth.(auth.FormAuthenticator)
	setter, okSet := h.auth.(passwordSetter)
	if !okForm || !okSet {
		fail(http.StatusBadRequest, "This hub has no local accounts, so it keeps no passwords.")
		return
	}
	f := r.PostForm
	reserved, _, err := h.logins.Reserve(r.Context(), id.user.Name, clientAddr(r))
	if err != nil {
		h.serverErrorPage(w, r, err)
		return
	}
	if reserved == nil {
		fail(http.StatusTooManyRequests, "Too many wrong passwords. Wait a minute and try again.")
		return
	}
	if _, err := form.AuthenticateForm(r.Context(), id.user.Name, f.Get("current")); err != nil {
		fail(http.StatusForbidden, "The current password is wrong.")
		return
	}
	reserved.Release()
	if f.Get("new") != f.Get("confirm") {
		fail(http.StatusBadRequest, "The two new passwords differ.")
		return
	}
	// A temporary password was printed in the hub's log or chosen by an
	// admin, so keeping it would leave the account open to them.
	if f.Get("new") == f.Get("current") {
		fail(http.StatusBadRequest, "The new password is the current one. Choose a different password.")
		return
	}
	if err := setter.SetPassword(r.Context(), id.user.Name, f.Get("new")); err != nil {
		fail(http.StatusBadRequest, "Password not changed: "+err.Error())
		return
	}
	h.log.Info("password changed", "user", id.user.Name)
	if err := h.endOtherSessions(r.Context(), id.user.Name, id.sessionID); err != nil {
		fail(http.StatusInternalServerError, "Password changed, but your other sessions could "+
			"not be ended. Sign out and in again, or ask the hub's administrator.")
		return
	}
	if next != "" {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "Change password", id,
		pageOf(passwordView, passwordPageData{notice: "Password changed."}))
}

// endOtherSessions ends every login session of user but keep ("" for
// none) and revokes the OAuth tokens issued through them, after a password
// change, so that whoever knew the old password is signed out of the hub
// and of the user's servers. A user server may accept a revoked token
// for as long as it caches the hub's reply (five minutes in jupygo).
func (h *Hub) endOtherSessions(ctx context.Context, user, keep string) error {
	sessions, tokens, err := h.store.EndOtherSessions(ctx, user, keep)
	if err != nil {
		h.log.Error("ending the sessions of a user after a password change", "user", user,
			"err", err)
		return err
	}
	h.log.Info("sessions ended after a password change", "user", user,
		"sessions", sessions, "revoked_tokens", tokens)
	return nil
}
