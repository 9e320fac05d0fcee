package nbconvert

import (
	"strings"

	"github.com/jupygo/jupygo/internal/lazy"
)

var commentPrefixesValue lazy.Value[map[string]string]

// commentPrefixes returns a map from a kernel language to the prefix of its
// line comments, which carry the markdown cells into a script.
func commentPrefixes() map[string]string {
	return commentPrefixesValue.Get(func() map[string]string {
		return map[string]string{
			"python": "#", "r": "#", "julia": "#", "bash": "#", "sh": "#", "ruby": "#",
			"perl": "#", "powershell": "#", "raku": "#", "nim": "#", "elixir": "#",
			"javascript": "//", "typescript": "//", "go": "//", "rust": "//", "c": "//",
			"c++": "//", "cpp": "//", "java": "//", "scala": "//", "kotlin": "//",
			"csharp": "//", "c#": "//", "swift": "//", "dart": "//", "groovy": "//",
			"sql": "--", "lua": "--", "haskell": "--",
			"matlab": "%", "octave": "%", "erlang": "%", "prolog": "%",
		}
	})
}

// exportScript returns the code cells of nb as a script in the notebook's
// language, as nbconvert's script exporter does: the code cells in order,
// and the markdown cells as comments when the language's comment syntax is
// known. Raw cells are kept when their format is the language's media type.
//
// NOTE: IPython magics (%time, !ls) are copied as they are. nbconvert
// rewrites them into get_ipython() calls, which needs IPython's
// transformer.
func exportScript(nb *notebook) []byte {
	var b strings.Builder
	prefix := commentPrefixes()[nb.Language.Name]
	if nb.Language.Name == "python" {
		b.WriteString("#!/usr/bin/env python\n# coding: utf-8\n\n")
	}
	for _, c := range nb.Cells {
		switch c.Type {
		case "code":
			if prefix != "" {
				count := c.Count
				if count == "" {
					count = " "
				}
				b.WriteString(prefix + " In[" + count + "]:\n\n\n")
			}
			writeBlock(&b, c.Source)
		case "markdown":
			if prefix != "" {
				writeBlock(&b, commentLines(prefix, c.Source))
			}
		case "raw":
			if rawFormat(c) == nb.Language.Mimetype {
				writeBlock(&b, c.Source)
			}
		}
	}
	return []byte(b.String())
}

// writeBlock writes text and the two blank lines that separate cells.
func writeBlock(b *strings.Builder, text string) {
	b.WriteString(strings.TrimRight(text, "\n"))
	b.WriteString("\n\n\n")
}

// commentLines prefixes every line of text with a line comment.
func commentLines(prefix, text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, line := range lines {
		if line == "" {
			lines[i] = prefix
		} else {
			lines[i] = prefix + " " + line
		}
	}
	return strings.Join(lines, "\n")
}
