package yjs

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/jupygo/jupygo/yjs/lib0"
)

// ErrInvalidUpdate is wrapped by every error about a malformed update.
var ErrInvalidUpdate = errors.New("invalid update")

// refList is the decoded structs of one client in an update, in clock
// order, with the index of the next one to integrate.
type refList struct {
	i    int
	refs []*item
}

// maxStructsPerByte bounds the structs a V1 update may declare per byte
// of input. V1 needs at least two bytes a struct, so the bound is generous
// but still finite.
const maxStructsPerByte = 8

// maxRunStructs is the extra allowance of structs in a V2 update. V2's
// run-length columns write a run of similar structs (deleted items, GC
// structs) in a few bytes however long the run is, so no bound per byte
// holds. The fixed allowance still stops a short input from declaring
// billions of structs.
// NOTE: 2^20 is a chosen limit, not one yjs has: a valid V2 update with
// more structs than 2^20 plus 8 a byte is rejected. Runs of GC structs,
// and runs of deleted items each after the one before (see joinDeleted),
// are joined as they are read and cost nothing per struct. Other runs,
// such as nested types each after the one before, cost one item each,
// because the document they build holds one item each in yjs too. An
// empty map took about 400 bytes as measured, so 36 bytes of input can
// still take about 400 MB.
const maxRunStructs = 1 << 20

// structBudget returns the maximum number of structs an update of
// inputLen bytes may declare.
func structBudget(inputLen int, v2 bool) int {
	budget := maxStructsPerByte*inputLen + 16
	if v2 {
		budget += maxRunStructs
	}
	return budget
}

// readClientsStructRefs decodes the struct part of an update. Root type
// names resolve to placeholders, which it also returns in the order the
// update first names them: mergeUpdates keeps them as names, and
// Doc.bindRoots puts the document's root types in their place. The
// decoder fails when the update declares more than budget structs in all.
func readClientsStructRefs(d updateDecoder, budget int) (map[uint64]*refList, []uint64, []*branch) {
	rest := d.rest()
	out := map[uint64]*refList{}
	var order []uint64
	total := budget
	nClients := rest.ReadLen(1)
	roots := &rootNames{byName: map[string]*branch{}}
	// Map keys repeat from item to item: each is kept once.
	keys := map[string]string{}
	var scratch item
	for i := 0; i < nClients && rest.Err() == nil; i++ {
		n := rest.ReadVarUint()
		if n > uint64(budget) {
			rest.Fail(fmt.Errorf("%d structs declared, more than the limit of %d", n, total))
			break
		}
		budget -= int(n)
		client := d.readClient()
		clock := rest.ReadVarUint()
		// The slice grows with the structs read, not with the count the
		// input claims.
		var refs []*item
		for j := uint64(0); j < n && rest.Err() == nil; j++ {
			info := d.readInfo()
			if info&0x1f == refGC {
				// V2 writes a run of GC structs in a few bytes however long
				// it is, so adjacent ones are merged as they are read, as
				// yjs merges them once they are integrated.
				length := d.readLen()
				if length == 0 || clock+length > lib0.MaxSafeInteger {
					rest.Fail(fmt.Errorf("GC struct %d:%d with length %d", client, clock, length))
					break
				}
				if k := len(refs) - 1; k >= 0 && refs[k].isGC() {
					refs[k].length += int(length)
				} else {
					refs = append(refs, newGC(ID{client, clock}, int(length)))
				}
				clock += length
				continue
			}
			// The struct is read into scratch and copied to the heap only
			// when it is not joined to the one before, so that a run of
			// deleted items allocates nothing per item.
			scratch = item{}
			readStruct(d, roots, keys, ID{client, clock}, info, &scratch)
			if rest.Err() != nil {
				break
			}
			if scratch.length <= 0 || clock+uint64(scratch.length) > lib0.MaxSafeInteger {
				rest.Fail(fmt.Errorf("struct %v with length %d", scratch.id, scratch.length))
				break
			}
			clock += uint64(scratch.length)
			if k := len(refs) - 1; k >= 0 && joinDeleted(refs[k], &scratch) {
				continue
			}
			it := new(item)
			*it = scratch
			if it.content == nil && !it.isSkip() {
				it.content = &contentDeleted{it.length}
			}
			refs = append(refs, it)
		}
		// A client listed twice keeps its last block, as in yjs.
		if _, dup := out[client]; dup {
			order = slices.DeleteFunc(order, func(c uint64) bool { return c == client })
		}
		out[client] = &refList{refs: refs}
		order = append(order, client)
	}
	return out, order, roots.order
}

// joinDeleted appends it, a struct read by readStruct, to prev, the
// struct before it in the update, when both are deleted items that yjs integrates next to each other and
// merges: it has the end of prev as its origin and prev's right origin.
// A run of such items then costs one item, as in the document yjs builds.
func joinDeleted(prev, it *item) bool {
	if prev.isGC() || prev.isSkip() || !it.has(flagHasOrigin) || it.origin != prev.lastID() ||
		it.has(flagHasRightOrigin) != prev.has(flagHasRightOrigin) || it.rightOrigin != prev.rightOrigin {
		return false
	}
	if it.content != nil || it.isSkip() {
		return false
	}
	switch c := prev.content.(type) {
	case *contentDeleted:
		run := &contentDeletedRun{}
		run.add(c.n)
		run.add(it.length)
		prev.content = run
	case *contentDeletedRun:
		c.add(it.length)
	default:
		return false
	}
	prev.length += it.length
	return true
}

// readStruct reads the struct with info byte info, other than GC, into
// it. The content of a deleted item is left nil, its length set. keys
// interns map keys.
func readStruct(d updateDecoder, roots *rootNames, keys map[string]string,
	id ID, info uint8, it *item) {
	it.id = id
	if info&0x1f == refSkip {
		it.length = int(d.rest().ReadVarUint())
		it.flags = flagSkip
		return
	}
	if info&0x80 != 0 {
		it.origin = d.readLeftID()
		it.flags |= flagHasOrigin
	}
	if info&0x40 != 0 {
		it.rightOrigin = d.readRightID()
		it.flags |= flagHasRightOrigin
	}
	if info&0xc0 == 0 {
		if d.readParentInfo() {
			it.parent = roots.get(d.readString())
		} else {
			it.origin = d.readLeftID()
			it.flags |= flagHasParentID
		}
		if info&0x20 != 0 {
			it.parentSub = intern(keys, d.readString())
			it.flags |= flagHasParentSub
		}
	}
	if info&0x1f == refDeleted {
		it.length = int(d.readLen())
		return
	}
	it.content = readContent(d, info)
	it.length = it.content.length()
	if it.content.countable() {
		it.flags |= flagCountable
	}
}

func intern(strs map[string]string, s string) string {
	if k, ok := strs[s]; ok {
		return k
	}
	strs[s] = s
	return s
}

// rootNames is the placeholders of the root types an update names, each
// keeping its name, in the order in which the update first names them.
type rootNames struct {
	byName map[string]*branch
	order  []*branch
}

// get returns the placeholder of the root type name.
func (r *rootNames) get(name string) *branch {
	b := r.byName[name]
	if b == nil {
		b = &branch{kind: KindUndefined, rootName: name}
		r.byName[name] = b
		r.order = append(r.order, b)
	}
	return b
}

// decodedUpdate is an update read in full before anything is applied.
type decodedUpdate struct {
	refs    map[uint64]*refList
	order   []uint64 // clients in input order
	ds      DeleteSet
	dsOrder []uint64 // delete set clients in input order
	// roots is the placeholders of the root types the update names, until
	// Doc.bindRoots replaces them.
	roots []*branch
}

// decodeUpdate decodes an update. With doc set, the root types it names
// are the doc's, created as yjs creates them if they are new. A malformed
// update creates none.
func decodeUpdate(update []byte, doc *Doc, v2 bool) (*decodedUpdate, error) {
	var d updateDecoder
	if v2 {
		dv2, err := newDecoderV2(lib0.NewDecoder(update))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidUpdate, err)
		}
		d = dv2
	} else {
		d = newDecoderV1(lib0.NewDecoder(update))
	}
	refs, order, roots := readClientsStructRefs(d, structBudget(len(update), v2))
	ds, dsOrder := readDeleteSetOrdered(d)
	if err := d.rest().Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidUpdate, err)
	}
	for c, rl := range refs {
		if len(rl.refs) == 0 {
			delete(refs, c)
		}
	}
	u := &decodedUpdate{refs: refs, order: order, ds: ds, dsOrder: dsOrder, roots: roots}
	if doc != nil {
		doc.bindRoots(u)
	}
	return u, nil
}

// errApplied is returned for an Update that was applied already.
var errApplied = errors.New("yjs: update already applied")

// Update is a V1 update decoded once, so that Doc.Inspect can look at it
// and Doc.ApplyDecoded apply it without reading its bytes again. It can be
// applied once: applying gives its structs to the document.
type Update struct {
	u       *decodedUpdate
	applied bool
}

// DecodeUpdate decodes a V1 update for Doc.Inspect and Doc.ApplyDecoded.
// Errors wrap ErrInvalidUpdate.
func DecodeUpdate(update []byte) (*Update, error) {
	u, err := decodeUpdate(update, nil, false)
	if err != nil {
		return nil, err
	}
	return &Update{u: u}, nil
}

// ApplyDecoded applies u as ApplyUpdate applies the update u was decoded
// from. The root types it names are created as it is applied. Applying u
// a second time returns an error.
func (d *Doc) ApplyDecoded(u *Update, origin any) error {
	if u.applied {
		return errApplied
	}
	u.applied = true
	d.bindRoots(u.u)
	var applyErr error
	d.transact(func(t *Transaction) {
		t.Local = false
		applyErr = d.integrateUpdate(t, u.u)
	}, origin, false)
	return applyErr
}

// bindRoots replaces the root placeholders of u by the doc's root types.
// New ones are created in the order in which the update first names them,
// as yjs creates them while it decodes.
func (d *Doc) bindRoots(u *decodedUpdate) {
	if len(u.roots) == 0 {
		return
	}
	bound := make(map[*branch]*branch, len(u.roots))
	for _, p := range u.roots {
		bound[p], _ = d.get(p.rootName, KindUndefined)
	}
	u.roots = nil
	for _, rl := range u.refs {
		for _, it := range rl.refs {
			if b, ok := bound[it.parent]; ok {
				it.parent = b
			}
		}
	}
}

// ApplyUpdate applies a V1 update, such as one from OnUpdate, SyncStep2 or
// EncodeStateAsUpdate of another document. Structs whose dependencies are
// missing are kept and applied when the dependencies arrive. A malformed
// update returns an error wrapping ErrInvalidUpdate and applies no content,
// though root types it names may have been created, as in yjs. origin is
// given to the transaction.
func (d *Doc) ApplyUpdate(update []byte, origin any) error {
	return d.applyUpdate(update, origin, false)
}

// ApplyUpdateV2 applies an update in the V2 format; see ApplyUpdate.
func (d *Doc) ApplyUpdateV2(update []byte, origin any) error {
	return d.applyUpdate(update, origin, true)
}

func (d *Doc) applyUpdate(update []byte, origin any, v2 bool) error {
	u, err := decodeUpdate(update, d, v2)
	if err != nil {
		return err
	}
	var applyErr error
	d.transact(func(t *Transaction) {
		t.Local = false
		applyErr = d.integrateUpdate(t, u)
	}, origin, false)
	return applyErr
}

func (d *Doc) integrateUpdate(t *Transaction, u *decodedUpdate) error {
	s := d.store
	restUpdate, restMissing := integrateStructs(t, s, u.refs)
	retry := false
	if s.pendingStructs != nil {
		for client, clock := range s.pendingMissing {
			if clock < s.state(client) {
				retry = true
				break
			}
		}
		if restUpdate != nil {
			for client, clock := range restMissing {
				if m, ok := s.pendingMissing[client]; !ok || m > clock {
					s.pendingMissing[client] = clock
				}
			}
			merged, err := MergeUpdates(s.pendingStructs, restUpdate)
			if err != nil {
				return fmt.Errorf("merging pending structs: %w", err)
			}
			s.pendingStructs = merged
		}
	} else if restUpdate != nil {
		s.pendingStructs = restUpdate
		s.pendingMissing = restMissing
	}

	if err := d.applyPendingDeletes(t, u.ds, u.dsOrder); err != nil {
		return err
	}
	if retry {
		pending := s.pendingStructs
		s.pendingStructs, s.pendingMissing = nil, nil
		pu, err := decodeUpdate(pending, d, false)
		if err != nil {
			return fmt.Errorf("decoding pending structs: %w", err)
		}
		return d.integrateUpdate(t, pu)
	}
	return nil
}

func (d *Doc) applyPendingDeletes(t *Transaction, ds DeleteSet, order []uint64) error {
	s := d.store
	dsRest := applyDeleteSet(t, s, ds, order)
	if s.pendingDS == nil {
		s.pendingDS = dsRest
		return nil
	}
	pending, err := decodeUpdate(s.pendingDS, d, false)
	if err != nil {
		return fmt.Errorf("decoding pending deletes: %w", err)
	}
	dsRest2 := applyDeleteSet(t, s, pending.ds, pending.dsOrder)
	switch {
	case dsRest != nil && dsRest2 != nil:
		merged, err := MergeUpdates(dsRest, dsRest2)
		if err != nil {
			return fmt.Errorf("merging pending deletes: %w", err)
		}
		s.pendingDS = merged
	case dsRest != nil:
		s.pendingDS = dsRest
	default:
		s.pendingDS = dsRest2
	}
	return nil
}

// integrateStructs integrates decoded structs, highest client first, and
// follows missing dependencies through an explicit stack. Structs that
// cannot be integrated are returned as a V1 update with the lowest missing
// clock per client.
func integrateStructs(t *Transaction, s *store, refsByClient map[uint64]*refList) ([]byte, StateVector) {
	ids := sortedClientsDesc(refsByClient)
	// ids is used as a stack whose top is the highest client.
	for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
		ids[i], ids[j] = ids[j], ids[i]
	}
	nextTarget := func() *refList {
		for len(ids) > 0 {
			rl := refsByClient[ids[len(ids)-1]]
			if rl != nil && rl.i < len(rl.refs) {
				return rl
			}
			ids = ids[:len(ids)-1]
		}
		return nil
	}
	cur := nextTarget()
	if cur == nil {
		return nil, nil
	}
	rest := map[uint64][]*item{}
	missing := StateVector{}
	updateMissing := func(client, clock uint64) {
		if m, ok := missing[client]; !ok || m > clock {
			missing[client] = clock
		}
	}
	var stack []*item
	state := map[uint64]uint64{}
	addStackToRest := func() {
		for _, it := range stack {
			client := it.id.Client
			if rl := refsByClient[client]; rl != nil {
				rl.i--
				rest[client] = rl.refs[rl.i:]
				delete(refsByClient, client)
				rl.i = 0
				rl.refs = nil
			} else {
				rest[client] = []*item{it}
			}
			kept := ids[:0]
			for _, c := range ids {
				if c != client {
					kept = append(kept, c)
				}
			}
			ids = kept
		}
		stack = stack[:0]
	}

	head := cur.refs[cur.i]
	cur.i++
	for {
		if !head.isSkip() {
			client := head.id.Client
			local, ok := state[client]
			if !ok {
				local = s.state(client)
				state[client] = local
			}
			if local < head.id.Clock {
				// Earlier structs of the same client are missing.
				stack = append(stack, head)
				updateMissing(client, head.id.Clock-1)
				addStackToRest()
			} else if dep, isMissing := head.getMissing(t, s); isMissing {
				stack = append(stack, head)
				rl := refsByClient[dep]
				if rl == nil || rl.i == len(rl.refs) {
					// The update depends on one that has not arrived.
					updateMissing(dep, s.state(dep))
					addStackToRest()
				} else {
					head = rl.refs[rl.i]
					rl.i++
					continue
				}
			} else if offset := int(local - head.id.Clock); offset == 0 || offset < head.length {
				head.integrate(t, offset)
				state[client] = head.id.Clock + uint64(head.length)
			}
		}
		switch {
		case len(stack) > 0:
			head = stack[len(stack)-1]
			stack = stack[:len(stack)-1]
		case cur != nil && cur.i < len(cur.refs):
			head = cur.refs[cur.i]
			cur.i++
		default:
			cur = nextTarget()
			if cur == nil {
				return encodeRest(rest), missing
			}
			head = cur.refs[cur.i]
			cur.i++
		}
	}
}

func encodeRest(rest map[uint64][]*item) []byte {
	if len(rest) == 0 {
		return nil
	}
	e := newEncoderV1()
	e.rest().WriteVarUint(uint64(len(rest)))
	for _, client := range sortedClientsDesc(rest) {
		writeStructSlice(e, rest[client], client)
	}
	e.rest().WriteVarUint(0) // no deletes
	return e.bytes()
}

// applyDeleteSet deletes the ranges of ds the store holds, in the client
// order of the update, and returns the rest as a V1 update without
// structs, or nil.
func applyDeleteSet(t *Transaction, s *store, ds DeleteSet, order []uint64) []byte {
	unapplied := DeleteSet{}
	for _, client := range order {
		state := s.state(client)
		for _, r := range ds[client] {
			end := r.Clock + r.Len
			if r.Clock >= state {
				unapplied.add(client, r.Clock, r.Len)
				continue
			}
			if state < end {
				unapplied.add(client, state, end-state)
			}
			deleteRange(t, s, client, r.Clock, end)
		}
	}
	if len(unapplied) == 0 {
		return nil
	}
	e := newEncoderV1()
	e.rest().WriteVarUint(0)
	writeDeleteSet(e, unapplied)
	return e.bytes()
}

// deleteRange deletes the units [clock, end) of client that the store
// holds, splitting items at both ends.
func deleteRange(t *Transaction, s *store, client, clock, end uint64) {
	l := s.clients[client]
	index := l.findIndex(clock)
	it := l.at(index)
	if !it.deleted() && it.id.Clock < clock {
		l.insert(index+1, it.split(t, int(clock-it.id.Clock)))
		index++
	}
	for index < l.len() {
		it = l.at(index)
		index++
		if it.id.Clock >= end {
			break
		}
		if it.deleted() {
			continue
		}
		if end < it.id.Clock+uint64(it.length) {
			l.insert(index, it.split(t, int(end-it.id.Clock)))
		}
		it.delete(t)
	}
}

// writeStructs writes the structs of client from clock on.
func writeStructs(e updateEncoder, l *structList, client, clock uint64) {
	clock = max(clock, l.at(0).id.Clock)
	start := l.findIndex(clock)
	rest := e.rest()
	rest.WriteVarUint(uint64(l.len() - start))
	e.writeClient(client)
	rest.WriteVarUint(clock)
	offset := int(clock - l.at(start).id.Clock)
	l.each(start, func(it *item) bool {
		it.write(e, offset)
		offset = 0
		return true
	})
}

// writeStructSlice writes decoded structs of client, all of them.
func writeStructSlice(e updateEncoder, structs []*item, client uint64) {
	rest := e.rest()
	n := 0
	for _, it := range structs {
		n += it.structCount(0)
	}
	rest.WriteVarUint(uint64(n))
	e.writeClient(client)
	rest.WriteVarUint(structs[0].id.Clock)
	for _, it := range structs {
		it.write(e, 0)
	}
}

// writeClientsStructs writes every struct the store holds past sv.
func writeClientsStructs(e updateEncoder, s *store, sv StateVector) {
	writeClientsStructsFrom(e, s, func(c uint64) uint64 { return sv[c] })
}

// writeClientsStructsFrom writes the structs of every client past the
// clock that known returns for it.
func writeClientsStructsFrom(e updateEncoder, s *store, known func(uint64) uint64) {
	var from []ID
	for client := range s.clients {
		if clock := known(client); s.state(client) > clock {
			from = append(from, ID{client, clock})
		}
	}
	slices.SortFunc(from, func(a, b ID) int { return cmp.Compare(b.Client, a.Client) })
	e.rest().WriteVarUint(uint64(len(from)))
	for _, f := range from {
		writeStructs(e, s.clients[f.Client], f.Client, f.Clock)
	}
}

// EncodeStateAsUpdate returns a V1 update with everything the document
// holds past sv (nil for everything), the whole delete set, and any
// pending structs and deletes, as yjs's encodeStateAsUpdate does.
func (d *Doc) EncodeStateAsUpdate(sv StateVector) []byte {
	return d.AppendStateAsUpdate(nil, sv)
}

// AppendStateAsUpdate appends EncodeStateAsUpdate(sv) to dst and returns
// the extended slice, so that a message header can precede the update
// without a copy of it.
func (d *Doc) AppendStateAsUpdate(dst []byte, sv StateVector) []byte {
	start := len(dst)
	if len(sv) == 0 && d.stateSize > 0 {
		// The whole state is about as long as last time, so one buffer
		// with some room to grow replaces a series of doublings, whose
		// garbage would be up to three times the state's size.
		dst = slices.Grow(dst, d.stateSize+d.stateSize/16)
	}
	e := &encoderV1{e: lib0.NewEncoder(dst)}
	writeClientsStructs(e, d.store, sv)
	writeDeleteSet(e, d.store.deleteSet())
	out := e.bytes()
	updates := [][]byte{out[start:]}
	if d.store.pendingDS != nil {
		updates = append(updates, d.store.pendingDS)
	}
	if d.store.pendingStructs != nil {
		diff, err := DiffUpdate(d.store.pendingStructs, EncodeStateVector(sv))
		if err == nil {
			updates = append(updates, diff)
		}
	}
	if len(updates) > 1 {
		out = append(out[:start], mergeOwnParts(updates)...)
	}
	if len(sv) == 0 {
		d.stateSize = len(out) - start
	}
	return out
}

// mergeOwnParts merges updates this package encoded itself, the first of
// them the document's state. Decoding rejects whatever would make them
// unmergeable, so all of them merge. Should one fail, it is left out
// rather than the encoding failing.
func mergeOwnParts(updates [][]byte) []byte {
	if merged, err := MergeUpdates(updates...); err == nil {
		return merged
	}
	out := updates[0]
	for _, u := range updates[1:] {
		if merged, err := MergeUpdates(out, u); err == nil {
			out = merged
		}
	}
	return out
}

// EncodeStateAsUpdateV2 is EncodeStateAsUpdate in the V2 format.
func (d *Doc) EncodeStateAsUpdateV2(sv StateVector) []byte {
	if d.store.pendingDS != nil || d.store.pendingStructs != nil {
		// yjs merges the pending parts in V2. Merging in V1 and
		// converting writes the same structs. Should the conversion fail,
		// the pending parts are left out.
		if v2, err := ConvertUpdateV1ToV2(d.EncodeStateAsUpdate(sv)); err == nil {
			return v2
		}
	}
	e := newEncoderV2()
	writeClientsStructs(e, d.store, sv)
	writeDeleteSet(e, d.store.deleteSet())
	return e.bytes()
}

// EncodeStateAsUpdateFrom is EncodeStateAsUpdate with the state vector in
// binary form, as SyncStep1 carries it.
func (d *Doc) EncodeStateAsUpdateFrom(encodedSV []byte) ([]byte, error) {
	sv, err := DecodeStateVector(encodedSV)
	if err != nil {
		return nil, err
	}
	return d.EncodeStateAsUpdate(sv), nil
}

// HasPending reports whether the document holds structs or deletes that
// wait for missing updates.
func (d *Doc) HasPending() bool {
	return d.store.pendingStructs != nil || d.store.pendingDS != nil
}
