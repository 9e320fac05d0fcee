package yjs

import (
	"testing"
	"time"
)

func TestUndoCaptureTimeout(t *testing.T) {
	d := NewDoc(WithClientID(1))
	x := d.GetText("t")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	um := NewUndoManager(d, []any{x}, UndoOptions{
		CaptureTimeout: DefaultCaptureTimeout,
		Now:            func() time.Time { return now },
	})
	x.Insert(0, "a", nil)
	now = now.Add(100 * time.Millisecond)
	x.Insert(1, "b", nil) // within the timeout: same step
	now = now.Add(time.Second)
	x.Insert(2, "c", nil) // a new step
	d.Transact(func(*Transaction) { x.Insert(3, "remote", nil) }, "other origin")

	steps := []struct {
		op   string
		want string
	}{
		{"undo", "abremote"},
		{"undo", "remote"},
		{"undo", "remote"},
		{"redo", "abremote"},
		{"redo", "abcremote"},
	}
	for i, s := range steps {
		if s.op == "undo" {
			um.Undo()
		} else {
			um.Redo()
		}
		if got := x.String(); got != s.want {
			t.Errorf("step %d (%s): text %q, want %q", i, s.op, got, s.want)
		}
	}
	if um.CanRedo() {
		t.Error("CanRedo after redoing everything")
	}
	if !um.CanUndo() {
		t.Error("cannot undo after redo")
	}
}

func TestUndoKeepsDeletedContent(t *testing.T) {
	d := NewDoc(WithClientID(1))
	m := d.GetMap("m")
	um := NewUndoManager(d, []any{m}, UndoOptions{})
	inner := NewText()
	m.Set("text", inner)
	inner.Insert(0, "keep me", nil)
	m.Delete("text")
	if !um.Undo() {
		t.Fatal("Undo reverted nothing")
	}
	v, ok := m.Get("text")
	if !ok {
		t.Fatal("key not restored")
	}
	if got := v.(*Text).String(); got != "keep me" {
		t.Errorf("restored text %q, want %q", got, "keep me")
	}
	um.Clear()
	if um.CanUndo() || um.CanRedo() {
		t.Error("stacks not empty after Clear")
	}
}
