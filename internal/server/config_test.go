package server

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeConfigFile writes text to path below dir, creating its folders.
func writeConfigFile(t *testing.T, dir, path, text string) {
	t.Helper()
	full := filepath.Join(dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestConfigPatchMergesRecursively(t *testing.T) {
	ts := newTestServer(t, nil)
	const path = "/api/config/notebook"
	steps := []struct {
		name  string
		patch map[string]any
		want  map[string]any
	}{
		{"create", map[string]any{"a": 1, "b": map[string]any{"x": "1", "y": []any{1, 2}}},
			map[string]any{"a": 1.0, "b": map[string]any{"x": "1", "y": []any{1.0, 2.0}}}},
		{"merge nested", map[string]any{"b": map[string]any{"z": true}},
			map[string]any{"a": 1.0, "b": map[string]any{"x": "1", "y": []any{1.0, 2.0}, "z": true}}},
		{"null deletes", map[string]any{"a": nil, "b": map[string]any{"x": nil}},
			map[string]any{"b": map[string]any{"y": []any{1.0, 2.0}, "z": true}}},
		{"object replaces a scalar", map[string]any{"c": 1},
			map[string]any{"b": map[string]any{"y": []any{1.0, 2.0}, "z": true}, "c": 1.0}},
		{"scalar to object", map[string]any{"c": map[string]any{"d": 2}},
			map[string]any{"b": map[string]any{"y": []any{1.0, 2.0}, "z": true},
				"c": map[string]any{"d": 2.0}}},
		{"emptied object removed", map[string]any{"b": map[string]any{"y": nil, "z": nil}},
			map[string]any{"c": map[string]any{"d": 2.0}}},
		{"null in a new object", map[string]any{"e": map[string]any{"f": nil}},
			map[string]any{"c": map[string]any{"d": 2.0}}},
	}
	for _, step := range steps {
		resp, body := ts.do(t, "PATCH", path, step.patch, true)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: PATCH = %d %s", step.name, resp.StatusCode, body)
		}
		if d := cmp.Diff(step.want, decode[map[string]any](t, body)); d != "" {
			t.Errorf("%s: PATCH returned (-want +got):\n%s", step.name, d)
		}
		_, body = ts.do(t, "GET", path, nil, true)
		if d := cmp.Diff(step.want, decode[map[string]any](t, body)); d != "" {
			t.Errorf("%s: GET after PATCH (-want +got):\n%s", step.name, d)
		}
	}
	file := filepath.Join(ts.srv.cfg.ConfigDir, "serverconfig", "notebook.json")
	if _, err := os.Stat(file); err != nil {
		t.Errorf("section file: %v", err)
	}
}

func TestConfigPutReplaces(t *testing.T) {
	ts := newTestServer(t, nil)
	const path = "/api/config/tree"
	ts.do(t, "PATCH", path, map[string]any{"old": 1}, true)
	resp, body := ts.do(t, "PUT", path, map[string]any{"new": map[string]any{"k": "v"}}, true)
	if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("PUT = %d %q, want 204 and no body", resp.StatusCode, body)
	}
	_, body = ts.do(t, "GET", path, nil, true)
	want := map[string]any{"new": map[string]any{"k": "v"}}
	if d := cmp.Diff(want, decode[map[string]any](t, body)); d != "" {
		t.Errorf("GET after PUT (-want +got):\n%s", d)
	}
}

func TestConfigMissingSectionIsEmpty(t *testing.T) {
	ts := newTestServer(t, nil)
	resp, body := ts.do(t, "GET", "/api/config/never_written", nil, true)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "{}" {
		t.Errorf("GET of a missing section = %d %s, want 200 {}", resp.StatusCode, body)
	}
}

func TestConfigMergesFoldersAndDefaults(t *testing.T) {
	user, system := t.TempDir(), t.TempDir()
	writeConfigFile(t, system, "serverconfig/notebook.json",
		`{"from": "system", "system": 1, "nested": {"s": 1, "shared": "system"}}`)
	writeConfigFile(t, user, "serverconfig/notebook.d/b.json", `{"theme": "b", "pkg": {"b": 1}}`)
	writeConfigFile(t, user, "serverconfig/notebook.d/a.json", `{"theme": "a", "pkg": {"a": 1}}`)
	writeConfigFile(t, user, "serverconfig/notebook.json", `{"from": "user", "nested": {"shared": "user"}}`)
	ts := newTestServer(t, func(c *Config) {
		c.ConfigDir = user
		c.ConfigPath = []string{user, system}
	})

	_, body := ts.do(t, "GET", "/api/config/notebook", nil, true)
	want := map[string]any{
		"from": "user", "system": 1.0, "theme": "b",
		"nested": map[string]any{"s": 1.0, "shared": "user"},
		"pkg":    map[string]any{"a": 1.0, "b": 1.0},
	}
	if d := cmp.Diff(want, decode[map[string]any](t, body)); d != "" {
		t.Errorf("merged section (-want +got):\n%s", d)
	}

	// A PATCH stores only what the defaults in notebook.d do not give.
	ts.do(t, "PATCH", "/api/config/notebook", map[string]any{"theme": "b", "pkg": map[string]any{"c": 1}}, true)
	data, err := os.ReadFile(filepath.Join(user, "serverconfig", "notebook.json"))
	if err != nil {
		t.Fatal(err)
	}
	stored := decode[map[string]any](t, data)
	wantStored := map[string]any{
		"from": "user", "nested": map[string]any{"shared": "user"}, "pkg": map[string]any{"c": 1.0},
	}
	if d := cmp.Diff(wantStored, stored); d != "" {
		t.Errorf("stored section (-want +got):\n%s", d)
	}
}

func TestConfigRejectsBadInput(t *testing.T) {
	ts := newTestServer(t, nil)
	tests := []struct {
		name, method, path, body string
		want                     int
	}{
		{"invalid JSON", "PATCH", "/api/config/notebook", "{not json", http.StatusBadRequest},
		{"empty body", "PATCH", "/api/config/notebook", "", http.StatusBadRequest},
		{"array", "PATCH", "/api/config/notebook", "[1, 2]", http.StatusBadRequest},
		{"null", "PUT", "/api/config/notebook", "null", http.StatusBadRequest},
		{"string", "PUT", "/api/config/notebook", `"x"`, http.StatusBadRequest},
		{"two values", "PATCH", "/api/config/notebook", "{} {}", http.StatusBadRequest},
		{"section with a space", "GET", "/api/config/a%20b", "", http.StatusBadRequest},
		{"section out of the folder", "GET", "/api/config/..%2fsecret", "", http.StatusNotFound},
		{"hidden section", "PATCH", "/api/config/.hidden", "{}", http.StatusBadRequest},
		{"section name too long", "PATCH", "/api/config/" + strings.Repeat("a", 251), "{}", http.StatusBadRequest},
		{"section name too long to read", "GET", "/api/config/" + strings.Repeat("a", 300), "", http.StatusBadRequest},
		{"DELETE", "DELETE", "/api/config/notebook", "", http.StatusMethodNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := mustRequest(t, tc.method, ts.URL+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Authorization", "token "+testToken)
			resp, body := send(t, ts.Client(), req)
			if resp.StatusCode != tc.want {
				t.Errorf("%s %s = %d %s, want %d", tc.method, tc.path, resp.StatusCode, body, tc.want)
			}
			if msg, _ := decode[map[string]any](t, body)["message"].(string); msg == "" {
				t.Errorf("error body %s has no message", body)
			}
		})
	}
	_, body := ts.do(t, "GET", "/api/config/notebook", nil, true)
	if strings.TrimSpace(string(body)) != "{}" {
		t.Errorf("section after rejected writes = %s, want {}", body)
	}
}
