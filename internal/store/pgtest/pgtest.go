// Package pgtest starts throwaway PostgreSQL servers for tests. Start runs
// initdb and postgres from the local PostgreSQL installation in a new
// temporary folder. The server listens on 127.0.0.1 at a port chosen at run
// time and on a Unix socket in that folder, and it is stopped and removed
// when the test ends.
//
// PostgreSQL refuses to run as root, so a test running as root runs the
// server as the unprivileged "postgres" account that Debian's package
// creates (or "nobody" when there is none), and the folder belongs to that
// account.
//
// When the PostgreSQL programs are missing, Start fails the test with a
// message that names the package to install. Setting JUPYGO_SKIP_PG=1
// makes it skip the test instead.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// SkipEnv is the environment variable that, set to 1, makes Start skip the
// test when PostgreSQL is not installed.
const SkipEnv = "JUPYGO_SKIP_PG"

// Superuser is the name of the server's superuser.
const Superuser = "jupygo"

// Server is a running throwaway PostgreSQL server.
type Server struct {
	// Host and Port are the TCP address the server listens on.
	Host string
	Port int
	// SocketDir is the folder of the server's Unix socket.
	SocketDir string
	// Password is the superuser's password. The server requires SCRAM
	// password authentication on every connection.
	Password string

	dir     string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// Timeouts of the server's start and stop. They bound how long a broken
// installation can hang a test, and are not measurements.
const (
	readyTimeout = 60 * time.Second
	stopTimeout  = 30 * time.Second
)

// Start starts a new server and stops it when t ends. The server's
// databases use the ICU collation en-US, under which text does not sort
// bytewise, so a test detects whether the code under test sets its own
// collation.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, skip, err := locate(debianBinGlob)
	if skip {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	run, err := newRunner()
	if err != nil {
		t.Fatal(err)
	}
	s, err := start(bin, run)
	if s != nil {
		t.Cleanup(func() {
			if err := s.stop(); err != nil {
				t.Errorf("stopping PostgreSQL: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatalf("starting PostgreSQL from %s: %v", bin, err)
	}
	return s
}

// start creates the cluster and runs the server. It returns the server
// together with an error when the server was created but did not start, so
// that the caller still removes its folder.
func start(bin string, run *runner) (*Server, error) {
	dir, err := os.MkdirTemp("", "jupygo-pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{Host: "127.0.0.1", SocketDir: dir, dir: dir,
		logPath: filepath.Join(dir, "postgres.log")}
	if err := run.own(dir); err != nil {
		return s, err
	}
	if err := s.initdb(bin, run); err != nil {
		return s, err
	}
	// Another process may take the chosen port before the server binds
	// it, so a failed start is tried again on a new port.
	for attempt := 0; ; attempt++ {
		err = s.run(bin, run)
		if err == nil || attempt == 2 {
			return s, err
		}
	}
}

// initdb creates the cluster in s.dir/data with a random superuser
// password.
func (s *Server) initdb(bin string, run *runner) error {
	s.Password = randomHex(16)
	pwfile := filepath.Join(s.dir, "password")
	if err := os.WriteFile(pwfile, []byte(s.Password+"\n"), 0o600); err != nil {
		return err
	}
	if err := run.own(pwfile); err != nil {
		return err
	}
	cmd := run.command(filepath.Join(bin, "initdb"),
		"--pgdata", filepath.Join(s.dir, "data"), "--username", Superuser, "--pwfile", pwfile,
		"--auth", "scram-sha-256", "--encoding", "UTF8", "--locale", "C.UTF-8",
		"--locale-provider", "icu", "--icu-locale", "en-US", "--no-sync")
	cmd.Dir = s.dir
	out, err := cmd.CombinedOutput()
	os.Remove(pwfile)
	if err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

// run starts postgres on a free port and waits until it accepts
// connections.
func (s *Server) run(bin string, run *runner) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	log, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	// Durability settings are off: the cluster is thrown away, and fsync
	// would make every test wait for the disk.
	cmd := run.command(filepath.Join(bin, "postgres"),
		"-D", filepath.Join(s.dir, "data"), "-p", strconv.Itoa(port),
		"-c", "listen_addresses="+s.Host, "-c", "unix_socket_directories="+s.SocketDir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return err
	}

	s.Port, s.cmd, s.exited = port, cmd, make(chan struct{})
	go func() {
		cmd.Wait()
		close(s.exited)
	}()

	if err := s.waitReady(); err != nil {
		s.stopProcess()
		return fmt.Errorf("%w\n%s", err, s.logTail())
	}
	return nil
}

// waitReady connects until the server accepts a connection, exits or
// readyTimeout passes.
func (s *Server) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, s.URL("postgres"))
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-s.exited:
			return fmt.Errorf("postgres exited: %v", s.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("postgres accepts no connection after %v: %w", readyTimeout, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop shuts the server down and removes its folder.
func (s *Server) stop() error {
	err := s.stopProcess()
	return errors.Join(err, os.RemoveAll(s.dir))
}

// stopProcess sends postgres SIGINT, which requests a fast shutdown that
// ends the sessions of clients still connected, and kills it when it does
// not exit within stopTimeout.
func (s *Server) stopProcess() error {
	if s.cmd == nil {
		return nil
	}
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
		return nil
	case <-time.After(stopTimeout):
		s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("postgres did not shut down within %v and was killed", stopTimeout)
	}
}

// logTail returns the end of the server's log, for error messages.
func (s *Server) logTail() string {
	data, _ := os.ReadFile(s.logPath)
	const max = 4000
	if len(data) > max {
		data = data[len(data)-max:]
	}
	return string(bytes.TrimSpace(data))
}

// URL returns the URL of database db as the superuser, over TCP without
// TLS.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgresql://%s:%s@%s:%d/%s?sslmode=disable",
		Superuser, s.Password, s.Host, s.Port, db)
}

// objectCount numbers the databases and schemas that CreateDatabase and
// CreateSchema make, across all servers of the test binary.
var objectCount atomic.Int64

// CreateDatabase creates an empty database, drops it when t ends, and
// returns its URL. Connections still open at the end are closed by the
// server.
func (s *Server) CreateDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test_%d", objectCount.Add(1))
	s.create(t, "DATABASE "+name, "DATABASE IF EXISTS "+name+" WITH (FORCE)")
	return s.URL(name)
}

// CreateSchema creates an empty schema in the database postgres, drops it
// with everything in it when t ends, and returns a URL whose connections
// create and find tables there (search_path). It takes a few milliseconds
// where CreateDatabase takes over a hundred, for tests that need many
// empty stores.
func (s *Server) CreateSchema(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test_%d", objectCount.Add(1))
	s.create(t, "SCHEMA "+name, "SCHEMA IF EXISTS "+name+" CASCADE")
	return s.URL("postgres") + "&search_path=" + name
}

// create runs CREATE object now and DROP drop when t ends.
func (s *Server) create(t testing.TB, object, drop string) {
	t.Helper()
	if err := s.Exec(t.Context(), "CREATE "+object); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Exec(context.Background(), "DROP "+drop); err != nil {
			t.Errorf("dropping the test %s: %v", object, err)
		}
	})
}

// Exec runs one SQL statement as the superuser in the database postgres.
func (s *Server) Exec(ctx context.Context, statement string) error {
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, statement); err != nil {
		return fmt.Errorf("%s: %w", statement, err)
	}
	return nil
}

// debianBinGlob matches the folders where Debian installs each major
// version's server programs, off PATH.
const debianBinGlob = "/usr/lib/postgresql/*/bin"

// locate returns the folder with initdb and postgres, or an error that
// names what to install and whether SkipEnv lets the test skip.
func locate(glob string) (bin string, skip bool, err error) {
	bin, err = findBinDir(glob)
	if err == nil {
		return bin, false, nil
	}
	if os.Getenv(SkipEnv) == "1" {
		return "", true, fmt.Errorf("%v (%s=1 is set)", err, SkipEnv)
	}
	return "", false, fmt.Errorf("%v: install Debian's postgresql package "+
		"(scripts/setup.sh --test does), or set %s=1 to skip the PostgreSQL tests", err, SkipEnv)
}

// findBinDir returns the folder of initdb on PATH, or else the newest
// version's folder that glob matches.
func findBinDir(glob string) (string, error) {
	if path, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(path), nil
	}
	dirs, _ := filepath.Glob(glob)
	slices.SortFunc(dirs, func(a, b string) int {
		return versionOf(b) - versionOf(a)
	})
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("PostgreSQL is not installed: no initdb on PATH or in %s", glob)
}

// versionOf returns the major version in a folder .../VERSION/bin, or 0.
func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
