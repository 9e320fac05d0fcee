package store

import (
	"database/sql"
	"errors"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect holds everything that differs between the SQL databases the
// store supports. Queries elsewhere in the package use only SQL that all
// of them accept: $1-style parameters, RETURNING, ON CONFLICT, and text
// columns for timestamps and JSON.
type dialect struct {
	name string
	// schema replaces the type placeholders of the migration files:
	// {{id}} for an auto-incrementing primary key, {{blob}} for bytes.
	schema *strings.Replacer
	// isUniqueViolation and isForeignKeyViolation classify driver errors.
	isUniqueViolation     func(error) bool
	isForeignKeyViolation func(error) bool
	// readTx are the options of the transactions of reading methods. They
	// must give every query of the transaction the same snapshot.
	readTx *sql.TxOptions
}

// sqliteDialect is SQLite through modernc.org/sqlite. AUTOINCREMENT keeps
// the IDs of deleted rows from being reused, so a stale token ID can never
// name a newer token.
var sqliteDialect = &dialect{
	name: "sqlite",
	schema: strings.NewReplacer(
		"{{id}}", "INTEGER PRIMARY KEY AUTOINCREMENT",
		"{{blob}}", "BLOB",
	),
	isUniqueViolation: func(err error) bool {
		code := sqliteCode(err)
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE ||
			code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
	isForeignKeyViolation: func(err error) bool {
		return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	},
	// A SQLite transaction reads one snapshot whatever its isolation
	// level, and a read-only one begins with a plain BEGIN instead of
	// BEGIN IMMEDIATE, so it takes no write lock.
	readTx: &sql.TxOptions{ReadOnly: true},
}

// sqliteCode returns the extended result code of a SQLite error, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}
