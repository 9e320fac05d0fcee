package nbconvert

import (
	"html"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/gomarkdown/markdown"
	mdast "github.com/gomarkdown/markdown/ast"
	mdhtml "github.com/gomarkdown/markdown/html"
	mdparser "github.com/gomarkdown/markdown/parser"

	"github.com/jupygo/jupygo/internal/lazy"
)

// htmlOptions are the choices of one HTML export.
type htmlOptions struct {
	// Title is the page title.
	Title string
	// Sanitize leaves out every piece of HTML that the notebook brings:
	// HTML and JavaScript outputs show their next representation (such as
	// text/plain), raw HTML cells are left out, and the HTML inside
	// markdown is omitted. nbconvert's sanitize_html keeps the HTML that
	// its allow-list deems safe, but no HTML means no active content.
	Sanitize bool
}

// exportHTML returns nb as one self-contained HTML page: markdown cells
// rendered with github.com/gomarkdown/markdown (CommonMark with GitHub
// Flavored Markdown's tables, strikethrough, autolinks and task lists, raw
// HTML kept as nbconvert keeps it), code cells with their escaped source, and outputs
// with images as data URIs and ANSI colors as styles. The page loads
// nothing from elsewhere.
//
// Without Sanitize the page keeps the notebook's HTML and JavaScript
// outputs, as nbconvert's HTML export does, so the server must keep the
// page away from its own origin (see serveExport).
//
// NOTE: math stays as TeX source, because typesetting it needs MathJax
// from outside the page.
func exportHTML(nb *notebook, opts htmlOptions) []byte {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	b.WriteString("<title>" + html.EscapeString(opts.Title) + "</title>\n")
	b.WriteString("<style>\n" + pageCSS + "</style>\n</head>\n<body>\n<main class=\"notebook\">\n")
	for _, c := range nb.Cells {
		writeHTMLCell(&b, c, nb.Language.Name, opts)
	}
	b.WriteString("</main>\n</body>\n</html>\n")
	return []byte(b.String())
}

func writeHTMLCell(b *strings.Builder, c cell, lang string, opts htmlOptions) {
	switch c.Type {
	case "markdown":
		b.WriteString("<div class=\"cell markdown\">\n")
		b.WriteString(renderMarkdown(c.Source, c.Attachments, opts.Sanitize))
		b.WriteString("</div>\n")
	case "code":
		b.WriteString("<div class=\"cell code\">\n<div class=\"input\">")
		b.WriteString("<div class=\"prompt\">In&nbsp;[" + html.EscapeString(c.Count) + "]:</div>")
		b.WriteString("<pre><code class=\"language-" + html.EscapeString(lang) + "\">")
		b.WriteString(html.EscapeString(c.Source))
		b.WriteString("</code></pre></div>\n")
		for _, o := range c.Outputs {
			if out := htmlOutput(o, opts); out != "" {
				b.WriteString("<div class=\"output\">" + out + "</div>\n")
			}
		}
		b.WriteString("</div>\n")
	case "raw":
		if rawFormat(c) == "text/html" && !opts.Sanitize {
			b.WriteString("<div class=\"cell raw\">" + c.Source + "</div>\n")
		}
	}
}

// htmlMimetypes are the output types the HTML export shows, the first one
// an output has winning, in the order of nbconvert's HTML exporter.
var htmlMimetypes = []string{
	"application/javascript", "text/html", "text/markdown", "image/svg+xml",
	"image/png", "image/jpeg", "text/latex", "text/plain",
}

// htmlOutput returns the HTML of one output, or "" for an output with
// nothing to show.
func htmlOutput(o map[string]any, opts htmlOptions) string {
	switch text(o["output_type"]) {
	case "stream":
		class := "stream"
		if text(o["name"]) == "stderr" {
			class = "stream stderr"
		}
		return "<pre class=\"" + class + "\">" + ansiToHTML(multiline(o["text"])) + "</pre>"
	case "error":
		return "<pre class=\"error\">" + ansiToHTML(traceback(o)) + "</pre>"
	case "execute_result", "display_data":
		for _, mimetype := range htmlMimetypes {
			data, ok := mimeData(o, mimetype)
			if !ok || (opts.Sanitize && (mimetype == "application/javascript" || mimetype == "text/html")) {
				continue
			}
			return htmlData(mimetype, data, opts)
		}
	}
	return ""
}

func htmlData(mimetype, data string, opts htmlOptions) string {
	switch mimetype {
	case "application/javascript":
		// A script element ends at the first "</script", whatever the
		// JavaScript around it means.
		return "<script>" + strings.ReplaceAll(data, "</script", `<\/script`) + "</script>"
	case "text/html":
		return data
	case "text/markdown":
		return renderMarkdown(data, nil, opts.Sanitize)
	case "image/svg+xml", "image/png", "image/jpeg":
		// An SVG in an img element runs no script.
		return "<img alt=\"output\" src=\"" + html.EscapeString(dataURI(mimetype, data)) + "\">"
	case "text/latex":
		return "<div class=\"latex\">" + html.EscapeString(data) + "</div>"
	}
	return "<pre>" + ansiToHTML(data) + "</pre>"
}

// markdownExtensions are the GitHub Flavored Markdown extensions that
// JupyterLab's renderer also reads: pipe tables, ~~strikethrough~~ and bare
// URLs as links.
const markdownExtensions = mdparser.Tables | mdparser.Strikethrough | mdparser.Autolink

// renderMarkdown returns source as HTML, with the images that refer to
// attachments of the cell shown from data URIs. TeX math between $ or $$
// is kept as written, because Markdown would read its underscores and
// asterisks as emphasis. withoutHTML omits the raw HTML of source and
// turns links and images into plain text unless their URL is relative,
// http, https, ftp, mailto or a data URI of a raster image.
func renderMarkdown(source string, attachments map[string]any, withoutHTML bool) string {
	source, math := protectMath(source)
	doc := mdparser.NewCommonMarkWithExtensions(markdownExtensions).Parse([]byte(source))
	if len(attachments) > 0 {
		linkAttachments(doc, attachments)
	}
	markTaskItems(doc)
	opts := mdhtml.RendererOptions{RenderNodeHook: renderTaskCheckbox}
	if withoutHTML {
		opts.Flags = mdhtml.SkipHTML | mdhtml.Safelink
	}
	out := markdown.Render(doc, mdhtml.NewRenderer(opts))
	return math.Replace(string(out))
}

// taskCheckbox is the checkbox of a GitHub Flavored Markdown task list
// item ("- [ ] todo", "- [x] done").
type taskCheckbox struct {
	mdast.Leaf
	checked bool
}

// markTaskItems replaces the "[ ] " or "[x] " that opens a list item of
// doc with a taskCheckbox.
func markTaskItems(doc mdast.Node) {
	mdast.WalkFunc(doc, func(n mdast.Node, entering bool) mdast.WalkStatus {
		item, ok := n.(*mdast.ListItem)
		if !entering || !ok || len(item.Children) == 0 {
			return mdast.GoToNext
		}
		para, ok := item.Children[0].(*mdast.Paragraph)
		if !ok || len(para.Children) == 0 {
			return mdast.GoToNext
		}
		text, ok := para.Children[0].(*mdast.Text)
		if !ok || len(text.Literal) < 4 || text.Literal[0] != '[' || text.Literal[2] != ']' ||
			text.Literal[3] != ' ' {
			return mdast.GoToNext
		}
		mark := text.Literal[1]
		if mark != ' ' && mark != 'x' && mark != 'X' {
			return mdast.GoToNext
		}
		text.Literal = text.Literal[4:]
		box := &taskCheckbox{checked: mark != ' '}
		box.SetParent(para)
		para.Children = append([]mdast.Node{box}, para.Children...)
		return mdast.GoToNext
	})
}

// renderTaskCheckbox renders a taskCheckbox as a disabled checkbox, as
// GitHub and JupyterLab show task list items. It leaves other nodes to
// the renderer.
func renderTaskCheckbox(w io.Writer, n mdast.Node, entering bool) (mdast.WalkStatus, bool) {
	box, ok := n.(*taskCheckbox)
	if !ok {
		return mdast.GoToNext, false
	}
	if entering {
		checked := ""
		if box.checked {
			checked = `checked="" `
		}
		io.WriteString(w, `<input `+checked+`disabled="" type="checkbox"> `)
	}
	return mdast.GoToNext, true
}

var mathSpanValue lazy.Value[*regexp.Regexp]

// mathSpan returns a regular expression, compiled on first use, that matches
// display math ($$...$$) and inline math ($...$ on one line), as JupyterLab
// finds math in markdown cells.
func mathSpan() *regexp.Regexp {
	return mathSpanValue.Get(func() *regexp.Regexp {
		return regexp.MustCompile(`\$\$[\s\S]+?\$\$|\$[^$\n]+\$`)
	})
}

// protectMath replaces each math span of source with a placeholder of
// letters and digits, which Markdown leaves alone, and returns a replacer
// that puts the escaped math back.
func protectMath(source string) (string, *strings.Replacer) {
	prefix := "jupygomath"
	for strings.Contains(source, prefix) {
		prefix += "x"
	}
	var pairs []string
	source = mathSpan().ReplaceAllStringFunc(source, func(math string) string {
		placeholder := prefix + strconv.Itoa(len(pairs)/2) + "end"
		pairs = append(pairs, placeholder, html.EscapeString(math))
		return placeholder
	})
	return source, strings.NewReplacer(pairs...)
}

// linkAttachments rewrites the destination of the images and links of doc
// that name an attachment of the cell ("attachment:NAME") to its data URI.
func linkAttachments(doc mdast.Node, attachments map[string]any) {
	mdast.WalkFunc(doc, func(n mdast.Node, entering bool) mdast.WalkStatus {
		var dest *[]byte
		switch n := n.(type) {
		case *mdast.Image:
			dest = &n.Destination
		case *mdast.Link:
			dest = &n.Destination
		default:
			return mdast.GoToNext
		}
		if !entering {
			return mdast.GoToNext
		}
		name, ok := strings.CutPrefix(string(*dest), "attachment:")
		if !ok {
			return mdast.GoToNext
		}
		if uri, ok := attachmentURI(attachments, name); ok {
			*dest = []byte(uri)
		}
		return mdast.GoToNext
	})
}

// pageCSS is the stylesheet of the HTML export.
const pageCSS = `body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", sans-serif;
  font-size: 14px; line-height: 1.5; color: #212121; background: #fff; }
.notebook { max-width: 1100px; margin: 0 auto; padding: 16px 24px; }
.cell { margin: 8px 0; }
.input { display: flex; align-items: flex-start; }
.prompt { flex: 0 0 72px; color: #307fc1; font-family: monospace; font-size: 13px;
  padding-top: 6px; text-align: right; margin-right: 8px; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; font-size: 13px; }
.input pre { flex: 1; background: #f7f7f7; border: 1px solid #e0e0e0; border-radius: 2px;
  padding: 6px 8px; overflow-x: auto; }
.output { margin-left: 80px; padding: 4px 0; overflow-x: auto; }
.output pre { padding: 2px 8px; }
.stderr { background: #fdd; }
.error { background: #fdd; }
.output img { max-width: 100%; }
.latex { font-family: monospace; }
.markdown table, .output table { border-collapse: collapse; }
.markdown th, .markdown td, .output th, .output td { border: 1px solid #bdbdbd; padding: 2px 8px; }
.markdown img { max-width: 100%; }
.markdown pre { background: #f7f7f7; padding: 6px 8px; }
`
