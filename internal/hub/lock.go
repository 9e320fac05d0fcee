package hub

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// LockFileName is the file in the data folder that a running hub holds an
// exclusive flock(2) on, so that a second hub cannot restore and serve
// the same user servers. The file contains the holder's process id.
const LockFileName = "hub.lock"

// DataDirLock is the lock of a hub on its data folder.
type DataDirLock struct{ file *os.File }

// ErrDataDirInUse is wrapped by the error of LockDataDir when another hub
// holds the lock.
var ErrDataDirInUse = errors.New("in use")

// LockDataDir takes an exclusive lock on DIR/hub.lock, which lasts until
// Close or the end of the process. When another process holds it, the
// error names the folder and the holder's process id.
//
// NOTE: `jupygo hub set-password` takes no lock, because it only writes
// one user row and SQLite and PostgreSQL serialise concurrent writers.
func LockDataDir(dir string) (*DataDirLock, error) {
	path := filepath.Join(dir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the data folder lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if !errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		return nil, fmt.Errorf("the data folder %s is %w by another hub (%s holds %s): "+
			"stop that hub, or give this one another --data-dir", dir, ErrDataDirInUse,
			lockHolder(f), path)
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("writing the process id to %s: %w", path, err)
	}
	return &DataDirLock{file: f}, nil
}

// lockHolder describes the process whose id the lock file contains.
func lockHolder(f *os.File) string {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil {
		return "a process of unknown id"
	}
	return "process " + strconv.Itoa(pid)
}

// Close releases the lock. The file stays, because removing it would let
// a hub that opened it just before lock the removed file while a third
// hub locks a new one.
func (l *DataDirLock) Close() error { return l.file.Close() }
