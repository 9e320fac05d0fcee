package ydoc

import (
	"unicode/utf8"

	"github.com/jupygo/jupygo/yjs"
	"github.com/jupygo/jupygo/yjs/lib0"
)

// editText changes t to s by replacing the part between their common
// prefix and common suffix, so that the unchanged text keeps its items and
// the cursors anchored in it. Like @jupyter/ydoc's updateSource, it
// inserts the new part before deleting the old one, which leaves a cursor
// inside the replaced range after the new text.
//
// NOTE: two edits far apart are replaced as one range that spans the text
// between them; a cursor in that text moves to the end of the range.
func editText(t *yjs.Text, s string) error {
	old := t.String()
	if old == s {
		return nil
	}
	start, oldEnd, newEnd := changedRange(old, s)
	at := lib0.UTF16Len(old[:start])
	if newEnd > start {
		if err := t.Insert(at, s[start:newEnd], nil); err != nil {
			return err
		}
	}
	if oldEnd > start {
		inserted := lib0.UTF16Len(s[start:newEnd])
		return t.Delete(at+inserted, lib0.UTF16Len(old[start:oldEnd]))
	}
	return nil
}

// changedRange returns the byte range old[start:oldEnd] that differs from
// s[start:newEnd], with both ends on character boundaries. Characters are
// UTF-8 or WTF-8 sequences, whose continuation bytes are 0x80 to 0xBF.
func changedRange(old, s string) (start, oldEnd, newEnd int) {
	n := min(len(old), len(s))
	for start < n && old[start] == s[start] {
		start++
	}
	for start > 0 && start < len(old) && !utf8.RuneStart(old[start]) {
		start--
	}
	for start > 0 && start < len(s) && !utf8.RuneStart(s[start]) {
		start--
	}

	suffix := 0
	for suffix < n-start && old[len(old)-1-suffix] == s[len(s)-1-suffix] {
		suffix++
	}
	// The suffix must start on a character boundary; its bytes are the same
	// in both strings, so checking one of them suffices.
	for suffix > 0 && !utf8.RuneStart(old[len(old)-suffix]) {
		suffix--
	}
	return start, len(old) - suffix, len(s) - suffix
}
