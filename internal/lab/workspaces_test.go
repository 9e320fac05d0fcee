package lab

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWorkspaceSlug(t *testing.T) {
	// The expected values were computed by a Python transcription of
	// jupyterlab_server's slugify (workspaces_handler.py) on the same names.
	tests := map[string]string{
		"default":                "default-37a8",
		"/default":               "default-37a8",
		"Analysis 2":             "analysis-2-6df4",
		"a/b":                    "ab-c14c",
		"%41bc":                  "Abc-f8a1",
		"ｆｕｌｌ":                   "full-ceae",
		"日本語":                    "-7771",
		"x -- y":                 "x-y-217e",
		"  pad  ":                "pad-6878",
		"bad%zz":                 "badzz-8059",
		"a\x1cb":                 "a-b-3b03",
		"ﬁle":                    "file-e187",
		"İstanbul":               "istanbul-24ec",
		"my%20work%2Fv2":         "my-workv2-4ab9",
		"%C3%89t%C3%A9":          "t-948c",
		"tab\there":              "tab-here-5b87",
		strings.Repeat("a", 300): strings.Repeat("a", 102) + "-9835",
	}
	for name, want := range tests {
		if got := workspaceSlug(name); got != want {
			t.Errorf("workspaceSlug(%q) = %q, want %q", name, got, want)
		}
	}
}

func workspaceBody(id string) string {
	return `{"data": {"layout-restorer:data": {"main": {"dock": null}}}, "metadata": {"id": "` + id + `"}}`
}

func TestWorkspaceRoundTrip(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})

	var empty map[string]any
	decodeJSON(t, tl.do(t, "GET", "/lab/api/workspaces/default", ""), &empty)
	wantEmpty := map[string]any{"data": map[string]any{}, "metadata": map[string]any{"id": "/default"}}
	if diff := cmp.Diff(wantEmpty, empty); diff != "" {
		t.Errorf("unsaved workspace (-want +got):\n%s", diff)
	}

	body := workspaceBody("default")
	if r := tl.do(t, "PUT", "/lab/api/workspaces/default", body); r.status != http.StatusNoContent {
		t.Fatalf("PUT status = %d, want 204; body %s", r.status, r.body)
	}
	stored, err := os.ReadFile(filepath.Join(tl.opts.WorkspacesDir, "default-37a8.jupyterlab-workspace"))
	if err != nil || string(stored) != body {
		t.Fatalf("stored workspace = %q, %v; want %q", stored, err, body)
	}

	var got map[string]any
	decodeJSON(t, tl.do(t, "GET", "/lab/api/workspaces/default", ""), &got)
	metadata := got["metadata"].(map[string]any)
	for _, key := range []string{"last_modified", "created"} {
		if _, ok := metadata[key].(string); !ok {
			t.Errorf("metadata.%s = %v, want a time", key, metadata[key])
		}
	}
	wantData := map[string]any{"layout-restorer:data": map[string]any{"main": map[string]any{"dock": nil}}}
	if diff := cmp.Diff(wantData, got["data"]); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}

	if r := tl.do(t, "PUT", "/lab/api/workspaces/other", workspaceBody("/other")); r.status != http.StatusNoContent {
		t.Fatalf("PUT other: status = %d; body %s", r.status, r.body)
	}
	var list struct {
		Workspaces struct {
			IDs    []string         `json:"ids"`
			Values []map[string]any `json:"values"`
		} `json:"workspaces"`
	}
	decodeJSON(t, tl.do(t, "GET", "/lab/api/workspaces", ""), &list)
	if diff := cmp.Diff([]string{"default", "/other"}, list.Workspaces.IDs); diff != "" {
		t.Errorf("listed ids (-want +got):\n%s", diff)
	}
	if len(list.Workspaces.Values) != 2 {
		t.Errorf("listed %d values, want 2", len(list.Workspaces.Values))
	}

	if r := tl.do(t, "DELETE", "/lab/api/workspaces/default", ""); r.status != http.StatusNoContent {
		t.Errorf("DELETE status = %d, want 204", r.status)
	}
	r := tl.do(t, "DELETE", "/lab/api/workspaces/default", "")
	if r.status != http.StatusNotFound {
		t.Errorf("second DELETE status = %d, want 404", r.status)
	}
	errorMessage(t, r)
}

func TestWorkspacePutInvalid(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	tests := []struct {
		name, path, body, message string
	}{
		{"id mismatch", "/lab/api/workspaces/a", workspaceBody("b"), "does not match the workspace name"},
		{"not JSON", "/lab/api/workspaces/a", "{", "invalid workspace"},
		{"no metadata", "/lab/api/workspaces/a", `{"data": {}}`, "metadata must be an object"},
		{"id not a string", "/lab/api/workspaces/a", `{"metadata": {"id": 1}}`, "metadata.id must be a string"},
		{"two values", "/lab/api/workspaces/a", workspaceBody("a") + "{}", "more than one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tl.do(t, "PUT", tt.path, tt.body)
			if r.status != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", r.status, r.body)
			}
			if msg := errorMessage(t, r); !strings.Contains(msg, tt.message) {
				t.Errorf("message = %q, want it to contain %q", msg, tt.message)
			}
		})
	}
}

func TestWorkspaceNamesWithSpecialCharacters(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	// The id in the body is percent-encoded, as the frontend sends it.
	path := "/lab/api/workspaces/my%20work%2Fv2"
	if r := tl.do(t, "PUT", path, workspaceBody("my%20work%2Fv2")); r.status != http.StatusNoContent {
		t.Fatalf("PUT status = %d; body %s", r.status, r.body)
	}
	var got map[string]any
	decodeJSON(t, tl.do(t, "GET", path, ""), &got)
	if id := got["metadata"].(map[string]any)["id"]; id != "my%20work%2Fv2" {
		t.Errorf("metadata.id = %v, want the stored id", id)
	}
}

func TestWorkspaceListSkipsBrokenFiles(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	writeFile(t, filepath.Join(tl.opts.WorkspacesDir, "broken-0000.jupyterlab-workspace"), "{")
	writeFile(t, filepath.Join(tl.opts.WorkspacesDir, "notes.txt"), "not a workspace")
	tl.do(t, "PUT", "/lab/api/workspaces/good", workspaceBody("good"))
	var list struct {
		Workspaces struct {
			IDs []string `json:"ids"`
		} `json:"workspaces"`
	}
	decodeJSON(t, tl.do(t, "GET", "/lab/api/workspaces", ""), &list)
	if diff := cmp.Diff([]string{"good"}, list.Workspaces.IDs); diff != "" {
		t.Errorf("listed ids (-want +got):\n%s", diff)
	}
}
