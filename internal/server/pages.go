package server

import (
	"strconv"

	g "github.com/jupygo/jupygo/internal/markup"
	h "github.com/jupygo/jupygo/internal/markup/html"
	"github.com/jupygo/jupygo/internal/webpage"
)

// The server's own HTML pages: the token login form, and the message page of
// single-user mode. Every other page a browser loads is JupyterLab.

const loginStyle = `body{font-family:system-ui,sans-serif;background:#f5f5f5;margin:0;display:flex;
min-height:100vh;align-items:center;justify-content:center}
form{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;width:22rem}
h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;margin-bottom:.4rem}
input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}
button{margin-top:1rem;padding:.5rem 1rem;font-size:1rem}
p{color:#555;font-size:.9rem}.error{color:#b00020}`

const messageStyle = `body{font-family:system-ui,sans-serif;background:#f5f5f5;margin:0;display:flex;
min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;max-width:32rem}
h1{font-size:1.3rem;margin:0 0 1rem}p{color:#333}`

// page returns a whole HTML document with title, a style sheet and body.
func page(title, style string, body ...g.Node) g.Node {
	return h.Doctype(h.HTML(h.Lang("en"),
		h.Head(
			h.Meta(h.Charset("utf-8")),
			h.TitleEl(g.Text(title+" · jupygo")),
			h.Meta(h.Name("viewport"), h.Content("width=device-width, initial-scale=1")),
			h.StyleEl(g.Raw(style)),
		),
		h.Body(body...),
	))
}

// loginPage is the form that takes the server's token. It posts to action
// with the login XSRF value and the page to go to next.
func loginPage(action, next, xsrf string, failed bool) g.Node {
	return page("Sign in", loginStyle,
		h.Form(h.Method("post"), h.Action(webpage.URL(action)),
			h.H1(g.Text("Sign in to JupyterLab")),
			g.If(failed, h.P(h.Class("error"), g.Text("Invalid token."))),
			h.Label(h.For("token"), g.Text("Token")),
			h.Input(h.Type("password"), h.ID("token"), h.Name("token"),
				h.AutoComplete("current-password"), h.AutoFocus()),
			h.Input(h.Type("hidden"), h.Name("_xsrf"), h.Value(xsrf)),
			h.Input(h.Type("hidden"), h.Name("next"), h.Value(next)),
			h.Button(h.Type("submit"), g.Text("Sign in")),
			h.P(g.Text("The token is in the URL the server printed when it started, after "),
				h.Code(g.Text("?token=")), g.Text(".")),
		),
	)
}

// hubMessagePage returns the page that shows why a login failed in
// single-user mode, with a link to the hub's home page.
func hubMessagePage(status int, title, message, home string) g.Node {
	return page(title, messageStyle,
		h.Main(
			h.H1(g.Text(strconv.Itoa(status)+": "+title)),
			h.P(g.Text(message)),
			h.P(h.A(h.Href(webpage.URL(home)), g.Text("JupyterHub home"))),
		),
	)
}
