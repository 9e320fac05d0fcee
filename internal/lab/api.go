package lab

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jupygo/jupygo/internal/httpapi"
	"golang.org/x/text/language"
)

// handle adapts an API handler to http.Handler with the shared JSON errors.
func (l *Lab) handle(f httpapi.HandlerFunc) http.Handler {
	return httpapi.Handle(l.log, f)
}

// getTranslations serves GET /lab/api/translations, the list of language
// packs, and GET /lab/api/translations/<locale>, one pack. Only English,
// which needs no pack, is available.
func (l *Lab) getTranslations(w http.ResponseWriter, r *http.Request) error {
	locale := r.PathValue("locale")
	if locale == "" {
		return httpapi.WriteJSON(w, http.StatusOK, map[string]any{
			"data": map[string]any{
				"en": map[string]string{"displayName": "English", "nativeName": "English"},
			},
			"message": "",
		})
	}
	message := ""
	switch {
	case locale == "default" || locale == "en" || strings.HasPrefix(locale, "en_") ||
		strings.HasPrefix(locale, "en-"):
	case validLocale(locale):
		message = fmt.Sprintf("Language pack '%s' not installed!", locale)
	default:
		message = fmt.Sprintf("Language pack '%s' not valid!", locale)
	}
	return httpapi.WriteJSON(w, http.StatusOK, map[string]any{"data": map[string]any{}, "message": message})
}

// validLocale reports whether s is a BCP 47 tag, with _ or - separators.
func validLocale(s string) bool {
	_, err := language.Parse(strings.ReplaceAll(s, "_", "-"))
	return err == nil
}

// listingsPath is the one path below /lab/api/listings/ that
// jupyterlab_server serves.
const listingsPath = "@jupyterlab/extensionmanager-extension/listings.json"

// getListings serves GET /lab/api/listings/<listingsPath>: the allow and
// block lists of the extension manager, empty as jupyterlab_server sends
// them when none are configured. Other paths get a 400, as there.
func (l *Lab) getListings(w http.ResponseWriter, r *http.Request) error {
	if p := r.PathValue("path"); p != listingsPath {
		return httpapi.Errorf(http.StatusBadRequest,
			"no listings at %q: the extension manager's listings are at %s", p, listingsPath)
	}
	return httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"blocked_extensions_uris": []string{},
		"allowed_extensions_uris": []string{},
		"blocked_extensions":      []string{},
		"allowed_extensions":      []string{},
	})
}

// getExtensions serves GET /lab/api/extensions for the read-only extension
// manager: no extension can be installed, so the search finds none.
func (l *Lab) getExtensions(w http.ResponseWriter, r *http.Request) error {
	return httpapi.WriteJSON(w, http.StatusOK, []any{})
}

// getPlugins serves GET /lab/api/plugins for the plugin manager. Every
// plugin is locked because enabling or disabling one is not stored yet.
func (l *Lab) getPlugins(w http.ResponseWriter, r *http.Request) error {
	return httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"allLocked": true,
		"lockRules": []string{},
	})
}

// licensePackage is one entry of third-party-licenses.json.
type licensePackage struct {
	Name          string `json:"name"`
	VersionInfo   string `json:"versionInfo"`
	LicenseID     string `json:"licenseId"`
	ExtractedText string `json:"extractedText"`
}

// licenseBundle is the license report of one bundle: the application or a
// prebuilt extension.
type licenseBundle struct {
	Packages []licensePackage `json:"packages"`
}

// licenseBundles returns the bundles whose name matches pattern at its start,
// as Python's re.match does. The application's bundle is read from
// static/third-party-licenses.json and named after static/package.json.
func (l *Lab) licenseBundles(pattern *regexp.Regexp) (map[string]licenseBundle, error) {
	bundles := map[string]licenseBundle{}
	if l.build == nil || !pattern.MatchString(l.app.Name) {
		return bundles, nil
	}
	data, err := fs.ReadFile(l.build, "static/third-party-licenses.json")
	if errors.Is(err, fs.ErrNotExist) {
		return bundles, nil
	}
	if err != nil {
		return nil, err
	}
	var bundle licenseBundle
	if err := json.Unmarshal(data, &bundle); err != nil {
		return nil, fmt.Errorf("parsing third-party-licenses.json: %w", err)
	}
	if bundle.Packages == nil {
		bundle.Packages = []licensePackage{}
	}
	bundles[l.app.Name] = bundle
	return bundles, nil
}

// getLicenses serves GET /lab/api/licenses/ with the query parameters of
// jupyterlab_server: format (json, csv or markdown), bundles (a regular
// expression matched at the start of bundle names), full_text (markdown
// only) and download (adds Content-Disposition).
func (l *Lab) getLicenses(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	pattern, err := regexp.Compile("^(?:" + queryDefault(q.Get("bundles"), ".*") + ")")
	if err != nil {
		return httpapi.Wrap(http.StatusBadRequest, err, "invalid bundles pattern: "+err.Error())
	}
	fullText, err := queryBool(q.Get("full_text"), true)
	if err != nil {
		return httpapi.Wrap(http.StatusBadRequest, err, "invalid full_text: "+err.Error())
	}
	download, err := queryBool(q.Get("download"), false)
	if err != nil {
		return httpapi.Wrap(http.StatusBadRequest, err, "invalid download: "+err.Error())
	}

	bundles, err := l.licenseBundles(pattern)
	if err != nil {
		return httpapi.Wrap(http.StatusInternalServerError, err, "cannot read the license report")
	}

	var body []byte
	var mediaType, ext string
	switch format := queryDefault(q.Get("format"), "json"); format {
	case "json":
		body, err = json.MarshalIndent(map[string]any{"bundles": bundles}, "", "  ")
		mediaType, ext = "application/json", ".json"
	case "csv":
		body, err = licensesCSV(bundles)
		mediaType, ext = "text/csv", ".csv"
	case "markdown":
		body = licensesMarkdown(bundles, fullText)
		mediaType, ext = "text/markdown", ".md"
	default:
		return httpapi.Errorf(http.StatusBadRequest,
			"unsupported license report format %q: use json, csv or markdown", format)
	}
	if err != nil {
		return fmt.Errorf("writing the license report: %w", err)
	}

	h := w.Header()
	h.Set("Content-Type", mediaType)
	h.Set("Cache-Control", "no-store")
	if download {
		h.Set("Content-Disposition", `attachment; filename="`+strings.ToLower(appName)+"-licenses"+ext+`"`)
	}
	_, err = w.Write(body)
	return err
}

// sortedBundleNames returns the names of bundles in order.
func sortedBundleNames(bundles map[string]licenseBundle) []string {
	names := make([]string, 0, len(bundles))
	for name := range bundles {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func licensesCSV(bundles map[string]licenseBundle) ([]byte, error) {
	var buf bytes.Buffer
	out := csv.NewWriter(&buf)
	_ = out.Write([]string{"bundle", "name", "versionInfo", "licenseId", "extractedText"})
	for _, name := range sortedBundleNames(bundles) {
		for _, p := range bundles[name].Packages {
			_ = out.Write([]string{name, p.Name, p.VersionInfo, p.LicenseID, p.ExtractedText})
		}
	}
	out.Flush()
	return buf.Bytes(), out.Error()
}

func licensesMarkdown(bundles map[string]licenseBundle, fullText bool) []byte {
	var b strings.Builder
	for _, name := range sortedBundleNames(bundles) {
		fmt.Fprintf(&b, "# %s\n\n", name)
		packages := bundles[name].Packages
		if len(packages) == 0 {
			b.WriteString("> No licenses found\n\n")
			continue
		}
		for _, p := range packages {
			fmt.Fprintf(&b, "## **%s**\t`%s`\t%s\n", p.Name, p.VersionInfo, p.LicenseID)
			if !fullText {
				continue
			}
			if p.ExtractedText == "" {
				b.WriteString("\n> No license text available\n\n")
			} else {
				fmt.Fprintf(&b, "\n\n<pre/>\n%s\n</pre>\n\n", p.ExtractedText)
			}
		}
	}
	return []byte(b.String())
}

func queryDefault(value, def string) string {
	if value == "" {
		return def
	}
	return value
}

// queryBool parses a query flag the way jupyterlab_server does, as JSON:
// true, false, or a number that is true unless zero.
func queryBool(value string, def bool) (bool, error) {
	switch value {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	n, err := strconv.ParseFloat(value, 64)
	if err != nil {
		return false, fmt.Errorf("%q is not true, false or a number", value)
	}
	return n != 0, nil
}
