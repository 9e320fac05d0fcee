package yjs

import (
	"errors"
	"fmt"
)

// List operations shared by Array, Text (for embeds) and the XML types.
// They follow yjs's typeList* functions, search markers included.

func (b *branch) nextID(t *Transaction) ID {
	return ID{t.doc.clientID, t.doc.store.state(t.doc.clientID)}
}

// insertAfter inserts values after ref (nil: at the start). Runs of Any
// values become one item each; binary data, types and subdocuments get
// items of their own.
func (b *branch) insertAfter(t *Transaction, ref *item, values []any) error {
	contents, err := packContents(values)
	if err != nil {
		return err
	}
	left := ref
	var right *item
	if ref == nil {
		right = b.start
	} else {
		right = ref.right
	}
	for _, c := range contents {
		it := newItem(b.nextID(t), left, right, b, nil, c)
		it.integrate(t, 0)
		left = it
	}
	return nil
}

// packContents groups values into contents as yjs does.
func packContents(values []any) ([]content, error) {
	var out []content
	var run []any
	flush := func() {
		if len(run) > 0 {
			out = append(out, &contentAny{run})
			run = nil
		}
	}
	for _, v := range values {
		c, err := newContent(v)
		if err != nil {
			return nil, err
		}
		if a, ok := c.(*contentAny); ok {
			run = append(run, a.arr...)
			continue
		}
		flush()
		out = append(out, c)
	}
	flush()
	return out, nil
}

// listInsert inserts values at index.
func (b *branch) listInsert(t *Transaction, index int, values []any) error {
	if index < 0 || index > b.length {
		return fmt.Errorf("inserting at %d into length %d: %w", index, b.length, ErrLengthExceeded)
	}
	if index == 0 {
		if b.markers != nil {
			b.markers.updateMarkerChanges(index, len(values))
		}
		return b.insertAfter(t, nil, values)
	}
	start := index
	m := b.findMarker(index)
	n := b.start
	if m != nil {
		n = m.p
		index -= m.index
		if index == 0 {
			// Step to the undeleted item on the left so that the index can
			// be decreased.
			n = n.prev()
			if n != nil && n.countable() && !n.deleted() {
				index += n.length
			}
		}
	}
	for ; n != nil; n = n.right {
		if n.visibleCountable() {
			if index <= n.length {
				if index < n.length {
					t.doc.store.getItemCleanStart(t, ID{n.id.Client, n.id.Clock + uint64(index)})
				}
				break
			}
			index -= n.length
		}
	}
	if b.markers != nil {
		b.markers.updateMarkerChanges(start, len(values))
	}
	return b.insertAfter(t, n, values)
}

// listPush appends values after the last item.
func (b *branch) listPush(t *Transaction, values []any) error {
	// Start from the marker with the highest index and walk to the end.
	n := b.start
	if b.markers != nil {
		best := 0
		for _, m := range b.markers.list {
			if m.index > best {
				best = m.index
				n = m.p
			}
		}
	}
	if n != nil {
		for n.right != nil {
			n = n.right
		}
	}
	return b.insertAfter(t, n, values)
}

// listDelete deletes n units from index.
func (b *branch) listDelete(t *Transaction, index, length int) error {
	if length == 0 {
		return nil
	}
	if index < 0 || length < 0 || index+length > b.length {
		return fmt.Errorf("deleting %d at %d from length %d: %w", length, index, b.length,
			ErrLengthExceeded)
	}
	start, startLen := index, length
	m := b.findMarker(index)
	n := b.start
	if m != nil {
		n = m.p
		index -= m.index
	}
	for ; n != nil && index > 0; n = n.right {
		if n.visibleCountable() {
			if index < n.length {
				t.doc.store.getItemCleanStart(t, ID{n.id.Client, n.id.Clock + uint64(index)})
			}
			index -= n.length
		}
	}
	for length > 0 && n != nil {
		if !n.deleted() {
			if length < n.length {
				t.doc.store.getItemCleanStart(t, ID{n.id.Client, n.id.Clock + uint64(length)})
			}
			n.delete(t)
			length -= n.length
		}
		n = n.right
	}
	if length > 0 {
		return fmt.Errorf("deleting %d at %d: %w", startLen, start, ErrLengthExceeded)
	}
	if b.markers != nil {
		b.markers.updateMarkerChanges(start, -startLen+length)
	}
	return nil
}

// listGet returns the value at index.
func (b *branch) listGet(index int) (any, bool) {
	if index < 0 {
		return nil, false
	}
	m := b.findMarker(index)
	n := b.start
	if m != nil {
		n = m.p
		index -= m.index
	}
	for ; n != nil; n = n.right {
		if n.visibleCountable() {
			if index < n.length {
				return n.content.values()[index], true
			}
			index -= n.length
		}
	}
	return nil, false
}

// Array is a shared list of values. Its methods may be called inside a
// transaction (Doc.Transact) or outside, where each call is a transaction
// of its own.
type Array struct{ b *branch }

// NewArray returns an empty Array to insert into a Map or list. It becomes
// usable once inserted.
func NewArray() *Array { return newBranch(KindArray).shared().(*Array) }

// Len returns the number of elements.
func (a *Array) Len() int { return a.b.length }

// Insert inserts values at index. Values are Any values (see lib0), []byte,
// new shared types (NewMap, NewArray, NewText) or subdocuments.
func (a *Array) Insert(index int, values ...any) error {
	return a.b.transactErr(func(t *Transaction) error { return a.b.listInsert(t, index, values) })
}

// Push appends values.
func (a *Array) Push(values ...any) error {
	return a.b.transactErr(func(t *Transaction) error { return a.b.listPush(t, values) })
}

// Delete removes length elements from index.
func (a *Array) Delete(index, length int) error {
	return a.b.transactErr(func(t *Transaction) error { return a.b.listDelete(t, index, length) })
}

// Get returns the element at index.
func (a *Array) Get(index int) (any, bool) { return a.b.listGet(index) }

// Slice returns all elements.
func (a *Array) Slice() []any { return a.b.listValues() }

// ToJSON returns the elements as JSON values.
func (a *Array) ToJSON() []any {
	vals := a.b.listValues()
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = ToJSONValue(v)
	}
	return out
}

// transactErr runs f in a transaction of the branch's document.
func (b *branch) transactErr(f func(*Transaction) error) error {
	if b.doc == nil {
		return errNotIntegrated
	}
	return b.doc.transactE(f, nil, true)
}

var errNotIntegrated = errors.New("shared type is not part of a document yet")

func (b *branch) toJSON() any {
	switch b.kind {
	case KindArray:
		return b.shared().(*Array).ToJSON()
	case KindMap:
		return b.shared().(*Map).ToJSON()
	case KindText:
		return b.shared().(*Text).ToJSON()
	case KindXMLText:
		return b.shared().(*XMLText).ToJSON()
	case KindXMLElement:
		return b.shared().(*XMLElement).ToJSON()
	case KindXMLFragment:
		return b.shared().(*XMLFragment).ToJSON()
	case KindXMLHook:
		return b.shared().(*XMLHook).ToJSON()
	}
	return nil
}
