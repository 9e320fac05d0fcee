package yjs

import "slices"

// Transaction groups changes to a Doc. Observers run and the update is
// emitted when the outermost transaction ends. A Transaction is valid only
// inside the function given to Doc.Transact and the observers it triggers.
type Transaction struct {
	doc         *Doc
	deleteSet   DeleteSet
	dsOrder     []uint64 // clients of deleteSet in order of first deletion
	beforeState clockVector
	afterState  clockVector
	// changed lists the types changed by this transaction with the map keys
	// changed; the empty-key entry listChanged marks list changes.
	changed []*changedKeys
	// changedParentTypes collects the events every type and its ancestors
	// get for deep observers.
	changedParentTypes map[*branch][]*Event
	parentOrder        []*branch
	mergeStructs       []*item
	// Origin is the value given to Transact or ApplyUpdate; observers use
	// it to tell their own changes from others.
	Origin any
	// Local is false for transactions that apply remote updates.
	Local                 bool
	needFormattingCleanup bool
}

type changedKeys struct {
	b       *branch
	list    bool
	keys    map[string]struct{}
	removed bool // the type was deleted in the transaction
}

// changedEntry returns the changes recorded for b, or nil. Transactions
// change few types, so a linear scan beats a map.
func (t *Transaction) changedEntry(b *branch) *changedKeys {
	for _, ck := range t.changed {
		if ck.b == b && !ck.removed {
			return ck
		}
	}
	return nil
}

// Doc returns the document the transaction changes.
func (t *Transaction) Doc() *Doc { return t.doc }

// DeleteSet returns what the transaction deleted. It is normalized once
// observers run.
func (t *Transaction) DeleteSet() DeleteSet { return t.deleteSet }

// BeforeState returns the document's state vector when the transaction
// started.
func (t *Transaction) BeforeState() StateVector { return t.beforeState.stateVector() }

// AfterState returns the state vector when the transaction ended; it is
// set once observers run.
func (t *Transaction) AfterState() StateVector { return t.afterState.stateVector() }

// addDelete records a deletion, keeping the order in which clients first
// appear, which yjs's iteration over a transaction's deletions follows.
func (t *Transaction) addDelete(client, clock, length uint64) {
	if t.deleteSet == nil {
		t.deleteSet = DeleteSet{}
	}
	if _, ok := t.deleteSet[client]; !ok {
		t.dsOrder = append(t.dsOrder, client)
	}
	t.deleteSet.add(client, clock, length)
}

// addChanged records that key of b (nil for its list) changed, unless b was
// created or deleted in this transaction, whose events would be noise.
func (t *Transaction) addChanged(b *branch, key *string) {
	it := b.item
	if it != nil && (it.id.Clock >= t.beforeState.get(it.id.Client) || it.deleted()) {
		return
	}
	ck := t.changedEntry(b)
	if ck == nil {
		ck = &changedKeys{b: b}
		t.changed = append(t.changed, ck)
	}
	if key == nil {
		ck.list = true
		return
	}
	if ck.keys == nil {
		ck.keys = map[string]struct{}{}
	}
	ck.keys[*key] = struct{}{}
}

// forgetChanged drops b from the changed types, because b is deleted.
func (t *Transaction) forgetChanged(b *branch) {
	if ck := t.changedEntry(b); ck != nil {
		ck.removed = true
	}
}

// adds reports whether the struct was created in this transaction.
func (t *Transaction) adds(it *item) bool {
	return it.id.Clock >= t.beforeState.get(it.id.Client)
}

// deletes reports whether the struct was deleted in this transaction.
func (t *Transaction) deletes(it *item) bool {
	return t.deleteSet.Contains(it.id)
}

func (t *Transaction) hasChanges() bool {
	if len(t.deleteSet) > 0 {
		return true
	}
	for _, cc := range t.afterState {
		if t.beforeState.get(cc.Client) != cc.Clock {
			return true
		}
	}
	return false
}

// Transact runs f in a transaction. When a transaction is already running,
// f joins it. origin is stored on the transaction for observers.
func (d *Doc) Transact(f func(*Transaction), origin any) {
	d.transact(f, origin, true)
}

func (d *Doc) transact(f func(*Transaction), origin any, local bool) {
	d.transactE(func(t *Transaction) error { f(t); return nil }, origin, local)
}

// transactE is transact for functions that return an error.
func (d *Doc) transactE(f func(*Transaction) error, origin any, local bool) error {
	if d.txn != nil {
		return f(d.txn)
	}
	t := &Transaction{
		doc:         d,
		beforeState: d.store.clockVector(),
		Origin:      origin,
		Local:       local,
	}
	d.txn = t
	d.cleanups = append(d.cleanups, t)
	first := len(d.cleanups) == 1
	defer func() {
		d.txn = nil
		if first {
			d.runCleanups()
		}
	}()
	return f(t)
}

// runCleanups finishes every queued transaction in order. Observers may
// start new transactions, which are queued and finished after the current
// one.
func (d *Doc) runCleanups() {
	for i := 0; i < len(d.cleanups); i++ {
		d.cleanup(d.cleanups[i])
	}
	d.cleanups = nil
}

func (d *Doc) cleanup(t *Transaction) {
	t.deleteSet.normalize()
	t.afterState = d.store.clockVector()
	d.callObservers(t)
	for _, h := range d.afterTxnHandlers {
		h.f(t)
	}
	if t.needFormattingCleanup {
		cleanupTextAfterTransaction(t)
	}

	if d.gc {
		d.tryGCDeleteSet(t.deleteSet)
	}
	d.tryMergeDeleteSet(t.deleteSet)
	d.mergeNewStructs(t)
	d.mergeSplitStructs(t)

	if !t.Local && t.afterState.get(d.clientID) != t.beforeState.get(d.clientID) {
		// Another client used this client id; pick a new one, as yjs does.
		d.clientID = randomClientID()
	}
	d.emitUpdate(t)
}

func (d *Doc) emitUpdate(t *Transaction) {
	if len(d.updateHandlers)+len(d.updateV2Handlers) == 0 || !t.hasChanges() {
		return
	}
	if len(d.updateHandlers) > 0 {
		update := d.transactionUpdate(t, newEncoderV1())
		for _, h := range slices.Clone(d.updateHandlers) {
			h.f(update, t.Origin, t)
		}
	}
	if len(d.updateV2Handlers) > 0 {
		update := d.transactionUpdate(t, newEncoderV2())
		for _, h := range slices.Clone(d.updateV2Handlers) {
			h.f(update, t.Origin, t)
		}
	}
}

func (d *Doc) transactionUpdate(t *Transaction, e updateEncoder) []byte {
	writeClientsStructsFrom(e, d.store, t.beforeState.get)
	writeDeleteSet(e, t.deleteSet)
	return e.bytes()
}

// tryGCDeleteSet drops the content of items deleted in the transaction.
func (d *Doc) tryGCDeleteSet(ds DeleteSet) {
	for client, ranges := range ds {
		l := d.store.clients[client]
		for di := len(ranges) - 1; di >= 0; di-- {
			r := ranges[di]
			end := r.Clock + r.Len
			l.each(l.findIndex(r.Clock), func(it *item) bool {
				if it.id.Clock >= end {
					return false
				}
				if !it.isGC() && it.deleted() && !it.keep() {
					it.gc(d.store, false)
				}
				return true
			})
		}
	}
}

// tryMergeDeleteSet merges deleted structs with their left neighbours,
// from right to left so that no merge target is missed.
func (d *Doc) tryMergeDeleteSet(ds DeleteSet) {
	for client, ranges := range ds {
		for di := len(ranges) - 1; di >= 0; di-- {
			r := ranges[di]
			l := d.store.clients[client]
			si := min(l.len()-1, 1+l.findIndex(r.Clock+r.Len-1))
			for si > 0 && l.at(si).id.Clock >= r.Clock {
				si -= 1 + d.store.tryMergeWithLefts(client, si)
			}
		}
	}
}

// mergeNewStructs merges the structs each client added in the transaction.
func (d *Doc) mergeNewStructs(t *Transaction) {
	for _, cc := range t.afterState {
		client, clock := cc.Client, cc.Clock
		before := t.beforeState.get(client)
		if before == clock {
			continue
		}
		l := d.store.clients[client]
		first := max(l.findIndex(before), 1)
		for i := l.len() - 1; i >= first; {
			i -= 1 + d.store.tryMergeWithLefts(client, i)
		}
	}
}

// mergeSplitStructs merges structs split during the transaction back.
func (d *Doc) mergeSplitStructs(t *Transaction) {
	for i := len(t.mergeStructs) - 1; i >= 0; i-- {
		id := t.mergeStructs[i].id
		l := d.store.clients[id.Client]
		pos := l.findIndex(id.Clock)
		if pos+1 < l.len() {
			if d.store.tryMergeWithLefts(id.Client, pos+1) > 1 {
				continue
			}
		}
		if pos > 0 {
			d.store.tryMergeWithLefts(id.Client, pos)
		}
	}
}

// tryMergeWithLefts merges the struct at pos into its left neighbours as
// far as possible and returns how many structs were merged away.
func (s *store) tryMergeWithLefts(client uint64, pos int) int {
	l := s.clients[client]
	right := l.at(pos)
	left := l.at(pos - 1)
	i := pos
	for ; i > 0; i-- {
		if left.deleted() != right.deleted() || left.kind() != right.kind() || !left.mergeWith(right) {
			break
		}
		if right.hasParentSub() && !right.isGC() && right.parent.mapItem(right.parentSub) == right {
			right.parent.setMapEntry(right.parentSub, left)
		}
		right = left
		if i-2 >= 0 {
			left = l.at(i - 2)
		}
	}
	merged := pos - i
	if merged > 0 {
		l.remove(pos+1-merged, pos+1)
	}
	return merged
}
