package pgtest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
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
