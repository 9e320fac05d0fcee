package nbconvert

import (
	"regexp"
	"strings"
	"testing"

	"github.com/jupygo/jupygo/internal/contents"
)

// FuzzExport checks that every notebook the contents reader accepts
// exports to each native format without a panic.
func FuzzExport(f *testing.F) {
	f.Add([]byte(testNotebook))
	f.Add([]byte(`{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`))
	f.Add([]byte(`{"cells": [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": "![x](attachment:y)",
		"attachments": {"y": {"image/svg+xml": ["<svg/>"]}}}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		nb, err := contents.ReadNotebook(data)
		if err != nil {
			return
		}
		for _, format := range []string{"script", "markdown", "html"} {
			for _, sanitize := range []bool{false, true} {
				if _, err := convertNative(format, "fuzz", nb, sanitize); err != nil {
					t.Errorf("%s export: %v", format, err)
				}
			}
		}
	})
}

var spanTag = regexp.MustCompile(`<span style="[^"<>]*">|</span>`)

// FuzzANSI checks that the ANSI converters accept any text, drop every
// escape character and escape the text they keep.
func FuzzANSI(f *testing.F) {
	for _, seed := range []string{
		"\x1b[0;31mValueError\x1b[0m: <bad>",
		"\x1b[38;5;208morange\x1b[48;2;1;2;3m\x1b[1;4mx",
		"\x1b[38;5\x1b[38;2;999;0m\x1b]0;title\x07\x1b(B\x1b",
		"a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		plain := stripANSI(s)
		if strings.ContainsRune(plain, 0x1b) {
			t.Errorf("stripANSI(%q) = %q keeps an escape", s, plain)
		}
		html := ansiToHTML(s)
		if strings.ContainsRune(html, 0x1b) {
			t.Errorf("ansiToHTML(%q) = %q keeps an escape", s, html)
		}
		withoutSpans := spanTag.ReplaceAllString(html, "")
		if strings.ContainsAny(withoutSpans, "<>") {
			t.Errorf("ansiToHTML(%q) = %q has unescaped markup", s, html)
		}
	})
}
