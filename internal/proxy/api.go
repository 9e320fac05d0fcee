package proxy

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jupygo/jupygo/internal/lazy"
)

// APIPrefix is the path of configurable-http-proxy's REST API: the routing
// table, with a routespec after it for a single route.
const APIPrefix = "/api/routes"

// maxAPIBody limits the JSON body of a POST to the REST API.
const maxAPIBody = 1 << 20

// APIOptions configures an API.
type APIOptions struct {
	// Token is the secret clients send as "Authorization: token <Token>".
	// Empty leaves the API open, as configurable-http-proxy does without
	// CONFIGPROXY_AUTH_TOKEN.
	Token string
	// Logger receives a line per route added or removed and per rejected
	// request. Nil discards them.
	Logger *slog.Logger
}

// API is an http.Handler serving configurable-http-proxy's REST API over a
// Table:
//
//	GET    /api/routes[?inactive_since=T]  200, {spec: route, ...}
//	GET    /api/routes/{spec}              200 route, or 404
//	POST   /api/routes/{spec}              201; body {"target": URL, ...}
//	DELETE /api/routes/{spec}              204, or 404
//
// A route is encoded as Route.MarshalJSON does. A wrong or missing token
// gets 403, another method 405, another path 404, a bad body or
// timestamp 400 with a text message. Unlike configurable-http-proxy, a
// POST whose target is not an absolute http or https URL gets 400 rather
// than being stored and failing each request later, and the token is
// checked before the body is read. API is safe for concurrent use.
type API struct {
	table *Table
	token string
	log   *slog.Logger
}

// NewAPI returns the REST API of table.
func NewAPI(table *Table, opts APIOptions) *API {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &API{table: table, token: opts.Token, log: opts.Logger}
}

// ServeHTTP serves one REST API request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), APIPrefix)
	if !ok || (rest != "" && rest[0] != '/') {
		a.fail(w, r, http.StatusNotFound, "")
		return
	}
	spec, err := url.PathUnescape(rest)
	if err != nil {
		a.fail(w, r, http.StatusBadRequest, "Invalid route: "+err.Error())
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodPost, http.MethodDelete:
	default:
		a.fail(w, r, http.StatusMethodNotAllowed, "Method not supported")
		return
	}
	if !a.authorized(r) {
		a.log.Debug("api request rejected", "method", r.Method, "path", r.URL.Path)
		w.WriteHeader(http.StatusForbidden)
		return
	}

	switch {
	case r.Method == http.MethodPost:
		a.add(w, r, spec)
	case r.Method == http.MethodDelete:
		a.remove(w, spec)
	case spec != "" && spec != "/":
		a.get(w, r, spec)
	default:
		a.list(w, r)
	}
}

var tokenPatternValue lazy.Value[*regexp.Regexp]

// tokenPattern returns a regular expression, compiled on first use, that finds
// the token in an Authorization header, where configurable-http-proxy looks for
// it.
func tokenPattern() *regexp.Regexp {
	return tokenPatternValue.Get(func() *regexp.Regexp {
		return regexp.MustCompile(`token\s+(\S+)`)
	})
}

func (a *API) authorized(r *http.Request) bool {
	if a.token == "" {
		return true
	}
	m := tokenPattern().FindStringSubmatch(r.Header.Get("Authorization"))
	return m != nil && subtle.ConstantTimeCompare([]byte(m[1]), []byte(a.token)) == 1
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	param := q.Get("inactiveSince")
	if param == "" {
		param = q.Get("inactive_since")
	}
	var since time.Time
	if param != "" {
		var err error
		if since, err = ParseActivityTime(param); err != nil {
			a.fail(w, r, http.StatusBadRequest,
				fmt.Sprintf("Invalid datestamp '%s' must be ISO8601.", param))
			return
		}
	}
	routes := a.table.List(since)
	out := make(map[string]Route, len(routes))
	for _, rt := range routes {
		out[rt.Spec] = rt
	}
	a.writeJSON(w, r, http.StatusOK, out)
}

func (a *API) get(w http.ResponseWriter, r *http.Request, spec string) {
	rt, ok := a.table.Get(spec)
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	a.writeJSON(w, r, http.StatusOK, rt)
}

func (a *API) add(w http.ResponseWriter, r *http.Request, spec string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err != nil {
		a.fail(w, r, http.StatusBadRequest, "Body not valid JSON: "+err.Error())
		return
	}
	var data any
	if err := json.Unmarshal(body, &data); err != nil {
		a.fail(w, r, http.StatusBadRequest, "Body not valid JSON: "+err.Error())
		return
	}
	m, _ := data.(map[string]any)
	target, ok := m["target"].(string)
	if !ok {
		a.fail(w, r, http.StatusBadRequest, "Must specify 'target' as string")
		return
	}
	if spec == "" {
		spec = "/"
	}
	if err := a.table.Add(spec, target, m); err != nil {
		a.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	a.log.Info("route added", "route", CleanSpec(spec), "target", target)
	w.WriteHeader(http.StatusCreated)
}

func (a *API) remove(w http.ResponseWriter, spec string) {
	if !a.table.Remove(spec) {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	a.log.Info("route removed", "route", CleanSpec(spec))
	w.WriteHeader(http.StatusNoContent)
}

// activityLayouts are the forms of ISO 8601 that ParseActivityTime
// accepts, most specific first.
var activityLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
}

// ParseActivityTime parses an inactive_since value: an ISO 8601 date, or a
// date and time with optional fractional seconds and zone. A time without
// a zone is taken as UTC.
func ParseActivityTime(s string) (time.Time, error) {
	for _, layout := range activityLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not an ISO 8601 time")
}

func (a *API) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		a.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data)
}

// fail writes status with msg as a plain text body, or the status text
// when msg is empty, as configurable-http-proxy does, and logs it.
func (a *API) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if msg == "" {
		msg = http.StatusText(status)
	}
	a.log.Debug("api request failed", "method", r.Method, "path", r.URL.Path,
		"status", status, "err", msg)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, msg)
}
