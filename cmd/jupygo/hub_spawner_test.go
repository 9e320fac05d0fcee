package main

import (
	"log/slog"
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
