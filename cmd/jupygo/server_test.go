package main

import (
	"flag"
	"io"
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
