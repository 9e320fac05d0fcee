// Package httpapi contains the pieces every JSON API handler of jupygo
// shares. Error separates the message a client sees from the internal cause.
// Handle writes such errors in the JSON shape the Jupyter APIs use, and
// DecodeJSON decodes request bodies with a size limit.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
)

// Error is an HTTP error. Message is safe to show to the client; Err is the
// internal cause, which is logged once and never sent.
type Error struct {
	Status  int
	Message string
	// Reason is the optional short reason that jupyter_server puts beside the
	// message; empty means null.
	Reason string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with the given status and a client-safe message.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an Error with the given status and client-safe message that
// keeps err as its internal cause.
func Wrap(status int, err error, message string) *Error {
	return &Error{Status: status, Message: message, Err: err}
}

// HandlerFunc is an HTTP handler that returns an error instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle adapts f to an http.Handler. An *Error returned by f is written with
// its status and message. Any other error becomes a 500 whose body gives only
// the status text, and is logged with the request id.
func Handle(log *slog.Logger, f HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := f(w, r)
		if err == nil {
			return
		}
		WriteError(log, w, r, err)
	})
}

// HandlePage is Handle for URLs that a browser opens as a page, such as
// file downloads and exports. When the request accepts text/html, an error
// is written as a short HTML page, so the browser tab shows a message
// rather than JSON. Other clients get the JSON body.
func HandlePage(log *slog.Logger, f HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := f(w, r)
		if err == nil {
			return
		}
		apiErr := logError(log, r, err)
		if !strings.Contains(r.Header.Get("Accept"), "text/html") {
			writeErrorJSON(w, apiErr)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'")
		w.WriteHeader(apiErr.Status)
		title := html.EscapeString(fmt.Sprintf("%d %s", apiErr.Status, http.StatusText(apiErr.Status)))
		fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>\n"+
			"<body><h1>%s</h1>\n<p>%s</p></body></html>\n", title, title, html.EscapeString(apiErr.Message))
	})
}

// WriteError writes err as a JSON error body, as Handle does.
func WriteError(log *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	writeErrorJSON(w, logError(log, r, err))
}

// logError logs err for the request r and returns it as an *Error: a
// returned *Error as it is, any other error as a 500 with only the status
// text for the client.
func logError(log *slog.Logger, r *http.Request, err error) *Error {
	var apiErr *Error
	if !errors.As(err, &apiErr) {
		apiErr = &Error{Status: http.StatusInternalServerError, Err: err}
	}
	if apiErr.Message == "" {
		apiErr.Message = http.StatusText(apiErr.Status)
	}
	level := slog.LevelDebug
	if apiErr.Status >= 500 {
		level = slog.LevelError
	} else if apiErr.Err != nil {
		level = slog.LevelInfo
	}
	log.Log(r.Context(), level, "request failed",
		"request_id", RequestID(r.Context()),
		"method", r.Method,
		"path", r.URL.Path,
		"status", apiErr.Status,
		"message", apiErr.Message,
		"err", apiErr.Err)
	return apiErr
}

// writeErrorJSON writes apiErr as jupyter_server's JSON error body.
func writeErrorJSON(w http.ResponseWriter, apiErr *Error) {
	var reason any
	if apiErr.Reason != "" {
		reason = apiErr.Reason
	}
	body := map[string]any{"message": apiErr.Message, "reason": reason}
	_ = WriteJSON(w, apiErr.Status, body)
}

// WriteJSON writes v as the JSON body of a response with the given status.
// Responses of the APIs are never cached by the browser.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding response: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	_, err = w.Write(data)
	return err
}

// MaxBodyBytes is the largest request body that the server reads: 512 MiB,
// the max_body_size and max_buffer_size that jupyter_server 2.x's ServerApp
// gives tornado. JupyterLab saves a notebook in one request, so this is also
// the largest notebook it can save.
const MaxBodyBytes = 512 << 20

// LimitBody returns the body of r capped at limit bytes. A request whose
// Content-Length is larger gets a 413 Error at once, before any of its body
// is read. A body without a length, sent in chunks, fails the read past
// limit with an *http.MaxBytesError, which BodyError turns into the same 413.
func LimitBody(w http.ResponseWriter, r *http.Request, limit int64) (io.Reader, error) {
	if r.ContentLength > limit {
		return nil, bodyTooLarge(limit)
	}
	return http.MaxBytesReader(w, r.Body, limit), nil
}

// BodyError returns the Error for err from reading a body that LimitBody
// capped: a 413 when the body passed the limit, a 400 otherwise.
func BodyError(err error) *Error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return bodyTooLarge(tooLarge.Limit)
	}
	return Wrap(http.StatusBadRequest, err, "reading request body: "+err.Error())
}

func bodyTooLarge(limit int64) *Error {
	return Errorf(http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", limit)
}

// DecodeJSON decodes the JSON body of r into v, whatever its Content-Type
// header, as jupyter_server does. A body that is not JSON,
// holds more than one value, or is larger than limit bytes (MaxBodyBytes when
// limit is 0) gives a 400 or 413 Error. An empty body leaves v unchanged and
// returns nil when emptyOK is set.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any, limit int64, emptyOK bool) error {
	if limit <= 0 {
		limit = MaxBodyBytes
	}
	body, err := LimitBody(w, r, limit)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(body)
	dec.UseNumber()
	err = dec.Decode(v)
	if errors.Is(err, io.EOF) {
		if emptyOK {
			return nil
		}
		return Errorf(http.StatusBadRequest, "request body is empty: a JSON body is required")
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return bodyTooLarge(tooLarge.Limit)
	}
	if err != nil {
		return Wrap(http.StatusBadRequest, err, "invalid JSON in request body: "+jsonErrorText(err))
	}
	if dec.More() {
		return Errorf(http.StatusBadRequest, "invalid JSON in request body: more than one value")
	}
	return nil
}

// jsonErrorText describes a JSON decoding error without echoing the input.
func jsonErrorText(err error) string {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("%s at byte %d", syntax.Error(), syntax.Offset)
	case errors.As(err, &typeErr):
		if typeErr.Field != "" {
			return fmt.Sprintf("field %q must be %s, not %s", typeErr.Field, jsonKind(typeErr.Type), typeErr.Value)
		}
		return fmt.Sprintf("expected %s, got %s", jsonKind(typeErr.Type), typeErr.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	}
	return err.Error()
}

type requestIDKey struct{}

// WithRequestID returns a copy of ctx that carries the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// jsonKind names the JSON value that decodes into a Go type, so that errors
// speak of objects and strings rather than of Go types.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a JSON value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[json.Number]() {
		return "a number"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a JSON value"
}

// BaseURL returns the base URL the request came through, ending in "/":
// the part of the request URI in front of the path that the mux matched,
// once the server stripped its base URL from r.URL.
func BaseURL(r *http.Request) string {
	uri := r.RequestURI
	if u, err := url.ParseRequestURI(uri); err == nil {
		uri = u.EscapedPath()
	}
	if prefix, ok := strings.CutSuffix(uri, r.URL.EscapedPath()); ok {
		return strings.TrimSuffix(prefix, "/") + "/"
	}
	return "/"
}
