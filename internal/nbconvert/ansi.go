package nbconvert

import (
	"fmt"
	"html"
	"strconv"
	"strings"
)

// Kernels color tracebacks and some outputs with ANSI escape sequences.
// The exporters turn SGR sequences (ESC [ ... m) into styled spans for
// HTML and drop them for plain text. Every other escape sequence is
// dropped.

// ansiStyle is the SGR state that applies to a run of text.
type ansiStyle struct {
	fg, bg    string // CSS color, "" for the default
	bold      bool
	underline bool
	italic    bool
}

func (s ansiStyle) css() string {
	var parts []string
	if s.fg != "" {
		parts = append(parts, "color:"+s.fg)
	}
	if s.bg != "" {
		parts = append(parts, "background-color:"+s.bg)
	}
	if s.bold {
		parts = append(parts, "font-weight:bold")
	}
	if s.italic {
		parts = append(parts, "font-style:italic")
	}
	if s.underline {
		parts = append(parts, "text-decoration:underline")
	}
	return strings.Join(parts, ";")
}

// ansiColors are the 16 basic colors, normal then bright, as JupyterLab's
// light theme shows them.
var ansiColors = [16]string{
	"#3e424d", "#e75c58", "#00a250", "#ddb62b", "#208ffb", "#d160c4", "#60c6c8", "#c5c1b4",
	"#282c36", "#b22b31", "#007427", "#b27d12", "#0065ca", "#a03196", "#258f8f", "#a1a6b2",
}

// ansiRun is a run of text with one style.
type ansiRun struct {
	text  string
	style ansiStyle
}

// parseANSI splits s into runs of text with their SGR style, and drops
// every escape sequence. It accepts any input.
func parseANSI(s string) []ansiRun {
	var runs []ansiRun
	var style ansiStyle
	for {
		i := strings.IndexByte(s, 0x1b)
		if i < 0 {
			break
		}
		if i > 0 {
			runs = append(runs, ansiRun{s[:i], style})
		}
		params, final, rest := cutEscape(s[i:])
		if final == 'm' {
			style = applySGR(style, params)
		}
		s = rest
	}
	if s != "" {
		runs = append(runs, ansiRun{s, style})
	}
	return runs
}

// cutEscape splits the escape sequence at the start of s (which starts
// with ESC) from the text after it. For a CSI sequence it returns its
// parameters and final byte; for other sequences final is 0. An operating
// system command ends at BEL or ESC \. A sequence cut off by the end of s
// takes the rest of s.
func cutEscape(s string) (params string, final byte, rest string) {
	if len(s) < 2 {
		return "", 0, ""
	}
	switch s[1] {
	case ']': // an operating system command, such as a window title
		bel, st := strings.IndexByte(s, '\a'), strings.Index(s, "\x1b\\")
		switch {
		case bel >= 0 && (st < 0 || bel < st):
			return "", 0, s[bel+1:]
		case st >= 0:
			return "", 0, s[st+2:]
		}
		return "", 0, ""
	case '[':
	default:
		// Intermediate bytes, then one final byte: ESC ( B, ESC =.
		j := 1
		for j < len(s) && s[j] >= 0x20 && s[j] <= 0x2f {
			j++
		}
		return "", 0, s[min(j+1, len(s)):]
	}
	for j := 2; j < len(s); j++ {
		if c := s[j]; c >= 0x40 && c <= 0x7e {
			return s[2:j], c, s[j+1:]
		}
	}
	return "", 0, ""
}

// applySGR returns style changed by the parameters of an SGR sequence.
func applySGR(style ansiStyle, params string) ansiStyle {
	codes := strings.Split(params, ";")
	for i := 0; i < len(codes); i++ {
		n, err := strconv.Atoi(codes[i])
		if codes[i] == "" {
			n, err = 0, nil
		}
		if err != nil {
			continue
		}
		switch {
		case n == 0:
			style = ansiStyle{}
		case n == 1:
			style.bold = true
		case n == 3:
			style.italic = true
		case n == 4:
			style.underline = true
		case n == 22:
			style.bold = false
		case n == 23:
			style.italic = false
		case n == 24:
			style.underline = false
		case n >= 30 && n <= 37:
			style.fg = ansiColors[n-30]
		case n >= 90 && n <= 97:
			style.fg = ansiColors[n-90+8]
		case n == 39:
			style.fg = ""
		case n >= 40 && n <= 47:
			style.bg = ansiColors[n-40]
		case n >= 100 && n <= 107:
			style.bg = ansiColors[n-100+8]
		case n == 49:
			style.bg = ""
		case n == 38 || n == 48:
			var color string
			color, i = extendedColor(codes, i)
			if n == 38 {
				style.fg = color
			} else {
				style.bg = color
			}
		}
	}
	return style
}

// extendedColor reads the color of a 38 or 48 code at codes[i]: 5;n for
// the 256-color palette or 2;r;g;b. It returns the CSS color ("" when the
// parameters are invalid) and the index of the last code it read.
func extendedColor(codes []string, i int) (string, int) {
	arg := func(k int) (int, bool) {
		if i+k >= len(codes) {
			return 0, false
		}
		v, err := strconv.Atoi(codes[i+k])
		return v, err == nil && v >= 0 && v <= 255
	}
	mode, ok := arg(1)
	switch {
	case ok && mode == 5:
		n, ok := arg(2)
		if !ok {
			return "", i + 2
		}
		return palette256(n), i + 2
	case ok && mode == 2:
		r, ok1 := arg(2)
		g, ok2 := arg(3)
		b, ok3 := arg(4)
		if !ok1 || !ok2 || !ok3 {
			return "", i + 4
		}
		return fmt.Sprintf("rgb(%d,%d,%d)", r, g, b), i + 4
	}
	return "", i + 1
}

// palette256 returns the CSS color of entry n of the xterm 256-color
// palette.
func palette256(n int) string {
	switch {
	case n < 16:
		return ansiColors[n]
	case n < 232:
		n -= 16
		level := func(v int) int {
			if v == 0 {
				return 0
			}
			return 55 + 40*v
		}
		return fmt.Sprintf("rgb(%d,%d,%d)", level(n/36), level(n/6%6), level(n%6))
	}
	gray := 8 + 10*(n-232)
	return fmt.Sprintf("rgb(%d,%d,%d)", gray, gray, gray)
}

// stripANSI returns s without escape sequences.
func stripANSI(s string) string {
	if !strings.ContainsRune(s, 0x1b) {
		return s
	}
	var b strings.Builder
	for _, run := range parseANSI(s) {
		b.WriteString(run.text)
	}
	return b.String()
}

// ansiToHTML returns s as escaped HTML, with the styled runs in spans.
func ansiToHTML(s string) string {
	var b strings.Builder
	for _, run := range parseANSI(s) {
		css := run.style.css()
		if css == "" {
			b.WriteString(html.EscapeString(run.text))
			continue
		}
		b.WriteString(`<span style="` + css + `">`)
		b.WriteString(html.EscapeString(run.text))
		b.WriteString("</span>")
	}
	return b.String()
}
