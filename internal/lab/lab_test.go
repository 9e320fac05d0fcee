package lab

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

const fakeIndex = `<!doctype html><html><head>
<script id="jupyter-config-data" type="application/json">{{PAGE_CONFIG_JSON}}</script>
<link rel="icon" href="{{FULL_STATIC_URL}}/favicon.svg">
<script defer src="{{FULL_STATIC_URL}}/main.0123456789abcdef.js?v=0123456789abcdef"></script>
</head><body data-base-url="{{BASE_URL}}"></body></html>`

const fakePackage = `{
  "name": "@jupygo/lab",
  "jupyterlab": {
    "version": "4.6.4",
    "extensionMetadata": {
      "@jupyterlab/notebook-extension": {},
      "@example/executor-extension": {
        "disabledExtensions": ["@jupyterlab/notebook-extension:cell-executor"]
      }
    }
  }
}`

const themesSchema = `{
  "title": "Theme",
  "type": "object",
  "definitions": {
    "cssOverrides": {"type": "object", "additionalProperties": {"type": ["string", "null"]}}
  },
  "properties": {
    "theme": {"type": "string", "title": "Selected Theme", "default": "JupyterLab Light"},
    "theme-scrollbars": {"type": "boolean", "default": false},
    "overrides": {"$ref": "#/definitions/cssOverrides", "default": {"code-font-family": null, "ui-font-size1": null}}
  },
  "additionalProperties": false
}`

const mainJS = "console.log('main');\n"

const themeCSS = ":root { --jp-layout-color0: white; }\n"

// gzipped returns data compressed with gzip.
func gzipped(t testing.TB, data string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakeBuild returns a small build with the layout of frontend/build.
func fakeBuild(t testing.TB) fstest.MapFS {
	return fstest.MapFS{
		"static/index.html":                  {Data: []byte(fakeIndex)},
		"static/package.json":                {Data: []byte(fakePackage)},
		"static/main.0123456789abcdef.js":    {Data: []byte(mainJS)},
		"static/main.0123456789abcdef.js.gz": {Data: gzipped(t, mainJS)},
		"static/favicon.svg":                 {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
		"static/0123456789abcdef.woff2":      {Data: []byte("wOF2")},
		"static/third-party-licenses.json": {Data: []byte(`{"packages": [
			{"name": "react", "versionInfo": "18.2.0", "licenseId": "MIT", "extractedText": "MIT License"},
			{"name": "yjs", "versionInfo": "13.5.49", "licenseId": "MIT", "extractedText": ""}]}`)},
		"schemas/@jupyterlab/apputils-extension/themes.json":        {Data: []byte(themesSchema)},
		"schemas/@jupyterlab/apputils-extension/announcements.json": {Data: []byte(`{"type": "object", "properties": {"fetchNews": {"type": "string", "enum": ["true", "false", "none"], "default": "none"}}}`)},
		"schemas/@jupyterlab/apputils-extension/package.json.orig":  {Data: []byte(`{"name": "@jupyterlab/apputils-extension", "version": "4.6.4"}`)},
		"schemas/plain-extension/plugin.with-dots.v2.json":          {Data: []byte(`{"type": "object", "properties": {"level": {"type": "integer", "minimum": 0, "default": 1}}}`)},
		"themes/@jupyterlab/theme-light-extension/index.css":        {Data: []byte(themeCSS)},
		"themes/@jupyterlab/theme-light-extension/index.css.gz":     {Data: gzipped(t, themeCSS)},
		"themes/@jupyterlab/theme-light-extension/index.js":         {Data: []byte("")},
	}
}

// testLab is a Lab behind a loopback HTTP server.
type testLab struct {
	lab    *Lab
	server *httptest.Server
	client *http.Client
	opts   Options
}

// newTestLab starts a Lab with opts; empty folders default to temporary
// ones and a nil Build stays nil only when noBuild is set.
func newTestLab(t *testing.T, opts Options) *testLab {
	t.Helper()
	if opts.UserSettingsDir == "" {
		opts.UserSettingsDir = t.TempDir()
	}
	if opts.WorkspacesDir == "" {
		opts.WorkspacesDir = t.TempDir()
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	l, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux := http.NewServeMux()
	l.Register(mux)
	mux.Handle("GET /{$}", l.Redirect())
	mux.Handle("GET /tree", l.Redirect())
	mux.Handle("GET /tree/{path...}", l.Redirect())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client := &http.Client{
		Transport: &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	t.Cleanup(client.CloseIdleConnections)
	return &testLab{lab: l, server: srv, client: client, opts: opts}
}

// response is what a test request returned.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request to the test server. path is relative to the server
// root, as the routes are registered without the base URL.
func (tl *testLab) do(t *testing.T, method, path string, body string, header ...string) response {
	t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, tl.server.URL+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := tl.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// decodeJSON parses a JSON response body.
func decodeJSON(t *testing.T, r response, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("invalid JSON body %q: %v", r.body, err)
	}
}

// errorMessage returns the message of a JSON error body and checks its
// shape.
func errorMessage(t *testing.T, r response) string {
	t.Helper()
	var body map[string]any
	decodeJSON(t, r, &body)
	if _, ok := body["reason"]; !ok {
		t.Errorf("error body %s has no reason field", r.body)
	}
	msg, _ := body["message"].(string)
	return msg
}

var configScript = regexp.MustCompile(`(?s)<script id="jupyter-config-data" type="application/json">(.*?)</script>`)

// pageConfigOf extracts the page config from a lab page.
func pageConfigOf(t *testing.T, page []byte) map[string]any {
	t.Helper()
	m := configScript.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no jupyter-config-data script in page:\n%s", page)
	}
	var config map[string]any
	if err := json.Unmarshal(m[1], &config); err != nil {
		t.Fatalf("invalid page config %q: %v", m[1], err)
	}
	return config
}

func TestNormalizeBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"": "/", "/": "/", "user/alice": "/user/alice/", "/user/alice": "/user/alice/",
		"/user/alice/": "/user/alice/", "//x//": "/x/",
	} {
		if got := normalizeBaseURL(in); got != want {
			t.Errorf("normalizeBaseURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDefaultDirs(t *testing.T) {
	t.Setenv("JUPYTER_CONFIG_DIR", "/etc/jcfg")
	t.Setenv("JUPYTERLAB_SETTINGS_DIR", "")
	t.Setenv("JUPYTERLAB_WORKSPACES_DIR", "/srv/ws")
	l, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{l.userSettingsDir, l.workspacesDir}
	want := []string{"/etc/jcfg/lab/user-settings", "/srv/ws"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("default folders (-want +got):\n%s", diff)
	}
}

func TestRedirects(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t), BaseURL: "/user/alice/"})
	tests := []struct {
		path, want string
	}{
		{"/", "/user/alice/lab"},
		{"/?token=abc", "/user/alice/lab?token=abc"},
		{"/tree", "/user/alice/lab"},
		{"/tree/", "/user/alice/lab"},
		{"/tree/dir/A%20B.ipynb", "/user/alice/lab/tree/dir/A%20B.ipynb"},
		{"/lab/", "/user/alice/lab"},
		{"/doc/?reset", "/user/alice/doc?reset"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := tl.do(t, "GET", tt.path, "")
			if r.status != http.StatusFound {
				t.Fatalf("status = %d, want 302", r.status)
			}
			if got := r.header.Get("Location"); got != tt.want {
				t.Errorf("Location = %q, want %q", got, tt.want)
			}
		})
	}
}
