package collab

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// A spill file keeps the updates that a store closing with a failed
// database and a stopped journal would otherwise lose, as on a data disk
// that is still full when the server stops. It goes to a folder that is
// usually on another file system, and the next start on the same data
// folder adds its records to the histories, as it does the journal's, and
// removes it. The records have the journal's format.
//
// NOTE: /dev/shm and XDG_RUNTIME_DIR are memory, so a spill file outlives
// a restart of the server but not a reboot of the machine.

// spillFolders returns the folders tried in turn for a spill file. Tests
// replace it, so as to leave the machine's folders alone.
var spillFolders = defaultSpillFolders

func defaultSpillFolders() []string {
	var dirs []string
	if d := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(d) {
		dirs = append(dirs, d)
	}
	return append(dirs, "/dev/shm", os.TempDir())
}

// spillName returns the spill file's name for the data folder dir, an
// absolute path, and the effective user: servers of other folders or other
// users share the spill folders.
func spillName(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return fmt.Sprintf("jupygo-collab-%d-%x.journal", os.Geteuid(), sum[:8])
}

// spill appends records to the store's spill file in the first folder
// that takes them, and returns the file's path, with the errors of the
// folders before it, or "" and the errors of all folders.
func (s *store) spill(records []journalRecord) (string, error) {
	var b []byte
	for _, r := range records {
		b = appendRecord(b, r.room, r.update)
	}
	var errs []error
	for _, dir := range s.spillDirs {
		path := filepath.Join(dir, spillName(s.dir))
		err := appendSpill(path, b)
		if err == nil {
			return path, errors.Join(errs...)
		}
		errs = append(errs, err)
	}
	return "", errors.Join(errs...)
}

// appendSpill appends b to the spill file at path, creating it when
// missing. The folders are shared, so a file that another user owns, or a
// link, is an error.
func appendSpill(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	if err := checkSpillOwner(f); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// checkSpillOwner returns an error unless f is a regular file of the
// effective user that no one else may write.
func checkSpillOwner(f *os.File) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	switch {
	case !info.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", f.Name())
	case !ok || int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%s belongs to another user", f.Name())
	case info.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%s may be written by other users (mode %v)", f.Name(), info.Mode().Perm())
	}
	return nil
}

// readSpills returns the records of the store's spill files and their
// paths. A file that fails the owner check is left alone and logged.
func (s *store) readSpills() ([]journalRecord, []string) {
	var records []journalRecord
	var paths []string
	for _, dir := range s.spillDirs {
		path := filepath.Join(dir, spillName(s.dir))
		got, err := readSpill(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil && got == nil {
			s.log.Error("spill file of edits from the last stop not read: if it is not this "+
				"server's, remove it", "path", path, "err", err)
			continue
		}
		if err != nil {
			s.log.Warn("spill file of edits from the last stop ends with a damaged record, "+
				"which is dropped", "path", path, "records", len(got), "err", err)
		}
		records = append(records, got...)
		paths = append(paths, path)
	}
	return records, paths
}

// readSpill returns the records of the spill file at path, with an error
// for a damaged record after them. A file that fails checkSpillOwner
// returns no records.
func readSpill(path string) ([]journalRecord, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := checkSpillOwner(f); err != nil {
		return nil, err
	}
	records, err := readJournal(bufio.NewReader(f))
	if records == nil {
		records = []journalRecord{}
	}
	return records, err
}
