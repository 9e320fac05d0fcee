package proxy

import (
	"bufio"
	"bytes"
	"net/http"
	"slices"
	"testing"
)

// FuzzParseRequest checks that the fast path accepts a request head only
// when net/http reads it the same way, which makes forwarding its target
// byte for byte safe.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		"GET /user/alice/lab?x=1 HTTP/1.1\r\nHost: hub.test\r\n\r\n",
		"POST /a%2Fb HTTP/1.1\r\nHost: h:80\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
		"GET /x HTTP/1.1\r\nHost: h\r\nTe: trailers\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
		"GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",
		"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
		"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n 0\r\n\r\n",
		"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length : 3\r\n\r\n",
		"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: h\r\nX-A: a\x00b\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: h\r\nConnection: Content-Length\r\nContent-Length: 0\r\n\r\n",
		"GET http://other/x HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET //other/x HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /a/..%2Fb;c HTTP/1.1\r\nHost: H:80\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n := headEnd(data)
		if n < 0 {
			return
		}
		head := data[:n]
		c := &fastConn{}
		req, ok := c.parseRequest(head)
		if !ok {
			return
		}
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
		if err != nil {
			t.Fatalf("accepted a head that net/http rejects: %v\n%q", err, head)
		}
		checks := []struct {
			what      string
			got, want any
		}{
			{"method", req.method, r.Method},
			{"host", string(req.host), r.Host},
			{"path", req.target.path, r.URL.Path},
			{"escaped path", string(req.target.rawPath), r.URL.EscapedPath()},
			{"request URI", string(req.target.raw), r.URL.RequestURI()},
			{"length", req.length, max(r.ContentLength, 0)},
			{"close", req.close, r.Close},
			{"chunked", false, slices.Contains(r.TransferEncoding, "chunked")},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s = %v, net/http reads %v\n%q", c.what, c.got, c.want, head)
			}
		}
	})
}

// FuzzParseResponse checks that the fast path reads an upstream response
// head with the status and body framing net/http's Transport reads.
func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n0\r\n\r\n",
		"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nold",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
		"HTTP/1.1 103 Early Hints\nLink: </a>\n\n",
		"HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nConnection: close\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: Content-Length\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nConnection: Date, Content-Type\r\nDate: x\r\nContent-Type: a/b\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
		"HTTP/1.1 204 No Content\r\nConnection: Content-Length\r\nContent-Length: 2\r\n\r\n",
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, head bool) {
		n := headEnd(data)
		if n < 0 {
			return
		}
		method := http.MethodGet
		if head {
			method = http.MethodHead
		}
		c := &fastConn{}
		res, ok := c.parseResponse(data[:n], &fastRequest{method: method})
		if !ok {
			return
		}
		r, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(data[:n])), &http.Request{Method: method})
		if err != nil {
			t.Fatalf("accepted a head that net/http rejects: %v\n%q", err, data[:n])
		}
		if res.status != r.StatusCode {
			t.Errorf("status = %d, net/http reads %d\n%q", res.status, r.StatusCode, data[:n])
		}
		chunked := slices.Contains(r.TransferEncoding, "chunked")
		switch res.framing {
		case bodyNone:
			// For HEAD, net/http reports the length the header gives.
			if r.Body != http.NoBody {
				t.Errorf("no body, net/http reads length %d, chunked %v\n%q", r.ContentLength, chunked, data[:n])
			}
		case bodyLength:
			if r.ContentLength != res.length || chunked {
				t.Errorf("length %d, net/http reads %d, chunked %v\n%q", res.length, r.ContentLength, chunked, data[:n])
			}
		case bodyChunked:
			if !chunked {
				t.Errorf("chunked, net/http reads length %d\n%q", r.ContentLength, data[:n])
			}
		case bodyUntilClose:
			if r.ContentLength != -1 || chunked || !r.Close {
				t.Errorf("until close, net/http reads length %d, chunked %v, close %v\n%q",
					r.ContentLength, chunked, r.Close, data[:n])
			}
		}
		if res.keepAlive && r.Close {
			t.Errorf("keep-alive, net/http reads close\n%q", data[:n])
		}
		if res.status >= 200 {
			checkClientFraming(t, c, &res, method, data[:n])
		}
	})
}

// checkClientFraming checks that a client reads the head the fast path
// sends for res with the framing of the body the fast path sends after
// it: the body must end where the proxy's output for it ends, so nothing
// that follows on the connection can become part of it.
func checkClientFraming(t *testing.T, c *fastConn, res *fastResponse, method string, upstreamHead []byte) {
	t.Helper()
	head := c.appendResponseHead(nil, res, nil, false)
	r, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(head)), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("a client cannot read the head sent for it: %v\n%q\nfrom %q", err, head, upstreamHead)
	}
	chunked := slices.Contains(r.TransferEncoding, "chunked")
	var ok bool
	switch res.framing {
	case bodyNone:
		ok = r.Body == http.NoBody
	case bodyLength:
		ok = r.ContentLength == res.length && !chunked
	case bodyChunked, bodyUntilClose:
		ok = chunked
	}
	if !ok || r.Close {
		t.Errorf("framing %d, a client reads length %d, chunked %v, close %v\n%q\nfrom %q",
			res.framing, r.ContentLength, chunked, r.Close, head, upstreamHead)
	}
}

func TestParseLength(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"007", 7, true},
		{"9223372036854775807", 1<<63 - 1, true},
		{"9223372036854775808", 0, false},
		{"99999999999999999999", 0, false},
		{"18446744073709551617", 0, false},
		{"", 0, false},
		{"+1", 0, false},
		{"1 ", 0, false},
		{"0x10", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseLength([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseLength(%q) = %d, %v, want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
