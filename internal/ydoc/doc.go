// Package ydoc maps the files that JupyterLab edits collaboratively onto
// Y.Docs with the schema of @jupyter/ydoc 4.x and jupyter_ydoc 3.x/4.x, the
// document models of JupyterLab's collaboration extension
// (@jupyter/docprovider 5.x).
//
// # Kinds of document
//
// A room id "{format}:{type}:{fileId}" names the document type. For returns
// its Model: Notebook for "notebook" (format json), File for "file" and
// "unicode" (format text) and for unknown types, Blob for "blob" (format
// base64). A Model sets a Y.Doc from a file's bytes (Set) and returns the
// bytes to save (Content).
//
// # Use
//
// A room calls For with the type of its room id, then Model.Set with the
// file's bytes before it replies to the first sync message, and Model.Content
// to save. SetState records "dirty", "hash" and "path" after a save or a
// rename. A notebook room can load and save through package contents
// instead: Notebook.SetJSON takes the content of contents.Manager.Get,
// which marks trusted cells, and Notebook.JSON gives the content for
// contents.Manager.Save, which keeps the file's number literals. Version
// gives the schema version that a session store records. Set returns
// ErrInvalidNotebook or ErrNotText for content that is not a file of its
// kind. The functions that read or write a document return ErrSchema for a
// document whose roots have other kinds than the schema below. Notebook's
// Content and JSON repair the values below the roots instead
// (Notebook.JSONRepairs). CheckUpdate reports whether an update would keep
// a document within the schema, before it is applied.
//
// # Schema
//
// Every document has a root Y.Map "state". Its keys are "dirty" (bool,
// unsaved changes), "hash" (sha256 hex of the file as saved, which clients
// compare with the contents API), "path" (the file's path, which follows
// renames) and "document_id" (set by clients). SetState writes them.
//
// A notebook (schema version 2.0.0) has a root Y.Map "meta" with the
// numbers "nbformat" and "nbformat_minor" and the Y.Map "metadata" (one
// entry per notebook metadata key), and a root Y.Array "cells" of Y.Maps:
// "id", "cell_type" ("code", "markdown" or "raw"), "source" (Y.Text),
// "metadata" (Y.Map), for code cells "execution_count", "execution_state"
// (never saved) and "outputs" (Y.Array of Y.Maps; the "text" of a stream
// output is a Y.Text), and for markdown and raw cells "attachments" (an Any
// object, left out of the file when empty). Other cell keys pass through.
//
// A text file has a root Y.Text "source". A blob has a root Y.Map "source"
// with the file's bytes under "bytes".
//
// # Determinism
//
// Set on a document without content builds the content in a scratch
// document with client id 0 and applies it as one update. Writes of other
// clients, such as the server's "state" keys, may come first. The
// same file bytes therefore give the same update in every server process:
// a client that reconnects after a restart, still holding the old
// document, merges into the new one without duplicating cells or text.
// Cells without an id get one derived from a hash of the file and a
// counter for the same reason.
//
// # Reloading
//
// Set on a loaded document (the file changed on disk) changes only what
// differs, in one transaction, so clients keep their cursors and undo
// history in unchanged parts (see Notebook.SetJSON for the cell rules).
//
// # Concurrency
//
// The functions of this package are safe for concurrent use on different
// documents. A yjs.Doc is not safe for concurrent use, so the caller
// serializes all access to one document. Every transaction this package
// runs has Origin as its origin.
package ydoc
