package server

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// writeServerInfo writes jpserver-<pid>.json to the runtime dir, the file
// `jupyter server list` and editors read to find running servers. It holds
// the token, so it is mode 0600. It returns the file's path.
func (s *Server) writeServerInfo() (string, error) {
	info := map[string]any{
		"base_url":     s.cfg.BaseURL,
		"hostname":     s.cfg.IP,
		"notebook_dir": s.cfg.RootDir,
		"root_dir":     s.cfg.RootDir,
		"password":     false,
		"pid":          os.Getpid(),
		"port":         s.cfg.Port,
		"secure":       false,
		"sock":         "",
		"token":        s.auth.token,
		"url":          fmt.Sprintf("http://%s:%d%s", s.cfg.IP, s.cfg.Port, s.cfg.BaseURL),
		"version":      s.cfg.Version,
	}
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(s.cfg.RuntimeDir, fmt.Sprintf("jpserver-%d.json", os.Getpid()))
	if err := writeFileAtomic(path, append(data, '\n')); err != nil {
		return "", err
	}
	return path, os.Chmod(path, 0o600)
}
