package lab

import (
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jupygo/jupygo/frontend"
)

var mainScript = regexp.MustCompile(`<script defer src="([^"]+)"></script>`)

// TestEmbeddedBuild checks the real build that frontend/build.sh wrote, when
// one was embedded: the page, its entry script, every settings schema and
// the theme CSS.
func TestEmbeddedBuild(t *testing.T) {
	if !frontend.Built() {
		t.Skip("frontend not built: run bash frontend/build.sh")
	}
	tl := newTestLab(t, Options{Build: frontend.FS(), BaseURL: "/user/alice/"})

	page := tl.do(t, "GET", "/lab", "")
	config := pageConfigOf(t, page.body)
	for key, want := range wantPageConfig("/user/alice/") {
		if key == "disabledExtensions" {
			continue // the build's own list, checked below
		}
		if diff := cmp.Diff(want, config[key]); diff != "" {
			t.Errorf("page config %s (-want +got):\n%s", key, diff)
		}
	}
	disabled := stringItems(config["disabledExtensions"])
	if !contains(disabled, announcementsPlugin) {
		t.Errorf("disabledExtensions = %v, want it to include %s", disabled, announcementsPlugin)
	}
	// Collaboration is off by default, so the page disables the
	// collaboration plugins, which only works while the build bundles
	// their packages under these names.
	for pkg, plugins := range collaborationPlugins {
		if _, ok := tl.lab.app.Jupyterlab.ExtensionMetadata[pkg]; !ok {
			t.Errorf("the build does not bundle %s", pkg)
		}
		for _, id := range plugins {
			if !contains(disabled, id) {
				t.Errorf("disabledExtensions = %v, want it to include %s", disabled, id)
			}
		}
	}

	m := mainScript.FindSubmatch(page.body)
	if m == nil {
		t.Fatalf("page has no entry script:\n%s", page.body)
	}
	src, ok := strings.CutPrefix(string(m[1]), "/user/alice")
	if !ok {
		t.Fatalf("entry script %s is not below the base URL", m[1])
	}
	js := tl.do(t, "GET", src, "", "Accept-Encoding", "gzip")
	if js.status != http.StatusOK || js.header.Get("Content-Encoding") != "gzip" {
		t.Errorf("GET %s: status %d, Content-Encoding %q; want 200 gzip",
			src, js.status, js.header.Get("Content-Encoding"))
	}

	ids := tl.lab.settingsIDs()
	if len(ids) < 50 {
		t.Errorf("the build has %d settings schemas, want at least 50", len(ids))
	}
	for _, id := range ids {
		entry, err := tl.lab.schema(id)
		if err != nil {
			t.Errorf("schema %s: %v", id, err)
			continue
		}
		if err := validateSettings(entry, map[string]any{}); err != nil {
			t.Errorf("schema %s rejects empty settings: %v", id, err)
		}
	}
	var list struct {
		Settings []settingResponse `json:"settings"`
	}
	decodeJSON(t, tl.do(t, "GET", "/lab/api/settings", ""), &list)
	if len(list.Settings) != len(ids) {
		t.Errorf("settings list has %d entries, want %d", len(list.Settings), len(ids))
	}

	if r := putRaw(t, tl, "@jupyterlab/apputils-extension:themes",
		"{\n  // dark\n  \"theme\": \"JupyterLab Dark\",\n}"); r.status != http.StatusNoContent {
		t.Errorf("PUT theme setting: status %d, body %s", r.status, r.body)
	}

	themes, err := fs.Glob(frontend.FS(), "themes/@jupyterlab/*/index.css")
	if err != nil || len(themes) == 0 {
		t.Fatalf("no theme CSS in the build (%v)", err)
	}
	for _, theme := range themes {
		path := "/lab/api/" + theme
		if r := tl.do(t, "GET", path, ""); r.status != http.StatusOK || len(r.body) == 0 {
			t.Errorf("GET %s: status %d, %d bytes", path, r.status, len(r.body))
		}
	}

	var report struct {
		Bundles map[string]licenseBundle `json:"bundles"`
	}
	decodeJSON(t, tl.do(t, "GET", "/lab/api/licenses/", ""), &report)
	if n := len(report.Bundles[tl.lab.app.Name].Packages); n == 0 {
		t.Errorf("license report of %s is empty", tl.lab.app.Name)
	}
}

func contains(list []string, s string) bool {
	for _, item := range list {
		if item == s {
			return true
		}
	}
	return false
}
