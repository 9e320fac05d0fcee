package lab

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/jupygo/jupygo/internal/httpapi"
	"golang.org/x/text/unicode/norm"
)

// workspaceExtension ends the name of every workspace file, as in
// JupyterLab.
const workspaceExtension = ".jupyterlab-workspace"

// maxWorkspaceBody limits the body of a workspace PUT. A workspace holds the
// layout and open documents, not their content.
const maxWorkspaceBody = 16 << 20

// workspaceSlug returns the file name stem that jupyterlab_server uses for a
// workspace, so that both servers can share one workspaces folder. The stem
// is the name lowercased, percent-decoded, NFKC-normalized and reduced to
// ASCII letters, digits, underscores and hyphens. It ends with "-" and the
// first four hex digits of the name's SHA-256: "default" becomes
// "default-37a8".
func workspaceSlug(name string) string {
	raw := name
	if !strings.HasPrefix(raw, "/") {
		raw = "/" + raw
	}
	sum := sha256.Sum256([]byte(raw[1:]))
	signature := "-" + hex.EncodeToString(sum[:])[:4]

	// Slashes need no special case: the filter below drops them.
	value := norm.NFKC.String(percentDecode(strings.ToLower(raw)))

	var b strings.Builder
	for _, r := range value {
		switch {
		case r >= utf8.RuneSelf:
			// dropped, as encode("ascii", "ignore") does
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		case isPythonSpace(r):
			b.WriteByte(' ')
		}
	}
	value = collapseHyphens(strings.TrimSpace(b.String()))

	// 128 bytes for the file name, less the extension and the signature.
	max := 128 - len(workspaceExtension) - len(signature)
	if len(value) > max {
		value = value[:max]
	}
	return value + signature
}

// isPythonSpace reports whether an ASCII rune is whitespace for Python's
// str.isspace, which also counts the separators U+001C to U+001F.
func isPythonSpace(r rune) bool {
	return r == ' ' || (r >= '\t' && r <= '\r') || (r >= 0x1c && r <= 0x1f)
}

// collapseHyphens replaces each run of spaces and hyphens by one hyphen.
func collapseHyphens(s string) string {
	var b strings.Builder
	run := false
	for _, r := range s {
		if r == ' ' || r == '-' {
			run = true
			continue
		}
		if run {
			b.WriteByte('-')
			run = false
		}
		b.WriteRune(r)
	}
	if run {
		b.WriteByte('-')
	}
	return b.String()
}

// percentDecode decodes %XX escapes and leaves malformed ones as they are,
// as Python's urllib.parse.unquote does.
func percentDecode(s string) string {
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

func (l *Lab) workspacePath(name string) string {
	return filepath.Join(l.workspacesDir, workspaceSlug(name)+workspaceExtension)
}

// getWorkspaces serves GET /lab/api/workspaces (the list) and
// GET /lab/api/workspaces/<name>. A workspace never saved is returned empty.
func (l *Lab) getWorkspaces(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("id")
	if name == "" {
		return l.listWorkspaces(w)
	}
	workspace, err := loadWorkspace(l.workspacePath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return httpapi.WriteJSON(w, http.StatusOK, map[string]any{
			"data":     map[string]any{},
			"metadata": map[string]any{"id": "/" + strings.TrimPrefix(name, "/")},
		})
	}
	if err != nil {
		return httpapi.Wrap(http.StatusInternalServerError, err,
			fmt.Sprintf("cannot read workspace %q", name))
	}
	return httpapi.WriteJSON(w, http.StatusOK, workspace)
}

func (l *Lab) listWorkspaces(w http.ResponseWriter) error {
	ids := []any{}
	values := []any{}
	entries, err := os.ReadDir(l.workspacesDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return httpapi.Wrap(http.StatusInternalServerError, err, "cannot list workspaces")
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, entry := range entries {
		if entry.IsDir() || !strings.HasSuffix(entry.Name(), workspaceExtension) {
			continue
		}
		file := filepath.Join(l.workspacesDir, entry.Name())
		workspace, err := loadWorkspace(file)
		if err != nil {
			l.log.Warn("skipping workspace", "file", file, "err", err)
			continue
		}
		ids = append(ids, workspace["metadata"].(map[string]any)["id"])
		values = append(values, workspace)
	}
	return httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"workspaces": map[string]any{"ids": ids, "values": values},
	})
}

// loadWorkspace reads a workspace file and sets metadata.last_modified and
// metadata.created from the file's times.
func loadWorkspace(file string) (map[string]any, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	workspace, err := parseWorkspace(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", file, err)
	}
	metadata := workspace["metadata"].(map[string]any)
	// NOTE: created is the modification time too: file systems do not
	// reliably record a creation time.
	metadata["last_modified"] = isoTime(info.ModTime())
	metadata["created"] = isoTime(info.ModTime())
	return workspace, nil
}

// parseWorkspace decodes a workspace: a JSON object whose metadata member
// is an object with a string id.
func parseWorkspace(r io.Reader) (map[string]any, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var workspace map[string]any
	if err := dec.Decode(&workspace); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	metadata, ok := workspace["metadata"].(map[string]any)
	if !ok {
		return nil, errors.New("metadata must be an object")
	}
	if _, ok := metadata["id"].(string); !ok {
		return nil, errors.New("metadata.id must be a string")
	}
	return workspace, nil
}

// putWorkspace serves PUT /lab/api/workspaces/<name>. The body is stored as
// it came, after checking that its metadata.id names the same workspace.
func (l *Lab) putWorkspace(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("id")
	if name == "" {
		return httpapi.Errorf(http.StatusBadRequest, "workspace name is required for PUT")
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWorkspaceBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return httpapi.Errorf(http.StatusRequestEntityTooLarge,
			"request body is larger than %d bytes", tooLarge.Limit)
	}
	if err != nil {
		return httpapi.Wrap(http.StatusBadRequest, err, "cannot read the request body")
	}
	data = bytes.TrimSpace(data)

	workspace, err := parseWorkspace(bytes.NewReader(data))
	if err != nil {
		return httpapi.Wrap(http.StatusBadRequest, err, "invalid workspace: "+err.Error())
	}
	id := workspace["metadata"].(map[string]any)["id"].(string)
	if !strings.HasPrefix(id, "/") {
		id = "/" + id
	}
	if got, want := percentDecode(id), "/"+name; got != want {
		return httpapi.Errorf(http.StatusBadRequest,
			"workspace metadata id %q does not match the workspace name %q in the URL",
			strings.TrimPrefix(got, "/"), name)
	}

	if err := writeFileAtomic(l.workspacePath(name), data); err != nil {
		return httpapi.Wrap(http.StatusInternalServerError, err,
			fmt.Sprintf("cannot save workspace %q", name))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteWorkspace serves DELETE /lab/api/workspaces/<name>.
func (l *Lab) deleteWorkspace(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("id")
	if name == "" {
		return httpapi.Errorf(http.StatusBadRequest, "workspace name is required for DELETE")
	}
	err := os.Remove(l.workspacePath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return httpapi.Errorf(http.StatusNotFound, "workspace %q not found", name)
	}
	if err != nil {
		return httpapi.Wrap(http.StatusInternalServerError, err,
			fmt.Sprintf("cannot delete workspace %q", name))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
