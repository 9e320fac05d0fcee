package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// maxSQLiteReaders is the size of the read pool of a SQLite file. In WAL
// mode, readers do not block each other or the writer.
const maxSQLiteReaders = 8

// sqliteBusyTimeout is how long a SQLite connection waits for a lock that
// another process holds, such as a backup or the sqlite3 shell. Writers of
// this process never wait on each other there, because they share one
// connection.
const sqliteBusyTimeout = 10 * time.Second

// openSQLite opens the writer pool, migrates the schema and then opens the
// read pool.
func openSQLite(ctx context.Context, loc Location, opts Options) (*sqlStore, error) {
	w, err := sql.Open(sqliteDriver, sqliteDSN(loc.Path, false))
	if err != nil {
		return nil, err
	}
	// One connection: SQLite has one writer at a time, and an in-memory
	// database exists only inside the connection that created it.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	s := &sqlStore{w: w, r: w, d: sqliteDialect(), log: opts.Logger, now: opts.Now}
	if err := migrateNewSQLite(ctx, s); err != nil {
		w.Close()
		return nil, err
	}
	if loc.Memory() {
		return s, nil
	}

	r, err := sql.Open(sqliteDriver, sqliteDSN(loc.Path, true))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(maxSQLiteReaders)
	r.SetMaxIdleConns(maxSQLiteReaders)
	s.r = r
	return s, nil
}

// migrateNewSQLite migrates the store, trying again while the database is
// busy. A new file starts in rollback-journal mode, and each connection
// switches it to WAL. When two processes open a new file at once, SQLite
// can report SQLITE_BUSY to the one that read the old journal mode, without
// waiting for the busy timeout. Trying again within that timeout finds the
// file in WAL mode.
func migrateNewSQLite(ctx context.Context, s *sqlStore) error {
	deadline := time.Now().Add(sqliteBusyTimeout)
	wait := 5 * time.Millisecond
	for {
		err := s.migrate(ctx)
		if err == nil || !isSQLiteBusy(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// isSQLiteBusy reports whether err is SQLITE_BUSY or one of its extended
// codes.
func isSQLiteBusy(err error) bool {
	var e sqlite3.Error
	return errors.As(err, &e) && e.Code == sqlite3.ErrBusy
}

// sqliteDriver is the database/sql name of github.com/mattn/go-sqlite3.
const sqliteDriver = "sqlite3"

// sqliteDSN returns the github.com/mattn/go-sqlite3 data source name for
// the file path. Writer connections use WAL mode and take the write lock
// when a transaction begins (BEGIN IMMEDIATE), so a transaction that reads
// before it writes cannot fail halfway with SQLITE_BUSY. Reader connections
// are query-only.
func sqliteDSN(path string, readOnly bool) string {
	var name string
	switch {
	case path == MemoryPath:
		name = MemoryPath
	case strings.HasPrefix(path, "/"):
		// An empty authority, so a path starting with "//" is not taken
		// for a host name.
		name = "file://" + escapeURIPath(path)
	default:
		name = "file:" + escapeURIPath(path)
	}
	params := []string{
		fmt.Sprintf("_busy_timeout=%d", sqliteBusyTimeout.Milliseconds()),
		"_foreign_keys=1",
	}
	if readOnly {
		params = append(params, "_query_only=1")
	} else {
		params = append(params, "_journal_mode=WAL", "_txlock=immediate")
	}
	return name + "?" + strings.Join(params, "&")
}

// escapeURIPath percent-encodes every byte of a file path that could end
// or change the path part of a SQLite URI filename. SQLite decodes the
// escapes again.
func escapeURIPath(path string) string {
	const keep = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-~"
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		c := path[i]
		if strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
