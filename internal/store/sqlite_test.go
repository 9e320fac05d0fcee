package store

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 678901000, time.UTC)

func ptr[T any](v T) *T { return &v }

// fakeClock is an Options.Now that moves only when Advance is called.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestTokenExpiresWithClock(t *testing.T) {
	clock := &fakeClock{now: t0}
	s := openFile(t, filepath.Join(t.TempDir(), "hub.sqlite"), Options{Now: clock.Now})
	ctx := t.Context()
	if _, err := s.CreateUser(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	tok, clear, err := s.CreateToken(ctx, NewToken{Owner: Owner{User: "alice"}, ExpiresAt: t0.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if !tok.Created.Equal(t0) {
		t.Errorf("Created = %v, want the clock's %v", tok.Created, t0)
	}

	clock.Advance(59 * time.Second)
	if _, err := s.FindToken(ctx, clear); err != nil {
		t.Fatalf("FindToken one second before expiry: %v", err)
	}
	clock.Advance(time.Second)
	if _, err := s.GetToken(ctx, tok.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetToken at expiry: got %v, want ErrNotFound", err)
	}
	if _, err := s.FindToken(ctx, clear); !errors.Is(err, ErrNotFound) {
		t.Errorf("FindToken at expiry: got %v, want ErrNotFound", err)
	}
	var rows int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM api_tokens").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("%d token rows after FindToken of the expired token, want 0", rows)
	}
}

func TestCodeExpiresWithClock(t *testing.T) {
	clock := &fakeClock{now: t0}
	s := openFile(t, filepath.Join(t.TempDir(), "hub.sqlite"), Options{Now: clock.Now})
	ctx := t.Context()
	if _, err := s.CreateUser(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutOAuthClient(ctx, OAuthClient{ID: "client"}, ""); err != nil {
		t.Fatal(err)
	}
	newCode := func() string {
		code, err := s.CreateOAuthCode(ctx, OAuthCode{ClientID: "client", User: "alice",
			ExpiresAt: clock.Now().Add(5 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	used, unused := newCode(), newCode()
	clock.Advance(4 * time.Minute)
	if _, err := s.ConsumeOAuthCode(ctx, used); err != nil {
		t.Errorf("ConsumeOAuthCode before expiry: %v", err)
	}
	clock.Advance(time.Minute)
	if n, err := s.PurgeExpired(ctx); err != nil || n != 1 {
		t.Errorf("PurgeExpired at expiry = %d, %v, want 1 row", n, err)
	}
	if _, err := s.ConsumeOAuthCode(ctx, unused); !errors.Is(err, ErrNotFound) {
		t.Errorf("ConsumeOAuthCode after expiry: got %v, want ErrNotFound", err)
	}
}

// TestSecretsNotInFile checks that no token, client secret or code is
// written to the database file or its write-ahead log in clear.
func TestSecretsNotInFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hub.sqlite")
	s, err := Open(t.Context(), "sqlite:///"+path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := s.CreateUser(ctx, "visible-user-name", false); err != nil {
		t.Fatal(err)
	}
	_, generated, err := s.CreateToken(ctx, NewToken{Owner: Owner{User: "visible-user-name"}})
	if err != nil {
		t.Fatal(err)
	}
	const supplied = "supplied-service-token-0123456789"
	owner := Owner{User: "visible-user-name"}
	if _, _, err := s.CreateToken(ctx, NewToken{Token: supplied, Owner: owner}); err != nil {
		t.Fatal(err)
	}
	const secret = "client-secret-0123456789"
	if _, err := s.PutOAuthClient(ctx, OAuthClient{ID: "client"}, secret); err != nil {
		t.Fatal(err)
	}
	code, err := s.CreateOAuthCode(ctx, OAuthCode{ClientID: "client", User: "visible-user-name",
		ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}

	// Read the files while the store is open, when the rows may still be in
	// the WAL, and again after Close has checkpointed it.
	check := func(when string) {
		data := readAll(t, dir)
		if !bytes.Contains(data, []byte("visible-user-name")) {
			t.Fatalf("%s: the user name is not in the files, so the check cannot see rows", when)
		}
		for name, value := range map[string]string{
			"generated token": generated, "supplied token": supplied,
			"client secret": secret, "authorization code": code,
		} {
			if bytes.Contains(data, []byte(value)) {
				t.Errorf("%s: the %s is in the database files in clear", when, name)
			}
		}
	}
	check("open")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check("closed")
}

// readAll returns the bytes of every file in dir, one after another.
func readAll(t *testing.T, dir string) []byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, data...)
	}
	return all
}

func TestSQLiteSettings(t *testing.T) {
	s := openFile(t, filepath.Join(t.TempDir(), "hub.sqlite"), Options{})
	ctx := t.Context()
	pragmas := []struct {
		pool string
		name string
		want string
	}{
		{"writer", "journal_mode", "wal"},
		{"writer", "foreign_keys", "1"},
		{"writer", "busy_timeout", "10000"},
		{"reader", "foreign_keys", "1"},
		{"reader", "query_only", "1"},
		{"reader", "busy_timeout", "10000"},
	}
	for _, p := range pragmas {
		db := s.w
		if p.pool == "reader" {
			db = s.r
		}
		var got string
		if err := db.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", p.name, err)
		}
		if got != p.want {
			t.Errorf("%s connection: PRAGMA %s = %q, want %q", p.pool, p.name, got, p.want)
		}
	}
	if _, err := s.r.ExecContext(ctx, "DELETE FROM users"); err == nil {
		t.Errorf("a write through the reader pool succeeded, want it rejected")
	}
}

func TestOpenPaths(t *testing.T) {
	tests := []struct {
		name string
		dir  string
		file string
	}{
		{"plain", "", "hub.sqlite"},
		{"URI characters", "a b%41;c&d=e", "x%2F+y:z.sqlite"},
		{"double slash", "", "hub.sqlite"},
		{"unicode", "données", "hüb.sqlite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), tc.dir)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, tc.file)
			if tc.name == "double slash" {
				path = "/" + path
			}
			for round := range 2 {
				s := openFile(t, path, Options{})
				if round == 0 {
					if _, err := s.CreateUser(t.Context(), "alice", false); err != nil {
						t.Fatal(err)
					}
				} else if _, err := s.GetUser(t.Context(), "alice"); err != nil {
					t.Fatalf("reopening: %v", err)
				}
				s.Close()
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("database file: %v", err)
			}
		})
	}
}

// TestSQLiteDSNEscapes opens files whose names contain the characters
// that end the path of a SQLite URI, which ParseURL rejects but sqliteDSN
// must still escape.
func TestSQLiteDSNEscapes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a?b#c")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "x?y#z%3F.sqlite")
	s, err := openSQLite(t.Context(), Location{Driver: "sqlite", Path: path},
		Options{Logger: slog.New(slog.DiscardHandler), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 || entries[0].Name() != "x?y#z%3F.sqlite" {
		t.Errorf("files in %s: %v, want x?y#z%%3F.sqlite", dir, entries)
	}
}

func TestOpenRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s, err := Open(t.Context(), "sqlite:///jupyterhub.sqlite", Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(filepath.Join(dir, "jupyterhub.sqlite")); err != nil {
		t.Errorf("relative database file: %v", err)
	}
}

func TestOpenMemoryIsPrivate(t *testing.T) {
	ctx := t.Context()
	var stores []Store
	for _, url := range []string{"sqlite://", "sqlite:///:memory:"} {
		s, err := Open(ctx, url, Options{})
		if err != nil {
			t.Fatalf("Open(%q): %v", url, err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	if _, err := stores[0].CreateUser(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[1].GetUser(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second in-memory store sees the first one's user: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		url  string
		want error
	}{
		{"postgresql://hub:secret@127.0.0.1:port/jupyterhub", ErrInvalid},
		{"postgresql+psycopg2://hub:secret@127.0.0.1/hub?sslmode=sometimes", ErrInvalid},
		{"postgres://hub:secret@[::1/jupyterhub", ErrInvalid},
		{"mysql://127.0.0.1/hub", ErrInvalid},
		{"jupyterhub.sqlite", ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			_, err := Open(t.Context(), tc.url, Options{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open: got %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q repeats the password of the URL", err)
			}
		})
	}

	missing := filepath.Join(t.TempDir(), "no", "such", "dir", "hub.sqlite")
	if _, err := Open(t.Context(), "sqlite:///"+missing, Options{}); err == nil {
		t.Errorf("Open in a missing directory succeeded")
	}
}

// TestTwoStoresOneFile runs writers of two stores on one file at once, as
// two hub processes would. They contend for SQLite's file lock, and the
// busy timeout makes them wait instead of failing with SQLITE_BUSY.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.sqlite")
	a, b := openFile(t, path, Options{}), openFile(t, path, Options{})
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for j := range 25 {
				if _, err := s.CreateUser(t.Context(), fmt.Sprintf("u%d-%d", i, j), false); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if _, total, err := a.ListUsers(t.Context(), UserQuery{}); err != nil || total != 100 {
		t.Errorf("ListUsers = %d users, %v, want 100", total, err)
	}
}

func TestRedaction(t *testing.T) {
	tests := []struct {
		name    string
		value   any
		secrets []string
		visible string
	}{
		{"user", User{ID: 7, Name: "alice", CookieID: "cookie-value", PasswordHash: "$2a$10$hash",
			AuthState: []byte("auth-state-value")},
			[]string{"cookie-value", "$2a$10$hash", "auth-state-value"}, "alice"},
		{"new token", NewToken{Token: "clear-token-value", Owner: Owner{User: "alice"}, Note: "for ci"},
			[]string{"clear-token-value"}, "alice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var jsonLog, textLog bytes.Buffer
			slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("event", "value", tc.value)
			slog.New(slog.NewTextHandler(&textLog, nil)).Info("event", "value", tc.value)
			printed := fmt.Sprintf("%v %+v %s", tc.value, tc.value, tc.value)
			for _, out := range []string{jsonLog.String(), textLog.String(), printed} {
				for _, secret := range tc.secrets {
					if strings.Contains(out, secret) {
						t.Errorf("output %q contains %q", out, secret)
					}
				}
				if !strings.Contains(out, tc.visible) {
					t.Errorf("output %q lacks %q", out, tc.visible)
				}
			}
		})
	}
}
