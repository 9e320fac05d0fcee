package yjs

import (
	"slices"

	"github.com/jupygo/jupygo/yjs/lib0"
)

// Event describes the changes one transaction made to one shared type. It
// is valid only while observers run: afterwards the transaction's deleted
// content may be garbage collected.
type Event struct {
	target        *branch
	currentTarget *branch
	t             *Transaction
	keys          map[string]KeyChange
	delta         []Delta
	deltaDone     bool
	path          []any
}

// KeyChange is the change of one map key: Action is "add", "update" or
// "delete"; OldValue is the previous value for update and delete.
type KeyChange struct {
	Action   string
	OldValue any
}

type observer struct {
	f    func(*Event)
	deep func([]*Event)
}

// Target returns the shared type that changed.
func (e *Event) Target() any { return e.target.shared() }

// CurrentTarget returns the type whose deep observer receives the event.
func (e *Event) CurrentTarget() any { return e.currentTarget.shared() }

// Transaction returns the transaction that made the change.
func (e *Event) Transaction() *Transaction { return e.t }

// Path returns the keys (string) and indexes (int) leading from the
// current target to the target.
func (e *Event) Path() []any {
	if e.path == nil {
		e.path = pathTo(e.currentTarget, e.target)
	}
	return e.path
}

func pathTo(parent, child *branch) []any {
	path := []any{}
	for child.item != nil && child != parent {
		it := child.item
		if it.hasParentSub() {
			path = append(path, it.parentSub)
		} else {
			i := 0
			for c := it.parent.start; c != it && c != nil; c = c.right {
				if c.visibleCountable() {
					i += c.length
				}
			}
			path = append(path, i)
		}
		child = it.parent
	}
	slices.Reverse(path)
	return path
}

func (e *Event) adds(it *item) bool    { return e.t.adds(it) }
func (e *Event) deletes(it *item) bool { return e.t.deletes(it) }

// Keys returns the map keys the transaction changed.
func (e *Event) Keys() map[string]KeyChange {
	if e.keys != nil {
		return e.keys
	}
	e.keys = map[string]KeyChange{}
	ck := e.t.changedEntry(e.target)
	if ck == nil {
		return e.keys
	}
	for key := range ck.keys {
		it := e.target.mapItem(key)
		if it == nil {
			continue
		}
		if kc, ok := e.keyChange(it); ok {
			e.keys[key] = kc
		}
	}
	return e.keys
}

func (e *Event) keyChange(it *item) (KeyChange, bool) {
	last := func(x *item) any {
		vals := x.content.values()
		if len(vals) == 0 {
			return nil
		}
		return vals[len(vals)-1]
	}
	if !e.adds(it) {
		if e.deletes(it) {
			return KeyChange{"delete", last(it)}, true
		}
		return KeyChange{}, false
	}
	prev := it.left
	for prev != nil && e.adds(prev) {
		prev = prev.left
	}
	prevDeleted := prev != nil && e.deletes(prev)
	switch {
	case e.deletes(it) && prevDeleted:
		return KeyChange{"delete", last(prev)}, true
	case e.deletes(it):
		return KeyChange{}, false
	case prevDeleted:
		return KeyChange{"update", last(prev)}, true
	}
	return KeyChange{Action: "add", OldValue: Undefined{}}, true
}

// Delta returns the list changes as retain, insert and delete operations.
// For Text it is the rich-text delta with attributes and string inserts;
// for lists, inserts are []any of the inserted values.
func (e *Event) Delta() []Delta {
	if e.deltaDone {
		return e.delta
	}
	e.deltaDone = true
	if e.target.kind == KindText || e.target.kind == KindXMLText {
		e.delta = e.textDelta()
	} else {
		e.delta = e.listDelta()
	}
	return e.delta
}

func (e *Event) listDelta() []Delta {
	ck := e.t.changedEntry(e.target)
	if ck == nil || !ck.list {
		return nil
	}
	var delta []Delta
	var last *Delta
	push := func(d Delta) {
		delta = append(delta, d)
		last = &delta[len(delta)-1]
	}
	for it := e.target.start; it != nil; it = it.right {
		switch {
		case it.deleted():
			if e.deletes(it) && !e.adds(it) {
				if last == nil || last.Delete == 0 {
					push(Delta{})
				}
				last.Delete += it.length
			}
		case e.adds(it):
			if last == nil || last.Insert == nil {
				push(Delta{Insert: []any{}})
			}
			last.Insert = append(last.Insert.([]any), it.content.values()...)
		default:
			if last == nil || last.Retain == 0 {
				push(Delta{})
			}
			last.Retain += it.length
		}
	}
	if last != nil && last.Retain > 0 {
		delta = delta[:len(delta)-1]
	}
	return delta
}

// textDelta computes the rich-text delta as yjs's YTextEvent does. Like
// yjs, it deletes format items that turn out redundant, in a transaction
// of its own.
func (e *Event) textDelta() []Delta {
	var delta []Delta
	e.target.doc.Transact(func(t *Transaction) {
		b := &textDeltaBuilder{e: e, t: t, current: newAttrMap(), old: newAttrMap(),
			attributes: newAttrMap()}
		for it := e.target.start; it != nil; it = it.right {
			b.visit(it)
		}
		b.addOp()
		delta = b.delta
		for len(delta) > 0 {
			lastOp := delta[len(delta)-1]
			if lastOp.Retain > 0 && lastOp.Attributes == nil {
				delta = delta[:len(delta)-1]
				continue
			}
			break
		}
	}, nil)
	return delta
}

type textDeltaBuilder struct {
	e          *Event
	t          *Transaction
	delta      []Delta
	current    *attrMap
	old        *attrMap
	attributes *attrMap
	action     string
	insert     any
	insertStr  []byte
	retain     int
	deleteLen  int
}

func (b *textDeltaBuilder) addOp() {
	switch b.action {
	case "":
		return
	case "delete":
		if b.deleteLen > 0 {
			b.delta = append(b.delta, Delta{Delete: b.deleteLen})
		}
		b.deleteLen = 0
	case "insert":
		ins := b.insert
		if ins == nil && len(b.insertStr) > 0 {
			ins = string(b.insertStr)
		}
		if ins != nil {
			op := Delta{Insert: ins}
			if b.current.len() > 0 {
				op.Attributes = map[string]any{}
				for _, k := range b.current.keys {
					if v := b.current.vals[k]; v != nil {
						op.Attributes[k] = v
					}
				}
			}
			b.delta = append(b.delta, op)
		}
		b.insert = nil
		b.insertStr = b.insertStr[:0]
	case "retain":
		if b.retain > 0 {
			op := Delta{Retain: b.retain}
			if b.attributes.len() > 0 {
				op.Attributes = b.attributes.object()
			}
			b.delta = append(b.delta, op)
		}
		b.retain = 0
	}
	b.action = ""
}

// deltaInsertable reports whether yjs's event delta keeps an embedded
// value as an insert: it keeps objects (typeof "object") and non-empty
// strings, and drops numbers, booleans and big integers. A null embed,
// which yjs keeps as {insert: null}, is dropped too, as a Delta cannot
// hold a nil insert.
func deltaInsertable(v any) bool {
	switch v := v.(type) {
	case nil, float64, bool, int64, Undefined:
		return false
	case string:
		return v != ""
	}
	return true
}

func (b *textDeltaBuilder) switchTo(action string) {
	if b.action != action {
		b.addOp()
		b.action = action
	}
}

func (b *textDeltaBuilder) visit(it *item) {
	e := b.e
	switch c := it.content.(type) {
	case *contentType, *contentEmbed:
		switch {
		case e.adds(it):
			if !e.deletes(it) {
				b.addOp()
				b.action = "insert"
				if v := c.values()[0]; deltaInsertable(v) {
					b.insert = v
				}
				b.addOp()
			}
		case e.deletes(it):
			b.switchTo("delete")
			b.deleteLen++
		case !it.deleted():
			b.switchTo("retain")
			b.retain++
		}
	case *contentString:
		switch {
		case e.adds(it):
			if !e.deletes(it) {
				b.switchTo("insert")
				b.insertStr = lib0.AppendWTF8(b.insertStr, c.b)
			}
		case e.deletes(it):
			b.switchTo("delete")
			b.deleteLen += it.length
		case !it.deleted():
			b.switchTo("retain")
			b.retain += it.length
		}
	case *contentFormat:
		b.visitFormat(it, c)
	}
}

func (b *textDeltaBuilder) visitFormat(it *item, c *contentFormat) {
	e := b.e
	key, value := c.key, c.value
	switch {
	case e.adds(it):
		if !e.deletes(it) {
			cur := b.current.getOrNull(key)
			if !equalAttrs(cur, value) {
				if b.action == "retain" {
					b.addOp()
				}
				if equalAttrs(value, b.old.getOrNull(key)) {
					b.attributes.delete(key)
				} else {
					b.attributes.set(key, value)
				}
			} else if value != nil {
				it.delete(b.t)
			}
		}
	case e.deletes(it):
		b.old.set(key, value)
		cur := b.current.getOrNull(key)
		if !equalAttrs(cur, value) {
			if b.action == "retain" {
				b.addOp()
			}
			b.attributes.set(key, cur)
		}
	case !it.deleted():
		b.old.set(key, value)
		if attr, ok := b.attributes.get(key); ok {
			if !equalAttrs(attr, value) {
				if b.action == "retain" {
					b.addOp()
				}
				if value == nil {
					b.attributes.delete(key)
				} else {
					b.attributes.set(key, value)
				}
			} else if attr != nil {
				it.delete(b.t)
			}
		}
	}
	if !it.deleted() {
		if b.action == "insert" {
			b.addOp()
		}
		updateCurrentAttributes(b.current, c)
	}
}

// callObservers runs the type and deep observers of a transaction.
func (d *Doc) callObservers(t *Transaction) {
	for i := 0; i < len(t.changed); i++ {
		ck := t.changed[i]
		if ck.removed || ck.b.item != nil && ck.b.item.deleted() {
			continue
		}
		ck.b.callObserver(t, ck)
	}
	for _, b := range t.parentOrder {
		if b.observers == nil || len(b.observers.deep) == 0 || b.item != nil && b.item.deleted() {
			continue
		}
		var events []*Event
		for _, ev := range t.changedParentTypes[b] {
			if ev.target.item == nil || !ev.target.item.deleted() {
				ev.currentTarget = b
				ev.path = nil
				events = append(events, ev)
			}
		}
		if len(events) == 0 {
			continue
		}
		slices.SortStableFunc(events, func(x, y *Event) int { return len(x.Path()) - len(y.Path()) })
		for _, o := range slices.Clone(b.observers.deep) {
			o.deep(events)
		}
	}
}

func (b *branch) callObserver(t *Transaction, ck *changedKeys) {
	if !t.Local && b.markers != nil {
		// The flags of the dropped markers stay set, as in yjs.
		b.markers.list = b.markers.list[:0]
	}
	if (b.kind == KindText || b.kind == KindXMLText) && !t.Local && b.hasFormatting {
		t.needFormattingCleanup = true
	}
	if !b.hasListeners() {
		return
	}
	ev := &Event{target: b, currentTarget: b, t: t}
	if t.changedParentTypes == nil {
		t.changedParentTypes = map[*branch][]*Event{}
	}
	for p := b; ; {
		if _, ok := t.changedParentTypes[p]; !ok {
			t.parentOrder = append(t.parentOrder, p)
		}
		t.changedParentTypes[p] = append(t.changedParentTypes[p], ev)
		if p.item == nil {
			break
		}
		p = p.item.parent
	}
	if b.observers == nil {
		return
	}
	for _, o := range slices.Clone(b.observers.direct) {
		o.f(ev)
	}
}

// hasListeners reports whether b has observers or b or an ancestor has
// deep observers. Without them no event is built.
func (b *branch) hasListeners() bool {
	if b.observers != nil && len(b.observers.direct) > 0 {
		return true
	}
	for p := b; p != nil; {
		if p.observers != nil && len(p.observers.deep) > 0 {
			return true
		}
		if p.item == nil {
			return false
		}
		p = p.item.parent
	}
	return false
}

func (b *branch) observe(f func(*Event)) func() {
	o := &observer{f: f}
	obs := b.observerLists()
	obs.direct = append(obs.direct, o)
	return func() { obs.direct = removeHandler(obs.direct, o) }
}

func (b *branch) observeDeep(f func([]*Event)) func() {
	o := &observer{deep: f}
	obs := b.observerLists()
	obs.deep = append(obs.deep, o)
	return func() { obs.deep = removeHandler(obs.deep, o) }
}

func (b *branch) observerLists() *observers {
	if b.observers == nil {
		b.observers = &observers{}
	}
	return b.observers
}

// Observe registers f for the changes of every transaction to the map; it
// returns a function that unregisters f.
func (m *Map) Observe(f func(*Event)) (cancel func()) { return m.b.observe(f) }

// ObserveDeep registers f for the changes to the map and every type
// nested in it, one call per transaction.
func (m *Map) ObserveDeep(f func([]*Event)) (cancel func()) { return m.b.observeDeep(f) }

// Observe registers f for the changes to the array; see Map.Observe.
func (a *Array) Observe(f func(*Event)) (cancel func()) { return a.b.observe(f) }

// ObserveDeep registers f for the changes to the array and nested types.
func (a *Array) ObserveDeep(f func([]*Event)) (cancel func()) { return a.b.observeDeep(f) }

// Observe registers f for the changes to the text; see Map.Observe.
func (x *Text) Observe(f func(*Event)) (cancel func()) { return x.b.observe(f) }

// ObserveDeep registers f for the changes to the text and embedded types.
func (x *Text) ObserveDeep(f func([]*Event)) (cancel func()) { return x.b.observeDeep(f) }

// ObserveDeep registers f for the changes to the fragment and its nodes.
func (f *XMLFragment) ObserveDeep(fn func([]*Event)) (cancel func()) {
	return f.b.observeDeep(fn)
}
