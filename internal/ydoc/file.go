package ydoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jupygo/jupygo/yjs"
	"github.com/jupygo/jupygo/yjs/lib0"
)

// File is the Model of a text file (@jupyter/ydoc's YFile, jupyter_ydoc's
// YUnicode): the root Y.Text "source" contains the text.
type File struct{}

// ErrNotText reports file content that is not UTF-8 text.
var ErrNotText = errors.New("file is not UTF-8 text")

// Set sets "source" to content with every CRLF line ending turned into LF,
// as jupyter-collaboration loads text files. On a loaded document only the
// changed lines, trimmed to their changed characters, are replaced (see
// editText). Content that is not valid UTF-8 gives ErrNotText.
func (File) Set(doc *yjs.Doc, content []byte) error {
	if !utf8.Valid(content) {
		return ErrNotText
	}
	text := string(bytes.ReplaceAll(content, []byte("\r\n"), []byte("\n")))
	if err := checkRoot(doc, "source", yjs.KindText); err != nil {
		return err
	}
	if canSetFresh(doc, doc.GetText("source").Len() == 0) {
		return setFresh(doc, func(scratch *yjs.Doc) error {
			return scratch.GetText("source").Insert(0, text, nil)
		})
	}
	var err error
	doc.Transact(func(*yjs.Transaction) { err = editText(doc.GetText("source"), text) }, Origin)
	return err
}

// Content returns the text of "source" in UTF-8. A lone UTF-16 surrogate,
// which a JavaScript client can leave in a Y.Text, is written as U+FFFD.
func (File) Content(doc *yjs.Doc) ([]byte, error) {
	if err := checkRoot(doc, "source", yjs.KindText); err != nil {
		return nil, err
	}
	if _, ok := doc.RootKind("source"); !ok {
		return []byte{}, nil
	}
	return []byte(lib0.ToValidUTF8(doc.GetText("source").String())), nil
}

// Blob is the Model of a binary file (jupyter_ydoc's YBlob): the root Y.Map
// "source" contains the bytes under the key "bytes".
type Blob struct{}

// Set stores content under "bytes", unless it is there already.
func (Blob) Set(doc *yjs.Doc, content []byte) error {
	if err := checkRoot(doc, "source", yjs.KindMap); err != nil {
		return err
	}
	content = bytes.Clone(content)
	if canSetFresh(doc, doc.GetMap("source").Len() == 0) {
		return setFresh(doc, func(scratch *yjs.Doc) error {
			return scratch.GetMap("source").Set("bytes", content)
		})
	}
	source := doc.GetMap("source")
	if old, ok := source.Get("bytes"); ok {
		if b, ok := old.([]byte); ok && bytes.Equal(b, content) {
			return nil
		}
	}
	var err error
	doc.Transact(func(*yjs.Transaction) { err = source.Set("bytes", content) }, Origin)
	return err
}

// Content returns the bytes stored under "bytes", or none when the key is
// missing.
func (Blob) Content(doc *yjs.Doc) ([]byte, error) {
	if err := checkRoot(doc, "source", yjs.KindMap); err != nil {
		return nil, err
	}
	if _, ok := doc.RootKind("source"); !ok {
		return []byte{}, nil
	}
	v, ok := doc.GetMap("source").Get("bytes")
	if !ok {
		return []byte{}, nil
	}
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("%w: source.bytes is a %s, not binary", ErrSchema, describe(v))
	}
	return bytes.Clone(b), nil
}

// describe names the kind of a value for error messages.
func describe(v any) string {
	switch v := v.(type) {
	case *yjs.Map:
		return "Y.Map"
	case *yjs.Array:
		return "Y.Array"
	case *yjs.Text:
		return "Y.Text"
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case lib0.Object:
		return "object"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		return "number"
	default:
		return strings.TrimPrefix(fmt.Sprintf("%T", v), "*")
	}
}
