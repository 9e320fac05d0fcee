package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// sandbox is a fresh set of folders for one server or kernel start: the
// root folder it serves and its own Jupyter runtime, config, data and
// IPython folders, so no run reads state left by another.
type sandbox struct {
	Dir     string
	Root    string
	Runtime string
}

// newSandbox creates the folders of a sandbox under parent.
func newSandbox(parent, name string) (*sandbox, error) {
	dir, err := os.MkdirTemp(parent, name+"-")
	if err != nil {
		return nil, fmt.Errorf("creating sandbox: %w", err)
	}
	s := &sandbox{Dir: dir, Root: filepath.Join(dir, "root"), Runtime: filepath.Join(dir, "runtime")}
	for _, sub := range []string{"root", "runtime", "config", "data", "ipython", "home"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("creating sandbox: %w", err)
		}
	}
	return s, nil
}

// env returns the environment for a process in the sandbox: the caller's
// environment without Jupyter, IPython and JupyterHub variables, plus
// variables that point every Jupyter folder and HOME into the sandbox.
func (s *sandbox) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "JUPYTER") || strings.HasPrefix(name, "JPY_") ||
			strings.HasPrefix(name, "IPYTHON") || name == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+filepath.Join(s.Dir, "home"),
		"JUPYTER_RUNTIME_DIR="+s.Runtime,
		"JUPYTER_CONFIG_DIR="+filepath.Join(s.Dir, "config"),
		"JUPYTER_DATA_DIR="+filepath.Join(s.Dir, "data"),
		"IPYTHONDIR="+filepath.Join(s.Dir, "ipython"),
	)
}
