package wsconn

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client *net.TCPConn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		t.Fatal("accepting a loopback connection failed")
	}
	t.Cleanup(func() {
		s.Close()
		c.Close()
	})
	return s.(*net.TCPConn), c.(*net.TCPConn)
}

// TestDirectWrite writes more to a peer that does not read than its
// socket buffers hold: the direct write returns at once, keeps the rest
// pending until Flush, and the peer gets every byte in order.
func TestDirectWrite(t *testing.T) {
	server, client := tcpPair(t)
	server.SetWriteBuffer(64 << 10)
	client.SetReadBuffer(64 << 10)
	c := New(server)
	if c == nil {
		t.Fatal("New returned nil for a TCP connection")
	}

	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	if !c.BeginDirect() {
		t.Fatal("BeginDirect rejected an idle connection")
	}
	if n, err := c.Write(data); n != len(data) || err != nil {
		t.Fatalf("direct Write = %d, %v; want %d, nil", n, err, len(data))
	}
	if !c.EndDirect() {
		t.Fatal("EndDirect reports nothing pending after 4 MiB to a peer that does not read")
	}
	if c.BeginDirect() {
		t.Fatal("BeginDirect accepted a connection with pending bytes")
	}

	tail := []byte("tail")
	received := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(client, int64(len(data)+len(tail))))
		received <- b
	}()
	if err := c.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if !c.BeginDirect() {
		t.Fatal("BeginDirect rejected the connection after Flush")
	}
	if _, err := c.Write(tail); err != nil {
		t.Fatalf("direct Write after Flush: %v", err)
	}
	c.EndDirect()
	if err := c.Flush(); err != nil {
		t.Fatalf("second Flush: %v", err)
	}
	got := <-received
	if !bytes.Equal(got, append(data, tail...)) {
		t.Errorf("peer got %d bytes, not the %d written in order", len(got), len(data)+len(tail))
	}
}

// TestDirectWriteError closes the connection under a direct write:
// the error is kept, so EndDirect reports it and Flush returns it.
func TestDirectWriteError(t *testing.T) {
	server, _ := tcpPair(t)
	c := New(server)
	c.Close()
	if !c.BeginDirect() {
		t.Fatal("BeginDirect rejected an idle connection")
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("direct Write on a closed connection: %v, want net.ErrClosed", err)
	}
	if !c.EndDirect() {
		t.Error("EndDirect does not report the failed write")
	}
	if err := c.Flush(); err == nil {
		t.Error("Flush after a failed write returned no error")
	}
	if c.BeginDirect() {
		t.Error("BeginDirect accepted a connection whose write failed")
	}
}

// TestDirectWriteResetPeer writes directly to a connection whose peer
// reset it: the write fails.
func TestDirectWriteResetPeer(t *testing.T) {
	server, client := tcpPair(t)
	c := New(server)
	client.SetLinger(0)
	client.Close()
	if !c.BeginDirect() {
		t.Fatal("BeginDirect rejected an idle connection")
	}
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = c.Write([]byte("x"))
		time.Sleep(time.Millisecond)
	}
	if err == nil {
		t.Error("direct Writes to a reset connection returned no error")
	}
	c.EndDirect()
}

// TestCork collects writes between Cork and Uncork, rejects direct
// writes meanwhile, and sends what it collected in order.
func TestCork(t *testing.T) {
	server, client := tcpPair(t)
	c := New(server)
	c.Cork()
	for _, p := range []string{"first ", "second ", "third"} {
		if n, err := c.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("corked Write(%q) = %d, %v", p, n, err)
		}
	}
	if c.BeginDirect() {
		t.Error("BeginDirect accepted a corked connection")
	}
	if err := c.Uncork(); err != nil {
		t.Fatalf("Uncork: %v", err)
	}
	want := "first second third"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("peer got %q, want %q", got, want)
	}
}

// TestRead reads what the peer wrote, waiting for it when nothing has
// arrived yet, then io.EOF once the peer closed.
func TestRead(t *testing.T) {
	server, client := tcpPair(t)
	c := New(server)
	go func() {
		time.Sleep(10 * time.Millisecond) // so that the first Read waits
		client.Write([]byte("hello"))
		client.Close()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading until EOF: %v", err)
	}
	if string(got) != "hello" {
		t.Errorf("read %q, want %q", got, "hello")
	}
	if n, err := c.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Errorf("Read after EOF = %d, %v; want 0, io.EOF", n, err)
	}
}
