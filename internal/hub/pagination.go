package hub

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// paginationMediaType is the Accept value with which a client asks for a
// list in JupyterHub's paginated form.
const paginationMediaType = "application/jupyterhub-pagination+json"

// pageParams reads offset and limit as JupyterHub 3.0's
// get_api_pagination does. limit defaults to api_page_default_limit, or to
// api_page_max_limit for a client that does not accept
// paginationMediaType, so that it is less likely to miss items. A
// negative value counts as its absolute value, and limit is kept within 1
// and api_page_max_limit.
func (h *Hub) pageParams(r *http.Request) (offset, limit int, err error) {
	q := r.URL.Query()
	maxLimit := h.cfg.JupyterHub.APIPageMaxLimit
	limit = h.cfg.JupyterHub.APIPageDefaultLimit
	if !acceptsPagination(r) {
		limit = maxLimit
	}
	invalid := badRequest("Invalid argument type, offset and limit must be integers")
	// Tornado's get_argument reads the last value, without spaces around.
	if v, ok := q["offset"]; ok {
		if offset, err = strconv.Atoi(strings.TrimSpace(v[len(v)-1])); err != nil {
			return 0, 0, invalid
		}
	}
	if v, ok := q["limit"]; ok {
		if limit, err = strconv.Atoi(strings.TrimSpace(v[len(v)-1])); err != nil {
			return 0, 0, invalid
		}
	}
	offset, limit = abs(offset), min(abs(limit), maxLimit)
	return offset, max(limit, 1), nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// writeList writes a page of a collection: items alone, or, when the
// client accepts paginationMediaType, JupyterHub's
// {"items": ..., "_pagination": ...} with the URL of the next page.
// total counts the whole collection.
func writeList(w http.ResponseWriter, r *http.Request, items any, offset, limit, total int) error {
	if !acceptsPagination(r) {
		return writeJSON(w, http.StatusOK, items)
	}
	return writePaginated(w, r, items, offset, limit, total)
}

// writePaginated writes a page of a collection in JupyterHub's
// {"items": ..., "_pagination": ...} form, whatever the Accept header, as
// JupyterHub 5.0's sharing endpoints do.
func writePaginated(w http.ResponseWriter, r *http.Request, items any, offset, limit, total int) error {
	var next any
	if nextOffset := offset + limit; nextOffset < total {
		next = map[string]any{"offset": nextOffset, "limit": limit,
			"url": nextPageURL(r, nextOffset, limit)}
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"items": items,
		"_pagination": map[string]any{"offset": offset, "limit": limit, "total": total,
			"next": next},
	})
}

// acceptsPagination reports whether one of the comma-separated values of
// the Accept header is paginationMediaType, as JupyterHub 3.0 checks it.
func acceptsPagination(r *http.Request) bool {
	for _, v := range strings.Split(r.Header.Get("Accept"), ",") {
		if strings.EqualFold(strings.TrimSpace(v), paginationMediaType) {
			return true
		}
	}
	return false
}

// nextPageURL returns the absolute URL of the request with offset and limit
// replaced. JupyterHub builds it from the request's full URL, and clients
// such as jupyterhub-idle-culler fetch it as it is. The scheme and host are
// those with which the client reached the hub: https when the connection
// is TLS, and the Host header, else the listener's address.
func nextPageURL(r *http.Request, offset, limit int) string {
	q := r.URL.Query()
	q.Set("offset", strconv.Itoa(offset))
	q.Set("limit", strconv.Itoa(limit))
	u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath,
		RawQuery: q.Encode()}
	if isHTTPS(r) {
		u.Scheme = "https"
	}
	if u.Host == "" {
		if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			u.Host = addr.String()
		}
	}
	return u.String()
}
