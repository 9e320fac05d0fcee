package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/jupygo/jupygo/internal/lazy"
)

// migrationFiles holds the schema migrations, named NNNN_summary.sql and
// numbered from 0001 without gaps. A released migration is never edited:
// a change to the schema is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

var migrationsValue lazy.Value[[]migration]

// migrations returns the parsed content of migrationFiles, parsed on first
// use so that processes that open no store do not pay for it.
func migrations() []migration {
	return migrationsValue.Get(func() []migration { return mustLoadMigrations(migrationFiles) })
}

// mustLoadMigrations parses the embedded files and panics on a bad file
// name, which makes every test of the package that opens a store fail
// before a release.
func mustLoadMigrations(fsys fs.FS) []migration {
	list, err := loadMigrations(fsys)
	if err != nil {
		panic(err)
	}
	return list
}

// loadMigrations reads migrations/*.sql from fsys and checks that their
// versions run from 1 without gaps.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var list []migration
	for i, name := range names {
		base := path.Base(name)
		number, _, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(number)
		if !ok || err != nil || version != i+1 {
			return nil, fmt.Errorf("migration %s: want a name starting with %04d_", name, i+1)
		}
		text, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		list = append(list, migration{version: version, name: base, sql: string(text)})
	}
	return list, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    applied TEXT NOT NULL
)`

// migrate applies the embedded migrations that the database lacks.
func (s *sqlStore) migrate(ctx context.Context) error {
	return s.migrateWith(ctx, migrations())
}

// migrateWith applies the migrations of list that the database lacks, each
// in its own transaction together with its schema_migrations row, so a
// failed migration leaves the database at the version before it.
func (s *sqlStore) migrateWith(ctx context.Context, list []migration) error {
	for {
		applied, err := s.migrateStep(ctx, list)
		if err != nil {
			return err
		}
		if !applied {
			return nil
		}
	}
}

// migrateStep applies the next migration the database lacks and reports
// whether there was one. The version is read inside the transaction, after
// it has taken the database's migration lock, so two processes migrating
// one database at once apply each step once. SQLite's lock is the write
// lock that BEGIN IMMEDIATE takes. PostgreSQL's is an advisory lock, and
// because its write transactions run in READ COMMITTED, the statements
// after the lock see the step that the previous holder committed.
func (s *sqlStore) migrateStep(ctx context.Context, list []migration) (bool, error) {
	var applied *migration
	err := s.write(ctx, func(tx *sql.Tx) error {
		applied = nil
		if s.d.lockMigrations != "" {
			if _, err := tx.ExecContext(ctx, s.d.lockMigrations); err != nil {
				return fmt.Errorf("taking the migration lock: %w", err)
			}
		}
		current, err := schemaVersion(ctx, tx)
		if err != nil {
			return err
		}
		if current > len(list) {
			return fmt.Errorf("database schema version is %d, but this jupygo supports versions up to %d: "+
				"run a newer jupygo: %w", current, len(list), ErrSchemaTooNew)
		}
		if current == len(list) {
			return nil
		}
		if current == 0 {
			if err := checkNotJupyterHub(ctx, tx, s.d); err != nil {
				return err
			}
		}
		m := list[current]
		if _, err := tx.ExecContext(ctx, s.d.schema.Replace(m.sql)); err != nil {
			return fmt.Errorf("applying migration %s: %w", m.name, err)
		}
		_, err = tx.ExecContext(ctx,
			"INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)",
			m.version, m.name, timeArg(s.timestamp()))
		if err != nil {
			return fmt.Errorf("recording migration %s: %w", m.name, err)
		}
		applied = &m
		return nil
	})
	if err != nil || applied == nil {
		return false, err
	}
	s.log.Info("schema migrated", "version", applied.version, "migration", applied.name)
	return true, nil
}

// checkNotJupyterHub returns an error wrapping ErrJupyterHubDatabase when
// the database has the alembic_version table, with which JupyterHub
// records its schema. The first migration would otherwise fail on a table
// name that both schemas use.
func checkNotJupyterHub(ctx context.Context, q querier, d *dialect) error {
	var n int
	if err := q.QueryRowContext(ctx, d.countTables, "alembic_version").Scan(&n); err != nil {
		return fmt.Errorf("looking for JupyterHub's tables: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("the database has JupyterHub's alembic_version table, and jupygo hub "+
			"keeps its own schema and cannot read JupyterHub's: point db_url at a new "+
			"database, and add the users again with admin_users, allowed_users or "+
			"POST /hub/api/users: %w", ErrJupyterHubDatabase)
	}
	return nil
}

// schemaVersion creates schema_migrations if it is missing and returns the
// highest version recorded in it, 0 for a new database.
func schemaVersion(ctx context.Context, q querier) (int, error) {
	if _, err := q.ExecContext(ctx, createMigrationsTable); err != nil {
		return 0, fmt.Errorf("creating schema_migrations: %w", err)
	}
	var version int
	err := q.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&version)
	if err != nil {
		return 0, fmt.Errorf("reading schema version: %w", err)
	}
	return version, nil
}
