package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
)

// activityBody is a request or response body that moves its route's last
// activity whenever data is read.
type activityBody struct {
	io.ReadCloser
	activity *activity
	table    *Table
}

func (b *activityBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.activity.touch(b.table.nowNanos())
	}
	return n, err
}

// upgradedConn is the upstream side of a switched connection, such as a
// WebSocket. Reads carry upstream data to the client and writes client data
// to the upstream; both move the route's last activity. The proxy tracks
// every upgradedConn so Close can end them.
type upgradedConn struct {
	rwc      io.ReadWriteCloser
	activity *activity
	table    *Table
	proxy    *Proxy

	closeOnce sync.Once
	closeErr  error
}

func (c *upgradedConn) Read(p []byte) (int, error) {
	n, err := c.rwc.Read(p)
	if n > 0 {
		c.activity.touch(c.table.nowNanos())
	}
	return n, err
}

func (c *upgradedConn) Write(p []byte) (int, error) {
	n, err := c.rwc.Write(p)
	if n > 0 {
		c.activity.touch(c.table.nowNanos())
	}
	return n, err
}

// Close closes the upstream connection once and stops tracking it.
func (c *upgradedConn) Close() error {
	c.closeOnce.Do(func() {
		c.proxy.untrack(c)
		c.closeErr = c.rwc.Close()
	})
	return c.closeErr
}

// upgradeWriter wraps the ResponseWriter of an upgrade request to record
// whether the client connection was hijacked, after which nothing may be
// written to the ResponseWriter.
type upgradeWriter struct {
	http.ResponseWriter
	state *requestState
}

func (w *upgradeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.state.hijacked = true
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the other methods of the
// wrapped ResponseWriter, such as Flush.
func (w *upgradeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
