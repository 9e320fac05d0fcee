package ydoc

import (
	"errors"
	"fmt"

	"github.com/jupygo/jupygo/yjs"
)

// Model converts between a file's bytes and the shared types of a Y.Doc for
// one kind of document. Implementations are stateless and safe for
// concurrent use. A yjs.Doc is not, so the caller serializes all access to
// one Doc.
type Model interface {
	// Set replaces the document's content with content, the bytes of the
	// file. On a document without content and without changes by client
	// id 0, the content is built in a scratch document with client id 0
	// and applied as one update, so the same bytes always give the same
	// update. On a loaded document, Set changes only what differs. It
	// returns an error, and leaves doc as it was, when content is not a
	// valid file of this kind.
	Set(doc *yjs.Doc, content []byte) error

	// Content returns the bytes of the file that doc describes.
	Content(doc *yjs.Doc) ([]byte, error)
}

// Document types, as the second part of a room id "{format}:{type}:{fileId}"
// names them.
const (
	TypeNotebook = "notebook"
	TypeFile     = "file"
	TypeUnicode  = "unicode"
	TypeBlob     = "blob"
)

// For returns the Model of a document type: Notebook for "notebook", Blob
// for "blob", and File for "file", "unicode" and any other type, as
// jupyter_ydoc falls back to its file document for unknown types.
func For(docType string) Model {
	switch docType {
	case TypeNotebook:
		return Notebook{}
	case TypeBlob:
		return Blob{}
	}
	return File{}
}

// Version returns the schema version of a document type, as jupyter_ydoc
// 4.x gives it and the session store of jupyter-collaboration records it:
// "2.0.0" for notebooks and blobs, "1.0.0" for text files.
func Version(docType string) string {
	switch For(docType).(type) {
	case Notebook, Blob:
		return "2.0.0"
	}
	return "1.0.0"
}

// Origin is the origin of every transaction this package runs, so that
// observers and OnUpdate handlers can tell the server's own writes from
// clients' updates.
var Origin any = origin{}

type origin struct{}

// ErrSchema reports a document whose shared types do not have the kinds
// that the schema gives them, such as a root "source" that is a Map in a
// text file's document.
var ErrSchema = errors.New("document does not follow the schema")

// canSetFresh reports whether setFresh may fill doc: its content roots are
// empty (contentEmpty) and client id 0 has written nothing to it, so the
// structs of the scratch document are all new to it. Other clients' writes,
// such as a "state" key set before the content, do not matter.
func canSetFresh(doc *yjs.Doc, contentEmpty bool) bool {
	if !contentEmpty || doc.HasPending() {
		return false
	}
	_, written := doc.StateVector()[0]
	return !written
}

// setFresh fills a scratch document with client id 0 and applies its
// state to doc as one update, which makes the update depend on the
// content alone. A doc that is itself empty and of client id 0, such as
// a room's doc during its load, is filled in place: it ends in the same
// state without a second copy of the document.
func setFresh(doc *yjs.Doc, fill func(scratch *yjs.Doc) error) error {
	if doc.ClientID() == 0 && len(doc.StateVector()) == 0 && !doc.HasPending() {
		var err error
		doc.Transact(func(*yjs.Transaction) { err = fill(doc) }, Origin)
		return err
	}
	scratch := yjs.NewDoc(yjs.WithClientID(0), yjs.WithGUID(doc.GUID()))
	var err error
	scratch.Transact(func(*yjs.Transaction) { err = fill(scratch) }, Origin)
	if err != nil {
		return err
	}
	return doc.ApplyUpdate(scratch.EncodeStateAsUpdate(nil), Origin)
}

// checkRoot returns ErrSchema when doc has a root called name of a kind
// other than kind. A root that only updates have named has no kind yet and
// passes.
func checkRoot(doc *yjs.Doc, name string, kind yjs.Kind) error {
	k, ok := doc.RootKind(name)
	if ok && k != kind && k != yjs.KindUndefined {
		return fmt.Errorf("%w: root %q is a %v, not a %v", ErrSchema, name, k, kind)
	}
	return nil
}

// State keys that the server writes into the root map "state".
const (
	StateDirty = "dirty" // bool: the document has changes not saved yet
	StateHash  = "hash"  // string: sha256 hex of the file as last saved or loaded
	StatePath  = "path"  // string: the file's path, updated on rename
)

// SetState sets key of the root map "state" to value, an Any value (see
// package lib0: bool, string, float64, nil, lib0.Object, []any). It writes
// nothing when the key already has an equal value, so that repeated calls
// do not produce updates or wake observers.
func SetState(doc *yjs.Doc, key string, value any) error {
	if err := checkRoot(doc, "state", yjs.KindMap); err != nil {
		return err
	}
	value, err := toAny(value)
	if err != nil {
		return fmt.Errorf("state %q: %w", key, err)
	}
	state := doc.GetMap("state")
	if old, ok := state.Get(key); ok && equalAny(old, value) {
		return nil
	}
	doc.Transact(func(*yjs.Transaction) { err = state.Set(key, value) }, Origin)
	return err
}

// State returns the value of key in the root map "state" and whether it is
// set.
func State(doc *yjs.Doc, key string) (any, bool) {
	if k, ok := doc.RootKind("state"); ok && k != yjs.KindMap {
		return nil, false
	}
	return doc.GetMap("state").Get(key)
}
