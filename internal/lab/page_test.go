package lab

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// wantPageConfig returns the page config keys whose values depend only on
// the base URL, for a /lab page without workspace or tree path.
func wantPageConfig(base string) map[string]any {
	return map[string]any{
		"baseUrl":                base,
		"wsUrl":                  "",
		"appUrl":                 "/lab",
		"fullAppUrl":             base + "lab",
		"fullStaticUrl":          base + "static/lab",
		"federated_extensions":   []any{},
		"fullLabextensionsUrl":   base + "lab/extensions",
		"labextensionsUrl":       "/lab/extensions",
		"settingsUrl":            "/lab/api/settings",
		"fullSettingsUrl":        base + "lab/api/settings",
		"themesUrl":              "/lab/api/themes",
		"fullThemesUrl":          base + "lab/api/themes",
		"translationsApiUrl":     "/lab/api/translations",
		"fullTranslationsApiUrl": base + "lab/api/translations",
		"workspacesApiUrl":       "/lab/api/workspaces",
		"fullWorkspacesApiUrl":   base + "lab/api/workspaces",
		"workspacesUrl":          "/lab/workspaces",
		"fullWorkspacesUrl":      base + "lab/workspaces",
		"treeUrl":                "/lab/tree",
		"fullTreeUrl":            base + "lab/tree",
		"listingsUrl":            "/lab/api/listings",
		"fullListingsUrl":        base + "lab/api/listings",
		"licensesUrl":            "/lab/api/licenses",
		"fullLicensesUrl":        base + "lab/api/licenses",
		"disabledExtensions": []any{
			"@jupyterlab/apputils-extension:announcements",
			"@jupyterlab/notebook-extension:cell-executor",
		},
		"deferredExtensions": []any{},
		"mode":               "multiple-document",
		"workspace":          "default",
		"treePath":           "",
		"token":              "",
		"appName":            "JupyterLab",
		"appVersion":         "4.6.4",
		"appNamespace":       "lab",
		"exposeAppInBrowser": false,
		"notebookVersion":    "[2, 17, 0]",
		"preferredPath":      "/",
		"devMode":            false,
		"buildAvailable":     false,
		"news":               map[string]any{"disabled": true},
	}
}

func TestPageConfigRequiredKeys(t *testing.T) {
	for _, base := range []string{"/", "/user/alice/"} {
		t.Run(base, func(t *testing.T) {
			tl := newTestLab(t, Options{Build: fakeBuild(t), BaseURL: base})
			r := tl.do(t, "GET", "/lab", "")
			if r.status != http.StatusOK {
				t.Fatalf("status = %d, want 200; body:\n%s", r.status, r.body)
			}
			config := pageConfigOf(t, r.body)
			for key, want := range wantPageConfig(base) {
				if diff := cmp.Diff(want, config[key]); diff != "" {
					t.Errorf("page config %s (-want +got):\n%s", key, diff)
				}
			}
		})
	}
}

func TestPageHeadersAndPlaceholders(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t), BaseURL: "/user/alice/"})
	r := tl.do(t, "GET", "/lab", "")
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if got := r.header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	page := string(r.body)
	for _, want := range []string{
		`src="/user/alice/static/lab/main.0123456789abcdef.js?v=0123456789abcdef"`,
		`href="/user/alice/static/lab/favicon.svg"`,
		`data-base-url="/user/alice/"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s:\n%s", want, page)
		}
	}
	if strings.Contains(page, "{{") {
		t.Errorf("page keeps a placeholder:\n%s", page)
	}
}

func TestPageRoutes(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t), BaseURL: "/user/alice/"})
	tests := []struct {
		path                      string
		mode, workspace, treePath string
	}{
		{"/lab", "multiple-document", "default", ""},
		{"/lab/tree", "multiple-document", "default", ""},
		{"/lab/tree/", "multiple-document", "default", ""},
		{"/lab/tree/hello.ipynb", "multiple-document", "default", "hello.ipynb"},
		{"/lab/tree/dir/A%20B%23c.ipynb", "multiple-document", "default", "dir/A B#c.ipynb"},
		{"/lab/tree/%E6%97%A5%E6%9C%AC/%F0%9F%98%80.txt", "multiple-document", "default", "日本/😀.txt"},
		{"/lab/workspaces/analysis", "multiple-document", "analysis", ""},
		{"/lab/workspaces/my-work_2/tree/a/b.py", "multiple-document", "my-work_2", "a/b.py"},
		{"/doc", "single-document", "default", ""},
		{"/doc/tree/notes.md", "single-document", "default", "notes.md"},
		{"/doc/workspaces/w1/tree/x.ipynb", "single-document", "w1", "x.ipynb"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := tl.do(t, "GET", tt.path, "")
			if r.status != http.StatusOK {
				t.Fatalf("status = %d, want 200", r.status)
			}
			config := pageConfigOf(t, r.body)
			got := []any{config["mode"], config["workspace"], config["treePath"]}
			want := []any{tt.mode, tt.workspace, tt.treePath}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mode, workspace, treePath (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPageInvalidWorkspace(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	for _, path := range []string{"/lab/workspaces/a.b", "/lab/workspaces/%3Cx%3E"} {
		if r := tl.do(t, "GET", path, ""); r.status != http.StatusNotFound {
			t.Errorf("GET %s: status = %d, want 404", path, r.status)
		}
	}
}

func TestPageScriptBreakout(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	r := tl.do(t, "GET", "/lab/tree/%3C%2Fscript%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E", "")
	if strings.Contains(string(r.body), "<script>alert") {
		t.Fatalf("tree path broke out of the config script:\n%s", r.body)
	}
	config := pageConfigOf(t, r.body)
	if got, want := config["treePath"], "</script><script>alert(1)</script>"; got != want {
		t.Errorf("treePath = %q, want %q", got, want)
	}
}

func TestPageConfigExtras(t *testing.T) {
	tl := newTestLab(t, Options{
		Build: fakeBuild(t),
		PageConfig: func(r *http.Request) map[string]any {
			return map[string]any{
				"token":              "secret",
				"terminalsAvailable": true,
				"hubUser":            "alice",
				"disabledExtensions": []string{"@example/other:plugin", "@jupyterlab/notebook-extension:cell-executor"},
				"deferredExtensions": []any{"@example/slow"},
			}
		},
	})
	config := pageConfigOf(t, tl.do(t, "GET", "/lab", "").body)
	want := map[string]any{
		"token":              "secret",
		"terminalsAvailable": true,
		"hubUser":            "alice",
		"disabledExtensions": []any{
			"@jupyterlab/apputils-extension:announcements",
			"@jupyterlab/notebook-extension:cell-executor",
			"@example/other:plugin",
		},
		"deferredExtensions": []any{"@example/slow"},
	}
	for key, w := range want {
		if diff := cmp.Diff(w, config[key]); diff != "" {
			t.Errorf("page config %s (-want +got):\n%s", key, diff)
		}
	}
}

func TestPageStoreIDIncreases(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	first := pageConfigOf(t, tl.do(t, "GET", "/lab", "").body)["store_id"]
	second := pageConfigOf(t, tl.do(t, "GET", "/lab", "").body)["store_id"]
	if diff := cmp.Diff([]any{0.0, 1.0}, []any{first, second}); diff != "" {
		t.Errorf("store_id of two pages (-want +got):\n%s", diff)
	}
}

func TestAnnouncementsEnabledByOverrides(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/overrides.json",
		`{"@jupyterlab/apputils-extension:announcements": {"fetchNews": "false"}}`)
	tl := newTestLab(t, Options{Build: fakeBuild(t), AppSettingsDirs: []string{dir}})
	config := pageConfigOf(t, tl.do(t, "GET", "/lab", "").body)
	want := []any{"@jupyterlab/notebook-extension:cell-executor"}
	if diff := cmp.Diff(want, config["disabledExtensions"]); diff != "" {
		t.Errorf("disabledExtensions (-want +got):\n%s", diff)
	}
}

func TestPageNotBuilt(t *testing.T) {
	tl := newTestLab(t, Options{})
	r := tl.do(t, "GET", "/lab", "")
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", r.status)
	}
	if !strings.Contains(string(r.body), "bash frontend/build.sh") {
		t.Errorf("page does not say how to build the frontend:\n%s", r.body)
	}
	if r := tl.do(t, "GET", "/static/lab/main.js", ""); r.status != http.StatusNotFound {
		t.Errorf("static file without a build: status = %d, want 404", r.status)
	}
	var list struct {
		Settings []any `json:"settings"`
	}
	decodeJSON(t, tl.do(t, "GET", "/lab/api/settings", ""), &list)
	if len(list.Settings) != 0 {
		t.Errorf("settings without a build = %v, want none", list.Settings)
	}
}

// collaborationPackage is a static/package.json that bundles both
// collaboration extensions, with the disabledExtensions of the
// docprovider extension.
const collaborationPackage = `{
  "name": "@jupygo/lab",
  "jupyterlab": {
    "version": "4.6.4",
    "extensionMetadata": {
      "@jupyter/collaboration-extension": {},
      "@jupyter/docprovider-extension": {
        "disabledExtensions": ["@jupyterlab/notebook-extension:cell-executor"]
      }
    }
  }
}`

func TestPageConfigCollaborative(t *testing.T) {
	// Both lists contain the plugins that the page config disables, plus
	// announcements, which no overrides file configures here.
	off := []any{
		"@jupyter/collaboration-extension:rtcGlobalAwareness",
		"@jupyter/collaboration-extension:rtcPanel",
		"@jupyter/collaboration-extension:userEditorCursors",
		"@jupyter/docprovider-extension:content-provider",
		"@jupyter/docprovider-extension:forkManager",
		"@jupyter/docprovider-extension:logger",
		"@jupyter/docprovider-extension:statusBarTimeline",
		"@jupyter/docprovider-extension:websocket-provider-awareness-factory",
		"@jupyter/docprovider-extension:websocket-provider-document-factory",
		"@jupyter/docprovider-extension:yfile",
		"@jupyter/docprovider-extension:ynotebook",
		"@jupyterlab/apputils-extension:announcements",
		"@jupyterlab/notebook-extension:cell-executor",
	}
	on := []any{
		"@jupyterlab/apputils-extension:announcements",
		"@jupyterlab/notebook-extension:cell-executor",
	}
	tests := []struct {
		name          string
		collaborative bool
		wantDisabled  []any
	}{
		{"off", false, off},
		{"on", true, on},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			build := fakeBuild(t)
			build["static/package.json"].Data = []byte(collaborationPackage)
			tl := newTestLab(t, Options{Build: build, Collaborative: tt.collaborative})
			config := pageConfigOf(t, tl.do(t, "GET", "/lab", "").body)
			if got, want := config["disableRTC"], !tt.collaborative; got != want {
				t.Errorf("disableRTC = %v, want %v", got, want)
			}
			if diff := cmp.Diff(tt.wantDisabled, config["disabledExtensions"]); diff != "" {
				t.Errorf("disabledExtensions (-want +got):\n%s", diff)
			}
		})
	}
}
