package yjs

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jupygo/jupygo/yjs/lib0"
)

// Text is shared rich text: a string with formatting attributes and
// embedded values. Positions and lengths count UTF-16 code units, as
// JavaScript strings do, so an emoji outside the BMP counts 2. Its methods
// may be called inside a transaction or outside, as for Array.
type Text struct{ b *branch }

// NewText returns an empty Text to insert into a Map or list. It becomes
// usable once inserted.
func NewText() *Text { return newBranch(KindText).shared().(*Text) }

// Attrs are formatting attributes, such as {"bold": true}. A nil value
// removes an attribute. Keys are applied in sorted order.
type Attrs map[string]any

// Delta is one operation of a Quill-style delta: exactly one of Insert
// (a string, an embedded value or a shared type), Retain or Delete is set.
type Delta struct {
	Insert     any
	Retain     int
	Delete     int
	Attributes map[string]any
}

// attrMap is a JavaScript Map of attributes: insertion-ordered keys.
type attrMap struct {
	keys []string
	vals map[string]any
}

func newAttrMap() *attrMap { return &attrMap{} }

func (m *attrMap) get(key string) (any, bool) {
	v, ok := m.vals[key]
	return v, ok
}

// getOrNull is JavaScript's map.get(key) ?? null.
func (m *attrMap) getOrNull(key string) any {
	v, ok := m.vals[key]
	if !ok || isUndefined(v) {
		return nil
	}
	return v
}

func (m *attrMap) set(key string, v any) {
	if m.vals == nil {
		m.vals = map[string]any{}
	}
	if _, ok := m.vals[key]; !ok {
		m.keys = append(m.keys, key)
	}
	m.vals[key] = v
}

func (m *attrMap) delete(key string) {
	if _, ok := m.vals[key]; !ok {
		return
	}
	delete(m.vals, key)
	m.keys = slices.DeleteFunc(m.keys, func(k string) bool { return k == key })
}

func (m *attrMap) copy() *attrMap {
	return &attrMap{keys: slices.Clone(m.keys), vals: maps.Clone(m.vals)}
}

func (m *attrMap) len() int { return len(m.keys) }

func isUndefined(v any) bool {
	_, ok := v.(Undefined)
	return ok
}

// objGet returns attributes[key] with undefined for a missing key.
func objGet(o *Object, key string) any {
	if v, ok := o.Get(key); ok {
		return v
	}
	return Undefined{}
}

func orNull(v any) any {
	if isUndefined(v) {
		return nil
	}
	return v
}

// textPos is a position between left and right in a Text, with the index
// and the attributes in effect there.
type textPos struct {
	left, right *item
	index       int
	attrs       *attrMap
	ownAttrs    attrMap // storage for attrs, saving an allocation
}

func newTextPos(left, right *item, index int) *textPos {
	p := &textPos{left: left, right: right, index: index}
	p.attrs = &p.ownAttrs
	return p
}

func (p *textPos) forward() {
	r := p.right
	if f, ok := r.content.(*contentFormat); ok {
		if !r.deleted() {
			updateCurrentAttributes(p.attrs, f)
		}
	} else if !r.deleted() {
		p.index += r.length
	}
	p.left = r
	p.right = r.right
}

func updateCurrentAttributes(attrs *attrMap, f *contentFormat) {
	if f.value == nil {
		attrs.delete(f.key)
	} else {
		attrs.set(f.key, f.value)
	}
}

func findNextPosition(t *Transaction, p *textPos, count int) *textPos {
	for p.right != nil && count > 0 {
		r := p.right
		if f, ok := r.content.(*contentFormat); ok {
			if !r.deleted() {
				updateCurrentAttributes(p.attrs, f)
			}
		} else if !r.deleted() {
			if count < r.length {
				t.doc.store.getItemCleanStart(t, ID{r.id.Client, r.id.Clock + uint64(count)})
			}
			p.index += r.length
			count -= r.length
		}
		p.left = p.right
		p.right = p.right.right
	}
	return p
}

func findPosition(t *Transaction, b *branch, index int, useMarker bool) *textPos {
	if useMarker {
		if m := b.findMarker(index); m != nil {
			return findNextPosition(t, newTextPos(m.p.left, m.p, m.index), index-m.index)
		}
	}
	return findNextPosition(t, newTextPos(nil, b.start, 0), index)
}

func (b *branch) newItemAt(t *Transaction, p *textPos, c content) *item {
	return newItem(b.nextID(t), p.left, p.right, b, nil, c)
}

func insertNegatedAttributes(t *Transaction, b *branch, p *textPos, negated *attrMap) {
	for p.right != nil {
		r := p.right
		if !r.deleted() {
			f, ok := r.content.(*contentFormat)
			if !ok {
				break
			}
			// A key missing from negated is undefined, which equals nothing.
			v, ok := negated.get(f.key)
			if !ok || !equalAttrs(v, f.value) {
				break
			}
			negated.delete(f.key)
		}
		p.forward()
	}
	for _, key := range slices.Clone(negated.keys) {
		it := b.newItemAt(t, p, &contentFormat{key: key, value: negated.vals[key]})
		it.integrate(t, 0)
		p.right = it
		p.forward()
	}
}

func minimizeAttributeChanges(p *textPos, attrs *Object) {
	for p.right != nil {
		r := p.right
		if !r.deleted() {
			f, ok := r.content.(*contentFormat)
			if !ok || !equalAttrs(orNull(objGet(attrs, f.key)), f.value) {
				return
			}
		}
		p.forward()
	}
}

func insertAttributes(t *Transaction, b *branch, p *textPos, attrs *Object) *attrMap {
	negated := newAttrMap()
	for _, f := range attrs.Fields {
		cur := p.attrs.getOrNull(f.Key)
		if equalAttrs(cur, f.Value) {
			continue
		}
		negated.set(f.Key, cur)
		it := b.newItemAt(t, p, &contentFormat{key: f.Key, value: f.Value})
		p.right = it
		it.integrate(t, 0)
		p.forward()
	}
	return negated
}

func insertText(t *Transaction, b *branch, p *textPos, c content, attrs *Object) {
	for _, key := range p.attrs.keys {
		if isUndefined(objGet(attrs, key)) {
			attrs.Set(key, nil)
		}
	}
	minimizeAttributeChanges(p, attrs)
	negated := insertAttributes(t, b, p, attrs)
	if b.markers != nil {
		b.markers.updateMarkerChanges(p.index, c.length())
	}
	index := p.index
	it := b.newItemAt(t, p, c)
	it.integrate(t, 0)
	p.right = it
	p.index = index
	p.forward()
	insertNegatedAttributes(t, b, p, negated)
}

func formatText(t *Transaction, b *branch, p *textPos, length int, attrs *Object) {
	minimizeAttributeChanges(p, attrs)
	negated := insertAttributes(t, b, p, attrs)
loop:
	for p.right != nil && (length > 0 || negated.len() > 0 &&
		(p.right.deleted() || isFormat(p.right))) {
		r := p.right
		if !r.deleted() {
			if f, ok := r.content.(*contentFormat); ok {
				attr := objGet(attrs, f.key)
				if !isUndefined(attr) {
					if equalAttrs(attr, f.value) {
						negated.delete(f.key)
					} else {
						if length == 0 {
							break loop
						}
						negated.set(f.key, f.value)
					}
					r.delete(t)
				} else {
					p.attrs.set(f.key, f.value)
				}
			} else {
				if length < r.length {
					t.doc.store.getItemCleanStart(t, ID{r.id.Client, r.id.Clock + uint64(length)})
				}
				length -= r.length
			}
		}
		p.forward()
	}
	if length > 0 {
		// Formatting past the end pads the text with newlines, as yjs does.
		it := b.newItemAt(t, p, newContentString(strings.Repeat("\n", length)))
		p.right = it
		it.integrate(t, 0)
		p.forward()
	}
	insertNegatedAttributes(t, b, p, negated)
}

func isFormat(it *item) bool {
	_, ok := it.content.(*contentFormat)
	return ok
}

// cleanupFormattingGap deletes format items between start and the next
// countable item that have no effect, and returns how many it deleted.
func cleanupFormattingGap(t *Transaction, start, curr *item, startAttrs, currAttrs *attrMap) int {
	end := start
	endFormats := map[string]*contentFormat{}
	for end != nil && (!end.countable() || end.deleted()) {
		if f, ok := end.content.(*contentFormat); ok && !end.deleted() {
			endFormats[f.key] = f
		}
		end = end.right
	}
	cleanups := 0
	reachedCurr := false
	for start != end {
		if curr == start {
			reachedCurr = true
		}
		if f, ok := start.content.(*contentFormat); ok && !start.deleted() {
			startValue := startAttrs.getOrNull(f.key)
			if endFormats[f.key] != f || strictEqual(startValue, f.value) {
				start.delete(t)
				cleanups++
				if !reachedCurr && strictEqual(currAttrs.getOrNull(f.key), f.value) &&
					!strictEqual(startValue, f.value) {
					if startValue == nil {
						currAttrs.delete(f.key)
					} else {
						currAttrs.set(f.key, startValue)
					}
				}
			}
			if !reachedCurr && !start.deleted() {
				updateCurrentAttributes(currAttrs, f)
			}
		}
		start = start.right
	}
	return cleanups
}

// cleanupContextlessFormattingGap deletes duplicate format keys in the run
// of non-countable items around it.
func cleanupContextlessFormattingGap(t *Transaction, it *item) {
	for it != nil && it.right != nil && (it.right.deleted() || !it.right.countable()) {
		it = it.right
	}
	seen := map[string]bool{}
	for it != nil && (it.deleted() || !it.countable()) {
		if f, ok := it.content.(*contentFormat); ok && !it.deleted() {
			if seen[f.key] {
				it.delete(t)
			} else {
				seen[f.key] = true
			}
		}
		it = it.left
	}
}

// cleanupTextFormatting removes redundant format items from the whole text.
func cleanupTextFormatting(b *branch) int {
	res := 0
	b.doc.Transact(func(t *Transaction) {
		start := b.start
		startAttrs := newAttrMap()
		currAttrs := startAttrs.copy()
		for end := b.start; end != nil; end = end.right {
			if end.deleted() {
				continue
			}
			if f, ok := end.content.(*contentFormat); ok {
				updateCurrentAttributes(currAttrs, f)
				continue
			}
			res += cleanupFormattingGap(t, start, end, startAttrs, currAttrs)
			startAttrs = currAttrs.copy()
			start = end
		}
	}, nil)
	return res
}

// cleanupTextAfterTransaction removes formatting that concurrent remote
// changes made redundant, in a new transaction, as yjs does after a
// remote transaction touched formatted text.
func cleanupTextAfterTransaction(t *Transaction) {
	d := t.doc
	needFull := map[*branch]bool{}
	var needFullOrder []*branch
	addFull := func(b *branch) {
		if !needFull[b] {
			needFull[b] = true
			needFullOrder = append(needFullOrder, b)
		}
	}
	for _, cc := range t.afterState {
		client, after := cc.Client, cc.Clock
		before := t.beforeState.get(client)
		if after == before {
			continue
		}
		// yjs passes the end clock as the length, so iteration runs to the
		// end of the client's structs.
		d.store.iterateStructs(t, client, before, after, func(it *item) {
			if !it.deleted() && !it.isGC() && isFormat(it) {
				addFull(it.parent)
			}
		})
	}
	d.Transact(func(nt *Transaction) {
		iterateDeletedStructs(t, func(it *item) {
			if it.isGC() || it.parent == nil || !it.parent.hasFormatting || needFull[it.parent] {
				return
			}
			if isFormat(it) {
				addFull(it.parent)
			} else {
				cleanupContextlessFormattingGap(nt, it)
			}
		})
		for _, b := range needFullOrder {
			cleanupTextFormatting(b)
		}
	}, nil)
}

// iterateDeletedStructs calls f for every struct the transaction deleted,
// client by client in the order of their first deletion, as yjs iterates.
func iterateDeletedStructs(t *Transaction, f func(*item)) {
	iterateDS(t, t.deleteSet, t.dsOrder, f)
}

// iterateDS calls f for every struct in ds that the store holds, client by
// client in order.
func iterateDS(t *Transaction, ds DeleteSet, order []uint64, f func(*item)) {
	s := t.doc.store
	for _, client := range order {
		if s.clients[client] == nil {
			continue
		}
		state := s.state(client)
		for _, r := range ds[client] {
			if r.Clock >= state {
				break
			}
			s.iterateStructs(t, client, r.Clock, r.Len, f)
		}
	}
}

func deleteText(t *Transaction, p *textPos, length int) *textPos {
	startLength := length
	startAttrs := p.attrs.copy()
	start := p.right
	for length > 0 && p.right != nil {
		r := p.right
		if !r.deleted() {
			switch r.content.(type) {
			case *contentType, *contentEmbed, *contentString:
				if length < r.length {
					t.doc.store.getItemCleanStart(t, ID{r.id.Client, r.id.Clock + uint64(length)})
				}
				length -= r.length
				r.delete(t)
			}
		}
		p.forward()
	}
	if start != nil {
		cleanupFormattingGap(t, start, p.right, startAttrs, p.attrs)
	}
	var parent *branch
	if p.left != nil {
		parent = p.left.parent
	} else if p.right != nil {
		parent = p.right.parent
	}
	if parent != nil && parent.markers != nil {
		parent.markers.updateMarkerChanges(p.index, -startLength+length)
	}
	return p
}

func attrsObject(a Attrs) (*Object, error) {
	o := &Object{}
	for _, k := range slices.Sorted(maps.Keys(a)) {
		v, err := normalizeValue(a[k], 0)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		if isUndefined(v) {
			v = nil
		}
		o.Set(k, v)
	}
	return o, nil
}

// Len returns the length in UTF-16 code units.
func (x *Text) Len() int { return x.b.length }

// Insert inserts s at index. With attrs nil the text takes the formatting
// in effect at index; otherwise exactly attrs (an empty Attrs clears all).
func (x *Text) Insert(index int, s string, attrs Attrs) error {
	if s == "" {
		return nil
	}
	return x.insert(index, newContentString(s), attrs, attrs == nil, attrs == nil)
}

// InsertEmbed inserts an embedded value (an Any value or a new shared
// type) of length 1 at index, with attrs as its formatting. A string is
// inserted as text, as yjs does.
func (x *Text) InsertEmbed(index int, v any, attrs Attrs) error {
	var c content
	switch v := v.(type) {
	case string:
		// yjs inserts a string embed as text.
		c = newContentString(v)
	case *Map, *Array, *Text, *XMLElement, *XMLFragment, *XMLText, *XMLHook:
		var err error
		if c, err = newContent(v); err != nil {
			return err
		}
	default:
		n, err := normalizeValue(v, 0)
		if err != nil {
			return err
		}
		c = &contentEmbed{n}
	}
	// Without attrs the embed is unformatted, but the lookup may use
	// search markers, as in yjs.
	return x.insert(index, c, attrs, attrs == nil, false)
}

func (x *Text) insert(index int, c content, attrs Attrs, useMarker, inherit bool) error {
	b := x.b
	if index < 0 || index > b.length {
		return fmt.Errorf("inserting at %d into length %d: %w", index, b.length, ErrLengthExceeded)
	}
	o, err := attrsObject(attrs)
	if err != nil {
		return err
	}
	return b.transactErr(func(t *Transaction) error {
		p := findPosition(t, b, index, useMarker)
		if inherit {
			for _, k := range p.attrs.keys {
				o.Set(k, p.attrs.vals[k])
			}
		}
		insertText(t, b, p, c, o)
		return nil
	})
}

// Delete removes length units from index.
func (x *Text) Delete(index, length int) error {
	b := x.b
	if length == 0 {
		return nil
	}
	if index < 0 || length < 0 || index+length > b.length {
		return fmt.Errorf("deleting %d at %d from length %d: %w", length, index, b.length,
			ErrLengthExceeded)
	}
	return b.transactErr(func(t *Transaction) error {
		deleteText(t, findPosition(t, b, index, true), length)
		return nil
	})
}

// Format applies attrs to length units from index.
func (x *Text) Format(index, length int, attrs Attrs) error {
	b := x.b
	if length == 0 {
		return nil
	}
	if index < 0 || length < 0 {
		return fmt.Errorf("formatting %d at %d: %w", length, index, ErrLengthExceeded)
	}
	o, err := attrsObject(attrs)
	if err != nil {
		return err
	}
	return b.transactErr(func(t *Transaction) error {
		p := findPosition(t, b, index, false)
		if p.right == nil {
			return nil
		}
		formatText(t, b, p, length, o)
		return nil
	})
}

// ApplyDelta applies a delta: inserts, retains (with attributes: format)
// and deletes, from the start of the text.
func (x *Text) ApplyDelta(delta []Delta) error {
	b := x.b
	return b.transactErr(func(t *Transaction) error {
		p := newTextPos(nil, b.start, 0)
		for _, op := range delta {
			o, err := attrsObject(op.Attributes)
			if err != nil {
				return err
			}
			switch {
			case op.Insert != nil:
				c, err := deltaContent(op.Insert)
				if err != nil {
					return err
				}
				if c != nil {
					insertText(t, b, p, c, o)
				}
			case op.Retain > 0:
				formatText(t, b, p, op.Retain, o)
			case op.Delete > 0:
				deleteText(t, p, op.Delete)
			}
		}
		return nil
	})
}

func deltaContent(v any) (content, error) {
	switch v := v.(type) {
	case string:
		if v == "" {
			return nil, nil
		}
		return newContentString(v), nil
	case *Map, *Array, *Text, *XMLElement, *XMLFragment, *XMLText, *XMLHook:
		return newContent(v)
	}
	n, err := normalizeValue(v, 0)
	if err != nil {
		return nil, err
	}
	return &contentEmbed{n}, nil
}

// String returns the text without embeds and formatting.
func (x *Text) String() string {
	var b []byte
	for n := x.b.start; n != nil; n = n.right {
		if s, ok := n.content.(*contentString); ok && n.visibleCountable() {
			b = lib0.AppendWTF8(b, s.b)
		}
	}
	return string(b)
}

// ToJSON returns the text as a string, as yjs's toJSON does.
func (x *Text) ToJSON() string { return x.String() }

// ToDelta returns the text as a delta of inserts with their attributes.
func (x *Text) ToDelta() []Delta {
	var ops []Delta
	attrs := newAttrMap()
	var sb []byte
	pack := func() {
		if len(sb) == 0 {
			return
		}
		ops = append(ops, Delta{Insert: string(sb), Attributes: attrs.object()})
		sb = sb[:0]
	}
	for n := x.b.start; n != nil; n = n.right {
		if n.deleted() {
			continue
		}
		switch c := n.content.(type) {
		case *contentString:
			sb = lib0.AppendWTF8(sb, c.b)
		case *contentType, *contentEmbed:
			pack()
			ops = append(ops, Delta{Insert: c.values()[0], Attributes: attrs.object()})
		case *contentFormat:
			pack()
			updateCurrentAttributes(attrs, c)
		}
	}
	pack()
	return ops
}

// object returns the attributes as a map, or nil when there are none.
func (m *attrMap) object() map[string]any {
	if len(m.keys) == 0 {
		return nil
	}
	out := make(map[string]any, len(m.keys))
	for _, k := range m.keys {
		out[k] = m.vals[k]
	}
	return out
}

// SetAttribute sets an attribute of the text itself (not of a range).
func (x *Text) SetAttribute(key string, v any) error {
	return x.b.transactErr(func(t *Transaction) error { return x.b.mapSet(t, key, v) })
}

// RemoveAttribute removes an attribute of the text itself, as yjs's
// removeAttribute does. Removing a missing attribute changes nothing.
func (x *Text) RemoveAttribute(key string) error {
	return x.b.transactErr(func(t *Transaction) error { x.b.mapDelete(t, key); return nil })
}

// Attribute returns an attribute of the text itself.
func (x *Text) Attribute(key string) (any, bool) { return x.b.mapGet(key) }

// Attributes returns the attributes of the text itself that are set.
func (x *Text) Attributes() map[string]any { return (&Map{x.b}).Entries() }

// Len returns the length in UTF-16 code units.
func (x *XMLText) Len() int { return x.b.length }

// String returns the text with formatting attributes as XML tags, sorted
// by name, as yjs's XmlText toString writes them: an attribute's value
// gives the tag's XML attributes, its properties as JavaScript's for...in
// lists them (an object's keys, a string's or an array's indexes), sorted.
func (x *XMLText) String() string {
	var sb strings.Builder
	for _, op := range (&Text{x.b}).ToDelta() {
		keys := slices.SortedFunc(maps.Keys(op.Attributes), compareUTF16)
		for _, k := range keys {
			sb.WriteString("<" + k)
			fields := slices.Clone(forIn(op.Attributes[k]))
			slices.SortFunc(fields, func(a, b Field) int { return compareUTF16(a.Key, b.Key) })
			for _, f := range fields {
				sb.WriteString(" " + f.Key + "=\"" + jsString(f.Value) + "\"")
			}
			sb.WriteString(">")
		}
		if s, ok := op.Insert.(string); ok {
			sb.WriteString(s)
		} else {
			sb.WriteString(jsString(op.Insert))
		}
		for i := len(keys) - 1; i >= 0; i-- {
			sb.WriteString("</" + keys[i] + ">")
		}
	}
	return sb.String()
}
