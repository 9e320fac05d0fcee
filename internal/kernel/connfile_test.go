package kernel

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
)

func TestConnectionFile(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	info, err := newConnectionInfo("python3")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kernel-1.json")
	if err := writeConnectionFile(path, info); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := st.Mode().Perm(); mode != 0o600 {
		t.Errorf("mode = %o, want 600", mode)
	}
	data, _ := os.ReadFile(path)
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]any{
		"ip": "127.0.0.1", "transport": "tcp", "signature_scheme": "hmac-sha256", "kernel_name": "python3",
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
	if key, _ := got["key"].(string); !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(key) {
		t.Errorf("key = %q, want 64 hex digits (32 random bytes)", key)
	}
	ports := map[float64]bool{}
	for _, name := range []string{"shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"} {
		p, _ := got[name].(float64)
		if p <= 0 || ports[p] {
			t.Errorf("%s = %v, want a distinct port", name, got[name])
		}
		ports[p] = true
	}
	other, _ := newConnectionInfo("python3")
	if other.Key == info.Key {
		t.Error("two connection infos share a key")
	}
}

func TestRuntimeDir(t *testing.T) {
	t.Setenv("JUPYTER_RUNTIME_DIR", "/run/j")
	if got, _ := RuntimeDir(); got != "/run/j" {
		t.Errorf("RuntimeDir = %q, want /run/j", got)
	}
	t.Setenv("JUPYTER_RUNTIME_DIR", "")
	t.Setenv("JUPYTER_DATA_DIR", "/data")
	if got, _ := RuntimeDir(); got != "/data/runtime" {
		t.Errorf("RuntimeDir = %q, want /data/runtime", got)
	}
}
