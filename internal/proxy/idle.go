package proxy

import (
	"net"
	"time"
)

// IdleTimeoutListener returns a listener whose connections close when no
// byte has been read from or written to them for d, as
// configurable-http-proxy's --timeout closes idle client sockets. The
// connections are not TCP connections any more, so Proxy.Serve hands them
// all to its http.Server.
func IdleTimeoutListener(ln net.Listener, d time.Duration) net.Listener {
	return &idleListener{Listener: ln, timeout: d}
}

type idleListener struct {
	net.Listener
	timeout time.Duration
}

func (l *idleListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	ic := &idleConn{Conn: c, timeout: l.timeout}
	ic.timer = time.AfterFunc(l.timeout, func() { c.Close() })
	return ic, nil
}

// idleConn closes its connection when its timer fires; every read or
// write that moves data restarts the timer.
type idleConn struct {
	net.Conn
	timeout time.Duration
	timer   *time.Timer
}

func (c *idleConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.timer.Reset(c.timeout)
	}
	return n, err
}

func (c *idleConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.timer.Reset(c.timeout)
	}
	return n, err
}

func (c *idleConn) Close() error {
	c.timer.Stop()
	return c.Conn.Close()
}
