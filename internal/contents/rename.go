package contents

import (
	"errors"
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
	if err := m.rename(old, dst); err != nil {
		return nil, err
	}
	m.log.Info("renamed", "from", old, "path", dst)
	m.renameCheckpoints(old, dst)
	return m.Get(dst, GetOptions{})
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

// Delete removes the file or folder apiPath, with everything in a folder,
// as jupyter_server does when delete_to_trash is off and always_delete_dir
// is on. A symbolic link is removed, not its target. A file's checkpoint
// goes with it.
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
	if fi.IsDir() {
		err = m.fsys.RemoveAll(name)
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
	return nil
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
