package contents

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"syscall"
	"unicode"

	"golang.org/x/sys/unix"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// Checkpoints are copies of a file kept as jupyter_server's FileCheckpoints
// keeps them: the checkpoint "checkpoint" of dir/name.ext is the file
// dir/.ipynb_checkpoints/name-checkpoint.ext. There is one checkpoint per
// file; creating it again replaces it.

// CheckpointID is the id of the one checkpoint that CreateCheckpoint makes.
const CheckpointID = "checkpoint"

// Checkpoint is a checkpoint model.
type Checkpoint struct {
	ID           string    `json:"id"`
	LastModified Timestamp `json:"last_modified"`
}

// checkpointFile returns the folder (a name in m.fsys) and the file name
// of checkpoint id of the clean API path p.
func (m *Manager) checkpointFile(p, id string) (dir, name string) {
	parent, file := splitPath(p)
	base, ext := pySplitExt(file)
	return m.name(joinPath(parent, checkpointDir)), base + "-" + id + ext
}

// validCheckpointID reports whether id has the form jupyter_server routes:
// letters, digits, '_' and '-'.
func validCheckpointID(id string) bool {
	for _, r := range id {
		if r != '_' && r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return id != ""
}

// checkpointPath cleans apiPath for a checkpoint operation.
func (m *Manager) checkpointPath(apiPath string) (string, error) {
	p, err := m.cleanPath(apiPath)
	if err != nil {
		return "", pathError(apiPath, err)
	}
	if !m.visible(p) || p == "" {
		return "", notFound(p)
	}
	return p, nil
}

// CreateCheckpoint copies the file apiPath to its checkpoint, atomically,
// keeping the file's modification time, and returns the checkpoint.
func (m *Manager) CreateCheckpoint(apiPath string) (*Checkpoint, error) {
	p, err := m.checkpointPath(apiPath)
	if err != nil {
		return nil, err
	}
	cp, err := m.createCheckpoint(p)
	if err != nil {
		return nil, fsError("creating checkpoint of", p, err)
	}
	return cp, nil
}

func (m *Manager) createCheckpoint(p string) (*Checkpoint, error) {
	src, fi, err := m.openRegular(m.name(p))
	if errors.Is(err, errNotRegular) {
		return nil, httpapi.Errorf(http.StatusBadRequest,
			"cannot create a checkpoint of %s: it is not a file", quote(p))
	}
	if err != nil {
		return nil, err
	}
	defer src.Close()

	dirName, name := m.checkpointFile(p, CheckpointID)
	if err := m.fsys.Mkdir(dirName, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	dir, err := m.openDir(dirName)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	opt := writeOptions{perm: fi.Mode().Perm(), exactPerm: true, mtime: fi.ModTime()}
	err = replaceFile(dir, name, opt, func(w io.Writer) error {
		_, err := io.Copy(w, src)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Checkpoint{ID: CheckpointID, LastModified: Timestamp{fi.ModTime()}}, nil
}

// ListCheckpoints returns the checkpoints of apiPath: none, or the one
// CreateCheckpoint made.
func (m *Manager) ListCheckpoints(apiPath string) ([]Checkpoint, error) {
	p, err := m.checkpointPath(apiPath)
	if err != nil {
		return nil, err
	}
	dir, name := m.checkpointFile(p, CheckpointID)
	fi, err := m.fsys.Stat(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return []Checkpoint{}, nil
	}
	if err != nil {
		return nil, fsError("listing checkpoints of", p, err)
	}
	return []Checkpoint{{ID: CheckpointID, LastModified: Timestamp{fi.ModTime()}}}, nil
}

// RestoreCheckpoint replaces the file apiPath, atomically, with its
// checkpoint id.
func (m *Manager) RestoreCheckpoint(apiPath, id string) error {
	p, err := m.checkpointPath(apiPath)
	if err != nil {
		return err
	}
	if !validCheckpointID(id) {
		return noCheckpoint(p, id, nil)
	}
	dir, name := m.checkpointFile(p, id)
	cp := filepath.Join(dir, name)
	if _, err := m.fsys.Stat(cp); err != nil {
		return noCheckpoint(p, id, err)
	}
	err = m.writeFileFunc(p, func(w io.Writer) error { return m.copyFileTo(cp, w) })
	if err != nil {
		return fsError("restoring checkpoint of", p, err)
	}
	m.log.Info("checkpoint restored", "path", p, "checkpoint_id", id)
	return nil
}

// DeleteCheckpoint removes checkpoint id of apiPath.
func (m *Manager) DeleteCheckpoint(apiPath, id string) error {
	p, err := m.checkpointPath(apiPath)
	if err != nil {
		return err
	}
	if !validCheckpointID(id) {
		return noCheckpoint(p, id, nil)
	}
	dir, name := m.checkpointFile(p, id)
	if err := m.fsys.Remove(filepath.Join(dir, name)); err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return noCheckpoint(p, id, err)
		}
		return fsError("deleting checkpoint of", p, err)
	}
	return nil
}

func noCheckpoint(p, id string, err error) error {
	return httpapi.Wrap(http.StatusNotFound, err, fmt.Sprintf("Checkpoint does not exist: %s@%s", p, id))
}

// ensureCheckpoint creates the checkpoint of the notebook p unless it has
// one, as jupyter_server does on every notebook save. The save has already
// succeeded, so a failure is logged and not returned.
func (m *Manager) ensureCheckpoint(p string) {
	dir, name := m.checkpointFile(p, CheckpointID)
	if _, err := m.fsys.Stat(filepath.Join(dir, name)); err == nil {
		return
	}
	if _, err := m.createCheckpoint(p); err != nil {
		m.log.Warn("creating checkpoint failed", "path", p, "err", err)
	}
}

// renameCheckpoints moves the checkpoint of old to that of dst after a
// rename. A failure is logged: the rename itself has succeeded.
func (m *Manager) renameCheckpoints(old, dst string) {
	oldDir, oldName := m.checkpointFile(old, CheckpointID)
	from := filepath.Join(oldDir, oldName)
	if fi, err := m.fsys.Lstat(from); err != nil || !fi.Mode().IsRegular() {
		return
	}
	dstDir, dstName := m.checkpointFile(dst, CheckpointID)
	err := m.fsys.Mkdir(dstDir, 0o755)
	if err == nil || errors.Is(err, fs.ErrExist) {
		err = m.fsys.Rename(from, filepath.Join(dstDir, dstName))
	}
	if err != nil {
		m.log.Warn("moving checkpoint failed", "path", dst, "err", err)
	}
}

// deleteCheckpoints removes the checkpoint of a deleted file.
func (m *Manager) deleteCheckpoints(p string) {
	dir, name := m.checkpointFile(p, CheckpointID)
	err := m.fsys.Remove(filepath.Join(dir, name))
	if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, unix.ENOTDIR) {
		m.log.Warn("deleting checkpoint failed", "path", p, "err", err)
	}
}
