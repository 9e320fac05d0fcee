// Package webpage holds what the HTML pages of the hub and of the server
// share: writing a page, and making a value safe to put in a URL attribute
// or a script element.
//
// The pages are built with package markup, which escapes every text and
// attribute value, instead of html/template. html/template executes
// templates through reflection on methods by name, and a program that can
// do that keeps every exported method of every type it converts to an
// interface: the executable grows by 2 MB, and each process maps 1.4 MiB
// more of it at start (docs/design.md).
package webpage

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	g "github.com/jupygo/jupygo/internal/markup"
)

// Write renders page and sends it with status. The page is rendered into
// memory first, so a failure sends a plain error instead of half a page.
// The response is never cached. Headers set on w beforehand are kept.
func Write(w http.ResponseWriter, status int, page g.Node) error {
	var b bytes.Buffer
	if err := page.Render(&b); err != nil {
		http.Error(w, "500: the page could not be rendered", http.StatusInternalServerError)
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	_, err := w.Write(b.Bytes())
	return err
}

// unsafeURL replaces a URL that URL refuses. It goes nowhere when followed.
const unsafeURL = "about:invalid#refused"

// URL returns u when a browser that follows it stays on the web: a
// relative URL, or one with the http, https or mailto scheme. Any other
// URL, such as javascript: or data:, becomes a URL that goes nowhere.
// Browsers drop tabs and newlines from URLs before they read the scheme,
// so those are refused too.
func URL(u string) string {
	if strings.ContainsAny(u, "\t\r\n") {
		return unsafeURL
	}
	scheme, _, found := strings.Cut(u, ":")
	if !found || strings.ContainsAny(scheme, "/?#") {
		return u // relative: a colon after the first / ? or # is not a scheme
	}
	switch strings.ToLower(scheme) {
	case "http", "https", "mailto":
		return u
	}
	return unsafeURL
}

// WithQuery returns base followed by a query of the given names and values
// in turn, each escaped: WithQuery("/login", "next", "/a b") is
// "/login?next=%2Fa+b".
func WithQuery(base string, pairs ...string) string {
	q := make([]string, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		q = append(q, url.QueryEscape(pairs[i])+"="+url.QueryEscape(pairs[i+1]))
	}
	if len(q) == 0 {
		return base
	}
	return base + "?" + strings.Join(q, "&")
}

// JSONScript returns a script element of type application/json with id that
// holds v as JSON. encoding/json writes <, > and & as \u escapes, so the
// text can never close the element.
func JSONScript(id string, v any) (g.Node, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return g.El("script", g.Attr("id", id), g.Attr("type", "application/json"), g.Raw(string(b))), nil
}
