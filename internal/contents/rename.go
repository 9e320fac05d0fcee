package contents

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// Rename moves the file or folder oldPath to newPath and returns the new
// model. A newPath that exists gives a 409 and changes nothing, because the
// rename itself checks for it atomically. Renaming to a name that differs
// only in case works. A file's checkpoint moves with it.
func (m *Manager) Rename(oldPath, newPath string) (*Model, error) {
	old, err := m.cleanPath(oldPath)
	if err != nil {
		return nil, pathError(oldPath, err)
	}
	dst, err := m.cleanPath(newPath)
	if err != nil {
		return nil, pathError(newPath, err)
	}
	if !m.visible(old) || !m.visible(dst) {
		return nil, httpapi.Errorf(http.StatusBadRequest, "Cannot rename file or directory %s", quote(old))
	}
	if old == dst {
		return m.Get(dst, GetOptions{})
	}
	if old == "" || dst == "" {
		return nil, httpapi.Errorf(http.StatusBadRequest, "cannot rename the root folder")
	}
	if strings.HasPrefix(dst, old+"/") {
		return nil, httpapi.Errorf(http.StatusBadRequest,
			"cannot move %s into itself", quote(old))
	}
	if err := m.checkRename(old, dst); err != nil {
		return nil, err
	}
	if err := m.rename(old, dst); err != nil {
		return nil, err
	}
	m.log.Info("renamed", "from", old, "path", dst)
	m.renameCheckpoints(old, dst)
	m.notify(Change{Op: Renamed, Path: old, NewPath: dst})
	return m.Get(dst, GetOptions{})
}

// checkRename returns the error that a rename of old to dst must give
// before anything moves. Old must be an entry that Get serves. A symbolic
// link with a relative target must still resolve inside the root from its
// new folder. Without the check, the rename of a link out of the root, of
// a dangling link, or of a link that the move breaks took place, and the
// request still failed with a 404.
func (m *Manager) checkRename(old, dst string) error {
	oldName := m.name(old)
	if _, err := m.fsys.Stat(oldName); err != nil {
		return fsError("renaming", old, err)
	}
	fi, err := m.fsys.Lstat(oldName)
	if err != nil {
		return fsError("renaming", old, err)
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		return nil
	}

	target, err := m.fsys.Readlink(oldName)
	if err != nil {
		return fsError("renaming", old, err)
	}
	if filepath.IsAbs(target) {
		// It resolves to the same file from any folder.
		return nil
	}

	dstParent, _ := splitPath(dst)
	dir, err := filepath.EvalSymlinks(filepath.Join(m.realRoot, m.name(dstParent)))
	if err != nil {
		// The rename reports the missing folder.
		return nil
	}
	// No filepath.Join, which would drop a ".." of target before the
	// links in front of it are resolved.
	resolved, err := filepath.EvalSymlinks(dir + string(filepath.Separator) + target)
	if err == nil {
		rel, err := filepath.Rel(m.realRoot, resolved)
		if err == nil && (filepath.IsLocal(rel) || m.opts.AllowSymlinksOutsideRoot) {
			return nil
		}
	}
	return httpapi.Errorf(http.StatusBadRequest,
		"cannot move the link %s to %s: its relative target would then be missing or outside the root",
		quote(old), quote(dst))
}

func (m *Manager) rename(old, dst string) error {
	oldName, dstName := m.name(old), m.name(dst)
	oldDir, err := m.openDir(filepath.Dir(oldName))
	if err != nil {
		return fsError("renaming", old, err)
	}
	defer oldDir.Close()
	dstDir, err := m.openDir(filepath.Dir(dstName))
	if err != nil {
		parent, _ := splitPath(dst)
		return httpapi.Wrap(http.StatusNotFound, err, "No such directory: "+quote(parent))
	}
	defer dstDir.Close()

	oldBase, dstBase := filepath.Base(oldName), filepath.Base(dstName)
	err = m.renameNoReplace(oldDir, oldBase, dstDir, dstBase)
	if errors.Is(err, fs.ErrExist) && sameFile(oldDir, oldBase, dstDir, dstBase) {
		// A case-insensitive file system treats a.txt and A.txt as one
		// file, which the rename may then move to its new spelling.
		err = unix.Renameat(fd(oldDir), oldBase, fd(dstDir), dstBase)
	}
	switch {
	case errors.Is(err, fs.ErrExist):
		return httpapi.Wrap(http.StatusConflict, err, "File already exists: "+quote(dst))
	case errors.Is(err, fs.ErrNotExist):
		return httpapi.Wrap(http.StatusNotFound, err, "File or directory does not exist: "+quote(old))
	case err != nil:
		return fsError("renaming", old, err)
	}
	if err := syncDir(dstDir); err != nil {
		return fsError("renaming", old, err)
	}
	if err := syncDir(oldDir); err != nil {
		return fsError("renaming", old, err)
	}
	return nil
}

// sameFile reports whether two names are links to one inode.
func sameFile(dirA *os.File, a string, dirB *os.File, b string) bool {
	var sa, sb unix.Stat_t
	if unix.Fstatat(fd(dirA), a, &sa, unix.AT_SYMLINK_NOFOLLOW) != nil ||
		unix.Fstatat(fd(dirB), b, &sb, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return false
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// Delete removes the file or folder apiPath. With Options.DeleteToTrash it
// moves it to the trash (see trash.go), and when that fails it returns an
// error and deletes nothing. Otherwise a file is removed, and so is a
// folder that is empty or contains only checkpoints, as in jupyter_server.
// Other folders give a 400 unless Options.AlwaysDeleteDir is set.
// A symbolic link is deleted, never its target. A file's checkpoint goes
// with it, to the trash or for good.
func (m *Manager) Delete(apiPath string) error {
	p, err := m.cleanPath(apiPath)
	if err != nil {
		return pathError(apiPath, err)
	}
	if !m.visible(p) {
		return httpapi.Errorf(http.StatusBadRequest, "Cannot delete file or directory %s", quote(p))
	}
	if p == "" {
		return httpapi.Errorf(http.StatusBadRequest, "cannot delete the root folder")
	}
	name := m.name(p)
	fi, err := m.fsys.Lstat(name)
	if err != nil {
		return fsError("deleting", p, err)
	}
	if m.opts.DeleteToTrash {
		if err := m.trash(p, name); err != nil {
			return err
		}
		if !fi.IsDir() {
			m.trashCheckpoint(p)
		}
		m.notify(Change{Op: Deleted, Path: p})
		return nil
	}

	if fi.IsDir() {
		err = m.removeDir(p, name)
	} else {
		err = m.fsys.Remove(name)
	}
	if err != nil {
		return fsError("deleting", p, err)
	}
	m.log.Info("deleted", "path", p)
	if !fi.IsDir() {
		m.deleteCheckpoints(p)
	}
	m.notify(Change{Op: Deleted, Path: p})
	return nil
}

// removeDir removes the folder name of m.fsys, whose API path is p, for
// good. Unless Options.AlwaysDeleteDir is set, the folder must be empty
// but for a checkpoint folder.
func (m *Manager) removeDir(p, name string) error {
	if m.opts.AlwaysDeleteDir {
		return m.fsys.RemoveAll(name)
	}
	checkpoints, err := m.onlyCheckpoints(p, name)
	if err != nil {
		return err
	}
	if checkpoints {
		if err := m.fsys.RemoveAll(filepath.Join(name, checkpointDir)); err != nil {
			return err
		}
	}
	// rmdir fails if an entry has appeared since the check.
	err = m.fsys.Remove(name)
	if errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST) {
		return notEmpty(p, err)
	}
	return err
}

// onlyCheckpoints reports whether the folder name contains a checkpoint
// folder, and returns a 400 when it contains anything else.
func (m *Manager) onlyCheckpoints(p, name string) (bool, error) {
	dir, err := m.openDir(name)
	if err != nil {
		return false, err
	}
	defer dir.Close()
	found := false
	for {
		names, err := dir.Readdirnames(64)
		for _, n := range names {
			if n != checkpointDir {
				return false, notEmpty(p, nil)
			}
			found = true
		}
		if errors.Is(err, io.EOF) {
			return found, nil
		}
		if err != nil {
			return false, err
		}
	}
}

func notEmpty(p string, err error) error {
	return httpapi.Wrap(http.StatusBadRequest, err, "directory not empty: "+quote(p))
}

// Trust marks the notebook apiPath as trusted, so that its outputs are
// shown without sanitizing, as the trust endpoint of jupyter_server does.
func (m *Manager) Trust(apiPath string) error {
	p, err := m.cleanPath(apiPath)
	if err != nil {
		return pathError(apiPath, err)
	}
	if !m.visible(p) {
		return notFound(p)
	}
	data, err := m.readFile(p)
	if err != nil {
		return err
	}
	nb, err := ReadNotebook(data)
	if err != nil {
		return httpapi.Wrap(http.StatusBadRequest, err, "Unreadable Notebook: "+quote(p)+" "+err.Error())
	}
	canonical, err := WriteNotebook(nb)
	if err != nil {
		return httpapi.Wrap(http.StatusBadRequest, err, err.Error())
	}
	m.notary.signBytes(canonical)
	m.log.Info("notebook trusted", "path", p)
	return nil
}
