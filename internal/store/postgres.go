package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// maxPostgresConns is the size of a PostgreSQL store's connection pool,
// which serves reads and writes. A server allows 100 connections by
// default (max_connections), shared by all its clients.
const maxPostgresConns = 10

// postgresIdleTime is how long an unused connection stays in the pool.
const postgresIdleTime = 5 * time.Minute

// defaultConnectTimeout bounds each connection attempt when neither the
// db_url's connect_timeout nor PGCONNECT_TIMEOUT sets a bound. Without it,
// a server that drops packets would hang the hub's start forever.
const defaultConnectTimeout = 10 * time.Second

// openPostgres connects to the PostgreSQL database of dbURL, checks that
// it accepts the connection, and migrates its schema.
func openPostgres(ctx context.Context, dbURL string, opts Options) (*sqlStore, error) {
	cfg, err := postgresConfig(dbURL)
	if err != nil {
		return nil, err
	}
	target := describeTarget(cfg)
	db := sql.OpenDB(&pgConnector{cfg: cfg})
	db.SetMaxOpenConns(maxPostgresConns)
	db.SetMaxIdleConns(maxPostgresConns)
	db.SetConnMaxIdleTime(postgresIdleTime)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening PostgreSQL %s: %w", target, connectError(cfg, err))
	}
	s := &sqlStore{w: db, r: db, d: postgresDialect(), log: opts.Logger, now: opts.Now}
	if opts.Exclusive {
		if err := s.lockExclusive(ctx, target); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("opening PostgreSQL %s: %w", target, err)
	}
	return s, nil
}

// exclusiveLockKey is the key of the session-level advisory lock that an
// exclusive store holds: "jpyhub" in ASCII.
const exclusiveLockKey int64 = 0x6a7079687562

// exclusiveCheckInterval is how often an exclusive store checks that the
// connection that holds its lock is alive. PostgreSQL drops the lock with
// the connection: on a restart of PostgreSQL, pg_terminate_backend, an
// idle_session_timeout or a broken network.
var exclusiveCheckInterval = 15 * time.Second

// lockExclusive takes the advisory lock of an exclusive store on a
// connection of its own, which keeps it until Close, and starts the
// goroutine that watches that connection.
func (s *sqlStore) lockExclusive(ctx context.Context, target string) error {
	if err := s.takeExclusive(ctx, target); err != nil {
		return err
	}
	s.lost = make(chan error, 1)
	s.stopWatch = make(chan struct{})
	s.watchDone = make(chan struct{})
	go s.watchExclusive(target, exclusiveCheckInterval)
	return nil
}

// takeExclusive takes the advisory lock on a new connection and keeps it
// in s.exclusive.
func (s *sqlStore) takeExclusive(ctx context.Context, target string) error {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("opening PostgreSQL %s: %w", target, err)
	}
	var locked bool
	var holder sql.NullInt64
	err = conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1),
		(SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
			AND ((classid::bigint << 32) | objid::bigint) = $1 AND objsubid = 1
			AND pid <> pg_backend_pid() LIMIT 1)`, exclusiveLockKey).Scan(&locked, &holder)
	if err != nil {
		conn.Close()
		return fmt.Errorf("opening PostgreSQL %s: locking the database for this hub: %w", target, err)
	}
	if !locked {
		conn.Close()
		who := "another hub"
		if holder.Valid {
			who = fmt.Sprintf("another hub (PostgreSQL backend process %d)", holder.Int64)
		}
		return lockHeldError(fmt.Sprintf("PostgreSQL %s is in use by %s: stop that hub, or give "+
			"this one another database", target, who))
	}
	s.exclusive = conn
	return nil
}

// lockHeldError is the error of takeExclusive when another hub holds the
// lock.
type lockHeldError string

func (e lockHeldError) Error() string { return string(e) }

func (e lockHeldError) Unwrap() error { return ErrInUse }

// watchExclusive checks the lock's connection every interval. When the
// connection is gone, it takes the lock again on a new one. While PostgreSQL cannot be reached it keeps trying,
// because no other hub can start then either. When another hub took the
// lock meanwhile, it sends the error to s.lost and stops.
func (s *sqlStore) watchExclusive(target string, interval time.Duration) {
	defer close(s.watchDone)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-s.stopWatch:
			return
		case <-ticker.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), interval)
		var err error
		if s.exclusive != nil {
			err = s.exclusive.PingContext(ctx)
			if err != nil {
				s.exclusive.Close()
				s.exclusive = nil
				s.log.Warn("the connection that holds this hub's lock on the database was lost; "+
					"taking the lock again", "database", target, "err", err)
			}
		}
		if s.exclusive == nil {
			// The connection was lost at this check or at an earlier one
			// whose attempt to take the lock again failed.
			err = s.takeExclusive(ctx, target)
			switch {
			case err == nil:
				s.log.Info("took this hub's lock on the database again", "database", target)
			case errors.As(err, new(lockHeldError)):
				cancel()
				s.lost <- err
				return
			default:
				s.log.Warn("could not take this hub's lock on the database again; trying at "+
					"the next check", "database", target, "err", err)
			}
		}
		cancel()
	}
}

// Lost returns a channel that receives an error when an exclusive store
// lost its lock to another hub, and nil for a store that is not exclusive.
func (s *sqlStore) Lost() <-chan error { return s.lost }

// postgresConfig parses a db_url of PostgreSQL into pgconn's configuration.
// The scheme may be postgresql, postgres or either with a SQLAlchemy
// driver suffix such as postgresql+psycopg2. What the URL leaves out comes
// from libpq's environment variables (PGHOST, PGPORT, PGUSER, PGPASSWORD,
// PGDATABASE, PGSSLMODE and the others) and the password file ~/.pgpass,
// as with libpq.
func postgresConfig(dbURL string) (*pgconn.Config, error) {
	_, rest, _ := strings.Cut(dbURL, "://")
	rest, err := dropPgxParams(rest)
	if err != nil {
		return nil, err
	}
	cfg, err := pgconn.ParseConfig("postgresql://" + rest)
	if err != nil {
		return nil, fmt.Errorf("invalid PostgreSQL db_url: %s: %w",
			scrubPassword(parseErrorDetail(err), rest), ErrInvalid)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	return cfg, nil
}

// pgxExecModes are the values of pgx's default_query_exec_mode.
var pgxExecModes = []string{"cache_statement", "cache_describe", "describe_exec", "exec", "simple_protocol"}

// dropPgxParams removes from the URL rest, the part after "://", the query
// parameters that github.com/jackc/pgx reads and libpq does not:
// default_query_exec_mode, statement_cache_capacity and
// description_cache_capacity. db_urls written for an earlier jupygo, which
// connected through pgx, may hold them. They have no effect now: every
// query is sent as an unnamed statement, which suits a pooler in
// transaction mode as pgx's exec mode did. pgconn would pass unknown
// parameters on to the server, which rejects them. Invalid values are
// still an error.
func dropPgxParams(rest string) (string, error) {
	base, query, ok := strings.Cut(rest, "?")
	if !ok {
		return rest, nil
	}
	var kept []string
	for _, pair := range strings.Split(query, "&") {
		key, value, _ := strings.Cut(pair, "=")
		switch key {
		case "default_query_exec_mode":
			if !slices.Contains(pgxExecModes, value) {
				return "", fmt.Errorf("invalid PostgreSQL db_url: default_query_exec_mode %q is not one of %s: %w",
					value, strings.Join(pgxExecModes, ", "), ErrInvalid)
			}
		case "statement_cache_capacity", "description_cache_capacity":
			if _, err := strconv.ParseUint(value, 10, 32); err != nil {
				return "", fmt.Errorf("invalid PostgreSQL db_url: %s %q is not a count: %w", key, value, ErrInvalid)
			}
		default:
			kept = append(kept, pair)
		}
	}
	if len(kept) == 0 {
		return base, nil
	}
	return base + "?" + strings.Join(kept, "&"), nil
}

// parseErrorDetail returns the message of pgconn's parse error without the
// URL that it quotes and without the error it wraps. pgconn masks the
// passwords it recognizes, but a malformed URL can hide one: in
// postgresql://hub:secret/db, "secret" reads as a port, and the wrapped
// error may quote it.
func parseErrorDetail(err error) string {
	var pce *pgconn.ParseConfigError
	if !errors.As(err, &pce) {
		return "cannot parse the URL"
	}
	msg := pce.Error()
	if inner := errors.Unwrap(pce); inner != nil {
		msg = strings.TrimSuffix(msg, " ("+inner.Error()+")")
	}
	if i := strings.LastIndex(msg, "`: "); i >= 0 {
		return msg[i+len("`: "):]
	}
	return "cannot parse the URL"
}

// scrubPassword replaces in msg each password that the URL rest, the part
// after "://", contains. pgconn already masks passwords in its parse errors;
// this covers input malformed enough to defeat that.
func scrubPassword(msg, rest string) string {
	var secrets []string
	if at := strings.IndexAny(rest, "@/"); at >= 0 && rest[at] == '@' {
		if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
			secrets = append(secrets, pw)
		}
	}
	if _, query, ok := strings.Cut(rest, "?"); ok {
		for _, pair := range strings.Split(query, "&") {
			key, value, _ := strings.Cut(pair, "=")
			if strings.Contains(strings.ToLower(key), "password") {
				secrets = append(secrets, value)
			}
		}
	}
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		msg = strings.ReplaceAll(msg, secret, "xxxxx")
		if decoded, err := url.QueryUnescape(secret); err == nil && decoded != "" {
			msg = strings.ReplaceAll(msg, decoded, "xxxxx")
		}
	}
	return msg
}

// describeTarget names the database, server and user of cfg for error
// messages, without the password.
func describeTarget(cfg *pgconn.Config) string {
	return fmt.Sprintf("database %q at %s as user %q", cfg.Database, describeHosts(cfg), cfg.User)
}

// describeHosts lists the servers that cfg tries, each as host:port or as
// the path of a Unix socket.
func describeHosts(cfg *pgconn.Config) string {
	var list []string
	add := func(host string, port uint16) {
		addr := net.JoinHostPort(host, strconv.Itoa(int(port)))
		if strings.HasPrefix(host, "/") {
			addr = fmt.Sprintf("Unix socket %s/.s.PGSQL.%d", host, port)
		}
		for _, a := range list {
			if a == addr {
				return
			}
		}
		list = append(list, addr)
	}
	add(cfg.Host, cfg.Port)
	for _, fb := range cfg.Fallbacks {
		add(fb.Host, fb.Port)
	}
	return strings.Join(list, ", ")
}

// connectError turns the failure of a first connection into an error that
// names the cause and what to check. The caller adds the address. The
// driver's error stays reachable with errors.As.
func connectError(cfg *pgconn.Config, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "28P01", "28000": // invalid_password, invalid_authorization_specification
			return &causeError{err: err, msg: fmt.Sprintf("authentication failed: %s: "+
				"check the user and password in db_url, PGPASSWORD or ~/.pgpass, "+
				"and the server's pg_hba.conf", pgErr.Message)}
		case "3D000": // invalid_catalog_name
			return &causeError{err: err, msg: fmt.Sprintf("%s: create the database first, "+
				"for example with: createdb --owner=%s %s", pgErr.Message, cfg.User, cfg.Database)}
		}
		return &causeError{err: err, msg: fmt.Sprintf(
			"the server rejected the connection: %s (SQLSTATE %s)", pgErr.Message, pgErr.Code)}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &causeError{err: err, msg: fmt.Sprintf("cannot connect: timed out after %v "+
			"(connect_timeout): check the host, the port and the firewall", cfg.ConnectTimeout)}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return &causeError{err: err, msg: fmt.Sprintf("cannot connect: %v: check that PostgreSQL "+
			"runs there and accepts connections (listen_addresses, port)", opErr)}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return &causeError{err: err, msg: fmt.Sprintf("cannot connect: %v", dnsErr)}
	}
	return &causeError{err: err, msg: fmt.Sprintf("cannot connect: %v", err)}
}

// causeError is an error with its own message that wraps the error that
// caused it.
type causeError struct {
	msg string
	err error
}

func (e *causeError) Error() string { return e.msg }
func (e *causeError) Unwrap() error { return e.err }
