package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDatabase(t *testing.T) {
	tests := []struct {
		url     string
		want    Database
		wantErr string
	}{
		{"sqlite:///hub.sqlite", Database{Driver: "sqlite", Path: "/data/hub.sqlite"}, ""},
		{"sqlite:///sub/hub.sqlite", Database{Driver: "sqlite", Path: "/data/sub/hub.sqlite"}, ""},
		{"sqlite:////var/lib/hub.sqlite", Database{Driver: "sqlite", Path: "/var/lib/hub.sqlite"}, ""},
		{"sqlite://", Database{Driver: "sqlite", Path: ":memory:"}, ""},
		{"sqlite:///:memory:", Database{Driver: "sqlite", Path: ":memory:"}, ""},
		{"sqlite+pysqlite:///hub.sqlite", Database{Driver: "sqlite", Path: "/data/hub.sqlite"}, ""},
		{"postgresql://hub:pw@db:5432/hub", Database{Driver: "postgres", URL: "postgres://hub:pw@db:5432/hub"}, ""},
		{"postgresql+psycopg2://db/hub", Database{Driver: "postgres", URL: "postgres://db/hub"}, ""},
		{"postgres://db/hub", Database{Driver: "postgres", URL: "postgres://db/hub"}, ""},
		{"postgresql://", Database{}, "the host is missing"},
		{"sqlite:hub.sqlite", Database{}, "invalid database URL"},
		{"sqlite://host/hub.sqlite", Database{}, "use sqlite:///FILE"},
		{"sqlite:///hub.sqlite?mode=ro", Database{}, "query parameters are not supported"},
		{"mysql+pymysql://db/hub", Database{}, `database "mysql+pymysql" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			c := Default()
			c.JupyterHub.DataDir = "/data"
			c.JupyterHub.DBURL = tt.url
			got, err := c.Database()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Database() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Database(): %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Database() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPath(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home folder:", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dataDir, path, want string
	}{
		{"/srv/hub", "cookie", "/srv/hub/cookie"},
		{"/srv/hub", "/etc/cookie", "/etc/cookie"},
		{"/srv/hub", "~/cookie", filepath.Join(home, "cookie")},
		{"~/hub", "cookie", filepath.Join(home, "hub", "cookie")},
		{".", "cookie", filepath.Join(wd, "cookie")},
		{"rel", "a/../b", filepath.Join(wd, "rel", "b")},
	}
	for _, tt := range tests {
		t.Run(tt.dataDir+"+"+tt.path, func(t *testing.T) {
			c := Default()
			c.JupyterHub.DataDir = tt.dataDir
			if got := c.Path(tt.path); got != tt.want {
				t.Errorf("Path(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestHomeDir(t *testing.T) {
	c := Default()
	c.JupyterHub.DataDir = "/srv/hub"
	got, err := c.HomeDir("alice")
	if err != nil || got != "/srv/hub/users/alice" {
		t.Errorf("HomeDir = %q, %v; want /srv/hub/users/alice", got, err)
	}
	c.SimpleLocalProcessSpawner.HomeDirTemplate = "/home/{user}"
	if _, err := c.HomeDir("alice"); err == nil {
		t.Error("HomeDir accepted a template with an unknown field")
	}
}

func TestExpandNotebookDir(t *testing.T) {
	tests := []struct {
		notebookDir, want string
	}{
		{"", ""},
		{"~", "~"},
		{"~/work/{username}", "~/work/alice"},
		{"/srv/{username}{base_url}", "/srv/alice/user/alice/"},
		{"/data/{{literal}}", "/data/{literal}"},
		{"~bob/x", "~bob/x"},
	}
	for _, tt := range tests {
		t.Run(tt.notebookDir, func(t *testing.T) {
			s := Spawner{NotebookDir: tt.notebookDir}
			got, err := s.ExpandNotebookDir("alice", "/user/alice/")
			if err != nil || got != tt.want {
				t.Errorf("ExpandNotebookDir = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	s := Spawner{NotebookDir: "/srv/{user}"}
	if _, err := s.ExpandNotebookDir("alice", "/user/alice/"); err == nil {
		t.Error("ExpandNotebookDir accepted the unknown field {user}")
	}
}

func TestExpandTemplate(t *testing.T) {
	fields := map[string]string{"username": "alice", "base_url": "/user/alice/"}
	tests := []struct {
		template, want, wantErr string
	}{
		{"/tmp/{username}", "/tmp/alice", ""},
		{"{username}-{username}", "alice-alice", ""},
		{"{{username}}", "{username}", ""},
		{"a}}b{{c", "a}b{c", ""},
		{"", "", ""},
		{"{user}", "", "uses {user}; the fields are {base_url} or {username}"},
		{"{username!r}", "", "uses {username!r}"},
		{"{username:>9}", "", "uses {username:>9}"},
		{"{}", "", "uses {}"},
		{"{username", "", "unmatched {"},
		{"username}", "", "unmatched }"},
	}
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			got, err := ExpandTemplate(tt.template, fields)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ExpandTemplate error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ExpandTemplate = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1024", 1024, true},
		{"1K", 1 << 10, true},
		{"1.5M", 3 << 19, true},
		{"2G", 2 << 30, true},
		{"1T", 1 << 40, true},
		{"0.5K", 512, true},
		{"", 0, false},
		{"G", 0, false},
		{"1g", 0, false},
		{"1KB", 0, false},
		{"-1K", 0, false},
		{"1e3K", 0, false},
		{"0x10K", 0, false},
		{"99999999999999999999", 0, false},
		{"9999999999T", 0, false},
		{"NaNK", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseByteSize(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("parseByteSize(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}
