package terminal

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// Register adds the terminal endpoints to mux. The patterns have no base
// URL: the server strips it, authenticates every request and checks XSRF
// tokens and the Origin of WebSocket upgrades before the mux, so the
// handlers do no authentication.
func (m *Manager) Register(mux httpapi.Router) {
	h := func(f httpapi.HandlerFunc) http.Handler { return httpapi.Handle(m.log, f) }
	mux.Handle("GET /api/terminals", h(m.handleList))
	mux.Handle("POST /api/terminals", h(m.handleCreate))
	mux.Handle("GET /api/terminals/{name}", h(m.handleGet))
	mux.Handle("DELETE /api/terminals/{name}", h(m.handleDelete))
	mux.HandleFunc("GET /terminals/websocket/{name}", m.serveWebSocket)
}

func notFound(name string) error {
	return httpapi.Errorf(http.StatusNotFound, "Terminal not found: %s", name)
}

func (m *Manager) handleList(w http.ResponseWriter, r *http.Request) error {
	return httpapi.WriteJSON(w, http.StatusOK, m.List())
}

// createRequest is the optional body of POST /api/terminals.
type createRequest struct {
	Name *string `json:"name"`
	Cwd  *string `json:"cwd"`
}

// handleCreate starts a terminal. Its status is 200, not 201, as in
// jupyter_server, because JupyterLab accepts no other.
func (m *Manager) handleCreate(w http.ResponseWriter, r *http.Request) error {
	var body createRequest
	if err := httpapi.DecodeJSON(w, r, &body, 1<<20, true); err != nil {
		return err
	}
	var opts CreateOptions
	if body.Name != nil {
		opts.Name = *body.Name
	}
	if body.Cwd != nil {
		opts.Cwd = *body.Cwd
	}
	model, err := m.Create(opts)
	switch {
	case errors.Is(err, ErrInvalidName):
		return httpapi.Wrap(http.StatusBadRequest, err, err.Error())
	case errors.Is(err, ErrInvalidCwd):
		return httpapi.Wrap(http.StatusBadRequest, err,
			"Invalid terminal folder "+strconv.Quote(opts.Cwd)+": it must be inside the root folder")
	case errors.Is(err, ErrExists):
		return httpapi.Errorf(http.StatusConflict, "Terminal %s is already running", opts.Name)
	case errors.Is(err, ErrClosed):
		return httpapi.Errorf(http.StatusServiceUnavailable, "Server is shutting down")
	case errors.Is(err, ErrUnsupported):
		return httpapi.Errorf(http.StatusNotFound, "Terminals are not available on this system")
	case err != nil:
		return httpapi.Wrap(http.StatusInternalServerError, err, "Terminal start failed")
	}
	return httpapi.WriteJSON(w, http.StatusOK, model)
}

func (m *Manager) handleGet(w http.ResponseWriter, r *http.Request) error {
	model, ok := m.Get(r.PathValue("name"))
	if !ok {
		return notFound(r.PathValue("name"))
	}
	return httpapi.WriteJSON(w, http.StatusOK, model)
}

func (m *Manager) handleDelete(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := m.Terminate(name); err != nil {
		return notFound(name)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
