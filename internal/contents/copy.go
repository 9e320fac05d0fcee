package contents

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// maxCopyFolderBytes is the largest folder Copy copies, the default of
// jupyter_server's max_copy_folder_size_mb (500 MB).
const maxCopyFolderBytes = 500 << 20

// copySuffix returns a regular expression, compiled on first use, that matches
// the "-Copy<n>." that Copy removes from a name before numbering the copy, so a
// copy of a-Copy1.txt is a-Copy2.txt.
var copySuffix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`-Copy\d*\.`) })

// Copy copies the file, notebook or folder fromPath and returns the model of
// the copy. When toPath is a folder, the copy goes into it under the first
// free name among name.ext, name-Copy1.ext, name-Copy2.ext and so on.
// Otherwise toPath is the path of the copy, and it must not exist. A copy
// never replaces an existing entry. Folders up to 500 MB are copied, with
// symbolic links copied as links.
func (m *Manager) Copy(fromPath, toPath string) (*Model, error) {
	from, err := m.cleanPath(fromPath)
	if err != nil {
		return nil, pathError(fromPath, err)
	}
	to, err := m.cleanPath(toPath)
	if err != nil {
		return nil, pathError(toPath, err)
	}
	if !m.visible(from) || !m.visible(to) {
		return nil, httpapi.Errorf(http.StatusBadRequest, "Cannot copy file or directory %s", quote(from))
	}
	src, err := m.fsys.Stat(m.name(from))
	if err != nil {
		return nil, fsError("copying", from, err)
	}
	switch {
	case src.IsDir():
		if err := m.checkFolderSize(from); err != nil {
			return nil, err
		}
	case !src.Mode().IsRegular():
		return nil, httpapi.Errorf(http.StatusBadRequest, "cannot copy %s: it is not a file", quote(from))
	}

	dst, err := m.fsys.Stat(m.name(to))
	switch {
	case err == nil && dst.IsDir():
		return m.copyNumbered(from, src, to)
	case err == nil:
		return nil, httpapi.Errorf(http.StatusConflict, "File already exists: %s", quote(to))
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fsError("copying to", to, err)
	}
	parent, name := splitPath(to)
	dir, err := m.openDir(m.name(parent))
	if err != nil {
		return nil, httpapi.Wrap(http.StatusNotFound, err,
			fmt.Sprintf("No such parent directory: %s to copy file in", quote(parent)))
	}
	defer dir.Close()
	err = m.copyEntry(from, src, dir, m.name(parent), name)
	if errors.Is(err, fs.ErrExist) {
		return nil, httpapi.Errorf(http.StatusConflict, "File already exists: %s", quote(to))
	}
	if err != nil {
		return nil, fsError("copying", from, err)
	}
	return m.copied(from, to)
}

// copyNumbered copies from into the folder to under the first free name.
func (m *Manager) copyNumbered(from string, src fs.FileInfo, to string) (*Model, error) {
	dir, err := m.openDir(m.name(to))
	if err != nil {
		return nil, fsError("copying to", to, err)
	}
	defer dir.Close()
	_, fromName := splitPath(from)
	base := copySuffix().ReplaceAllString(fromName, ".")
	for i := range maxUntitled {
		name := incrementName(base, "-Copy", i)
		err := m.copyEntry(from, src, dir, m.name(to), name)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fsError("copying", from, err)
		}
		return m.copied(from, joinPath(to, name))
	}
	return nil, httpapi.Errorf(http.StatusConflict, "no free name for a copy of %s", quote(from))
}

func (m *Manager) copied(from, to string) (*Model, error) {
	m.log.Info("copied", "from", from, "path", to)
	m.notify(Change{Op: Copied, Path: from, NewPath: to})
	model, err := m.Get(to, GetOptions{})
	if err == nil && model.Type == "notebook" {
		m.ensureCheckpoint(to)
	}
	return model, err
}

// copyEntry copies from (a file or folder, described by src) to name in
// dir, the folder dirName of m.fsys. An existing name gives an error
// matching fs.ErrExist.
func (m *Manager) copyEntry(from string, src fs.FileInfo, dir *os.File, dirName, name string) error {
	if !src.IsDir() {
		return m.createFile(dir, name, writeOptions{perm: 0o666}, func(w io.Writer) error {
			return m.copyFileTo(m.name(from), w)
		})
	}
	tmp := tempName()
	if err := unix.Mkdirat(fd(dir), tmp, 0o777); err != nil {
		return fmt.Errorf("creating temporary folder: %w", err)
	}
	err := m.copyTree(m.name(from), filepath.Join(dirName, tmp))
	if err == nil {
		err = m.renameNoReplace(dir, tmp, dir, name)
	}
	if err != nil {
		_ = m.fsys.RemoveAll(filepath.Join(dirName, tmp))
		return err
	}
	return syncDir(dir)
}

// copyFileTo writes the bytes of the regular file name to w.
func (m *Manager) copyFileTo(name string, w io.Writer) error {
	f, _, err := m.openRegular(name)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// copyTree copies the entries of the folder from into the empty folder to,
// both names in m.fsys.
func (m *Manager) copyTree(from, to string) error {
	dir, err := m.openDir(to)
	if err != nil {
		return err
	}
	defer dir.Close()
	srcDir, err := m.openDir(from)
	if err != nil {
		return err
	}
	entries, err := srcDir.ReadDir(-1)
	srcDir.Close()
	if err != nil {
		return err
	}
	for _, e := range entries {
		if isInternalName(e.Name()) && e.Name() != checkpointDir {
			continue
		}
		err := m.copyTreeEntry(filepath.Join(from, e.Name()), e, dir, filepath.Join(to, e.Name()))
		if err != nil {
			return err
		}
	}
	return syncDir(dir)
}

func (m *Manager) copyTreeEntry(from string, e fs.DirEntry, dir *os.File, to string) error {
	switch {
	case e.Type()&fs.ModeSymlink != 0:
		target, err := m.fsys.Readlink(from)
		if err != nil {
			return err
		}
		return unix.Symlinkat(target, fd(dir), e.Name())
	case e.IsDir():
		if err := unix.Mkdirat(fd(dir), e.Name(), 0o777); err != nil {
			return err
		}
		return m.copyTree(from, to)
	case e.Type().IsRegular():
		return m.createFile(dir, e.Name(), writeOptions{perm: 0o666}, func(w io.Writer) error {
			return m.copyFileTo(from, w)
		})
	}
	return nil
}

// checkFolderSize rejects folders larger than maxCopyFolderBytes.
func (m *Manager) checkFolderSize(p string) error {
	total, err := m.folderSize(m.name(p), 0)
	if err != nil {
		return fsError("copying", p, err)
	}
	if total > maxCopyFolderBytes {
		return httpapi.Errorf(http.StatusBadRequest,
			"Can't copy folders larger than %dMB, %s is larger", maxCopyFolderBytes>>20, quote(p))
	}
	return nil
}

// folderSize adds the sizes of the regular files under the folder name to
// total, stopping once the sum passes maxCopyFolderBytes. It does not
// follow symbolic links, as the copy does not.
func (m *Manager) folderSize(name string, total int64) (int64, error) {
	dir, err := m.openDir(name)
	if err != nil {
		return total, err
	}
	entries, err := dir.ReadDir(-1)
	dir.Close()
	if err != nil {
		return total, err
	}
	for _, e := range entries {
		switch {
		case total > maxCopyFolderBytes:
			return total, nil
		case e.IsDir():
			total, err = m.folderSize(filepath.Join(name, e.Name()), total)
			if err != nil {
				return total, err
			}
		case e.Type().IsRegular():
			if fi, err := e.Info(); err == nil {
				total += fi.Size()
			}
		}
	}
	return total, nil
}
