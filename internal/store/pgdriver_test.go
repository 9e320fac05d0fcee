package store

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/store/pgtest"
)

// openPGDriver opens a database/sql pool on the store's driver.
func openPGDriver(t *testing.T, dbURL string) *sql.DB {
	t.Helper()
	cfg, err := postgresConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(&pgConnector{cfg: cfg})
	t.Cleanup(func() { db.Close() })
	return db
}

// TestPGDriver runs the driver against a real PostgreSQL: every type it
// converts both ways, NULLs, statements that fail where they should, and
// connections that recover after a cancelled query.
func TestPGDriver(t *testing.T) {
	srv := pgtest.Start(t)
	db := openPGDriver(t, srv.CreateDatabase(t))
	ctx := t.Context()

	t.Run("Values", func(t *testing.T) {
		var (
			b        bool
			i        int64
			f        float64
			blob     []byte
			empty    []byte
			null     []byte
			text     string
			nullText sql.NullString
			inf      float64
			small    int16
		)
		err := db.QueryRowContext(ctx, `SELECT $1::bool, $2::int8, $3::float8, $4::bytea, $5::bytea,
			$6::bytea, $7::text, $8::text, 'Infinity'::float4, $9::int2`,
			true, int64(math.MinInt64), 0.1, []byte{0, 1, 0xfe, 0xff}, []byte{}, nil, "é\x01'\"", nil,
			int16(-7)).Scan(&b, &i, &f, &blob, &empty, &null, &text, &nullText, &inf, &small)
		if err != nil {
			t.Fatal(err)
		}
		if !b || i != math.MinInt64 || f != 0.1 || !bytes.Equal(blob, []byte{0, 1, 0xfe, 0xff}) ||
			text != "é\x01'\"" || nullText.Valid || !math.IsInf(inf, 1) || small != -7 {
			t.Errorf("got %v %v %v %x %q %v %v %v, want the values sent", b, i, f, blob, text, nullText,
				inf, small)
		}
		if empty == nil || len(empty) != 0 {
			t.Errorf("empty bytea read as %#v, want an empty, non-nil slice", empty)
		}
		if null != nil {
			t.Errorf("NULL bytea read as %#v, want nil", null)
		}
	})

	t.Run("Exec", func(t *testing.T) {
		// Without parameters, several statements run as one, as in the
		// migration files.
		if _, err := db.ExecContext(ctx, `CREATE TABLE t (id int PRIMARY KEY, v text);
			INSERT INTO t VALUES (1, 'a'), (2, 'b')`); err != nil {
			t.Fatal(err)
		}
		res, err := db.ExecContext(ctx, "UPDATE t SET v = $1 WHERE id >= $2", "c", 1)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := res.RowsAffected(); n != 2 {
			t.Errorf("RowsAffected = %d, want 2", n)
		}
		_, err = db.ExecContext(ctx, "INSERT INTO t VALUES ($1, $2)", 1, "dup")
		if postgresCode(err) != "23505" {
			t.Errorf("duplicate INSERT: %v, want unique_violation", err)
		}
	})

	t.Run("QueryError", func(t *testing.T) {
		// A statement that fails to parse fails at Query, not at the first
		// Next, and leaves the connection usable.
		db.SetMaxOpenConns(1)
		defer db.SetMaxOpenConns(0)
		_, err := db.QueryContext(ctx, "SELECT FROM no_such_table WHERE $1", true)
		if postgresCode(err) != "42P01" {
			t.Errorf("query of a missing table: %v, want undefined_table", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t WHERE v = $1", "c").Scan(&n); err != nil || n != 2 {
			t.Errorf("count after the error: %d, %v; want 2", n, err)
		}
	})

	t.Run("Transactions", func(t *testing.T) {
		tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		var level, readOnly string
		if err := tx.QueryRowContext(ctx, "SELECT current_setting('transaction_isolation'), "+
			"current_setting('transaction_read_only')").Scan(&level, &readOnly); err != nil {
			t.Fatal(err)
		}
		if level != "repeatable read" || readOnly != "on" {
			t.Errorf("transaction is %q, read only %q; want repeatable read, on", level, readOnly)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}

		// A failed statement makes the commit a rollback, which is an error.
		tx, err = db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES ($1, $2)", 3, "kept?"); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES ($1, $2)", 1, "dup"); err == nil {
			t.Fatal("duplicate INSERT succeeded")
		}
		if err := tx.Commit(); !errors.Is(err, errCommitRolledBack) {
			t.Errorf("Commit after a failed statement: %v, want errCommitRolledBack", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t WHERE id = $1", 3).Scan(&n); err != nil || n != 0 {
			t.Errorf("rows of the rolled back transaction: %d, %v; want 0", n, err)
		}

		if _, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelLinearizable}); err == nil ||
			!strings.Contains(err.Error(), "isolation level") {
			t.Errorf("BeginTx with a level PostgreSQL lacks: %v, want an error", err)
		}
	})

	t.Run("Cancel", func(t *testing.T) {
		// A cancelled query ends with the context's error, and the pool
		// then serves the next query on a working connection.
		db.SetMaxOpenConns(1)
		defer db.SetMaxOpenConns(0)
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, err := db.ExecContext(short, "SELECT pg_sleep($1)", 30)
		if err == nil {
			t.Fatal("pg_sleep(30) under a 200 ms deadline succeeded")
		}
		var one int
		if err := db.QueryRowContext(ctx, "SELECT $1::int", 1).Scan(&one); err != nil || one != 1 {
			t.Errorf("query after the cancelled one: %d, %v; want 1", one, err)
		}
	})

	t.Run("NamedParameter", func(t *testing.T) {
		_, err := db.ExecContext(ctx, "SELECT $1", sql.Named("x", 1))
		if err == nil || !strings.Contains(err.Error(), "positional") {
			t.Errorf("named parameter: %v, want an error", err)
		}
	})
}

func TestDecodeValue(t *testing.T) {
	tests := []struct {
		oid     uint32
		raw     string
		want    driver.Value
		wantErr bool
	}{
		{oidBool, "t", true, false},
		{oidBool, "f", false, false},
		{oidBool, "true", nil, true},
		{oidInt8, "-9223372036854775808", int64(math.MinInt64), false},
		{oidInt4, "12x", nil, true},
		{oidInt8, "9223372036854775808", nil, true},
		{oidFloat8, "1e-5", 1e-5, false},
		{oidFloat8, "-Infinity", math.Inf(-1), false},
		{oidFloat8, "0x1p3", nil, true},
		{oidBytea, `\x00ff`, []byte{0, 0xff}, false},
		{oidBytea, `\x0`, nil, true},
		{oidBytea, `\000`, nil, true},
		{oidText, "plain", "plain", false},
		{1700, "12.50", "12.50", false}, // numeric stays text
	}
	for _, tc := range tests {
		got, err := decodeValue(tc.oid, []byte(tc.raw))
		if (err != nil) != tc.wantErr {
			t.Errorf("decodeValue(%d, %q) error = %v, want error %v", tc.oid, tc.raw, err, tc.wantErr)
			continue
		}
		if b, ok := tc.want.([]byte); ok {
			if !bytes.Equal(got.([]byte), b) {
				t.Errorf("decodeValue(%d, %q) = %x, want %x", tc.oid, tc.raw, got, b)
			}
		} else if got != tc.want {
			t.Errorf("decodeValue(%d, %q) = %#v, want %#v", tc.oid, tc.raw, got, tc.want)
		}
	}
	if v, err := decodeValue(oidText, nil); v != nil || err != nil {
		t.Errorf("decodeValue of NULL = %v, %v; want nil, nil", v, err)
	}
}

// FuzzDecodeValue checks that no text from a server makes decodeValue
// panic, that it returns a value or an error, never both, and that the
// value stays the same when the row buffer is reused.
func FuzzDecodeValue(f *testing.F) {
	for _, seed := range []string{"t", "-1", "1.5e300", "NaN", `\x00ff`, `\xZZ`, "text"} {
		for _, oid := range []uint32{oidBool, oidBytea, oidInt8, oidInt2, oidInt4, oidText, oidOID, oidFloat4, oidFloat8} {
			f.Add(oid, []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, oid uint32, raw []byte) {
		if raw == nil {
			raw = []byte{}
		}
		orig := bytes.Clone(raw)
		v, err := decodeValue(oid, raw)
		if err != nil {
			if v != nil {
				t.Fatalf("decodeValue returned %#v with the error %v", v, err)
			}
			return
		}
		for i := range raw {
			raw[i] ^= 0xff
		}
		again, _ := decodeValue(oid, orig)
		if fmt.Sprintf("%#v", v) != fmt.Sprintf("%#v", again) {
			t.Fatalf("decodeValue(%d, %q) = %#v, which became %#v when the buffer changed", oid, orig, again, v)
		}
	})
}

func TestDropPgxParams(t *testing.T) {
	tests := []struct {
		rest, want string
		wantErr    bool
	}{
		{"h/db", "h/db", false},
		{"h/db?sslmode=disable", "h/db?sslmode=disable", false},
		{"h/db?default_query_exec_mode=exec", "h/db", false},
		{"h/db?sslmode=disable&default_query_exec_mode=simple_protocol&statement_cache_capacity=0&x=1",
			"h/db?sslmode=disable&x=1", false},
		{"h/db?default_query_exec_mode=fast", "", true},
		{"h/db?description_cache_capacity=-1", "", true},
	}
	for _, tc := range tests {
		got, err := dropPgxParams(tc.rest)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("dropPgxParams(%q) = %q, %v; want %q, error %v", tc.rest, got, err, tc.want, tc.wantErr)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("dropPgxParams(%q) error %v does not wrap ErrInvalid", tc.rest, err)
		}
	}
}
