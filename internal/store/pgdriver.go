package store

import (
	"context"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// pgConnector is the store's database/sql driver for PostgreSQL. It runs
// on pgconn, the wire-protocol layer of github.com/jackc/pgx/v5, without
// pgx's type system: the store keeps timestamps and JSON in text columns,
// so rows hold only text, integers, booleans and bytes. pgconn still reads
// the db_url, libpq's environment variables and password files, and tries
// fallback hosts, as libpq does. Leaving out pgx's type map saves every
// jupygo process, hub or not, about a megabyte of mapped memory at start.
type pgConnector struct {
	cfg *pgconn.Config
}

func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := pgconn.ConnectConfig(ctx, c.cfg)
	if err != nil {
		return nil, err
	}
	return &pgConn{conn: conn}, nil
}

func (c *pgConnector) Driver() driver.Driver { return pgDriver{} }

// pgDriver is the driver of pgConnector. database/sql requires a connector
// to return a driver, but the store never opens PostgreSQL by name.
type pgDriver struct{}

func (pgDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("the PostgreSQL driver opens connections through its connector only")
}

// pgConn is one connection to PostgreSQL.
type pgConn struct {
	conn *pgconn.PgConn
}

var (
	_ driver.ExecerContext                  = (*pgConn)(nil)
	_ driver.QueryerContext                 = (*pgConn)(nil)
	_ driver.ConnBeginTx                    = (*pgConn)(nil)
	_ driver.Pinger                         = (*pgConn)(nil)
	_ driver.SessionResetter                = (*pgConn)(nil)
	_ driver.Validator                      = (*pgConn)(nil)
	_ driver.NamedValueChecker              = (*pgConn)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*pgRows)(nil)
)

// Prepare returns an error. database/sql calls it only for statements that
// the store prepares itself, and the store prepares none. Queries go through
// ExecContext and QueryContext.
func (c *pgConn) Prepare(string) (driver.Stmt, error) {
	return nil, errors.New("the PostgreSQL driver does not prepare statements")
}

func (c *pgConn) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.conn.Close(ctx)
}

// Begin is the legacy form of BeginTx.
func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	stmt := "BEGIN"
	switch level := isolationLevel(opts.Isolation); level {
	case "":
		return nil, fmt.Errorf("PostgreSQL has no isolation level %d", opts.Isolation)
	case "default":
	default:
		stmt += " ISOLATION LEVEL " + level
	}
	if opts.ReadOnly {
		stmt += " READ ONLY"
	}
	if err := c.exec(ctx, stmt); err != nil {
		return nil, err
	}
	return &pgTx{c: c}, nil
}

// isolationLevel returns the SQL name of a database/sql isolation level
// ("default" for the server's default), or "" for one that PostgreSQL
// lacks.
func isolationLevel(level driver.IsolationLevel) string {
	switch level {
	case 0: // sql.LevelDefault
		return "default"
	case 1: // sql.LevelReadUncommitted
		return "READ UNCOMMITTED"
	case 2: // sql.LevelReadCommitted
		return "READ COMMITTED"
	case 4: // sql.LevelRepeatableRead
		return "REPEATABLE READ"
	case 6: // sql.LevelSerializable
		return "SERIALIZABLE"
	}
	return ""
}

// exec runs statements without parameters through the simple protocol.
func (c *pgConn) exec(ctx context.Context, sql string) error {
	_, err := c.execSimple(ctx, sql)
	return err
}

// execSimple runs one or more statements without parameters through the
// simple protocol, which accepts several statements in one string, as in
// the migration files. It returns the last statement's command tag.
func (c *pgConn) execSimple(ctx context.Context, sql string) (pgconn.CommandTag, error) {
	results, err := c.conn.Exec(ctx, sql).ReadAll()
	if err != nil {
		return pgconn.CommandTag{}, c.classify(err)
	}
	if len(results) == 0 {
		return pgconn.CommandTag{}, nil
	}
	return results[len(results)-1].CommandTag, nil
}

// classify returns driver.ErrBadConn for an error that left the statement
// unsent, so that database/sql retries it on another connection.
func (c *pgConn) classify(err error) error {
	if pgconn.SafeToRetry(err) {
		return driver.ErrBadConn
	}
	return err
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) == 0 {
		tag, err := c.execSimple(ctx, query)
		if err != nil {
			return nil, err
		}
		return driver.RowsAffected(tag.RowsAffected()), nil
	}
	values, formats, err := encodeParams(args)
	if err != nil {
		return nil, err
	}
	tag, err := c.conn.ExecParams(ctx, query, values, nil, formats, nil).Close()
	if err != nil {
		return nil, c.classify(err)
	}
	return driver.RowsAffected(tag.RowsAffected()), nil
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	values, formats, err := encodeParams(args)
	if err != nil {
		return nil, err
	}
	rr := c.conn.ExecParams(ctx, query, values, nil, formats, nil)
	// The field descriptions arrive before the first row. So an error such
	// as a syntax error or a missing table is returned here, not at the
	// first Next.
	fields := rr.FieldDescriptions()
	if fields == nil {
		if _, err := rr.Close(); err != nil {
			return nil, c.classify(err)
		}
		return &pgRows{rr: rr, closed: true}, nil
	}
	return &pgRows{rr: rr, fields: fields}, nil
}

func (c *pgConn) Ping(ctx context.Context) error {
	if err := c.conn.Ping(ctx); err != nil {
		return driver.ErrBadConn
	}
	return nil
}

// ResetSession is called before a pooled connection is reused.
func (c *pgConn) ResetSession(context.Context) error {
	if c.conn.IsClosed() {
		return driver.ErrBadConn
	}
	return nil
}

// IsValid reports whether the connection may go back to the pool: not
// closed by a cancelled query or a network error, and outside any
// transaction.
func (c *pgConn) IsValid() bool {
	return !c.conn.IsClosed() && c.conn.TxStatus() == 'I'
}

// CheckNamedValue accepts the types of driver.Value. database/sql's
// default conversion has already turned the store's arguments into those.
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	switch nv.Value.(type) {
	case nil, int64, float64, bool, []byte, string, time.Time:
		return nil
	}
	return driver.ErrSkip
}

// encodeParams renders arguments in PostgreSQL's text format, except
// bytes, which go in binary format: that is their own value for a bytea
// and for a text parameter alike. The server infers each parameter's
// type from the statement.
func encodeParams(args []driver.NamedValue) ([][]byte, []int16, error) {
	if len(args) == 0 {
		return nil, nil, nil
	}
	values := make([][]byte, len(args))
	formats := make([]int16, len(args))
	for i, arg := range args {
		if arg.Name != "" {
			return nil, nil, fmt.Errorf("PostgreSQL parameters are positional; got the named parameter %q", arg.Name)
		}
		switch v := arg.Value.(type) {
		case nil:
			// A nil value is NULL.
		case int64:
			values[i] = strconv.AppendInt(nil, v, 10)
		case float64:
			values[i] = strconv.AppendFloat(nil, v, 'g', -1, 64)
		case bool:
			values[i] = []byte(strconv.FormatBool(v))
		case string:
			values[i] = []byte(v)
		case []byte:
			values[i] = v
			if v == nil {
				values[i] = []byte{}
			}
			formats[i] = 1
		case time.Time:
			values[i] = v.AppendFormat(nil, "2006-01-02 15:04:05.999999999Z07:00")
		default:
			return nil, nil, fmt.Errorf("parameter $%d: the PostgreSQL driver cannot send a %T", i+1, v)
		}
	}
	return values, formats, nil
}

// pgRows is the result of a query, read row by row.
type pgRows struct {
	rr     *pgconn.ResultReader
	fields []pgconn.FieldDescription
	closed bool
}

func (r *pgRows) Columns() []string {
	names := make([]string, len(r.fields))
	for i, f := range r.fields {
		names[i] = f.Name
	}
	return names
}

// ColumnTypeDatabaseTypeName names a column's type by its OID, as
// PostgreSQL's catalogue does for the types that decodeValue converts.
func (r *pgRows) ColumnTypeDatabaseTypeName(i int) string {
	switch r.fields[i].DataTypeOID {
	case oidBool:
		return "BOOL"
	case oidBytea:
		return "BYTEA"
	case oidInt8:
		return "INT8"
	case oidInt2:
		return "INT2"
	case oidInt4:
		return "INT4"
	case oidOID:
		return "OID"
	case oidFloat4:
		return "FLOAT4"
	case oidFloat8:
		return "FLOAT8"
	case oidText:
		return "TEXT"
	}
	return ""
}

func (r *pgRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	_, err := r.rr.Close()
	return err
}

func (r *pgRows) Next(dest []driver.Value) error {
	if r.closed {
		return io.EOF
	}
	if !r.rr.NextRow() {
		r.closed = true
		if _, err := r.rr.Close(); err != nil {
			return err
		}
		return io.EOF
	}
	row := r.rr.Values()
	if len(row) != len(dest) {
		return fmt.Errorf("PostgreSQL sent %d columns, want %d", len(row), len(dest))
	}
	for i, raw := range row {
		v, err := decodeValue(r.fields[i].DataTypeOID, raw)
		if err != nil {
			return fmt.Errorf("column %q: %w", r.fields[i].Name, err)
		}
		dest[i] = v
	}
	return nil
}

// OIDs of the built-in types that decodeValue converts.
const (
	oidBool   = 16
	oidBytea  = 17
	oidInt8   = 20
	oidInt2   = 21
	oidInt4   = 23
	oidText   = 25
	oidOID    = 26
	oidFloat4 = 700
	oidFloat8 = 701
)

// decodeValue converts a column value in PostgreSQL's text format to a
// driver.Value: integers to int64, floats to float64, booleans to bool,
// bytea to []byte, and every other type to its text as a string. A nil
// raw value is NULL. raw is only valid until the next row, so the result
// never shares its memory.
func decodeValue(oid uint32, raw []byte) (driver.Value, error) {
	if raw == nil {
		return nil, nil
	}
	switch oid {
	case oidBool:
		switch string(raw) {
		case "t":
			return true, nil
		case "f":
			return false, nil
		}
		return nil, fmt.Errorf("invalid boolean %q", truncateForError(raw))
	case oidInt2, oidInt4, oidInt8, oidOID:
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid integer %q", truncateForError(raw))
		}
		return n, nil
	case oidFloat4, oidFloat8:
		f, err := decodeFloat(raw)
		if err != nil {
			return nil, err
		}
		return f, nil
	case oidBytea:
		b, err := decodeBytea(raw)
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	return string(raw), nil
}

// decodeFloat parses a float in text format, where PostgreSQL spells the
// special values Infinity, -Infinity and NaN.
func decodeFloat(raw []byte) (float64, error) {
	switch string(raw) {
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || strings.ContainsAny(string(raw), "_xXpP") {
		return 0, fmt.Errorf("invalid float %q", truncateForError(raw))
	}
	return f, nil
}

// decodeBytea decodes a bytea in the hex text format, \x followed by two
// hex digits per byte, which servers use unless bytea_output is set to
// escape.
func decodeBytea(raw []byte) ([]byte, error) {
	digits, ok := strings.CutPrefix(string(raw), `\x`)
	if !ok {
		return nil, fmt.Errorf("bytea not in hex format (is the server's bytea_output set to escape?): %q",
			truncateForError(raw))
	}
	b, err := hex.DecodeString(digits)
	if err != nil {
		return nil, fmt.Errorf("invalid bytea: %v", err)
	}
	return b, nil
}

// truncateForError cuts a value to a length fit for an error message.
func truncateForError(raw []byte) string {
	const max = 40
	if len(raw) > max {
		return string(raw[:max]) + "..."
	}
	return string(raw)
}

// pgTx is a transaction begun by BeginTx.
type pgTx struct {
	c *pgConn
}

// errCommitRolledBack is the error of a commit that PostgreSQL turned into
// a rollback, because a statement of the transaction had failed.
var errCommitRolledBack = errors.New("PostgreSQL rolled the transaction back instead of committing it")

func (tx *pgTx) Commit() error {
	tag, err := tx.c.execSimple(context.Background(), "COMMIT")
	if err != nil {
		return err
	}
	if tag.String() == "ROLLBACK" {
		return errCommitRolledBack
	}
	return nil
}

func (tx *pgTx) Rollback() error {
	if tx.c.conn.IsClosed() {
		return driver.ErrBadConn
	}
	return tx.c.exec(context.Background(), "ROLLBACK")
}
