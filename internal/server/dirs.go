package server

import (
	"crypto/rand"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jupygo/jupygo/internal/kernel"
)

// jupyterRuntimeDir returns the Jupyter runtime dir: JUPYTER_RUNTIME_DIR, or
// runtime/ under the Jupyter data dir.
func jupyterRuntimeDir() string {
	if d := os.Getenv("JUPYTER_RUNTIME_DIR"); d != "" {
		return d
	}
	return filepath.Join(jupyterDataDir(), "runtime")
}

// jupyterDataDir returns JUPYTER_DATA_DIR, or the XDG data dir's jupyter/.
func jupyterDataDir() string {
	if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "jupyter")
	}
	return filepath.Join(homeDir(), ".local", "share", "jupyter")
}

// jupyterConfigDir returns JUPYTER_CONFIG_DIR, or ~/.jupyter.
func jupyterConfigDir() string {
	if d := os.Getenv("JUPYTER_CONFIG_DIR"); d != "" {
		return d
	}
	return filepath.Join(homeDir(), ".jupyter")
}

// appSettingsDirs returns the folders searched for JupyterLab's
// overrides.json, most specific first.
func appSettingsDirs() []string {
	var dirs []string
	if p := os.Getenv("JUPYTER_PATH"); p != "" {
		for _, d := range filepath.SplitList(p) {
			dirs = append(dirs, filepath.Join(d, "lab", "settings"))
		}
	}
	dirs = append(dirs,
		filepath.Join(jupyterDataDir(), "lab", "settings"),
		"/usr/local/share/jupyter/lab/settings",
		"/usr/share/jupyter/lab/settings")
	return dirs
}

// labextensionsDirs returns the folders searched for prebuilt JupyterLab
// extensions: share/jupyter/labextensions, that is labextensions/ below
// each Jupyter data folder, most specific first.
func labextensionsDirs() []string {
	var dirs []string
	for _, d := range kernel.DataDirs() {
		dirs = append(dirs, filepath.Join(d, "labextensions"))
	}
	return dirs
}

func homeDir() string {
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	return os.TempDir()
}

// loadCookieSecret reads the cookie secret at path, creating a random one
// with mode 0600 when the file does not exist. A file that others can read is
// rejected, because the secret signs every login cookie.
func loadCookieSecret(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("cookie secret: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("cookie secret %s has mode %v: others can read it; run chmod 600 %s",
				path, fi.Mode().Perm(), path)
		}
		if len(strings.TrimSpace(string(data))) < 16 {
			return nil, fmt.Errorf("cookie secret %s is shorter than 16 bytes", path)
		}
		return data, nil
	}
	if !os.IsNotExist(err) {
		return nil, fmt.Errorf("cookie secret: %w", err)
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	text := []byte(fmt.Sprintf("%x\n", secret))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("cookie secret: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if os.IsExist(err) {
		// Another server created it meanwhile: use theirs.
		return loadCookieSecret(path)
	}
	if err != nil {
		return nil, fmt.Errorf("cookie secret: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(text); err != nil {
		return nil, fmt.Errorf("writing cookie secret: %w", err)
	}
	return text, f.Sync()
}

func isLoopbackIP(ip string) bool {
	if ip == "localhost" {
		return true
	}
	parsed := net.ParseIP(ip)
	return parsed != nil && parsed.IsLoopback()
}

// isLoopbackHost reports whether a Host header names this machine's loopback
// interface.
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	return isLoopbackIP(host)
}

func queryEscape(s string) string { return url.QueryEscape(s) }

func pathEscape(s string) string { return url.PathEscape(s) }

// writeFileAtomic writes data to path through a temporary file in the same
// folder, so readers see the old content or the new, never a part.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".~"+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
