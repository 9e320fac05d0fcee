package contents

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// An upload sent in pieces collects in a temporary file beside its target
// (see saveChunk). A client that stops sending before the last piece
// leaves that file behind, so the manager removes it once the upload has
// been idle for Options.UploadIdleTimeout, and removes every unfinished
// one on Close. jupyter_server's LargeFileManager (2.x) writes the pieces
// into the target itself and cleans up nothing, so an abandoned upload
// there leaves a truncated file under the real name.

// defaultUploadIdleTimeout is the Options.UploadIdleTimeout of zero.
const defaultUploadIdleTimeout = time.Hour

// uploadPrefix starts the names that uploadName returns.
const uploadPrefix = tempPrefix + "upload-"

// pendingUploads tracks the temporary files of uploads that are under way.
type pendingUploads struct {
	mu      sync.Mutex
	entries map[string]*pendingUpload // by API path
	timer   *time.Timer               // runs while entries is not empty
	closed  bool
}

type pendingUpload struct {
	// dir and part name the temporary file in m.fsys.
	dir, part string
	lastChunk time.Time
}

func (m *Manager) uploadIdleTimeout() time.Duration {
	if m.opts.UploadIdleTimeout > 0 {
		return m.opts.UploadIdleTimeout
	}
	return defaultUploadIdleTimeout
}

// trackUpload records that a piece of the upload to p is being written to
// part in the folder dir (open as the name dirName of m.fsys). The caller
// holds the upload lock of p. The first piece also removes the temporary
// files that uploads abandoned in dir before the process started.
func (m *Manager) trackUpload(p string, dir *os.File, dirName, part string, chunk int) {
	if chunk == 1 {
		m.removeStaleUploads(dir, dirName, part)
	}
	u := &m.pending
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return
	}
	if u.entries == nil {
		u.entries = make(map[string]*pendingUpload)
	}
	u.entries[p] = &pendingUpload{dir: dirName, part: part, lastChunk: time.Now()}
	if u.timer == nil {
		u.timer = time.AfterFunc(m.uploadIdleTimeout(), m.expireUploads)
	}
}

// expireUploads removes the temporary files of uploads idle for longer
// than the timeout and drops the entries of finished ones. It runs on u.timer and
// schedules the next run while uploads remain.
func (m *Manager) expireUploads() {
	u := &m.pending
	idle := m.uploadIdleTimeout()
	u.mu.Lock()
	var expired []string
	for p, e := range u.entries {
		if time.Since(e.lastChunk) >= idle {
			expired = append(expired, p)
		}
	}
	u.mu.Unlock()

	for _, p := range expired {
		m.expireUpload(p, idle)
	}

	u.mu.Lock()
	defer u.mu.Unlock()
	u.timer = nil
	if u.closed || len(u.entries) == 0 {
		return
	}
	next := idle
	for _, e := range u.entries {
		next = min(next, idle-time.Since(e.lastChunk))
	}
	u.timer = time.AfterFunc(max(next, 0), m.expireUploads)
}

// expireUpload removes the temporary file of the upload to p if it is
// still idle once no piece of it is being written.
func (m *Manager) expireUpload(p string, idle time.Duration) {
	unlock := m.uploads.lock(p)
	defer unlock()
	u := &m.pending
	u.mu.Lock()
	e := u.entries[p]
	if e == nil || time.Since(e.lastChunk) < idle {
		u.mu.Unlock()
		return
	}
	delete(u.entries, p)
	u.mu.Unlock()
	m.removeUpload(p, e, "idle")
}

// removeUpload removes the temporary file of an unfinished upload. A
// finished or failed upload has none left, which is fine.
func (m *Manager) removeUpload(p string, e *pendingUpload, reason string) {
	err := m.fsys.Remove(filepath.Join(e.dir, e.part))
	switch {
	case err == nil:
		m.log.Info("unfinished upload removed", "path", p, "reason", reason,
			"last_chunk", e.lastChunk.UTC().Format(time.RFC3339))
	case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, unix.ENOTDIR):
		m.log.Warn("removing unfinished upload failed", "path", p, "err", err)
	}
}

// closeUploads removes the temporary files of every unfinished upload and
// stops tracking new ones, since no client can finish them once the
// Manager is closed.
func (m *Manager) closeUploads() {
	u := &m.pending
	u.mu.Lock()
	u.closed = true
	if u.timer != nil {
		u.timer.Stop()
		u.timer = nil
	}
	entries := u.entries
	u.entries = nil
	u.mu.Unlock()

	for p, e := range entries {
		unlock := m.uploads.lock(p)
		m.removeUpload(p, e, "shutdown")
		unlock()
	}
}

// removeStaleUploads removes the upload files in dir, other than part,
// that no piece has been written to for longer than the idle timeout:
// leftovers of a process that ended before it could remove them.
func (m *Manager) removeStaleUploads(dir *os.File, dirName, part string) {
	// A second descriptor, so that reading the folder leaves the offset
	// of dir alone.
	list, err := m.fsys.Open(dirName)
	if err != nil {
		return
	}
	defer list.Close()
	cutoff := time.Now().Add(-m.uploadIdleTimeout())
	for {
		names, err := list.Readdirnames(256)
		for _, name := range names {
			if name == part || !strings.HasPrefix(name, uploadPrefix) {
				continue
			}
			var st unix.Stat_t
			err := unix.Fstatat(fd(dir), name, &st, unix.AT_SYMLINK_NOFOLLOW)
			if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG ||
				time.Unix(st.Mtim.Unix()).After(cutoff) {
				continue
			}
			if err := unix.Unlinkat(fd(dir), name, 0); err == nil {
				m.log.Info("stale upload file removed", "folder", filepath.ToSlash(dirName), "name", name)
			}
		}
		if err != nil {
			return
		}
	}
}

// chunkModel returns the model for the reply to a piece before the last
// one. jupyter_server replies with the model of the partly written file
// without content, so this is that model, with the size and times of the
// temporary file part in dir.
func (m *Manager) chunkModel(p string, dir *os.File, part string, fi fs.FileInfo) *Model {
	model := m.baseModel(p, fi)
	model.Type = "file"
	model.Mimetype = guessMimetype(model.Name)
	// The target may not exist yet, so ask about the file being written.
	model.Writable = unix.Faccessat(fd(dir), part, unix.W_OK, 0) == nil
	return model
}
