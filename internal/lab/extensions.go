package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// federatedExtension is a prebuilt JupyterLab extension found in a
// labextensions folder: a folder named as its package, with a package.json
// whose jupyterlab._build names the remote entry that JupyterLab loads.
type federatedExtension struct {
	// name is the package name, such as "@scope/pkg", which is also its
	// path below a labextensions folder and below /lab/extensions/.
	name string
	// entry is the extension's item in the page config's
	// federated_extensions: name, load, and extension, mimeExtension
	// and style when the build names them.
	entry map[string]any
	// disabled lists the plugins in the extension's disabledExtensions.
	disabled []string
	// files serves the extension's folder, and cannot reach outside it.
	files *fileServer
	// root is the opened extension folder behind files.
	root *os.Root
}

// extensionPackage is the part of an extension's package.json the server
// reads.
type extensionPackage struct {
	Name       string `json:"name"`
	Jupyterlab struct {
		Build *struct {
			Load          string  `json:"load"`
			Extension     *string `json:"extension"`
			MimeExtension *string `json:"mimeExtension"`
			Style         *string `json:"style"`
		} `json:"_build"`
		DisabledExtensions []string `json:"disabledExtensions"`
	} `json:"jupyterlab"`
}

// loadFederatedExtensions finds the prebuilt extensions in dirs, each a
// labextensions folder: dir/NAME/package.json and dir/@SCOPE/NAME/package.json.
// An extension found in an earlier folder wins over one of the same name in
// a later folder, as in jupyterlab_server. The list is sorted by name. Folders that are missing, and
// extensions whose package.json is invalid or has no jupyterlab._build.load,
// are skipped, the latter with a warning.
func loadFederatedExtensions(log *slog.Logger, dirs []string) []*federatedExtension {
	var found []*federatedExtension
	seen := map[string]bool{}
	for _, dir := range dirs {
		var candidates []string
		for _, pattern := range []string{"[^@]*/package.json", "@*/*/package.json"} {
			matches, err := filepath.Glob(filepath.Join(dir, pattern))
			if err != nil {
				continue
			}
			candidates = append(candidates, matches...)
		}
		for _, pkgFile := range candidates {
			extDir := filepath.Dir(pkgFile)
			rel, err := filepath.Rel(dir, extDir)
			if err != nil {
				continue
			}
			name := filepath.ToSlash(rel)
			if seen[name] {
				continue
			}
			ext, err := openFederatedExtension(extDir, name)
			if err != nil {
				log.Warn("skipping JupyterLab extension", "folder", extDir, "err", err)
				continue
			}
			seen[name] = true
			found = append(found, ext)
		}
	}
	slices.SortFunc(found, func(a, b *federatedExtension) int { return strings.Compare(a.name, b.name) })
	return found
}

// openFederatedExtension reads the package.json of the extension folder
// dir, whose package must be called name, and opens the folder for serving.
func openFederatedExtension(dir, name string) (*federatedExtension, error) {
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, err
	}
	var pkg extensionPackage
	if err := json.Unmarshal(data, &pkg); err != nil {
		return nil, fmt.Errorf("invalid package.json: %w", err)
	}
	if pkg.Name != name {
		return nil, fmt.Errorf("package.json names the package %q, but the folder is %q: "+
			"the folder must have the package's name", pkg.Name, name)
	}
	build := pkg.Jupyterlab.Build
	if build == nil || build.Load == "" {
		return nil, errors.New("package.json has no jupyterlab._build.load: " +
			"build the extension with jupyter labextension build")
	}

	entry := map[string]any{"name": name, "load": build.Load}
	for key, value := range map[string]*string{
		"extension": build.Extension, "mimeExtension": build.MimeExtension, "style": build.Style,
	} {
		if value != nil {
			entry[key] = *value
		}
	}

	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &federatedExtension{
		name: name, entry: entry, disabled: pkg.Jupyterlab.DisabledExtensions,
		files: newFileServer(root.FS(), ".", nil), root: root,
	}, nil
}

// federatedEntries returns the page config's federated_extensions.
func (l *Lab) federatedEntries() []any {
	entries := make([]any, 0, len(l.extensions))
	for _, ext := range l.extensions {
		entry := make(map[string]any, len(ext.entry))
		for k, v := range ext.entry {
			entry[k] = v
		}
		entries = append(entries, entry)
	}
	return entries
}

// serveExtension serves GET /lab/extensions/NAME/PATH: a file of a prebuilt
// extension. The path is resolved inside the extension's folder only.
func (l *Lab) serveExtension(w http.ResponseWriter, r *http.Request) {
	rest := r.PathValue("path")
	for _, ext := range l.extensions {
		if file, ok := strings.CutPrefix(rest, ext.name+"/"); ok && file == path.Clean(file) {
			ext.files.serve(w, r, file)
			return
		}
	}
	http.NotFound(w, r)
}

// Close releases the extension folders that New opened.
func (l *Lab) Close() error {
	var errs []error
	for _, ext := range l.extensions {
		errs = append(errs, ext.root.Close())
	}
	return errors.Join(errs...)
}
