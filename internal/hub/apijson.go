package hub

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/store"
)

// apiFunc is a REST API handler. It returns an *httpapi.Error for the
// client, or any other error for a 500.
type apiFunc func(w http.ResponseWriter, r *http.Request, id *identity) error

// api adapts f: it authenticates the request, checks the XSRF token of
// cookie-authenticated unsafe requests and that their user has no
// temporary password, and writes a returned error as
// JupyterHub does, {"status": N, "message": "..."}.
func (h *Hub) api(f apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := h.identify(r)
		if errors.Is(err, errNoIdentity) {
			err = httpapi.Errorf(http.StatusForbidden, "Missing or invalid credentials.")
		} else if err == nil && id.token == nil && !safeMethod(r.Method) &&
			!h.sessions.checkXSRF(r, xsrfFromRequest(r)) {
			err = httpapi.Errorf(http.StatusForbidden,
				"'_xsrf' argument missing or incorrect: send the X-XSRFToken header")
		}
		if err == nil {
			err = h.checkPasswordChanged(id)
		}
		if err == nil {
			err = f(w, r, id)
		}
		if err != nil {
			h.writeAPIError(w, r, err)
		}
	})
}

// writeAPIError writes err as the JSON body of an error response and logs
// its cause once.
func (h *Hub) writeAPIError(w http.ResponseWriter, r *http.Request, err error) {
	var apiErr *httpapi.Error
	if !errors.As(err, &apiErr) {
		apiErr = &httpapi.Error{Status: http.StatusInternalServerError,
			Message: "Internal server error", Err: err}
	}
	if apiErr.Status >= 500 {
		h.log.Error("request failed", "method", r.Method, "path", r.URL.Path,
			"status", apiErr.Status, "err", apiErr.Err)
	} else {
		h.log.Debug("request rejected", "method", r.Method, "path", r.URL.Path,
			"status", apiErr.Status, "message", apiErr.Message, "err", apiErr.Err)
	}
	writeJSON(w, apiErr.Status, map[string]any{"status": apiErr.Status, "message": apiErr.Message})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	return httpapi.WriteJSON(w, status, v)
}

// decodeBody decodes a JSON request body of at most 1 MiB into v; an empty
// body leaves v as it is.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	return httpapi.DecodeJSON(w, r, v, 1<<20, true)
}

func safeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// xsrfFromRequest returns the XSRF token of a request: the X-XSRFToken
// header, else the _xsrf form or query value.
func xsrfFromRequest(r *http.Request) string {
	if v := r.Header.Get("X-XSRFToken"); v != "" {
		return v
	}
	if v := r.URL.Query().Get("_xsrf"); v != "" {
		return v
	}
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/x-www-form-urlencoded") ||
		strings.HasPrefix(ct, "multipart/form-data") {
		return r.PostFormValue("_xsrf")
	}
	return ""
}

// isoTime formats t as JupyterHub does, or returns nil for the zero time.
func isoTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// forbidden returns the 403 of JupyterHub 3.0's needs_scope for a caller
// that holds none of the scopes, each of which would allow the request.
func forbidden(scopes ...string) error {
	return httpapi.Errorf(http.StatusForbidden,
		"Action is not authorized with current scopes; requires any of [%s]",
		strings.Join(scopes, ", "))
}

// deny returns the error for a caller whose scopes do not allow a request
// about one user, server, group or service. As in JupyterHub 3.0, a
// caller that holds one of the scopes with a filter that does not match
// gets a 404, so that the reply does not tell whether the resource exists.
// A caller that holds none of them gets forbidden's 403.
func deny(held scopeSet, scopes ...string) error {
	for _, s := range scopes {
		if held.hasAny(s) {
			return notFound("No access to resources or resources not found")
		}
	}
	return forbidden(scopes...)
}

func notFound(format string, args ...any) error {
	return httpapi.Errorf(http.StatusNotFound, format, args...)
}

func badRequest(format string, args ...any) error {
	return httpapi.Errorf(http.StatusBadRequest, format, args...)
}

// serverURLPath returns the public path of a server, such as /user/alice/
// or /user/alice/work/.
func (h *Hub) serverURLPath(user, server string) string {
	p := h.base + "user/" + escapePath(user) + "/"
	if server != "" {
		p += escapePath(server) + "/"
	}
	return p
}

// serverModel is JupyterHub's server model. withState adds the spawner's
// state, which needs admin:server_state.
func (h *Hub) serverModel(sv store.Server, withState bool) map[string]any {
	var options any = map[string]any{}
	if len(sv.UserOptions) > 0 {
		options = json.RawMessage(sv.UserOptions)
	}
	m := map[string]any{
		"name":          sv.Name,
		"last_activity": isoTime(sv.LastActivity),
		"started":       isoTime(sv.Started),
		"pending":       nullString(sv.Pending),
		"ready":         sv.Ready(),
		"stopped":       !sv.Active(),
		"url":           h.serverURLPath(sv.User, sv.Name),
		"user_options":  options,
		"progress_url":  h.progressURL(sv.User, sv.Name),
	}
	if withState {
		var state any = map[string]any{}
		if len(sv.State) > 0 {
			state = json.RawMessage(sv.State)
		}
		m["state"] = state
	}
	return m
}

// userModel is JupyterHub's user model as the caller's scopes let them see
// it: name and admin with read:users:name, the rest with read:users (or its
// parts), servers with read:servers.
func (h *Hub) userModel(u store.User, servers []store.Server, scopes scopeSet,
	includeStopped bool) map[string]any {
	t := userTarget(u.Name, u.Groups)
	m := map[string]any{"kind": "user", "name": u.Name, "admin": u.Admin}
	if scopes.allows("read:users", t) {
		roles := append([]string{"user"}, u.Roles...)
		if u.Admin {
			roles = append(roles, "admin")
		}
		m["roles"] = roles
		m["created"] = isoTime(u.Created)
		var def *store.Server
		for i := range servers {
			if servers[i].Name == "" {
				def = &servers[i]
			}
		}
		m["server"], m["pending"] = nil, nil
		if def != nil {
			if def.Ready() {
				m["server"] = h.serverURLPath(u.Name, "")
			}
			m["pending"] = nullString(def.Pending)
		}
	}
	if scopes.allows("read:users:groups", t) {
		m["groups"] = nonNil(u.Groups)
	}
	if scopes.allows("read:users:activity", t) {
		m["last_activity"] = isoTime(u.LastActivity)
	}
	if scopes.allows("read:servers", t) {
		models := map[string]any{}
		withState := scopes.allows("admin:server_state", t)
		for _, sv := range servers {
			if sv.Active() || includeStopped {
				models[sv.Name] = h.serverModel(sv, withState)
			}
		}
		m["servers"] = models
	}
	return m
}

// tokenModel is JupyterHub's token model.
func tokenModel(t store.Token) map[string]any {
	m := map[string]any{
		"id":            t.ID,
		"kind":          "api_token",
		"roles":         []string{},
		"scopes":        nonNil(t.Scopes),
		"note":          t.Note,
		"created":       isoTime(t.Created),
		"last_activity": isoTime(t.LastActivity),
		"expires_at":    isoTime(t.ExpiresAt),
		"session_id":    nullString(t.SessionID),
		"oauth_client":  nullString(t.OAuthClientID),
	}
	if t.Owner.User != "" {
		m["user"] = t.Owner.User
	} else {
		m["service"] = t.Owner.Service
	}
	return m
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
