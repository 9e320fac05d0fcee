package store

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestPostgresConfig(t *testing.T) {
	tests := []struct {
		url        string
		wantTarget string
		wantTime   time.Duration
	}{
		{"postgresql://hub:pw@127.0.0.1:5433/jupyterhub?sslmode=disable",
			`database "jupyterhub" at 127.0.0.1:5433 as user "hub"`, defaultConnectTimeout},
		{"postgres://hub@[::1]/hub?connect_timeout=3&sslmode=disable",
			`database "hub" at [::1]:5432 as user "hub"`, 3 * time.Second},
		{"postgresql+psycopg2://hub@/hub?host=/run/postgresql&sslmode=disable",
			`database "hub" at Unix socket /run/postgresql/.s.PGSQL.5432 as user "hub"`, defaultConnectTimeout},
		{"postgresql://hub@10.0.0.1,10.0.0.2:5433/hub?sslmode=disable",
			`database "hub" at 10.0.0.1:5432, 10.0.0.2:5433 as user "hub"`, defaultConnectTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			cfg, err := postgresConfig(tc.url)
			if err != nil {
				t.Fatalf("postgresConfig: %v", err)
			}
			if got := describeTarget(cfg); got != tc.wantTarget {
				t.Errorf("describeTarget = %q, want %q", got, tc.wantTarget)
			}
			if cfg.ConnectTimeout != tc.wantTime {
				t.Errorf("ConnectTimeout = %v, want %v", cfg.ConnectTimeout, tc.wantTime)
			}
		})
	}
}

func TestPostgresConfigPasswordFromEnvironment(t *testing.T) {
	t.Setenv("PGPASSWORD", "from-the-environment")
	cfg, err := postgresConfig("postgresql://hub@127.0.0.1/hub")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Password != "from-the-environment" {
		t.Errorf("Password = %q, want PGPASSWORD's", cfg.Password)
	}
	cfg, err = postgresConfig("postgresql://hub:in-the-url@127.0.0.1/hub")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Password != "in-the-url" {
		t.Errorf("Password = %q, want the URL's over PGPASSWORD", cfg.Password)
	}
}

func TestScrubPassword(t *testing.T) {
	tests := []struct{ msg, rest, want string }{
		{"cannot parse hub:s3cret@h", "hub:s3cret@h/db", "cannot parse hub:xxxxx@h"},
		{"bad s3cret and s3cret", "hub:s3cret@h:x/db", "bad xxxxx and xxxxx"},
		{"value p@ss/w", "hub:p%40ss%2Fw@h/db", "value xxxxx"},
		{"query s3cret", "h/db?sslpassword=s3cret", "query xxxxx"},
		{"no password here", "hub@h/db", "no password here"},
		{"empty password", "hub:@h/db", "empty password"},
	}
	for _, tc := range tests {
		if got := scrubPassword(tc.msg, tc.rest); got != tc.want {
			t.Errorf("scrubPassword(%q, %q) = %q, want %q", tc.msg, tc.rest, got, tc.want)
		}
	}
}

// FuzzPostgresConfig checks that a db_url with a password never makes
// postgresConfig panic or return an error that repeats the password.
func FuzzPostgresConfig(f *testing.F) {
	for _, seed := range []string{
		"@127.0.0.1:5432/hub", "@127.0.0.1:port/hub", "@[::1/hub", "@h/db?sslmode=sometimes",
		"@h/db?connect_timeout=x", "/db", "@h/db?password=again", "@h,h2:1:2/db", "%zz@h/db",
	} {
		f.Add(seed)
	}
	const password = "Pa55-w0rd-of-the-fuzz-test"
	f.Fuzz(func(t *testing.T, tail string) {
		_, err := postgresConfig("postgresql://hub:" + password + tail)
		if err == nil {
			return
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("error %v does not wrap ErrInvalid", err)
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("error repeats the password: %v", err)
		}
	})
}

// TestMigrationLockKey checks the key that the package documentation
// gives database administrators, who see it in pg_locks.
func TestMigrationLockKey(t *testing.T) {
	if migrationLockKey != 117052630722415 {
		t.Errorf("migrationLockKey = %d, but doc.go gives 117052630722415", migrationLockKey)
	}
	if got := string(big.NewInt(migrationLockKey).Bytes()); got != "jupygo" {
		t.Errorf("migrationLockKey spells %q in ASCII, want jupygo", got)
	}
}
