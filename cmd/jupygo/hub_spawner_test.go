//go:build !nohub

package main

import (
	"bytes"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/hub/config"
	"github.com/jupygo/jupygo/internal/hub/spawn"
)

// TestNewSpawnerStopTimeouts checks that the stop timeouts of the
// configuration reach both local spawners.
func TestNewSpawnerStopTimeouts(t *testing.T) {
	for _, class := range []string{config.SpawnerSimple, config.SpawnerLocalProcess} {
		t.Run(class, func(t *testing.T) {
			cfg := config.Default()
			cfg.JupyterHub.SpawnerClass = class
			cfg.LocalProcessSpawner.InterruptTimeout = 3 * time.Second
			cfg.LocalProcessSpawner.TermTimeout = 4 * time.Second
			cfg.LocalProcessSpawner.KillTimeout = 6 * time.Second
			sp, err := newSpawner(cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			var interrupt, term, kill time.Duration
			switch s := sp.(type) {
			case *spawn.SimpleLocalProcess:
				interrupt, term, kill = s.InterruptTimeout, s.TermTimeout, s.KillTimeout
			case *spawn.LocalProcess:
				interrupt, term, kill = s.InterruptTimeout, s.TermTimeout, s.KillTimeout
			default:
				t.Fatalf("newSpawner returned %T", sp)
			}
			if interrupt != 3*time.Second {
				t.Errorf("InterruptTimeout = %v, want 3s", interrupt)
			}
			if term != 4*time.Second {
				t.Errorf("TermTimeout = %v, want 4s", term)
			}
			if kill != 6*time.Second {
				t.Errorf("KillTimeout = %v, want 6s", kill)
			}
		})
	}
}

// TestNewSpawnerWarnsInvalidAccountNames checks that localprocess logs each
// name of allowed_users and admin_users that cannot be a system account.
func TestNewSpawnerWarnsInvalidAccountNames(t *testing.T) {
	cfg := config.Default()
	cfg.JupyterHub.SpawnerClass = config.SpawnerLocalProcess
	cfg.Authenticator.AllowedUsers = []string{"hubot", "mona.lisa", "1up"}
	cfg.Authenticator.AdminUsers = []string{"octocat", "OctoCat", "Octo.Cat"}
	var logs bytes.Buffer
	if _, err := newSpawner(cfg, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
		t.Fatal(err)
	}
	var warned []string
	for line := range strings.Lines(logs.String()) {
		if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "not a valid system account name") {
			continue
		}
		for _, name := range []string{"hubot", "mona.lisa", "1up", "octocat", "OctoCat", "Octo.Cat"} {
			if strings.Contains(line, "user="+name+" ") {
				warned = append(warned, name)
			}
		}
		if !strings.Contains(line, "err=") || !strings.Contains(line, "setting=") {
			t.Errorf("warning lacks the reason or the setting: %s", line)
		}
	}
	if want := []string{"mona.lisa", "1up", "Octo.Cat"}; !slices.Equal(warned, want) {
		t.Errorf("warned about %v, want %v; log:\n%s", warned, want, logs.String())
	}

	// The simple spawner runs every server as the hub's account, so any
	// hub user name works there.
	cfg.JupyterHub.SpawnerClass = config.SpawnerSimple
	logs.Reset()
	if _, err := newSpawner(cfg, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "not a valid system account name") {
		t.Errorf("the simple spawner warned about account names:\n%s", logs.String())
	}
}

// TestNewSpawnerAccountLimits checks that max_uid and blocked_groups reach
// the localprocess spawner, and that blocked_groups = [] blocks no group.
func TestNewSpawnerAccountLimits(t *testing.T) {
	cfg := config.Default()
	cfg.JupyterHub.SpawnerClass = config.SpawnerLocalProcess
	cfg.LocalProcessSpawner.MaxUID = 5000
	for _, tt := range []struct {
		name   string
		groups []string
		want   []string
	}{
		{"default", cfg.LocalProcessSpawner.BlockedGroups, spawn.DefaultBlockedGroups},
		{"set", []string{"operators"}, []string{"operators"}},
		{"none", nil, []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg.LocalProcessSpawner.BlockedGroups = tt.groups
			sp, err := newSpawner(cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			l := sp.(*spawn.LocalProcess)
			if l.MaxUID != 5000 {
				t.Errorf("MaxUID = %d, want 5000", l.MaxUID)
			}
			if !slices.Equal(l.BlockedGroups, tt.want) || l.BlockedGroups == nil {
				t.Errorf("BlockedGroups = %#v, want %#v", l.BlockedGroups, tt.want)
			}
		})
	}
}

// TestServeHubLocalGitHubSimple checks that the hub does not start a
// Config built in code that pairs local-github with the simple spawner.
func TestServeHubLocalGitHubSimple(t *testing.T) {
	cfg := config.Default()
	cfg.JupyterHub.AuthenticatorClass = config.AuthenticatorLocalGitHub
	var out bytes.Buffer
	err := serveHub(t.Context(), cfg, slog.New(slog.NewTextHandler(&out, nil)), &out)
	if err == nil || !strings.Contains(err.Error(), `use spawner_class "localprocess"`) {
		t.Errorf("serveHub = %v, want an error that names localprocess", err)
	}
}
