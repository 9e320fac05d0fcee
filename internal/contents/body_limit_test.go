package contents

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// TestPutOverLimitRejectedBeforeBody sends the head of PUTs whose
// Content-Length passes httpapi.MaxBodyBytes and a few bytes of body, and
// expects a 413 with the JSON error body at once, before the rest arrives.
func TestPutOverLimitRejectedBeforeBody(t *testing.T) {
	s := newTestServer(t, Options{})
	addr := strings.TrimPrefix(s.url, "http://")
	for _, length := range []int64{httpapi.MaxBodyBytes + 1, 1300 << 20} {
		t.Run(fmt.Sprint(length), func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "PUT /api/contents/huge.txt HTTP/1.1\r\nHost: %s\r\n"+
				"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", addr, length)
			io.WriteString(conn, `{"type": "file", "format": "text", "content": "`)

			// A server that reads the body first waits here for bytes that
			// never come.
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no response before the body was sent: %v", err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d, want 413", resp.StatusCode)
			}
			var body struct {
				Message string `json:"message"`
				Reason  any    `json:"reason"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("response body is not the JSON error: %v", err)
			}
			want := fmt.Sprintf("request body is larger than %d bytes", httpapi.MaxBodyBytes)
			if body.Message != want {
				t.Errorf("message %q, want %q", body.Message, want)
			}
			if body.Reason != nil {
				t.Errorf("reason %v, want null", body.Reason)
			}
			if got := s.readFile("huge.txt"); got != "<missing>" {
				t.Errorf("huge.txt was written: %d bytes", len(got))
			}
		})
	}
}

// TestReadBodyCapsChunkedBody sends bodies without a Content-Length, in
// chunks, to readBody with a limit of 1 MiB: one at the limit is read
// whole, and one past it gets a 413.
func TestReadBodyCapsChunkedBody(t *testing.T) {
	const limit = 1 << 20
	log := slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(httpapi.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		if r.ContentLength != -1 {
			t.Errorf("request with Content-Length %d, want a body in chunks", r.ContentLength)
		}
		text, err := readBody(w, r, limit)
		if err != nil {
			return err
		}
		return httpapi.WriteJSON(w, http.StatusOK, map[string]int{"read": len(text)})
	}))
	defer srv.Close()
	for _, tc := range []struct {
		size       int
		wantStatus int
		want       string
	}{
		{limit, http.StatusOK, `{"read":1048576}`},
		{limit + 1, http.StatusRequestEntityTooLarge,
			`{"message":"request body is larger than 1048576 bytes","reason":null}`},
	} {
		// A reader of unknown length makes the client send the body in chunks.
		body := io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("x"), tc.size)))
		req, err := http.NewRequest("PUT", srv.URL, body)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tc.wantStatus || string(data) != tc.want {
			t.Errorf("%d bytes in chunks: %d %s, want %d %s",
				tc.size, resp.StatusCode, data, tc.wantStatus, tc.want)
		}
	}
}
