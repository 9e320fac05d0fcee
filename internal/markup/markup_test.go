package markup_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	g "github.com/jupygo/jupygo/internal/markup"
	h "github.com/jupygo/jupygo/internal/markup/html"
)

func render(t *testing.T, n g.Node) string {
	t.Helper()
	var b strings.Builder
	if err := n.Render(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestRenderDocument(t *testing.T) {
	items := []string{"a&b", `"c"`}
	doc := h.Doctype(h.HTML(h.Lang("en"),
		h.Head(h.Meta(h.Charset("utf-8")), h.TitleEl(g.Text("<t>"))),
		h.Body(
			h.Form(h.Method("post"), g.Group{h.Class("inline"), h.ID("f")},
				h.Input(h.Type("text"), h.Name("q"), h.Required(), g.Text("dropped")),
				g.If(false, h.P(g.Text("hidden"))),
				g.If(true, h.P(g.Text("shown"))),
				nil,
			),
			h.Ul(g.Map(items, func(s string) g.Node { return h.Li(g.Text(s)) })),
			h.Script(g.Raw("if (a < b) {}")),
		),
	))
	want := `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>&lt;t&gt;</title></head>` +
		`<body><form method="post" class="inline" id="f"><input type="text" name="q" required>` +
		`<p>shown</p></form><ul><li>a&amp;b</li><li>&#34;c&#34;</li></ul>` +
		`<script>if (a < b) {}</script></body></html>`
	if got := render(t, doc); got != want {
		t.Errorf("document:\n got %s\nwant %s", got, want)
	}
}

func TestAttributeValuesEscaped(t *testing.T) {
	got := render(t, h.A(h.Href(`x" onmouseover="alert(1)`), g.Attr("data-x", "<'&>")))
	want := `<a href="x&#34; onmouseover=&#34;alert(1)" data-x="&lt;&#39;&amp;&gt;"></a>`
	if got != want {
		t.Errorf("attributes:\n got %s\nwant %s", got, want)
	}
}

func TestAttributeWithTwoValuesPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Attr with two values did not panic")
		}
	}()
	g.Attr("class", "a", "b")
}

func TestIffBuildsOnlyWhenUsed(t *testing.T) {
	built := false
	n := g.Iff(false, func() g.Node { built = true; return g.Text("x") })
	if n != nil || built {
		t.Errorf("Iff(false) = %v, built %v; want nil and not built", n, built)
	}
	if got := render(t, h.P(g.Iff(true, func() g.Node { return g.Text("y") }))); got != "<p>y</p>" {
		t.Errorf("Iff(true) rendered %q, want <p>y</p>", got)
	}
}

type failAfter struct{ left int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, errors.New("disk full")
	}
	f.left--
	return len(p), nil
}

func TestRenderStopsAtFirstError(t *testing.T) {
	calls := 0
	late := g.NodeFunc(func(io.Writer) error { calls++; return nil })
	err := h.Div(h.P(g.Text("a")), h.P(g.Text("b")), late).Render(&failAfter{left: 3})
	if err == nil || err.Error() != "disk full" {
		t.Errorf("Render error %v, want disk full", err)
	}
	if calls != 0 {
		t.Errorf("a node after the failed write was rendered %d times", calls)
	}
}
