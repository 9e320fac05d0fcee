package contents

import (
	"errors"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/jupygo/jupygo/internal/httpapi"
)

const (
	// checkpointDir is the folder beside each file that holds its
	// checkpoints. It belongs to the manager and is never served as content.
	checkpointDir = ".ipynb_checkpoints"

	// tempPrefix starts the names of the manager's temporary files and
	// folders: hidden, never listed and never served.
	tempPrefix = ".~jupygo-"
)

var (
	errOutsideRoot = errors.New("path is outside the root")
	errInvalidPath = errors.New("path contains a NUL byte")
)

// cleanPath returns the canonical form of an API path: slash-separated,
// relative to the root, without empty, "." or ".." segments, and "" for the
// root itself. The path is joined to the root and cleaned lexically, and it
// must still be inside the root, so "../<root>-sibling/x" gives
// errOutsideRoot while "a/../b" is "b". Leading slashes are dropped, so
// "/etc/passwd" names a file inside the root, as in jupyter_server.
func (m *Manager) cleanPath(p string) (string, error) {
	return cleanRelative(m.root, p)
}

func cleanRelative(root, p string) (string, error) {
	if strings.IndexByte(p, 0) >= 0 {
		return "", errInvalidPath
	}
	rel, err := filepath.Rel(root, filepath.Join(root, filepath.FromSlash(p)))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", errOutsideRoot
	}
	if rel == "." {
		return "", nil
	}
	return filepath.ToSlash(rel), nil
}

// pathError turns an error of cleanPath into the 404 that jupyter_server
// sends for a path it will not map into the root.
func pathError(apiPath string, err error) error {
	if errors.Is(err, errInvalidPath) {
		return httpapi.Wrap(http.StatusNotFound, err, quote(apiPath)+" is not a valid path")
	}
	return httpapi.Wrap(http.StatusNotFound, err,
		quote(apiPath)+" is outside root contents directory")
}

// isHidden reports whether a segment of the clean API path p starts with a
// dot.
func isHidden(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if strings.HasPrefix(seg, ".") {
			return true
		}
	}
	return false
}

// isInternal reports whether the clean API path p names or passes through
// one of the manager's own files: a checkpoint folder or a temporary file.
func isInternal(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if isInternalName(seg) {
			return true
		}
	}
	return false
}

func isInternalName(name string) bool {
	return name == checkpointDir || strings.HasPrefix(name, tempPrefix)
}

// visible reports whether the clean API path p may be served: internal
// names never are, and hidden ones only with Options.AllowHidden.
func (m *Manager) visible(p string) bool {
	return !isInternal(p) && (m.opts.AllowHidden || !isHidden(p))
}

// name returns the name of the clean API path p in m.fsys.
func (m *Manager) name(p string) string {
	if p == "" {
		return "."
	}
	return filepath.FromSlash(p)
}

// osPath returns the operating system path of the clean API path p.
func (m *Manager) osPath(p string) string {
	return filepath.Join(m.root, filepath.FromSlash(p))
}

// splitPath splits a clean API path into its parent folder and name.
func splitPath(p string) (dir, name string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// joinPath joins a clean API folder path and a name.
func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// isEscape reports whether err is os.Root's refusal to follow a path (a
// symbolic link, usually) out of the root. os.Root does not export that
// error, so its text is matched.
func isEscape(err error) bool {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err != nil && pe.Err.Error() == "path escapes from parent"
	}
	return false
}

// pySplitExt splits name as Python's os.path.splitext does: the extension
// starts at the last dot, unless every dot before it is a leading one
// (".bashrc" has no extension).
func pySplitExt(name string) (base, ext string) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || strings.Trim(name[:i], ".") == "" {
		return name, ""
	}
	return name[:i], name[i:]
}

// urlEscape percent-encodes each segment of an API path for use in a URL,
// keeping the characters that Python's urllib.parse.quote keeps.
func urlEscape(p string) string {
	var b strings.Builder
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' || isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// quote renders an API path for a message, as Python's repr would.
func quote(p string) string {
	return "'" + strings.ReplaceAll(p, "'", `\'`) + "'"
}
