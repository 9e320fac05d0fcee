package contents

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// requestModel is the JSON body of PUT, POST and PATCH.
type requestModel struct {
	Type     string          `json:"type"`
	Format   string          `json:"format"`
	Content  json.RawMessage `json:"content"`
	Chunk    *int            `json:"chunk"`
	CopyFrom string          `json:"copy_from"`
	Ext      string          `json:"ext"`
	Path     *string         `json:"path"`

	// parsed is the decoded content when parseRequestModel read the body,
	// and Content is then nil. hasParsed is set when the body has a
	// content key, even one whose value is null.
	parsed    any
	hasParsed bool
}

func (b *requestModel) empty() bool {
	return b == nil || b.Type == "" && b.Format == "" && b.Content == nil && !b.hasParsed &&
		b.Chunk == nil && b.CopyFrom == "" && b.Ext == "" && b.Path == nil
}

// decodeBody decodes the request body as httpapi.DecodeJSON does, with
// encoding/json's rules for a struct; an empty body or null gives nil.
// The body is read whole and parsed by jsonParser, which is much faster on
// a large notebook. Some bodies it leaves to httpapi.DecodeJSON: those
// that are not UTF-8 or not valid JSON, and those with a field of the
// wrong type or a key in other letter case. So the result and the errors
// stay exactly those of encoding/json.
func decodeBody(w http.ResponseWriter, r *http.Request) (*requestModel, error) {
	text, err := readBody(w, r, httpapi.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	if body, ok := parseRequestModel(text); ok {
		return body, nil
	}
	var body *requestModel
	again := r.WithContext(r.Context())
	again.Body = io.NopCloser(strings.NewReader(text))
	if err := httpapi.DecodeJSON(w, again, &body, int64(len(text))+1, true); err != nil {
		return nil, err
	}
	return body, nil
}

// readBody reads the request body whole, up to limit bytes. A body that
// its Content-Length announces to be larger is rejected before it is read.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) (string, error) {
	body, err := httpapi.LimitBody(w, r, limit)
	if err != nil {
		return "", err
	}
	var text strings.Builder
	if r.ContentLength > 0 {
		text.Grow(int(r.ContentLength))
	}
	_, err = readChunks(body, func(chunk []byte) {
		text.Write(chunk)
	})
	if err != nil {
		return "", httpapi.BodyError(err)
	}
	return text.String(), nil
}

// readChunks reads r to its end in pieces of 64 KiB, passing each to use,
// and returns the number of bytes read.
func readChunks(r io.Reader, use func([]byte)) (int64, error) {
	chunk := make([]byte, 64<<10)
	var total int64
	for {
		n, err := r.Read(chunk)
		if n > 0 {
			use(chunk[:n])
			total += int64(n)
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// requestFields are the keys of requestModel.
var requestFields = []string{"type", "format", "content", "chunk", "copy_from", "ext", "path"}

// parseRequestModel decodes text as encoding/json would decode it into a
// *requestModel, for the bodies that clients send. It returns false for
// any other body, whose decoding is left to encoding/json.
func parseRequestModel(text string) (*requestModel, bool) {
	if !utf8.ValidString(text) {
		return nil, false
	}
	p := &jsonParser{src: text}
	if p.next() == 0 && p.pos == len(p.src) {
		return nil, true // an empty body
	}
	v, err := p.value()
	if err != nil || p.end() != nil {
		return nil, false
	}
	if v == nil {
		return nil, true
	}
	fields, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	body := &requestModel{}
	for key, v := range fields {
		if !body.set(key, v) {
			return nil, false
		}
	}
	return body, true
}

// set stores the value v of key in b, and reports whether encoding/json
// would have stored it the same way without an error.
func (b *requestModel) set(key string, v any) bool {
	var text *string
	switch key {
	case "type":
		text = &b.Type
	case "format":
		text = &b.Format
	case "copy_from":
		text = &b.CopyFrom
	case "ext":
		text = &b.Ext
	case "content":
		b.parsed, b.hasParsed = v, true
		return true
	case "chunk":
		switch v := v.(type) {
		case nil:
			b.Chunk = nil
			return true
		case json.Number:
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil || int64(int(n)) != n {
				return false
			}
			b.Chunk = ptr(int(n))
			return true
		}
		return false
	case "path":
		switch v := v.(type) {
		case nil:
			b.Path = nil
			return true
		case string:
			b.Path = &v
			return true
		}
		return false
	default:
		// encoding/json matches keys to fields without regard to case,
		// which the switch above does not.
		for _, f := range requestFields {
			if strings.EqualFold(key, f) {
				return false
			}
		}
		return true
	}
	// encoding/json leaves a string field as it was for null, which may
	// be the value of an earlier duplicate key that the parsed object no
	// longer has, so only strings are taken here.
	s, ok := v.(string)
	if ok {
		*text = s
	}
	return ok
}

// content returns the content of body: a notebook (with json.Number
// numbers) for notebooks, a string for files, or nil when there is none.
func (b *requestModel) content() (any, error) {
	if b.hasParsed {
		return b.parsed, nil
	}
	if b.Content == nil || bytes.Equal(b.Content, []byte("null")) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b.Content))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, httpapi.Wrap(http.StatusBadRequest, err, "invalid content in request body")
	}
	return v, nil
}
