package yjs

import (
	"slices"
	"time"
)

// DefaultCaptureTimeout is yjs's capture timeout: changes within it of the
// previous one join its undo step.
const DefaultCaptureTimeout = 500 * time.Millisecond

// UndoOptions configures an UndoManager. The zero value tracks local
// changes with origin nil and starts an undo step for every transaction.
type UndoOptions struct {
	// CaptureTimeout joins a transaction to the previous undo step when it
	// ends within this time of the previous tracked one; 0 never joins.
	CaptureTimeout time.Duration
	// TrackedOrigins are the transaction origins to track besides nil and
	// the manager itself. Origins are compared with ==.
	TrackedOrigins []any
	// IgnoreRemoteMapChanges lets redo overwrite map keys that other
	// clients changed since.
	IgnoreRemoteMapChanges bool
	// CaptureTransaction, when set, decides per transaction whether to
	// track it.
	CaptureTransaction func(*Transaction) bool
	// Now returns the current time; the default is time.Now.
	Now func() time.Time
}

// UndoManager records tracked changes to a set of shared types as undo
// steps and reverts them, as yjs's UndoManager does. Undoing deletes what
// a step inserted and re-creates what it deleted as new items, so the undo
// itself is an ordinary change that syncs to every peer. Like its Doc, it
// is not safe for concurrent use.
type UndoManager struct {
	doc                    *Doc
	scope                  []*branch
	opts                   UndoOptions
	tracked                map[any]bool
	undoStack, redoStack   []*StackItem
	undoing, redoing       bool
	current                *StackItem
	lastChange             time.Time
	ignoreRemoteMapChanges bool
	cancel                 func()
}

// StackItem is one undo step: what it inserted and what it deleted.
type StackItem struct {
	insertions orderedDS
	deletions  orderedDS
}

// orderedDS is a delete set that also keeps the order in which its clients
// first appeared, because yjs iterates delete sets in that order and the
// order decides the clocks of redone items.
type orderedDS struct {
	ds    DeleteSet
	order []uint64
}

func (o orderedDS) contains(id ID) bool { return o.ds.Contains(id) }

// mergeOrdered merges delete sets as yjs's mergeDeleteSets does: clients in
// the order of their first appearance across the sets.
func mergeOrdered(sets ...orderedDS) orderedDS {
	out := orderedDS{ds: DeleteSet{}}
	for _, s := range sets {
		for _, c := range s.order {
			if _, ok := out.ds[c]; !ok {
				out.order = append(out.order, c)
			}
			out.ds[c] = append(out.ds[c], s.ds[c]...)
		}
	}
	out.ds.normalize()
	return out
}

// NewUndoManager returns a manager that tracks changes to the given shared
// types (*Text, *Map, *Array and the XML types) of doc.
func NewUndoManager(doc *Doc, scope []any, opts UndoOptions) *UndoManager {
	um := &UndoManager{doc: doc, opts: opts, tracked: map[any]bool{nil: true}}
	if um.opts.Now == nil {
		um.opts.Now = time.Now
	}
	for _, o := range opts.TrackedOrigins {
		um.tracked[o] = true
	}
	um.tracked[um] = true
	um.ignoreRemoteMapChanges = opts.IgnoreRemoteMapChanges
	um.AddToScope(scope...)
	um.cancel = doc.OnAfterTransaction(um.afterTransaction)
	return um
}

// AddToScope adds shared types to track.
func (um *UndoManager) AddToScope(types ...any) {
	for _, t := range types {
		b := branchOf(t)
		if b != nil && !slices.Contains(um.scope, b) {
			um.scope = append(um.scope, b)
		}
	}
}

func branchOf(v any) *branch {
	switch v := v.(type) {
	case *Text:
		return v.b
	case *Map:
		return v.b
	case *Array:
		return v.b
	case *XMLElement:
		return v.b
	case *XMLFragment:
		return v.b
	case *XMLText:
		return v.b
	case *XMLHook:
		return v.b
	}
	return nil
}

// AddTrackedOrigin tracks transactions with origin o as well.
func (um *UndoManager) AddTrackedOrigin(o any) { um.tracked[o] = true }

// Destroy stops tracking.
func (um *UndoManager) Destroy() {
	delete(um.tracked, um)
	um.cancel()
}

// CanUndo reports whether there is a step to undo.
func (um *UndoManager) CanUndo() bool { return len(um.undoStack) > 0 }

// CanRedo reports whether there is a step to redo.
func (um *UndoManager) CanRedo() bool { return len(um.redoStack) > 0 }

// StopCapturing makes the next tracked change start a new undo step.
func (um *UndoManager) StopCapturing() { um.lastChange = time.Time{} }

// inScope reports whether the item lies in a tracked type.
func (um *UndoManager) inScope(it *item) bool {
	for _, b := range um.scope {
		if isParentOf(b, it) {
			return true
		}
	}
	return false
}

func isParentOf(parent *branch, it *item) bool {
	for it != nil {
		if it.parent == parent {
			return true
		}
		if it.parent == nil {
			return false
		}
		it = it.parent.item
	}
	return false
}

// keepItem sets or clears the keep flag of an item and its ancestors;
// kept items are not garbage collected, so that undo can restore them.
func keepItem(it *item, keep bool) {
	for it != nil && it.keep() != keep {
		if keep {
			it.flags |= flagKeep
		} else {
			it.flags &^= flagKeep
		}
		if it.parent == nil {
			return
		}
		it = it.parent.item
	}
}

// scopeChanged reports whether the transaction changed a tracked type or
// a type nested in one, the types yjs lists in changedParentTypes.
func (um *UndoManager) scopeChanged(t *Transaction) bool {
	for _, ck := range t.changed {
		if ck.removed || ck.b.item != nil && ck.b.item.deleted() {
			continue
		}
		for p := ck.b; p != nil; {
			if slices.Contains(um.scope, p) {
				return true
			}
			if p.item == nil {
				break
			}
			p = p.item.parent
		}
	}
	return false
}

func (um *UndoManager) trackedOrigin(o any) bool {
	defer func() { recover() }() // an uncomparable origin is not tracked
	return um.tracked[o]
}

func (um *UndoManager) afterTransaction(t *Transaction) {
	if um.opts.CaptureTransaction != nil && !um.opts.CaptureTransaction(t) ||
		!um.scopeChanged(t) || !um.trackedOrigin(t.Origin) {
		return
	}
	undoing, redoing := um.undoing, um.redoing
	stack := &um.undoStack
	if undoing {
		stack = &um.redoStack
		um.StopCapturing()
	} else if !redoing {
		um.clear(false, true)
	}
	insertions := orderedDS{ds: DeleteSet{}}
	for _, client := range t.doc.store.order {
		before, after := t.beforeState.get(client), t.afterState.get(client)
		if after > before {
			insertions.ds.add(client, before, after-before)
			insertions.order = append(insertions.order, client)
		}
	}
	deletions := orderedDS{ds: t.deleteSet, order: t.dsOrder}
	if deletions.ds == nil {
		deletions.ds = DeleteSet{}
	}
	now := um.opts.Now()
	if !um.lastChange.IsZero() && now.Sub(um.lastChange) < um.opts.CaptureTimeout &&
		len(*stack) > 0 && !undoing && !redoing {
		last := (*stack)[len(*stack)-1]
		last.deletions = mergeOrdered(last.deletions, deletions)
		last.insertions = mergeOrdered(last.insertions, insertions)
	} else {
		*stack = append(*stack, &StackItem{insertions: insertions, deletions: deletions})
	}
	if !undoing && !redoing {
		um.lastChange = now
	}
	iterateDeletedStructs(t, func(it *item) {
		if !it.isGC() && um.inScope(it) {
			keepItem(it, true)
		}
	})
}

// Clear drops both stacks and lets the content they kept be collected.
func (um *UndoManager) Clear() { um.clear(true, true) }

func (um *UndoManager) clear(undo, redo bool) {
	if !(undo && um.CanUndo() || redo && um.CanRedo()) {
		return
	}
	um.doc.Transact(func(t *Transaction) {
		release := func(s *StackItem) {
			iterateDS(t, s.deletions.ds, s.deletions.order, func(it *item) {
				if !it.isGC() && um.inScope(it) {
					keepItem(it, false)
				}
			})
		}
		if undo {
			for _, s := range um.undoStack {
				release(s)
			}
			um.undoStack = nil
		}
		if redo {
			for _, s := range um.redoStack {
				release(s)
			}
			um.redoStack = nil
		}
	}, nil)
}

// Undo reverts the last undo step and reports whether one was reverted.
func (um *UndoManager) Undo() bool {
	um.undoing = true
	defer func() { um.undoing = false }()
	return um.pop(&um.undoStack)
}

// Redo reapplies the last undone step and reports whether there was one.
func (um *UndoManager) Redo() bool {
	um.redoing = true
	defer func() { um.redoing = false }()
	return um.pop(&um.redoStack)
}

// pop reverts steps from stack until one changes the document.
func (um *UndoManager) pop(stack *[]*StackItem) bool {
	um.doc.Transact(func(t *Transaction) {
		for len(*stack) > 0 && um.current == nil {
			s := (*stack)[len(*stack)-1]
			*stack = (*stack)[:len(*stack)-1]
			if um.revert(t, s) {
				um.current = s
			}
		}
		for _, ck := range t.changed {
			if ck.list && ck.b.markers != nil {
				ck.b.markers.list = ck.b.markers.list[:0]
			}
		}
	}, um)
	done := um.current != nil
	um.current = nil
	return done
}

// revert deletes what s inserted and redoes what it deleted, and reports
// whether anything changed.
func (um *UndoManager) revert(t *Transaction, s *StackItem) bool {
	store := t.doc.store
	var toDelete []*item
	var toRedo []*item
	redoSet := map[*item]bool{}
	iterateDS(t, s.insertions.ds, s.insertions.order, func(it *item) {
		if it.isGC() {
			return
		}
		if it.redone != nil {
			target, diff := followRedone(store, it.id)
			if diff > 0 {
				target = store.getItemCleanStart(t, ID{target.id.Client, target.id.Clock + uint64(diff)})
			}
			it = target
		}
		if !it.deleted() && um.inScope(it) {
			toDelete = append(toDelete, it)
		}
	})
	iterateDS(t, s.deletions.ds, s.deletions.order, func(it *item) {
		if !it.isGC() && um.inScope(it) && !s.insertions.contains(it.id) && !redoSet[it] {
			redoSet[it] = true
			toRedo = append(toRedo, it)
		}
	})
	changed := false
	for _, it := range toRedo {
		if um.redoItem(t, it, redoSet, s.insertions) != nil {
			changed = true
		}
	}
	// Delete children before parents.
	for i := len(toDelete) - 1; i >= 0; i-- {
		toDelete[i].delete(t)
		changed = true
	}
	return changed
}

// followRedone follows the redone links from id to the item that now
// holds its content, and the offset of id in it.
func followRedone(s *store, id ID) (*item, int) {
	next := &id
	var it *item
	diff := 0
	for next != nil {
		if diff > 0 {
			next = &ID{next.Client, next.Clock + uint64(diff)}
		}
		it = s.find(*next)
		diff = int(next.Clock - it.id.Clock)
		if it.isGC() {
			break
		}
		next = it.redone
	}
	return it, diff
}

// deletedByStack reports whether a step of stack deleted id.
func deletedByStack(stack []*StackItem, id ID) bool {
	for _, s := range stack {
		if s.deletions.contains(id) {
			return true
		}
	}
	return false
}

// redoItem re-creates a deleted item as a new item at its old position,
// redoing its parent first when that is deleted too. It returns nil when
// the item cannot be redone.
func (um *UndoManager) redoItem(t *Transaction, it *item, redoSet map[*item]bool, insertions orderedDS) *item {
	s := t.doc.store
	if it.redone != nil {
		return s.getItemCleanStart(t, *it.redone)
	}
	parentItem := it.parent.item
	if parentItem != nil && parentItem.deleted() {
		if parentItem.redone == nil &&
			(!redoSet[parentItem] || um.redoItem(t, parentItem, redoSet, insertions) == nil) {
			return nil
		}
		for parentItem.redone != nil {
			parentItem = s.getItemCleanStart(t, *parentItem.redone)
		}
	}
	parentType := it.parent
	if parentItem != nil {
		ct, ok := parentItem.content.(*contentType)
		if !ok {
			return nil
		}
		parentType = ct.t
	}
	left, right, ok := um.redoPosition(t, it, parentItem, parentType, insertions)
	if !ok {
		return nil
	}
	next := ID{t.doc.clientID, s.state(t.doc.clientID)}
	redone := newItem(next, left, right, parentType, it.parentSubKey(), it.content.copy())
	it.redone = &next
	keepItem(redone, true)
	redone.integrate(t, 0)
	return redone
}

// redoPosition finds the neighbours of a redone item: for list items the
// nearest neighbours that live in the same parent, following redone links;
// for map entries the current entry, unless another client changed the
// key since.
func (um *UndoManager) redoPosition(t *Transaction, it, parentItem *item, parentType *branch,
	insertions orderedDS) (left, right *item, ok bool) {
	s := t.doc.store
	inParent := func(x *item) *item {
		for x != nil && (x.parent == nil || x.parent.item != parentItem) {
			if x.redone == nil || x.parent == nil {
				return nil
			}
			x = s.getItemCleanStart(t, *x.redone)
		}
		return x
	}
	if !it.hasParentSub() {
		for left = it.left; left != nil; left = left.left {
			if trace := inParent(left); trace != nil {
				left = trace
				break
			}
		}
		for right = it; right != nil; right = right.right {
			if trace := inParent(right); trace != nil {
				right = trace
				break
			}
		}
		return left, right, true
	}
	if it.right != nil && !um.ignoreRemoteMapChanges {
		left = it
		for left != nil && left.right != nil && (left.right.redone != nil ||
			insertions.contains(left.right.id) || deletedByStack(um.undoStack, left.right.id) ||
			deletedByStack(um.redoStack, left.right.id)) {
			left = left.right
			for left.redone != nil {
				left = s.getItemCleanStart(t, *left.redone)
			}
		}
		if left != nil && left.right != nil {
			// Another client changed the key; redoing would conflict.
			return nil, nil, false
		}
	} else {
		left = parentType.mapItem(it.parentSub)
	}
	if left != nil && left.parent.item != parentItem {
		// A left neighbour from another parent would mislead peers.
		left = parentType.mapItem(it.parentSub)
	}
	return left, nil, true
}
