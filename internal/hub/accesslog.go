package hub

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/jupygo/jupygo/internal/proxy"
)

// statusWriter records the status of a response. Unwrap lets
// http.ResponseController reach the connection, which the proxy hijacks for
// WebSockets and flushes for event streams.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequest writes the access log line of a request: method, path,
// status and duration, never the query, which can carry a token or an
// OAuth code. Hub requests are logged at Info, or Warn for 5xx, as
// JupyterHub logs them; proxied requests at Debug, since user servers log
// their own.
func (h *Hub) logRequest(r *http.Request, status int, began time.Time, proxied bool) {
	if status == 0 {
		status = http.StatusOK
	}
	level := accessLevel(status, proxied)
	if !h.log.Enabled(r.Context(), level) {
		// Building the attributes would cost more than forwarding the
		// request on the proxy's fast path.
		return
	}
	h.log.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path,
		"status", status, "duration", time.Since(began), "remote", clientAddr(r))
}

// logForwarded writes the access log line of a request that the proxy's
// fast path forwarded, as logRequest does for proxied requests.
func (h *Hub) logForwarded(e proxy.AccessLogEntry) {
	ctx := context.Background()
	level := accessLevel(e.Status, true)
	if !h.log.Enabled(ctx, level) {
		return
	}
	h.log.Log(ctx, level, "request", "method", e.Method, "path", e.Path,
		"status", e.Status, "duration", e.Duration, "remote", e.RemoteAddr)
}

// accessLevel returns the level of an access log line: Warn for 5xx, Debug
// for other proxied requests, Info for the rest.
func accessLevel(status int, proxied bool) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelWarn
	case proxied:
		return slog.LevelDebug
	}
	return slog.LevelInfo
}
