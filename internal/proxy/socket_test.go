package proxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// socketPair returns the two ends of a loopback TCP connection, the first
// wrapped in a socket.
func socketPair(t *testing.T) (*socket, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); peer.Close() })
	return newSocket(c.(*net.TCPConn)), peer.(*net.TCPConn)
}

func TestSocketReadWaitsAndReturnsEOF(t *testing.T) {
	s, peer := socketPair(t)
	go func() {
		time.Sleep(20 * time.Millisecond) // the read finds nothing and waits
		peer.Write([]byte("hello"))
		peer.CloseWrite()
	}()
	buf := make([]byte, 16)
	n, err := s.Read(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("Read = %q, %v; want hello, nil", buf[:n], err)
	}
	if n, err := s.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("Read after the peer's FIN = %d, %v; want 0, io.EOF", n, err)
	}
}

func TestSocketReadDeadline(t *testing.T) {
	s, _ := socketPair(t)
	s.conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err := s.Read(make([]byte, 1))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past the deadline: %v; want os.ErrDeadlineExceeded", err)
	}
}

// A write larger than the socket buffers waits for the peer to read and
// then writes the rest, so the peer gets every byte in order.
func TestSocketWriteWaitsForRoom(t *testing.T) {
	s, peer := socketPair(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB
	got := make(chan []byte, 1)
	go func() {
		time.Sleep(20 * time.Millisecond) // the writer fills the buffers first
		b, _ := io.ReadAll(peer)
		got <- b
	}()
	n, err := s.Write(data)
	if err != nil || n != len(data) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(data))
	}
	s.conn.CloseWrite()
	if b := <-got; !bytes.Equal(b, data) {
		t.Fatalf("peer read %d bytes, not the %d written", len(b), len(data))
	}
}

func TestSocketClosed(t *testing.T) {
	s, _ := socketPair(t)
	s.conn.Close()
	if _, err := s.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read of a closed socket: %v; want net.ErrClosed", err)
	}
	if _, err := s.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write of a closed socket: %v; want net.ErrClosed", err)
	}
}

// A write to a connection that the peer reset fails with an error, and
// the process survives the SIGPIPE that such a write raises.
func TestSocketWriteAfterReset(t *testing.T) {
	s, peer := socketPair(t)
	peer.SetLinger(0)
	peer.Close()
	var err error
	for range 100 {
		if _, err = s.Write([]byte("x")); err != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err == nil {
		t.Fatal("writes to a reset connection kept succeeding")
	}
}
