package ydoc

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/jupygo/jupygo/yjs"
	"github.com/jupygo/jupygo/yjs/lib0"
)

// ErrUnresolved reports an update that cannot be checked yet: some of its
// items depend on structs that neither the document nor the update holds.
var ErrUnresolved = errors.New("update depends on changes the document lacks")

// CheckUpdate reports whether applying the V1 update to doc, a document of
// type docType, would keep doc within its schema (see the package
// documentation). It reads the update's items and resolves where each
// would go, without changing doc, so its cost grows with the update and
// not with the document. It returns an *UpdateError, which wraps
// ErrSchema and names the first offending value. It returns ErrUnresolved
// when items wait for structs the document lacks, because ApplyUpdate
// would keep them pending and they could land anywhere once their
// dependencies arrive. A malformed update gives an error wrapping
// yjs.ErrInvalidUpdate.
//
// Deleted content is not checked: it never reaches a file.
// An existing cell's "cell_type" and "source" may be replaced but not
// deleted.
// NOTE: a deleted entry that ends up as the key's current one still
// removes it, because telling needs conflict resolution. Notebook.JSON
// then saves the cell as a raw cell.
func CheckUpdate(docType string, doc *yjs.Doc, update []byte) error {
	u, err := yjs.DecodeUpdate(update)
	if err != nil {
		return err
	}
	return CheckDecoded(docType, doc, u)
}

// CheckDecoded is CheckUpdate for an update that yjs.DecodeUpdate decoded,
// which doc.ApplyDecoded can apply afterwards.
func CheckDecoded(docType string, doc *yjs.Doc, update *yjs.Update) error {
	ins, err := doc.Inspect(update)
	if err != nil {
		return err
	}
	if len(ins.Unresolved) > 0 {
		return fmt.Errorf("%w: %d items wait for %v", ErrUnresolved, len(ins.Unresolved), ins.Unresolved[0])
	}
	var problem string
	switch For(docType).(type) {
	case Notebook:
		problem = checkNotebookItems(ins.Items, ins.DeletedEntries)
	case Blob:
		problem = checkBlobItems(ins.Items)
	default:
		problem = checkFileItems(ins.Items)
	}
	if problem == "" {
		return nil
	}
	name := docType
	if _, ok := For(docType).(File); ok {
		name = "text file"
	}
	return &UpdateError{Schema: name, Problem: problem}
}

// UpdateError is an update that would take a document out of its schema.
// It wraps ErrSchema.
type UpdateError struct {
	// Schema names the document type: "notebook", "text file", "blob".
	Schema string
	// Problem names the first offending value, such as
	// "cells[3].source is a number, not a Y.Text".
	Problem string
}

func (e *UpdateError) Error() string {
	return "update does not follow the " + e.Schema + " schema: " + e.Problem
}

func (e *UpdateError) Unwrap() error { return ErrSchema }

// place is where a shared type sits in a notebook.
type place uint8

const (
	placeOther   place = iota // not saved: unknown roots, "state", keys of lists
	placeCells                // the root array "cells"
	placeCell                 // a cell map
	placeMeta                 // the root map "meta"
	placeJSON                 // metadata and other values saved as JSON
	placeOutputs              // a cell's outputs array
	placeOutput               // an output map
	placeText                 // a cell's source or a stream output's text
)

type notebookChecker struct {
	places map[*yjs.UpdateParent]place
}

func (c *notebookChecker) place(p *yjs.UpdateParent) place {
	if pl, ok := c.places[p]; ok {
		return pl
	}
	var pl place
	if p.Up == nil {
		switch p.RootName {
		case "cells":
			pl = placeCells
		case "meta":
			pl = placeMeta
		}
	} else {
		pl = childPlace(c.place(p.Up), p.Key, p.IsEntry)
	}
	c.places[p] = pl
	return pl
}

// childPlace returns the place of a value under a type at up: a map
// entry at key, or a list element when isEntry is false.
func childPlace(up place, key string, isEntry bool) place {
	switch up {
	case placeCells:
		if !isEntry {
			return placeCell
		}
	case placeCell:
		if !isEntry {
			return placeOther
		}
		switch key {
		case "source":
			return placeText
		case "outputs":
			return placeOutputs
		case "execution_state":
			return placeOther
		}
		return placeJSON
	case placeMeta:
		if isEntry && key == "metadata" {
			return placeJSON
		}
	case placeOutputs:
		if !isEntry {
			return placeOutput
		}
	case placeOutput:
		if isEntry && key == "text" {
			return placeText
		}
		if isEntry {
			return placeJSON
		}
	case placeJSON:
		return placeJSON
	}
	return placeOther
}

var cellTypes = map[string]bool{"code": true, "markdown": true, "raw": true}

// checkNotebookItems returns what is wrong with the first item that breaks
// the notebook schema, or "".
func checkNotebookItems(items, deletedEntries []*yjs.UpdateItem) string {
	c := &notebookChecker{places: map[*yjs.UpdateParent]place{}}
	typed := map[*yjs.UpdateParent]bool{}   // new cells given a cell_type
	sourced := map[*yjs.UpdateParent]bool{} // cells given a new source
	var newCells []*yjs.UpdateItem
	for _, it := range items {
		if it.Content == yjs.ContentDeleted {
			continue
		}
		up := c.place(it.Parent)
		if problem := checkNotebookItem(up, it); problem != "" {
			return problem
		}
		switch {
		case up == placeCells && !it.IsEntry && !it.Deleted:
			newCells = append(newCells, it)
		case up == placeCell && it.IsEntry && it.Key == "cell_type" && !it.Deleted:
			typed[it.Parent] = true
		case up == placeCell && it.IsEntry && it.Key == "source" && !it.Deleted:
			sourced[it.Parent] = true
		}
	}
	for _, cell := range newCells {
		if !typed[cell.Type] {
			return location(cell.Parent, cell) + " has no cell_type"
		}
	}
	// An existing cell may replace its cell_type and source but not lose
	// them.
	for _, e := range deletedEntries {
		if e.Parent.Deleted || c.place(e.Parent) != placeCell {
			continue
		}
		if e.Key == "cell_type" && !typed[e.Parent] || e.Key == "source" && !sourced[e.Parent] {
			return location(e.Parent, nil) + "." + e.Key + " is deleted"
		}
	}
	return ""
}

// checkNotebookItem checks one item whose parent is at up.
func checkNotebookItem(up place, it *yjs.UpdateItem) string {
	at := func() string { return location(it.Parent, it) }
	switch up {
	case placeCells:
		if !it.IsEntry && !isType(it, yjs.KindMap) {
			return at() + " is " + describeItem(it) + ", not a Y.Map"
		}
	case placeMeta:
		switch it.Key {
		case "nbformat", "nbformat_minor":
			if !isAnyInteger(it, false) {
				return at() + " is " + describeItem(it) + ", not an integer"
			}
		case "metadata":
			if !isType(it, yjs.KindMap) {
				return at() + " is " + describeItem(it) + ", not a Y.Map"
			}
		}
	case placeCell:
		return checkCellEntry(it, at)
	case placeOutputs:
		if it.IsEntry {
			break
		}
		if bad, ok := badOutput(it); ok {
			return at() + " is " + bad + ", not an output"
		}
	case placeOutput:
		if it.IsEntry && it.Key == "output_type" {
			s, ok := anyValue(it).(string)
			if ok && !isOutputType(s) {
				return fmt.Sprintf("%s is %q, not an output type", at(), s)
			}
			if !ok {
				return at() + " is " + describeItem(it) + ", not a string"
			}
		}
		if !isJSON(it) {
			return at() + " is " + describeItem(it) + ", which has no JSON form"
		}
	case placeJSON:
		if !isJSON(it) {
			return at() + " is " + describeItem(it) + ", which has no JSON form"
		}
	case placeText:
		if problem := checkTextItem(it); problem != "" {
			return location(it.Parent, nil) + problem
		}
	}
	return ""
}

// checkCellEntry checks an entry of a cell map.
func checkCellEntry(it *yjs.UpdateItem, at func() string) string {
	if !it.IsEntry {
		return ""
	}
	want := ""
	switch it.Key {
	case "source":
		if !isType(it, yjs.KindText) {
			want = "a Y.Text"
		}
	case "metadata":
		if !isType(it, yjs.KindMap) {
			want = "a Y.Map"
		}
	case "outputs":
		if !isType(it, yjs.KindArray) {
			want = "a Y.Array"
		}
	case "cell_type":
		if s, ok := anyValue(it).(string); !ok || !cellTypes[s] {
			if ok {
				return fmt.Sprintf("%s is %q, not code, markdown or raw", at(), s)
			}
			want = "a string"
		}
	case "execution_count":
		if v := anyValue(it); v != nil || len(it.Values) != 1 {
			if !isAnyInteger(it, true) {
				want = "an integer or null"
			}
		}
	case "id":
		if !isAnyString(it) {
			want = "a string"
		}
	case "attachments":
		if _, ok := anyValue(it).(lib0.Object); !ok || len(it.Values) != 1 {
			want = "an object"
		}
	case "execution_state":
	default:
		if !isJSON(it) {
			return at() + " is " + describeItem(it) + ", which has no JSON form"
		}
	}
	if want != "" {
		return at() + " is " + describeItem(it) + ", not " + want
	}
	return ""
}

// checkTextItem checks an item of a Y.Text and returns the end of a
// sentence that starts with the text's location, or "".
func checkTextItem(it *yjs.UpdateItem) string {
	if it.IsEntry {
		return ""
	}
	switch it.Content {
	case yjs.ContentString, yjs.ContentFormat, yjs.ContentEmbed:
		return ""
	}
	return " contains " + describeItem(it)
}

func checkFileItems(items []*yjs.UpdateItem) string {
	for _, it := range items {
		if it.Parent.Up == nil && it.Parent.RootName == "source" && it.Content != yjs.ContentDeleted {
			if problem := checkTextItem(it); problem != "" {
				return "source" + problem
			}
		}
	}
	return ""
}

func checkBlobItems(items []*yjs.UpdateItem) string {
	for _, it := range items {
		p := it.Parent
		if p.Up == nil && p.RootName == "source" && it.IsEntry && it.Key == "bytes" &&
			it.Content != yjs.ContentDeleted && it.Content != yjs.ContentBinary {
			return "source.bytes is " + describeItem(it) + ", not binary"
		}
	}
	return ""
}

func isType(it *yjs.UpdateItem, kind yjs.Kind) bool {
	return it.Content == yjs.ContentType && it.TypeKind == kind
}

// anyValue returns the value of an Any or JSON map entry, or a value no
// check accepts.
func anyValue(it *yjs.UpdateItem) any {
	if (it.Content != yjs.ContentAny && it.Content != yjs.ContentJSON) || len(it.Values) == 0 {
		return lib0.Undefined{}
	}
	return it.Values[len(it.Values)-1]
}

func isAnyString(it *yjs.UpdateItem) bool {
	_, ok := anyValue(it).(string)
	return ok
}

// isAnyInteger reports whether the entry is an integral number of the
// int32 range, or with orNull also null.
func isAnyInteger(it *yjs.UpdateItem, orNull bool) bool {
	switch v := anyValue(it).(type) {
	case nil:
		return orNull
	case float64:
		return v == math.Trunc(v) && math.Abs(v) <= math.MaxInt32 && (!orNull || v >= 0)
	}
	return false
}

// badOutput describes the first value of a list element of outputs
// that cannot be an output, which is a Y.Map or an Any object with a
// string "output_type".
func badOutput(it *yjs.UpdateItem) (string, bool) {
	switch it.Content {
	case yjs.ContentType:
		if it.TypeKind == yjs.KindMap {
			return "", false
		}
		return describeItem(it), true
	case yjs.ContentAny, yjs.ContentJSON:
	default:
		return describeItem(it), true
	}
	for _, v := range it.Values {
		o, ok := v.(lib0.Object)
		if !ok {
			return withArticle(describe(v)), true
		}
		if t, _ := o.Get("output_type"); !isString(t) || !isOutputType(t.(string)) {
			return "an object without a known output_type", true
		}
	}
	return "", false
}

// isOutputType reports whether s is an output type of nbformat 4.
func isOutputType(s string) bool {
	switch s {
	case "stream", "display_data", "execute_result", "error":
		return true
	}
	return false
}

func isString(v any) bool {
	_, ok := v.(string)
	return ok
}

// isJSON reports whether the item's content has a JSON form.
func isJSON(it *yjs.UpdateItem) bool {
	switch it.Content {
	case yjs.ContentAny, yjs.ContentJSON:
		for _, v := range it.Values {
			if !jsonValue(v, 0) {
				return false
			}
		}
		return true
	case yjs.ContentType:
		switch it.TypeKind {
		case yjs.KindMap, yjs.KindArray, yjs.KindText:
			return true
		}
		return false
	case yjs.ContentString, yjs.ContentFormat, yjs.ContentEmbed:
		return it.Parent.Kind == yjs.KindText
	}
	return false
}

// jsonValue reports whether an Any value has a JSON form: no binary data
// and no deeper nesting than lib0.MaxDepth.
func jsonValue(v any, depth int) bool {
	if depth > lib0.MaxDepth {
		return false
	}
	switch v := v.(type) {
	case []byte:
		return false
	case []any:
		for _, x := range v {
			if !jsonValue(x, depth+1) {
				return false
			}
		}
	case lib0.Object:
		for _, f := range v.Fields {
			if !jsonValue(f.Value, depth+1) {
				return false
			}
		}
	}
	return true
}

// describeItem names the kind of an item's content with an article.
func describeItem(it *yjs.UpdateItem) string {
	var kind string
	switch it.Content {
	case yjs.ContentType:
		kind = "Y." + it.TypeKind.String()
	case yjs.ContentAny, yjs.ContentJSON:
		kind = describe(anyValue(it))
	case yjs.ContentString:
		kind = "string"
	case yjs.ContentBinary:
		kind = "binary"
	case yjs.ContentDoc:
		kind = "subdocument"
	default:
		kind = strings.ToLower(it.Content.String())
	}
	return withArticle(kind)
}

func withArticle(kind string) string {
	if kind != "" && strings.ContainsRune("aeiouAEIOU", rune(kind[0])) {
		return "an " + kind
	}
	return "a " + kind
}

// location names where an item goes, or with it nil the type p itself,
// as a path such as cells[3].source. A list element that the update adds
// has the index "new".
func location(p *yjs.UpdateParent, it *yjs.UpdateItem) string {
	var b strings.Builder
	writeLocation(&b, p)
	if it != nil {
		if it.IsEntry {
			b.WriteString("." + it.Key)
		} else {
			b.WriteString("[new]")
		}
	}
	return b.String()
}

func writeLocation(b *strings.Builder, p *yjs.UpdateParent) {
	if p.Up == nil {
		b.WriteString(p.RootName)
		return
	}
	writeLocation(b, p.Up)
	if p.IsEntry {
		b.WriteString("." + p.Key)
		return
	}
	index := "new"
	if i, ok := p.Index(); ok {
		index = fmt.Sprint(i)
	}
	b.WriteString("[" + index + "]")
}
