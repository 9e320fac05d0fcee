package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"

	"github.com/jupygo/jupygo/internal/lazy"
)

// dialect holds everything that differs between the SQL databases the
// store supports. Queries elsewhere in the package use only SQL that all
// of them accept: $1-style parameters, RETURNING, ON CONFLICT, and text
// columns for timestamps and JSON.
type dialect struct {
	name string
	// schema replaces the type placeholders of the migration files:
	// {{id}} for an auto-incrementing primary key, {{text}} for text that
	// compares and sorts bytewise, and {{blob}} for bytes.
	schema *strings.Replacer
	// isUniqueViolation and isForeignKeyViolation classify driver errors.
	isUniqueViolation     func(error) bool
	isForeignKeyViolation func(error) bool
	// isRetryable reports whether a failed write transaction may succeed
	// when it runs again, as after a serialization failure. Nil means
	// never.
	isRetryable func(error) bool
	// readTx are the options of the transactions of reading methods. They
	// must give every query of the transaction the same snapshot.
	readTx *sql.TxOptions
	// writeTx are the options of the transactions of writing methods.
	writeTx *sql.TxOptions
	// lockMigrations begins each migration transaction, so that a step
	// waits for any other process's step and then reads its result. It is
	// "" where the write transaction locks the database by itself.
	lockMigrations string
	// lockTokenPrefix takes a lock that the transaction holds until it
	// ends, on the token prefix $1, so that two CreateToken calls with one
	// caller-supplied token cannot both find it new. It is "" where write
	// transactions run one at a time anyway.
	lockTokenPrefix string
	// countTables counts the tables named $1 in the database's schema.
	countTables string
}

var sqliteDialectValue lazy.Value[*dialect]

// sqliteDialect returns the dialect of SQLite through
// github.com/mattn/go-sqlite3. AUTOINCREMENT keeps the IDs of deleted rows
// from being reused, so a stale token ID can never name a newer token.
func sqliteDialect() *dialect {
	return sqliteDialectValue.Get(func() *dialect {
		return &dialect{
			name:        "sqlite",
			countTables: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
			schema: strings.NewReplacer(
				"{{id}}", "INTEGER PRIMARY KEY AUTOINCREMENT",
				"{{text}}", "TEXT",
				"{{blob}}", "BLOB",
			),
			isUniqueViolation: func(err error) bool {
				code := sqliteCode(err)
				return code == sqlite3.ErrConstraintUnique ||
					code == sqlite3.ErrConstraintPrimaryKey
			},
			isForeignKeyViolation: func(err error) bool {
				return sqliteCode(err) == sqlite3.ErrConstraintForeignKey
			},
			// A SQLite transaction reads one snapshot whatever its isolation
			// level, and a read-only one begins with a plain BEGIN instead of
			// BEGIN IMMEDIATE, so it takes no write lock.
			readTx: &sql.TxOptions{ReadOnly: true},
			// Writers need no options: the store's one writer connection runs
			// them one after another, and BEGIN IMMEDIATE makes them wait for
			// other processes.
		}
	})
}

// sqliteCode returns the extended result code of a SQLite error, or 0.
func sqliteCode(err error) sqlite3.ErrNoExtended {
	var e sqlite3.Error
	if errors.As(err, &e) {
		return e.ExtendedCode
	}
	return 0
}

var postgresDialectValue lazy.Value[*dialect]

// postgresDialect returns the dialect of PostgreSQL through the store's
// driver on github.com/jackc/pgx/v5/pgconn.
func postgresDialect() *dialect {
	return postgresDialectValue.Get(func() *dialect {
		return &dialect{
			name: "postgresql",
			schema: strings.NewReplacer(
				// An identity column's sequence never hands out a value twice, so
				// like SQLite's AUTOINCREMENT it never reuses a deleted row's ID.
				"{{id}}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
				// The "C" collation compares bytes, as SQLite does, whatever the
				// database's default collation. Names then sort alike in both
				// databases, and timestamps compare as the times they encode.
				"{{text}}", `TEXT COLLATE "C"`,
				"{{blob}}", "BYTEA",
			),
			isUniqueViolation: func(err error) bool {
				return postgresCode(err) == "23505" // unique_violation
			},
			isForeignKeyViolation: func(err error) bool {
				return postgresCode(err) == "23503" // foreign_key_violation
			},
			// PostgreSQL ends one of two deadlocked transactions. READ COMMITTED
			// transactions see no serialization failures, unless the server's
			// configuration changes the level, but those are retried as well.
			isRetryable: func(err error) bool {
				switch postgresCode(err) {
				case "40001", "40P01": // serialization_failure, deadlock_detected
					return true
				}
				return false
			},
			// A read-only REPEATABLE READ transaction reads one snapshot and never
			// fails with a serialization error.
			readTx: &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
			// READ COMMITTED is enough for the write methods, which concurrent
			// hubs or goroutines may run at once, because each either changes rows
			// in one statement or relies on constraints. An UPDATE that moves
			// last_activity forward computes the new value from the row as the
			// latest transaction left it. ConsumeOAuthCode's DELETE ... RETURNING
			// succeeds for one caller, and upserts with ON CONFLICT are atomic. A
			// row looked up before an INSERT is kept by its foreign key, and one
			// deleted concurrently fails the INSERT with foreign_key_violation.
			// Each statement also reads what was committed before it started, which
			// the locks below need. SERIALIZABLE would abort and retry many
			// transactions that these rules already make safe, such as concurrent
			// updates of one token's last activity.
			writeTx:         &sql.TxOptions{Isolation: sql.LevelReadCommitted},
			lockMigrations:  fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrationLockKey),
			lockTokenPrefix: fmt.Sprintf("SELECT pg_advisory_xact_lock(%d, hashtext($1))", tokenLockClass),
			countTables: "SELECT COUNT(*) FROM information_schema.tables " +
				"WHERE table_schema = current_schema() AND table_name = $1",
		}
	})
}

// Keys of the PostgreSQL advisory locks that the store takes, which the
// transaction that takes one holds until it ends. migrationLockKey is
// "jupygo" in ASCII, and tokenLockClass, "jpy" in ASCII, is the first of
// the two keys of a token prefix's lock. PostgreSQL keeps locks with one
// key apart from locks with two.
const (
	migrationLockKey int64 = 0x6a757079676f
	tokenLockClass   int32 = 0x6a7079
)

// postgresCode returns the SQLSTATE code of a PostgreSQL error, or "".
func postgresCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
