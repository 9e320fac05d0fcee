package lab

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/titanous/json5"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// settingsExtension ends the name of every user settings file, as in
// JupyterLab.
const settingsExtension = ".jupyterlab-settings"

// maxSettingsBody limits the body of a settings PUT. The largest settings
// JupyterLab writes, custom keyboard shortcuts, stay far below it.
const maxSettingsBody = 8 << 20

// settingID is a parsed plugin id such as
// "@jupyterlab/apputils-extension:themes": the package name, which names a
// folder, and the plugin name, which names a file in it.
type settingID struct {
	pkg    string
	plugin string
}

func (id settingID) String() string { return id.pkg + ":" + id.plugin }

// parseSettingID splits a plugin id into package and plugin name. It rejects
// ids that are not one npm package name (optionally scoped), a colon and a
// plugin name, so that neither part can leave its folder.
func parseSettingID(s string) (settingID, error) {
	pkg, plugin, ok := strings.Cut(s, ":")
	if !ok || strings.Contains(plugin, ":") {
		return settingID{}, fmt.Errorf("plugin id %q is not of the form <package>:<plugin>", s)
	}
	if !validPackageName(pkg) {
		return settingID{}, fmt.Errorf("plugin id %q: invalid package name %q", s, pkg)
	}
	if !validFileName(plugin) {
		return settingID{}, fmt.Errorf("plugin id %q: invalid plugin name %q", s, plugin)
	}
	return settingID{pkg: pkg, plugin: plugin}, nil
}

// validPackageName reports whether name is "name" or "@scope/name" with
// parts that are safe folder names.
func validPackageName(name string) bool {
	scope, rest, scoped := strings.Cut(name, "/")
	if !scoped {
		return validFileName(name) && !strings.HasPrefix(name, "@")
	}
	return strings.HasPrefix(scope, "@") && len(scope) > 1 &&
		validFileName(scope) && validFileName(rest) && !strings.HasPrefix(rest, "@")
}

// validFileName reports whether s can name one file or folder: not empty,
// not . or .., without slashes, backslashes or control characters.
func validFileName(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if r == '/' || r == '\\' || r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// schemaEntry is a settings schema of the build with the overrides applied.
type schemaEntry struct {
	id        settingID
	schema    json.RawMessage
	version   string
	validator *jsonschema.Resolved
}

// schema returns the schema of id, loading it on first use. It returns
// an error wrapping fs.ErrNotExist when the build has no such schema.
func (l *Lab) schema(id settingID) (*schemaEntry, error) {
	key := id.String()
	l.schemasMu.Lock()
	entry, ok := l.schemaByID[key]
	l.schemasMu.Unlock()
	if ok {
		return entry, nil
	}

	entry, err := l.loadSchema(id)
	if err != nil {
		return nil, err
	}
	l.schemasMu.Lock()
	l.schemaByID[key] = entry
	l.schemasMu.Unlock()
	return entry, nil
}

func (l *Lab) loadSchema(id settingID) (*schemaEntry, error) {
	fsys, dir := l.schemaDir(id)
	if fsys == nil {
		return nil, fmt.Errorf("schema %s: %w", id, fs.ErrNotExist)
	}
	data, err := fs.ReadFile(fsys, dir+"/"+id.plugin+".json")
	if err != nil {
		return nil, fmt.Errorf("reading schema %s: %w", id, err)
	}

	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var schema map[string]any
	if err := dec.Decode(&schema); err != nil {
		return nil, fmt.Errorf("parsing schema %s: %w", id, err)
	}
	if defaults, ok := l.overrides[id.String()].(map[string]any); ok {
		applyOverrides(schema, defaults)
	}

	encoded, err := json.Marshal(schema)
	if err != nil {
		return nil, fmt.Errorf("encoding schema %s: %w", id, err)
	}
	validator, err := compileSchema(id, encoded)
	if err != nil {
		return nil, err
	}
	return &schemaEntry{
		id:        id,
		schema:    encoded,
		version:   packageVersion(fsys, dir),
		validator: validator,
	}, nil
}

// schemaDir returns the file system and folder that contain the schemas
// of id's package: schemas/PACKAGE of the build when it has id's schema,
// else, as in jupyterlab_server, schemas/PACKAGE of the prebuilt extension
// PACKAGE. It returns a nil file system when there is no such extension.
func (l *Lab) schemaDir(id settingID) (fs.FS, string) {
	dir := "schemas/" + id.pkg
	file := dir + "/" + id.plugin + ".json"
	if l.build != nil {
		if _, err := fs.Stat(l.build, file); err == nil {
			return l.build, dir
		}
	}
	for _, ext := range l.extensions {
		if ext.name == id.pkg {
			return ext.root.FS(), dir
		}
	}
	return nil, ""
}

// packageVersion returns the version in a schema folder's package.json.orig,
// or "N/A" as jupyterlab_server reports a missing one.
func packageVersion(fsys fs.FS, dir string) string {
	var pkg struct {
		Version string `json:"version"`
	}
	data, err := fs.ReadFile(fsys, dir+"/package.json.orig")
	if err != nil || json.Unmarshal(data, &pkg) != nil || pkg.Version == "" {
		return "N/A"
	}
	return pkg.Version
}

// draft7 is the $schema of JSON Schema draft 7.
const draft7 = "http://json-schema.org/draft-07/schema#"

// compileSchema compiles a settings schema as JSON Schema draft 7, whatever
// draft it names, as jupyterlab_server validates every schema with its
// draft 7 validator. References to other documents are rejected rather
// than loaded.
func compileSchema(id settingID, encoded []byte) (*jsonschema.Resolved, error) {
	var schema jsonschema.Schema
	if err := json.Unmarshal(encoded, &schema); err != nil {
		return nil, fmt.Errorf("reading schema %s: %w", id, err)
	}
	schema.Schema = draft7
	resolved, err := schema.Resolve(&jsonschema.ResolveOptions{
		BaseURI: "urn:jupyterlab-settings:" + id.String(),
		Loader:  rejectLoad,
	})
	if err != nil {
		return nil, fmt.Errorf("compiling schema %s: %w", id, err)
	}
	return resolved, nil
}

// rejectLoad rejects referenced schema documents.
func rejectLoad(uri *url.URL) (*jsonschema.Schema, error) {
	return nil, fmt.Errorf("schema %s is not available: settings schemas cannot refer to other documents", uri)
}

// settingsIDs returns the ids of every schema in the build and in the
// prebuilt extensions, sorted. A schema of the build hides one of the same
// id in an extension.
func (l *Lab) settingsIDs() []settingID {
	seen := map[string]bool{}
	var ids []settingID
	add := func(fsys fs.FS, pkg string) {
		_ = fs.WalkDir(fsys, "schemas", func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(name, ".json") {
				return nil
			}
			rel := strings.TrimPrefix(name, "schemas/")
			dir, file := path.Split(rel)
			dir = strings.TrimSuffix(dir, "/")
			if pkg != "" && dir != pkg {
				return nil
			}
			id, err := parseSettingID(dir + ":" + strings.TrimSuffix(file, ".json"))
			if err == nil && !seen[id.String()] {
				seen[id.String()] = true
				ids = append(ids, id)
			}
			return nil
		})
	}
	if l.build != nil {
		add(l.build, "")
	}
	for _, ext := range l.extensions {
		add(ext.root.FS(), ext.name)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].String() < ids[j].String() })
	return ids
}

// fullSetting is one plugin's entry in the settings API, as
// jupyterlab_server sends it. The times are null while the user has not
// saved settings for the plugin.
type fullSetting struct {
	ID           string          `json:"id"`
	Schema       json.RawMessage `json:"schema"`
	Version      string          `json:"version"`
	Raw          string          `json:"raw"`
	Settings     map[string]any  `json:"settings"`
	LastModified *string         `json:"last_modified"`
	Created      *string         `json:"created"`
}

// getSettings serves GET /lab/api/settings (the list, or only the ids with
// ids_only=true) and GET /lab/api/settings/<plugin id>.
func (l *Lab) getSettings(w http.ResponseWriter, r *http.Request) error {
	raw := r.PathValue("id")
	if raw == "" {
		return l.listSettings(w, r)
	}
	id, err := parseSettingID(raw)
	if err != nil {
		return httpapi.Wrap(http.StatusNotFound, err, fmt.Sprintf("settings not found: %s", raw))
	}
	entry, err := l.schema(id)
	if err != nil {
		return schemaError(id, err)
	}
	s, err := l.userSetting(entry)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, s)
}

func (l *Lab) listSettings(w http.ResponseWriter, r *http.Request) error {
	ids := l.settingsIDs()
	// jupyterlab_server lists settings by id in descending order.
	sort.Slice(ids, func(i, j int) bool { return ids[i].String() > ids[j].String() })

	if r.URL.Query().Get("ids_only") == "true" {
		list := make([]map[string]string, 0, len(ids))
		for _, id := range ids {
			list = append(list, map[string]string{"id": id.String()})
		}
		return httpapi.WriteJSON(w, http.StatusOK, map[string]any{"settings": list})
	}

	list := make([]fullSetting, 0, len(ids))
	for _, id := range ids {
		entry, err := l.schema(id)
		if err != nil {
			l.log.Warn("skipping settings schema", "plugin", id.String(), "err", err)
			continue
		}
		s, err := l.userSetting(entry)
		if err != nil {
			return err
		}
		list = append(list, s)
	}
	return httpapi.WriteJSON(w, http.StatusOK, map[string]any{"settings": list})
}

// schemaError maps an error from Lab.schema to an API error.
func schemaError(id settingID, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return httpapi.Wrap(http.StatusNotFound, err, fmt.Sprintf("schema not found: %s", id))
	}
	return httpapi.Wrap(http.StatusInternalServerError, err, fmt.Sprintf("invalid schema: %s", id))
}

// settingsPath returns the file that stores the user's settings for id.
func (l *Lab) settingsPath(id settingID) string {
	return filepath.Join(l.userSettingsDir, filepath.FromSlash(id.pkg), id.plugin+settingsExtension)
}

// userSetting returns the schema and the user's settings for one plugin.
// Stored settings that do not parse or do not match the schema are logged
// and reported as empty, as jupyterlab_server does for invalid ones. The
// file itself stays until the user saves new settings.
func (l *Lab) userSetting(entry *schemaEntry) (fullSetting, error) {
	s := fullSetting{
		ID:       entry.id.String(),
		Schema:   entry.schema,
		Version:  entry.version,
		Raw:      "{}",
		Settings: map[string]any{},
	}
	file := l.settingsPath(entry.id)
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, httpapi.Wrap(http.StatusInternalServerError, err,
			fmt.Sprintf("cannot read the settings of %s", entry.id))
	}
	if info, err := os.Stat(file); err == nil {
		// NOTE: created is the modification time too: file systems do not
		// reliably record a creation time.
		modified := isoTime(info.ModTime())
		s.LastModified, s.Created = &modified, &modified
	}
	if strings.TrimSpace(string(data)) == "" {
		return s, nil
	}

	parsed, err := parseSettings(data)
	if err == nil {
		err = validateSettings(entry, parsed)
	}
	if err != nil {
		l.log.Warn("ignoring stored settings", "plugin", entry.id.String(), "file", file, "err", err)
		return s, nil
	}
	s.Raw = string(data)
	s.Settings = parsed
	return s, nil
}

// putSettings serves PUT /lab/api/settings/<plugin id> with a body
// {"raw": "<JSON5 text>"}. The raw text, comments included, is stored as
// it came.
func (l *Lab) putSettings(w http.ResponseWriter, r *http.Request) error {
	raw := r.PathValue("id")
	id, err := parseSettingID(raw)
	if err != nil {
		return httpapi.Wrap(http.StatusNotFound, err, fmt.Sprintf("settings not found: %s", raw))
	}
	entry, err := l.schema(id)
	if err != nil {
		return schemaError(id, err)
	}

	var body struct {
		Raw *string `json:"raw"`
	}
	if err := httpapi.DecodeJSON(w, r, &body, maxSettingsBody, false); err != nil {
		return err
	}
	if body.Raw == nil {
		return httpapi.Errorf(http.StatusBadRequest,
			`invalid settings request: the body must be {"raw": "<JSON5 text>"}`)
	}
	parsed, err := parseSettings([]byte(*body.Raw))
	if err != nil {
		return httpapi.Wrap(http.StatusBadRequest, err, "invalid JSON5 in raw settings: "+err.Error())
	}
	if err := validateSettings(entry, parsed); err != nil {
		return httpapi.Wrap(http.StatusBadRequest, err,
			fmt.Sprintf("settings do not match the schema of %s: %v", id, err))
	}

	if err := writeFileAtomic(l.settingsPath(id), []byte(*body.Raw)); err != nil {
		return httpapi.Wrap(http.StatusInternalServerError, err,
			fmt.Sprintf("cannot save the settings of %s", id))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// maxSettingsDepth limits how deeply settings nest arrays and objects. The
// JSON5 parser recurses once per level, so unbounded nesting could exhaust
// the stack; the schemas of JupyterLab 4.6 nest a few levels.
const maxSettingsDepth = 1000

// parseSettings parses the JSON5 text of a settings file. The result must be
// an object, and every number in it finite, because the settings are sent
// on as JSON.
func parseSettings(data []byte) (map[string]any, error) {
	if err := checkNesting(data, maxSettingsDepth); err != nil {
		return nil, err
	}
	var v any
	if err := json5.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("settings must be an object, not %s", jsonKind(v))
	}
	if err := checkFinite(obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// checkNesting returns an error if data nests arrays and objects deeper
// than max. It skips JSON5 strings and comments; unbalanced brackets are
// left for the parser to reject.
func checkNesting(data []byte, max int) error {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"', '\'':
			i = skipQuoted(data, i)
		case '/':
			i = skipComment(data, i)
		case '[', '{':
			depth++
			if depth > max {
				return fmt.Errorf("arrays and objects nest deeper than %d levels", max)
			}
		case ']', '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return nil
}

// skipQuoted returns the index of the quote that closes the string opening
// at data[start], or the last index if the string does not end.
func skipQuoted(data []byte, start int) int {
	quote := data[start]
	for i := start + 1; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case quote:
			return i
		}
	}
	return len(data) - 1
}

// skipComment returns the last index of the comment starting at data[start],
// or start if no comment starts there.
func skipComment(data []byte, start int) int {
	if start+1 >= len(data) {
		return start
	}
	switch data[start+1] {
	case '/':
		if end := bytes.IndexByte(data[start:], '\n'); end >= 0 {
			return start + end
		}
		return len(data) - 1
	case '*':
		if end := bytes.Index(data[start+2:], []byte("*/")); end >= 0 {
			return start + 2 + end + 1
		}
		return len(data) - 1
	}
	return start
}

// checkFinite returns an error if v contains NaN or an infinity, which JSON5
// allows and JSON cannot encode.
func checkFinite(v any) error {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("number %v cannot be represented in JSON", x)
		}
	case map[string]any:
		for key, item := range x {
			if err := checkFinite(item); err != nil {
				return fmt.Errorf("%q: %w", key, err)
			}
		}
	case []any:
		for i, item := range x {
			if err := checkFinite(item); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	}
	return nil
}

// jsonKind names the JSON type of a decoded value, for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64, json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// validateSettings checks parsed settings against the plugin's schema.
func validateSettings(entry *schemaEntry, settings map[string]any) error {
	return entry.validator.Validate(settings)
}
