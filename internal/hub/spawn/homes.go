package spawn

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// HomeMover is an optional interface of a Spawner that keeps a home folder
// per user name, as SimpleLocalProcess does. The hub calls it when it
// renames or deletes a user, so that the files follow their owner and a
// later user of the same name does not inherit them. Named servers share
// their user's home folder, so it covers them too. Call it only while none
// of the user's servers runs.
type HomeMover interface {
	// RenameHome moves the home folder of oldName to where newName's
	// belongs. When that place exists already it moves nothing and returns
	// an error that wraps ErrHomeExists. A user without a folder is not an
	// error.
	RenameHome(oldName, newName string) error
	// ArchiveHome moves the home folder of name aside, to a folder that no
	// user name leads to, and returns its new path and a function that
	// moves it back. It returns "" and a nil function when the user has no
	// folder. An error that wraps ErrHomeNotMovable means that the folder
	// cannot be moved aside without copying it.
	ArchiveHome(name string, at time.Time) (archived string, restore func() error, err error)
}

var _ HomeMover = (*SimpleLocalProcess)(nil)

// ErrHomeExists reports a rename whose new home folder exists already.
var ErrHomeExists = errors.New("home folder exists already")

// ErrHomeNotMovable reports a home folder that ArchiveHome cannot move
// aside with a rename.
var ErrHomeNotMovable = errors.New("home folder cannot be moved aside")

// userRoot returns the folder that belongs to user alone: the first folder
// on the path of the user's home folder whose name contains the user name,
// and the rest of the path below it. For the default users/{username} both
// are the home folder itself and "". ok is false when the home folder does
// not depend on the user name, so that every user shares it.
func (s *SimpleLocalProcess) userRoot(user string) (root, rest string, ok bool, err error) {
	home, err := s.homePath(user)
	if err != nil {
		return "", "", false, err
	}
	// Any other name shows where the user name enters the path.
	other, err := s.homePath(user + "x")
	if err != nil {
		return "", "", false, err
	}
	parts := strings.Split(home, string(filepath.Separator))
	otherParts := strings.Split(other, string(filepath.Separator))
	for i := range parts {
		if i >= len(otherParts) || parts[i] != otherParts[i] {
			root = strings.Join(parts[:i+1], string(filepath.Separator))
			return root, filepath.Join(parts[i+1:]...), true, nil
		}
	}
	return "", "", false, nil
}

// homeMoves serializes the moves of home folders, so that two renames to
// one name cannot both find it free.
var homeMoves sync.Mutex

func lockHomeMoves() func() {
	homeMoves.Lock()
	return homeMoves.Unlock
}

// RenameHome implements HomeMover. It moves the user's own folder (see
// userRoot), and rejects a home_dir_template that puts the user name in
// two folders of the path, because one rename cannot move both.
func (s *SimpleLocalProcess) RenameHome(oldName, newName string) error {
	defer lockHomeMoves()()
	from, fromRest, ok, err := s.userRoot(oldName)
	if err != nil || !ok {
		return err
	}
	to, toRest, _, err := s.userRoot(newName)
	if err != nil {
		return err
	}
	if fromRest != toRest {
		return fmt.Errorf("renaming the home folder %s: the user name is in more than one "+
			"folder of its path, so it cannot be moved in one step: move it by hand", from)
	}
	if _, err := os.Lstat(to); err == nil {
		return fmt.Errorf("renaming the home folder of %s to %s: %w", oldName, to, ErrHomeExists)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("checking the new home folder: %w", err)
	}
	if _, err := os.Lstat(from); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("renaming the home folder: %w", err)
	}
	return nil
}

// archiveLayout names the folder of each ArchiveHome call in DeletedDir.
// The user name is the name of the folder in it, so that a name of 255
// bytes still fits.
const archiveLayout = "20060102T150405Z"

// ArchiveHome implements HomeMover. It moves the user's own folder (see
// userRoot) to DeletedDir/TIME/NAME, where TIME is at in UTC, with a
// suffix such as -2 when that folder holds the name already.
func (s *SimpleLocalProcess) ArchiveHome(name string, at time.Time) (string, func() error, error) {
	defer lockHomeMoves()()
	from, _, ok, err := s.userRoot(name)
	if err != nil || !ok {
		return "", nil, err
	}
	if _, err := os.Lstat(from); errors.Is(err, os.ErrNotExist) {
		return "", nil, nil
	} else if err != nil {
		return "", nil, fmt.Errorf("checking the home folder: %w", err)
	}

	deleted, err := s.deletedDir(from)
	if err != nil {
		return "", nil, err
	}
	to, err := freeArchivePath(deleted, name, at)
	if err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return "", nil, fmt.Errorf("creating the folder for deleted users' homes: %w", err)
	}

	if err := os.Rename(from, to); err != nil {
		os.Remove(filepath.Dir(to)) // only when empty
		if errors.Is(err, syscall.EXDEV) {
			return "", nil, fmt.Errorf("moving the home folder %s to %s: they are on different "+
				"file systems, so move the home folder elsewhere by hand, then try again: %w",
				from, deleted, ErrHomeNotMovable)
		}
		return "", nil, fmt.Errorf("moving the home folder aside: %w", err)
	}

	restore := func() error {
		defer lockHomeMoves()()
		if _, err := os.Lstat(from); err == nil {
			return fmt.Errorf("moving the home folder back from %s: %s exists again", to, from)
		}
		return os.Rename(to, from)
	}
	return to, restore, nil
}

// deletedDir returns DeletedDir when no user's home folder can lead to it
// or lie in it, given that every user's own folder is in the folder of
// from.
func (s *SimpleLocalProcess) deletedDir(from string) (string, error) {
	if s.DeletedDir == "" {
		return "", fmt.Errorf("the spawner has no DeletedDir to move %s to: %w", from,
			ErrHomeNotMovable)
	}
	deleted, err := filepath.Abs(s.DeletedDir)
	if err != nil {
		return "", err
	}
	homes := filepath.Dir(from)
	if within(deleted, homes) || within(homes, deleted) {
		return "", fmt.Errorf("the folder for deleted users' homes, %s, shares a path with %s, "+
			"where home_dir_template puts each user's folder, so a user name could lead into it. "+
			"Put home folders in a folder of their own, such as users/{username}: %w",
			deleted, homes, ErrHomeNotMovable)
	}
	return deleted, nil
}

// within reports whether path is dir or lies below it. Both are clean
// absolute paths.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// maxArchiveTries bounds the folders freeArchivePath tries for one second.
const maxArchiveTries = 100

// freeArchivePath returns deleted/TIME/name, or deleted/TIME-N/name with
// the first N from 2 whose path does not exist.
func freeArchivePath(deleted, name string, at time.Time) (string, error) {
	stamp := at.UTC().Format(archiveLayout)
	for n := 1; n <= maxArchiveTries; n++ {
		dir := stamp
		if n > 1 {
			dir += "-" + strconv.Itoa(n)
		}
		path := filepath.Join(deleted, dir, name)
		if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
			return path, nil
		} else if err != nil {
			return "", fmt.Errorf("checking %s: %w", path, err)
		}
	}
	return "", fmt.Errorf("no free folder for the home of %s in %s after %d tries", name,
		deleted, maxArchiveTries)
}
