package collab

import (
	"github.com/jupygo/jupygo/internal/ydoc"
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

// modelFor returns the model of a document type: package ydoc's, which
// falls back to the text file model for unknown types.
func modelFor(docType string) Model {
	return ydoc.For(docType)
}

// setDeterministic loads content into an empty doc so that equal content
// always gives the same history: the model builds it under client id 0,
// in one transaction, and doc then goes on under its own id. The models
// check content before they change the doc, so an error leaves it empty.
func setDeterministic(m Model, doc *yjs.Doc, content []byte, origin any) error {
	id := doc.ClientID()
	doc.SetClientID(0)
	defer doc.SetClientID(id)
	var err error
	doc.Transact(func(*yjs.Transaction) { err = m.Set(doc, content) }, origin)
	return err
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
