package contents

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// Register adds the contents API, the file server and folder archives to
// mux, with patterns that start at the server's root
// ("/api/contents/{path...}", "/files/{path...}",
// "/directories/{path...}"). The caller strips its base URL, authenticates the
// request and checks XSRF before mux receives it.
//
// The API path is the {path...} wildcard, decoded once, so
// /api/contents/A%2520B.ipynb names the file "A%20B.ipynb". Paths ending in
// /checkpoints, /checkpoints/{id} and /trust address the checkpoint and
// trust endpoints for the methods those endpoints have, as jupyter_server
// routes them; other methods reach the contents endpoint.
func (m *Manager) Register(mux httpapi.Router) {
	h := httpapi.Handle(m.log, m.serveAPI)
	for _, method := range []string{"GET", "PUT", "POST", "PATCH", "DELETE"} {
		mux.Handle(method+" /api/contents", h)
		mux.Handle(method+" /api/contents/{path...}", h)
	}
	mux.Handle("GET /files/{path...}", httpapi.HandlePage(m.log, m.serveFile))
	mux.Handle("GET /directories/{path...}", httpapi.HandlePage(m.log, m.serveArchive))
}

func (m *Manager) serveAPI(w http.ResponseWriter, r *http.Request) error {
	p := r.PathValue("path")
	method := r.Method
	if base, ok := cutSegment(p, "checkpoints"); ok && (method == "GET" || method == "POST") {
		return m.serveCheckpoints(w, r, base)
	}
	if base, id, ok := cutCheckpointID(p); ok && (method == "POST" || method == "DELETE") {
		return m.serveCheckpoint(w, r, base, id)
	}
	if base, ok := cutSegment(p, "trust"); ok && method == "POST" {
		if err := m.Trust(base); err != nil {
			return err
		}
		w.WriteHeader(http.StatusCreated)
		return nil
	}
	switch method {
	case "GET", "HEAD":
		return m.serveGet(w, r, p)
	case "PUT":
		return m.servePut(w, r, p)
	case "POST":
		return m.servePost(w, r, p)
	case "PATCH":
		return m.servePatch(w, r, p)
	case "DELETE":
		return m.serveDelete(w, r, p)
	}
	return httpapi.Errorf(http.StatusMethodNotAllowed, "method %s is not allowed", method)
}

// cutSegment removes the last segment of p when it is seg.
func cutSegment(p, seg string) (string, bool) {
	if p == seg {
		return "", true
	}
	return strings.CutSuffix(p, "/"+seg)
}

// cutCheckpointID splits ".../checkpoints/{id}".
func cutCheckpointID(p string) (base, id string, ok bool) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", "", false
	}
	id = p[i+1:]
	base, ok = cutSegment(p[:i], "checkpoints")
	if !ok || !validCheckpointID(id) {
		return "", "", false
	}
	return base, id, true
}

// queryFlag reads a query parameter that must be "0" or "1".
func queryFlag(q url.Values, name, def, message string) (bool, error) {
	v := def
	if vs := q[name]; len(vs) > 0 {
		v = vs[len(vs)-1]
	}
	switch v {
	case "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, httpapi.Errorf(http.StatusBadRequest, message, quote(v))
}

func (m *Manager) serveGet(w http.ResponseWriter, r *http.Request, p string) error {
	q := r.URL.Query()
	opt := GetOptions{Type: q.Get("type"), Format: q.Get("format")}
	switch opt.Type {
	case "", "directory", "file", "notebook":
	default:
		opt.Type = "file"
	}
	switch opt.Format {
	case "", "text", "base64":
	default:
		return httpapi.Errorf(http.StatusBadRequest, "Format %s is invalid", quote(opt.Format))
	}
	var err error
	opt.Content, err = queryFlag(q, "content", "1", "Content %s is invalid")
	if err != nil {
		return err
	}
	opt.Hash, err = queryFlag(q, "hash", "0", "Hash argument %s is invalid. It must be '0' or '1'.")
	if err != nil {
		return err
	}
	model, err := m.Get(p, opt)
	if err != nil {
		return err
	}
	return writeModel(w, r, http.StatusOK, model, false)
}

// writeModel writes a model with the headers jupyter_server sets.
func writeModel(w http.ResponseWriter, r *http.Request, status int, model *Model, location bool) error {
	if location {
		w.Header().Set("Location", httpapi.BaseURL(r)+"api/contents/"+urlEscape(model.Path))
	}
	w.Header().Set("Last-Modified", model.LastModified.UTC().Format(http.TimeFormat))
	if nb, ok := model.Content.(map[string]any); ok {
		return writeNotebookModel(w, status, model, nb)
	}
	return httpapi.WriteJSON(w, status, model)
}

// writeNotebookModel writes a notebook model. The notebook is encoded by
// pyEncoder and put in place of the null content of the encoded envelope,
// because encoding/json would spend more time on a large notebook than
// reading it from disk does.
func writeNotebookModel(w http.ResponseWriter, status int, model *Model, nb map[string]any) error {
	envelope := *model
	envelope.Content = nil
	head, err := json.Marshal(&envelope)
	if err != nil {
		return err
	}
	const hole = `"content":null`
	i := bytes.Index(head, []byte(hole))
	if i < 0 {
		return fmt.Errorf("encoding notebook model: no content field in %s", head)
	}
	size := 0
	if model.Size != nil {
		size = int(min(*model.Size, maxPooledResponse))
	}
	// The compact encoding is shorter than the file, so the buffer
	// rarely grows.
	e := pyEncoder{compact: true, buf: getResponseBuffer(len(head) + size + 1024)}
	defer func() { putResponseBuffer(e.buf) }()
	e.buf = append(e.buf, head[:i+len(hole)-len("null")]...)
	if err := e.value(nb, 0); err != nil {
		return fmt.Errorf("encoding notebook model: %w", err)
	}
	e.buf = append(e.buf, head[i+len(hole):]...)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(e.buf)))
	w.WriteHeader(status)
	_, err = w.Write(e.buf)
	return err
}

// responseBuffers keeps the buffers of notebook responses for reuse. The
// response to a large notebook is megabytes, and allocating it for every
// GET costs more in garbage collection than the copy into it.
var responseBuffers sync.Pool // of *[]byte

// maxPooledResponse bounds the buffers that responseBuffers keeps.
const maxPooledResponse = 64 << 20

// getResponseBuffer returns an empty buffer with room for at least size
// bytes.
func getResponseBuffer(size int) []byte {
	if bp, ok := responseBuffers.Get().(*[]byte); ok && cap(*bp) >= size {
		return (*bp)[:0]
	}
	return make([]byte, 0, size)
}

// putResponseBuffer gives buf back for reuse once it has been written.
func putResponseBuffer(buf []byte) {
	if cap(buf) > maxPooledResponse {
		return
	}
	buf = buf[:0]
	responseBuffers.Put(&buf)
}

func (m *Manager) servePut(w http.ResponseWriter, r *http.Request, p string) error {
	body, err := decodeBody(w, r)
	if err != nil {
		return err
	}
	if body.empty() {
		// jupyter_server creates an untitled file in the folder p here,
		// which for the path of a file is a confusing 404. JupyterLab
		// creates files with POST, so a missing model is an error.
		return httpapi.Errorf(http.StatusBadRequest,
			`PUT needs a JSON body with the model to save, such as {"type": "file", "format": "text", "content": ""}; `+
				"POST creates untitled files")
	}
	if body.CopyFrom != "" {
		return httpapi.Errorf(http.StatusBadRequest, "Cannot copy with PUT, only POST")
	}
	if body.Path != nil && !m.visiblePath(*body.Path) {
		return httpapi.Errorf(http.StatusBadRequest, "Cannot create file or directory %s", quote(p))
	}
	req, err := body.saveRequest()
	if err != nil {
		return err
	}
	req.Hash, err = queryFlag(r.URL.Query(), "hash", "0", "Hash argument %s is invalid. It must be '0' or '1'.")
	if err != nil {
		return err
	}

	status := http.StatusOK
	if !m.isFile(p) {
		newFileDefaults(p, &req)
		// jupyter_server writes the first piece of an upload to the
		// target, so it answers the later pieces with 200.
		if req.Chunk == 0 || req.Chunk == 1 {
			status = http.StatusCreated
		}
	}
	model, err := m.Save(p, req)
	if err != nil {
		return err
	}
	return writeModel(w, r, status, model, true)
}

func (b *requestModel) saveRequest() (SaveRequest, error) {
	content, err := b.content()
	if err != nil {
		return SaveRequest{}, err
	}
	req := SaveRequest{Type: b.Type, Format: b.Format, Content: content}
	switch req.Type {
	case "", "directory", "file", "notebook":
	default:
		// jupyter_server saves a model of an unknown type as a file,
		// which hides a mistake in the request.
		return SaveRequest{}, httpapi.Errorf(http.StatusBadRequest,
			`Invalid type %s: the type of a model must be "notebook", "file" or "directory"`, quote(req.Type))
	}
	if b.Chunk != nil {
		req.Chunk = *b.Chunk
		if req.Chunk == 0 {
			// SaveRequest takes 0 for a save in one piece, so 0 cannot
			// pass on as the number of a piece.
			return SaveRequest{}, httpapi.Errorf(http.StatusBadRequest,
				"Invalid chunk 0: the pieces of an upload are numbered from 1, and the last one is -1")
		}
	}
	return req, nil
}

// newFileDefaults fills in what jupyter_server's ContentsManager.new does
// for a PUT to a path that does not exist: the type from the name, and an
// empty notebook or file when the request has no content.
func newFileDefaults(p string, req *SaveRequest) {
	if req.Type == "" {
		req.Type = "file"
		if strings.HasSuffix(p, ".ipynb") {
			req.Type = "notebook"
		}
	}
	if req.Content != nil || req.Type == "directory" || req.Chunk != 0 {
		return
	}
	if req.Type == "notebook" {
		req.Content = NewNotebook()
		return
	}
	req.Type, req.Format, req.Content = "file", "text", ""
}

// isFile reports whether p is a regular file (or a link to one).
func (m *Manager) isFile(apiPath string) bool {
	p, err := m.cleanPath(apiPath)
	if err != nil {
		return false
	}
	fi, err := m.fsys.Stat(m.name(p))
	return err == nil && fi.Mode().IsRegular()
}

// visiblePath reports whether apiPath cleans to a visible path.
func (m *Manager) visiblePath(apiPath string) bool {
	p, err := m.cleanPath(apiPath)
	return err == nil && m.visible(p)
}

func (m *Manager) respondUntitled(w http.ResponseWriter, r *http.Request, p, typ, ext string) error {
	model, err := m.NewUntitled(p, typ, ext)
	if err != nil {
		return err
	}
	return writeModel(w, r, http.StatusCreated, model, true)
}

func (m *Manager) servePost(w http.ResponseWriter, r *http.Request, p string) error {
	if m.isFile(p) {
		return httpapi.Errorf(http.StatusBadRequest, "Cannot POST to files, use PUT instead.")
	}
	body, err := decodeBody(w, r)
	if err != nil {
		return err
	}
	if body.empty() {
		return m.respondUntitled(w, r, p, "", "")
	}
	if body.CopyFrom == "" {
		typ := body.Type
		switch typ {
		case "", "directory", "file", "notebook":
		default:
			typ = "file"
		}
		return m.respondUntitled(w, r, p, typ, body.Ext)
	}
	model, err := m.Copy(body.CopyFrom, p)
	if err != nil {
		return err
	}
	return writeModel(w, r, http.StatusCreated, model, true)
}

func (m *Manager) servePatch(w http.ResponseWriter, r *http.Request, p string) error {
	body, err := decodeBody(w, r)
	if err != nil {
		return err
	}
	if body == nil {
		return httpapi.Errorf(http.StatusBadRequest, "JSON body missing")
	}
	dst := p
	if body.Path != nil {
		dst = *body.Path
	}
	model, err := m.Rename(p, dst)
	if err != nil {
		return err
	}
	return writeModel(w, r, http.StatusOK, model, true)
}

func (m *Manager) serveDelete(w http.ResponseWriter, r *http.Request, p string) error {
	if err := m.Delete(p); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (m *Manager) serveCheckpoints(w http.ResponseWriter, r *http.Request, p string) error {
	if r.Method == "GET" {
		list, err := m.ListCheckpoints(p)
		if err != nil {
			return err
		}
		return httpapi.WriteJSON(w, http.StatusOK, list)
	}
	cp, err := m.CreateCheckpoint(p)
	if err != nil {
		return err
	}
	w.Header().Set("Location",
		httpapi.BaseURL(r)+"api/contents/"+urlEscape(strings.Trim(p, "/"))+"/checkpoints/"+urlEscape(cp.ID))
	return httpapi.WriteJSON(w, http.StatusCreated, cp)
}

func (m *Manager) serveCheckpoint(w http.ResponseWriter, r *http.Request, p, id string) error {
	var err error
	if r.Method == "POST" {
		err = m.RestoreCheckpoint(p, id)
	} else {
		err = m.DeleteCheckpoint(p, id)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
