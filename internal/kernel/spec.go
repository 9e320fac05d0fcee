package kernel

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// Spec is a kernel spec: one kernel.json and the folder it was found in,
// which also holds the spec's resources (logos, kernel.js).
type Spec struct {
	Name          string
	ResourceDir   string // "" for a spec without resources
	Argv          []string
	DisplayName   string
	Language      string
	InterruptMode string // "signal" or "message"
	Env           map[string]string
	Metadata      map[string]any
}

// specFile is the JSON shape of kernel.json.
type specFile struct {
	Argv          []string          `json:"argv"`
	DisplayName   string            `json:"display_name"`
	Language      string            `json:"language"`
	InterruptMode string            `json:"interrupt_mode"`
	Env           map[string]string `json:"env"`
	Metadata      map[string]any    `json:"metadata"`
}

// Interrupt modes of kernel.json.
const (
	interruptSignal  = "signal"
	interruptMessage = "message"
)

// specJSON returns the spec as jupyter_client's KernelSpec.to_dict does,
// with every key present.
func (s *Spec) specJSON() map[string]any {
	env := s.Env
	if env == nil {
		env = map[string]string{}
	}
	meta := s.Metadata
	if meta == nil {
		meta = map[string]any{}
	}
	return map[string]any{
		"argv":           s.Argv,
		"env":            env,
		"display_name":   s.DisplayName,
		"language":       s.Language,
		"interrupt_mode": s.InterruptMode,
		"metadata":       meta,
	}
}

// readSpec reads dir/kernel.json as the spec called name.
func readSpec(name, dir string) (*Spec, error) {
	data, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		return nil, err
	}
	var f specFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", filepath.Join(dir, "kernel.json"), err)
	}
	if len(f.Argv) == 0 {
		return nil, fmt.Errorf("%s: argv is missing or empty", filepath.Join(dir, "kernel.json"))
	}
	switch f.InterruptMode {
	case "":
		f.InterruptMode = interruptSignal
	case interruptSignal, interruptMessage:
	default:
		return nil, fmt.Errorf("%s: interrupt_mode %q is invalid, want %q or %q",
			filepath.Join(dir, "kernel.json"), f.InterruptMode, interruptSignal, interruptMessage)
	}
	return &Spec{
		Name: name, ResourceDir: dir, Argv: f.Argv, DisplayName: f.DisplayName,
		Language: f.Language, InterruptMode: f.InterruptMode, Env: f.Env, Metadata: f.Metadata,
	}, nil
}

// DataDirs returns the Jupyter data folders in jupyter_core's order: each
// entry of JUPYTER_PATH, the user data dir, then /usr/local/share/jupyter and
// /usr/share/jupyter.
func DataDirs() []string {
	var dirs []string
	for _, p := range filepath.SplitList(os.Getenv("JUPYTER_PATH")) {
		if p != "" {
			dirs = append(dirs, filepath.Clean(p))
		}
	}
	if user, err := userDataDir(); err == nil {
		dirs = append(dirs, user)
	}
	return append(dirs, "/usr/local/share/jupyter", "/usr/share/jupyter")
}

// userDataDir returns JUPYTER_DATA_DIR, else $XDG_DATA_HOME/jupyter, else
// ~/.local/share/jupyter, as jupyter_core does on Linux.
func userDataDir() (string, error) {
	if dir := os.Getenv("JUPYTER_DATA_DIR"); dir != "" {
		return dir, nil
	}
	if xdg := os.Getenv("XDG_DATA_HOME"); xdg != "" {
		return filepath.Join(xdg, "jupyter"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the Jupyter data dir: %w", err)
	}
	return filepath.Join(home, ".local", "share", "jupyter"), nil
}

// defaultSpecDirs returns the kernels folder of every data dir.
func defaultSpecDirs() []string {
	var dirs []string
	for _, d := range DataDirs() {
		dirs = append(dirs, filepath.Join(d, "kernels"))
	}
	return dirs
}

// findSpecs reads the specs in dirs. Each entry of a dir that holds a
// kernel.json is a spec named by the entry's lower-cased name; the first dir
// that has a name wins. Unreadable specs are logged and skipped.
func findSpecs(dirs []string, log *slog.Logger) map[string]*Spec {
	specs := make(map[string]*Spec)
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := strings.ToLower(e.Name())
			if _, ok := specs[name]; ok {
				continue
			}
			path := filepath.Join(dir, e.Name())
			if st, err := os.Stat(filepath.Join(path, "kernel.json")); err != nil || st.IsDir() {
				continue
			}
			spec, err := readSpec(name, path)
			if err != nil {
				log.Warn("kernel spec skipped", "kernel_name", name, "err", err)
				continue
			}
			specs[name] = spec
		}
	}
	return specs
}

// defaultPython is the interpreter checked for ipykernel when no python3 spec
// is installed: the Debian package python3-ipykernel installs into it.
const defaultPython = "/usr/bin/python3"

// nativeSpec returns the python3 spec that ipykernel would install, for
// python when it can import ipykernel, or nil. Its resources are ipykernel's
// own logos.
func nativeSpec(ctx context.Context, python string) *Spec {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "-c",
		"import os, ipykernel; print(os.path.dirname(ipykernel.__file__))").Output()
	if err != nil {
		return nil
	}
	spec := &Spec{
		Name:          "python3",
		Argv:          []string{python, "-m", "ipykernel_launcher", "-f", "{connection_file}"},
		DisplayName:   "Python 3 (ipykernel)",
		Language:      "python",
		InterruptMode: interruptSignal,
		Metadata:      map[string]any{"debugger": true},
	}
	res := filepath.Join(strings.TrimSpace(string(out)), "resources")
	if st, err := os.Stat(res); err == nil && st.IsDir() {
		spec.ResourceDir = res
	}
	return spec
}

// resources returns the resource files of s as jupyter_server lists them:
// kernel.js and kernel.css by file name, logo-* files by name without
// extension, each mapped to its URL under baseURL.
func (s *Spec) resources(baseURL string) map[string]string {
	out := make(map[string]string)
	if s.ResourceDir == "" {
		return out
	}
	prefix := baseURL + "kernelspecs/" + s.Name + "/"
	for _, f := range []string{"kernel.js", "kernel.css"} {
		if st, err := os.Stat(filepath.Join(s.ResourceDir, f)); err == nil && !st.IsDir() {
			out[f] = prefix + f
		}
	}
	logos, _ := filepath.Glob(filepath.Join(s.ResourceDir, "logo-*"))
	sort.Strings(logos)
	for _, path := range logos {
		file := filepath.Base(path)
		out[strings.TrimSuffix(file, filepath.Ext(file))] = prefix + file
	}
	return out
}

// argv returns the command line of s with {connection_file} and
// {resource_dir} replaced; other {names} are kept, as jupyter_client keeps
// names it does not know.
func (s *Spec) argv(connFile string) []string {
	out := make([]string, len(s.Argv))
	for i, a := range s.Argv {
		a = strings.ReplaceAll(a, "{connection_file}", connFile)
		a = strings.ReplaceAll(a, "{resource_dir}", s.ResourceDir)
		out[i] = a
	}
	return out
}

// processEnv returns the environment of a kernel process: base, then the
// spec's env with $VAR and ${VAR} replaced from base, then extra.
func (s *Spec) processEnv(base []string, extra map[string]string) []string {
	lookup := make(map[string]string, len(base))
	for _, kv := range base {
		if k, v, ok := strings.Cut(kv, "="); ok {
			lookup[k] = v
		}
	}
	merged := make(map[string]string, len(lookup)+len(s.Env)+len(extra))
	for k, v := range lookup {
		merged[k] = v
	}
	for k, v := range s.Env {
		merged[k] = substituteEnv(v, lookup)
	}
	for k, v := range extra {
		merged[k] = v
	}
	env := make([]string, 0, len(merged))
	for k, v := range merged {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

var templatePattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\$(?:(\$)|([_a-zA-Z][_a-zA-Z0-9]*)|\{([_a-zA-Z][_a-zA-Z0-9]*)\})`)
})

// substituteEnv expands $NAME and ${NAME} in s from vars as Python's
// string.Template.safe_substitute does, which jupyter_client uses: $$ is a
// literal $, and unknown names are left as written.
func substituteEnv(s string, vars map[string]string) string {
	return templatePattern().ReplaceAllStringFunc(s, func(match string) string {
		sub := templatePattern().FindStringSubmatch(match)
		switch {
		case sub[1] != "":
			return "$"
		case sub[2] != "":
			if v, ok := vars[sub[2]]; ok {
				return v
			}
		case sub[3] != "":
			if v, ok := vars[sub[3]]; ok {
				return v
			}
		}
		return match
	})
}
