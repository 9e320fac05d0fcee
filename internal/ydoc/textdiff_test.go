package ydoc

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jupygo/jupygo/yjs"
)

func TestTextHunks(t *testing.T) {
	for _, tc := range []struct {
		name, old, s string
		want         []hunk
	}{
		{"one character", "abc", "abd", []hunk{{2, 3, 2, 3}}},
		{"two distant lines", "a1\nb\nc\nd\ne2\n", "a9\nb\nc\nd\ne8\n", []hunk{{1, 2, 1, 2}, {10, 11, 10, 11}}},
		{"inserted and deleted lines", "a\nb\nc\nd\n", "a\nX\nb\nd\n", []hunk{{2, 2, 2, 4}, {4, 6, 6, 6}}},
		{"no newline in the change", "x\ny", "x\nz", []hunk{{2, 3, 2, 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, textHunks(tc.old, tc.s), cmp.AllowUnexported(hunk{})); diff != "" {
				t.Errorf("hunks (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEditTextRandom(t *testing.T) {
	words := []string{"a", "b", "é", "😀", "\n", "\n", "line\n", "\r\n"}
	random := func(r *rand.Rand) string {
		var b strings.Builder
		for range r.IntN(40) {
			b.WriteString(words[r.IntN(len(words))])
		}
		return b.String()
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		old, s := random(r), random(r)
		doc := yjs.NewDoc()
		text := doc.GetText("t")
		text.Insert(0, old, nil)
		if err := editText(text, s); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if got := text.String(); got != s {
			t.Fatalf("case %d: editText(%q, %q) gave %q", i, old, s, got)
		}
	}
}

func TestEditTextManyLines(t *testing.T) {
	// More changed lines than maxLineEdits: one range replaces them.
	var old, s strings.Builder
	for i := range 2 * maxLineEdits {
		old.WriteString("old line\n")
		if i%2 == 0 {
			s.WriteString("new line\n")
		}
	}
	if got := textHunks(old.String(), s.String()); len(got) != 1 {
		t.Errorf("%d hunks, want 1", len(got))
	}
}
