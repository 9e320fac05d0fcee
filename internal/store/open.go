package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Open opens the database that dbURL names (see ParseURL), creating a
// SQLite file if it is missing, and applies the schema migrations it
// lacks. It returns an error wrapping ErrSchemaTooNew, and leaves the
// database alone, when a newer jupygo has migrated it past the version
// this build supports. A PostgreSQL database must exist already, and its
// user needs the right to create tables in it. Errors never contain the
// password of dbURL.
func Open(ctx context.Context, dbURL string, opts Options) (Store, error) {
	loc, err := ParseURL(dbURL)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if loc.Driver == "postgresql" {
		s, err := openPostgres(ctx, dbURL, opts)
		if err != nil {
			// Not s: a nil *sqlStore in a Store is not a nil Store.
			return nil, err
		}
		return s, nil
	}
	s, err := openSQLite(ctx, loc, opts)
	if err != nil {
		return nil, fmt.Errorf("opening sqlite database %s: %w", loc.Path, err)
	}
	return s, nil
}
