package server

import (
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLabPageConfigLayersFolders(t *testing.T) {
	user, env, system := t.TempDir(), t.TempDir(), t.TempDir()
	writeConfigFile(t, system, "labconfig/page_config.json",
		`{"disabledExtensions": ["sys-ext", "reenabled:plugin"], "lockedExtensions": {"a": true}, "x": 1}`)
	writeConfigFile(t, user, "labconfig/page_config.json",
		`{"disabledExtensions": {"user-ext": true, "reenabled:plugin": false}, "x": 2}`)
	writeConfigFile(t, env, "labconfig/page_config.json", `{not json`)
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))

	got := labPageConfig([]string{env, user, system}, log)
	want := map[string]any{
		"disabledExtensions": []string{"sys-ext", "user-ext"},
		"lockedExtensions":   map[string]any{"a": true},
		"x":                  2.0,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("page config (-want +got):\n%s", d)
	}
	if !strings.Contains(logs.String(), "skipping JupyterLab page config") {
		t.Errorf("no warning for the unreadable file; logs:\n%s", logs.String())
	}
	if got := labPageConfig([]string{t.TempDir()}, log); len(got) != 0 {
		t.Errorf("page config without files = %v, want empty", got)
	}
}

// jupyter labextension disable writes labconfig/page_config.json in the
// user's config folder, and the next page load leaves the plugin out.
func TestLabPageDisablesExtensionsOfLabconfig(t *testing.T) {
	user := t.TempDir()
	ts := newTestServer(t, func(c *Config) {
		c.ConfigDir = user
		c.ConfigPath = []string{user}
		c.Frontend = fakeBuild
	})
	writeConfigFile(t, user, "labconfig/page_config.json", `{"disabledExtensions": {"my-ext:plugin": true}}`)
	resp, body := ts.do(t, "GET", "/lab", nil, true)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /lab = %d", resp.StatusCode)
	}
	var disabled []string
	for _, v := range pageConfigOf(t, body)["disabledExtensions"].([]any) {
		disabled = append(disabled, v.(string))
	}
	if !slices.Contains(disabled, "my-ext:plugin") {
		t.Errorf("disabledExtensions = %v, want it to include my-ext:plugin", disabled)
	}
}
