package contents

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// newTrashServer serves a fresh folder with DeleteToTrash on and returns
// it with its home trash, in a temporary XDG_DATA_HOME.
func newTrashServer(t *testing.T) (*testServer, string) {
	t.Helper()
	base := t.TempDir()
	t.Setenv("HOME", filepath.Join(base, "home"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(base, "data"))
	return newTestServer(t, Options{DeleteToTrash: true}), filepath.Join(base, "data", "Trash")
}

// readInfo returns the info file of the trashed item name.
func readInfo(t *testing.T, trash, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(trash, "info", name+".trashinfo"))
	if err != nil {
		t.Fatalf("info file of %s: %v", name, err)
	}
	return string(data)
}

var infoPattern = regexp.MustCompile(`^\[Trash Info\]\nPath=(.*)\nDeletionDate=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\n$`)

// parseInfo splits an info file into its Path and DeletionDate.
func parseInfo(t *testing.T, info string) (path string, date time.Time) {
	t.Helper()
	match := infoPattern.FindStringSubmatch(info)
	if match == nil {
		t.Fatalf("info file is not in the format of the Trash specification:\n%s", info)
	}
	date, err := time.ParseInLocation("2006-01-02T15:04:05", match[2], time.Local)
	if err != nil {
		t.Fatal(err)
	}
	return match[1], date
}

func TestTrashFile(t *testing.T) {
	s, trash := newTrashServer(t)
	const name = "a b#ü.txt"
	s.writeFile(name, "A")
	s.call("POST", "/api/contents/"+urlEscape(name)+"/checkpoints", nil, http.StatusCreated)

	before := time.Now().Truncate(time.Second)
	s.call("DELETE", "/api/contents/"+urlEscape(name), nil, http.StatusNoContent)
	after := time.Now()

	if got := s.readFile(name); got != "<missing>" {
		t.Errorf("file still in the root: %q", got)
	}
	data, err := os.ReadFile(filepath.Join(trash, "files", name))
	if err != nil || string(data) != "A" {
		t.Errorf("trashed file: %q, %v", data, err)
	}
	path, date := parseInfo(t, readInfo(t, trash, name))
	wantPath := urlEscape(s.m.realRoot) + "/a%20b%23%C3%BC.txt"
	if path != wantPath {
		t.Errorf("Path=%s, want %s", path, wantPath)
	}
	if date.Before(before) || date.After(after) {
		t.Errorf("DeletionDate %v is not between %v and %v", date, before, after)
	}

	const checkpoint = "a b#ü-checkpoint.txt"
	if data, err := os.ReadFile(filepath.Join(trash, "files", checkpoint)); err != nil || string(data) != "A" {
		t.Errorf("trashed checkpoint: %q, %v", data, err)
	}
	path, _ = parseInfo(t, readInfo(t, trash, checkpoint))
	if want := urlEscape(s.m.realRoot) + "/.ipynb_checkpoints/a%20b%23%C3%BC-checkpoint.txt"; path != want {
		t.Errorf("checkpoint Path=%s, want %s", path, want)
	}
	if got := s.readFile(".ipynb_checkpoints/" + checkpoint); got != "<missing>" {
		t.Errorf("checkpoint still in the root: %q", got)
	}

	for _, dir := range []string{trash, filepath.Join(trash, "files"), filepath.Join(trash, "info")} {
		fi, err := os.Stat(dir)
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, %v; want 0700", dir, fi.Mode().Perm(), err)
		}
	}
}

func TestTrashFolder(t *testing.T) {
	s, trash := newTrashServer(t)
	s.writeFile("d/.hidden", "H")
	s.writeFile("d/sub/x.txt", "X")
	s.writeFile("d/.ipynb_checkpoints/x-checkpoint.txt", "X0")
	before := treeDigest(t, filepath.Join(s.root, "d"))

	s.call("DELETE", "/api/contents/d", nil, http.StatusNoContent)

	if _, err := os.Lstat(filepath.Join(s.root, "d")); !os.IsNotExist(err) {
		t.Errorf("folder still in the root: %v", err)
	}
	if diff := cmp.Diff(before, treeDigest(t, filepath.Join(trash, "files", "d"))); diff != "" {
		t.Errorf("trashed folder differs (-deleted +trashed):\n%s", diff)
	}
	if path, _ := parseInfo(t, readInfo(t, trash, "d")); path != urlEscape(s.m.realRoot)+"/d" {
		t.Errorf("Path=%s", path)
	}
}

func TestTrashCollisions(t *testing.T) {
	s, trash := newTrashServer(t)
	for i, content := range []string{"first", "second", "third"} {
		s.writeFile("sub/a.txt", content)
		s.call("DELETE", "/api/contents/sub/a.txt", nil, http.StatusNoContent)
		name := "a.txt"
		if i > 0 {
			name = "a " + strconv.Itoa(i) + ".txt"
		}
		if data, err := os.ReadFile(filepath.Join(trash, "files", name)); err != nil || string(data) != content {
			t.Errorf("%s in the trash: %q, %v; want %q", name, data, err, content)
		}
		if path, _ := parseInfo(t, readInfo(t, trash, name)); path != urlEscape(s.m.realRoot)+"/sub/a.txt" {
			t.Errorf("%s: Path=%s", name, path)
		}
	}

	// An item in files/ without an info file still takes its name.
	writeFile(t, filepath.Join(trash, "files", "b.txt"), "orphan")
	s.writeFile("b.txt", "B")
	s.call("DELETE", "/api/contents/b.txt", nil, http.StatusNoContent)
	if data, _ := os.ReadFile(filepath.Join(trash, "files", "b.txt")); string(data) != "orphan" {
		t.Errorf("trashing replaced an item in files/: %q", data)
	}
	if data, _ := os.ReadFile(filepath.Join(trash, "files", "b 1.txt")); string(data) != "B" {
		t.Errorf("b 1.txt in the trash: %q", data)
	}
	if _, err := os.Stat(filepath.Join(trash, "info", "b.txt.trashinfo")); !os.IsNotExist(err) {
		t.Errorf("info file left for the taken name: %v", err)
	}
}

func TestTrashName(t *testing.T) {
	tests := []struct {
		name string
		i    int
		want string
	}{
		{"a.txt", 0, "a.txt"},
		{"a.txt", 2, "a 2.txt"},
		{"archive.tar.gz", 1, "archive.tar 1.gz"},
		{".bashrc", 1, ".bashrc 1"},
		{"Untitled.ipynb", 10, "Untitled 10.ipynb"},
	}
	for _, tc := range tests {
		if got := trashName(tc.name, tc.i); got != tc.want {
			t.Errorf("trashName(%q, %d) = %q, want %q", tc.name, tc.i, got, tc.want)
		}
	}

	long := strings.Repeat("ü", 200) + ".ipynb"
	for _, i := range []int{0, 7, 500} {
		got := trashName(long, i)
		if len(got)+len(".trashinfo") > unix.NAME_MAX {
			t.Errorf("trashName(long, %d) has %d bytes", i, len(got))
		}
		if !utf8.ValidString(got) || !strings.HasSuffix(got, ".ipynb") {
			t.Errorf("trashName(long, %d) = %q", i, got)
		}
	}
	if a, b := trashName("a.txt", 100), trashName("a.txt", 100); a == b {
		t.Errorf("names after many collisions repeat: %q", a)
	}
}

// TestTrashFailureKeepsItem breaks the trash in several ways and checks
// that the delete fails, reports the failure, and leaves everything in
// place.
func TestTrashFailureKeepsItem(t *testing.T) {
	breaks := []struct {
		name     string
		asRoot   bool // whether the break holds for root, which ignores modes
		breakDir func(t *testing.T, trash string)
	}{
		{"trash is a file", true, func(t *testing.T, trash string) {
			writeFile(t, trash, "not a folder")
		}},
		{"info is a file", true, func(t *testing.T, trash string) {
			writeFile(t, filepath.Join(trash, "info"), "not a folder")
		}},
		{"files is a link to a file", true, func(t *testing.T, trash string) {
			file := filepath.Join(t.TempDir(), "f")
			writeFile(t, file, "")
			if err := os.MkdirAll(trash, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(file, filepath.Join(trash, "files")); err != nil {
				t.Fatal(err)
			}
		}},
		{"read-only trash", false, func(t *testing.T, trash string) {
			for _, dir := range []string{"files", "info"} {
				if err := os.MkdirAll(filepath.Join(trash, dir), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(filepath.Join(trash, "info"), 0o500); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(filepath.Join(trash, "info"), 0o700) })
		}},
	}
	for _, tc := range breaks {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.asRoot && os.Geteuid() == 0 {
				t.Skip("root writes to read-only folders")
			}
			s, trash := newTrashServer(t)
			s.writeFile("a.txt", "A")
			s.writeFile("d/.hidden", "H")
			tc.breakDir(t, trash)
			before := treeDigest(t, s.root)
			for _, p := range []string{"a.txt", "d"} {
				status, msg := s.status("DELETE", "/api/contents/"+p, nil)
				if status < 400 {
					t.Errorf("DELETE %s: status %d, want an error", p, status)
				}
				if !strings.Contains(msg, "trash") || !strings.Contains(msg, "nothing was deleted") {
					t.Errorf("DELETE %s: message %q does not say the move to the trash failed", p, msg)
				}
			}
			if diff := cmp.Diff(before, treeDigest(t, s.root)); diff != "" {
				t.Errorf("files changed by a failed delete (-before +after):\n%s", diff)
			}
		})
	}
}

func TestTrashLink(t *testing.T) {
	root, sibling := symlinkLayout(t)
	base := t.TempDir()
	t.Setenv("XDG_DATA_HOME", base)
	trash := filepath.Join(base, "Trash")
	s := serveRoot(t, root, root, Options{DeleteToTrash: true})
	before := treeDigest(t, sibling)

	if status, _ := s.status("DELETE", "/api/contents/link-out/secret.txt", nil); status != 404 {
		t.Errorf("delete through a link out of the root: status %d, want 404", status)
	}
	s.call("DELETE", "/api/contents/link-out", nil, http.StatusNoContent)
	fi, err := os.Lstat(filepath.Join(trash, "files", "link-out"))
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("trash does not hold the link: %v, %v", fi, err)
	}
	s.call("DELETE", "/api/contents/link-file-in", nil, http.StatusNoContent)
	if got := s.readFile("a.txt"); got != "A" {
		t.Errorf("trashing a link moved its target: a.txt = %q", got)
	}
	if status, _ := s.status("DELETE", "/api/contents/link-rel-out/x", nil); status != 404 {
		t.Errorf("delete below a link out of the root: status %d, want 404", status)
	}
	if diff := cmp.Diff(before, treeDigest(t, sibling)); diff != "" {
		t.Errorf("folder outside the root changed (-before +after):\n%s", diff)
	}
}

func TestDeleteWithoutTrash(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("a.txt", "A")
	s.writeFile("full/.hidden", "H")
	s.writeFile("checkpoints-only/.ipynb_checkpoints/x-checkpoint.txt", "X")
	if err := os.Mkdir(filepath.Join(s.root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}

	s.call("DELETE", "/api/contents/a.txt", nil, http.StatusNoContent)
	if got := s.readFile("a.txt"); got != "<missing>" {
		t.Errorf("file left after delete: %q", got)
	}
	status, msg := s.status("DELETE", "/api/contents/full", nil)
	if status != http.StatusBadRequest || msg != "directory not empty: 'full'" {
		t.Errorf("non-empty folder: status %d, message %q; want 400 directory not empty", status, msg)
	}
	if got := s.readFile("full/.hidden"); got != "H" {
		t.Errorf("refused delete changed the folder: .hidden = %q", got)
	}
	for _, p := range []string{"checkpoints-only", "empty"} {
		s.call("DELETE", "/api/contents/"+p, nil, http.StatusNoContent)
		if _, err := os.Lstat(filepath.Join(s.root, p)); !os.IsNotExist(err) {
			t.Errorf("%s left after delete: %v", p, err)
		}
	}

	always := newTestServer(t, Options{AlwaysDeleteDir: true})
	always.writeFile("full/.hidden", "H")
	always.writeFile("full/sub/x", "X")
	always.call("DELETE", "/api/contents/full", nil, http.StatusNoContent)
	if _, err := os.Lstat(filepath.Join(always.root, "full")); !os.IsNotExist(err) {
		t.Errorf("folder left with AlwaysDeleteDir: %v", err)
	}
}

func TestTopdirTrash(t *testing.T) {
	uid := os.Getuid()
	own := ".Trash-" + strconv.Itoa(uid)

	t.Run("own trash created", func(t *testing.T) {
		topdir := t.TempDir()
		trash, err := topdirTrash(topdir, uid)
		if err != nil {
			t.Fatal(err)
		}
		defer trash.Close()
		if trash.path != filepath.Join(topdir, own) {
			t.Errorf("trash at %s, want %s", trash.path, filepath.Join(topdir, own))
		}
		fi, err := os.Stat(trash.path)
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("mode %v, %v; want 0700", fi.Mode().Perm(), err)
		}
		info := trash.trashInfo(filepath.Join(topdir, "a b", "c.txt"), time.Now())
		if path, _ := parseInfo(t, info); path != "a%20b/c.txt" {
			t.Errorf("Path=%s, want one relative to the topdir", path)
		}
	})

	t.Run("shared trash with sticky bit", func(t *testing.T) {
		topdir := t.TempDir()
		shared := filepath.Join(topdir, ".Trash")
		if err := os.Mkdir(shared, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
			t.Fatal(err)
		}
		trash, err := topdirTrash(topdir, uid)
		if err != nil {
			t.Fatal(err)
		}
		defer trash.Close()
		if want := filepath.Join(shared, strconv.Itoa(uid)); trash.path != want {
			t.Errorf("trash at %s, want %s", trash.path, want)
		}
	})

	t.Run("shared trash without sticky bit", func(t *testing.T) {
		topdir := t.TempDir()
		if err := os.Mkdir(filepath.Join(topdir, ".Trash"), 0o777); err != nil {
			t.Fatal(err)
		}
		trash, err := topdirTrash(topdir, uid)
		if err != nil {
			t.Fatal(err)
		}
		defer trash.Close()
		if trash.path != filepath.Join(topdir, own) {
			t.Errorf("trash at %s, want %s", trash.path, filepath.Join(topdir, own))
		}
	})

	t.Run("own trash is a link", func(t *testing.T) {
		topdir := t.TempDir()
		if err := os.Symlink(t.TempDir(), filepath.Join(topdir, own)); err != nil {
			t.Fatal(err)
		}
		if trash, err := topdirTrash(topdir, uid); !errors.Is(err, errNoTrash) {
			if trash != nil {
				trash.Close()
			}
			t.Errorf("err = %v, want errNoTrash", err)
		}
	})

	t.Run("own trash of another user", func(t *testing.T) {
		topdir := t.TempDir()
		if err := os.Mkdir(filepath.Join(topdir, ".Trash-"+strconv.Itoa(uid+1)), 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := topdirTrash(topdir, uid+1); !errors.Is(err, errNoTrash) {
			t.Errorf("err = %v, want errNoTrash for a folder owned by uid %d", err, uid)
		}
	})
}

func TestMountPoint(t *testing.T) {
	dir := t.TempDir()
	dev, err := deviceOf(dir)
	if err != nil {
		t.Fatal(err)
	}
	top, err := mountPoint(dir, dev)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dir+"/", strings.TrimSuffix(top, "/")+"/") {
		t.Errorf("mount point %s is not above %s", top, dir)
	}
	if topDev, _ := deviceOf(top); topDev != dev {
		t.Errorf("mount point %s is on device %d, want %d", top, topDev, dev)
	}
	if parent := filepath.Dir(top); parent != top {
		if parentDev, _ := deviceOf(parent); parentDev == dev {
			t.Errorf("%s above the mount point %s is on the same device", parent, top)
		}
	}
	if _, err := mountPoint(dir, dev+1); !errors.Is(err, errNoTrash) {
		t.Errorf("mountPoint for another device: err = %v, want errNoTrash", err)
	}
	if got, _ := deviceOf(filepath.Join(dir, "missing", "deeper")); got != dev {
		t.Errorf("deviceOf a missing path = %d, want the device of its parent %d", got, dev)
	}
}

func FuzzTrashName(f *testing.F) {
	for _, seed := range []string{"a.txt", ".bashrc", "archive.tar.gz", strings.Repeat("ü", 130) + ".ipynb",
		"x." + strings.Repeat("e", 250), "\xff\xfe.txt"} {
		f.Add(seed, 0)
		f.Add(seed, 3)
		f.Add(seed, 150)
	}
	f.Fuzz(func(t *testing.T, name string, i int) {
		if name == "" || len(name) > unix.NAME_MAX || strings.ContainsAny(name, "/\x00") || i < 0 {
			t.Skip("not a file name or try number")
		}
		got := trashName(name, i)
		if got == "" || len(got)+len(".trashinfo") > unix.NAME_MAX || strings.ContainsAny(got, "/\x00") {
			t.Fatalf("trashName(%q, %d) = %q, not a name whose info file name fits", name, i, got)
		}
		if utf8.ValidString(name) && !utf8.ValidString(got) {
			t.Errorf("trashName(%q, %d) = %q splits a UTF-8 sequence", name, i, got)
		}
		if i == 0 && len(name)+len(".trashinfo") <= unix.NAME_MAX && got != name {
			t.Errorf("trashName(%q, 0) = %q, want the name itself", name, got)
		}
	})
}
