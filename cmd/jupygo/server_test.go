package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jupygo/jupygo/internal/collab"
)

func TestCollabFlagsConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		on   bool
		want collab.Options
	}{
		{"defaults", nil, false, collab.Options{SaveDelay: time.Second,
			CleanupDelay: time.Minute, PollInterval: time.Second, MaxMessageBytes: 64 << 20,
			MaxRooms: 256}},
		{"tuned", []string{"--collaborative", "--collab-save-delay", "0.5",
			"--collab-cleanup-delay", "5", "--collab-poll-interval", "2",
			"--collab-max-message-mb", "1", "--collab-max-rooms", "3"}, true,
			collab.Options{SaveDelay: 500 * time.Millisecond, CleanupDelay: 5 * time.Second,
				PollInterval: 2 * time.Second, MaxMessageBytes: 1 << 20, MaxRooms: 3}},
		{"autosave off", []string{"--collab-save-delay", "0"}, false, collab.Options{
			SaveDelay: -1, CleanupDelay: time.Minute, PollInterval: time.Second,
			MaxMessageBytes: 64 << 20, MaxRooms: 256}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f serverFlags
			fs := flag.NewFlagSet("server", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			f.register(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			cfg := f.config(fs)
			if cfg.Collaborative != tt.on {
				t.Errorf("Collaborative %v, want %v", cfg.Collaborative, tt.on)
			}
			if diff := cmp.Diff(tt.want, cfg.Collab, cmp.AllowUnexported(collab.Options{})); diff != "" {
				t.Errorf("collab options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServerLogLevelFromHubDebug(t *testing.T) {
	tests := []struct {
		args  []string
		debug string
		want  string
	}{
		{nil, "", "info"},
		{nil, "1", "debug"},
		{nil, "0", "info"},
		{nil, "true", "debug"},
		{[]string{"--log-level", "warn"}, "1", "warn"},
		{[]string{"--log-level", "info"}, "1", "info"},
	}
	for _, tc := range tests {
		var f serverFlags
		fs := flag.NewFlagSet("server", flag.ContinueOnError)
		f.register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		getenv := func(key string) string {
			if key == "JUPYTERHUB_DEBUG" {
				return tc.debug
			}
			return ""
		}
		if got := serverLogLevel(fs, f.logLevel, getenv); got != tc.want {
			t.Errorf("args %q, JUPYTERHUB_DEBUG=%q: level %q, want %q", tc.args, tc.debug, got, tc.want)
		}
	}
}

// startedRoot matches the root folder in the server's start log line.
var startedRoot = regexp.MustCompile(`msg="jupygo server started" .*\broot=("(?:[^"\\]|\\.)*"|\S+)`)

// TestServerStartLogsAbsoluteRoot runs jupygo server with a relative root
// folder and with none, and checks that the start log names the absolute,
// cleaned folder that the server info file gives.
func TestServerStartLogsAbsoluteRoot(t *testing.T) {
	bin := buildJupygo(t)
	// The server finds its current folder with getcwd, which resolves
	// symbolic links.
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "notebooks"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"relative", []string{"--root-dir", "notebooks/../notebooks/"}, filepath.Join(dir, "notebooks")},
		{"default", nil, dir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logged, info := startServerForRoot(t, bin, dir, tc.args)
			if logged != tc.want {
				t.Errorf("start log root = %q, want %q", logged, tc.want)
			}
			if info != tc.want {
				t.Errorf("server info root_dir = %q, want %q", info, tc.want)
			}
		})
	}
}

// startServerForRoot runs jupygo server in the folder dir with args until
// it has logged its start, stops it, and returns the root folder of the
// start log line and the root_dir of its server info file.
func startServerForRoot(t *testing.T, bin, dir string, args []string) (logged, info string) {
	t.Helper()
	runtimeDir := t.TempDir()
	cmd := exec.Command(bin, append([]string{"server", "--no-browser", "--port", "0"}, args...)...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "JUPYTERHUB_") && !strings.HasPrefix(kv, "JUPYTER_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "JUPYTER_RUNTIME_DIR="+runtimeDir,
		"JUPYTER_CONFIG_DIR="+t.TempDir(), "JUPYTER_DATA_DIR="+t.TempDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()

	sc := bufio.NewScanner(stderr)
	var m []string
	for m == nil && sc.Scan() {
		m = startedRoot.FindStringSubmatch(sc.Text())
	}
	if m == nil {
		t.Fatalf("jupygo server logged no start line: %v", sc.Err())
	}
	go io.Copy(io.Discard, stderr)
	logged = m[1]
	if unquoted, err := strconv.Unquote(logged); err == nil {
		logged = unquoted
	}

	// Serve writes the info file after the start line.
	infoFile := filepath.Join(runtimeDir, fmt.Sprintf("jpserver-%d.json", cmd.Process.Pid))
	data, err := os.ReadFile(infoFile)
	for deadline := time.Now().Add(time.Minute); err != nil && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		data, err = os.ReadFile(infoFile)
	}
	if err != nil {
		t.Fatal(err)
	}
	var fields struct {
		RootDir string `json:"root_dir"`
	}
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatalf("server info %s: %v", data, err)
	}
	return logged, fields.RootDir
}
