package server

import (
	"strings"
	"testing"

	g "github.com/jupygo/jupygo/internal/markup"
)

func renderNode(t *testing.T, n g.Node) string {
	t.Helper()
	var b strings.Builder
	if err := n.Render(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestPagesEscapeTheirValues(t *testing.T) {
	const hostile = `"><script>alert(1)</script>`
	login := renderNode(t, loginPage("/login", hostile, hostile, true))
	message := renderNode(t, hubMessagePage(403, hostile, hostile, "javascript:alert(1)"))
	for name, body := range map[string]string{"login": login, "message": message} {
		if strings.Contains(body, "<script>") || strings.Contains(body, `href="javascript:`) {
			t.Errorf("%s page carries unescaped input:\n%s", name, body)
		}
		if !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("%s page lacks the escaped value:\n%s", name, body)
		}
	}
	for _, want := range []string{`action="/login"`, `name="_xsrf"`, `name="next"`, "Invalid token.", `<!doctype html>`} {
		if !strings.Contains(login, want) {
			t.Errorf("login page lacks %s:\n%s", want, login)
		}
	}
	if !strings.Contains(message, "<h1>403: &#34;&gt;&lt;script&gt;") {
		t.Errorf("message page lacks its heading:\n%s", message)
	}
}
