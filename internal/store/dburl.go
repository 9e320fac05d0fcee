package store

import (
	"fmt"
	"strings"
)

// Location is a parsed db_url.
type Location struct {
	// Driver is "sqlite" or "postgresql".
	Driver string
	// Path is the SQLite database file, relative to the working directory
	// unless it starts with "/", or MemoryPath for an in-memory database.
	// It is "" for other drivers.
	Path string
}

// MemoryPath is the Path of an in-memory SQLite database.
const MemoryPath = ":memory:"

// Memory reports whether l is an in-memory SQLite database, which lives
// only as long as the store that opened it.
func (l Location) Memory() bool {
	return l.Driver == "sqlite" && l.Path == MemoryPath
}

// ParseURL parses a database URL as JupyterHub's db_url setting spells it
// (SQLAlchemy's URL syntax):
//
//	sqlite:///jupyterhub.sqlite   file jupyterhub.sqlite in the working directory
//	sqlite:////srv/hub/db.sqlite  file /srv/hub/db.sqlite
//	sqlite://                     in-memory database
//	sqlite:///:memory:            in-memory database
//	postgresql://user@host/db     PostgreSQL (also postgres://)
//
// A driver suffix such as sqlite+pysqlite:// or postgresql+psycopg2:// is
// accepted and ignored. The path is used as written, without percent
// decoding. Query parameters in a SQLite URL are rejected, because the
// store sets the connection options itself. Errors never repeat the URL,
// which may contain a password.
func ParseURL(dbURL string) (Location, error) {
	scheme, rest, ok := strings.Cut(dbURL, "://")
	if !ok || scheme == "" {
		return Location{}, fmt.Errorf("db_url has no scheme: want sqlite:///FILE or postgresql://...: %w",
			ErrInvalid)
	}
	driver, _, _ := strings.Cut(strings.ToLower(scheme), "+")
	switch driver {
	case "sqlite":
		return parseSQLite(rest)
	case "postgresql", "postgres":
		return Location{Driver: "postgresql"}, nil
	}
	return Location{}, fmt.Errorf("db_url scheme %q is not supported: use sqlite or postgresql: %w",
		clip(scheme), ErrInvalid)
}

// parseSQLite parses what follows "sqlite://".
func parseSQLite(rest string) (Location, error) {
	if rest == "" {
		return Location{Driver: "sqlite", Path: MemoryPath}, nil
	}
	path, ok := strings.CutPrefix(rest, "/")
	if !ok {
		return Location{}, fmt.Errorf("sqlite db_url has a host name: "+
			"write sqlite:///relative.sqlite or sqlite:////absolute.sqlite: %w", ErrInvalid)
	}
	if strings.ContainsAny(path, "?#") {
		return Location{}, fmt.Errorf("sqlite db_url has query parameters, which are not supported: %w",
			ErrInvalid)
	}
	if strings.ContainsRune(path, 0) {
		return Location{}, fmt.Errorf("sqlite db_url path contains a NUL byte: %w", ErrInvalid)
	}
	if path == "" {
		path = MemoryPath
	}
	return Location{Driver: "sqlite", Path: path}, nil
}

// clip shortens s for an error message.
func clip(s string) string {
	const max = 40
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
