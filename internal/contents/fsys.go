package contents

import (
	"io/fs"
	"os"
	"path/filepath"
)

// fileSystem is the view of the root folder that the manager reads and
// writes through. Names are relative to the root, slash-free on the final
// component, and "." is the root itself.
type fileSystem interface {
	Open(name string) (*os.File, error)
	OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error)
	Stat(name string) (fs.FileInfo, error)
	Lstat(name string) (fs.FileInfo, error)
	Mkdir(name string, perm fs.FileMode) error
	Remove(name string) error
	RemoveAll(name string) error
	Readlink(name string) (string, error)
	Rename(oldname, newname string) error
	Close() error
}

// confinedFS keeps every access inside the root with an os.Root, which
// rejects a symbolic link out of the root, even one swapped in during a
// call. os.Root also rejects absolute links. So when it reports an escape,
// confinedFS resolves the links of the name itself and retries with the
// resolved name if that is inside the root. An absolute link to a place
// inside the root then works, and the retry is still confined.
type confinedFS struct {
	root     *os.Root
	realRoot string
}

func (c *confinedFS) Close() error { return c.root.Close() }

// retry runs op on name, and once more on the resolved name when op
// reports an escape. followLast resolves the final component too, for
// operations that follow it.
func retry[T any](c *confinedFS, name string, followLast bool, op func(string) (T, error)) (T, error) {
	v, err := op(name)
	if !isEscape(err) {
		return v, err
	}
	if resolved, ok := c.resolve(name, followLast); ok {
		return op(resolved)
	}
	return v, err
}

// resolve returns name with its symbolic links resolved, relative to the
// root, or false when it leads out of the root or cannot be resolved.
func (c *confinedFS) resolve(name string, followLast bool) (string, bool) {
	full := filepath.Join(c.realRoot, name)
	var real string
	if followLast {
		r, err := filepath.EvalSymlinks(full)
		if err != nil {
			return "", false
		}
		real = r
	} else {
		dir, err := filepath.EvalSymlinks(filepath.Dir(full))
		if err != nil {
			return "", false
		}
		real = filepath.Join(dir, filepath.Base(full))
	}
	rel, err := filepath.Rel(c.realRoot, real)
	if err != nil || !filepath.IsLocal(rel) {
		return "", false
	}
	return rel, true
}

func (c *confinedFS) Open(name string) (*os.File, error) {
	return retry(c, name, true, c.root.Open)
}

func (c *confinedFS) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	return retry(c, name, true, func(n string) (*os.File, error) { return c.root.OpenFile(n, flag, perm) })
}

func (c *confinedFS) Stat(name string) (fs.FileInfo, error) {
	return retry(c, name, true, c.root.Stat)
}

func (c *confinedFS) Lstat(name string) (fs.FileInfo, error) {
	return retry(c, name, false, c.root.Lstat)
}

func (c *confinedFS) Readlink(name string) (string, error) {
	return retry(c, name, false, c.root.Readlink)
}

func (c *confinedFS) Mkdir(name string, perm fs.FileMode) error {
	_, err := retry(c, name, false, func(n string) (struct{}, error) { return struct{}{}, c.root.Mkdir(n, perm) })
	return err
}

func (c *confinedFS) Remove(name string) error {
	_, err := retry(c, name, false, func(n string) (struct{}, error) { return struct{}{}, c.root.Remove(n) })
	return err
}

func (c *confinedFS) RemoveAll(name string) error {
	_, err := retry(c, name, false, func(n string) (struct{}, error) { return struct{}{}, c.root.RemoveAll(n) })
	return err
}

func (c *confinedFS) Rename(oldname, newname string) error {
	err := c.root.Rename(oldname, newname)
	if !isEscape(err) {
		return err
	}
	oldResolved, ok1 := c.resolve(oldname, false)
	newResolved, ok2 := c.resolve(newname, false)
	if !ok1 || !ok2 {
		return err
	}
	return c.root.Rename(oldResolved, newResolved)
}

// hostFS is the root folder without confinement, for
// Options.AllowSymlinksOutsideRoot: names are joined to the root's real
// path and links are followed wherever they lead. API paths are still
// kept inside the root by cleanPath.
type hostFS struct {
	base string
}

func (h *hostFS) path(name string) string { return filepath.Join(h.base, name) }

func (h *hostFS) Close() error                           { return nil }
func (h *hostFS) Open(name string) (*os.File, error)     { return os.Open(h.path(name)) }
func (h *hostFS) Stat(name string) (fs.FileInfo, error)  { return os.Stat(h.path(name)) }
func (h *hostFS) Lstat(name string) (fs.FileInfo, error) { return os.Lstat(h.path(name)) }
func (h *hostFS) Readlink(name string) (string, error)   { return os.Readlink(h.path(name)) }
func (h *hostFS) Mkdir(name string, perm fs.FileMode) error {
	return os.Mkdir(h.path(name), perm)
}
func (h *hostFS) Remove(name string) error    { return os.Remove(h.path(name)) }
func (h *hostFS) RemoveAll(name string) error { return os.RemoveAll(h.path(name)) }
func (h *hostFS) Rename(oldname, newname string) error {
	return os.Rename(h.path(oldname), h.path(newname))
}

func (h *hostFS) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(h.path(name), flag, perm)
}
