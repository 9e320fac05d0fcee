package contents

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// Options configures a Manager.
type Options struct {
	// Log receives the manager's events. Nil discards them.
	Log *slog.Logger

	// AllowHidden serves files and folders whose names start with a dot
	// (ContentsManager.allow_hidden in jupyter_server). The default is
	// false: such paths get 404 on reads and 400 on changes, and listings
	// leave them out. Checkpoint folders and the manager's temporary files
	// are never served.
	AllowHidden bool

	// AllowSymlinksOutsideRoot follows symbolic links that lead out of the
	// root folder. The default is false: such links are left out of
	// listings and every request through them gets 404.
	AllowSymlinksOutsideRoot bool

	// DeleteToTrash makes Delete move files and folders to the trash of
	// the FreeDesktop.org Trash specification instead of deleting them
	// (FileContentsManager.delete_to_trash, which jupyter_server turns on
	// by default). The default is false, so that a Manager in a program's
	// tests never writes into the user's trash; jupygo server sets it.
	DeleteToTrash bool

	// AlwaysDeleteDir lets Delete remove a folder with files in it for
	// good when DeleteToTrash is off (ContentsManager.always_delete_dir).
	// The default is false: such a Delete gives a 400.
	AlwaysDeleteDir bool

	// UploadIdleTimeout is how long an upload sent in pieces may wait for
	// its next piece before its temporary file is removed. Zero means one
	// hour.
	UploadIdleTimeout time.Duration
}

// Manager serves the files under one root folder through the Jupyter
// contents API: models of files, notebooks and folders, saves, uploads,
// renames, copies, deletions and checkpoints. A Manager is safe for
// concurrent use.
//
// API paths are slash-separated and relative to the root; "" is the root.
// Every path is kept inside the root, and every change to a file is atomic
// (see the package documentation). Methods return *httpapi.Error values for
// failures a client causes or should see, with the status jupyter_server
// uses.
type Manager struct {
	root string
	opts Options
	log  *slog.Logger

	// fsys is the root folder; realRoot is its path with symbolic links
	// resolved.
	fsys     fileSystem
	realRoot string

	notary  *notary
	plain   plainFiles
	uploads keyedMutex
	pending pendingUploads

	// renameMu serializes renames on file systems without
	// RENAME_NOREPLACE, where the check for an existing target and the
	// rename are two steps.
	renameMu sync.Mutex

	observersMu sync.Mutex
	observers   []func(Change)
}

// New returns a Manager for the folder root. The folder must exist. The
// Manager keeps the folder open until Close.
func New(root string, opts Options) (*Manager, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("resolving root %s: %w", root, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("opening root: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("root %s is not a directory", abs)
	}

	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("resolving root %s: %w", abs, err)
	}
	m := &Manager{root: abs, opts: opts, log: opts.Log, realRoot: real, notary: newNotary()}
	if opts.AllowSymlinksOutsideRoot {
		m.fsys = &hostFS{base: real}
		return m, nil
	}
	dir, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("opening root: %w", err)
	}
	m.fsys = &confinedFS{root: dir, realRoot: real}
	return m, nil
}

// Close removes the temporary files of unfinished uploads and releases
// the root folder. The Manager must not be used afterwards.
func (m *Manager) Close() error {
	m.closeUploads()
	return m.fsys.Close()
}

// Root returns the absolute operating system path of the root folder.
func (m *Manager) Root() string {
	return m.root
}

// Exists reports whether apiPath names a file or folder that the manager
// serves: inside the root, present, and not hidden unless
// Options.AllowHidden is set.
func (m *Manager) Exists(apiPath string) bool {
	p, err := m.cleanPath(apiPath)
	if err != nil || !m.visible(p) {
		return false
	}
	_, err = m.fsys.Stat(m.name(p))
	return err == nil
}

// ResolveDir returns the operating system path of the folder that holds
// apiPath, for use as the working directory of a kernel. That is apiPath
// itself when it is a folder, else the nearest existing folder above it,
// as jupyter_server picks a kernel's cwd. ResolveDir returns an error when
// apiPath is outside the root, or when it passes through a symbolic link
// that leads out of the root and Options.AllowSymlinksOutsideRoot is off.
func (m *Manager) ResolveDir(apiPath string) (string, error) {
	p, err := m.cleanPath(apiPath)
	if err != nil {
		return "", pathError(apiPath, err)
	}
	for {
		fi, err := m.fsys.Stat(m.name(p))
		switch {
		case err == nil && fi.IsDir():
			return m.osPath(p), nil
		case err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return "", fsError("resolving", apiPath, err)
		case p == "":
			return "", httpapi.Errorf(http.StatusNotFound, "root folder is missing")
		}
		p, _ = splitPath(p)
	}
}

// GetOptions selects what Get puts into a model.
type GetOptions struct {
	// Type is "file", "notebook", "directory" or "" to decide by the path:
	// folders are directories, names ending in .ipynb are notebooks, and
	// everything else is a file.
	Type string
	// Format is "text", "base64" or "" for text when the file is UTF-8 and
	// base64 otherwise. It applies to files only.
	Format string
	// Content requests the content: the text or base64 of a file, the
	// parsed notebook, or the models of a folder's entries.
	Content bool
	// Hash requests the sha256 hex digest of a file's or notebook's bytes.
	Hash bool
}

// Get returns the model of apiPath.
func (m *Manager) Get(apiPath string, opt GetOptions) (*Model, error) {
	p, err := m.cleanPath(apiPath)
	if err != nil {
		return nil, pathError(apiPath, err)
	}
	if !m.visible(p) {
		return nil, notFound(p)
	}
	fi, err := m.fsys.Stat(m.name(p))
	if err != nil {
		return nil, fsError("reading", p, err)
	}
	switch {
	case fi.IsDir():
		if opt.Type != "" && opt.Type != "directory" {
			return nil, badType(fmt.Sprintf("%s is a directory, not a %s", p, opt.Type))
		}
		return m.dirModel(p, fi, opt.Content)
	case opt.Type == "notebook" || opt.Type == "" && strings.HasSuffix(p, ".ipynb"):
		return m.notebookModel(p, fi, opt)
	case opt.Type == "directory":
		return nil, badType(p + " is not a directory")
	}
	return m.fileModel(p, fi, opt)
}

func badType(message string) error {
	return &httpapi.Error{Status: http.StatusBadRequest, Message: message, Reason: "bad type"}
}
