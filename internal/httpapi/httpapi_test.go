package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecodeJSONErrorsNameJSONKinds(t *testing.T) {
	type model struct {
		Name  string      `json:"name"`
		Size  int         `json:"size"`
		Count json.Number `json:"count"`
		Tags  []string    `json:"tags"`
	}
	tests := []struct{ body, want string }{
		{`[]`, "expected an object, got array"},
		{`{"name": 1}`, `field "name" must be a string, not number`},
		{`{"size": "x"}`, `field "size" must be an integer, not string`},
		{`{"count": {}}`, `field "count" must be a number, not object`},
		{`{"tags": "x"}`, `field "tags" must be a list, not string`},
		{``, "request body is empty"},
		{`{} {}`, "more than one value"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("PUT", "/", strings.NewReader(tt.body))
		var m model
		err := DecodeJSON(httptest.NewRecorder(), r, &m, 0, false)
		var e *Error
		if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
			t.Errorf("body %q: error %v, want a 400", tt.body, err)
			continue
		}
		if !strings.Contains(e.Message, tt.want) || strings.Contains(e.Message, "httpapi.") {
			t.Errorf("body %q: message %q, want it to say %q", tt.body, e.Message, tt.want)
		}
	}
}

func TestHandlePageErrorsAsHTMLForBrowsers(t *testing.T) {
	h := HandlePage(slog.New(slog.DiscardHandler), func(w http.ResponseWriter, r *http.Request) error {
		return Errorf(http.StatusNotFound, "no file <b>x</b>")
	})

	req := httptest.NewRequest("GET", "/files/x", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("status = %d, want 404", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	if body := rec.Body.String(); !strings.Contains(body, "<h1>404 Not Found</h1>") ||
		!strings.Contains(body, "no file &lt;b&gt;x&lt;/b&gt;") {
		t.Errorf("page = %q, want the status and the escaped message", body)
	}

	req = httptest.NewRequest("GET", "/files/x", nil)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["message"] != "no file <b>x</b>" {
		t.Errorf("body without Accept text/html = %s (%v), want the JSON error", rec.Body, err)
	}
}

// unreadBody fails the test when it is read.
type unreadBody struct{ t *testing.T }

func (b unreadBody) Read([]byte) (int, error) {
	b.t.Error("the body was read")
	return 0, io.EOF
}

func TestDecodeJSONRejectsLongContentLengthUnread(t *testing.T) {
	r := httptest.NewRequest("PUT", "/", unreadBody{t})
	r.ContentLength = 1<<20 + 1
	var v map[string]any
	err := DecodeJSON(httptest.NewRecorder(), r, &v, 1<<20, false)
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("error %v, want a 413", err)
	}
	if want := "request body is larger than 1048576 bytes"; e.Message != want {
		t.Errorf("message %q, want %q", e.Message, want)
	}
}
