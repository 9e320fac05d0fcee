package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// sqlStore implements Store on database/sql. The SQL it sends is accepted
// by SQLite and PostgreSQL alike, and d holds what differs between them.
type sqlStore struct {
	// w is the pool that every write goes through. For SQLite it has one
	// connection, so writers queue in Go instead of failing with
	// SQLITE_BUSY.
	w *sql.DB
	// r is the pool for reads. It is w itself when the database cannot be
	// shared between connections, as with SQLite's :memory:.
	r   *sql.DB
	d   *dialect
	log *slog.Logger
	now func() time.Time
	// exclusive is the connection that holds the session-level advisory
	// lock of Options.Exclusive, or nil. Once the store is open, only the
	// goroutine of watchExclusive uses it, until it closes watchDone.
	exclusive *sql.Conn
	lost      chan error    // see Lost
	stopWatch chan struct{} // closed by Close to end watchExclusive
	watchDone chan struct{} // closed when watchExclusive returns
}

// querier is the query interface that *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Close closes both pools.
func (s *sqlStore) Close() error {
	var errs []error
	if s.stopWatch != nil {
		close(s.stopWatch)
		<-s.watchDone
	}
	if s.exclusive != nil {
		// PostgreSQL frees a session's locks when its backend exits, which
		// can come after Close returns. The unlock frees the lock at once,
		// so that another hub can open the database as soon as this one
		// has closed it.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := s.exclusive.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, exclusiveLockKey)
		cancel()
		if err != nil {
			s.log.Warn("exclusive lock not released before close", "err", err)
		}
		errs = append(errs, s.exclusive.Close())
	}
	if s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	return errors.Join(errs...)
}

// write runs fn in a transaction on the writer pool and commits it when fn
// returns nil. fn must do all its queries through tx: with one connection
// in the pool, a query through s.r or s.w would wait for tx forever. When
// the database aborts the transaction for a conflict with a concurrent
// one, such as a deadlock, write runs fn again after a short random pause,
// so fn must set every result afresh.
func (s *sqlStore) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.writeOnce(ctx, fn)
		if err == nil || s.d.isRetryable == nil || !s.d.isRetryable(err) {
			return err
		}
		if attempt == maxWriteAttempts {
			return fmt.Errorf("transaction aborted %d times for conflicts with concurrent ones: %w",
				attempt, err)
		}
		s.log.Debug("transaction retried", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(retryPause(attempt)):
		}
	}
}

// maxWriteAttempts bounds how often write runs a transaction that the
// database aborts for a conflict with a concurrent one.
const maxWriteAttempts = 20

// retryPause returns a random pause before attempt+1, up to a maximum
// that doubles with each attempt from 1ms to 64ms. The randomness keeps
// the transactions that conflicted from meeting again.
func retryPause(attempt int) time.Duration {
	max := time.Millisecond << min(attempt-1, 6)
	return time.Duration(rand.Int64N(int64(max)))
}

// writeOnce runs fn in one transaction.
func (s *sqlStore) writeOnce(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, s.d.writeTx)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing transaction: %w", err)
	}
	return nil
}

// read runs fn in a read-only transaction on the reader pool, so that the
// queries of one method see one state of the database. Like write, fn must
// do all its queries through tx.
func (s *sqlStore) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, s.d.readTx)
	if err != nil {
		return fmt.Errorf("beginning read transaction: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// readValue runs fn with read and returns its value.
func readValue[T any](ctx context.Context, s *sqlStore, fn func(tx *sql.Tx) (T, error)) (T, error) {
	var v T
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	return v, err
}

// timestamp returns the current time as the store keeps it.
func (s *sqlStore) timestamp() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// classify turns a driver error into one that also wraps ErrExists or
// ErrNotFound when it is a unique or foreign key violation.
func (s *sqlStore) classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return &dbError{sentinel: ErrNotFound, err: err}
	case s.d.isUniqueViolation(err):
		return &dbError{sentinel: ErrExists, err: err}
	case s.d.isForeignKeyViolation(err):
		return &dbError{sentinel: ErrNotFound, err: err}
	}
	return err
}

// dbError is a driver error classified as one of the package's sentinels.
// Its message is the sentinel's, and both stay reachable by errors.Is and
// errors.As.
type dbError struct {
	sentinel error
	err      error
}

func (e *dbError) Error() string   { return e.sentinel.Error() }
func (e *dbError) Unwrap() []error { return []error{e.sentinel, e.err} }

// notFound returns an error wrapping ErrNotFound that names what is missing.
func notFound(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrNotFound)
}

// invalid returns an error wrapping ErrInvalid.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalid)
}

// timeLayout is the stored form of timestamps: UTC with a fixed width, so
// that comparing two of them as text compares the times.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// Bounds of the stored times. A year outside 0001 to 9999 would change the
// width of the text and break the comparisons.
func minStoredTime() time.Time { return time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC) }

func maxStoredTime() time.Time { return time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC) }

// timeArg returns t as a query argument, or NULL when t is zero. Times
// outside the years 0001 to 9999 are clamped to those bounds.
func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	if t.Before(minStoredTime()) {
		t = minStoredTime()
	}
	if t.After(maxStoredTime()) {
		t = maxStoredTime()
	}
	return t.Format(timeLayout)
}

// timeCol scans a nullable timestamp column into *t, storing the zero time
// for NULL.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	var text string
	switch v := v.(type) {
	case nil:
		*c.t = time.Time{}
		return nil
	case string:
		text = v
	case []byte:
		text = string(v)
	default:
		return fmt.Errorf("scanning timestamp: unexpected %T", v)
	}
	t, err := time.Parse(timeLayout, text)
	if err != nil {
		return fmt.Errorf("scanning timestamp: %w", err)
	}
	*c.t = t
	return nil
}

// textCol scans a nullable text column into *s, storing "" for NULL.
type textCol struct{ s *string }

func (c textCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.s = ""
	case string:
		*c.s = v
	case []byte:
		*c.s = string(v)
	default:
		return fmt.Errorf("scanning text: unexpected %T", v)
	}
	return nil
}

// textArg returns s as a query argument, or NULL when s is "".
func textArg(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// rawCol scans a nullable text or blob column into *b, storing nil for
// NULL.
type rawCol struct{ b *[]byte }

func (c rawCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.b = nil
	case string:
		*c.b = []byte(v)
	case []byte:
		*c.b = append([]byte{}, v...)
	default:
		return fmt.Errorf("scanning bytes: unexpected %T", v)
	}
	return nil
}

// jsonArg returns raw JSON as a text query argument, or NULL when raw is
// nil.
func jsonArg(raw []byte) any {
	if raw == nil {
		return nil
	}
	return string(raw)
}

// checkJSON returns ErrInvalid unless raw is nil or valid JSON.
func checkJSON(field string, raw []byte) error {
	if raw != nil && !json.Valid(raw) {
		return invalid("%s is not valid JSON", field)
	}
	return nil
}

// checkObject returns ErrInvalid unless raw is a JSON object.
func checkObject(field string, raw []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return invalid("%s is not a JSON object", field)
	}
	return nil
}

// listArg returns a list of strings as a JSON array query argument.
func listArg(list []string) string {
	if list == nil {
		list = []string{}
	}
	b, _ := json.Marshal(list)
	return string(b)
}

// listCol scans a JSON array of strings into *l.
type listCol struct{ l *[]string }

func (c listCol) Scan(v any) error {
	var text []byte
	switch v := v.(type) {
	case nil:
		*c.l = []string{}
		return nil
	case string:
		text = []byte(v)
	case []byte:
		text = v
	default:
		return fmt.Errorf("scanning list: unexpected %T", v)
	}
	list := []string{}
	if err := json.Unmarshal(text, &list); err != nil {
		return fmt.Errorf("scanning list: %w", err)
	}
	*c.l = list
	return nil
}

// activityExpr returns the SQL that moves column forward to the argument
// $n, keeping a later value already stored.
func activityExpr(column string, n int) string {
	p := "$" + strconv.Itoa(n)
	return fmt.Sprintf("CASE WHEN %[1]s IS NULL OR %[1]s < %[2]s THEN %[2]s ELSE %[1]s END",
		column, p)
}

// updateBuilder collects the assignments of an UPDATE statement.
type updateBuilder struct {
	sets []string
	args []any
}

// set assigns arg to column.
func (b *updateBuilder) set(column string, arg any) {
	b.args = append(b.args, arg)
	b.sets = append(b.sets, fmt.Sprintf("%s = $%d", column, len(b.args)))
}

// raise moves the timestamp column forward to t.
func (b *updateBuilder) raise(column string, t time.Time) {
	b.args = append(b.args, timeArg(t))
	b.sets = append(b.sets, column+" = "+activityExpr(column, len(b.args)))
}

// exec runs the UPDATE of table for the row whose id is id, and returns
// ErrNotFound when no row has it. It does nothing when no column is set.
func (b *updateBuilder) exec(ctx context.Context, q querier, table string, id int64) error {
	if len(b.sets) == 0 {
		return nil
	}
	args := append(b.args, id)
	query := fmt.Sprintf("UPDATE %s SET %s WHERE id = $%d",
		table, strings.Join(b.sets, ", "), len(args))
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return sql.ErrNoRows
	}
	return nil
}

// placeholders returns "$from, $from+1, ..." for n arguments.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(from+i))
	}
	return b.String()
}

// pageClause returns the LIMIT and OFFSET clause for p, with its arguments
// numbered from n.
func pageClause(p Page, n int) (string, []any) {
	var clause string
	var args []any
	if p.Limit > 0 {
		args = append(args, p.Limit)
		clause += fmt.Sprintf(" LIMIT $%d", n)
		n++
	}
	if p.Offset > 0 {
		if p.Limit <= 0 {
			// SQLite requires a LIMIT before OFFSET; no real table has
			// this many rows.
			clause += " LIMIT 9223372036854775807"
		}
		args = append(args, p.Offset)
		clause += fmt.Sprintf(" OFFSET $%d", n)
	}
	return clause, args
}

// lookupID returns the id of the row of table whose name column is name.
func lookupID(ctx context.Context, q querier, table, name string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, "SELECT id FROM "+table+" WHERE name = $1", name).Scan(&id)
	return id, err
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	list := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	return list, rows.Err()
}

// inChunk is how many IDs one IN (...) list holds, far below the
// parameter limits of SQLite (32766) and PostgreSQL (65535).
const inChunk = 500

// namesByOwner runs query, a format with one %s for an IN list of ids and
// selecting (owner id, name) rows, and groups the names by owner.
func namesByOwner(ctx context.Context, q querier, query string, ids []int64) (map[int64][]string, error) {
	names := make(map[int64][]string)
	for start := 0; start < len(ids); start += inChunk {
		chunk := ids[start:min(start+inChunk, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := q.QueryContext(ctx, fmt.Sprintf(query, placeholders(1, len(chunk))), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, err
			}
			names[id] = append(names[id], name)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return names, nil
}

// nonNil returns list, or an empty list when it is nil.
func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// deleteWhere runs a DELETE statement and returns sql.ErrNoRows when it
// deleted nothing.
func deleteWhere(ctx context.Context, q querier, query string, args ...any) error {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return sql.ErrNoRows
	}
	return nil
}
