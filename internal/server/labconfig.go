package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
)

// maxLabConfigBytes bounds one labconfig/page_config.json file.
const maxLabConfigBytes = 1 << 20

// labPageConfig returns the page config of the labconfig/page_config.json
// files in the Jupyter config folders, as jupyterlab_server reads them:
// lower-priority folders first, each file's keys laid over the ones before
// it, objects merged key by key. disabledExtensions and deferredExtensions
// may be lists or objects of booleans in a file; `jupyter labextension
// disable` writes {"NAME": true}, and a later file may set false to enable
// a plugin again. They come back as lists of the names set to true. The
// files are read on every page load, so a change shows at the next reload.
// A file that cannot be read or parsed is skipped with a warning.
func labPageConfig(configPath []string, log *slog.Logger) map[string]any {
	config := map[string]any{}
	for _, dir := range slices.Backward(configPath) {
		path := filepath.Join(dir, "labconfig", "page_config.json")
		data, err := readSmallFile(path, maxLabConfigBytes)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		var file map[string]any
		if err == nil {
			err = json.Unmarshal(data, &file)
		}
		if err != nil {
			log.Warn("skipping JupyterLab page config", "path", path, "err", err)
			continue
		}
		for _, key := range []string{"disabledExtensions", "deferredExtensions"} {
			if list, ok := file[key].([]any); ok {
				set := map[string]any{}
				for _, name := range list {
					if s, ok := name.(string); ok {
						set[s] = true
					}
				}
				file[key] = set
			}
		}
		mergeConfig(config, file)
	}
	for _, key := range []string{"disabledExtensions", "deferredExtensions"} {
		set, ok := config[key].(map[string]any)
		if !ok {
			delete(config, key)
			continue
		}
		names := []string{}
		for name, on := range set {
			if on == true {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		config[key] = names
	}
	return config
}

// readSmallFile reads a file of at most limit bytes.
func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && (fi.Size() > limit || int64(len(data)) > limit) {
		err = fmt.Errorf("larger than %d bytes", limit)
	}
	return data, err
}
