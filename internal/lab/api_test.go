package lab

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTranslations(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	tests := []struct {
		path string
		want map[string]any
	}{
		{"/lab/api/translations", map[string]any{
			"data":    map[string]any{"en": map[string]any{"displayName": "English", "nativeName": "English"}},
			"message": "",
		}},
		{"/lab/api/translations/default", map[string]any{"data": map[string]any{}, "message": ""}},
		{"/lab/api/translations/en", map[string]any{"data": map[string]any{}, "message": ""}},
		{"/lab/api/translations/fr_FR", map[string]any{
			"data": map[string]any{}, "message": "Language pack 'fr_FR' not installed!",
		}},
		{"/lab/api/translations/not%20a%20locale", map[string]any{
			"data": map[string]any{}, "message": "Language pack 'not a locale' not valid!",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := tl.do(t, "GET", tt.path, "")
			if r.status != http.StatusOK {
				t.Fatalf("status = %d, want 200", r.status)
			}
			var got map[string]any
			decodeJSON(t, r, &got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListingsExtensionsPlugins(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	tests := []struct {
		path string
		want any
	}{
		{"/lab/api/listings/@jupyterlab/extensionmanager-extension/listings.json", map[string]any{
			"blocked_extensions_uris": []any{}, "allowed_extensions_uris": []any{},
			"blocked_extensions": []any{}, "allowed_extensions": []any{},
		}},
		{"/lab/api/extensions?query=&page=1&per_page=30", []any{}},
		{"/lab/api/plugins", map[string]any{"allLocked": true, "lockRules": []any{}}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var got any
			decodeJSON(t, tl.do(t, "GET", tt.path, ""), &got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListingsOtherPath(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	r := tl.do(t, "GET", "/lab/api/listings/other.json", "")
	if r.status != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", r.status)
	}
	if msg := errorMessage(t, r); !strings.Contains(msg, "listings.json") {
		t.Errorf("message = %q, want it to name the listings path", msg)
	}
}

func TestLicenses(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})

	var report struct {
		Bundles map[string]licenseBundle `json:"bundles"`
	}
	r := tl.do(t, "GET", "/lab/api/licenses/", "")
	decodeJSON(t, r, &report)
	names := []string{}
	for _, p := range report.Bundles["@jupygo/lab"].Packages {
		names = append(names, p.Name)
	}
	if diff := cmp.Diff([]string{"react", "yjs"}, names); diff != "" {
		t.Errorf("packages of the application bundle (-want +got):\n%s", diff)
	}

	var other struct {
		Bundles map[string]licenseBundle `json:"bundles"`
	}
	decodeJSON(t, tl.do(t, "GET", "/lab/api/licenses/?bundles=@other", ""), &other)
	if len(other.Bundles) != 0 {
		t.Errorf("bundles=@other matched %v, want none", other.Bundles)
	}

	csv := tl.do(t, "GET", "/lab/api/licenses/?format=csv&download=1", "")
	if got := csv.header.Get("Content-Type"); got != "text/csv" {
		t.Errorf("csv Content-Type = %q", got)
	}
	if got := csv.header.Get("Content-Disposition"); got != `attachment; filename="jupyterlab-licenses.csv"` {
		t.Errorf("Content-Disposition = %q", got)
	}
	if !strings.HasPrefix(string(csv.body), "bundle,name,versionInfo,licenseId,extractedText\n@jupygo/lab,react,18.2.0,MIT,MIT License\n") {
		t.Errorf("csv report:\n%s", csv.body)
	}

	md := string(tl.do(t, "GET", "/lab/api/licenses/?format=markdown", "").body)
	for _, want := range []string{"# @jupygo/lab", "## **react**\t`18.2.0`\tMIT", "MIT License", "> No license text available"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown report lacks %q:\n%s", want, md)
		}
	}
	short := string(tl.do(t, "GET", "/lab/api/licenses/?format=markdown&full_text=false", "").body)
	if strings.Contains(short, "MIT License") {
		t.Errorf("full_text=false report has license texts:\n%s", short)
	}

	for _, query := range []string{"format=xml", "bundles=(", "full_text=maybe"} {
		if r := tl.do(t, "GET", "/lab/api/licenses/?"+query, ""); r.status != http.StatusBadRequest {
			t.Errorf("%s: status = %d, want 400", query, r.status)
		}
	}
}

func TestLicensesWithoutReport(t *testing.T) {
	build := fakeBuild(t)
	delete(build, "static/third-party-licenses.json")
	tl := newTestLab(t, Options{Build: build})
	var got map[string]any
	decodeJSON(t, tl.do(t, "GET", "/lab/api/licenses", ""), &got)
	if diff := cmp.Diff(map[string]any{"bundles": map[string]any{}}, got); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}
