package hub

import (
	"io"
	"strconv"

	g "github.com/jupygo/jupygo/internal/markup"
	h "github.com/jupygo/jupygo/internal/markup/html"
	"github.com/jupygo/jupygo/internal/store"
	"github.com/jupygo/jupygo/internal/webpage"
)

// The markup of the hub's pages, built with package markup, which escapes
// every text and attribute value. A value that goes into a URL attribute
// passes through webpage.URL, and one that goes into a query through
// webpage.WithQuery, as html/template's contextual escaping did for the
// templates these functions replace. The functions take no *Hub, so that
// the html package can keep its usual name h here.

// pageFrame is the part of a page around its content: the title, the
// navigation of the signed-in user, and the XSRF token of the forms.
type pageFrame struct {
	title, prefix, xsrf string
	// user is the signed-in user's name, "" for none.
	user string
	// isAdmin and localAccounts add the Admin and Password links.
	isAdmin, localAccounts bool
}

// link returns the href attribute of target. When target is not a web
// URL, such as a javascript: URL, the attribute is a URL that goes nowhere.
func link(target string) g.Node { return h.Href(webpage.URL(target)) }

// postForm returns a form that posts to action, with the XSRF token of
// frame as its first field.
func postForm(frame pageFrame, action string, children ...g.Node) g.Node {
	return h.Form(h.Method("post"), h.Action(webpage.URL(action)), xsrfInput(frame), g.Group(children))
}

// inlineForm is postForm for a form that sits among text and buttons.
func inlineForm(frame pageFrame, action string, children ...g.Node) g.Node {
	return h.Form(h.Class("inline"), h.Method("post"), h.Action(webpage.URL(action)), xsrfInput(frame),
		g.Group(children))
}

func xsrfInput(frame pageFrame) g.Node {
	return h.Input(h.Type("hidden"), h.Name("_xsrf"), h.Value(frame.xsrf))
}

func hiddenField(name, value string) g.Node {
	return h.Input(h.Type("hidden"), h.Name(name), h.Value(value))
}

func submit(class, label string) g.Node {
	return h.Button(g.If(class != "", h.Class(class)), h.Type("submit"), g.Text(label))
}

// space separates inline elements, such as the buttons of a row, so that
// the browser leaves a gap between them.
var space = g.Text(" ")

// textParagraph returns a paragraph of class with text, or nothing when
// text is empty.
func textParagraph(class, text string) g.Node {
	return g.If(text != "", h.P(h.Class(class), g.Text(text)))
}

// layout returns the whole document of a page: head contains extra elements
// of the head, content goes into main.
func layout(frame pageFrame, head g.Node, content ...g.Node) g.Node {
	return h.Doctype(h.HTML(h.Lang("en"),
		h.Head(
			h.Meta(h.Charset("utf-8")),
			h.Meta(h.Name("viewport"), h.Content("width=device-width, initial-scale=1")),
			h.TitleEl(g.Text(frame.title+" · jupygo hub")),
			h.Link(h.Rel("stylesheet"), link(frame.prefix+"static/style.css")),
			head,
		),
		h.Body(
			h.Header(
				h.A(h.Class("brand"), link(frame.prefix+"home"), g.Text("jupygo hub")),
				g.If(frame.user != "", g.Group{
					h.Nav(
						h.A(link(frame.prefix+"home"), g.Text("Home")),
						h.A(link(frame.prefix+"token"), g.Text("Token")),
						g.If(frame.localAccounts,
							h.A(link(frame.prefix+"password"), g.Text("Password"))),
						g.If(frame.isAdmin, h.A(link(frame.prefix+"admin"), g.Text("Admin"))),
					),
					h.Span(g.Text(frame.user)), space,
					h.A(link(frame.prefix+"logout"), g.Text("Log out")),
				}),
			),
			h.Main(content...),
		),
	))
}

// errorPageData is the content of an error page.
type errorPageData struct {
	status           int
	heading, message string
	action           *pageAction
}

func errorView(frame pageFrame, data errorPageData) g.Node {
	return layout(frame, nil, h.Div(h.Class("card narrow"),
		h.H1(g.Text(strconv.Itoa(data.status)+": "+data.heading)),
		h.P(g.Text(data.message)),
		g.Iff(data.action != nil, func() g.Node {
			return h.P(h.A(h.Class("button primary"), link(data.action.URL), g.Text(data.action.Label)))
		}),
		h.P(h.A(link(frame.prefix+"home"), g.Text("Hub home"))),
	))
}

// loginPageData is the content of the login page. With a loginURL, the
// page links to the other site that signs people in instead of showing
// the password form.
type loginPageData struct {
	next, username, errText string
	loginURL, loginService  string
}

func loginView(frame pageFrame, data loginPageData) g.Node {
	var signIn g.Node
	if data.loginURL != "" {
		signIn = h.P(h.A(h.Class("button primary"), link(data.loginURL),
			g.Text("Sign in with "+data.loginService)))
	} else {
		signIn = postForm(frame, webpage.WithQuery(frame.prefix+"login", "next", data.next),
			h.Label(h.For("username"), g.Text("User name")),
			h.Input(h.Type("text"), h.ID("username"), h.Name("username"), h.Value(data.username),
				g.Attr("autocapitalize", "off"), g.Attr("autocorrect", "off"), h.AutoFocus(),
				h.Required()),
			h.Label(h.For("password"), g.Text("Password")),
			h.Input(h.Type("password"), h.ID("password"), h.Name("password"), h.Required()),
			h.P(submit("primary", "Sign in")),
		)
	}
	return layout(frame, nil, h.Div(h.Class("card narrow"),
		h.H1(g.Text("Sign in")),
		textParagraph("error", data.errText),
		signIn,
	))
}

// homePageData is the content of the home page.
type homePageData struct {
	// def is the default server, named the named servers.
	def   serverRow
	named []serverRow
	// userPath is the user's name escaped for a path.
	userPath string
	// namedServers shows the named servers, when the hub allows them.
	namedServers    bool
	notice, errText string
	// granted are the shares of the user's servers, received the shares
	// with the user.
	granted, received []shareRow
}

func homeView(frame pageFrame, data homePageData) g.Node {
	return layout(frame, nil,
		textParagraph("notice", data.notice),
		textParagraph("error", data.errText),
		h.Div(h.Class("card"), h.H1(g.Text("My server")), defaultServer(frame, data)),
		g.If(data.namedServers, namedServers(frame, data)),
		g.If(len(data.granted) > 0, grantedShares(frame, data.granted)),
		g.If(len(data.received) > 0, receivedShares(frame, data.received)),
	)
}

func defaultServer(frame pageFrame, data homePageData) g.Node {
	sv := data.def
	switch {
	case sv.Ready:
		return h.Div(h.Class("actions"),
			h.A(h.Class("button primary"), link(sv.URL), g.Text("Open my server")), space,
			inlineForm(frame, frame.prefix+"stop/"+data.userPath, submit("danger", "Stop my server")))
	case sv.Pending != "":
		doing := "stopping"
		if sv.Pending == store.PendingSpawn {
			doing = "starting"
		}
		return h.P(g.Text("Your server is "+doing+". "),
			h.A(link(frame.prefix+"spawn-pending/"+data.userPath), g.Text("Show progress")))
	default:
		return postForm(frame, frame.prefix+"spawn/"+data.userPath, submit("primary", "Start my server"))
	}
}

func namedServers(frame pageFrame, data homePageData) g.Node {
	rows := g.Map(data.named, func(sv serverRow) g.Node {
		var address, actions g.Node
		if sv.Ready {
			address = h.A(link(sv.URL), g.Text(sv.URL))
		} else {
			address = h.Span(h.Class("muted"), g.Text("not running"))
		}
		switch {
		case sv.Ready:
			actions = inlineForm(frame, frame.prefix+"stop/"+sv.Path, submit("", "Stop"))
		case sv.Pending != "":
			actions = h.A(link(frame.prefix+"spawn-pending/"+sv.Path), g.Text(sv.Pending+" pending"))
		default:
			actions = g.Group{
				inlineForm(frame, frame.prefix+"spawn/"+sv.Path, submit("", "Start")), space,
				inlineForm(frame, frame.prefix+"delete-server/"+sv.Path, submit("danger", "Delete")),
			}
		}
		return h.Tr(h.Td(g.Text(sv.Name)), h.Td(address), h.Td(g.Text(sv.LastActivity)),
			h.Td(actions))
	})
	return h.Div(h.Class("card"),
		h.H2(g.Text("Named servers")),
		h.Table(
			h.Tr(h.Th(g.Text("Name")), h.Th(g.Text("URL")), h.Th(g.Text("Last activity")), h.Th()),
			rows,
		),
		h.Form(h.Method("post"), h.Action(webpage.URL(frame.prefix+"spawn/"+data.userPath)),
			h.Style("margin-top:1rem"),
			xsrfInput(frame),
			h.Label(h.For("server_name"), g.Text("New server name")),
			h.Input(h.Type("text"), h.ID("server_name"), h.Name("server_name"),
				h.Pattern("[a-z][a-z0-9-]*"), h.Placeholder("lowercase letters, digits and hyphens")),
			h.P(submit("", "Add new server")),
		),
	)
}

// scopeList returns each scope as code, followed by a space.
func scopeList(scopes []string) g.Node {
	return g.Map(scopes, func(s string) g.Node { return g.Group{h.Code(g.Text(s)), space} })
}

func grantedShares(frame pageFrame, shares []shareRow) g.Node {
	return h.Div(h.Class("card"),
		h.H2(g.Text("Shares of my servers")),
		h.Table(
			h.Tr(h.Th(g.Text("Server")), h.Th(g.Text("Shared with")), h.Th(g.Text("Permissions")),
				h.Th(g.Text("Since")), h.Th()),
			g.Map(shares, func(sh shareRow) g.Node {
				with := sh.User
				if with == "" {
					with = "group " + sh.Group
				}
				return h.Tr(
					h.Td(h.A(link(sh.ServerURL), g.Text(sh.ServerURL))),
					h.Td(g.Text(with)),
					h.Td(scopeList(sh.Scopes)),
					h.Td(g.Text(sh.Created)),
					h.Td(g.If(sh.CanRevoke, inlineForm(frame, frame.prefix+"shares/revoke",
						hiddenField("server", sh.Server), hiddenField("user", sh.User),
						hiddenField("group", sh.Group), submit("danger", "Revoke")))),
				)
			}),
		),
	)
}

func receivedShares(frame pageFrame, shares []shareRow) g.Node {
	return h.Div(h.Class("card"),
		h.H2(g.Text("Servers shared with me")),
		h.Table(
			h.Tr(h.Th(g.Text("Server")), h.Th(g.Text("Owner")), h.Th(g.Text("Through")),
				h.Th(g.Text("Since")), h.Th()),
			g.Map(shares, func(sh shareRow) g.Node {
				var server g.Node
				if sh.Ready {
					server = h.A(link(sh.ServerURL), g.Text(sh.ServerURL))
				} else {
					server = g.Group{g.Text(sh.ServerURL), space,
						h.Span(h.Class("muted"), g.Text("not running"))}
				}
				through := "a share with me"
				if sh.Group != "" {
					through = "group " + sh.Group
				}
				return h.Tr(
					h.Td(server),
					h.Td(g.Text(sh.Owner)),
					h.Td(g.Text(through)),
					h.Td(g.Text(sh.Created)),
					h.Td(g.If(sh.CanRevoke, inlineForm(frame, frame.prefix+"shares/leave",
						hiddenField("owner", sh.Owner), hiddenField("server", sh.Server),
						submit("", "Leave")))),
				)
			}),
		),
	)
}

// tokenPageData is the content of the token page.
type tokenPageData struct {
	tokens []tokenRow
	tokenPageText
}

func tokenView(frame pageFrame, data tokenPageData) g.Node {
	var list g.Node
	if len(data.tokens) > 0 {
		list = h.Table(
			h.Tr(h.Th(g.Text("Note")), h.Th(g.Text("Prefix")), h.Th(g.Text("Created")),
				h.Th(g.Text("Last used")), h.Th(g.Text("Expires")), h.Th()),
			g.Map(data.tokens, func(t tokenRow) g.Node {
				return h.Tr(
					h.Td(g.Text(t.Note)),
					h.Td(h.Code(g.Text(t.Prefix+"…"))),
					h.Td(g.Text(t.Created)),
					h.Td(g.Text(t.LastActivity)),
					h.Td(g.Text(t.ExpiresAt)),
					h.Td(inlineForm(frame, frame.prefix+"token/"+strconv.FormatInt(t.ID, 10)+"/revoke",
						submit("danger", "Revoke"))),
				)
			}),
		)
	} else {
		list = h.P(h.Class("muted"), g.Text("You have no API tokens."))
	}
	return layout(frame, nil,
		h.Div(h.Class("card"),
			h.H1(g.Text("API tokens")),
			g.If(data.newToken != "", h.Div(h.Class("notice"),
				h.P(g.Text("Your new API token. Copy it now: it is not shown again.")),
				h.Code(h.Class("token"), g.Text(data.newToken)))),
			textParagraph("notice", data.notice),
			textParagraph("error", data.errText),
			postForm(frame, frame.prefix+"token",
				h.Label(h.For("note"), g.Text("Note")),
				h.Input(h.Type("text"), h.ID("note"), h.Name("note"),
					h.Placeholder("what the token is for")),
				h.Label(h.For("expires_in"), g.Text("Expires in (seconds; empty for never)")),
				h.Input(h.Type("number"), h.ID("expires_in"), h.Name("expires_in"), h.Min("1")),
				h.P(submit("primary", "Request new API token")),
			),
		),
		h.Div(h.Class("card"), h.H2(g.Text("Your tokens")), list),
	)
}

// passwordPageData is the content of the page that changes the user's
// own password. next is the page that a successful change redirects to, ""
// for this page.
type passwordPageData struct {
	notice, errText, next string
}

func passwordView(frame pageFrame, data passwordPageData) g.Node {
	password := func(id, label, autocomplete string) g.Node {
		return g.Group{
			h.Label(h.For(id), g.Text(label)),
			h.Input(h.Type("password"), h.ID(id), h.Name(id), h.AutoComplete(autocomplete),
				h.Required()),
		}
	}
	return layout(frame, nil, h.Div(h.Class("card narrow"),
		h.H1(g.Text("Change password")),
		textParagraph("notice", data.notice),
		textParagraph("error", data.errText),
		postForm(frame, webpage.WithQuery(frame.prefix+"password", "next", data.next),
			password("current", "Current password", "current-password"),
			password("new", "New password (at least 8 characters)", "new-password"),
			password("confirm", "New password again", "new-password"),
			h.P(submit("primary", "Change password")),
		),
	))
}

// adminPageData is the content of the admin page.
type adminPageData struct {
	users           []adminUserRow
	notice, errText string
}

func adminView(frame pageFrame, data adminPageData) g.Node {
	back := frame.prefix + "admin"
	rows := g.Map(data.users, func(u adminUserRow) g.Node {
		userPath := frame.prefix + "admin/users/" + u.Path
		servers := g.Map(u.Servers, func(sv serverRow) g.Node {
			var state g.Node
			switch {
			case sv.Ready:
				state = g.Group{h.A(link(sv.URL), g.Text("running")), space,
					inlineForm(frame, webpage.WithQuery(frame.prefix+"stop/"+sv.Path, "next", back),
						submit("", "Stop"))}
			case sv.Pending != "":
				state = g.Text(sv.Pending + " pending")
			default:
				state = g.Group{h.Span(h.Class("muted"), g.Text("stopped")), space,
					inlineForm(frame, webpage.WithQuery(frame.prefix+"spawn/"+sv.Path, "next", back),
						submit("", "Start"))}
			}
			return h.Div(g.If(sv.Name != "", g.Text(sv.Name+": ")), state)
		})
		return h.Tr(
			h.Td(g.Text(u.Name)),
			h.Td(g.If(u.Admin, g.Text("admin"))),
			h.Td(servers),
			h.Td(g.Text(u.LastActivity)),
			h.Td(
				g.If(frame.localAccounts, inlineForm(frame, userPath+"/password",
					h.Input(h.Type("password"), h.Name("password"), h.Placeholder("new password"),
						h.AutoComplete("new-password"), h.Style("width:10rem")), space,
					submit("", "Set password"))),
				g.If(frame.localAccounts && u.Name != frame.user, space),
				g.If(u.Name != frame.user, inlineForm(frame, userPath+"/delete",
					submit("danger", "Delete user"))),
			),
		)
	})
	return layout(frame, nil,
		h.Div(h.Class("card"),
			h.H1(g.Text("Users")),
			textParagraph("notice", data.notice),
			textParagraph("error", data.errText),
			h.Table(
				h.Tr(h.Th(g.Text("User")), h.Th(g.Text("Admin")), h.Th(g.Text("Server")),
					h.Th(g.Text("Last activity")), h.Th()),
				rows,
			),
		),
		h.Div(h.Class("card"),
			h.H2(g.Text("Add users")),
			postForm(frame, frame.prefix+"admin/users",
				h.Label(h.For("usernames"), g.Text("User names, one a line")),
				h.Textarea(h.ID("usernames"), h.Name("usernames"), h.Rows("3"), h.Required()),
				g.If(frame.localAccounts, g.Group{
					h.Label(h.For("password"), g.Text("Password (for a local account; empty for none)")),
					h.Input(h.Type("password"), h.ID("password"), h.Name("password"),
						h.AutoComplete("new-password")),
				}),
				h.Label(h.Input(h.Type("checkbox"), h.Name("admin"), h.Value("1")), g.Text(" Admin")),
				h.P(submit("primary", "Add users")),
			),
		),
	)
}

// oauthConfirmPageData is the content of the page where the user lets an
// OAuth client act as them. action is the URL the form posts back to.
type oauthConfirmPageData struct {
	client, action string
	scopes         []string
}

func oauthConfirmView(frame pageFrame, data oauthConfirmPageData) g.Node {
	return layout(frame, nil, h.Div(h.Class("card narrow"),
		h.H1(g.Text("Authorize access")),
		h.P(g.Text(data.client+" requests to act as "), h.Strong(g.Text(frame.user)),
			g.Text(" with these permissions:")),
		h.Ul(g.Map(data.scopes, func(s string) g.Node { return h.Li(h.Code(g.Text(s))) })),
		postForm(frame, data.action,
			h.P(submit("primary", "Authorize"), space,
				h.A(h.Class("button"), link(frame.prefix+"home"), g.Text("Cancel"))),
		),
	))
}

// spawnPendingPageData is the content of the page that follows a start or a
// stop of a server.
type spawnPendingPageData struct {
	// label names the server, serverPath is its owner and name escaped for
	// a path.
	label, serverPath string
	// next is where the page sends the browser once the server is ready,
	// progressURL the event stream of the start.
	next, progressURL string
	// stopping shows a stop in progress.
	stopping bool
	// failed shows a start that failed with message.
	failed  bool
	message string
	// notRunning shows a server that is neither starting nor stopping.
	notRunning bool
}

// refresh returns the element that reloads the page every two seconds. A
// package-level value would be built by an init function in every jupygo
// process.
func refresh() g.Node { return h.Meta(g.Attr("http-equiv", "refresh"), h.Content("2")) }

// progressScript follows the progress of a start from the event stream
// that the progress-config element names, and goes to the server once it
// is ready.
const progressScript = `
(function () {
  var cfg = JSON.parse(document.getElementById("progress-config").textContent);
  var bar = document.getElementById("progress-bar");
  var msg = document.getElementById("progress-message");
  var log = document.getElementById("progress-log");
  var source = new EventSource(cfg.progressURL);
  source.onmessage = function (ev) {
    var e = JSON.parse(ev.data);
    bar.value = e.progress || 0;
    msg.textContent = e.message || "";
    var line = document.createElement("div");
    line.textContent = e.message || "";
    log.appendChild(line);
    if (e.ready) { source.close(); window.location.replace(cfg.next); }
    if (e.failed) { source.close(); window.location.reload(); }
  };
  source.onerror = function () { source.close(); setTimeout(function () { window.location.reload(); }, 2000); };
})();
`

func spawnPendingView(frame pageFrame, data spawnPendingPageData) g.Node {
	var head g.Node
	var content g.Group
	switch {
	case data.stopping:
		head = refresh()
		content = g.Group{
			h.H1(g.Text("Stopping " + data.label)),
			h.P(g.Text("The server is stopping. You can start it again once it has stopped, " +
				"and this page reloads until then.")),
		}
	case data.failed || data.notRunning:
		heading, button := h.H1(g.Text(data.label+" is not running")), "Start it"
		if data.failed {
			heading, button = h.H1(g.Text("The server did not start")), "Try again"
		}
		content = g.Group{
			heading,
			g.If(data.failed, h.P(h.Class("error"), g.Text(data.message))),
			postForm(frame, webpage.WithQuery(frame.prefix+"spawn/"+data.serverPath, "next", data.next),
				submit("primary", button)),
		}
	default:
		head = h.NoScript(refresh())
		config, err := webpage.JSONScript("progress-config",
			map[string]string{"progressURL": webpage.URL(data.progressURL),
				"next": webpage.URL(data.next)})
		if err != nil {
			return failedNode(err)
		}
		content = g.Group{
			h.H1(g.Text("Starting " + data.label)),
			h.P(g.Text("Your server is starting up. You will be sent to it when it is ready.")),
			h.Progress(h.ID("progress-bar"), h.Max("100"), h.Value("0")),
			h.P(h.ID("progress-message"), h.Class("muted"), g.Text("Waiting for the server…")),
			h.Div(h.ID("progress-log")),
			config,
			h.Script(g.Raw(progressScript)),
		}
	}
	return layout(frame, head, h.Div(h.Class("card"), content))
}

// failedNode returns a node whose rendering fails with err, so that
// webpage.Write sends an error instead of the page.
func failedNode(err error) g.Node {
	return g.NodeFunc(func(io.Writer) error { return err })
}

// acceptSharePageData is the content of the page that offers a share code
// to the signed-in user.
type acceptSharePageData struct {
	owner, serverName, serverURL string
	ready                        bool
	code                         string
	scopes                       []string
	// next is where the browser goes after the user accepts.
	next, expiresAt string
}

func acceptShareView(frame pageFrame, data acceptSharePageData) g.Node {
	return layout(frame, nil, h.Div(h.Class("card narrow"),
		h.H1(g.Text("Accept sharing invitation")),
		h.P(g.Text("You ("+frame.user+") are invited to use the server of "),
			h.Strong(g.Text(data.owner)),
			g.If(data.serverName != "", g.Group{g.Text(" named "), h.Strong(g.Text(data.serverName))}),
			g.Text(" at "), h.A(link(data.serverURL), g.Text(data.serverURL)), g.Text(".")),
		g.If(!data.ready, h.P(h.Class("error"), g.Text("The server is not running. After you accept, "+
			data.owner+" may have to start it before you can open it."))),
		h.P(g.Text("Accepting grants you these permissions, on this server alone:")),
		h.Ul(g.Map(data.scopes, func(s string) g.Node { return h.Li(h.Code(g.Text(s))) })),
		postForm(frame, webpage.WithQuery(frame.prefix+"accept-share", "next", data.next),
			hiddenField("code", data.code),
			h.P(submit("primary", "Accept invitation"), space,
				h.A(h.Class("button"), link(frame.prefix+"home"), g.Text("Cancel"))),
		),
		h.P(h.Class("muted"), g.Text("You will then go to "), h.A(link(data.next), g.Text(data.next)),
			g.Text(". The invitation expires at "+data.expiresAt+".")),
	))
}
