// Package lab serves the JupyterLab frontend and the server APIs that
// jupyterlab_server provides beside it: the lab page with its page config,
// the static bundle, settings, workspaces, translations, themes, listings
// and licenses.
//
// Every route is registered without the base URL: the server in front strips
// it, authenticates the request and handles the _xsrf cookie. Lab itself does
// no authentication.
//
// A Lab is safe for concurrent use. Its state on disk is the user settings
// folder and the workspaces folder, written with atomic renames.
package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// Version facts of the bundled frontend, as the page config reports them.
const (
	appName      = "JupyterLab"
	appVersion   = "4.6.4"
	appNamespace = "lab"
)

// announcementsPlugin shows a prompt on first start that offers to fetch
// Jupyter news from the internet. It stays disabled unless an overrides file
// presets its settings.
const announcementsPlugin = "@jupyterlab/apputils-extension:announcements"

// collaborationPlugins lists, per extension package, the plugins of the
// collaboration extensions (version 5.0.2) that open collaboration rooms or
// build on them: the document provider, the global awareness, the
// Collaboration panel, remote cursors, the timeline and forks. The user
// menu, the share dialog (shared-link, which shares a server of a hub) and
// the notebook cell executor are not among them. The
// executor runs cells over the kernel WebSocket as JupyterLab's own does,
// unless the page config sets serverSideExecution.
var collaborationPlugins = map[string][]string{
	"@jupyter/collaboration-extension": {
		"@jupyter/collaboration-extension:rtcGlobalAwareness",
		"@jupyter/collaboration-extension:rtcPanel",
		"@jupyter/collaboration-extension:userEditorCursors",
	},
	"@jupyter/docprovider-extension": {
		"@jupyter/docprovider-extension:content-provider",
		"@jupyter/docprovider-extension:forkManager",
		"@jupyter/docprovider-extension:logger",
		"@jupyter/docprovider-extension:statusBarTimeline",
		"@jupyter/docprovider-extension:websocket-provider-awareness-factory",
		"@jupyter/docprovider-extension:websocket-provider-document-factory",
		"@jupyter/docprovider-extension:yfile",
		"@jupyter/docprovider-extension:ynotebook",
	},
}

// Options configures a Lab.
type Options struct {
	// Log receives warnings about unreadable settings, workspaces and
	// overrides. Nil discards them.
	Log *slog.Logger

	// Build is the built frontend, laid out as frontend/build.sh writes it
	// (static/, schemas/, themes/). Nil or a folder without
	// static/index.html makes the lab page explain how to build it.
	Build fs.FS

	// BaseURL is the prefix the server strips before routing, such as "/"
	// or "/user/alice/". Missing leading or trailing slashes are added. The
	// default is "/".
	BaseURL string

	// UserSettingsDir stores the settings users change, one
	// <package>/<plugin>.jupyterlab-settings file per plugin. The default
	// is $JUPYTERLAB_SETTINGS_DIR, else <config>/lab/user-settings, where
	// <config> is $JUPYTER_CONFIG_DIR or ~/.jupyter, as in JupyterLab.
	UserSettingsDir string

	// WorkspacesDir stores workspaces, one .jupyterlab-workspace file each.
	// The default is $JUPYTERLAB_WORKSPACES_DIR, else
	// <config>/lab/workspaces.
	WorkspacesDir string

	// AppSettingsDirs are searched, in order, for overrides.d/*.json,
	// overrides.d/*.json5, overrides.json and overrides.json5, which replace
	// default values of settings schemas. A later file wins over an earlier
	// one. Missing folders and files are skipped.
	AppSettingsDirs []string

	// LabextensionsDirs are searched, in order, for prebuilt extensions:
	// NAME/package.json and @SCOPE/NAME/package.json with a
	// jupyterlab._build section. An extension in an earlier folder wins
	// over one of the same name in a later folder. Missing folders are
	// skipped.
	LabextensionsDirs []string

	// PageConfig returns extra page config keys for a request, such as
	// token, terminalsAvailable, serverRoot, allow_hidden_files or the
	// JupyterHub keys. They replace the defaults, except disabledExtensions
	// and deferredExtensions, whose entries are added to the defaults. Nil
	// adds nothing.
	PageConfig func(r *http.Request) map[string]any

	// Collaborative turns on real-time collaboration in the frontend:
	// notebooks and text files open through the rooms under
	// /api/collaboration, and the Collaboration panel and remote cursors
	// appear. The server must serve those rooms. The default, false, sets
	// disableRTC in the page config and disables the plugins of the
	// bundled collaboration extensions other than the user menu and the
	// cell executor, so documents load through the contents API.
	Collaborative bool
}

// Lab serves the JupyterLab frontend. Create it with New.
type Lab struct {
	log             *slog.Logger
	build           fs.FS // nil when no build is available
	baseURL         string
	userSettingsDir string
	workspacesDir   string
	extraConfig     func(r *http.Request) map[string]any
	collaborative   bool

	index       *pageTemplate
	app         appPackage
	overrides   map[string]any
	disabled    []string // plugins disabled by default
	extensions  []*federatedExtension
	storeID     atomic.Int64
	staticFiles *fileServer
	themeFiles  *fileServer
	schemasMu   sync.Mutex
	schemaByID  map[string]*schemaEntry
}

// appPackage is the part of static/package.json that the server reads.
type appPackage struct {
	Name       string `json:"name"`
	Jupyterlab struct {
		Version           string `json:"version"`
		ExtensionMetadata map[string]struct {
			DisabledExtensions []string `json:"disabledExtensions"`
		} `json:"extensionMetadata"`
	} `json:"jupyterlab"`
}

// New returns a Lab for opts. It reads the build's package.json and the
// overrides files once; later changes to them take effect on the next New.
func New(opts Options) (*Lab, error) {
	l := &Lab{
		log:           opts.Log,
		baseURL:       normalizeBaseURL(opts.BaseURL),
		extraConfig:   opts.PageConfig,
		collaborative: opts.Collaborative,
		schemaByID:    map[string]*schemaEntry{},
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}

	var err error
	if l.userSettingsDir, err = defaultDir(opts.UserSettingsDir,
		"JUPYTERLAB_SETTINGS_DIR", "user-settings"); err != nil {
		return nil, fmt.Errorf("finding the user settings folder: %w", err)
	}
	if l.workspacesDir, err = defaultDir(opts.WorkspacesDir,
		"JUPYTERLAB_WORKSPACES_DIR", "workspaces"); err != nil {
		return nil, fmt.Errorf("finding the workspaces folder: %w", err)
	}

	if opts.Build != nil {
		if err := l.loadBuild(opts.Build); err != nil {
			return nil, err
		}
	}

	l.overrides = loadOverrides(l.log, opts.AppSettingsDirs)
	l.extensions = loadFederatedExtensions(l.log, opts.LabextensionsDirs)
	l.disabled = l.defaultDisabled()
	return l, nil
}

// loadBuild reads the page template and package.json of a build. A build
// without static/index.html counts as no build.
func (l *Lab) loadBuild(build fs.FS) error {
	index, err := fs.ReadFile(build, "static/index.html")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading static/index.html of the frontend build: %w", err)
	}
	data, err := fs.ReadFile(build, "static/package.json")
	if err != nil {
		return fmt.Errorf("reading static/package.json of the frontend build: %w", err)
	}
	if err := json.Unmarshal(data, &l.app); err != nil {
		return fmt.Errorf("parsing static/package.json of the frontend build: %w", err)
	}

	l.build = build
	l.index = newPageTemplate(string(index))
	l.staticFiles = newFileServer(build, "static", hiddenStatic)
	l.themeFiles = newFileServer(build, "themes", nil)
	return nil
}

// hiddenStatic lists the files of static/ that are not served as files:
// index.html is a template and package.json is read by the server only.
var hiddenStatic = map[string]bool{"index.html": true, "package.json": true}

// defaultDisabled returns the plugins that the page config disables by
// default: those that bundled extensions ask to disable, the collaboration
// plugins of bundled extensions unless collaboration is on, and the
// announcements plugin unless an overrides file configures it.
func (l *Lab) defaultDisabled() []string {
	var disabled []string
	for name, meta := range l.app.Jupyterlab.ExtensionMetadata {
		disabled = append(disabled, meta.DisabledExtensions...)
		if !l.collaborative {
			disabled = append(disabled, collaborationPlugins[name]...)
		}
	}
	for _, ext := range l.extensions {
		disabled = append(disabled, ext.disabled...)
	}
	if _, configured := l.overrides[announcementsPlugin]; !configured {
		disabled = append(disabled, announcementsPlugin)
	}
	return uniqueSorted(disabled)
}

// Register adds the lab routes to mux, without the base URL. It leaves "/"
// and "/tree" to the server, which may mount Redirect on "GET /{$}",
// "GET /tree" and "GET /tree/{path...}".
func (l *Lab) Register(mux httpapi.Router) {
	l.registerPages(mux)

	mux.Handle("GET /static/lab/{path...}", http.HandlerFunc(l.serveStatic))
	mux.Handle("GET /lab/api/themes/{path...}", http.HandlerFunc(l.serveTheme))
	mux.Handle("GET /lab/extensions/{path...}", http.HandlerFunc(l.serveExtension))

	mux.Handle("GET /lab/api/settings", l.handle(l.getSettings))
	mux.Handle("GET /lab/api/settings/{id...}", l.handle(l.getSettings))
	mux.Handle("PUT /lab/api/settings/{id...}", l.handle(l.putSettings))

	mux.Handle("GET /lab/api/workspaces", l.handle(l.getWorkspaces))
	mux.Handle("GET /lab/api/workspaces/{id...}", l.handle(l.getWorkspaces))
	mux.Handle("PUT /lab/api/workspaces/{id...}", l.handle(l.putWorkspace))
	mux.Handle("DELETE /lab/api/workspaces/{id...}", l.handle(l.deleteWorkspace))

	mux.Handle("GET /lab/api/translations", l.handle(l.getTranslations))
	mux.Handle("GET /lab/api/translations/{locale...}", l.handle(l.getTranslations))
	mux.Handle("GET /lab/api/listings/{path...}", l.handle(l.getListings))
	mux.Handle("GET /lab/api/licenses", l.handle(l.getLicenses))
	mux.Handle("GET /lab/api/licenses/{path...}", l.handle(l.getLicenses))
	mux.Handle("GET /lab/api/extensions", l.handle(l.getExtensions))
	mux.Handle("GET /lab/api/plugins", l.handle(l.getPlugins))
}

// Redirect returns a handler that sends "/" and other paths to the lab page
// and "/tree/<path>" to "/lab/tree/<path>", keeping the query (such as a
// token) and adding the base URL.
func (l *Lab) Redirect() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := l.baseURL + "lab"
		if rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/tree/"); ok && rest != "" {
			target += "/tree/" + rest
		}
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusFound)
	})
}

// normalizeBaseURL returns base with exactly one leading and one trailing
// slash; "" becomes "/".
func normalizeBaseURL(base string) string {
	base = strings.Trim(base, "/")
	if base == "" {
		return "/"
	}
	return "/" + base + "/"
}

// defaultDir returns dir, else the folder named by the environment
// variable env, else <config>/lab/<leaf> where <config> is
// $JUPYTER_CONFIG_DIR or ~/.jupyter.
func defaultDir(dir, env, leaf string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	if v := os.Getenv(env); v != "" {
		return v, nil
	}
	config := os.Getenv("JUPYTER_CONFIG_DIR")
	if config == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		config = filepath.Join(home, ".jupyter")
	}
	return filepath.Join(config, "lab", leaf), nil
}

// uniqueSorted returns the distinct strings of list in sorted order.
func uniqueSorted(list []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}
