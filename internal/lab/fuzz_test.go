package lab

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParseSettings checks that the JSON5 settings parser never panics and
// that whatever it accepts can be sent on as JSON.
func FuzzParseSettings(f *testing.F) {
	for _, seed := range []string{
		json5Settings, "{}", "", "[]", `{"a": NaN}`, `{a: [1, 2, {b: -Infinity},],}`,
		"// only a comment", "/* open", `{"a": "\u00e9\ud800"}`, `{'a': 'b\
c'}`, "{a:0x1F, b:.5, c:+1}", "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		settings, err := parseSettings(data)
		if err != nil {
			return
		}
		if _, err := json.Marshal(settings); err != nil {
			t.Fatalf("accepted settings %q do not encode as JSON: %v", data, err)
		}
	})
}

// FuzzParseSettingID checks that a parsed plugin id never names a path that
// leaves the settings folder.
func FuzzParseSettingID(f *testing.F) {
	for _, seed := range []string{
		"@jupyterlab/apputils-extension:themes", "a:b", "../x:y", "@a/../b:c", "x:..", "a:b:c",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseSettingID(s)
		if err != nil {
			return
		}
		for _, part := range bytes.Split([]byte(id.pkg+"/"+id.plugin), []byte("/")) {
			if p := string(part); p == "" || p == "." || p == ".." {
				t.Fatalf("parseSettingID(%q) = %+v has path element %q", s, id, p)
			}
		}
	})
}

// FuzzParseWorkspace checks that the workspace body parser never panics and
// that an accepted body has a string metadata.id.
func FuzzParseWorkspace(f *testing.F) {
	for _, seed := range []string{
		workspaceBody("default"), "{}", `{"metadata": null}`, `{"metadata": {"id": 1}}`, "[", "null",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		workspace, err := parseWorkspace(bytes.NewReader(data))
		if err != nil {
			return
		}
		if _, ok := workspace["metadata"].(map[string]any)["id"].(string); !ok {
			t.Fatalf("accepted workspace %q without a string metadata.id", data)
		}
	})
}

// FuzzWorkspaceSlug checks that every workspace name gives a file name of
// at most 128 bytes made of safe characters.
func FuzzWorkspaceSlug(f *testing.F) {
	for _, seed := range []string{"default", "a/b", "%41%zz", "日本語", "../../etc/passwd"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		slug := workspaceSlug(name)
		if n := len(slug + workspaceExtension); n > 128 {
			t.Fatalf("workspaceSlug(%q) gives a %d-byte file name", name, n)
		}
		for _, r := range slug {
			ok := r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
			if !ok {
				t.Fatalf("workspaceSlug(%q) = %q contains %q", name, slug, r)
			}
		}
	})
}

// FuzzAcceptsGzip checks that Accept-Encoding parsing never panics.
func FuzzAcceptsGzip(f *testing.F) {
	for _, seed := range []string{"gzip", "gzip;q=0", "*;q=0.5, gzip;q=0", ";;;", "gzip;q=NaN"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		acceptsGzip(header)
	})
}
