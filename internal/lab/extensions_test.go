package lab

import (
	"bytes"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// remoteEntry is the content of the fake extension's remote entry.
const remoteEntry = "var _JUPYTERLAB = {};\n"

// writeExtensions lays out two labextensions folders: first with the
// scoped extension @demo/ext, which has a settings schema, the unscoped mime-only, one without a build
// and one whose package.json names another package, and second with a
// copy of @demo/ext that first hides. Outside both is a secret file that
// a symlink in @demo/ext points to.
func writeExtensions(t *testing.T) (first, second string) {
	t.Helper()
	top := t.TempDir()
	first, second = filepath.Join(top, "first"), filepath.Join(top, "second")
	writeFile(t, filepath.Join(first, "@demo/ext/package.json"), `{
		"name": "@demo/ext", "version": "1.0.0",
		"jupyterlab": {
			"_build": {"load": "static/remoteEntry.0123456789abcdef0123.js",
				"extension": "./extension", "style": "./style"},
			"disabledExtensions": ["@jupyterlab/help-extension:about"]
		}}`)
	writeFile(t, filepath.Join(first, "@demo/ext/static/remoteEntry.0123456789abcdef0123.js"), remoteEntry)
	writeFile(t, filepath.Join(first, "@demo/ext/schemas/@demo/ext/plugin.json"),
		`{"type": "object", "properties": {"size": {"type": "number", "default": 3}}}`)
	writeFile(t, filepath.Join(first, "@demo/ext/schemas/@demo/ext/package.json.orig"),
		`{"name": "@demo/ext", "version": "1.0.0"}`)
	writeFile(t, filepath.Join(first, "mime-only/package.json"), `{
		"name": "mime-only",
		"jupyterlab": {"_build": {"load": "static/remoteEntry.js", "mimeExtension": "./mime"}}}`)
	writeFile(t, filepath.Join(first, "unbuilt/package.json"), `{"name": "unbuilt", "jupyterlab": {}}`)
	writeFile(t, filepath.Join(first, "misnamed/package.json"),
		`{"name": "other", "jupyterlab": {"_build": {"load": "static/remoteEntry.js"}}}`)
	writeFile(t, filepath.Join(second, "@demo/ext/package.json"), `{
		"name": "@demo/ext", "jupyterlab": {"_build": {"load": "static/remoteEntry.second.js"}}}`)
	writeFile(t, filepath.Join(top, "secret.txt"), "secret")
	if err := os.Symlink(filepath.Join(top, "secret.txt"),
		filepath.Join(first, "@demo/ext/static/secret.txt")); err != nil {
		t.Fatal(err)
	}
	return first, second
}

func TestFederatedExtensionsPageConfig(t *testing.T) {
	first, second := writeExtensions(t)
	var logs bytes.Buffer
	tl := newTestLab(t, Options{Build: fakeBuild(t),
		Log:               slog.New(slog.NewTextHandler(&logs, nil)),
		LabextensionsDirs: []string{first, second, filepath.Join(first, "missing")}})
	t.Cleanup(func() { tl.lab.Close() })
	config := pageConfigOf(t, tl.do(t, "GET", "/lab", "").body)

	want := []any{
		map[string]any{"name": "@demo/ext", "load": "static/remoteEntry.0123456789abcdef0123.js",
			"extension": "./extension", "style": "./style"},
		map[string]any{"name": "mime-only", "load": "static/remoteEntry.js", "mimeExtension": "./mime"},
	}
	if diff := cmp.Diff(want, config["federated_extensions"]); diff != "" {
		t.Errorf("federated_extensions (-want +got):\n%s", diff)
	}
	disabled, _ := config["disabledExtensions"].([]any)
	found := false
	for _, d := range disabled {
		found = found || d == "@jupyterlab/help-extension:about"
	}
	if !found {
		t.Errorf("disabledExtensions %v lack the plugin the extension disables", disabled)
	}
	for _, skipped := range []string{"unbuilt", "misnamed"} {
		if !strings.Contains(logs.String(), filepath.Join(first, skipped)) {
			t.Errorf("no warning about %s in the log:\n%s", skipped, logs.String())
		}
	}
}

func TestFederatedExtensionFiles(t *testing.T) {
	first, second := writeExtensions(t)
	tl := newTestLab(t, Options{Build: fakeBuild(t), LabextensionsDirs: []string{first, second}})
	t.Cleanup(func() { tl.lab.Close() })

	r := tl.do(t, "GET", "/lab/extensions/@demo/ext/static/remoteEntry.0123456789abcdef0123.js", "")
	if r.status != http.StatusOK {
		t.Fatalf("remote entry = %d, want 200", r.status)
	}
	if string(r.body) != remoteEntry {
		t.Errorf("remote entry body = %q, want %q", r.body, remoteEntry)
	}
	if got := r.header.Get("Content-Type"); got != "text/javascript; charset=utf-8" {
		t.Errorf("remote entry Content-Type = %q", got)
	}
	if r := tl.do(t, "GET", "/lab/extensions/mime-only/package.json", ""); r.status != http.StatusOK {
		t.Errorf("package.json of mime-only = %d, want 200", r.status)
	}

	for _, p := range []string{
		"/lab/extensions/@demo/ext/static/secret.txt",
		"/lab/extensions/@demo/ext/../../secret.txt",
		"/lab/extensions/@demo/ext/%2e%2e/%2e%2e/secret.txt",
		"/lab/extensions/@demo/ext/static/..%2f..%2f..%2fsecret.txt",
		"/lab/extensions/@demo/ext/static",
		"/lab/extensions/@demo/ext/",
		"/lab/extensions/@demo/",
		"/lab/extensions/unbuilt/package.json",
		"/lab/extensions/missing/package.json",
	} {
		// The server cleans ".." out of a path and redirects, so a
		// redirect is no escape.
		if r := tl.do(t, "GET", p, ""); r.status == http.StatusOK {
			t.Errorf("GET %s = 200 %q, want no file", p, r.body)
		}
	}
}

func TestFederatedExtensionsNone(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t), LabextensionsDirs: []string{t.TempDir()}})
	config := pageConfigOf(t, tl.do(t, "GET", "/lab", "").body)
	if diff := cmp.Diff([]any{}, config["federated_extensions"]); diff != "" {
		t.Errorf("federated_extensions (-want +got):\n%s", diff)
	}
}

func TestFederatedExtensionSettings(t *testing.T) {
	first, second := writeExtensions(t)
	tl := newTestLab(t, Options{Build: fakeBuild(t), LabextensionsDirs: []string{first, second}})
	t.Cleanup(func() { tl.lab.Close() })

	var setting settingResponse
	decodeJSON(t, tl.do(t, "GET", "/lab/api/settings/@demo/ext:plugin", ""), &setting)
	if setting.Version != "1.0.0" {
		t.Errorf("version = %q, want 1.0.0", setting.Version)
	}
	properties, _ := setting.Schema["properties"].(map[string]any)
	if _, ok := properties["size"]; !ok {
		t.Errorf("schema = %v, want the extension's, with the property size", setting.Schema)
	}
	if r := putRaw(t, tl, "@demo/ext:plugin", `{"size": "big"}`); r.status != http.StatusBadRequest {
		t.Errorf("PUT of a value the schema rejects = %d, want 400", r.status)
	}
	if r := putRaw(t, tl, "@demo/ext:plugin", `{"size": 5}`); r.status != http.StatusNoContent {
		t.Errorf("PUT = %d %s, want 204", r.status, r.body)
	}

	var list struct {
		Settings []settingResponse `json:"settings"`
	}
	decodeJSON(t, tl.do(t, "GET", "/lab/api/settings", ""), &list)
	found := false
	for _, s := range list.Settings {
		found = found || s.ID == "@demo/ext:plugin"
	}
	if !found {
		t.Error("the settings list lacks @demo/ext:plugin")
	}
}
