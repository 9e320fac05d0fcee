package yjs

import (
	"unicode/utf16"
	"unicode/utf8"

	"github.com/jupygo/jupygo/yjs/lib0"
)

// Content reference numbers, the low five bits of an item's info byte.
const (
	refGC      = 0
	refDeleted = 1
	refJSON    = 2
	refBinary  = 3
	refString  = 4
	refEmbed   = 5
	refFormat  = 6
	refType    = 7
	refAny     = 8
	refDoc     = 9
	refSkip    = 10
)

// content is the payload of an item. Its length counts clock units:
// UTF-16 code units for strings, one per element for arrays of values, and
// one for every other kind.
type content interface {
	length() int
	countable() bool
	ref() uint8
	// values returns the elements the content contributes to a list or the
	// value of a map entry (its last element).
	values() []any
	// splice keeps units [0, offset) and returns the rest as new content.
	splice(offset int) content
	// mergeWith appends right, of the same kind, and reports whether it could.
	mergeWith(right content) bool
	write(e updateEncoder, offset int)
	integrate(t *Transaction, it *item)
	delete(t *Transaction)
	gc(s *store)
	// copy returns content to redo this content with, as yjs's copy does.
	copy() content
}

func (c *contentDeleted) copy() content { return &contentDeleted{c.n} }
func (c *contentJSON) copy() content    { return &contentJSON{append([]any(nil), c.arr...)} }
func (c *contentAny) copy() content     { return &contentAny{append([]any(nil), c.arr...)} }
func (c *contentBinary) copy() content  { return &contentBinary{c.b} }
func (c *contentEmbed) copy() content   { return &contentEmbed{c.v} }
func (c *contentFormat) copy() content  { return &contentFormat{c.key, c.value} }
func (c *contentString) copy() content {
	return &contentString{b: append([]byte(nil), c.b...), n: c.n}
}

// copy returns an empty type of the same kind and name: the redone item
// gets new children of its own.
func (c *contentType) copy() content {
	b := newBranch(c.t.kind)
	b.name = c.t.name
	return &contentType{b}
}

func (c *contentDoc) copy() content { return newContentDoc(newSubdoc(c.doc.GUID, c.opts)) }

type contentDeleted struct{ n int }

func (c *contentDeleted) length() int         { return c.n }
func (c *contentDeleted) countable() bool     { return false }
func (c *contentDeleted) ref() uint8          { return refDeleted }
func (c *contentDeleted) values() []any       { return nil }
func (c *contentDeleted) delete(*Transaction) {}
func (c *contentDeleted) gc(*store)           {}
func (c *contentDeleted) splice(offset int) content {
	right := &contentDeleted{c.n - offset}
	c.n = offset
	return right
}
func (c *contentDeleted) mergeWith(right content) bool {
	c.n += right.length()
	return true
}
func (c *contentDeleted) write(e updateEncoder, offset int) { e.writeLen(uint64(c.n - offset)) }
func (c *contentDeleted) integrate(t *Transaction, it *item) {
	t.addDelete(it.id.Client, it.id.Clock, uint64(c.n))
	it.markDeleted()
}

// contentJSON is the legacy JSON content (ref 2) that old yjs versions
// wrote for list values.
type contentJSON struct{ arr []any }

func (c *contentJSON) length() int                   { return len(c.arr) }
func (c *contentJSON) countable() bool               { return true }
func (c *contentJSON) ref() uint8                    { return refJSON }
func (c *contentJSON) values() []any                 { return c.arr }
func (c *contentJSON) integrate(*Transaction, *item) {}
func (c *contentJSON) delete(*Transaction)           {}
func (c *contentJSON) gc(*store)                     {}
func (c *contentJSON) splice(offset int) content {
	right := &contentJSON{append([]any(nil), c.arr[offset:]...)}
	c.arr = c.arr[:offset:offset]
	return right
}
func (c *contentJSON) mergeWith(right content) bool {
	c.arr = append(c.arr, right.(*contentJSON).arr...)
	return true
}
func (c *contentJSON) write(e updateEncoder, offset int) {
	e.writeLen(uint64(len(c.arr) - offset))
	for _, v := range c.arr[offset:] {
		e.writeString(stringifyJSON(v))
	}
}

type contentAny struct{ arr []any }

func (c *contentAny) length() int                   { return len(c.arr) }
func (c *contentAny) countable() bool               { return true }
func (c *contentAny) ref() uint8                    { return refAny }
func (c *contentAny) values() []any                 { return c.arr }
func (c *contentAny) integrate(*Transaction, *item) {}
func (c *contentAny) delete(*Transaction)           {}
func (c *contentAny) gc(*store)                     {}
func (c *contentAny) splice(offset int) content {
	right := &contentAny{append([]any(nil), c.arr[offset:]...)}
	c.arr = c.arr[:offset:offset]
	return right
}
func (c *contentAny) mergeWith(right content) bool {
	c.arr = append(c.arr, right.(*contentAny).arr...)
	return true
}
func (c *contentAny) write(e updateEncoder, offset int) {
	e.writeLen(uint64(len(c.arr) - offset))
	for _, v := range c.arr[offset:] {
		e.writeAny(v)
	}
}

type contentBinary struct{ b []byte }

func (c *contentBinary) length() int                   { return 1 }
func (c *contentBinary) countable() bool               { return true }
func (c *contentBinary) ref() uint8                    { return refBinary }
func (c *contentBinary) values() []any                 { return []any{c.b} }
func (c *contentBinary) splice(int) content            { panic("yjs: binary content cannot be split") }
func (c *contentBinary) mergeWith(content) bool        { return false }
func (c *contentBinary) write(e updateEncoder, _ int)  { e.writeBuf(c.b) }
func (c *contentBinary) integrate(*Transaction, *item) {}
func (c *contentBinary) delete(*Transaction)           {}
func (c *contentBinary) gc(*store)                     {}

type contentEmbed struct{ v any }

func (c *contentEmbed) length() int                   { return 1 }
func (c *contentEmbed) countable() bool               { return true }
func (c *contentEmbed) ref() uint8                    { return refEmbed }
func (c *contentEmbed) values() []any                 { return []any{c.v} }
func (c *contentEmbed) splice(int) content            { panic("yjs: embed content cannot be split") }
func (c *contentEmbed) mergeWith(content) bool        { return false }
func (c *contentEmbed) write(e updateEncoder, _ int)  { e.writeJSON(c.v) }
func (c *contentEmbed) integrate(*Transaction, *item) {}
func (c *contentEmbed) delete(*Transaction)           {}
func (c *contentEmbed) gc(*store)                     {}

// contentFormat opens (or, with a null value, closes) a formatting
// attribute in a Text. It takes a clock unit but no index position.
type contentFormat struct {
	key   string
	value any
}

func (c *contentFormat) length() int            { return 1 }
func (c *contentFormat) countable() bool        { return false }
func (c *contentFormat) ref() uint8             { return refFormat }
func (c *contentFormat) values() []any          { return nil }
func (c *contentFormat) splice(int) content     { panic("yjs: format content cannot be split") }
func (c *contentFormat) mergeWith(content) bool { return false }
func (c *contentFormat) delete(*Transaction)    {}
func (c *contentFormat) gc(*store)              {}
func (c *contentFormat) write(e updateEncoder, _ int) {
	e.writeKey(c.key)
	e.writeJSON(c.value)
}
func (c *contentFormat) integrate(t *Transaction, it *item) {
	// Search markers do not track formats, so a formatted text drops them.
	p := it.parent
	p.markers = nil
	p.hasFormatting = true
}

// contentString holds text as UTF-8 with its length in UTF-16 units, the
// unit of yjs clocks and Text positions.
type contentString struct {
	b []byte
	n int
}

func newContentString(s string) *contentString {
	s = lib0.ToWTF8(s)
	return &contentString{b: []byte(s), n: lib0.UTF16Len(s)}
}

// readContentString returns the content of a string read from an update.
func readContentString(d updateDecoder) *contentString {
	b := d.readText()
	if !utf8.Valid(b) {
		// WTF-8 from a lone surrogate: repaired as newContentString does.
		return newContentString(string(b))
	}
	return &contentString{b: b, n: lib0.UTF16Len(b)}
}

func (c *contentString) length() int                   { return c.n }
func (c *contentString) countable() bool               { return true }
func (c *contentString) ref() uint8                    { return refString }
func (c *contentString) integrate(*Transaction, *item) {}
func (c *contentString) delete(*Transaction)           {}
func (c *contentString) gc(*store)                     {}
func (c *contentString) str() string                   { return string(c.b) }

// values returns one string per UTF-16 unit, as yjs splits a string into
// its JavaScript characters. Each half of a surrogate pair, and each lone
// surrogate, becomes U+FFFD.
func (c *contentString) values() []any {
	out := make([]any, 0, c.n)
	for i := 0; i < len(c.b); {
		r, size := lib0.DecodeWTF8(c.b[i:])
		switch {
		case size == 4:
			out = append(out, replacementChar, replacementChar)
		case size == 3 && r >= 0xd800 && r <= 0xdfff:
			out = append(out, replacementChar)
		default:
			out = append(out, string(r))
		}
		i += size
	}
	return out
}

func (c *contentString) splice(offset int) content {
	left, right := splitUTF16(c.b, c.n, offset)
	rc := &contentString{b: right, n: c.n - offset}
	c.b, c.n = left, offset
	return rc
}

func (c *contentString) mergeWith(right content) bool {
	r := right.(*contentString)
	c.b = lib0.AppendWTF8(c.b, r.b)
	c.n += r.n
	return true
}

// write writes the text from UTF-16 offset offset, which yjs cuts with
// slice: an offset inside a surrogate pair leaves its low half.
func (c *contentString) write(e updateEncoder, offset int) {
	if offset == 0 {
		e.writeUTF8(c.b)
		return
	}
	i, inPair := utf16ToByteOffset(c.b, c.n, offset)
	if !inPair {
		e.writeUTF8(c.b[i:])
		return
	}
	e.writeUTF8(append(lowHalf(c.b[i:]), c.b[i+4:]...))
}

const replacementChar = "\uFFFD"

// utf16ToByteOffset returns the byte offset in text b of UTF-16 offset off,
// and whether off falls inside the surrogate pair that starts there. n is
// the length of b in UTF-16 units, or -1 when unknown.
func utf16ToByteOffset[S string | []byte](b S, n, off int) (int, bool) {
	if len(b) == n {
		return min(off, len(b)), false
	}
	units := 0
	for i := 0; i < len(b); {
		if units >= off {
			return i, false
		}
		_, size := lib0.DecodeWTF8(b[i:])
		if size == 4 {
			if units+1 == off {
				return i, true
			}
			units += 2
		} else {
			units++
		}
		i += size
	}
	return len(b), false
}

// highHalf and lowHalf return the WTF-8 forms of the halves of the
// surrogate pair of the four-byte character that starts b.
func highHalf[S string | []byte](b S) []byte {
	r, _ := lib0.DecodeWTF8(b)
	hi, _ := utf16.EncodeRune(r)
	return lib0.AppendSurrogate(nil, hi)
}

func lowHalf[S string | []byte](b S) []byte {
	r, _ := lib0.DecodeWTF8(b)
	_, lo := utf16.EncodeRune(r)
	return lib0.AppendSurrogate(nil, lo)
}

// splitUTF16 splits text b of n UTF-16 units at UTF-16 offset off, as
// yjs's ContentString.splice does. The left part's capacity is clipped so
// that appending to it never overwrites the right part. When the left
// part would end with a high surrogate, a split pair's or a lone one,
// yjs writes U+FFFD in its place and in place of the right part's first
// unit, so both sides keep their UTF-16 lengths.
func splitUTF16(b []byte, n, off int) (left, right []byte) {
	i, inPair := utf16ToByteOffset(b, n, off)
	switch {
	case inPair:
		left = append(append([]byte(nil), b[:i]...), replacementChar...)
		right = append([]byte(replacementChar), b[i+4:]...)
		return left, right
	case i >= 3 && isHighSurrogate(b[i-3:i]) && i < len(b):
		left = append(append([]byte(nil), b[:i-3]...), replacementChar...)
		right = []byte(replacementChar)
		r, size := lib0.DecodeWTF8(b[i:])
		if size == 4 {
			_, lo := utf16.EncodeRune(r)
			right = lib0.AppendSurrogate(right, lo)
		}
		return left, append(right, b[i+size:]...)
	}
	return b[:i:i], b[i:]
}

func isHighSurrogate(b []byte) bool {
	r, size := lib0.DecodeWTF8(b)
	return size == 3 && r >= 0xd800 && r < 0xdc00
}

// contentType holds a nested shared type.
type contentType struct{ t *branch }

func (c *contentType) length() int            { return 1 }
func (c *contentType) countable() bool        { return true }
func (c *contentType) ref() uint8             { return refType }
func (c *contentType) values() []any          { return []any{c.t.shared()} }
func (c *contentType) splice(int) content     { panic("yjs: type content cannot be split") }
func (c *contentType) mergeWith(content) bool { return false }
func (c *contentType) write(e updateEncoder, _ int) {
	e.writeTypeRef(uint8(c.t.kind))
	switch c.t.kind {
	case KindXMLElement:
		e.writeKey(c.t.name)
	case KindXMLHook:
		e.writeKey(c.t.name)
	}
}
func (c *contentType) integrate(t *Transaction, it *item) {
	c.t.integrate(t.doc, it)
}

// delete deletes every child of the type. Children deleted before this
// transaction are queued for merging, because they are not in the
// transaction's delete set that cleanup merges.
func (c *contentType) delete(t *Transaction) {
	for it := c.t.start; it != nil; it = it.right {
		c.deleteChild(t, it)
	}
	for _, e := range c.t.mapItems() {
		c.deleteChild(t, e.it)
	}
	t.forgetChanged(c.t)
}

func (c *contentType) deleteChild(t *Transaction, it *item) {
	if !it.deleted() {
		it.delete(t)
	} else if it.id.Clock < t.beforeState.get(it.id.Client) {
		t.mergeStructs = append(t.mergeStructs, it)
	}
}

// gc turns every child of the type into a GC struct.
func (c *contentType) gc(s *store) {
	for it := c.t.start; it != nil; {
		next := it.right
		it.gc(s, true)
		it = next
	}
	c.t.start = nil
	for _, e := range c.t.mapItems() {
		for it := e.it; it != nil; {
			left := it.left
			it.gc(s, true)
			it = left
		}
	}
	c.t.m = nil
}

// contentDoc holds a subdocument by its guid and options. The subdocument
// is not loaded; its content travels in its own updates.
type contentDoc struct {
	doc  *Subdoc
	opts lib0.Object
}

func newContentDoc(sd *Subdoc) *contentDoc {
	var opts lib0.Object
	if !sd.GC {
		opts.Set("gc", false)
	}
	if sd.AutoLoad {
		opts.Set("autoLoad", true)
	}
	if sd.Meta != nil {
		opts.Set("meta", sd.Meta)
	}
	return &contentDoc{doc: sd, opts: opts}
}

func (c *contentDoc) length() int            { return 1 }
func (c *contentDoc) countable() bool        { return true }
func (c *contentDoc) ref() uint8             { return refDoc }
func (c *contentDoc) values() []any          { return []any{c.doc} }
func (c *contentDoc) splice(int) content     { panic("yjs: doc content cannot be split") }
func (c *contentDoc) mergeWith(content) bool { return false }
func (c *contentDoc) delete(*Transaction)    {}
func (c *contentDoc) gc(*store)              {}
func (c *contentDoc) write(e updateEncoder, _ int) {
	e.writeString(c.doc.GUID)
	e.writeAny(c.opts)
}
func (c *contentDoc) integrate(t *Transaction, it *item) { c.doc.item = it }

// readContent reads the content of an item whose info byte is info.
func readContent(d updateDecoder, info uint8) content {
	rest := d.rest()
	switch info & 0x1f {
	case refDeleted:
		return &contentDeleted{int(d.readLen())}
	case refJSON:
		return readContentJSON(d)
	case refBinary:
		return &contentBinary{d.readBuf()}
	case refString:
		return readContentString(d)
	case refEmbed:
		return &contentEmbed{d.readJSON()}
	case refFormat:
		key := d.readKey()
		return &contentFormat{key: key, value: d.readJSON()}
	case refType:
		return readContentType(d)
	case refAny:
		n := d.readLen()
		if n > uint64(rest.Remaining()) {
			rest.Fail(lib0.ErrLength)
			return &contentAny{}
		}
		arr := make([]any, 0, n)
		for i := uint64(0); i < n && rest.Err() == nil; i++ {
			arr = append(arr, d.readAny())
		}
		return &contentAny{arr}
	case refDoc:
		guid := d.readString()
		opts, _ := d.readAny().(lib0.Object)
		return newContentDoc(newSubdoc(guid, opts))
	}
	rest.Fail(errInvalidContentRef)
	return &contentDeleted{}
}

func readContentJSON(d updateDecoder) content {
	rest := d.rest()
	n := d.readLen()
	if n > uint64(d.stringBudget()) {
		rest.Fail(lib0.ErrLength)
		return &contentJSON{}
	}
	arr := make([]any, 0, n)
	for i := uint64(0); i < n && rest.Err() == nil; i++ {
		s := d.readString()
		if s == "undefined" {
			arr = append(arr, lib0.Undefined{})
			continue
		}
		v, err := parseJSON(s)
		if err != nil {
			rest.Fail(err)
			break
		}
		arr = append(arr, v)
	}
	return &contentJSON{arr}
}

func readContentType(d updateDecoder) content {
	ref := d.readTypeRef()
	kind := Kind(ref)
	if ref > uint64(KindXMLText) {
		d.rest().Fail(errInvalidTypeRef)
		kind = KindArray
	}
	b := newBranch(kind)
	if kind == KindXMLElement || kind == KindXMLHook {
		b.name = d.readKey()
	}
	return &contentType{b}
}

// contentDeletedRun is the content of adjacent deleted items of one
// client that the decoder joined into one item: each item after the first
// has the end of the one before as its origin and the same right origin.
// yjs integrates such items next to each other and then merges them, so
// the joined item integrates as plain deleted content. Until then, pieces
// keeps the lengths of the items as the update wrote them, run-length
// coded, so that a struct written back to an update (pending structs,
// mergeUpdates, diffUpdate, format conversion) comes out as yjs writes it.
type contentDeletedRun struct {
	n      int
	pieces []pieceRun
}

// pieceRun is count consecutive items of length n.
type pieceRun struct{ n, count int }

func (c *contentDeletedRun) length() int         { return c.n }
func (c *contentDeletedRun) countable() bool     { return false }
func (c *contentDeletedRun) ref() uint8          { return refDeleted }
func (c *contentDeletedRun) values() []any       { return nil }
func (c *contentDeletedRun) delete(*Transaction) {}
func (c *contentDeletedRun) gc(*store)           {}
func (c *contentDeletedRun) copy() content       { return &contentDeleted{c.n} }
func (c *contentDeletedRun) mergeWith(content) bool {
	return false
}

// add appends an item of length n.
func (c *contentDeletedRun) add(n int) {
	c.n += n
	if k := len(c.pieces) - 1; k >= 0 && c.pieces[k].n == n {
		c.pieces[k].count++
		return
	}
	c.pieces = append(c.pieces, pieceRun{n, 1})
}

// each calls f with the start and length of every item that ends after
// offset, in order.
func (c *contentDeletedRun) each(offset int, f func(start, n int)) {
	start := 0
	for _, p := range c.pieces {
		if start+p.n*p.count <= offset {
			start += p.n * p.count
			continue
		}
		for range p.count {
			if start+p.n > offset {
				f(start, p.n)
			}
			start += p.n
		}
	}
}

// splice keeps units [0, offset) and returns the rest. An item that
// offset falls inside is cut in two.
func (c *contentDeletedRun) splice(offset int) content {
	left, right := &contentDeletedRun{}, &contentDeletedRun{}
	c.each(0, func(start, n int) {
		switch {
		case start+n <= offset:
			left.add(n)
		case start >= offset:
			right.add(n)
		default:
			left.add(offset - start)
			right.add(start + n - offset)
		}
	})
	*c = *left
	return right
}

// write is not used: item.write writes each item of the run itself.
func (c *contentDeletedRun) write(e updateEncoder, offset int) { e.writeLen(uint64(c.n - offset)) }

func (c *contentDeletedRun) integrate(t *Transaction, it *item) {
	it.content = &contentDeleted{c.n}
	it.content.integrate(t, it)
}
