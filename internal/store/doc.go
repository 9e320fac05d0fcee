// Package store is the hub's state database: users, groups, roles,
// servers, API tokens, services, OAuth clients and authorization codes,
// and the shares of servers with their share codes. The hub keeps all of its state here and none of it only in
// memory, so a restarted hub finds its running servers, tokens and users'
// cookie IDs again.
//
// Open takes a database URL as JupyterHub's db_url setting spells it
// (see ParseURL) and returns a Store on SQLite or PostgreSQL. The
// conformance suite in the storetest package runs against both.
//
// # Model
//
// Users, groups, services and roles are addressed by unique name, API
// tokens by numeric ID, OAuth clients by their client ID, and servers by
// their user's name and the server name ("" for the default server).
// Entities that belong to another are deleted with it: deleting a user
// deletes the user's servers, tokens, authorization codes, sessions,
// known sign-in addresses, memberships and role grants, and deleting an OAuth client deletes the tokens and codes
// issued to it. A share grants a user or a group scopes on one server and
// references all three by ID, so deleting any of them deletes the share,
// and deleting the server or its owner deletes the server's share codes.
// Roles are granted directly to users, groups, services and
// tokens. RolesOf returns only direct grants, so the hub adds the roles of
// a user's groups itself.
//
// A login cookie carries the user's cookie ID, as in JupyterHub, which
// RotateCookieID replaces to end every session at once. It also carries a
// session ID, which names a row of Sessions: logging out deletes the row,
// so a copied cookie stops working too. OAuth tokens carry the session ID
// as well, and DeleteTokens revokes them by it when the session logs out.
// EndOtherSessions ends all but one session of a user together with their
// tokens, as a password change needs.
//
// Update methods take structs of pointer fields, where nil leaves a field
// as it is. LastActivity fields only move forward: setting an earlier time
// than the stored one is ignored, so concurrent activity reports never
// move it back.
//
// # Secrets
//
// API tokens are stored as JupyterHub stores them: a four-character
// prefix in clear to find candidate rows, and "sha512:ROUNDS:SALT:DIGEST",
// the salted SHA-512 of the whole token. Tokens made by GenerateToken
// have 128 random bits and are hashed once. Tokens supplied by the caller
// and OAuth client secrets may be guessable, so they get 16384 rounds. Digests are
// compared in constant time. OAuth authorization codes are stored as
// their SHA-256 and looked up by it. Share codes, 256 random bits, are
// stored like generated tokens. No clear token, secret or code is ever
// written to the database, and only CreateToken, CreateOAuthCode and
// CreateShareCode return one, once. Password hashing for local accounts is the caller's
// job: HashPassword and CheckPassword wrap bcrypt. User prints and logs
// without its cookie ID, password hash and auth state.
//
// FindToken treats an expired token as unknown and deletes it. GetToken
// and ListTokens hide expired tokens, GetSession hides expired sessions,
// FindShareCode and ExchangeShareCode delete an expired share code and
// ListShareCodes hides them, and PurgeExpired deletes all expired tokens,
// codes and sessions for a periodic clean-up.
//
// # Time
//
// Timestamps are stored as fixed-width UTC text with microseconds
// (2006-01-02T15:04:05.000000Z), which sorts like the times it encodes
// when text compares bytewise, as it does in both databases (see Dialects). Times read back are in UTC and truncated to
// microseconds, and times outside the years 0001 to 9999 are stored as
// those bounds. A zero time.Time stands for NULL: a user never seen, a
// token that never expires, a stopped server. Options.Now replaces the
// clock for tests.
//
// # Errors
//
// Errors wrap ErrNotFound, ErrExists or ErrInvalid where those apply, and
// carry the entity's name as context ("creating user \"alice\": already
// exists"). A wrong token, secret or code returns ErrNotFound, so that a
// caller cannot tell a wrong value from a missing one.
//
// # Concurrency
//
// A Store is safe for concurrent use. Each method runs in one transaction,
// so the queries of a list and its total see the same rows. FindToken is
// the exception: it deletes an expired token in a second transaction.
// With SQLite, all writes go through one connection, so writers of one
// process queue in Go and never fail with SQLITE_BUSY. Reads use a
// separate pool of read-only connections, which WAL mode lets run beside
// the writer. The writer begins its transactions with BEGIN IMMEDIATE,
// and a busy timeout of ten seconds covers other processes that lock the
// file, such as a second hub, a backup or the sqlite3 shell. Of concurrent
// ConsumeOAuthCode calls with one code, exactly one succeeds, because the
// code is deleted by the statement that reads it.
//
// An in-memory database (sqlite:// or sqlite:///:memory:) lives in a
// single connection, which serves reads and writes alike, and disappears
// with the Store. Two in-memory stores never share data.
//
// With PostgreSQL, one pool of up to ten connections serves reads and
// writes, and several hubs may share a database. A method that reads with
// several queries runs them in one read-only REPEATABLE READ transaction,
// which sees one snapshot. Writes run in READ COMMITTED transactions,
// which PostgreSQL runs side by side, and each write method stays atomic
// because it changes rows in one statement or relies on constraints. A
// last activity moves forward in one UPDATE that reads the row as the
// latest writer left it, so concurrent token use keeps the latest time.
// UpdateServer changes a server's row in one statement, but it applies
// whatever it is given: the hub, not the store, keeps two starts of one
// server apart, and only within one process. The DELETE ... RETURNING of
// ConsumeOAuthCode succeeds for exactly one caller. CreateToken with a
// caller-supplied token takes an advisory lock on the token's prefix
// before it checks that the token is new. A transaction that PostgreSQL
// aborts for a deadlock or a serialization failure runs again, up to 20
// times, after a random pause of up to 64 milliseconds.
//
// # Migrations
//
// The schema is built by numbered SQL files embedded from migrations/,
// applied in order, each in its own transaction with its row in the
// schema_migrations table. A failed migration leaves the database at the
// previous version. Each transaction first takes a lock that every
// migrating process takes, so that hubs that start at once apply each
// step once: SQLite's write lock, or with PostgreSQL the advisory lock
// pg_advisory_xact_lock(117052630722415), "jupygo" in ASCII. Open refuses,
// with ErrSchemaTooNew, a database whose version is newer than the files
// this build embeds, so an older jupygo never writes to a schema it does
// not know.
//
// # Dialects
//
// Queries use only SQL that SQLite and PostgreSQL both accept: $1-style
// parameters, RETURNING, ON CONFLICT, and text columns for timestamps and
// JSON. What differs is kept in the dialect type: the types that the
// migrations' placeholders stand for, the classification of errors, the
// transaction options and the locks. In PostgreSQL every text column of
// the schema has the "C" collation, so names sort and timestamps compare
// bytewise, as in SQLite, whatever collation the database has by default.
//
// # PostgreSQL connections
//
// The store connects through its own database/sql driver on pgconn, the
// wire-protocol layer of github.com/jackc/pgx/v5, which reads the db_url
// as libpq does. Settings that the URL leaves out come from libpq's
// environment variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE,
// PGSSLMODE and the others) and from the password file ~/.pgpass.
// Connection attempts time out after ten seconds unless connect_timeout or
// PGCONNECT_TIMEOUT sets another bound. Open connects once before it
// migrates, and its error names the database, address and user and says
// whether the connection was refused, timed out, failed to authenticate
// or found no such database. No error repeats the password.
//
// Server sharing (JupyterHub 5's shares and share codes) is not stored
// yet. It will be a new migration with tables that reference servers and
// users or groups by ID.
package store
