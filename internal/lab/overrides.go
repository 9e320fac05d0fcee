package lab

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"

	"github.com/titanous/json5"
)

// overrideFiles returns the overrides files of one application settings
// folder in the order they apply: overrides.d/*.json and *.json5 sorted by
// name, then overrides.json and overrides.json5.
func overrideFiles(dir string) []string {
	var files []string
	for _, pattern := range []string{"*.json", "*.json5"} {
		matches, _ := filepath.Glob(filepath.Join(dir, "overrides.d", pattern))
		files = append(files, matches...)
	}
	sort.Strings(files)
	return append(files, filepath.Join(dir, "overrides.json"), filepath.Join(dir, "overrides.json5"))
}

// loadOverrides reads the overrides of every folder in dirs and merges them
// into one map from plugin id to the defaults it replaces. A file that
// cannot be read or parsed is logged and skipped.
func loadOverrides(log *slog.Logger, dirs []string) map[string]any {
	overrides := map[string]any{}
	for _, dir := range dirs {
		for _, file := range overrideFiles(dir) {
			byPlugin, err := readOverrides(file)
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				log.Warn("skipping settings overrides", "file", file, "err", err)
				continue
			}
			mergeJSON(overrides, byPlugin)
		}
	}
	return overrides
}

// readOverrides parses one overrides file, JSON or JSON5: an object whose
// keys are plugin ids and whose values are objects of setting defaults.
func readOverrides(file string) (map[string]any, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if err := checkNesting(data, maxSettingsDepth); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", file, err)
	}
	var parsed any
	if err := json5.Unmarshal(data, &parsed); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", file, err)
	}
	byPlugin, ok := parsed.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("parsing %s: the top level must be an object of plugin ids", file)
	}
	for id, defaults := range byPlugin {
		if _, ok := defaults.(map[string]any); !ok {
			return nil, fmt.Errorf("parsing %s: the value of %q must be an object", file, id)
		}
		if err := checkFinite(defaults); err != nil {
			return nil, fmt.Errorf("parsing %s: %s: %w", file, id, err)
		}
	}
	return byPlugin, nil
}

// mergeJSON merges src into dst as jupyter_server's recursive_update does:
// objects merge key by key, null deletes the key, and any other value
// replaces the one in dst.
func mergeJSON(dst, src map[string]any) {
	for key, value := range src {
		switch v := value.(type) {
		case map[string]any:
			inner, ok := dst[key].(map[string]any)
			if !ok {
				inner = map[string]any{}
				dst[key] = inner
			}
			mergeJSON(inner, v)
		case nil:
			delete(dst, key)
		default:
			dst[key] = v
		}
	}
}

// applyOverrides replaces default values in a settings schema with those of
// defaults, as jupyterlab_server does. An object default is merged with the
// override and any other default is replaced. A key that the schema does not
// declare becomes a property with only a default.
func applyOverrides(schema map[string]any, defaults map[string]any) {
	properties, ok := schema["properties"].(map[string]any)
	if !ok {
		properties = map[string]any{}
		schema["properties"] = properties
	}
	for key, value := range defaults {
		property, ok := properties[key].(map[string]any)
		if !ok {
			properties[key] = map[string]any{"default": value}
			continue
		}
		current, isObject := property["default"].(map[string]any)
		override, overrideIsObject := value.(map[string]any)
		if isObject && overrideIsObject {
			mergeJSON(current, override)
			continue
		}
		property["default"] = value
	}
}
