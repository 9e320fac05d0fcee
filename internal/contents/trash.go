package contents

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// Deleted files and folders go to a trash directory of the FreeDesktop.org
// Trash specification 1.0, where desktop file managers list and restore
// them. A trash directory holds the items in files/ and, for each item
// NAME, the text file info/NAME.trashinfo:
//
//	[Trash Info]
//	Path=/home/ada/notes/a%20b.ipynb
//	DeletionDate=2026-01-02T15:04:05
//
// Path is the item's original path, percent-encoded; DeletionDate is local
// time. An item on the file system of the home trash ($XDG_DATA_HOME/Trash,
// by default ~/.local/share/Trash) goes there. An item on another file
// system goes to $topdir/.Trash/$uid when an administrator created
// $topdir/.Trash with the sticky bit, else to $topdir/.Trash-$uid, where
// $topdir is the mount point of that file system. Topdir trashes record
// Path relative to $topdir, as the specification allows and send2trash
// does, so the entries stay valid when the file system is mounted
// elsewhere.
//
// An item is moved with rename(2) only, never copied, so a failure leaves
// it where it was.
//
// NOTE: the optional directorysizes cache of the specification is not
// written. File managers compute the size of a trashed folder without it.

// errNoTrash reports that no trash directory can take an item.
var errNoTrash = errors.New("no usable trash directory")

// maxTrashTries bounds the names tried for one item in files/.
const maxTrashTries = 1000

// trashDir is an open trash directory.
type trashDir struct {
	path string
	// topdir is the mount point that Path keys are relative to, or "" for
	// the home trash, whose Path keys are absolute.
	topdir      string
	files, info *os.File
}

func (t *trashDir) Close() {
	t.files.Close()
	t.info.Close()
}

// homeTrashPath returns $XDG_DATA_HOME/Trash, or ~/.local/share/Trash when
// XDG_DATA_HOME is unset or not an absolute path.
func homeTrashPath() (string, error) {
	if dir := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "Trash"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "share", "Trash"), nil
}

// findTrash opens the trash directory for an item on device dev whose
// folder has the real path dir.
func findTrash(dev uint64, dir string) (*trashDir, error) {
	home, err := homeTrashPath()
	if err == nil {
		homeDev, err := deviceOf(home)
		if err == nil && homeDev == dev {
			return openTrash(home, "")
		}
	}
	topdir, err := mountPoint(dir, dev)
	if err != nil {
		return nil, err
	}
	return topdirTrash(topdir, os.Getuid())
}

// deviceOf returns the device of path, or of its nearest existing parent
// when path does not exist yet, as a trash directory is created on first
// use.
func deviceOf(path string) (uint64, error) {
	for {
		var st unix.Stat_t
		err := unix.Stat(path, &st)
		if err == nil {
			return uint64(st.Dev), nil
		}
		parent := filepath.Dir(path)
		if !errors.Is(err, unix.ENOENT) || parent == path {
			return 0, fmt.Errorf("finding the file system of %s: %w", path, err)
		}
		path = parent
	}
}

// mountPoint returns the mount point of the file system dev that holds the
// folder dir: the highest folder above dir that is still on dev.
func mountPoint(dir string, dev uint64) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return "", fmt.Errorf("finding the mount point of %s: %w", dir, err)
	}
	if uint64(st.Dev) != dev {
		return "", fmt.Errorf("%w: %s is not on the file system of the item", errNoTrash, dir)
	}
	for {
		parent := filepath.Dir(dir)
		if parent == dir {
			return dir, nil
		}
		if err := unix.Stat(parent, &st); err != nil {
			return "", fmt.Errorf("finding the mount point of %s: %w", dir, err)
		}
		if uint64(st.Dev) != dev {
			return dir, nil
		}
		dir = parent
	}
}

// topdirTrash opens the trash of user uid on the file system mounted at
// topdir, creating $topdir/.Trash-$uid when no shared trash is set up.
func topdirTrash(topdir string, uid int) (*trashDir, error) {
	shared := filepath.Join(topdir, ".Trash")
	fi, err := os.Lstat(shared)
	if err == nil && fi.IsDir() && fi.Mode()&fs.ModeSticky != 0 {
		if t, err := openTrash(filepath.Join(shared, strconv.Itoa(uid)), topdir); err == nil {
			return t, nil
		}
	}

	own := filepath.Join(topdir, ".Trash-"+strconv.Itoa(uid))
	if err := os.Mkdir(own, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%w on the item's file system: creating %s: %w", errNoTrash, own, err)
	}
	// Others may write to topdir, so the trash must be a real folder of
	// this user, not a link or a folder someone else planted.
	var st unix.Stat_t
	if err := unix.Lstat(own, &st); err != nil {
		return nil, fmt.Errorf("%w on the item's file system: %w", errNoTrash, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || int(st.Uid) != uid {
		return nil, fmt.Errorf("%w on the item's file system: %s is not a folder owned by uid %d",
			errNoTrash, own, uid)
	}
	return openTrash(own, topdir)
}

// openTrash opens the trash directory path, creating it and its files/
// and info/ folders with mode 0700 when they are missing.
func openTrash(path, topdir string) (*trashDir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("creating trash: %w", err)
	}
	t := &trashDir{path: path, topdir: topdir}
	var err error
	if t.files, err = openTrashFolder(path, "files"); err != nil {
		return nil, err
	}
	if t.info, err = openTrashFolder(path, "info"); err != nil {
		t.files.Close()
		return nil, err
	}
	return t, nil
}

func openTrashFolder(trash, name string) (*os.File, error) {
	path := filepath.Join(trash, name)
	if err := os.Mkdir(path, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("creating trash: %w", err)
	}
	dfd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening trash: %w", &fs.PathError{Op: "open", Path: path, Err: err})
	}
	return os.NewFile(uintptr(dfd), path), nil
}

// trashInfo returns the .trashinfo text for the item at the real path
// orig, deleted at when.
func (t *trashDir) trashInfo(orig string, when time.Time) string {
	if t.topdir != "" {
		if rel, err := filepath.Rel(t.topdir, orig); err == nil && filepath.IsLocal(rel) {
			orig = rel
		}
	}
	return "[Trash Info]\nPath=" + urlEscape(orig) +
		"\nDeletionDate=" + when.Format("2006-01-02T15:04:05") + "\n"
}

// trashName returns the i-th name to try in files/ for an item named name:
// the name itself, then "base 1.ext", "base 2.ext"…, as send2trash names
// them, and random suffixes after many collisions. The base is shortened,
// never inside a UTF-8 sequence, so that the info file's name fits in
// NAME_MAX bytes.
func trashName(name string, i int) string {
	suffix := ""
	switch {
	case i >= 100:
		suffix = " " + strings.TrimPrefix(tempName(), tempPrefix)
	case i > 0:
		suffix = " " + strconv.Itoa(i)
	}
	base, ext := pySplitExt(name)
	room := unix.NAME_MAX - len(".trashinfo") - len(suffix) - len(ext)
	if room < 1 {
		// No name that fits keeps an extension this long.
		base, ext = name, ""
		room = unix.NAME_MAX - len(".trashinfo") - len(suffix)
	}
	if len(base) > room {
		cut := room
		for cut > 0 && !utf8.RuneStart(base[cut]) {
			cut--
		}
		if cut == 0 {
			cut = room
		}
		base = base[:cut]
	}
	return base + suffix + ext
}

// moveToTrash moves the entry base of the folder dir, whose real path is
// dirPath, into trash t. It returns the name the entry got in files/.
func (m *Manager) moveToTrash(t *trashDir, dir *os.File, dirPath, base string) (string, error) {
	info := t.trashInfo(filepath.Join(dirPath, base), time.Now())
	for i := range maxTrashTries {
		name := trashName(base, i)
		// The info file comes first and is created exclusively, which
		// claims the name against other programs trashing at once.
		err := writeNewFile(t.info, name+".trashinfo", info)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("writing trash info: %w", err)
		}
		err = m.renameNoReplace(dir, base, t.files, name)
		if err == nil {
			// The item has moved, so the request succeeds even when
			// the move cannot be made durable.
			for _, d := range []*os.File{t.files, dir} {
				if err := syncDir(d); err != nil {
					m.log.Warn("syncing folder after a move to the trash failed", "name", base, "err", err)
				}
			}
			return name, nil
		}
		_ = unix.Unlinkat(fd(t.info), name+".trashinfo", 0)
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("%w: no free name for %s", errNoTrash, base)
}

// writeNewFile creates the file name in dir with text, failing with an
// error matching fs.ErrExist when name exists, and fsyncs it.
func writeNewFile(dir *os.File, name, text string) error {
	nfd, err := unix.Openat(fd(dir), name,
		unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return &fs.PathError{Op: "create", Path: name, Err: err}
	}
	f := os.NewFile(uintptr(nfd), name)
	_, err = f.WriteString(text)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = unix.Unlinkat(fd(dir), name, 0)
	}
	return err
}

// trash moves the entry name of m.fsys, whose API path is p, to the trash.
// Errors are *httpapi.Error values for the client.
func (m *Manager) trash(p, name string) error {
	dirName := filepath.Dir(name)
	dir, err := m.openDir(dirName)
	if err != nil {
		return fsError("deleting", p, err)
	}
	defer dir.Close()
	base := filepath.Base(name)
	var st unix.Stat_t
	if err := unix.Fstatat(fd(dir), base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fsError("deleting", p, &fs.PathError{Op: "stat", Path: name, Err: err})
	}
	dirPath, err := m.folderPath(dir, dirName)
	if err != nil {
		return trashError(p, err)
	}
	t, err := findTrash(uint64(st.Dev), dirPath)
	if err != nil {
		return trashError(p, err)
	}
	defer t.Close()
	trashed, err := m.moveToTrash(t, dir, dirPath, base)
	if err != nil {
		return trashError(p, err)
	}
	m.log.Info("moved to trash", "path", p, "trash", t.path, "name", trashed)
	return nil
}

// trashCheckpoint moves the checkpoint of the trashed file p to the trash
// too. The file is already in the trash, so a failure is logged.
func (m *Manager) trashCheckpoint(p string) {
	dir, name := m.checkpointFile(p, CheckpointID)
	full := filepath.Join(dir, name)
	fi, err := m.fsys.Lstat(full)
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	if err := m.trash(p, full); err != nil {
		m.log.Warn("moving checkpoint to trash failed", "path", p, "err", err)
	}
}

// folderPath returns the real path of the folder dir, opened as the name
// dirName of m.fsys.
func (m *Manager) folderPath(dir *os.File, dirName string) (string, error) {
	path, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd(dir)))
	if err == nil && filepath.IsAbs(path) && !strings.HasSuffix(path, " (deleted)") {
		return path, nil
	}
	// Without /proc, the path the folder was opened by is the best guess.
	return filepath.EvalSymlinks(filepath.Join(m.realRoot, dirName))
}

// trashError is the error of a failed move to the trash. Its message
// states that nothing was deleted, because the manager never falls back
// to deleting for good.
func trashError(p string, err error) error {
	status, reason := http.StatusInternalServerError, "internal error"
	var errno syscall.Errno
	if errors.As(err, &errno) {
		status, reason = errnoStatus(errno), errno.Error()
	}
	if errors.Is(err, errNoTrash) {
		detail := reason
		status, reason = http.StatusBadRequest, errNoTrash.Error()+" on its file system"
		if errno != 0 {
			reason += " (" + detail + ")"
		}
	}
	return httpapi.Wrap(status, err, fmt.Sprintf(
		"moving %s to the trash failed: %s; nothing was deleted", quote(p), reason))
}
