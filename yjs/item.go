package yjs

// Flags of an item.
const (
	flagKeep uint16 = 1 << iota
	flagCountable
	flagDeleted
	flagMarker
	flagGC   // a GC struct: a deleted run without content or position
	flagSkip // a Skip struct: a hole in a merged update, never stored
	flagHasOrigin
	flagHasRightOrigin
	flagHasParentSub
	// flagHasParentID marks an item read from an update whose parent is
	// given by the ID of the parent's item, kept in origin until it is
	// resolved. Such an item has no origins: the update format writes the
	// parent only for items without them.
	flagHasParentID
)

// item is a struct of the struct store: an Item with content, a GC struct
// (flagGC) or, only while decoding, a Skip struct (flagSkip). GC and Skip
// structs use only id, length and flags. The fields are ordered and sized
// so that an item takes 128 bytes, because a document holds one for every
// run of content.
type item struct {
	id          ID
	length      int
	left, right *item
	// origin is the last ID of the left neighbour at insertion, or with
	// flagHasParentID the ID of the parent's item.
	origin      ID
	rightOrigin ID
	parent      *branch
	parentSub   string
	content     content
	flags       uint16
	// redone is the item that redid this one after an undo, if any.
	redone *ID
}

func (it *item) has(f uint16) bool  { return it.flags&f != 0 }
func (it *item) isGC() bool         { return it.flags&flagGC != 0 }
func (it *item) isSkip() bool       { return it.flags&flagSkip != 0 }
func (it *item) deleted() bool      { return it.flags&(flagDeleted|flagGC) != 0 }
func (it *item) countable() bool    { return it.flags&flagCountable != 0 }
func (it *item) keep() bool         { return it.flags&flagKeep != 0 }
func (it *item) markDeleted()       { it.flags |= flagDeleted }
func (it *item) hasParentSub() bool { return it.flags&flagHasParentSub != 0 }
func (it *item) lastID() ID         { return ID{it.id.Client, it.id.Clock + uint64(it.length) - 1} }
func (it *item) visibleCountable() bool {
	return it.flags&(flagCountable|flagDeleted|flagGC) == flagCountable
}

// kindOrder orders struct kinds for merge decisions: structs merge only
// with structs of their own kind.
func (it *item) kind() uint16 { return it.flags & (flagGC | flagSkip) }

func newGC(id ID, length int) *item {
	return &item{id: id, length: length, flags: flagGC}
}

func newSkip(id ID, length int) *item {
	return &item{id: id, length: length, flags: flagSkip}
}

// newItem returns an Item with the given neighbours and content. A nil
// left or right means no origin on that side.
func newItem(id ID, left *item, right *item, parent *branch, parentSub *string, c content) *item {
	it := &item{id: id, left: left, right: right, parent: parent, content: c, length: c.length()}
	if left != nil {
		it.origin = left.lastID()
		it.flags |= flagHasOrigin
	}
	if right != nil {
		it.rightOrigin = right.id
		it.flags |= flagHasRightOrigin
	}
	if parentSub != nil {
		it.parentSub = *parentSub
		it.flags |= flagHasParentSub
	}
	if c.countable() {
		it.flags |= flagCountable
	}
	return it
}

func (it *item) setOrigin(id ID) {
	it.origin = id
	it.flags |= flagHasOrigin
}

func sameOrigin(a, b *item) bool {
	if a.has(flagHasOrigin) != b.has(flagHasOrigin) {
		return false
	}
	return !a.has(flagHasOrigin) || a.origin == b.origin
}

func sameRightOrigin(a, b *item) bool {
	if a.has(flagHasRightOrigin) != b.has(flagHasRightOrigin) {
		return false
	}
	return !a.has(flagHasRightOrigin) || a.rightOrigin == b.rightOrigin
}

// next returns the first undeleted item to the right.
func (it *item) next() *item {
	n := it.right
	for n != nil && n.deleted() {
		n = n.right
	}
	return n
}

// prev returns the first undeleted item to the left.
func (it *item) prev() *item {
	n := it.left
	for n != nil && n.deleted() {
		n = n.left
	}
	return n
}

// getMissing resolves origin, right origin and parent against the store.
// It returns the client whose structs must be integrated first, and false
// when nothing is missing.
func (it *item) getMissing(t *Transaction, s *store) (uint64, bool) {
	if it.has(flagHasOrigin) && it.origin.Client != it.id.Client &&
		it.origin.Clock >= s.state(it.origin.Client) {
		return it.origin.Client, true
	}
	if it.has(flagHasRightOrigin) && it.rightOrigin.Client != it.id.Client &&
		it.rightOrigin.Clock >= s.state(it.rightOrigin.Client) {
		return it.rightOrigin.Client, true
	}
	if it.has(flagHasParentID) && it.origin.Client != it.id.Client &&
		it.origin.Clock >= s.state(it.origin.Client) {
		return it.origin.Client, true
	}
	// An origin inside this client's own pending range is an invalid
	// update; yjs fails on it, and the item is integrated as a GC here.
	if it.has(flagHasOrigin) && it.origin.Clock >= s.state(it.origin.Client) ||
		it.has(flagHasRightOrigin) && it.rightOrigin.Clock >= s.state(it.rightOrigin.Client) ||
		it.has(flagHasParentID) && it.origin.Clock >= s.state(it.origin.Client) {
		it.parent = nil
		it.flags &^= flagHasParentID | flagHasOrigin | flagHasRightOrigin
		return 0, false
	}

	if it.has(flagHasOrigin) {
		it.left = s.getItemCleanEnd(t, it.origin)
		it.origin = it.left.lastID()
	}
	if it.has(flagHasRightOrigin) {
		it.right = s.getItemCleanStart(t, it.rightOrigin)
		it.rightOrigin = it.right.id
	}
	switch {
	case it.left != nil && it.left.isGC() || it.right != nil && it.right.isGC():
		it.parent = nil
	case it.parent == nil && !it.has(flagHasParentID):
		if it.left != nil {
			it.copyParent(it.left)
		} else if it.right != nil {
			it.copyParent(it.right)
		}
	case it.has(flagHasParentID):
		p := s.find(it.origin)
		it.flags &^= flagHasParentID
		it.origin = ID{}
		if ct, ok := p.content.(*contentType); ok && !p.isGC() {
			it.parent = ct.t
		} else {
			it.parent = nil
		}
	}
	return 0, false
}

func (it *item) copyParent(from *item) {
	it.parent = from.parent
	it.parentSub = from.parentSub
	it.flags = it.flags&^flagHasParentSub | from.flags&flagHasParentSub
}

// integrate links the item into its parent's list (or the chain of its map
// key) and adds it to the store. offset > 0 integrates only the units from
// offset on, because the store already holds the others.
func (it *item) integrate(t *Transaction, offset int) {
	if it.isGC() {
		it.integrateGC(t, offset)
		return
	}
	if offset > 0 {
		it.id.Clock += uint64(offset)
		it.left = t.doc.store.getItemCleanEnd(t, ID{it.id.Client, it.id.Clock - 1})
		it.setOrigin(it.left.lastID())
		it.content = it.content.splice(offset)
		it.length -= offset
	}
	if it.parent == nil {
		// Without a parent the item cannot be placed; it is kept as GC.
		gc := newGC(it.id, it.length)
		gc.integrateGC(t, 0)
		return
	}
	if it.left == nil && (it.right == nil || it.right.left != nil) ||
		it.left != nil && it.left.right != it.right {
		it.left = it.resolveConflicts(t)
	}
	it.link(t)
	p := it.parent
	if !it.hasParentSub() && it.countable() && !it.deleted() {
		p.length += it.length
	}
	t.doc.store.add(it)
	it.content.integrate(t, it)
	t.addChanged(p, it.parentSubKey())
	if p.item != nil && p.item.deleted() || it.hasParentSub() && it.right != nil {
		// The parent is deleted, or a later entry of the same map key exists.
		it.delete(t)
	}
}

// resolveConflicts finds the left neighbour among the items that were
// inserted concurrently between left and right (YATA). Concurrent inserts
// with the same origin are ordered by client id, lower first.
func (it *item) resolveConflicts(t *Transaction) *item {
	left := it.left
	var o *item
	switch {
	case left != nil:
		o = left.right
	case it.hasParentSub():
		o = it.parent.mapItem(it.parentSub)
		for o != nil && o.left != nil {
			o = o.left
		}
	default:
		o = it.parent.start
	}
	conflicting := map[*item]struct{}{}
	beforeOrigin := map[*item]struct{}{}
	for o != nil && o != it.right {
		beforeOrigin[o] = struct{}{}
		conflicting[o] = struct{}{}
		if sameOrigin(it, o) {
			if o.id.Client < it.id.Client {
				left = o
				clear(conflicting)
			} else if sameRightOrigin(it, o) {
				break
			}
		} else if o.has(flagHasOrigin) && inSet(beforeOrigin, t.doc.store.find(o.origin)) {
			if !inSet(conflicting, t.doc.store.find(o.origin)) {
				left = o
				clear(conflicting)
			}
		} else {
			break
		}
		o = o.right
	}
	return left
}

func inSet(s map[*item]struct{}, it *item) bool {
	_, ok := s[it]
	return ok
}

// link connects the item with its left and right neighbours and makes it
// its parent's first item or the current value of its map key.
func (it *item) link(t *Transaction) {
	p := it.parent
	if it.left != nil {
		it.right = it.left.right
		it.left.right = it
	} else {
		var r *item
		if it.hasParentSub() {
			r = p.mapItem(it.parentSub)
			for r != nil && r.left != nil {
				r = r.left
			}
		} else {
			r = p.start
			p.start = it
		}
		it.right = r
	}
	if it.right != nil {
		it.right.left = it
	} else if it.hasParentSub() {
		p.setMapEntry(it.parentSub, it)
		if it.left != nil {
			// The previous value of the key is overwritten.
			it.left.delete(t)
		}
	}
}

// parentSubKey returns the map key, or nil for list items.
func (it *item) parentSubKey() *string {
	if it.hasParentSub() {
		return &it.parentSub
	}
	return nil
}

func (it *item) integrateGC(t *Transaction, offset int) {
	if offset > 0 {
		it.id.Clock += uint64(offset)
		it.length -= offset
	}
	t.doc.store.add(it)
}

// delete marks the item deleted, records it in the transaction's delete
// set and deletes nested content.
func (it *item) delete(t *Transaction) {
	if it.deleted() {
		return
	}
	p := it.parent
	if it.countable() && !it.hasParentSub() {
		p.length -= it.length
	}
	it.markDeleted()
	t.addDelete(it.id.Client, it.id.Clock, uint64(it.length))
	t.addChanged(p, it.parentSubKey())
	it.content.delete(t)
}

// gc drops the content of a deleted item. When its parent was collected
// too, the item becomes a GC struct in place.
func (it *item) gc(s *store, parentGCd bool) {
	if !it.deleted() || it.isGC() {
		return
	}
	it.content.gc(s)
	if parentGCd {
		*it = item{id: it.id, length: it.length, flags: flagGC}
		return
	}
	// The countable flag stays, as in yjs; deleted items are never counted.
	it.content = &contentDeleted{it.length}
}

// mergeWith appends right to it when both were created as one run: same
// client, consecutive clocks, right's origin at it's end, same right
// origin, same deletion state and content that can be joined.
func (it *item) mergeWith(right *item) bool {
	if it.isGC() || it.isSkip() {
		if it.kind() != right.kind() {
			return false
		}
		it.length += right.length
		return true
	}
	if right.isGC() || right.isSkip() ||
		!right.has(flagHasOrigin) || right.origin != it.lastID() ||
		it.right != right || !sameRightOrigin(it, right) ||
		it.id.Client != right.id.Client || it.id.Clock+uint64(it.length) != right.id.Clock ||
		it.deleted() != right.deleted() || it.redone != nil || right.redone != nil ||
		it.content.ref() != right.content.ref() ||
		!it.content.mergeWith(right.content) {
		return false
	}
	if p := it.parent; p != nil && p.markers != nil {
		for _, m := range p.markers.list {
			if m.p == right {
				m.p = it
				if !it.deleted() && it.countable() {
					m.index -= it.length
				}
			}
		}
	}
	if right.keep() {
		it.flags |= flagKeep
	}
	it.right = right.right
	if it.right != nil {
		it.right.left = it
	}
	it.length += right.length
	return true
}

// split cuts the item at diff units and returns the right part, which the
// caller inserts into the store.
func (it *item) split(t *Transaction, diff int) *item {
	right := &item{
		id:          ID{it.id.Client, it.id.Clock + uint64(diff)},
		length:      it.length - diff,
		left:        it,
		origin:      ID{it.id.Client, it.id.Clock + uint64(diff) - 1},
		right:       it.right,
		rightOrigin: it.rightOrigin,
		parent:      it.parent,
		parentSub:   it.parentSub,
		flags:       it.flags&^flagMarker | flagHasOrigin,
	}
	right.content = it.content.splice(diff)
	if it.redone != nil {
		right.redone = &ID{it.redone.Client, it.redone.Clock + uint64(diff)}
	}
	it.right = right
	if right.right != nil {
		right.right.left = right
	}
	t.mergeStructs = append(t.mergeStructs, right)
	if right.hasParentSub() && right.right == nil {
		right.parent.setMapEntry(right.parentSub, right)
	}
	it.length = diff
	return right
}

// write encodes the item from unit offset on.
func (it *item) write(e updateEncoder, offset int) {
	if run, ok := it.content.(*contentDeletedRun); ok {
		// Every item of the run after the first has the end of the one
		// before as its origin, which is what writing the joined item
		// from the item's start on writes.
		run.each(offset, func(start, n int) {
			cut := max(offset-start, 0)
			it.writeHeader(e, start+cut)
			e.writeLen(uint64(n - cut))
		})
		return
	}
	switch {
	case it.isGC():
		e.writeInfo(refGC)
		e.writeLen(uint64(it.length - offset))
		return
	case it.isSkip():
		e.writeInfo(refSkip)
		e.rest().WriteVarUint(uint64(it.length - offset))
		return
	}
	it.writeHeader(e, offset)
	it.content.write(e, offset)
}

// writeHeader writes an item from offset on up to its content.
func (it *item) writeHeader(e updateEncoder, offset int) {
	hasOrigin := it.has(flagHasOrigin) || offset > 0
	origin := it.origin
	if offset > 0 {
		origin = ID{it.id.Client, it.id.Clock + uint64(offset) - 1}
	}
	info := it.content.ref() & 0x1f
	if hasOrigin {
		info |= 0x80
	}
	if it.has(flagHasRightOrigin) {
		info |= 0x40
	}
	if it.hasParentSub() {
		info |= 0x20
	}
	e.writeInfo(info)
	if hasOrigin {
		e.writeLeftID(origin)
	}
	if it.has(flagHasRightOrigin) {
		e.writeRightID(it.rightOrigin)
	}
	if !hasOrigin && !it.has(flagHasRightOrigin) {
		it.writeParent(e)
		if it.hasParentSub() {
			e.writeString(it.parentSub)
		}
	}
}

// structCount returns the number of structs write writes from offset on:
// one, or the number of items a joined run of deleted items holds there.
func (it *item) structCount(offset int) int {
	run, ok := it.content.(*contentDeletedRun)
	if !ok {
		return 1
	}
	n := 0
	run.each(offset, func(int, int) { n++ })
	return n
}

func (it *item) writeParent(e updateEncoder) {
	switch {
	case it.has(flagHasParentID):
		e.writeParentInfo(false)
		e.writeLeftID(it.origin)
	case it.parent == nil:
		// Only structs read by mergeUpdates lack a parent here; they carry
		// the root name instead.
		e.writeParentInfo(true)
		e.writeString("")
	case it.parent.item == nil:
		e.writeParentInfo(true)
		e.writeString(it.parent.rootName)
	default:
		e.writeParentInfo(false)
		e.writeLeftID(it.parent.item.id)
	}
}
