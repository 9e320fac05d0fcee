package ydoc

import (
	"strings"
	"unicode/utf8"

	"github.com/jupygo/jupygo/yjs"
	"github.com/jupygo/jupygo/yjs/lib0"
)

// editText changes t to s, replacing only the lines that differ, and
// within each run of changed lines only the characters between their
// common prefix and suffix. Unchanged text keeps its items, and with them
// the cursors and undo history anchored in it. Like @jupyter/ydoc's
// updateSource, each range is replaced by inserting the new text before
// deleting the old, which leaves a cursor inside the range after the new
// text. All edits happen in the caller's transaction, or in one each when
// there is none.
func editText(t *yjs.Text, s string) error {
	old := t.String()
	if old == s {
		return nil
	}
	var pos16, shift int // UTF-16 offset of old[:done], and how far edits moved it
	done := 0
	for _, h := range textHunks(old, s) {
		pos16 += lib0.UTF16Len(old[done:h.oldStart])
		done = h.oldStart
		at := pos16 + shift
		inserted := s[h.newStart:h.newEnd]
		n16 := lib0.UTF16Len(inserted)
		if inserted != "" {
			if err := t.Insert(at, inserted, nil); err != nil {
				return err
			}
		}
		if h.oldEnd > h.oldStart {
			d16 := lib0.UTF16Len(old[h.oldStart:h.oldEnd])
			if err := t.Delete(at+n16, d16); err != nil {
				return err
			}
			shift -= d16
		}
		shift += n16
	}
	return nil
}

// hunk is a byte range of the old text and the range of the new text that
// replaces it.
type hunk struct {
	oldStart, oldEnd, newStart, newEnd int
}

// maxLineEdits bounds the line diff of textHunks. Texts that differ in
// more lines are replaced as one range, which costs less than diffing
// them and keeps few cursors anyway.
const maxLineEdits = 256

// textHunks returns the ranges to replace, in order. The common prefix and
// suffix are trimmed first, to whole lines. When what remains spans
// several lines, a line diff splits it into runs of changed lines, each
// trimmed to its changed characters.
func textHunks(old, s string) []hunk {
	start, oldEnd, newEnd := changedRange(old, s)
	whole := []hunk{{start, oldEnd, start, newEnd}}

	// Widen the range to whole lines, so that the line diff compares
	// lines and not their trimmed ends.
	start = strings.LastIndexByte(old[:start], '\n') + 1
	if oldEnd > 0 && old[oldEnd-1] != '\n' {
		if i := strings.IndexByte(old[oldEnd:], '\n'); i >= 0 {
			newEnd += i + 1
			oldEnd += i + 1
		} else {
			newEnd += len(old) - oldEnd
			oldEnd = len(old)
		}
	}
	a, b := splitLines(old[start:oldEnd]), splitLines(s[start:newEnd])
	if len(a) < 2 && len(b) < 2 {
		return whole
	}
	runs, ok := diffLines(a, b, maxLineEdits)
	if !ok {
		return whole
	}
	var hunks []hunk
	oldPos, newPos := start, start
	ai, bi := 0, 0
	for _, r := range runs {
		// Lines a[ai:r.a] and b[bi:r.b] differ, then r.n lines are equal.
		oldTo, newTo := oldPos, newPos
		for ; ai < r.a; ai++ {
			oldTo += len(a[ai])
		}
		for ; bi < r.b; bi++ {
			newTo += len(b[bi])
		}
		if oldTo > oldPos || newTo > newPos {
			p, oe, ne := changedRange(old[oldPos:oldTo], s[newPos:newTo])
			hunks = append(hunks, hunk{oldPos + p, oldPos + oe, newPos + p, newPos + ne})
		}
		oldPos, newPos = oldTo, newTo
		for k := 0; k < r.n; k++ {
			oldPos += len(a[ai])
			newPos += len(b[bi])
			ai, bi = ai+1, bi+1
		}
	}
	return hunks
}

// splitLines splits s after every "\n".
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// run is a run of n equal lines at a[a:a+n] and b[b:b+n].
type run struct{ a, b, n int }

// diffLines returns the runs of equal lines of a shortest edit script
// between a and b (Myers' algorithm), ending with an empty run at the ends
// of both, or false when the script needs more than maxD line edits.
func diffLines(a, b []string, maxD int) ([]run, bool) {
	n, m := len(a), len(b)
	offset := maxD + 1
	v := make([]int, 2*offset+1)
	var trace [][]int
	found := false
	for d := 0; d <= maxD && !found; d++ {
		trace = append(trace, append([]int(nil), v...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
				x = v[offset+k+1]
			} else {
				x = v[offset+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[offset+k] = x
			if x >= n && y >= m {
				found = true
				break
			}
		}
	}
	if !found {
		return nil, false
	}

	// Walk back through the saved frontiers, collecting the diagonals.
	runs := []run{{n, m, 0}}
	x, y := n, m
	for d := len(trace) - 1; d >= 0; d-- {
		v := trace[d]
		k := x - y
		var prevK int
		if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := v[offset+prevK]
		prevY := prevX - prevK
		if d == 0 {
			prevX, prevY = 0, 0
		}
		startX, startY := prevX, prevY
		if d > 0 {
			if prevK == k+1 {
				startY++ // an insertion of b[prevY]
			} else {
				startX++ // a deletion of a[prevX]
			}
		}
		if x > startX {
			runs = append(runs, run{startX, startY, x - startX})
		}
		x, y = prevX, prevY
	}
	for i, j := 0, len(runs)-1; i < j; i, j = i+1, j-1 {
		runs[i], runs[j] = runs[j], runs[i]
	}
	return runs, true
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
