package proxy

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock for TableOptions.Now that moves only on Advance.
type fakeClock struct {
	nanos atomic.Int64
}

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.nanos.Store(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time { return time.Unix(0, c.nanos.Load()).UTC() }

// Advance moves the clock forward by d and returns the new time.
func (c *fakeClock) Advance(d time.Duration) time.Time {
	return time.Unix(0, c.nanos.Add(int64(d))).UTC()
}

// testLogger returns a logger that writes to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// front is how a test serves the proxy: through Serve's fast path, or as
// a plain http.Handler.
type front struct {
	name string
	fast bool
}

// forEachFront runs test once for each front.
func forEachFront(t *testing.T, test func(*testing.T, front)) {
	for _, f := range []front{{"fast path", true}, {"handler", false}} {
		t.Run(f.name, func(t *testing.T) { test(t, f) })
	}
}

// testServer is a proxy served on loopback for a test.
type testServer struct {
	URL string
}

// startProxy serves a Proxy for table on loopback through front f. The
// server and the proxy are closed when the test ends.
func startProxy(t *testing.T, f front, table *Table, opts Options) (*Proxy, *testServer) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	p := New(table, opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p, ErrorLog: slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug)}
	done := make(chan error, 1)
	go func() {
		if f.fast {
			done <- p.Serve(srv, ln, ServeOptions{})
		} else {
			done <- srv.Serve(ln)
		}
	}()
	if f.fast {
		// Serve registers itself once its goroutines run, and tests that
		// count goroutines start counting after startProxy.
		waitFor(t, "Serve to start", func() bool { return len(p.fastServers()) > 0 })
	}
	t.Cleanup(func() {
		srv.Close()
		p.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serving the proxy: %v", err)
		}
	})
	return p, &testServer{URL: "http://" + ln.Addr().String()}
}

// connCounter counts the open connections of an httptest server through
// its ConnState hook. A hijacked connection stops counting, because the
// server no longer owns it.
type connCounter struct {
	mu       sync.Mutex
	open     int
	accepted int
}

func (c *connCounter) hook(_ net.Conn, state http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch state {
	case http.StateNew:
		c.open++
		c.accepted++
	case http.StateClosed, http.StateHijacked:
		c.open--
	}
}

func (c *connCounter) Open() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open
}

// Accepted returns the number of connections accepted so far.
func (c *connCounter) Accepted() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.accepted
}

// startUpstream starts a loopback upstream whose open connections are
// counted.
func startUpstream(t *testing.T, h http.Handler) (*httptest.Server, *connCounter) {
	t.Helper()
	counter := &connCounter{}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = counter.hook
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, counter
}

// closedAddr returns a loopback address with nothing listening on it.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// waitFor polls cond until it holds, failing the test after 10 s. It waits
// for goroutines and sockets to wind down, and measures no performance.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitGoroutines waits until at most baseline goroutines run.
func waitGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines: %d, baseline %d\n%s", runtime.NumGoroutine(), baseline, buf[:n])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// get sends a GET through c and returns the status and body.
func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", url, err)
	}
	return res.StatusCode, string(body)
}

// mustAdd adds a route or fails the test.
func mustAdd(t testing.TB, table *Table, spec, target string, data map[string]any) {
	t.Helper()
	if err := table.Add(spec, target, data); err != nil {
		t.Fatalf("adding %s: %v", spec, err)
	}
}
