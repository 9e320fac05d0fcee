package pgtest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

func TestStartServesDatabases(t *testing.T) {
	s := Start(t)
	url := s.CreateDatabase(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connecting to the new database: %v", err)
	}
	defer conn.Close(context.Background())

	// The default collation does not sort bytewise, which the store's
	// tests rely on to show that the store sets its own.
	rows, err := conn.Query(ctx, "SELECT x FROM (VALUES ('B'), ('a'), ('_')) v (x) ORDER BY x")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"_", "a", "B"}, got); d != "" {
		t.Errorf("default collation order (-want +got):\n%s", d)
	}

	if _, err := os.Stat(filepath.Join(s.SocketDir, ".s.PGSQL."+strconv.Itoa(s.Port))); err != nil {
		t.Errorf("Unix socket: %v", err)
	}
}

func TestStopRemovesFolder(t *testing.T) {
	var dir string
	t.Run("server", func(t *testing.T) {
		dir = Start(t).dir
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("folder %s after the test: %v, want it removed", dir, err)
	}
}

func TestLocateMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	glob := filepath.Join(t.TempDir(), "*", "bin")

	t.Setenv(SkipEnv, "")
	_, skip, err := locate(glob)
	if err == nil || skip {
		t.Fatalf("locate without PostgreSQL = %v, skip %v, want an error and no skip", err, skip)
	}
	for _, part := range []string{"not installed", "postgresql package", SkipEnv + "=1"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q lacks %q", err, part)
		}
	}

	t.Setenv(SkipEnv, "1")
	if _, skip, err := locate(glob); err == nil || !skip {
		t.Errorf("locate with %s=1 = %v, skip %v, want an error and a skip", SkipEnv, err, skip)
	}
}

func TestFindBinDirPicksNewest(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	root := t.TempDir()
	for _, version := range []string{"9", "15", "13"} {
		bin := filepath.Join(root, version, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(bin, "postgres"), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got, err := findBinDir(filepath.Join(root, "*", "bin"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "15", "bin"); got != want {
		t.Errorf("findBinDir = %s, want %s", got, want)
	}
}
