// Package contents serves the files of one root folder through the Jupyter
// contents API (/api/contents), the file server (/files) and folder
// archives (/directories), compatible with jupyter_server 2.x's
// FileContentsManager and LargeFileManager as JupyterLab 4 uses them.
//
// # Models
//
// A Model describes a file, notebook or directory with the fields
// jupyter_server returns: name, path, type, writable, created,
// last_modified, size, mimetype, content, format, hash and hash_algorithm.
// Notebooks are read and written by ReadNotebook and WriteNotebook, which
// follow nbformat byte for byte, so opening and saving an unchanged
// notebook changes no byte of it.
//
// # Paths
//
// API paths are slash-separated and relative to the root. Every path stays
// inside the root: ".." segments that climb above it, encoded or not, give
// 404, and a leading slash is dropped. All file system access goes through
// an os.Root, so a symbolic link cannot lead out of the root unless
// Options.AllowSymlinksOutsideRoot is set. Names starting with a dot are
// hidden unless Options.AllowHidden is set. The checkpoint folders
// (.ipynb_checkpoints) and the manager's temporary files (names starting
// with ".~jupygo-") are never served or listed. Names are used byte for
// byte, so NFC and NFD spellings of a name are two files.
//
// # Saving
//
// Every write of a file's bytes goes to a temporary file in the same
// folder, which is fsynced and renamed over the target before the folder
// is fsynced, so readers and crashes see the old bytes or the new ones. A
// failed write (for example, a full disk, reported as 507 with "no space
// left on device") leaves the old file as it was. Renames, copies and new
// untitled entries never replace an existing name: they use
// renameat2(RENAME_NOREPLACE). Uploads sent in pieces collect in a
// temporary file that replaces the target after the last piece. The
// temporary file of an upload idle for Options.UploadIdleTimeout is
// removed, and so are all of them on Close.
//
// # Deleting
//
// With Options.DeleteToTrash, Delete moves the file or folder to the trash
// of the FreeDesktop.org Trash specification, with rename(2) only. When
// no trash can take it, the request fails and nothing is deleted.
// Without it, files are removed and folders only when empty, unless
// Options.AlwaysDeleteDir is set.
//
// # Checkpoints
//
// Each file has at most one checkpoint, "checkpoint", stored as
// .ipynb_checkpoints/<name>-checkpoint<ext> beside it. A notebook gets its
// checkpoint on its first save; renames move it, and deletes move it to
// the trash with the file or remove it.
//
// # Archives
//
// GET /directories/{path} streams a folder as a zip or tar archive, the
// endpoint of the jupyter-archive server extension. The archive holds
// what a listing of the folder and its subfolders shows, and is written
// while the folders are walked.
//
// # Concurrency
//
// A Manager is safe for concurrent use. Requests that change the same file
// at the same time each take effect whole, in some order.
package contents
