package contents

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Every change to a file's bytes goes through a temporary file in the same
// folder: its name starts with tempPrefix, it is written and fsynced, then
// renamed over (or, for new files, onto) the target, and the folder is
// fsynced. A reader therefore sees the old bytes or the new ones, never a
// mix, and a failed write (a full disk, a crash) leaves the old file as it
// was. All steps address the folder by an open descriptor, so a rename
// lands in the folder that was checked.

// errLinkEscapes reports a symbolic link whose target is outside the root.
// isEscape recognizes it with os.Root's own error.
var errLinkEscapes = &fs.PathError{Op: "readlink", Err: errors.New("path escapes from parent")}

// writeOptions sets up a file that writeTemp creates.
type writeOptions struct {
	// perm is the permission of the file. Without exactPerm the process
	// umask applies, as for any new file.
	perm      fs.FileMode
	exactPerm bool
	// mtime, when set, becomes the file's modification time.
	mtime time.Time
}

// openDir opens the folder name of m.fsys.
func (m *Manager) openDir(name string) (*os.File, error) {
	dir, err := m.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	fi, err := dir.Stat()
	if err != nil {
		dir.Close()
		return nil, err
	}
	if !fi.IsDir() {
		dir.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.ENOTDIR}
	}
	return dir, nil
}

// fd returns the descriptor of an open folder.
func fd(dir *os.File) int {
	return int(dir.Fd())
}

// tempName returns a fresh name for a temporary file.
func tempName() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return tempPrefix + hex.EncodeToString(b[:])
}

// writeTemp creates a temporary file in dir, fills it with write, and
// fsyncs it. It returns the file's name; on error no file is left.
func writeTemp(dir *os.File, opt writeOptions, write func(io.Writer) error) (string, error) {
	for range 100 {
		name := tempName()
		tfd, err := unix.Openat(fd(dir), name,
			unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, uint32(opt.perm.Perm()))
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("creating temporary file: %w", err)
		}
		f := os.NewFile(uintptr(tfd), name)
		if err := fillFile(dir, f, opt, write); err != nil {
			_ = unix.Unlinkat(fd(dir), name, 0)
			return "", err
		}
		return name, nil
	}
	return "", errors.New("creating temporary file: no free name")
}

func fillFile(dir, f *os.File, opt writeOptions, write func(io.Writer) error) error {
	err := fillOpen(f, opt, write)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing temporary file: %w", cerr)
	}
	if err == nil && !opt.mtime.IsZero() {
		ts := unix.NsecToTimespec(opt.mtime.UnixNano())
		err = unix.UtimesNanoAt(fd(dir), filepath.Base(f.Name()), []unix.Timespec{ts, ts}, 0)
		if err != nil {
			err = fmt.Errorf("setting modification time: %w", err)
		}
	}
	return err
}

func fillOpen(f *os.File, opt writeOptions, write func(io.Writer) error) error {
	if opt.exactPerm {
		if err := f.Chmod(opt.perm.Perm()); err != nil {
			return fmt.Errorf("setting permissions: %w", err)
		}
	}
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing file: %w", err)
	}
	return nil
}

// replaceFile atomically replaces (or creates) the file name in dir with
// the bytes that write produces.
func replaceFile(dir *os.File, name string, opt writeOptions, write func(io.Writer) error) error {
	tmp, err := writeTemp(dir, opt, write)
	if errors.Is(err, fs.ErrPermission) && unix.Faccessat(fd(dir), name, unix.W_OK, 0) == nil {
		return writeInPlace(dir, name, write)
	}
	if err != nil {
		return err
	}
	if err := unix.Renameat(fd(dir), tmp, fd(dir), name); err != nil {
		_ = unix.Unlinkat(fd(dir), tmp, 0)
		return fmt.Errorf("renaming temporary file: %w", err)
	}
	return syncDir(dir)
}

// writeInPlace overwrites the existing file name in dir, for a writable
// file in a folder where no temporary file may be created, as
// jupyter_server falls back to in that case.
//
// NOTE: this write is not atomic: a failure or crash during it can leave
// the file truncated.
func writeInPlace(dir *os.File, name string, write func(io.Writer) error) error {
	ffd, err := unix.Openat(fd(dir), name, unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("opening file: %w", err)
	}
	f := os.NewFile(uintptr(ffd), name)
	err = fillOpen(f, writeOptions{}, write)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing file: %w", cerr)
	}
	return err
}

// createFile atomically creates the file name in dir with the bytes that
// write produces. An existing file of that name gives an error matching
// fs.ErrExist and stays as it was.
func (m *Manager) createFile(dir *os.File, name string, opt writeOptions, write func(io.Writer) error) error {
	tmp, err := writeTemp(dir, opt, write)
	if err != nil {
		return err
	}
	if err := m.renameNoReplace(dir, tmp, dir, name); err != nil {
		_ = unix.Unlinkat(fd(dir), tmp, 0)
		return err
	}
	return syncDir(dir)
}

// renameNoReplace renames oldName in oldDir to newName in newDir unless
// newName exists, in which case it returns an error matching fs.ErrExist.
// It uses renameat2(RENAME_NOREPLACE). File systems without that flag get
// a hard link and an unlink for files, and a check and a rename under
// m.renameMu for folders.
func (m *Manager) renameNoReplace(oldDir *os.File, oldName string, newDir *os.File, newName string) error {
	err := unix.Renameat2(fd(oldDir), oldName, fd(newDir), newName, unix.RENAME_NOREPLACE)
	if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EOPNOTSUPP) {
		return renameError(err)
	}
	var st unix.Stat_t
	if err := unix.Fstatat(fd(oldDir), oldName, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return renameError(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		err := unix.Linkat(fd(oldDir), oldName, fd(newDir), newName, 0)
		if err == nil {
			return renameError(unix.Unlinkat(fd(oldDir), oldName, 0))
		}
		if errors.Is(err, unix.EEXIST) {
			return renameError(err)
		}
	}

	m.renameMu.Lock()
	defer m.renameMu.Unlock()
	if err := unix.Fstatat(fd(newDir), newName, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil {
		return renameError(unix.EEXIST)
	}
	return renameError(unix.Renameat(fd(oldDir), oldName, fd(newDir), newName))
}

func renameError(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("renaming: %w", err)
}

// syncDir fsyncs a folder so that a rename in it is durable. File systems
// that cannot sync folders return EINVAL, which is ignored.
func syncDir(dir *os.File) error {
	if err := dir.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("syncing folder: %w", err)
	}
	return nil
}

// writeTarget returns the name in m.fsys that a write to name changes: name
// itself, or, when name is a symbolic link, the file it points to, as
// jupyter_server writes through links. A link that leads out of the root
// gives an error for which isEscape is true, unless
// Options.AllowSymlinksOutsideRoot is set.
func (m *Manager) writeTarget(name string) (string, error) {
	for range 40 {
		fi, err := m.fsys.Lstat(name)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return name, nil
		}
		target, err := m.fsys.Readlink(name)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			dir, err := filepath.EvalSymlinks(filepath.Join(m.realRoot, filepath.Dir(name)))
			if err != nil {
				return "", err
			}
			target = filepath.Join(dir, target)
		}
		rel, err := filepath.Rel(m.realRoot, target)
		if err != nil || !filepath.IsLocal(rel) && !m.opts.AllowSymlinksOutsideRoot {
			return "", errLinkEscapes
		}
		name = rel
	}
	return "", &fs.PathError{Op: "readlink", Path: name, Err: syscall.ELOOP}
}

// targetMode returns the permission that a replacement of name in dir
// keeps: the file's own when it exists, else the default for new files.
func targetMode(dir *os.File, name string) (writeOptions, error) {
	var st unix.Stat_t
	err := unix.Fstatat(fd(dir), name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return writeOptions{perm: 0o666}, nil
	}
	if err != nil {
		return writeOptions{}, err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return writeOptions{}, &fs.PathError{Op: "open", Path: name, Err: syscall.EISDIR}
	}
	return writeOptions{perm: fs.FileMode(st.Mode & 0o777), exactPerm: true}, nil
}

// writeFile atomically replaces the file at clean API path p with data.
func (m *Manager) writeFile(p string, data []byte) error {
	return m.writeFileFunc(p, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

func (m *Manager) writeFileFunc(p string, write func(io.Writer) error) error {
	name, err := m.writeTarget(m.name(p))
	if err != nil {
		return err
	}
	dir, err := m.openDir(filepath.Dir(name))
	if err != nil {
		return err
	}
	defer dir.Close()
	base := filepath.Base(name)
	opt, err := targetMode(dir, base)
	if err != nil {
		return err
	}
	return replaceFile(dir, base, opt, write)
}

// keyedMutex is a set of mutexes, one for each key in use.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	sync.Mutex
	users int
}

// lock locks the mutex of key and returns the function that unlocks it.
func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = make(map[string]*keyedLock)
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()

	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		l.users--
		if l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
