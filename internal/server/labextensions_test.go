package server

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLabextensionsFromJupyterPath checks that the server lists and serves
// a prebuilt extension installed below a JUPYTER_PATH folder.
func TestLabextensionsFromJupyterPath(t *testing.T) {
	data := t.TempDir()
	ext := filepath.Join(data, "labextensions", "demo-ext")
	if err := os.MkdirAll(filepath.Join(ext, "static"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"package.json": `{"name": "demo-ext",
			"jupyterlab": {"_build": {"load": "static/remoteEntry.js", "extension": "./extension"}}}`,
		"static/remoteEntry.js": "var _JUPYTERLAB = {};\n",
	} {
		if err := os.WriteFile(filepath.Join(ext, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("JUPYTER_PATH", data)
	ts := newTestServer(t, func(c *Config) { c.Frontend = fakeBuild })
	t.Cleanup(func() { ts.srv.lab.Close() })

	resp, body := ts.do(t, "GET", "/lab", nil, true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /lab = %d", resp.StatusCode)
	}
	want := []any{map[string]any{"name": "demo-ext", "load": "static/remoteEntry.js",
		"extension": "./extension"}}
	if diff := cmp.Diff(want, pageConfigOf(t, body)["federated_extensions"]); diff != "" {
		t.Errorf("federated_extensions (-want +got):\n%s", diff)
	}
	resp, body = ts.do(t, "GET", "/lab/extensions/demo-ext/static/remoteEntry.js", nil, true)
	if resp.StatusCode != http.StatusOK || string(body) != "var _JUPYTERLAB = {};\n" {
		t.Errorf("remote entry = %d %q", resp.StatusCode, body)
	}
}
