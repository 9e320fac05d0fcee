package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// openFile opens a SQLite store in path and closes it when the test ends.
func openFile(t *testing.T, path string, opts Options) *sqlStore {
	t.Helper()
	s, err := Open(t.Context(), "sqlite:///"+path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s.(*sqlStore)
}

// rawDB opens path with the driver alone, bypassing the store.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open(sqliteDriver, sqliteDSN(path, false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func appliedVersions(t *testing.T, q querier) []int {
	t.Helper()
	rows, err := q.QueryContext(t.Context(), "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var versions []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	return versions
}

func TestMigrateFromEmpty(t *testing.T) {
	s := openFile(t, filepath.Join(t.TempDir(), "hub.sqlite"), Options{})
	var want []int
	for _, m := range migrations() {
		want = append(want, m.version)
	}
	if d := cmp.Diff(want, appliedVersions(t, s.r)); d != "" {
		t.Errorf("applied versions (-want +got):\n%s", d)
	}
	var tables int
	err := s.r.QueryRowContext(t.Context(),
		"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'api_tokens', 'servers')").
		Scan(&tables)
	if err != nil || tables != 3 {
		t.Errorf("found %d of the tables users, api_tokens and servers (err %v)", tables, err)
	}
}

func TestReopenKeepsState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.sqlite")
	ctx := t.Context()
	first, err := Open(ctx, "sqlite:///"+path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.CreateUser(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	if _, err := first.CreateServer(ctx, "alice", ""); err != nil {
		t.Fatal(err)
	}
	state := json.RawMessage(`{"pid":4242}`)
	running, err := first.UpdateServer(ctx, "alice", "", ServerUpdate{
		Started: &t0, URL: ptr("http://127.0.0.1:40000/user/alice/"), State: &state,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, clear, err := first.CreateToken(ctx, NewToken{Owner: Owner{User: "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := openFile(t, path, Options{})
	servers, err := second.ListServers(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]Server{running}, servers); d != "" {
		t.Errorf("servers after reopening (-before +after):\n%s", d)
	}
	if _, err := second.FindToken(ctx, clear); err != nil {
		t.Errorf("FindToken after reopening: %v", err)
	}
	if want := len(migrations()); len(appliedVersions(t, second.r)) != want {
		t.Errorf("reopening changed the migrations: %v", appliedVersions(t, second.r))
	}
}

func TestOpenRejectsNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.sqlite")
	s, err := Open(t.Context(), "sqlite:///"+path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db := rawDB(t, path)
	newer := len(migrations()) + 1
	_, err = db.ExecContext(t.Context(),
		"INSERT INTO schema_migrations (version, name, applied) VALUES ($1, 'future.sql', 'x')", newer)
	if err != nil {
		t.Fatal(err)
	}

	_, err = Open(t.Context(), "sqlite:///"+path, Options{})
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: got %v, want ErrSchemaTooNew", err)
	}
	if versions := appliedVersions(t, db); versions[len(versions)-1] != newer {
		t.Errorf("the refused Open changed schema_migrations to %v", versions)
	}
}

// jupyterHubTables creates two of the tables of a database that
// JupyterHub 3.0 created: alembic_version, and users, a name the store
// uses too.
const jupyterHubTables = `CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL);
INSERT INTO alembic_version VALUES ('651f5419b74d');
CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(255), admin BOOLEAN)`

func TestOpenRejectsJupyterHubDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jupyterhub.sqlite")
	db := rawDB(t, path)
	for stmt := range strings.SplitSeq(jupyterHubTables, ";") {
		if _, err := db.ExecContext(t.Context(), stmt); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Open(t.Context(), "sqlite:///"+path, Options{})
	if !errors.Is(err, ErrJupyterHubDatabase) {
		t.Fatalf("Open of JupyterHub's database: got %v, want ErrJupyterHubDatabase", err)
	}
	if !strings.Contains(err.Error(), "new database") {
		t.Errorf("the error does not say to use a new database: %v", err)
	}
	var n int
	if err := db.QueryRowContext(t.Context(),
		"SELECT COUNT(*) FROM sqlite_master WHERE name = 'schema_migrations'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Error("the rejected Open created schema_migrations")
	}
}

func TestMigrateSteps(t *testing.T) {
	s := openFile(t, filepath.Join(t.TempDir(), "hub.sqlite"), Options{})
	ctx := t.Context()
	base := len(migrations())
	next := append(append([]migration{}, migrations()...),
		migration{version: base + 1, name: "next.sql", sql: "CREATE TABLE extra (id {{id}}, note TEXT);"})
	if err := s.migrateWith(ctx, next); err != nil {
		t.Fatalf("applying a new migration: %v", err)
	}
	if _, err := s.w.ExecContext(ctx, "INSERT INTO extra (note) VALUES ('x')"); err != nil {
		t.Errorf("table of the new migration: %v", err)
	}

	// A migration that fails halfway leaves neither its first table nor its
	// version behind.
	broken := append(next, migration{version: base + 2, name: "broken.sql",
		sql: "CREATE TABLE half (id INTEGER); CREATE TABLE users (id INTEGER);"})
	err := s.migrateWith(ctx, broken)
	if err == nil || !strings.Contains(err.Error(), "broken.sql") {
		t.Fatalf("applying a broken migration: got %v, want an error naming broken.sql", err)
	}
	if got := appliedVersions(t, s.w); got[len(got)-1] != base+1 {
		t.Errorf("versions after the broken migration: %v", got)
	}
	var n int
	err = s.w.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'").Scan(&n)
	if err != nil || n != 0 {
		t.Errorf("table of the broken migration: count %d, err %v", n, err)
	}

	// The code embeds fewer migrations than the database has applied.
	if err := s.migrateWith(ctx, migrations()); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("migrating with older code: got %v, want ErrSchemaTooNew", err)
	}
}

func TestLoadMigrations(t *testing.T) {
	file := func(text string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(text)} }
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		want    []int
		wantErr bool
	}{
		{"two", fstest.MapFS{"migrations/0001_a.sql": file("A"), "migrations/0002_b.sql": file("B")},
			[]int{1, 2}, false},
		{"gap", fstest.MapFS{"migrations/0001_a.sql": file("A"), "migrations/0003_c.sql": file("C")},
			nil, true},
		{"no number", fstest.MapFS{"migrations/init.sql": file("A")}, nil, true},
		{"starts at 2", fstest.MapFS{"migrations/0002_b.sql": file("B")}, nil, true},
		{"empty", fstest.MapFS{}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			list, err := loadMigrations(tc.fsys)
			if (err != nil) != tc.wantErr {
				t.Fatalf("loadMigrations: err = %v, want error %v", err, tc.wantErr)
			}
			var got []int
			for _, m := range list {
				got = append(got, m.version)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("versions (-want +got):\n%s", d)
			}
		})
	}
}

func TestMigrationsUseKnownPlaceholders(t *testing.T) {
	for _, d := range []*dialect{sqliteDialect(), postgresDialect()} {
		for _, m := range migrations() {
			text := d.schema.Replace(m.sql)
			if strings.Contains(text, "{{") {
				t.Errorf("%s has a placeholder that the %s dialect does not replace", m.name, d.name)
			}
		}
	}
}

// TestConcurrentOpen checks that two stores migrating one new file at once
// both succeed and apply each migration once.
func TestConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.sqlite")
	errs := make(chan error, 2)
	stores := make(chan Store, 2)
	for range 2 {
		go func() {
			s, err := Open(context.Background(), "sqlite:///"+path, Options{})
			errs <- err
			stores <- s
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("Open: %v", err)
		}
		if s := <-stores; s != nil {
			defer s.Close()
		}
	}
	db := rawDB(t, path)
	if got := appliedVersions(t, db); len(got) != len(migrations()) {
		t.Errorf("applied versions %v, want each of %d once", got, len(migrations()))
	}
}
