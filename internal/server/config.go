package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/lazy"
)

// configDirName is the folder, in each Jupyter config folder, that holds
// the sections of /api/config, as in jupyter_server.
const configDirName = "serverconfig"

var configSectionNameValue lazy.Value[*regexp.Regexp]

func configSectionName() *regexp.Regexp {
	return configSectionNameValue.Get(func() *regexp.Regexp {
		return regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	})
}

// configStore keeps the frontend config sections of /api/config as
// jupyter_server's ConfigManager keeps them. A section is the JSON object
// in {section}.json, laid over the objects in {section}.d/*.json, which
// packages install as defaults. Reads merge this view of every config
// folder, the lower-priority folders first. Writes go to the first folder
// and leave out the values that its defaults already give.
type configStore struct {
	writeDir string   // serverconfig folder that writes go to
	readDirs []string // serverconfig folders, highest priority first

	mu sync.Mutex // serializes read-modify-write of a section
}

func newConfigStore(writeDir string, path []string) *configStore {
	c := &configStore{writeDir: filepath.Join(writeDir, configDirName)}
	for _, dir := range path {
		c.readDirs = append(c.readDirs, filepath.Join(dir, configDirName))
	}
	return c
}

// jupyterConfigPath returns the Jupyter config folders, highest priority
// first, as jupyter_core lists them: those of JUPYTER_CONFIG_PATH, then
// the user's configDir, then the system's.
//
// NOTE: jupyter_core also lists the config folders of the Python install
// (sys.prefix/etc/jupyter and the user site's); they are not read here.
func jupyterConfigPath(configDir string) []string {
	var path []string
	if p := os.Getenv("JUPYTER_CONFIG_PATH"); p != "" {
		for _, dir := range filepath.SplitList(p) {
			if dir != "" {
				path = append(path, strings.TrimRight(dir, string(filepath.Separator)))
			}
		}
	}
	return append(path, configDir, "/usr/local/etc/jupyter", "/etc/jupyter")
}

// get returns the section merged from every config folder.
func (c *configStore) get(section string) (map[string]any, error) {
	merged := map[string]any{}
	for i := len(c.readDirs) - 1; i >= 0; i-- {
		data, err := readSection(c.readDirs[i], section, true)
		if err != nil {
			return nil, err
		}
		mergeConfig(merged, data)
	}
	return merged, nil
}

// set replaces the section in the write folder.
func (c *configStore) set(section string, data map[string]any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.setLocked(section, data)
}

// update merges patch into the section of the write folder and returns
// the result, defaults included.
func (c *configStore) update(section string, patch map[string]any) (map[string]any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	data, err := readSection(c.writeDir, section, true)
	if err != nil {
		return nil, err
	}
	mergeConfig(data, patch)
	return data, c.setLocked(section, data)
}

func (c *configStore) setLocked(section string, data map[string]any) error {
	defaults, err := readSection(c.writeDir, section, false)
	if err != nil {
		return err
	}
	stored := deepCopyConfig(data)
	removeDefaults(stored, defaults)
	text, err := json.MarshalIndent(stored, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding config section %s: %w", section, err)
	}
	path := filepath.Join(c.writeDir, section+".json")
	if err := writeFileAtomic(path, text); err != nil {
		return fmt.Errorf("saving config section %s: %w", section, err)
	}
	return nil
}

// readSection returns a section as one config folder gives it: the
// defaults of {section}.d/*.json in name order, then {section}.json when
// withRoot is set. Missing files give an empty object.
func readSection(dir, section string, withRoot bool) (map[string]any, error) {
	paths, err := filepath.Glob(filepath.Join(dir, section+".d", "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	if withRoot {
		paths = append(paths, filepath.Join(dir, section+".json"))
	}
	data := map[string]any{}
	for _, path := range paths {
		text, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading config file: %w", err)
		}
		var file map[string]any
		if err := json.Unmarshal(text, &file); err != nil {
			return nil, fmt.Errorf("config file %s is not a JSON object: %w", path, err)
		}
		mergeConfig(data, file)
	}
	return data, nil
}

// mergeConfig merges src into dst as jupyter_server's recursive update
// does: objects merge key by key, a null removes its key, an object left
// empty is removed, and any other value replaces the old one.
func mergeConfig(dst, src map[string]any) {
	for k, v := range src {
		switch v := v.(type) {
		case nil:
			delete(dst, k)
		case map[string]any:
			sub, ok := dst[k].(map[string]any)
			if !ok {
				sub = map[string]any{}
			}
			mergeConfig(sub, v)
			if len(sub) == 0 {
				delete(dst, k)
			} else {
				dst[k] = sub
			}
		default:
			dst[k] = v
		}
	}
}

// removeDefaults removes from data the values that defaults gives too, and
// the objects that are left empty.
func removeDefaults(data, defaults map[string]any) {
	for k, v := range data {
		def, ok := defaults[k]
		if !ok {
			continue
		}
		sub, isMap := v.(map[string]any)
		defSub, defIsMap := def.(map[string]any)
		switch {
		case isMap && defIsMap:
			removeDefaults(sub, defSub)
			if len(sub) == 0 {
				delete(data, k)
			}
		case jsonEqual(v, def):
			delete(data, k)
		}
	}
}

// jsonEqual reports whether a and b encode to the same JSON. Numbers from a
// request body are json.Number and those from a file float64, so comparing
// the values themselves would miss equal numbers.
func jsonEqual(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

func deepCopyConfig(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = deepCopyConfig(sub)
		}
		out[k] = v
	}
	return out
}

// maxSectionBytes bounds a config section name, so that its files, up to
// {section}.json, fit the 255-byte file names of Linux file systems.
const maxSectionBytes = 255 - len(".json")

// configSection returns the section named in the request's path.
func configSection(r *http.Request) (string, error) {
	section := r.PathValue("section")
	if !configSectionName().MatchString(section) || strings.HasPrefix(section, ".") {
		return "", httpapi.Errorf(http.StatusBadRequest,
			"invalid config section name %q: use letters, digits, '_', '-' and '.'", section)
	}
	if len(section) > maxSectionBytes {
		return "", httpapi.Errorf(http.StatusBadRequest,
			"invalid config section name: %d bytes long, at most %d allowed", len(section), maxSectionBytes)
	}
	return section, nil
}

// configWrite returns the section named in a write request's path and the
// request's body, which must be a JSON object.
func configWrite(w http.ResponseWriter, r *http.Request) (string, map[string]any, error) {
	section, err := configSection(r)
	if err != nil {
		return "", nil, err
	}
	var body any
	if err := httpapi.DecodeJSON(w, r, &body, 1<<20, false); err != nil {
		return "", nil, err
	}
	obj, ok := body.(map[string]any)
	if !ok {
		return "", nil, httpapi.Errorf(http.StatusBadRequest,
			"a config section must be a JSON object, not %s", jsonKind(body))
	}
	return section, obj, nil
}

// jsonKind names the JSON type of a decoded value, for errors.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

// handleGetConfig serves GET /api/config/{section}.
func (s *Server) handleGetConfig(w http.ResponseWriter, r *http.Request) error {
	section, err := configSection(r)
	if err != nil {
		return err
	}
	data, err := s.config.get(section)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, data)
}

// handlePutConfig serves PUT /api/config/{section}: it replaces the
// section and responds with 204, as jupyter_server does.
func (s *Server) handlePutConfig(w http.ResponseWriter, r *http.Request) error {
	section, body, err := configWrite(w, r)
	if err != nil {
		return err
	}
	if err := s.config.set(section, body); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handlePatchConfig serves PATCH /api/config/{section}: it merges the body
// into the section, where a null removes its key, and returns the section.
func (s *Server) handlePatchConfig(w http.ResponseWriter, r *http.Request) error {
	section, body, err := configWrite(w, r)
	if err != nil {
		return err
	}
	data, err := s.config.update(section, body)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, data)
}
