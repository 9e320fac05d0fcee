package httpapi

import (
	"encoding/json"
	"errors"
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
