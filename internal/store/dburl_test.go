package store

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url     string
		want    Location
		wantErr error
	}{
		{"sqlite:///jupyterhub.sqlite", Location{"sqlite", "jupyterhub.sqlite"}, nil},
		{"sqlite:///data/hub.sqlite", Location{"sqlite", "data/hub.sqlite"}, nil},
		{"sqlite:////srv/hub/jupyterhub.sqlite", Location{"sqlite", "/srv/hub/jupyterhub.sqlite"}, nil},
		{"sqlite://", Location{"sqlite", MemoryPath}, nil},
		{"sqlite:///", Location{"sqlite", MemoryPath}, nil},
		{"sqlite:///:memory:", Location{"sqlite", MemoryPath}, nil},
		{"sqlite+pysqlite:///hub.sqlite", Location{"sqlite", "hub.sqlite"}, nil},
		{"SQLite:///hub.sqlite", Location{"sqlite", "hub.sqlite"}, nil},
		{"sqlite:///with space%20.sqlite", Location{"sqlite", "with space%20.sqlite"}, nil},
		{"postgresql://hub:pw@127.0.0.1:5432/jupyterhub", Location{Driver: "postgresql"}, nil},
		{"postgres://127.0.0.1/jupyterhub", Location{Driver: "postgresql"}, nil},
		{"postgresql+psycopg2://127.0.0.1/jupyterhub", Location{Driver: "postgresql"}, nil},
		{"sqlite://localhost/hub.sqlite", Location{}, ErrInvalid},
		{"sqlite:///hub.sqlite?timeout=20", Location{}, ErrInvalid},
		{"sqlite:///hub.sqlite#x", Location{}, ErrInvalid},
		{"sqlite:///a\x00b", Location{}, ErrInvalid},
		{"mysql://127.0.0.1/hub", Location{}, ErrInvalid},
		{"jupyterhub.sqlite", Location{}, ErrInvalid},
		{"://x", Location{}, ErrInvalid},
		{"", Location{}, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			got, err := ParseURL(tc.url)
			if !errors.Is(err, tc.wantErr) || (err != nil) != (tc.wantErr != nil) {
				t.Fatalf("ParseURL(%q) error = %v, want %v", tc.url, err, tc.wantErr)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("ParseURL(%q) (-want +got):\n%s", tc.url, d)
			}
		})
	}
}

func TestLocationMemory(t *testing.T) {
	for url, want := range map[string]bool{
		"sqlite://": true, "sqlite:///:memory:": true, "sqlite:///hub.sqlite": false,
		"postgresql://127.0.0.1/hub": false,
	} {
		loc, err := ParseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		if loc.Memory() != want {
			t.Errorf("ParseURL(%q).Memory() = %v, want %v", url, loc.Memory(), want)
		}
	}
}

func FuzzParseURL(f *testing.F) {
	for _, seed := range []string{
		"sqlite:///jupyterhub.sqlite", "sqlite:////abs/path.sqlite", "sqlite://", "sqlite:///:memory:",
		"postgresql://user:pw@host/db", "sqlite+pysqlite:///x", "sqlite://host/x", "sqlite:///x?y",
		"://", "+://", "sqlite:///%00", "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, url string) {
		loc, err := ParseURL(url)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseURL(%q) error %v does not wrap ErrInvalid", url, err)
			}
			if len(url) > 50 && strings.Contains(err.Error(), url) {
				t.Fatalf("ParseURL(%q) error repeats the URL", url)
			}
			return
		}
		switch loc.Driver {
		case "sqlite":
			if loc.Path == "" || strings.ContainsAny(loc.Path, "?#\x00") {
				t.Fatalf("ParseURL(%q) = path %q", url, loc.Path)
			}
			// The DSN keeps the path apart from the driver's parameters.
			dsn := sqliteDSN(loc.Path, false)
			if name, _, _ := strings.Cut(dsn, "?"); strings.ContainsAny(name, "#") {
				t.Fatalf("sqliteDSN(%q) = %q leaves # in the file name", loc.Path, dsn)
			}
		case "postgresql":
			if loc.Path != "" {
				t.Fatalf("ParseURL(%q) = postgresql with path %q", url, loc.Path)
			}
		default:
			t.Fatalf("ParseURL(%q) = driver %q", url, loc.Driver)
		}
	})
}
