package proxy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// startRawUpstream starts an upstream that reads each request head, and
// its body when it has a Content-Length, and replies with response
// unchanged. With closeAfter it closes the connection after the response, else
// it waits for the next request.
func startRawUpstream(t *testing.T, response string, closeAfter bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveRaw(conn, response, closeAfter)
		}
	}()
	return "http://" + ln.Addr().String()
}

func serveRaw(conn net.Conn, response string, closeAfter bool) {
	defer conn.Close()
	br := bufio.NewReader(conn)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		if _, err := io.WriteString(conn, response); err != nil || closeAfter {
			return
		}
	}
}

// TestServeResponseFraming sends upstream responses of every framing, and
// broken ones, through Serve and through the plain handler, and compares
// what the client receives.
func TestServeResponseFraming(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\n"
	tests := []struct {
		name       string
		method     string
		response   string
		closeAfter bool
	}{
		{"length", "GET", ok + "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello", false},
		{"chunked with trailer", "GET", ok + "Content-Type: text/plain\r\nTrailer: X-Sum\r\n" +
			"Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n", false},
		{"chunked wins over length", "GET", ok + "Content-Type: text/plain\r\nContent-Length: 999\r\n" +
			"Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false},
		{"until close", "GET", ok + "Content-Type: text/plain\r\n\r\nstreamed until close", true},
		{"HTTP/1.0", "GET", "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nold", true},
		{"HTTP/1.0 with encoding", "GET", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n" +
			"Content-Length: 3\r\n\r\nold", true},
		{"sniffed type", "GET", ok + "Content-Length: 19\r\n\r\n<!DOCTYPE html><p>x", false},
		{"encoded, not sniffed", "GET", ok + "Content-Encoding: gzip\r\nContent-Length: 2\r\n\r\nxx", false},
		{"no content", "GET", "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", false},
		{"not modified", "GET", "HTTP/1.1 304 Not Modified\r\nContent-Type: text/plain\r\n" +
			"Content-Length: 5\r\nEtag: \"x\"\r\n\r\n", false},
		{"head", "HEAD", ok + "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\n", false},
		{"early hints", "GET", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" +
			ok + "Content-Length: 2\r\n\r\nok", false},
		{"hop by hop", "GET", ok + "Connection: X-Private, keep-alive\r\nX-Private: secret\r\n" +
			"Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\n" +
			"Content-Length: 2\r\n\r\nok", false},
		{"upstream closes", "GET", ok + "Connection: close\r\nContent-Length: 2\r\n\r\nok", true},
		{"same length twice", "GET", ok + "Content-Length: 2\r\nContent-Length: 2\r\n\r\nok", false},
		{"own reason phrase", "GET", "HTTP/1.1 200 Fine\r\nContent-Length: 2\r\n\r\nok", false},
		{"bare LF", "GET", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", false},
		{"date kept", "GET", ok + "Date: Thu, 01 Jan 2015 00:00:00 GMT\r\nContent-Length: 2\r\n\r\nok", false},
		{"bad status", "GET", "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", false},
		{"lengths differ", "GET", ok + "Content-Length: 2\r\nContent-Length: 3\r\n\r\nok", false},
		{"unknown encoding", "GET", ok + "Transfer-Encoding: gzip\r\n\r\n", false},
		{"two encodings", "GET", ok + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", false},
		{"switching protocols", "GET", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", false},
		{"many 1xx", "GET", strings.Repeat("HTTP/1.1 103 Early Hints\r\n\r\n", 8) + ok +
			"Content-Length: 0\r\n\r\n", false},
		{"not HTTP", "GET", "hello\r\n\r\n", true},
		{"obsolete folding", "GET", ok + "X-A: 1\r\n 2\r\nContent-Length: 0\r\n\r\n", false},
		{"connection names length", "GET", ok + "Connection: Content-Length\r\n" +
			"Content-Length: 5\r\n\r\nhello", false},
		{"connection names length of head", "HEAD", ok + "Connection: Content-Length\r\n" +
			"Content-Length: 5\r\n\r\n", false},
		{"connection names date", "GET", ok + "Connection: Date\r\n" +
			"Date: Thu, 01 Jan 2015 00:00:00 GMT\r\nContent-Length: 2\r\n\r\nok", false},
		{"connection names type", "GET", ok + "Connection: keep-alive, Content-Type\r\n" +
			"Content-Type: text/plain\r\nContent-Length: 19\r\n\r\n<!DOCTYPE html><p>x", false},
		{"connection names encoding", "GET", ok + "Connection: Content-Encoding\r\n" +
			"Content-Encoding: gzip\r\nContent-Length: 19\r\n\r\n<!DOCTYPE html><p>x", false},
		{"connection names a 1xx field", "GET", "HTTP/1.1 103 Early Hints\r\n" +
			"Connection: X-Hint\r\nX-Hint: 1\r\nLink: </a.css>\r\n\r\n" + ok + "Content-Length: 0\r\n\r\n", false},
		{"wrong length", "GET", ok + "Content-Length: 2\r\n\r\nok, and more", false},
		{"two responses", "GET", ok + "Content-Length: 2\r\n\r\nok" + ok + "Content-Length: 6\r\n\r\nforged", false},
		{"body after no content", "GET", "HTTP/1.1 204 No Content\r\n\r\n" + ok +
			"Content-Length: 6\r\n\r\nforged", false},
		{"large head", "GET", ok + strings.Repeat("X-Pad: "+strings.Repeat("a", 1000)+"\r\n", 200) +
			"Content-Length: 0\r\n\r\n", false},
		{"NUL in value", "GET", ok + "X-A: a\x00b\r\nContent-Length: 2\r\n\r\nok", false},
		{"negative length", "GET", ok + "Content-Length: -2\r\n\r\nok", false},
		{"plus length", "GET", ok + "Content-Length: +2\r\n\r\nok", false},
		{"chunked, identity", "GET", ok + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := NewTable(TableOptions{})
			mustAdd(t, table, "/", startRawUpstream(t, tt.response, tt.closeAfter), nil)
			fast := startServed(t, table, Options{})
			_, plain := startProxy(t, front{"handler", false}, table, Options{})
			req := tt.method + " /x HTTP/1.1\r\nHost: hub.test\r\n\r\n"

			got := dialRaw(t, fast.addr).roundTrip(req)
			want := dialRaw(t, strings.TrimPrefix(plain.URL, "http://")).roundTrip(req)
			if want.Status == http.StatusServiceUnavailable {
				// The fast path closes the connection after an error.
				want.Close = true
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("response (-handler +fast path):\n%s", diff)
			}
		})
	}
}

// getOnFastPath sends a GET through Serve to an upstream that responds
// with response and then closes the connection. It returns the client
// connection and the response the client read.
func getOnFastPath(t *testing.T, response string) (*rawClient, rawResponse) {
	t.Helper()
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/", startRawUpstream(t, response, true), nil)
	sp := startServed(t, table, Options{})
	c := dialRaw(t, sp.addr)
	return c, c.roundTrip("GET /x HTTP/1.1\r\nHost: hub.test\r\n\r\n")
}

// TestServeRejectsResponses sends upstream responses that net/http's
// Transport reads but the fast path rejects, because it reads responses
// more strictly. The client gets the ErrorHandler's 503, and no byte of
// the response.
func TestServeRejectsResponses(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\n"
	tests := []struct{ name, response string }{
		// net/http keeps "Content-Length " as a field of its own, and
		// reads the body until the connection closes.
		{"space before colon", ok + "Content-Length : 2\r\n\r\nok"},
		// net/http's Transport reads heads up to 10 MiB.
		{"head over 1 MiB", ok + strings.Repeat("X-Pad: "+strings.Repeat("a", 1000)+"\r\n", 1100) +
			"Content-Length: 0\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, res := getOnFastPath(t, tt.response)
			if res.Status != http.StatusServiceUnavailable {
				t.Errorf("status = %d, want 503", res.Status)
			}
			if res.Header.Get("X-Pad") != "" || res.Body == "ok" {
				t.Errorf("the client received the upstream's response: %+v", res)
			}
		})
	}
}

// TestServeKeepsResponsesApart sends two pipelined requests on one client
// connection, the first to a server whose response names Content-Length
// in Connection. The client must find the end of the first response, so
// the second server's response never becomes part of the first one's body.
func TestServeKeepsResponsesApart(t *testing.T) {
	forEachFront(t, func(t *testing.T, f front) {
		mallory := startRawUpstream(t, "HTTP/1.1 200 OK\r\nConnection: Content-Length\r\n"+
			"Content-Length: 5\r\n\r\nhello", false)
		alice, _ := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "alice's secret")
		}))
		table := NewTable(TableOptions{})
		mustAdd(t, table, "/user/mallory", mallory, nil)
		mustAdd(t, table, "/user/alice", alice.URL, nil)
		_, srv := startProxy(t, f, table, Options{})
		c := dialRaw(t, strings.TrimPrefix(srv.URL, "http://"))

		io.WriteString(c.conn, "GET /user/mallory/x HTTP/1.1\r\nHost: hub.test\r\n\r\n"+
			"GET /user/alice/y HTTP/1.1\r\nHost: hub.test\r\n\r\n")
		if res := c.read("GET"); res.Body != "hello" || res.Err != "" {
			t.Errorf("first response: body %q, error %q; want hello", res.Body, res.Err)
		}
		if res := c.read("GET"); res.Body != "alice's secret" {
			t.Errorf("second response: body %q, want alice's secret", res.Body)
		}
	})
}

// TestServeBrokenResponseBody checks that a response that breaks off after
// its head reaches the client broken, never as a complete response.
func TestServeBrokenResponseBody(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\n"
	tests := []struct{ name, response string }{
		{"short body", ok + "Content-Length: 10\r\n\r\nabc"},
		{"bad chunk size", ok + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n"},
		{"chunk without CRLF", ok + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n"},
		{"unfinished chunks", ok + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"},
		{"bad trailer", ok + "Transfer-Encoding: chunked\r\n\r\n0\r\nno colon\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, res := getOnFastPath(t, tt.response)
			if res.Err == "" {
				t.Errorf("the client read a complete response: %+v", res)
			}
			if !c.closed() {
				t.Error("the connection stayed open after a broken response")
			}
		})
	}
}

// TestServeLargeBodies streams bodies larger than every buffer both ways.
func TestServeLargeBodies(t *testing.T) {
	const size = 3<<20 + 17
	payload := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
	upstream, _ := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			sum := sha256.New()
			n, _ := io.Copy(sum, r.Body)
			fmt.Fprintf(w, "%d %x", n, sum.Sum(nil))
			return
		}
		if r.URL.Query().Get("length") == "1" {
			w.Header().Set("Content-Length", strconv.Itoa(size))
		}
		w.Write(payload)
	}))
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/", upstream.URL, nil)
	sp := startServed(t, table, Options{})
	c := dialRaw(t, sp.addr)

	head := fmt.Sprintf("POST /upload HTTP/1.1\r\nHost: hub.test\r\nContent-Length: %d\r\n\r\n", size)
	go c.conn.Write(append([]byte(head), payload...))
	res := c.read("POST")
	if want := fmt.Sprintf("%d %x", size, sha256.Sum256(payload)); res.Body != want {
		t.Errorf("upstream read %q, want %q", res.Body, want)
	}
	for _, query := range []string{"length=1", "length=0"} {
		res := c.roundTrip("GET /download?" + query + " HTTP/1.1\r\nHost: hub.test\r\n\r\n")
		if res.Body != string(payload) {
			t.Errorf("GET ?%s: body of %d bytes, want %d", query, len(res.Body), size)
		}
	}
	if n := sp.waitFastPath(t, 3); n != 3 {
		t.Errorf("fast path served %d requests, want 3", n)
	}
}

// TestServeEarlyResponse has the upstream respond before it reads a large
// request body. The client gets the response, then the connection closes,
// because the rest of the body was never read.
func TestServeEarlyResponse(t *testing.T) {
	upstream, _ := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
	}))
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/", upstream.URL, nil)
	sp := startServed(t, table, Options{})
	c := dialRaw(t, sp.addr)

	io.WriteString(c.conn, "PUT /big HTTP/1.1\r\nHost: hub.test\r\nContent-Length: 67108864\r\n\r\n")
	c.conn.Write(make([]byte, 64<<10))
	res := c.read("PUT")
	if res.Status != http.StatusRequestEntityTooLarge || !res.Close {
		t.Errorf("response %d, close %v; want 413 with Connection: close", res.Status, res.Close)
	}
	if !c.closed() {
		t.Error("the connection stayed open with the body unread")
	}
}
