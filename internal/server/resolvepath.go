package server

import (
	"net/http"
	"path"
	"path/filepath"
	"strings"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// resolvedPath is the body of GET /api/resolvePath: where a path that a user
// or a kernel wrote (in a traceback, a link in a notebook) names a file this
// server can open.
type resolvedPath struct {
	Resolved   []pathScope  `json:"resolved"`
	Unresolved []scopeError `json:"unresolved,omitempty"`
}

type pathScope struct {
	Scope string `json:"scope"`
	Path  string `json:"path"`
}

type scopeError struct {
	Scope  string `json:"scope"`
	Reason string `json:"reason"`
}

// handleResolvePath serves GET /api/resolvePath?path=P[&kernel=ID]. In the
// "server" scope P is taken relative to the root folder, or as an absolute
// path inside it. In the "kernel" scope a relative P is taken from the folder
// of the notebook the kernel runs for. Only paths of existing files and
// folders that the contents API serves are returned. JupyterLab falls back to
// its own guesses when the list is empty.
func (s *Server) handleResolvePath(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p := q.Get("path")
	if p == "" {
		return httpapi.Errorf(http.StatusBadRequest, "the path query parameter is required")
	}
	out := resolvedPath{Resolved: []pathScope{}}
	if api, ok := s.apiPath(p, ""); ok {
		out.Resolved = append(out.Resolved, pathScope{Scope: "server", Path: api})
	}
	if id := q.Get("kernel"); id != "" {
		dir, found := s.kernelDir(id)
		switch {
		case !found:
			out.Unresolved = append(out.Unresolved, scopeError{Scope: "kernel",
				Reason: "no session has the kernel " + id})
		case !filepath.IsAbs(p):
			if api, ok := s.apiPath(p, dir); ok && (len(out.Resolved) == 0 || out.Resolved[0].Path != api) {
				out.Resolved = append(out.Resolved, pathScope{Scope: "kernel", Path: api})
			}
		}
	}
	return httpapi.WriteJSON(w, http.StatusOK, out)
}

// apiPath returns the contents API path that p names, relative to the API
// folder dir when p is relative, and whether the contents API serves it.
func (s *Server) apiPath(p, dir string) (string, bool) {
	var api string
	if filepath.IsAbs(p) {
		rel, err := filepath.Rel(s.contents.Root(), filepath.Clean(p))
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return "", false
		}
		api = filepath.ToSlash(rel)
	} else {
		api = path.Join(dir, filepath.ToSlash(p))
	}
	if api == "." {
		api = ""
	}
	if strings.HasPrefix(api, "../") || api == ".." || !s.contents.Exists(api) {
		return "", false
	}
	return api, true
}

// kernelDir returns the API folder of the notebook whose session runs the
// kernel id.
func (s *Server) kernelDir(id string) (string, bool) {
	for _, ss := range s.sessions.list() {
		if ss.Kernel.ID == id {
			dir := path.Dir(ss.Path)
			if dir == "." {
				dir = ""
			}
			return dir, true
		}
	}
	return "", false
}
