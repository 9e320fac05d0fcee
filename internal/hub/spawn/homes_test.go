package spawn

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeHomeFile creates dir with a file named notebook.ipynb in it.
func writeHomeFile(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notebook.ipynb"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// wantHomeFile fails the test unless dir has the file of writeHomeFile.
func wantHomeFile(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "notebook.ipynb")); err != nil {
		t.Errorf("the file is not in %s: %v", dir, err)
	}
}

// wantMissing fails the test when path exists.
func wantMissing(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists (err %v), want it gone", path, err)
	}
}

func TestRenameHomeMovesFolder(t *testing.T) {
	dir := t.TempDir()
	s := &SimpleLocalProcess{UsersDir: filepath.Join(dir, "users")}
	writeHomeFile(t, filepath.Join(dir, "users", "dave"))
	if err := s.RenameHome("dave", "dave2"); err != nil {
		t.Fatal(err)
	}
	wantHomeFile(t, filepath.Join(dir, "users", "dave2"))
	wantMissing(t, filepath.Join(dir, "users", "dave"))
}

func TestRenameHomeRejectsExisting(t *testing.T) {
	dir := t.TempDir()
	s := &SimpleLocalProcess{UsersDir: filepath.Join(dir, "users")}
	writeHomeFile(t, filepath.Join(dir, "users", "dave"))
	if err := os.MkdirAll(filepath.Join(dir, "users", "dave2"), 0o700); err != nil {
		t.Fatal(err)
	}
	err := s.RenameHome("dave", "dave2")
	if !errors.Is(err, ErrHomeExists) {
		t.Fatalf("RenameHome onto an existing folder: %v, want ErrHomeExists", err)
	}
	wantHomeFile(t, filepath.Join(dir, "users", "dave"))
	wantMissing(t, filepath.Join(dir, "users", "dave2", "notebook.ipynb"))
}

func TestRenameHomeWithoutFolder(t *testing.T) {
	dir := t.TempDir()
	s := &SimpleLocalProcess{UsersDir: filepath.Join(dir, "users")}
	if err := s.RenameHome("dave", "dave2"); err != nil {
		t.Fatal(err)
	}
	wantMissing(t, filepath.Join(dir, "users", "dave2"))
}

func TestRenameHomeTemplate(t *testing.T) {
	dir := t.TempDir()
	s := &SimpleLocalProcess{HomeDir: func(user string) (string, error) {
		return filepath.Join(dir, "homes", user, "work"), nil
	}}
	writeHomeFile(t, filepath.Join(dir, "homes", "dave", "work"))
	writeHomeFile(t, filepath.Join(dir, "homes", "dave"))
	if err := s.RenameHome("dave", "dave2"); err != nil {
		t.Fatal(err)
	}
	wantHomeFile(t, filepath.Join(dir, "homes", "dave2", "work"))
	wantHomeFile(t, filepath.Join(dir, "homes", "dave2"))
	wantMissing(t, filepath.Join(dir, "homes", "dave"))
}

func TestRenameHomeNameTwiceInPath(t *testing.T) {
	dir := t.TempDir()
	s := &SimpleLocalProcess{HomeDir: func(user string) (string, error) {
		return filepath.Join(dir, user, "work-"+user), nil
	}}
	writeHomeFile(t, filepath.Join(dir, "dave", "work-dave"))
	if err := s.RenameHome("dave", "dave2"); err == nil {
		t.Fatal("RenameHome with the user name in two folders succeeded")
	}
	wantHomeFile(t, filepath.Join(dir, "dave", "work-dave"))
}

func TestArchiveHomeMovesAside(t *testing.T) {
	dir := t.TempDir()
	deleted := filepath.Join(dir, "deleted-users")
	s := &SimpleLocalProcess{UsersDir: filepath.Join(dir, "users"), DeletedDir: deleted}
	at := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	writeHomeFile(t, filepath.Join(dir, "users", "dave"))
	archived, restore, err := s.ArchiveHome("dave", at)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(deleted, "20310304T050607Z", "dave"); archived != want {
		t.Errorf("archived to %s, want %s", archived, want)
	}
	wantHomeFile(t, archived)
	wantMissing(t, filepath.Join(dir, "users", "dave"))

	// A second user of the name, deleted in the same second, gets its own
	// folder.
	writeHomeFile(t, filepath.Join(dir, "users", "dave"))
	second, _, err := s.ArchiveHome("dave", at)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(deleted, "20310304T050607Z-2", "dave"); second != want {
		t.Errorf("second archive at %s, want %s", second, want)
	}
	wantHomeFile(t, archived)
	wantHomeFile(t, second)

	if err := restore(); err != nil {
		t.Fatalf("restore: %v", err)
	}
	wantHomeFile(t, filepath.Join(dir, "users", "dave"))
	wantMissing(t, archived)
}

func TestArchiveHomeWithoutFolder(t *testing.T) {
	dir := t.TempDir()
	s := &SimpleLocalProcess{UsersDir: filepath.Join(dir, "users"),
		DeletedDir: filepath.Join(dir, "deleted-users")}
	archived, restore, err := s.ArchiveHome("dave", time.Now())
	if err != nil || archived != "" || restore != nil {
		t.Errorf("ArchiveHome without a folder = %q, %v, %v; want nothing", archived,
			restore != nil, err)
	}
}

func TestArchiveHomeRejectsReachableFolder(t *testing.T) {
	dir := t.TempDir()
	s := &SimpleLocalProcess{DeletedDir: filepath.Join(dir, "deleted-users"),
		HomeDir: func(user string) (string, error) { return filepath.Join(dir, user), nil }}
	writeHomeFile(t, filepath.Join(dir, "dave"))
	_, _, err := s.ArchiveHome("dave", time.Now())
	if !errors.Is(err, ErrHomeNotMovable) {
		t.Fatalf("ArchiveHome into a folder that a user name leads to: %v, "+
			"want ErrHomeNotMovable", err)
	}
	wantHomeFile(t, filepath.Join(dir, "dave"))
	wantMissing(t, filepath.Join(dir, "deleted-users"))
}

func TestArchiveHomeWithoutDeletedDir(t *testing.T) {
	dir := t.TempDir()
	s := &SimpleLocalProcess{UsersDir: filepath.Join(dir, "users")}
	writeHomeFile(t, filepath.Join(dir, "users", "dave"))
	if _, _, err := s.ArchiveHome("dave", time.Now()); !errors.Is(err, ErrHomeNotMovable) {
		t.Fatalf("ArchiveHome without DeletedDir: %v, want ErrHomeNotMovable", err)
	}
	wantHomeFile(t, filepath.Join(dir, "users", "dave"))
}
