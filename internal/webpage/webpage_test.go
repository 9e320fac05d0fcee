package webpage

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	g "github.com/jupygo/jupygo/internal/markup"
	h "github.com/jupygo/jupygo/internal/markup/html"
)

func TestURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/hub/home", "/hub/home"},
		{"https://example.org/a?b=c", "https://example.org/a?b=c"},
		{"HTTP://example.org/", "HTTP://example.org/"},
		{"mailto:a@example.org", "mailto:a@example.org"},
		{"../up", "../up"},
		{"/user/a:b/lab", "/user/a:b/lab"},
		{"?next=x:y", "?next=x:y"},
		{"#frag:x", "#frag:x"},
		{"", ""},
		{"javascript:alert(1)", unsafeURL},
		{"JavaScript:alert(1)", unsafeURL},
		{" javascript:alert(1)", unsafeURL},
		{"java\tscript:alert(1)", unsafeURL},
		{"data:text/html,<script>alert(1)</script>", unsafeURL},
		{"vbscript:x", unsafeURL},
		{"/ok\nbad", unsafeURL},
	} {
		if got := URL(tc.in); got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWithQuery(t *testing.T) {
	for _, tc := range []struct {
		base  string
		pairs []string
		want  string
	}{
		{"/login", nil, "/login"},
		{"/login", []string{"next", "/a b&c=d"}, "/login?next=%2Fa+b%26c%3Dd"},
		{"/x", []string{"a", "1", "b", "é"}, "/x?a=1&b=%C3%A9"},
	} {
		if got := WithQuery(tc.base, tc.pairs...); got != tc.want {
			t.Errorf("WithQuery(%q, %q) = %q, want %q", tc.base, tc.pairs, got, tc.want)
		}
	}
}

func TestJSONScriptCannotCloseTheElement(t *testing.T) {
	n, err := JSONScript("cfg", map[string]string{"next": "</script><script>alert(1)</script>&"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := n.Render(&b); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	want := `<script id="cfg" type="application/json">{"next":"\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e\u0026"}</script>`
	if got != want {
		t.Errorf("JSONScript rendered\n%s\nwant\n%s", got, want)
	}
	if _, err := JSONScript("x", func() {}); err == nil {
		t.Error("JSONScript of a func gave no error")
	}
}

func TestWriteEscapesAndSetsHeaders(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("X-Frame-Options", "DENY")
	name := `<img src=x onerror=alert(1)>"`
	page := h.HTML(h.Body(h.P(g.Text(name)), h.A(h.Href(URL("javascript:alert(1)")), g.Attr("title", name))))
	if err := Write(rec, http.StatusTeapot, page); err != nil {
		t.Fatal(err)
	}
	body := rec.Body.String()
	if rec.Code != http.StatusTeapot {
		t.Errorf("status %d, want %d", rec.Code, http.StatusTeapot)
	}
	for k, v := range map[string]string{
		"Content-Type":    "text/html; charset=utf-8",
		"Cache-Control":   "no-store",
		"X-Frame-Options": "DENY",
	} {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if strings.Contains(body, "<img") || strings.Contains(body, `"javascript:`) {
		t.Errorf("page carries unescaped input:\n%s", body)
	}
	if !strings.Contains(body, "&lt;img src=x onerror=alert(1)&gt;&#34;") {
		t.Errorf("page lacks the escaped name:\n%s", body)
	}
}

type failingNode struct{}

func (failingNode) Render(io.Writer) error { return errors.New("broken") }

func TestWriteRenderFailure(t *testing.T) {
	rec := httptest.NewRecorder()
	if err := Write(rec, http.StatusOK, failingNode{}); err == nil {
		t.Fatal("Write of a failing page gave no error")
	}
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "<html") {
		t.Errorf("failing page: status %d, body %q; want 500 and no HTML", rec.Code, rec.Body.String())
	}
}
