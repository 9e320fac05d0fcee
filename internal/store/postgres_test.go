package store_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/jupygo/jupygo/internal/store"
	"github.com/jupygo/jupygo/internal/store/pgtest"
	"github.com/jupygo/jupygo/internal/store/storetest"
)

// TestPostgres runs the PostgreSQL store against a throwaway server. The
// conformance suite gives each store a new schema, which is much faster to
// create than a database, and the other tests new databases.
func TestPostgres(t *testing.T) {
	srv := pgtest.Start(t)
	t.Run("Conformance", func(t *testing.T) {
		storetest.RunConformance(t, func(t *testing.T) store.Store {
			return openPostgres(t, srv.CreateSchema(t))
		})
	})
	t.Run("ConcurrentOpen", func(t *testing.T) { testPostgresConcurrentOpen(t, srv) })
	t.Run("ReopenKeepsState", func(t *testing.T) { testPostgresReopen(t, srv) })
	t.Run("SchemaTooNew", func(t *testing.T) { testPostgresSchemaTooNew(t, srv) })
	t.Run("JupyterHubDatabase", func(t *testing.T) { testPostgresJupyterHubDatabase(t, srv) })
	t.Run("URLForms", func(t *testing.T) { testPostgresURLForms(t, srv) })
	t.Run("PasswordFromEnvironment", func(t *testing.T) { testPostgresPasswordFromEnv(t, srv) })
	t.Run("OpenErrors", func(t *testing.T) { testPostgresOpenErrors(t, srv) })
	t.Run("Exclusive", func(t *testing.T) { testPostgresExclusive(t, srv) })
	t.Run("ExclusiveLost", func(t *testing.T) { testPostgresExclusiveLost(t, srv) })
}

// A second exclusive store on one database fails with an error naming
// the holder until the first closes. Other stores open beside it.
func testPostgresExclusive(t *testing.T, srv *pgtest.Server) {
	ctx := t.Context()
	dbURL := srv.CreateDatabase(t)
	exclusive := store.Options{Exclusive: true}
	first, err := store.Open(ctx, dbURL, exclusive)
	if err != nil {
		t.Fatalf("first exclusive Open: %v", err)
	}
	_, err = store.Open(ctx, dbURL, exclusive)
	if err == nil || !strings.Contains(err.Error(), "in use by another hub (PostgreSQL backend process") {
		t.Fatalf("second exclusive Open: %v, want an error naming the other hub", err)
	}
	if !errors.Is(err, store.ErrInUse) {
		t.Errorf("second exclusive Open: %v, want an error wrapping ErrInUse", err)
	}
	shared := openPostgres(t, dbURL)
	shared.Close()
	first.Close()
	again, err := store.Open(ctx, dbURL, exclusive)
	if err != nil {
		t.Fatalf("exclusive Open after the first closed: %v", err)
	}
	again.Close()
}

// An exclusive store whose lock connection ends takes the lock again, and
// reports on Lost when another hub took it first.
func testPostgresExclusiveLost(t *testing.T, srv *pgtest.Server) {
	store.SetExclusiveCheckIntervalForTest(t, 50*time.Millisecond)
	ctx := t.Context()
	dbURL := srv.CreateDatabase(t)
	raw := rawPostgres(t, dbURL)
	// terminate ends the backends that hold an advisory lock of this database.
	terminate := func() {
		t.Helper()
		if _, err := raw.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
			WHERE locktype = 'advisory' AND granted AND database =
				(SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
			t.Fatal(err)
		}
	}
	exclusive := store.Options{Exclusive: true}
	lostOf := func(s store.Store) <-chan error {
		return s.(interface{ Lost() <-chan error }).Lost()
	}

	// holder is the backend process that holds the lock, or 0.
	holder := func() int {
		t.Helper()
		var pid sql.NullInt64
		if err := raw.QueryRowContext(ctx, `SELECT max(pid) FROM pg_locks
			WHERE locktype = 'advisory' AND granted AND database =
				(SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		return int(pid.Int64)
	}

	first, err := store.Open(ctx, dbURL, exclusive)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	old := holder()
	if old == 0 {
		t.Fatal("no backend holds the lock of an open exclusive store")
	}
	terminate()
	// Wait, without competing for the lock, until a new backend holds it:
	// the ended one may still be listed for a moment.
	deadline := time.Now().Add(10 * time.Second)
	for pid := old; pid == 0 || pid == old; pid = holder() {
		if time.Now().After(deadline) {
			t.Fatal("the first store did not take its lock again")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if second, err := store.Open(ctx, dbURL, exclusive); err == nil {
		second.Close()
		t.Fatal("a second exclusive Open succeeded after the first took its lock again")
	}

	// Another hub takes the lock before the first notices.
	var other store.Store
	for other == nil {
		terminate()
		other, err = store.Open(ctx, dbURL, exclusive)
		if err != nil && other != nil {
			t.Fatalf("Open returned a non-nil store with the error %v", err)
		}
		if err != nil && time.Now().After(deadline.Add(10*time.Second)) {
			t.Fatalf("no store took the lock after its holder ended: %v", err)
		}
	}
	defer other.Close()
	select {
	case err := <-lostOf(first):
		if !strings.Contains(err.Error(), "in use by another hub") || !errors.Is(err, store.ErrInUse) {
			t.Errorf("Lost sent %v, want the error naming the other hub", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the first store did not report its lost lock")
	}
}

// openPostgres opens a store on dbURL and fails the test on an error. The
// caller closes the store.
func openPostgres(t *testing.T, dbURL string) store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), dbURL, store.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// rawPostgres opens dbURL with the driver alone, bypassing the store.
func rawPostgres(t *testing.T, dbURL string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// testPostgresConcurrentOpen opens one new database from several
// goroutines at once, as hubs starting together would. Each Open must
// succeed, and each migration must be applied once.
func testPostgresConcurrentOpen(t *testing.T, srv *pgtest.Server) {
	const rounds, openers = 3, 4
	for round := range rounds {
		dbURL := srv.CreateDatabase(t)
		stores := make([]store.Store, openers)
		errs := make([]error, openers)
		var wg sync.WaitGroup
		for i := range openers {
			wg.Go(func() { stores[i], errs[i] = store.Open(t.Context(), dbURL, store.Options{}) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d: Open %d: %v", round, i, err)
				continue
			}
			stores[i].Close()
		}
		got := store.AppliedVersionsForTest(t, rawPostgres(t, dbURL))
		if want := migrationCount(t, srv); !cmp.Equal(got, want) {
			t.Errorf("round %d: applied versions %v, want %v", round, got, want)
		}
	}
}

// migrationCount returns the versions that one Open of a new database
// applies.
func migrationCount(t *testing.T, srv *pgtest.Server) []int {
	t.Helper()
	dbURL := srv.CreateDatabase(t)
	openPostgres(t, dbURL).Close()
	return store.AppliedVersionsForTest(t, rawPostgres(t, dbURL))
}

// testPostgresReopen checks that a running server, a token and a user
// outlive the store that wrote them, as they outlive a hub's restart.
func testPostgresReopen(t *testing.T, srv *pgtest.Server) {
	ctx := t.Context()
	dbURL := srv.CreateDatabase(t)
	first := openPostgres(t, dbURL)
	if _, err := first.CreateUser(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	if _, err := first.CreateServer(ctx, "alice", ""); err != nil {
		t.Fatal(err)
	}
	state := json.RawMessage(`{"pid": 4242}`)
	started := time.Date(2030, 1, 2, 3, 4, 5, 678901000, time.UTC)
	url := "http://127.0.0.1:40000/user/alice/"
	running, err := first.UpdateServer(ctx, "alice", "",
		store.ServerUpdate{Started: &started, URL: &url, State: &state})
	if err != nil {
		t.Fatal(err)
	}
	_, clear, err := first.CreateToken(ctx, store.NewToken{Owner: store.Owner{User: "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := openPostgres(t, dbURL)
	defer second.Close()
	servers, err := second.ListServers(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]store.Server{running}, servers); d != "" {
		t.Errorf("servers after reopening (-before +after):\n%s", d)
	}
	if _, err := second.FindToken(ctx, clear); err != nil {
		t.Errorf("FindToken after reopening: %v", err)
	}
}

// testPostgresSchemaTooNew checks that Open rejects a database that a
// newer jupygo has migrated, and leaves it alone.
func testPostgresSchemaTooNew(t *testing.T, srv *pgtest.Server) {
	dbURL := srv.CreateDatabase(t)
	openPostgres(t, dbURL).Close()
	db := rawPostgres(t, dbURL)
	newer := len(store.AppliedVersionsForTest(t, db)) + 1
	_, err := db.ExecContext(t.Context(),
		"INSERT INTO schema_migrations (version, name, applied) VALUES ($1, 'future.sql', 'x')", newer)
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(t.Context(), dbURL, store.Options{})
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: got %v, want ErrSchemaTooNew", err)
	}
	if versions := store.AppliedVersionsForTest(t, db); versions[len(versions)-1] != newer {
		t.Errorf("the rejected Open changed schema_migrations to %v", versions)
	}
}

// testPostgresJupyterHubDatabase opens a database with JupyterHub's
// alembic_version table.
func testPostgresJupyterHubDatabase(t *testing.T, srv *pgtest.Server) {
	dbURL := srv.CreateDatabase(t)
	db := rawPostgres(t, dbURL)
	for _, stmt := range []string{
		"CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)",
		"CREATE TABLE users (id SERIAL PRIMARY KEY, name VARCHAR(255), admin BOOLEAN)",
	} {
		if _, err := db.ExecContext(t.Context(), stmt); err != nil {
			t.Fatal(err)
		}
	}
	_, err := store.Open(t.Context(), dbURL, store.Options{})
	if !errors.Is(err, store.ErrJupyterHubDatabase) {
		t.Fatalf("Open of JupyterHub's database: got %v, want ErrJupyterHubDatabase", err)
	}
}

// testPostgresURLForms opens one database through each spelling of its
// URL that JupyterHub's db_url accepts.
func testPostgresURLForms(t *testing.T, srv *pgtest.Server) {
	parsed, err := url.Parse(srv.CreateDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	db := strings.TrimPrefix(parsed.Path, "/")
	password := url.QueryEscape(srv.Password)
	forms := map[string]string{
		"postgresql":  parsed.String(),
		"postgres":    "postgres://" + strings.TrimPrefix(parsed.String(), "postgresql://"),
		"psycopg2":    "postgresql+psycopg2://" + strings.TrimPrefix(parsed.String(), "postgresql://"),
		"upper case":  "PostgreSQL://" + strings.TrimPrefix(parsed.String(), "postgresql://"),
		"exec mode":   parsed.String() + "&default_query_exec_mode=exec",
		"simple mode": parsed.String() + "&default_query_exec_mode=simple_protocol",
		"unix socket": fmt.Sprintf("postgresql://%s:%s@/%s?host=%s&port=%d",
			pgtest.Superuser, password, db, srv.SocketDir, srv.Port),
	}
	for name, dbURL := range forms {
		t.Run(name, func(t *testing.T) {
			s, err := store.Open(t.Context(), dbURL, store.Options{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			checkRoundTrip(t, s)
		})
	}
}

// checkRoundTrip writes a user with bytes, JSON and times, and reads them
// back, which exercises each kind of column that the store encodes.
func checkRoundTrip(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	name := fmt.Sprintf("user-%d", time.Now().UnixNano())
	if _, err := s.CreateUser(ctx, name, true); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	state := []byte{0, 1, 0xfe, 0xff, '\'', '\\'}
	at := time.Date(2031, 3, 4, 5, 6, 7, 123456000, time.UTC)
	u, err := s.UpdateUser(ctx, name, store.UserUpdate{AuthState: &state, LastActivity: &at})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if !bytes.Equal(u.AuthState, state) || !u.LastActivity.Equal(at) || !u.Admin {
		t.Errorf("user read back = auth state %x, last activity %v, admin %v; want %x, %v, true",
			u.AuthState, u.LastActivity, u.Admin, state, at)
	}
	if _, err := s.CreateServer(ctx, name, "x"); err != nil {
		t.Fatalf("CreateServer: %v", err)
	}
	options := json.RawMessage(`{"profile": "it's \"quoted\""}`)
	sv, err := s.UpdateServer(ctx, name, "x", store.ServerUpdate{UserOptions: &options})
	if err != nil {
		t.Fatalf("UpdateServer: %v", err)
	}
	if string(sv.UserOptions) != string(options) {
		t.Errorf("user options read back = %s, want %s", sv.UserOptions, options)
	}
}

// testPostgresPasswordFromEnv opens a URL without a password, which libpq
// and pgx take from PGPASSWORD.
func testPostgresPasswordFromEnv(t *testing.T, srv *pgtest.Server) {
	withPassword, err := url.Parse(srv.CreateDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	withPassword.User = url.User(pgtest.Superuser)
	t.Setenv("PGPASSWORD", srv.Password)
	s, err := store.Open(t.Context(), withPassword.String(), store.Options{})
	if err != nil {
		t.Fatalf("Open with the password in PGPASSWORD: %v", err)
	}
	s.Close()
}

// testPostgresOpenErrors checks that Open names what is wrong, and never
// repeats the password.
func testPostgresOpenErrors(t *testing.T, srv *pgtest.Server) {
	const password = "the-secret-password"
	hostPort := net.JoinHostPort(srv.Host, strconv.Itoa(srv.Port))
	if err := srv.Exec(t.Context(), "CREATE ROLE hub LOGIN PASSWORD '"+password+"'"); err != nil {
		t.Fatal(err)
	}
	closed, noSocket := closedPort(t), t.TempDir()
	tests := []struct {
		name     string
		url      string
		sentinel error
		want     []string
	}{
		{"wrong password", "postgresql://hub:not-" + password + "@" + hostPort + "/postgres?sslmode=disable",
			nil, []string{"authentication failed", `user "hub"`, "PGPASSWORD"}},
		{"unknown user", "postgresql://nobody:" + password + "@" + hostPort + "/postgres?sslmode=disable",
			nil, []string{"authentication failed", `user "nobody"`}},
		{"missing database", "postgresql://hub:" + password + "@" + hostPort + "/nosuchdb?sslmode=disable",
			nil, []string{`database "nosuchdb" does not exist`, "createdb --owner=hub nosuchdb"}},
		{"nothing listens", "postgresql://hub:" + password + "@127.0.0.1:" + closed + "/hub?sslmode=disable",
			nil, []string{"at 127.0.0.1:" + closed + " ", "cannot connect", "connection refused"}},
		{"no socket", "postgresql://hub:" + password + "@/hub?host=" + noSocket,
			nil, []string{"at Unix socket " + noSocket + "/.s.PGSQL.5432 ", "cannot connect"}},
		{"bad port", "postgresql://hub:" + password + "@127.0.0.1:port/hub", store.ErrInvalid, nil},
		{"bad sslmode", "postgresql://hub:" + password + "@127.0.0.1/hub?sslmode=sometimes",
			store.ErrInvalid, []string{"failed to configure TLS"}},
		{"password parameter", "postgresql://hub@127.0.0.1:port/hub?password=" + password,
			store.ErrInvalid, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := store.Open(t.Context(), tc.url, store.Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			if strings.Contains(msg, password) {
				t.Errorf("error repeats the password: %s", msg)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("error %q does not wrap %v", msg, tc.sentinel)
			}
			for _, part := range tc.want {
				if !strings.Contains(msg, part) {
					t.Errorf("error %q lacks %q", msg, part)
				}
			}
		})
	}
}

// closedPort returns a port of 127.0.0.1 that nothing listens on: one
// that was free a moment ago.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return port
}
