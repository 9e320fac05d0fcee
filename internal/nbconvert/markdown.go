package nbconvert

import (
	"strings"
)

// exportMarkdown returns nb as a Markdown document, as nbconvert's markdown
// exporter lays it out: markdown cells as they are, code cells in fenced
// blocks tagged with the language, text outputs indented as code blocks,
// and HTML, Markdown and LaTeX outputs as they are.
//
// nbconvert writes images to files beside the document and sends a zip of
// them. This exporter keeps the download one file, so PNG, JPEG and SVG
// outputs and the attachments of markdown cells become data URIs.
func exportMarkdown(nb *notebook) []byte {
	var b strings.Builder
	for _, c := range nb.Cells {
		switch c.Type {
		case "markdown":
			writeBlock(&b, inlineAttachments(c.Source, c.Attachments))
		case "code":
			writeBlock(&b, fence(c.Source, nb.Language.Name))
			for _, o := range c.Outputs {
				if out := markdownOutput(o); out != "" {
					writeBlock(&b, out)
				}
			}
		case "raw":
			switch rawFormat(c) {
			case "", "text/markdown", "text/html":
				writeBlock(&b, c.Source)
			}
		}
	}
	return []byte(strings.TrimRight(b.String(), "\n") + "\n")
}

// fence returns source in a fenced code block whose fence is longer than
// any run of backticks in source.
func fence(source, lang string) string {
	longest, run := 0, 0
	for _, r := range source {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	marks := strings.Repeat("`", max(3, longest+1))
	return marks + lang + "\n" + strings.TrimRight(source, "\n") + "\n" + marks
}

// indent returns text as an indented code block.
func indent(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, line := range lines {
		lines[i] = "    " + line
	}
	return strings.Join(lines, "\n")
}

// markdownMimetypes are the output types the Markdown export shows, the
// first one an output has winning.
var markdownMimetypes = []string{
	"text/markdown", "text/html", "image/svg+xml", "image/png", "image/jpeg", "text/latex", "text/plain",
}

// markdownOutput returns the Markdown of one output, or "" for an output
// with nothing to show.
func markdownOutput(o map[string]any) string {
	switch text(o["output_type"]) {
	case "stream":
		return indent(stripANSI(multiline(o["text"])))
	case "error":
		return indent(stripANSI(traceback(o)))
	case "execute_result", "display_data":
		for _, mimetype := range markdownMimetypes {
			data, ok := mimeData(o, mimetype)
			if !ok {
				continue
			}
			switch mimetype {
			case "text/plain":
				return indent(stripANSI(data))
			case "image/png", "image/jpeg", "image/svg+xml":
				return "![" + mimetype[len("image/"):] + "](" + dataURI(mimetype, data) + ")"
			}
			return strings.TrimRight(data, "\n")
		}
	}
	return ""
}
