package kernel

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// errorBody is the JSON error shape of jupyter_server.
type errorBody struct {
	Message string  `json:"message"`
	Reason  *string `json:"reason"`
}

func TestKernelSpecHandlers(t *testing.T) {
	ts := newTestServer(t, Options{BaseURL: "/user/alice/"})

	status, body, _ := ts.do("GET", "/api/kernelspecs", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /api/kernelspecs: %d %s", status, body)
	}
	var list struct {
		Default     string `json:"default"`
		Kernelspecs map[string]struct {
			Name      string            `json:"name"`
			Spec      map[string]any    `json:"spec"`
			Resources map[string]string `json:"resources"`
		} `json:"kernelspecs"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	if list.Default != "python3" {
		t.Errorf("default = %q, want python3", list.Default)
	}
	py := list.Kernelspecs["python3"]
	if py.Name != "python3" {
		t.Errorf("python3 model name = %q", py.Name)
	}
	var keys []string
	for k := range py.Spec {
		keys = append(keys, k)
	}
	wantKeys := []string{"argv", "display_name", "env", "interrupt_mode", "language", "metadata"}
	if diff := cmp.Diff(wantKeys, keys, sortStrings); diff != "" {
		t.Errorf("spec keys (-want +got):\n%s", diff)
	}
	wantRes := map[string]string{"logo-64x64": "/user/alice/kernelspecs/python3/logo-64x64.png"}
	if diff := cmp.Diff(wantRes, py.Resources); diff != "" {
		t.Errorf("resources (-want +got):\n%s", diff)
	}
	if mode := list.Kernelspecs["python3-message"].Spec["interrupt_mode"]; mode != "message" {
		t.Errorf("python3-message interrupt_mode = %v, want message", mode)
	}

	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantType   string
	}{
		{"spec", "/api/kernelspecs/python3", http.StatusOK, "application/json"},
		{"spec upper case", "/api/kernelspecs/PYTHON3", http.StatusOK, "application/json"},
		{"unknown spec", "/api/kernelspecs/nope", http.StatusNotFound, "application/json"},
		{"logo", "/kernelspecs/python3/logo-64x64.png", http.StatusOK, "image/png"},
		{"kernel.json", "/kernelspecs/python3/kernel.json", http.StatusOK, "application/json"},
		{"missing resource", "/kernelspecs/python3/logo-32x32.png", http.StatusNotFound, "application/json"},
		{"escape", "/kernelspecs/python3/..%2f..%2fhelpers_test.go", http.StatusNotFound, "application/json"},
		{"resource of unknown spec", "/kernelspecs/nope/logo-64x64.png", http.StatusNotFound, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, header := ts.do("GET", tt.path, nil)
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d: %s", status, tt.wantStatus, body)
			}
			if got := header.Get("Content-Type"); !strings.HasPrefix(got, tt.wantType) {
				t.Errorf("Content-Type = %q, want %s", got, tt.wantType)
			}
			if status == http.StatusNotFound {
				checkErrorBody(t, body)
			}
		})
	}
}

var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })

// checkErrorBody checks the {"message": ..., "reason": null} shape.
func checkErrorBody(t *testing.T, body []byte) {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil || e.Message == "" || e.Reason != nil {
		t.Errorf("error body %s is not {message, reason: null}", body)
	}
}

func TestSpecResourceSymlink(t *testing.T) {
	kernels := t.TempDir()
	specDir := filepath.Join(kernels, "k")
	if err := os.MkdirAll(specDir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(specDir, "kernel.json"), []byte(specJSONText("k")), 0o644)
	secret := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(secret, []byte("secret"), 0o644)
	if err := os.Symlink(secret, filepath.Join(specDir, "logo-64x64.png")); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, Options{SpecDirs: []string{kernels}})
	status, body, _ := ts.do("GET", "/kernelspecs/k/logo-64x64.png", nil)
	if status != http.StatusNotFound || strings.Contains(string(body), "secret") {
		t.Errorf("symlink out of the spec dir: status %d, body %s; want 404", status, body)
	}
}

func TestKernelHandlersErrors(t *testing.T) {
	ts := newTestServer(t, Options{})
	const unknown = "00000000-0000-0000-0000-000000000000"
	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		wantStatus int
		wantText   string
	}{
		{"start unknown spec", "POST", "/api/kernels", map[string]string{"name": "nope"}, http.StatusNotFound, `nope\" not found`},
		{"start invalid body", "POST", "/api/kernels", "not an object", http.StatusBadRequest, "invalid JSON"},
		{"get", "GET", "/api/kernels/" + unknown, nil, http.StatusNotFound, "Kernel does not exist: " + unknown},
		{"delete", "DELETE", "/api/kernels/" + unknown, nil, http.StatusNotFound, "Kernel does not exist"},
		{"interrupt", "POST", "/api/kernels/" + unknown + "/interrupt", nil, http.StatusNotFound, "Kernel does not exist"},
		{"restart", "POST", "/api/kernels/" + unknown + "/restart", nil, http.StatusNotFound, "Kernel does not exist"},
		{"channels", "GET", "/api/kernels/" + unknown + "/channels", nil, http.StatusNotFound, "Kernel does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := ts.do(tt.method, tt.path, tt.body)
			if status != tt.wantStatus || !strings.Contains(string(body), tt.wantText) {
				t.Errorf("status %d, body %s; want %d with %q", status, body, tt.wantStatus, tt.wantText)
			}
			checkErrorBody(t, body)
		})
	}
	if status, body, _ := ts.do("GET", "/api/kernels", nil); status != http.StatusOK || string(body) != "[]" {
		t.Errorf("GET /api/kernels without kernels: %d %s; want 200 []", status, body)
	}
}

func TestKernelHandlersLifecycle(t *testing.T) {
	skipWithoutIPyKernel(t)
	ts := newTestServer(t, Options{BaseURL: "/base/"})

	// No body at all starts the default kernel.
	status, body, header := ts.do("POST", "/api/kernels", nil)
	if status != http.StatusCreated {
		t.Fatalf("POST /api/kernels: %d %s", status, body)
	}
	var raw map[string]any
	json.Unmarshal(body, &raw)
	var keys []string
	for k := range raw {
		keys = append(keys, k)
	}
	if diff := cmp.Diff([]string{"connections", "execution_state", "id", "last_activity", "name"}, keys, sortStrings); diff != "" {
		t.Errorf("model keys (-want +got):\n%s", diff)
	}
	if last, _ := raw["last_activity"].(string); !strings.HasSuffix(last, "Z") || len(last) != len("2006-01-02T15:04:05.000000Z") {
		t.Errorf("last_activity = %q, want ISO 8601 UTC with microseconds and Z", last)
	}
	id, _ := raw["id"].(string)
	if got := header.Get("Location"); got != "/base/api/kernels/"+id {
		t.Errorf("Location = %q, want /base/api/kernels/%s", got, id)
	}

	status, body, _ = ts.do("GET", "/api/kernels", nil)
	var list []Model
	json.Unmarshal(body, &list)
	if status != http.StatusOK || len(list) != 1 || list[0].ID != id || list[0].Name != "python3" {
		t.Errorf("GET /api/kernels: %d %s", status, body)
	}
	if status, body, _ := ts.do("POST", "/api/kernels/"+id+"/interrupt", nil); status != http.StatusNoContent {
		t.Errorf("interrupt: %d %s", status, body)
	}
	status, body, _ = ts.do("POST", "/api/kernels/"+id+"/restart", nil)
	var restarted Model
	json.Unmarshal(body, &restarted)
	if status != http.StatusOK || restarted.ID != id || restarted.ExecutionState != "idle" {
		t.Errorf("restart: %d %s", status, body)
	}

	// A WebSocket open during DELETE is closed by the server.
	c := ts.dial(id, "", true)
	if status, body, _ := ts.do("DELETE", "/api/kernels/"+id, nil); status != http.StatusNoContent || len(body) != 0 {
		t.Errorf("DELETE: %d %q; want 204 without body", status, body)
	}
	for range c.msgs {
	}
	if err := <-c.readErr; websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("WebSocket after DELETE ended with %v, want close status 1001", err)
	}
	if status, _, _ := ts.do("GET", "/api/kernels/"+id, nil); status != http.StatusNotFound {
		t.Errorf("GET after DELETE: %d, want 404", status)
	}
}
