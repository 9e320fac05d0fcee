package lab

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// settingResponse is one setting as the API returns it.
type settingResponse struct {
	ID           string         `json:"id"`
	Schema       map[string]any `json:"schema"`
	Version      string         `json:"version"`
	Raw          string         `json:"raw"`
	Settings     map[string]any `json:"settings"`
	LastModified *string        `json:"last_modified"`
	Created      *string        `json:"created"`
}

func putRaw(t *testing.T, tl *testLab, id, raw string) response {
	t.Helper()
	body, err := json.Marshal(map[string]string{"raw": raw})
	if err != nil {
		t.Fatal(err)
	}
	return tl.do(t, "PUT", "/lab/api/settings/"+id, string(body), "Content-Type", "application/json")
}

func TestSettingsList(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	var list struct {
		Settings []settingResponse `json:"settings"`
	}
	decodeJSON(t, tl.do(t, "GET", "/lab/api/settings", ""), &list)

	var ids, versions, raws []string
	for _, s := range list.Settings {
		ids = append(ids, s.ID)
		versions = append(versions, s.Version)
		raws = append(raws, s.Raw)
		if s.Schema["type"] != "object" {
			t.Errorf("%s: schema type = %v, want object", s.ID, s.Schema["type"])
		}
		if s.LastModified != nil || s.Created != nil {
			t.Errorf("%s: times of unsaved settings = %v, %v; want null", s.ID, s.LastModified, s.Created)
		}
	}
	wantIDs := []string{
		"plain-extension:plugin.with-dots.v2",
		"@jupyterlab/apputils-extension:themes",
		"@jupyterlab/apputils-extension:announcements",
	}
	if diff := cmp.Diff(wantIDs, ids); diff != "" {
		t.Errorf("ids, sorted descending (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"N/A", "4.6.4", "4.6.4"}, versions); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"{}", "{}", "{}"}, raws); diff != "" {
		t.Errorf("raw (-want +got):\n%s", diff)
	}
}

func TestSettingsIDsOnly(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	var list map[string][]map[string]any
	decodeJSON(t, tl.do(t, "GET", "/lab/api/settings?ids_only=true", ""), &list)
	want := map[string][]map[string]any{"settings": {
		{"id": "plain-extension:plugin.with-dots.v2"},
		{"id": "@jupyterlab/apputils-extension:themes"},
		{"id": "@jupyterlab/apputils-extension:announcements"},
	}}
	if diff := cmp.Diff(want, list); diff != "" {
		t.Errorf("ids_only list (-want +got):\n%s", diff)
	}
}

// json5Settings has comments, unquoted keys, single quotes and trailing
// commas, as the settings editor may send.
const json5Settings = `// Settings of the theme manager.
{
  /* the dark theme */
  "theme": 'JupyterLab Dark',
  "theme-scrollbars": true, // trailing comma follows
  overrides: {
    "code-font-family": "monospace",
  },
}
`

func TestSettingsPutRoundTrip(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	const id = "@jupyterlab/apputils-extension:themes"
	if r := putRaw(t, tl, id, json5Settings); r.status != http.StatusNoContent {
		t.Fatalf("PUT status = %d, want 204; body %s", r.status, r.body)
	}

	stored, err := os.ReadFile(filepath.Join(tl.opts.UserSettingsDir,
		"@jupyterlab", "apputils-extension", "themes.jupyterlab-settings"))
	if err != nil {
		t.Fatalf("reading the stored settings: %v", err)
	}
	if string(stored) != json5Settings {
		t.Errorf("stored file = %q, want the raw text %q", stored, json5Settings)
	}

	var got settingResponse
	r := tl.do(t, "GET", "/lab/api/settings/"+id, "")
	decodeJSON(t, r, &got)
	if got.Raw != json5Settings {
		t.Errorf("raw = %q, want %q", got.Raw, json5Settings)
	}
	wantSettings := map[string]any{
		"theme":            "JupyterLab Dark",
		"theme-scrollbars": true,
		"overrides":        map[string]any{"code-font-family": "monospace"},
	}
	if diff := cmp.Diff(wantSettings, got.Settings); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	if got.LastModified == nil || got.Created == nil {
		t.Errorf("times after a save = %v, %v; want both set", got.LastModified, got.Created)
	}
	if got.ID != id || got.Version != "4.6.4" {
		t.Errorf("id, version = %q, %q", got.ID, got.Version)
	}
}

func TestSettingsPutInvalid(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	const id = "@jupyterlab/apputils-extension:themes"
	tests := []struct {
		name, body, message string
	}{
		{"invalid JSON5", `{"raw": "{\"theme\": }"}`, "invalid JSON5"},
		{"unterminated comment", `{"raw": "{/* open"}`, "invalid JSON5"},
		{"not an object", `{"raw": "[1, 2]"}`, "must be an object"},
		{"empty raw", `{"raw": ""}`, "invalid JSON5"},
		{"infinity", `{"raw": "{\"theme\": Infinity}"}`, "cannot be represented"},
		{"missing raw", `{"settings": {}}`, `{"raw":`},
		{"raw not a string", `{"raw": {"theme": "x"}}`, "invalid JSON"},
		{"body not JSON", `raw=1`, "invalid JSON"},
		{"wrong type", `{"raw": "{\"theme\": 3}"}`, "do not match the schema"},
		{"unknown key", `{"raw": "{\"colour\": \"red\"}"}`, "do not match the schema"},
		{"bad reference value", `{"raw": "{\"overrides\": {\"a\": 1}}"}`, "do not match the schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tl.do(t, "PUT", "/lab/api/settings/"+id, tt.body)
			if r.status != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", r.status, r.body)
			}
			if msg := errorMessage(t, r); !strings.Contains(msg, tt.message) {
				t.Errorf("message = %q, want it to contain %q", msg, tt.message)
			}
		})
	}
	path := filepath.Join(tl.opts.UserSettingsDir, "@jupyterlab", "apputils-extension")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a rejected PUT created %s (err %v)", path, err)
	}
}

func TestSettingsIDRouting(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	tests := []struct {
		path   string
		status int
		id     string
	}{
		{"/lab/api/settings/@jupyterlab/apputils-extension:themes", 200, "@jupyterlab/apputils-extension:themes"},
		{"/lab/api/settings/%40jupyterlab%2Fapputils-extension%3Athemes", 200, "@jupyterlab/apputils-extension:themes"},
		{"/lab/api/settings/@jupyterlab/apputils-extension%3Aannouncements", 200, "@jupyterlab/apputils-extension:announcements"},
		{"/lab/api/settings/plain-extension:plugin.with-dots.v2", 200, "plain-extension:plugin.with-dots.v2"},
		{"/lab/api/settings/@jupyterlab/apputils-extension:missing", 404, ""},
		{"/lab/api/settings/@jupyterlab/apputils-extension", 404, ""},
		{"/lab/api/settings/a:b:c", 404, ""},
		{"/lab/api/settings/@jupyterlab/..:themes", 404, ""},
		{"/lab/api/settings/..%2F..%2Fstatic:index", 404, ""},
		{"/lab/api/settings/@a/b/c:d", 404, ""},
		{"/lab/api/settings/@jupyterlab/apputils-extension:..", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := tl.do(t, "GET", tt.path, "")
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", r.status, tt.status, r.body)
			}
			if tt.status != 200 {
				errorMessage(t, r)
				return
			}
			var s settingResponse
			decodeJSON(t, r, &s)
			if s.ID != tt.id {
				t.Errorf("id = %q, want %q", s.ID, tt.id)
			}
		})
	}

	put := putRaw(t, tl, "plain-extension:plugin.with-dots.v2", "{level: 3}")
	if put.status != http.StatusNoContent {
		t.Fatalf("PUT unscoped plugin: status = %d; body %s", put.status, put.body)
	}
	file := filepath.Join(tl.opts.UserSettingsDir, "plain-extension", "plugin.with-dots.v2.jupyterlab-settings")
	if _, err := os.Stat(file); err != nil {
		t.Errorf("stored file: %v", err)
	}
	if r := putRaw(t, tl, "..%2Fescape:x", "{}"); r.status != http.StatusNotFound {
		t.Errorf("PUT with an escaping id: status = %d, want 404", r.status)
	}
}

func TestSettingsStoredInvalid(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	dir := filepath.Join(tl.opts.UserSettingsDir, "@jupyterlab", "apputils-extension")
	writeFile(t, filepath.Join(dir, "themes.jupyterlab-settings"), `{"theme": `)
	writeFile(t, filepath.Join(dir, "announcements.jupyterlab-settings"), `{"fetchNews": "maybe"}`)
	for _, id := range []string{"@jupyterlab/apputils-extension:themes", "@jupyterlab/apputils-extension:announcements"} {
		var s settingResponse
		r := tl.do(t, "GET", "/lab/api/settings/"+id, "")
		if r.status != http.StatusOK {
			t.Fatalf("%s: status = %d, want 200", id, r.status)
		}
		decodeJSON(t, r, &s)
		if s.Raw != "{}" || len(s.Settings) != 0 {
			t.Errorf("%s: raw %q, settings %v; want the empty defaults", id, s.Raw, s.Settings)
		}
	}
}

func TestSettingsOverrides(t *testing.T) {
	first, second := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(first, "overrides.d", "10-site.json"), `{
		"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark", "overrides": {"ui-font-size1": "14px"}}
	}`)
	writeFile(t, filepath.Join(first, "overrides.json5"), `{
		// a JSON5 file with a new key
		"@jupyterlab/apputils-extension:themes": {"adaptive-theme": true,},
	}`)
	writeFile(t, filepath.Join(second, "overrides.json"), `{
		"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab HC Dark"}
	}`)
	writeFile(t, filepath.Join(second, "overrides.d", "broken.json"), `{"not json`)

	tl := newTestLab(t, Options{Build: fakeBuild(t), AppSettingsDirs: []string{first, second, t.TempDir() + "/missing"}})
	var s settingResponse
	decodeJSON(t, tl.do(t, "GET", "/lab/api/settings/@jupyterlab/apputils-extension:themes", ""), &s)
	props := s.Schema["properties"].(map[string]any)
	got := map[string]any{
		"theme":          props["theme"].(map[string]any)["default"],
		"overrides":      props["overrides"].(map[string]any)["default"],
		"adaptive-theme": props["adaptive-theme"],
	}
	want := map[string]any{
		"theme":          "JupyterLab HC Dark",
		"overrides":      map[string]any{"code-font-family": nil, "ui-font-size1": "14px"},
		"adaptive-theme": map[string]any{"default": true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults after overrides (-want +got):\n%s", diff)
	}
}

func TestMergeJSON(t *testing.T) {
	dst := map[string]any{"a": 1.0, "b": map[string]any{"c": 2.0, "d": 3.0}, "e": "x"}
	mergeJSON(dst, map[string]any{"b": map[string]any{"d": nil, "f": 4.0}, "e": nil, "g": []any{1.0}})
	want := map[string]any{"a": 1.0, "b": map[string]any{"c": 2.0, "f": 4.0}, "g": []any{1.0}}
	if diff := cmp.Diff(want, dst); diff != "" {
		t.Errorf("mergeJSON (-want +got):\n%s", diff)
	}
}

func TestParseSettingID(t *testing.T) {
	valid := map[string]settingID{
		"@jupyterlab/apputils-extension:themes": {"@jupyterlab/apputils-extension", "themes"},
		"plain:plugin":                          {"plain", "plugin"},
		"@a/b:c.d-e_f":                          {"@a/b", "c.d-e_f"},
	}
	for s, want := range valid {
		got, err := parseSettingID(s)
		if err != nil || got != want {
			t.Errorf("parseSettingID(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{
		"", ":", "pkg", "pkg:", ":plugin", "a:b:c", "../x:y", "@scope:x", "@/b:c",
		"@a/b/c:d", "a/b:c", "@a/@b:c", "x:a/b", "x:..", "..:x", "x:a\\b", "x:a\x00b",
	} {
		if id, err := parseSettingID(s); err == nil {
			t.Errorf("parseSettingID(%q) = %v, want an error", s, id)
		}
	}
}

func TestCheckNesting(t *testing.T) {
	deep := strings.Repeat("[", 1001) + strings.Repeat("]", 1001)
	tests := []struct {
		name, data string
		ok         bool
	}{
		{"flat", `{"a": [1, {"b": 2}]}`, true},
		{"at the limit", strings.Repeat("[", 1000) + strings.Repeat("]", 1000), true},
		{"too deep", deep, false},
		{"brackets in double quotes", `{"a": "` + deep + `"}`, true},
		{"brackets in single quotes", `{a: '` + deep + `'}`, true},
		{"escaped quote", `{"a": "\"` + deep + `"}`, true},
		{"line comment", "{// " + deep + "\n}", true},
		{"block comment", "{/* " + deep + " */}", true},
		{"closers first", strings.Repeat("]", 2000) + deep, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkNesting([]byte(tt.data), 1000)
			if (err == nil) != tt.ok {
				t.Errorf("checkNesting: err = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestSettingsPutDeepNesting(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	raw := "{a: " + strings.Repeat("[", 1<<20) + strings.Repeat("]", 1<<20) + "}"
	r := putRaw(t, tl, "@jupyterlab/apputils-extension:themes", raw)
	if r.status != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", r.status)
	}
	if msg := errorMessage(t, r); !strings.Contains(msg, "nest deeper") {
		t.Errorf("message = %q", msg)
	}
}
