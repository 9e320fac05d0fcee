//go:build !nohub

package main

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jupygo/jupygo/internal/hub/config"
	"github.com/jupygo/jupygo/internal/hub/tlsconf"
)

func TestHubSetupLogLine(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	// libpq's variables fill in what a db_url leaves out, here and when
	// the store connects.
	for _, name := range []string{"PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD",
		"PGSERVICE", "PGSERVICEFILE"} {
		t.Setenv(name, "")
	}
	clearOAuthEnv(t)
	tests := []struct {
		name   string
		config string
		env    map[string]string
		mode   tlsconf.Mode
		want   []string
		secret string
	}{
		{"defaults", "", nil, tlsconf.ModeOff, []string{"authenticator=local", "spawner=simple",
			"store=sqlite", "db_path=" + filepath.Join(dataDir, "jupyterhub.sqlite"), "tls=off"}, ""},
		{"github and localprocess in memory", "authenticator_class = \"github\"\n" +
			"spawner_class = \"localprocess\"\ndb_url = \"sqlite://\"\n",
			map[string]string{"GITHUB_CLIENT_ID": "id", "GITHUB_CLIENT_SECRET": "secret"},
			tlsconf.ModeACME,
			[]string{"authenticator=github", "spawner=localprocess", "store=sqlite",
				"db_path=:memory:", "tls=acme"}, ""},
		{"postgresql with a password", "db_url = \"postgresql+psycopg2://hub:s3cret-pw@" +
			"db.example.org:5433/jupyterhub?sslmode=disable\"\n", nil, tlsconf.ModeFiles,
			[]string{"store=postgresql", "db_host=db.example.org:5433", "db_name=jupyterhub",
				"db_user=hub", "tls=files"}, "s3cret-pw"},
		{"postgresql password parameter", "db_url = \"postgresql://hub@h1,h2:5433/lab?" +
			"password=s3cret-pw&sslmode=disable\"\n", nil, tlsconf.ModeOff,
			[]string{"store=postgresql", "db_host=h1:5432,h2:5433", "db_name=lab"}, "s3cret-pw"},
		{"postgresql from the environment", "db_url = \"postgresql:///\"\n",
			map[string]string{"PGHOST": "/run/postgresql", "PGDATABASE": "hubdb",
				"PGUSER": "jupyterhub", "PGPASSWORD": "s3cret-pw"}, tlsconf.ModeOff,
			[]string{"store=postgresql", "db_host=/run/postgresql/.s.PGSQL.5432",
				"db_name=hubdb", "db_user=jupyterhub"}, "s3cret-pw"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg, err := config.Parse([]byte("[JupyterHub]\n"+tc.config), "hub.toml")
			if err != nil {
				t.Fatal(err)
			}
			cfg.JupyterHub.DataDir = dataDir
			var out bytes.Buffer
			logHubSetup(slog.New(slog.NewTextHandler(&out, nil)), cfg, tc.mode)
			line := out.String()
			if strings.Count(line, "\n") != 1 || !strings.Contains(line, `msg="hub setup"`) {
				t.Errorf("log = %q, want one hub setup line", line)
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("hub setup line lacks %q: %s", w, line)
				}
			}
			if tc.secret != "" && strings.Contains(line, tc.secret) {
				t.Errorf("hub setup line shows the database password: %s", line)
			}
		})
	}
}

func TestHubWarnsOfSharedAccount(t *testing.T) {
	for _, tc := range []struct {
		spawner string
		warns   bool
	}{{"simple", true}, {"localprocess", false}} {
		cfg, err := config.Parse([]byte("[JupyterHub]\nspawner_class = \""+tc.spawner+"\"\n"), "hub.toml")
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		warnSharedAccount(slog.New(slog.NewTextHandler(&out, nil)), cfg)
		if got := strings.Contains(out.String(), "level=WARN"); got != tc.warns {
			t.Errorf("spawner %s: warning logged = %v, want %v: %s", tc.spawner, got, tc.warns, out.String())
		}
	}
}
