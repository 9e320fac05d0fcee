package contents

import (
	"errors"
	"net/http"
	"strings"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// filesCSP confines a served HTML or SVG file to an opaque origin, so its
// scripts cannot act as the user on the server.
const filesCSP = "frame-ancestors 'self'; sandbox allow-scripts"

// serveFile serves the bytes of a file under /files/, as jupyter_server's
// AuthenticatedFileHandler does, with Range and conditional requests.
func (m *Manager) serveFile(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", filesCSP)

	p, err := m.cleanPath(r.PathValue("path"))
	if err != nil {
		return pathError(r.PathValue("path"), err)
	}
	if !m.visible(p) {
		return notFound(p)
	}
	f, fi, err := m.openRegular(m.name(p))
	if errors.Is(err, errNotRegular) {
		return httpapi.Errorf(http.StatusForbidden, "%s is not a file", quote(p))
	}
	if err != nil {
		return fsError("reading", p, err)
	}
	defer f.Close()

	_, name := splitPath(p)
	if strings.HasSuffix(name, ".ipynb") || r.URL.Query().Get("download") != "" {
		h.Set("Content-Disposition", ContentDisposition(name))
	}
	h.Set("Content-Type", filesContentType(name))
	if !r.URL.Query().Has("v") {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, "", fi.ModTime(), f)
	return nil
}

// filesContentType returns the Content-Type of a served file, chosen by
// name as jupyter_server and Tornado choose it.
func filesContentType(name string) string {
	if strings.HasSuffix(name, ".ipynb") {
		return "application/x-ipynb+json"
	}
	mimetype, encoding := guessType(name)
	switch {
	case encoding == "gzip":
		return "application/gzip"
	case encoding != "":
		return "application/octet-stream"
	case mimetype == "text/plain":
		return "text/plain; charset=UTF-8"
	case mimetype != "":
		return mimetype
	}
	return "application/octet-stream"
}

// ContentDisposition returns an attachment header for name: the RFC 5987
// filename* form that jupyter_server sends, and before it a plain filename
// for clients without RFC 5987 support when name is printable ASCII.
func ContentDisposition(name string) string {
	ext := "filename*=utf-8''" + urlEscape(name)
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return "attachment; " + ext
		}
	}
	return `attachment; filename="` + name + `"; ` + ext
}
