package collab

import (
	"bytes"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/jupygo/jupygo/yjs"
)

// Model maps a document type's file content to a Y.Doc and back, as
// jupyter_ydoc's document classes do. Set on an empty doc must produce the
// same update for the same content every time, so that a room rebuilt
// from the file merges with clients that still hold the old history.
// Set on a loaded doc changes only what differs. Content returns the
// bytes to save.
type Model interface {
	Set(doc *yjs.Doc, content []byte) error
	Content(doc *yjs.Doc) ([]byte, error)
}

// modelFor returns the model of a document type, or nil when rooms cannot
// hold that type yet.
//
// TODO: notebooks need the model of package ydoc, which is written
// separately. Once it lands this becomes
// `func modelFor(t string) Model { return ydoc.For(t) }`.
func modelFor(docType string) Model {
	switch docType {
	case "file", "unicode":
		return textModel{}
	}
	return nil
}

// textModel is the model of text files (jupyter_ydoc's YUnicode and
// YFile): the root Y.Text "source" holds the file's text, with CRLF line
// ends turned into LF on load.
type textModel struct{}

func (textModel) Set(doc *yjs.Doc, content []byte) error {
	if !utf8.Valid(content) {
		return fmt.Errorf("file content is not UTF-8")
	}
	text := doc.GetText("source")
	newText := string(bytes.ReplaceAll(content, []byte("\r\n"), []byte("\n")))
	oldText := text.String()
	if oldText == newText {
		return nil
	}
	start, oldEnd, newEnd := changedRange(oldText, newText)
	var err error
	doc.Transact(func(*yjs.Transaction) {
		at := utf16Len(oldText[:start])
		if n := utf16Len(oldText[start:oldEnd]); n > 0 {
			if err = text.Delete(at, n); err != nil {
				return
			}
		}
		err = text.Insert(at, newText[start:newEnd], nil)
	}, nil)
	return err
}

func (textModel) Content(doc *yjs.Doc) ([]byte, error) {
	return []byte(doc.GetText("source").String()), nil
}

// changedRange returns the byte range that differs between a and b, cut
// at character boundaries: a[start:aEnd] is replaced by b[start:bEnd].
func changedRange(a, b string) (start, aEnd, bEnd int) {
	for start < len(a) && start < len(b) && a[start] == b[start] {
		start++
	}
	for start > 0 && start < len(a) && !utf8.RuneStart(a[start]) {
		start--
	}
	aEnd, bEnd = len(a), len(b)
	for aEnd > start && bEnd > start && a[aEnd-1] == b[bEnd-1] {
		aEnd--
		bEnd--
	}
	for aEnd < len(a) && !utf8.RuneStart(a[aEnd]) {
		aEnd++
		bEnd++
	}
	return start, aEnd, bEnd
}

// utf16Len returns the length of s in UTF-16 code units, the unit of Y.Text
// indices.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// setDeterministic loads content into an empty doc so that equal content
// always gives the same history: the model builds it in a scratch doc
// whose client id is 0, and doc applies that as one update.
func setDeterministic(m Model, doc *yjs.Doc, content []byte, origin any) error {
	scratch := yjs.NewDoc(yjs.WithClientID(0))
	if err := m.Set(scratch, content); err != nil {
		return err
	}
	return doc.ApplyUpdate(scratch.EncodeStateAsUpdate(nil), origin)
}

// Keys of the root map "state" that the server writes.
const (
	stateDirty = "dirty"
	statePath  = "path"
	stateHash  = "hash"
)

// setState sets keys of the root map "state" in one transaction, leaving
// alone those that already have the value.
func setState(doc *yjs.Doc, origin any, kv ...any) error {
	state := doc.GetMap("state")
	var err error
	doc.Transact(func(*yjs.Transaction) {
		for i := 0; i+1 < len(kv) && err == nil; i += 2 {
			key := kv[i].(string)
			if old, ok := state.Get(key); ok && old == kv[i+1] {
				continue
			}
			err = state.Set(key, kv[i+1])
		}
	}, origin)
	return err
}
