package nbconvert

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/jupygo/jupygo/internal/lazy"
)

// The exporters read the generic JSON tree of contents.ReadNotebook. A
// notebook that passed the reader is an object with nbformat 4, but its
// cells and outputs may still have any shape, so every accessor here checks
// the type it reads and falls back to the zero value.

// cell is one cell of a notebook.
type cell struct {
	Type        string // "code", "markdown" or "raw"
	Source      string
	Metadata    map[string]any
	Attachments map[string]any
	Count       string // execution_count as text, "" when null
	Outputs     []map[string]any
}

// notebook is the part of a notebook that the exporters use.
type notebook struct {
	Cells    []cell
	Metadata map[string]any
	Language language
}

// language describes the kernel language of a notebook, from
// metadata.language_info and metadata.kernelspec.
type language struct {
	Name      string // "python", or "" when unknown
	Extension string // ".py"; ".txt" when unknown or unsafe in a file name
	Mimetype  string // "text/x-python"; "text/plain" when unknown
}

func parseNotebook(nb map[string]any) *notebook {
	meta := object(nb["metadata"])
	out := &notebook{Metadata: meta, Language: parseLanguage(meta)}
	cells, _ := nb["cells"].([]any)
	for _, v := range cells {
		c := object(v)
		parsed := cell{
			Type:        text(c["cell_type"]),
			Source:      multiline(c["source"]),
			Metadata:    object(c["metadata"]),
			Attachments: object(c["attachments"]),
		}
		if n, ok := c["execution_count"].(json.Number); ok {
			parsed.Count = n.String()
		}
		outputs, _ := c["outputs"].([]any)
		for _, o := range outputs {
			if m, ok := o.(map[string]any); ok {
				parsed.Outputs = append(parsed.Outputs, m)
			}
		}
		out.Cells = append(out.Cells, parsed)
	}
	return out
}

var safeExtensionValue lazy.Value[*regexp.Regexp]

// safeExtension returns a regular expression, compiled on first use, that
// matches a file extension that may go into a file name and a
// Content-Disposition header unchanged.
func safeExtension() *regexp.Regexp {
	return safeExtensionValue.Get(func() *regexp.Regexp {
		return regexp.MustCompile(`^\.[A-Za-z0-9_+-]{1,16}$`)
	})
}

var safeMimetypeValue lazy.Value[*regexp.Regexp]

// safeMimetype returns a regular expression, compiled on first use, that
// matches a media type that may go into a Content-Type header.
func safeMimetype() *regexp.Regexp {
	return safeMimetypeValue.Get(func() *regexp.Regexp {
		return regexp.MustCompile(`^[a-z0-9.+-]+/[A-Za-z0-9.+-]+$`)
	})
}

func parseLanguage(meta map[string]any) language {
	info := object(meta["language_info"])
	lang := language{
		Name:      strings.ToLower(text(info["name"])),
		Extension: text(info["file_extension"]),
		Mimetype:  text(info["mimetype"]),
	}
	if lang.Name == "" {
		lang.Name = strings.ToLower(text(object(meta["kernelspec"])["language"]))
	}
	if !safeExtension().MatchString(lang.Extension) {
		lang.Extension = ".txt"
	}
	if !safeMimetype().MatchString(lang.Mimetype) {
		lang.Mimetype = "text/plain"
	}
	return lang
}

// object returns v as a JSON object, or an empty one.
func object(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{}
}

// text returns v as a string, or "".
func text(v any) string {
	s, _ := v.(string)
	return s
}

// multiline returns a string of the notebook format that may be stored as
// a list of lines as one string. contents.ReadNotebook joins such lists
// already; this also covers values that are neither.
func multiline(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		var b strings.Builder
		for _, line := range v {
			b.WriteString(text(line))
		}
		return b.String()
	}
	return ""
}

// mimeData returns the data of an execute_result or display_data output
// for mimetype: the text of a text type, the base64 of an image, or the
// JSON text of a JSON type.
func mimeData(output map[string]any, mimetype string) (string, bool) {
	v, ok := object(output["data"])[mimetype]
	if !ok {
		return "", false
	}
	if strings.HasSuffix(mimetype, "json") {
		if s, isText := v.(string); isText {
			return s, true
		}
		data, err := json.MarshalIndent(v, "", "  ")
		return string(data), err == nil
	}
	return multiline(v), true
}

// traceback returns the lines of an error output's traceback as one text,
// or "ename: evalue" when the traceback is empty.
func traceback(output map[string]any) string {
	lines, _ := output["traceback"].([]any)
	parts := make([]string, 0, len(lines))
	for _, line := range lines {
		parts = append(parts, text(line))
	}
	if len(parts) == 0 {
		return text(output["ename"]) + ": " + text(output["evalue"])
	}
	return strings.Join(parts, "\n")
}

// title returns the title of a notebook: metadata.title, else name.
func (nb *notebook) title(name string) string {
	if t := strings.TrimSpace(text(nb.Metadata["title"])); t != "" {
		return t
	}
	return name
}

// rawFormat returns the media type a raw cell is meant for, from
// metadata.format (nbformat 4) or metadata.raw_mimetype (older JupyterLab).
func rawFormat(c cell) string {
	if f := text(c.Metadata["format"]); f != "" {
		return f
	}
	return text(c.Metadata["raw_mimetype"])
}

// dataURI returns a data URI for an image output: data is base64 for PNG
// and JPEG, with line breaks that are dropped, and the text of SVG.
func dataURI(mimetype, data string) string {
	if mimetype == "image/svg+xml" {
		return "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(data))
	}
	clean := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' {
			return -1
		}
		return r
	}, data)
	return "data:" + mimetype + ";base64," + clean
}

// attachmentURI returns the data URI of the image attachment name of a
// markdown cell.
func attachmentURI(attachments map[string]any, name string) (string, bool) {
	bundle := object(attachments[name])
	for _, mimetype := range []string{"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"} {
		if v, ok := bundle[mimetype]; ok {
			return dataURI(mimetype, multiline(v)), true
		}
	}
	return "", false
}

// inlineAttachments replaces each Markdown reference to an attachment in
// source, "(attachment:NAME)", with the attachment's data URI.
func inlineAttachments(source string, attachments map[string]any) string {
	for name := range attachments {
		if uri, ok := attachmentURI(attachments, name); ok {
			source = strings.ReplaceAll(source, "(attachment:"+name+")", "("+uri+")")
		}
	}
	return source
}
