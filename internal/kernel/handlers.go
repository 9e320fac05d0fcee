package kernel

import (
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// Register adds the kernel and kernel spec endpoints to mux. The patterns
// have no base URL: the server strips it, authenticates every request and
// checks the Origin of WebSocket upgrades before the mux, so the handlers do
// no authentication.
func (m *Manager) Register(mux httpapi.Router) {
	h := func(f httpapi.HandlerFunc) http.Handler { return httpapi.Handle(m.log, f) }
	mux.Handle("GET /api/kernelspecs", h(m.handleListSpecs))
	mux.Handle("GET /api/kernelspecs/{name}", h(m.handleGetSpec))
	mux.Handle("GET /kernelspecs/{name}/{resource...}", h(m.handleSpecResource))
	mux.Handle("GET /api/kernels", h(m.handleListKernels))
	mux.Handle("POST /api/kernels", h(m.handleStartKernel))
	mux.Handle("GET /api/kernels/{id}", h(m.handleGetKernel))
	mux.Handle("DELETE /api/kernels/{id}", h(m.handleDeleteKernel))
	mux.Handle("POST /api/kernels/{id}/interrupt", h(m.handleInterrupt))
	mux.Handle("POST /api/kernels/{id}/restart", h(m.handleRestart))
	mux.HandleFunc("GET /api/kernels/{id}/channels", m.serveChannels)
}

// specModel is the REST model of a kernel spec.
type specModel struct {
	Name      string            `json:"name"`
	Spec      map[string]any    `json:"spec"`
	Resources map[string]string `json:"resources"`
}

func (m *Manager) specModel(s *Spec) specModel {
	return specModel{Name: s.Name, Spec: s.specJSON(), Resources: s.resources(m.baseURL)}
}

func (m *Manager) handleListSpecs(w http.ResponseWriter, r *http.Request) error {
	specs := m.Specs()
	models := make(map[string]specModel, len(specs))
	for name, s := range specs {
		models[name] = m.specModel(s)
	}
	return httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"default":     defaultName(specs),
		"kernelspecs": models,
	})
}

func (m *Manager) handleGetSpec(w http.ResponseWriter, r *http.Request) error {
	s, err := m.Spec(r.PathValue("name"))
	if err != nil {
		return specNotFound(r.PathValue("name"))
	}
	return httpapi.WriteJSON(w, http.StatusOK, m.specModel(s))
}

func specNotFound(name string) error {
	return httpapi.Errorf(http.StatusNotFound,
		"Kernel spec %q not found; GET /api/kernelspecs lists the installed ones", name)
}

// handleSpecResource serves a file of a spec's folder. The file is opened
// through an os.Root, so neither ".." nor a symbolic link leads outside it.
func (m *Manager) handleSpecResource(w http.ResponseWriter, r *http.Request) error {
	name, resource := r.PathValue("name"), r.PathValue("resource")
	s, err := m.Spec(name)
	if err != nil || name == "" {
		return specNotFound(name)
	}
	notFound := httpapi.Errorf(http.StatusNotFound, "Kernel spec %s has no resource %q", s.Name, resource)
	if s.ResourceDir == "" || resource == "" {
		return notFound
	}
	root, err := os.OpenRoot(s.ResourceDir)
	if err != nil {
		return notFound
	}
	defer root.Close()
	f, err := root.Open(resource)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, os.ErrPermission) {
			return notFound
		}
		return httpapi.Wrap(http.StatusNotFound, err, notFound.Message)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return notFound
	}
	if strings.HasSuffix(strings.ToLower(resource), ".png") {
		w.Header().Set("Cache-Control", "max-age=2592000") // 30 days, as jupyter_server
	}
	http.ServeContent(w, r, st.Name(), st.ModTime(), f)
	return nil
}

func (m *Manager) handleListKernels(w http.ResponseWriter, r *http.Request) error {
	return httpapi.WriteJSON(w, http.StatusOK, m.List())
}

// startRequest is the body of POST /api/kernels.
type startRequest struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

func (m *Manager) handleStartKernel(w http.ResponseWriter, r *http.Request) error {
	var body startRequest
	if err := httpapi.DecodeJSON(w, r, &body, 1<<20, true); err != nil {
		return err
	}
	model, err := m.Start(r.Context(), StartOptions{Name: body.Name, Path: body.Path})
	switch {
	case errors.Is(err, ErrSpecNotFound):
		name := body.Name
		if name == "" {
			name = m.DefaultKernelName()
		}
		return specNotFound(name)
	case errors.Is(err, errInvalidPath):
		return httpapi.Wrap(http.StatusBadRequest, err, "Invalid kernel path "+strconv.Quote(body.Path))
	case errors.Is(err, ErrClosed):
		return httpapi.Errorf(http.StatusServiceUnavailable, "Server is shutting down")
	case err != nil:
		return httpapi.Wrap(http.StatusInternalServerError, err, "Kernel start failed: "+err.Error())
	}
	w.Header().Set("Location", m.kernelURL(model.ID))
	return httpapi.WriteJSON(w, http.StatusCreated, model)
}

func (m *Manager) kernelURL(id string) string {
	return m.baseURL + "api/kernels/" + url.PathEscape(id)
}

func kernelNotFound(id string) error {
	return httpapi.Errorf(http.StatusNotFound, "Kernel does not exist: %s", id)
}

func (m *Manager) handleGetKernel(w http.ResponseWriter, r *http.Request) error {
	model, ok := m.Get(r.PathValue("id"))
	if !ok {
		return kernelNotFound(r.PathValue("id"))
	}
	return httpapi.WriteJSON(w, http.StatusOK, model)
}

func (m *Manager) handleDeleteKernel(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := m.Shutdown(r.Context(), id); err != nil {
		return kernelNotFound(id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (m *Manager) handleInterrupt(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	err := m.Interrupt(id)
	switch {
	case errors.Is(err, ErrNotFound):
		return kernelNotFound(id)
	case errors.Is(err, errNotRunning):
		return httpapi.Errorf(http.StatusConflict,
			"Kernel %s is not running; restart it before interrupting", id)
	case err != nil:
		return httpapi.Wrap(http.StatusInternalServerError, err, "Kernel interrupt failed")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (m *Manager) handleRestart(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	model, err := m.Restart(r.Context(), id)
	switch {
	case errors.Is(err, ErrNotFound):
		return kernelNotFound(id)
	case err != nil:
		return httpapi.Wrap(http.StatusInternalServerError, err, "Kernel restart failed: "+err.Error())
	}
	w.Header().Set("Location", m.kernelURL(id))
	return httpapi.WriteJSON(w, http.StatusOK, model)
}
