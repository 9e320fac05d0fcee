package lab

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// Placeholders that the build leaves in static/index.html.
const (
	placeholderPageConfig = "{{PAGE_CONFIG_JSON}}"
	placeholderStaticURL  = "{{FULL_STATIC_URL}}"
	placeholderBaseURL    = "{{BASE_URL}}"
)

// notebookVersion is the Jupyter Server version reported to the frontend. It
// is a JSON-encoded string because JupyterLab's page config uses that form.
const notebookVersion = "[2, 17, 0]"

// workspaceName returns a regular expression, compiled on first use, that
// matches the workspace names that lab page URLs accept, as in
// jupyterlab_server.
var workspaceName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
})

// pageTemplate is static/index.html of a build.
type pageTemplate struct {
	text string
}

func newPageTemplate(text string) *pageTemplate {
	return &pageTemplate{text: text}
}

// render returns the page with the placeholders filled in. The page config
// JSON is safe inside a script element because encoding/json escapes <, >
// and &; the URLs are HTML-escaped for their attributes.
func (t *pageTemplate) render(configJSON []byte, staticURL, baseURL string) string {
	return strings.NewReplacer(
		placeholderPageConfig, string(configJSON),
		placeholderStaticURL, html.EscapeString(staticURL),
		placeholderBaseURL, html.EscapeString(baseURL),
	).Replace(t.text)
}

// pageRequest is the mode, workspace and tree path of a lab page URL.
type pageRequest struct {
	mode      string // "multiple-document" for /lab, "single-document" for /doc
	workspace string
	treePath  string
}

// registerPages adds the page routes: /lab and /doc, each optionally
// followed by /workspaces/<name> and then by /tree/<path>.
func (l *Lab) registerPages(mux httpapi.Router) {
	for _, app := range []string{"lab", "doc"} {
		mode := "multiple-document"
		if app == "doc" {
			mode = "single-document"
		}
		page := func(w http.ResponseWriter, r *http.Request) {
			l.servePage(w, r, pageRequest{
				mode:      mode,
				workspace: r.PathValue("workspace"),
				treePath:  r.PathValue("path"),
			})
		}
		mux.HandleFunc("GET /"+app, page)
		mux.HandleFunc("GET /"+app+"/tree", page)
		mux.HandleFunc("GET /"+app+"/tree/{path...}", page)
		mux.HandleFunc("GET /"+app+"/workspaces/{workspace}", page)
		mux.HandleFunc("GET /"+app+"/workspaces/{workspace}/tree", page)
		mux.HandleFunc("GET /"+app+"/workspaces/{workspace}/tree/{path...}", page)
		mux.HandleFunc("GET /"+app+"/{$}", l.redirectTo(app))
	}
}

// redirectTo returns a handler that redirects to base + target, keeping the
// query. It replaces the trailing-slash redirect of ServeMux, which would
// lose the base URL.
func (l *Lab) redirectTo(target string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		url := l.baseURL + target
		if r.URL.RawQuery != "" {
			url += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, url, http.StatusFound)
	}
}

func (l *Lab) servePage(w http.ResponseWriter, r *http.Request, page pageRequest) {
	w.Header().Set("Cache-Control", "no-store")
	if l.index == nil {
		l.serveNotBuilt(w)
		return
	}
	if page.workspace == "" {
		page.workspace = "default"
	} else if !workspaceName().MatchString(page.workspace) {
		http.Error(w, fmt.Sprintf("404 page not found: invalid workspace name %q", page.workspace),
			http.StatusNotFound)
		return
	}

	config := l.pageConfig(r, page)
	data, err := json.Marshal(config)
	if err != nil {
		l.log.Error("encoding page config", "path", r.URL.Path, "err", err)
		http.Error(w, "500 internal server error: cannot encode the page config",
			http.StatusInternalServerError)
		return
	}
	staticURL, _ := config["fullStaticUrl"].(string)
	body := l.index.render(data, staticURL, l.baseURL)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(body))
}

// serveNotBuilt writes the page served when no frontend build is available.
func (l *Lab) serveNotBuilt(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>JupyterLab is not built</title></head>
<body>
<h1>JupyterLab is not built</h1>
<p>This jupygo binary was compiled without the JupyterLab frontend. Build it with
<code>bash frontend/build.sh</code> (Node.js 20 and npm are required), then compile
jupygo again.</p>
</body></html>
`))
}

// pageConfig returns the jupyter-config-data object for a page request:
// the defaults, then the server's extra keys.
func (l *Lab) pageConfig(r *http.Request, page pageRequest) map[string]any {
	config := l.defaultPageConfig()
	config["mode"] = page.mode
	config["workspace"] = page.workspace
	config["treePath"] = page.treePath
	config["store_id"] = l.storeID.Add(1) - 1

	if l.extraConfig == nil {
		return config
	}
	for key, value := range l.extraConfig(r) {
		switch key {
		case "disabledExtensions", "deferredExtensions":
			config[key] = mergeLists(config[key], value)
		default:
			config[key] = value
		}
	}
	return config
}

// defaultPageConfig returns the page config keys that do not depend on the
// request. URL keys come in two forms, as jupyterlab_server sends them:
// relative to the base URL (settingsUrl) and with it (fullSettingsUrl).
func (l *Lab) defaultPageConfig() map[string]any {
	version := l.app.Jupyterlab.Version
	if version == "" {
		version = appVersion
	}
	config := map[string]any{
		"appName":              appName,
		"appVersion":           version,
		"appNamespace":         appNamespace,
		"baseUrl":              l.baseURL,
		"wsUrl":                "",
		"fullStaticUrl":        l.baseURL + "static/lab",
		"token":                "",
		"federated_extensions": l.federatedEntries(),
		"disabledExtensions":   slices.Clone(l.disabled),
		"deferredExtensions":   []string{},
		"ignorePlugins":        []string{},
		"preferredPath":        "/",
		"serverRoot":           "",
		"terminalsAvailable":   false,
		"notebookStartsKernel": true,
		"notebookVersion":      notebookVersion,
		"cacheFiles":           true,
		"devMode":              false,
		"buildAvailable":       false,
		"buildCheck":           false,
		"exposeAppInBrowser":   false,
		"quitButton":           false,
		"allow_hidden_files":   false,
		"delete_to_trash":      false,
		"mathjaxConfig":        "TeX-AMS_HTML-full,Safe",
		// The bundled MathJax 3 does not load MathJax from a URL.
		"fullMathjaxUrl": "",
		"extensionManager": map[string]any{
			"name": "read-only", "can_install": false, "install_path": nil,
		},
		"news": map[string]any{"disabled": true},
		// With disableRTC true, the content provider of
		// @jupyter/docprovider 5.0.4 opens documents through the contents
		// API. It reads the key once, when its module loads.
		"disableRTC":          !l.collaborative,
		"serverSideExecution": false,
	}
	for key, path := range map[string]string{
		"appUrl":             "lab",
		"settingsUrl":        "lab/api/settings",
		"themesUrl":          "lab/api/themes",
		"translationsApiUrl": "lab/api/translations",
		"workspacesApiUrl":   "lab/api/workspaces",
		"workspacesUrl":      "lab/workspaces",
		"treeUrl":            "lab/tree",
		"listingsUrl":        "lab/api/listings",
		"licensesUrl":        "lab/api/licenses",
		"labextensionsUrl":   "lab/extensions",
	} {
		config[key] = "/" + path
		config["full"+strings.ToUpper(key[:1])+key[1:]] = l.baseURL + path
	}
	return config
}

// mergeLists returns the distinct strings of a followed by those of b. Each
// may be a []string or a []any. Other values and non-string items are
// ignored.
func mergeLists(a, b any) []string {
	var out []string
	seen := map[string]bool{}
	for _, list := range []any{a, b} {
		for _, s := range stringItems(list) {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

func stringItems(v any) []string {
	switch list := v.(type) {
	case []string:
		return list
	case []any:
		var out []string
		for _, item := range list {
			if s, ok := item.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
