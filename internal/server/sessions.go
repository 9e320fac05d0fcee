package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	pathpkg "path"
	"sort"
	"sync"

	"github.com/google/uuid"

	"github.com/jupygo/jupygo/internal/contents"
	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/kernel"
)

// kernelService is what sessions need from the kernel manager.
type kernelService interface {
	Start(ctx context.Context, opts kernel.StartOptions) (kernel.Model, error)
	Get(id string) (kernel.Model, bool)
	Shutdown(ctx context.Context, id string) error
}

// session ties a document (a notebook, a console) to a kernel.
type session struct {
	ID       string
	Path     string
	Name     string
	Type     string
	KernelID string
}

// sessionModel is a session as /api/sessions returns it.
type sessionModel struct {
	ID       string        `json:"id"`
	Path     string        `json:"path"`
	Name     string        `json:"name"`
	Type     string        `json:"type"`
	Kernel   kernel.Model  `json:"kernel"`
	Notebook *notebookPath `json:"notebook,omitempty"`
}

// notebookPath is the legacy notebook field that older clients read.
type notebookPath struct {
	Path string `json:"path"`
	Name string `json:"name"`
}

// sessionManager keeps sessions in memory, as jupyter_server does by
// default. A session whose kernel is gone is dropped when next seen.
type sessionManager struct {
	kernels  kernelService
	contents *contents.Manager

	mu       sync.Mutex
	sessions map[string]*session
	starting map[string]chan struct{} // path → closed when its session exists
}

func newSessionManager(k kernelService, c *contents.Manager) *sessionManager {
	return &sessionManager{
		kernels:  k,
		contents: c,
		sessions: map[string]*session{},
		starting: map[string]chan struct{}{},
	}
}

// modelLocked returns the model of ss, or false (and forgets ss) when its
// kernel no longer exists.
func (m *sessionManager) modelLocked(ss *session) (sessionModel, bool) {
	km, ok := m.kernels.Get(ss.KernelID)
	if !ok {
		delete(m.sessions, ss.ID)
		return sessionModel{}, false
	}
	model := sessionModel{ID: ss.ID, Path: ss.Path, Name: ss.Name, Type: ss.Type, Kernel: km}
	if ss.Type == "notebook" {
		model.Notebook = &notebookPath{Path: ss.Path, Name: ss.Name}
	}
	return model, true
}

func (m *sessionManager) list() []sessionModel {
	m.mu.Lock()
	defer m.mu.Unlock()
	models := []sessionModel{}
	for _, ss := range m.sessions {
		if model, ok := m.modelLocked(ss); ok {
			models = append(models, model)
		}
	}
	sort.Slice(models, func(i, j int) bool { return models[i].Path < models[j].Path })
	return models
}

func (m *sessionManager) get(id string) (sessionModel, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ss, ok := m.sessions[id]
	if !ok {
		return sessionModel{}, false
	}
	return m.modelLocked(ss)
}

// findByPathLocked returns the live session for path.
func (m *sessionManager) findByPathLocked(path string) (sessionModel, bool) {
	for _, ss := range m.sessions {
		if ss.Path == path {
			if model, ok := m.modelLocked(ss); ok {
				return model, true
			}
		}
	}
	return sessionModel{}, false
}

// createRequest is the body of POST /api/sessions.
type createRequest struct {
	Path     *string       `json:"path"`
	Name     string        `json:"name"`
	Type     *string       `json:"type"`
	Kernel   *kernelRef    `json:"kernel"`
	Notebook *notebookPath `json:"notebook"` // older clients send the path here
}

type kernelRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// create returns the session for the request's path, starting a kernel for
// it unless one exists. Requests for one path made at once get one session.
func (m *sessionManager) create(ctx context.Context, req createRequest) (sessionModel, error) {
	path, typ := *req.Path, *req.Type
	for {
		m.mu.Lock()
		if model, ok := m.findByPathLocked(path); ok {
			m.mu.Unlock()
			return model, nil
		}
		wait, busy := m.starting[path]
		if !busy {
			done := make(chan struct{})
			m.starting[path] = done
			m.mu.Unlock()
			defer func() {
				m.mu.Lock()
				delete(m.starting, path)
				m.mu.Unlock()
				close(done)
			}()
			break
		}
		m.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return sessionModel{}, ctx.Err()
		}
	}

	kernelID, err := m.kernelFor(ctx, req.Kernel, path, req.Name)
	if err != nil {
		return sessionModel{}, err
	}
	ss := &session{ID: uuid.NewString(), Path: path, Name: req.Name, Type: typ, KernelID: kernelID}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[ss.ID] = ss
	model, ok := m.modelLocked(ss)
	if !ok {
		return sessionModel{}, httpapi.Errorf(http.StatusInternalServerError,
			"the kernel of the new session exited at once")
	}
	return model, nil
}

// kernelFor returns the id of the kernel ref names: an existing kernel when it
// gives an id, else a new kernel of its name (the default when empty),
// started for the session at path called sessionName.
func (m *sessionManager) kernelFor(ctx context.Context, ref *kernelRef, path, sessionName string) (string, error) {
	if ref != nil && ref.ID != "" {
		if _, ok := m.kernels.Get(ref.ID); !ok {
			return "", httpapi.Errorf(http.StatusBadRequest, "no such kernel: %s", ref.ID)
		}
		return ref.ID, nil
	}
	name := ""
	if ref != nil {
		name = ref.Name
	}
	// jupyter_server 2 sets JPY_SESSION_NAME from the session name and uses
	// the bare path when there is none. A session without a name is named
	// after its document here instead, so the variable is an absolute path
	// in both cases, as it is for every session JupyterLab 4 creates.
	if sessionName == "" {
		sessionName = pathpkg.Base(path)
	}
	km, err := m.kernels.Start(ctx, kernel.StartOptions{Name: name, Path: path, SessionName: sessionName})
	if errors.Is(err, kernel.ErrSpecNotFound) {
		// 501, not 404, as in jupyter_server: the session path is valid, and
		// the requested kernel is what the server lacks.
		return "", httpapi.Wrap(http.StatusNotImplemented, err, fmt.Sprintf(
			"the %q kernel is not available: pick another kernel or install that one", name))
	}
	if err != nil {
		return "", err
	}
	return km.ID, nil
}

// patchRequest is the body of PATCH /api/sessions/{id}. Absent fields stay.
type patchRequest struct {
	Path   *string    `json:"path"`
	Name   *string    `json:"name"`
	Type   *string    `json:"type"`
	Kernel *kernelRef `json:"kernel"`
}

// update changes a session. When the kernel changes, the old one is shut
// down, as jupyter_server does.
func (m *sessionManager) update(ctx context.Context, id string, req patchRequest) (sessionModel, error) {
	m.mu.Lock()
	ss, ok := m.sessions[id]
	var current session
	if ok {
		current = *ss
	}
	m.mu.Unlock()
	if !ok {
		return sessionModel{}, httpapi.Errorf(http.StatusNotFound, "session not found: %s", id)
	}

	if req.Path != nil {
		current.Path = *req.Path
		if _, err := m.contents.ResolveDir(current.Path); err != nil {
			return sessionModel{}, httpapi.Wrap(http.StatusBadRequest, err,
				"invalid session path "+current.Path)
		}
	}
	if req.Name != nil {
		current.Name = *req.Name
	}
	if req.Type != nil {
		current.Type = *req.Type
	}
	oldKernel := current.KernelID
	if req.Kernel != nil && (req.Kernel.ID != "" || req.Kernel.Name != "") &&
		req.Kernel.ID != oldKernel {
		kid, err := m.kernelFor(ctx, req.Kernel, current.Path, current.Name)
		if err != nil {
			return sessionModel{}, err
		}
		current.KernelID = kid
	}

	m.mu.Lock()
	ss, ok = m.sessions[id]
	if !ok {
		m.mu.Unlock()
		return sessionModel{}, httpapi.Errorf(http.StatusNotFound, "session not found: %s", id)
	}
	*ss = current
	model, ok := m.modelLocked(ss)
	m.mu.Unlock()

	if current.KernelID != oldKernel {
		m.shutdownIfUnused(ctx, oldKernel)
	}
	if !ok {
		return sessionModel{}, httpapi.Errorf(http.StatusNotFound,
			"session %s ended: its kernel is gone", id)
	}
	return model, nil
}

// shutdownIfUnused shuts a kernel down unless another session still uses it.
func (m *sessionManager) shutdownIfUnused(ctx context.Context, kernelID string) {
	m.mu.Lock()
	for _, ss := range m.sessions {
		if ss.KernelID == kernelID {
			m.mu.Unlock()
			return
		}
	}
	m.mu.Unlock()
	err := m.kernels.Shutdown(ctx, kernelID)
	if err != nil && !errors.Is(err, kernel.ErrNotFound) {
		// The kernel manager has logged why; the session change stands.
		return
	}
}

// remove deletes a session and shuts its kernel down.
func (m *sessionManager) remove(ctx context.Context, id string) error {
	m.mu.Lock()
	ss, ok := m.sessions[id]
	if ok {
		delete(m.sessions, id)
	}
	m.mu.Unlock()
	if !ok {
		return httpapi.Errorf(http.StatusNotFound, "session not found: %s", id)
	}
	m.shutdownIfUnused(ctx, ss.KernelID)
	return nil
}

func (s *Server) registerSessions(mux httpapi.Router) {
	h := func(f httpapi.HandlerFunc) http.Handler { return httpapi.Handle(s.log, f) }
	mux.Handle("GET /api/sessions", h(s.handleListSessions))
	mux.Handle("POST /api/sessions", h(s.handleCreateSession))
	mux.Handle("GET /api/sessions/{id}", h(s.handleGetSession))
	mux.Handle("PATCH /api/sessions/{id}", h(s.handlePatchSession))
	mux.Handle("DELETE /api/sessions/{id}", h(s.handleDeleteSession))
}

func (s *Server) handleListSessions(w http.ResponseWriter, r *http.Request) error {
	return httpapi.WriteJSON(w, http.StatusOK, s.sessions.list())
}

func (s *Server) handleGetSession(w http.ResponseWriter, r *http.Request) error {
	model, ok := s.sessions.get(r.PathValue("id"))
	if !ok {
		return httpapi.Errorf(http.StatusNotFound, "session not found: %s", r.PathValue("id"))
	}
	return httpapi.WriteJSON(w, http.StatusOK, model)
}

func (s *Server) handleCreateSession(w http.ResponseWriter, r *http.Request) error {
	var req createRequest
	if err := httpapi.DecodeJSON(w, r, &req, 1<<20, false); err != nil {
		return err
	}
	if req.Path == nil && req.Notebook != nil {
		req.Path = &req.Notebook.Path
	}
	if req.Path == nil {
		return httpapi.Errorf(http.StatusBadRequest, "missing field in JSON data: path")
	}
	if req.Type == nil {
		if req.Notebook == nil {
			return httpapi.Errorf(http.StatusBadRequest, "missing field in JSON data: type")
		}
		notebook := "notebook"
		req.Type = &notebook
	}
	if _, err := s.contents.ResolveDir(*req.Path); err != nil {
		return httpapi.Wrap(http.StatusBadRequest, err, "invalid session path "+*req.Path)
	}
	model, err := s.sessions.create(r.Context(), req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", s.cfg.BaseURL+"api/sessions/"+model.ID)
	return httpapi.WriteJSON(w, http.StatusCreated, model)
}

func (s *Server) handlePatchSession(w http.ResponseWriter, r *http.Request) error {
	var req patchRequest
	if err := httpapi.DecodeJSON(w, r, &req, 1<<20, false); err != nil {
		return err
	}
	model, err := s.sessions.update(r.Context(), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, model)
}

func (s *Server) handleDeleteSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.sessions.remove(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
