package contents

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/dsnet/compress/bzip2"
	"github.com/ulikunitz/xz"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// archiveFormats maps the archiveFormat values of the jupyter-archive
// server extension to the compression of a tar stream, or "zip".
var archiveFormats = map[string]string{
	"zip": "zip",
	"tar": "",
	"tgz": "gzip", "tar.gz": "gzip",
	"tbz": "bzip2", "tbz2": "bzip2", "tar.bz": "bzip2", "tar.bz2": "bzip2",
	"txz": "xz", "tar.xz": "xz",
}

var archiveMimetypes = map[string]string{
	"zip": "application/zip", "": "application/x-tar", "gzip": "application/gzip",
	"bzip2": "application/x-bzip2", "xz": "application/x-xz",
}

// archiveRequest is a parsed request for a folder archive.
type archiveRequest struct {
	path        string // clean API path of the folder
	format      string // a key of archiveFormats
	follow      bool   // follow symbolic links that fsys lets through
	allowHidden bool   // include names that start with a dot
}

// serveArchive streams the folder at the request's path as a zip or tar
// archive, as jupyter-archive's GET /directories/{path} does. The query
// parameters are archiveFormat (default zip), followSymlinks (default
// true) and downloadHidden (default false, and honoured only with
// Options.AllowHidden); archiveToken is accepted and ignored.
//
// The archive holds what the contents API serves: no checkpoint folders
// or temporary files, no names that listings hide, no links out of the
// root unless Options.AllowSymlinksOutsideRoot. Files are read one at a
// time and copied to the response, so memory use does not grow with the
// folder. Errors found before the first byte get a JSON error; after it,
// the connection is cut, so the client sees a failed download rather
// than a short archive that looks whole.
func (m *Manager) serveArchive(w http.ResponseWriter, r *http.Request) error {
	req, err := m.parseArchiveRequest(r)
	if err != nil {
		return err
	}
	fi, err := m.fsys.Stat(m.name(req.path))
	if err != nil {
		return fsError("archiving", req.path, err)
	}
	if !fi.IsDir() {
		return httpapi.Errorf(http.StatusBadRequest, "%s is not a directory", quote(req.path))
	}
	top := filepath.Base(m.root)
	if req.path != "" {
		_, top = splitPath(req.path)
	} else if top == string(filepath.Separator) {
		top = "root" // the server serves the whole file system
	}

	h := w.Header()
	compression := archiveFormats[req.format]
	h.Set("Content-Type", archiveMimetypes[compression])
	h.Set("Content-Disposition", ContentDisposition(top+"."+req.format))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}

	aw, err := newArchiveWriter(w, compression)
	if err == nil {
		a := &archiver{m: m, ctx: r.Context(), req: req, out: aw}
		err = a.addDir(req.path, top, fi, m.containingFolders(req.path))
		if closeErr := aw.Close(); err == nil {
			err = closeErr
		}
	}
	if err != nil {
		level := slog.LevelWarn
		if r.Context().Err() != nil {
			level = slog.LevelInfo // the client went away
		}
		m.log.Log(r.Context(), level, "archive download aborted", "path", req.path,
			"format", req.format, "request_id", httpapi.RequestID(r.Context()), "err", err)
		panic(http.ErrAbortHandler) // the status is sent: cut the connection
	}
	return nil
}

func (m *Manager) parseArchiveRequest(r *http.Request) (*archiveRequest, error) {
	q := r.URL.Query()
	req := &archiveRequest{format: q.Get("archiveFormat")}
	if req.format == "" {
		req.format = "zip"
	}
	if _, ok := archiveFormats[req.format]; !ok {
		return nil, httpapi.Errorf(http.StatusBadRequest,
			"archiveFormat %q is not supported: use one of %s", req.format,
			strings.Join(slices.Sorted(maps.Keys(archiveFormats)), ", "))
	}
	var err error
	if req.follow, err = archiveFlag(q, "followSymlinks", true); err != nil {
		return nil, err
	}
	if req.allowHidden, err = archiveFlag(q, "downloadHidden", false); err != nil {
		return nil, err
	}
	req.allowHidden = req.allowHidden && m.opts.AllowHidden

	apiPath := r.PathValue("path")
	if req.path, err = m.cleanPath(apiPath); err != nil {
		return nil, pathError(apiPath, err)
	}
	if !m.visible(req.path) {
		return nil, notFound(req.path)
	}
	return req, nil
}

// archiveFlag reads a query parameter that must be "true" or "false".
func archiveFlag(q url.Values, name string, def bool) (bool, error) {
	switch v := q.Get(name); v {
	case "":
		return def, nil
	case "true", "false":
		return v == "true", nil
	default:
		return false, httpapi.Errorf(http.StatusBadRequest,
			"%s must be true or false, not %q", name, v)
	}
}

// archiver walks a folder into an archiveWriter.
type archiver struct {
	m   *Manager
	ctx context.Context
	req *archiveRequest
	out archiveWriter
}

// fileID identifies a folder, to find symbolic links that lead back into
// a folder being archived.
type fileID struct{ dev, ino uint64 }

func idOf(fi fs.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{uint64(st.Dev), st.Ino}, true
}

// containingFolders returns the IDs of the folders that contain p, from
// its parent up to the root. A link to one of them leads back to p, and following it
// would put p's siblings, and maybe the whole root, into p's archive.
func (m *Manager) containingFolders(p string) []fileID {
	var ids []fileID
	for dir := p; dir != ""; {
		dir, _ = splitPath(dir)
		fi, err := m.fsys.Stat(m.name(dir))
		if err != nil {
			continue
		}
		if id, ok := idOf(fi); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// addDir adds the folder p, named name in the archive, and everything in
// it. ancestors are the folders that contain it.
func (a *archiver) addDir(p, name string, fi fs.FileInfo, ancestors []fileID) error {
	if id, ok := idOf(fi); ok {
		if slices.Contains(ancestors, id) {
			a.m.log.Debug("link to a containing folder left out of archive", "path", p)
			return nil
		}
		ancestors = append(ancestors, id)
	}
	if err := a.out.AddDir(name, fi); err != nil {
		return err
	}
	names, err := a.readDirNames(p)
	if err != nil {
		a.m.log.Warn("folder left out of archive", "path", p, "err", err)
		return nil
	}
	for _, entry := range names {
		if err := a.ctx.Err(); err != nil {
			return err
		}
		if err := a.addEntry(joinPath(p, entry), name+"/"+entry, ancestors); err != nil {
			return err
		}
	}
	return nil
}

func (a *archiver) readDirNames(p string) ([]string, error) {
	dir, err := a.m.fsys.Open(a.m.name(p))
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	names, err := dir.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	names = slices.DeleteFunc(names, func(n string) bool {
		return !a.m.listed(n) || (!a.req.allowHidden && strings.HasPrefix(n, "."))
	})
	slices.Sort(names)
	return names, nil
}

// addEntry adds the file or folder p, named name in the archive. Entries
// that cannot be read, links that are not followed or lead out of the
// root, and files that are neither regular files nor folders are left
// out, as listings leave them out.
func (a *archiver) addEntry(p, name string, ancestors []fileID) error {
	fi, err := a.m.fsys.Lstat(a.m.name(p))
	if err != nil {
		return a.skip(p, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if !a.req.follow {
			return nil
		}
		if fi, err = a.m.fsys.Stat(a.m.name(p)); err != nil {
			return a.skip(p, err)
		}
	}
	if fi.IsDir() {
		return a.addDir(p, name, fi, ancestors)
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	f, fi, err := a.m.openRegular(a.m.name(p))
	if err != nil {
		return a.skip(p, err)
	}
	defer f.Close()
	return a.out.AddFile(name, fi, f)
}

func (a *archiver) skip(p string, err error) error {
	a.m.log.Warn("entry left out of archive", "path", p, "err", err)
	return nil
}

// archiveWriter writes the entries of an archive.
type archiveWriter interface {
	AddDir(name string, fi fs.FileInfo) error
	// AddFile adds a regular file of fi.Size() bytes read from r.
	AddFile(name string, fi fs.FileInfo, r io.Reader) error
	Close() error
}

func newArchiveWriter(w io.Writer, compression string) (archiveWriter, error) {
	var c io.WriteCloser
	switch compression {
	case "zip":
		return &zipArchive{zip.NewWriter(w)}, nil
	case "":
		c = nopWriteCloser{w}
	case "gzip":
		c = gzip.NewWriter(w)
	case "bzip2":
		bw, err := bzip2.NewWriter(w, nil)
		if err != nil {
			return nil, err
		}
		c = bw
	case "xz":
		xw, err := xz.NewWriter(w)
		if err != nil {
			return nil, err
		}
		c = xw
	}
	return &tarArchive{tar.NewWriter(c), c}, nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

type zipArchive struct{ zw *zip.Writer }

func (z *zipArchive) AddDir(name string, fi fs.FileInfo) error {
	hdr, err := zip.FileInfoHeader(fi)
	if err != nil {
		return err
	}
	hdr.Name = name + "/"
	_, err = z.zw.CreateHeader(hdr)
	return err
}

func (z *zipArchive) AddFile(name string, fi fs.FileInfo, r io.Reader) error {
	hdr, err := zip.FileInfoHeader(fi)
	if err != nil {
		return err
	}
	hdr.Name = name
	hdr.Method = zip.Deflate
	w, err := z.zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	// The sizes go into the data descriptor after the data, so a file
	// that changes while it is read is stored as it was read.
	_, err = io.Copy(w, r)
	return err
}

func (z *zipArchive) Close() error { return z.zw.Close() }

type tarArchive struct {
	tw *tar.Writer
	c  io.WriteCloser
}

func (t *tarArchive) AddDir(name string, fi fs.FileInfo) error {
	return t.writeHeader(name+"/", fi)
}

func (t *tarArchive) AddFile(name string, fi fs.FileInfo, r io.Reader) error {
	if err := t.writeHeader(name, fi); err != nil {
		return err
	}
	// A tar header states the size, so a file that shrank while it was
	// read cannot be stored whole: that aborts the download.
	n, err := io.CopyN(t.tw, r, fi.Size())
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s shrank from %d to %d bytes while it was archived", name, fi.Size(), n)
	}
	return err
}

func (t *tarArchive) writeHeader(name string, fi fs.FileInfo) error {
	hdr, err := tar.FileInfoHeader(fi, "")
	if err != nil {
		return err
	}
	hdr.Name = name
	return t.tw.WriteHeader(hdr)
}

func (t *tarArchive) Close() error {
	if err := t.tw.Close(); err != nil {
		return err
	}
	return t.c.Close()
}
