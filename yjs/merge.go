package yjs

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/jupygo/jupygo/yjs/lib0"
)

// Updates can be merged, diffed and inspected without a Doc. The functions
// here follow yjs's updates.js step for step, so their output is byte for
// byte yjs's. Structs are written by descending client and ascending
// clock, overlaps are cut away, and gaps become Skip structs (ref 10).
// Only adjacent GC structs, or adjacent Skips, are joined.

// decodeUpdateStructs decodes an update without a document: the structs in
// the order the update lists them, and its delete set.
func decodeUpdateStructs(update []byte, v2 bool) ([]*item, DeleteSet, error) {
	u, err := decodeUpdate(update, nil, v2)
	if err != nil {
		return nil, nil, err
	}
	var structs []*item
	for _, c := range u.order {
		if rl := u.refs[c]; rl != nil {
			structs = append(structs, rl.refs...)
		}
	}
	return structs, u.ds, nil
}

type structReader struct {
	structs     []*item
	i           int
	cur         *item
	filterSkips bool
}

func newStructReader(structs []*item, filterSkips bool) *structReader {
	r := &structReader{structs: structs, filterSkips: filterSkips}
	r.next()
	return r
}

func (r *structReader) next() *item {
	for {
		if r.i >= len(r.structs) {
			r.cur = nil
			return nil
		}
		r.cur = r.structs[r.i]
		r.i++
		if !r.filterSkips || !r.cur.isSkip() {
			return r.cur
		}
	}
}

// lazyWriter writes structs as per-client blocks into an encoder. Only
// the rest stream is kept per block, because a block's struct count comes
// first and is known only at the end; V2's columns run across blocks.
type lazyWriter struct {
	enc     updateEncoder
	blocks  []lazyBlock
	client  uint64
	written int
}

type lazyBlock struct {
	written int
	data    []byte
}

func newLazyWriter(enc updateEncoder) *lazyWriter { return &lazyWriter{enc: enc} }

func (w *lazyWriter) write(it *item, offset int) {
	if w.written > 0 && w.client != it.id.Client {
		w.flush()
	}
	if w.written == 0 {
		w.client = it.id.Client
		w.enc.writeClient(it.id.Client)
		w.enc.rest().WriteVarUint(it.id.Clock + uint64(offset))
	}
	it.write(w.enc, offset)
	w.written += it.structCount(offset)
}

func (w *lazyWriter) flush() {
	if w.written > 0 {
		w.blocks = append(w.blocks, lazyBlock{w.written, w.enc.rest().Bytes()})
		w.enc.setRest(&lib0.Encoder{})
		w.written = 0
	}
}

// finish writes the block count and the blocks; the delete set follows.
func (w *lazyWriter) finish() {
	w.flush()
	rest := w.enc.rest()
	rest.WriteVarUint(uint64(len(w.blocks)))
	for _, b := range w.blocks {
		rest.WriteVarUint(uint64(b.written))
		rest.WriteBytes(b.data)
	}
}

func newUpdateEncoder(v2 bool) updateEncoder {
	if v2 {
		return newEncoderV2()
	}
	return newEncoderV1()
}

func end(it *item) uint64 { return it.id.Clock + uint64(it.length) }

// sliceStruct returns the part of a decoded struct from diff units on.
func sliceStruct(it *item, diff int) *item {
	id := ID{it.id.Client, it.id.Clock + uint64(diff)}
	switch {
	case it.isGC():
		return newGC(id, it.length-diff)
	case it.isSkip():
		return newSkip(id, it.length-diff)
	}
	s := *it
	s.id = id
	s.length = it.length - diff
	s.setOrigin(ID{it.id.Client, id.Clock - 1})
	s.content = it.content.splice(diff)
	return &s
}

// MergeUpdates merges V1 updates into one V1 update that holds everything
// any of them holds. A single update is returned unchanged, as yjs returns
// it. The result may contain Skip structs where the inputs have gaps.
func MergeUpdates(updates ...[]byte) ([]byte, error) {
	return mergeUpdates(updates, false)
}

// MergeUpdatesV2 merges V2 updates into one V2 update; see MergeUpdates.
func MergeUpdatesV2(updates ...[]byte) ([]byte, error) {
	return mergeUpdates(updates, true)
}

func mergeUpdates(updates [][]byte, v2 bool) ([]byte, error) {
	if len(updates) == 1 {
		return updates[0], nil
	}
	var readers []*structReader
	var dss []DeleteSet
	for i, u := range updates {
		structs, ds, err := decodeUpdateStructs(u, v2)
		if err != nil {
			return nil, fmt.Errorf("merging update %d: %w", i, err)
		}
		readers = append(readers, newStructReader(structs, true))
		dss = append(dss, ds)
	}
	e := newUpdateEncoder(v2)
	w := newLazyWriter(e)
	var cw *item // the struct being written
	for {
		readers = slices.DeleteFunc(readers, func(r *structReader) bool { return r.cur == nil })
		if len(readers) == 0 {
			break
		}
		slices.SortStableFunc(readers, compareReaders)
		r := readers[0]
		firstClient := r.cur.id.Client
		if cw != nil {
			var skip bool
			cw, skip = mergeNext(w, r, cw, firstClient)
			if skip {
				continue
			}
		} else {
			cw = r.cur
			r.next()
		}
		for next := r.cur; next != nil && next.id.Client == firstClient &&
			next.id.Clock == end(cw) && !next.isSkip(); next = r.next() {
			w.write(cw, 0)
			cw = next
		}
	}
	if cw != nil {
		w.write(cw, 0)
	}
	w.finish()
	writeDeleteSet(e, mergeDeleteSets(dss...))
	return e.bytes(), nil
}

// compareReaders orders readers by descending client, then ascending clock.
func compareReaders(a, b *structReader) int {
	if a.cur.id.Client != b.cur.id.Client {
		return cmp.Compare(b.cur.id.Client, a.cur.id.Client)
	}
	if c := cmp.Compare(a.cur.id.Clock, b.cur.id.Clock); c != 0 {
		return c
	}
	switch {
	case a.cur.isSkip() == b.cur.isSkip():
		return 0
	case a.cur.isSkip():
		return 1
	}
	return -1
}

// mergeNext continues the merge with reader r while cw is being written.
// It reports skip when the readers must be sorted again first.
func mergeNext(w *lazyWriter, r *structReader, cw *item, firstClient uint64) (*item, bool) {
	curr := r.cur
	iterated := false
	// Skip what was written already; higher clients were written first.
	for curr != nil && end(curr) <= end(cw) && curr.id.Client >= cw.id.Client {
		curr = r.next()
		iterated = true
	}
	if curr == nil || curr.id.Client != firstClient || iterated && curr.id.Clock > end(cw) {
		return cw, true
	}
	if firstClient != cw.id.Client {
		w.write(cw, 0)
		r.next()
		return curr, false
	}
	if end(cw) < curr.id.Clock {
		if cw.isSkip() {
			cw.length = int(end(curr) - cw.id.Clock)
			return cw, false
		}
		w.write(cw, 0)
		return newSkip(ID{firstClient, end(cw)}, int(curr.id.Clock-end(cw))), false
	}
	if diff := int(end(cw) - curr.id.Clock); diff > 0 {
		if cw.isSkip() {
			cw.length -= diff
		} else {
			curr = sliceStruct(curr, diff)
		}
	}
	if !cw.mergeWith(curr) {
		w.write(cw, 0)
		r.next()
		return curr, false
	}
	return cw, false
}

// DiffUpdate returns the part of a V1 update that a peer with the binary
// state vector sv lacks. The whole delete set is kept.
func DiffUpdate(update, sv []byte) ([]byte, error) {
	return diffUpdate(update, sv, false)
}

// DiffUpdateV2 is DiffUpdate for V2 updates.
func DiffUpdateV2(update, sv []byte) ([]byte, error) {
	return diffUpdate(update, sv, true)
}

func diffUpdate(update, svBytes []byte, v2 bool) ([]byte, error) {
	state, err := DecodeStateVector(svBytes)
	if err != nil {
		return nil, err
	}
	structs, ds, err := decodeUpdateStructs(update, v2)
	if err != nil {
		return nil, fmt.Errorf("diffing update: %w", err)
	}
	e := newUpdateEncoder(v2)
	w := newLazyWriter(e)
	r := newStructReader(structs, false)
	for r.cur != nil {
		curr := r.cur
		client := curr.id.Client
		svClock := state[client]
		if curr.isSkip() {
			r.next()
			continue
		}
		if end(curr) > svClock {
			offset := 0
			if svClock > curr.id.Clock {
				offset = int(svClock - curr.id.Clock)
			}
			w.write(curr, offset)
			for r.next(); r.cur != nil && r.cur.id.Client == client; r.next() {
				w.write(r.cur, 0)
			}
			continue
		}
		for r.cur != nil && r.cur.id.Client == client && end(r.cur) <= svClock {
			r.next()
		}
	}
	w.finish()
	writeDeleteSet(e, ds)
	return e.bytes(), nil
}

// ConvertUpdateV2ToV1 re-encodes a V2 update in the V1 format.
func ConvertUpdateV2ToV1(update []byte) ([]byte, error) {
	return convertUpdate(update, true, newEncoderV1())
}

// ConvertUpdateV1ToV2 re-encodes a V1 update in the V2 format.
func ConvertUpdateV1ToV2(update []byte) ([]byte, error) {
	return convertUpdate(update, false, newEncoderV2())
}

func convertUpdate(update []byte, fromV2 bool, e updateEncoder) ([]byte, error) {
	structs, ds, err := decodeUpdateStructs(update, fromV2)
	if err != nil {
		return nil, err
	}
	w := newLazyWriter(e)
	for _, it := range structs {
		w.write(it, 0)
	}
	w.finish()
	writeDeleteSet(e, ds)
	return e.bytes(), nil
}

// EncodeStateVectorFromUpdate returns the binary state vector of what a V1
// update holds from clock 0 on without gaps, as yjs computes it.
func EncodeStateVectorFromUpdate(update []byte) ([]byte, error) {
	structs, _, err := decodeUpdateStructs(update, false)
	if err != nil {
		return nil, err
	}
	type entry struct{ client, clock uint64 }
	var entries []entry
	if len(structs) > 0 {
		client := structs[0].id.Client
		stop := structs[0].id.Clock != 0
		var clock uint64
		if !stop {
			clock = end(structs[0])
		}
		for _, it := range structs {
			if it.id.Client != client {
				if clock != 0 {
					entries = append(entries, entry{client, clock})
				}
				client, clock = it.id.Client, 0
				stop = it.id.Clock != 0
			}
			if it.isSkip() {
				stop = true
			}
			if !stop {
				clock = end(it)
			}
		}
		if clock != 0 {
			entries = append(entries, entry{client, clock})
		}
	}
	e := &lib0.Encoder{}
	e.WriteVarUint(uint64(len(entries)))
	for _, en := range entries {
		e.WriteVarUint(en.client)
		e.WriteVarUint(en.clock)
	}
	return e.Bytes(), nil
}

// UpdateMeta gives, per client, the first clock and the clock after the
// last struct of an update.
type UpdateMeta struct {
	From StateVector
	To   StateVector
}

// ParseUpdateMeta returns the clock ranges a V1 update covers.
func ParseUpdateMeta(update []byte) (UpdateMeta, error) {
	structs, _, err := decodeUpdateStructs(update, false)
	if err != nil {
		return UpdateMeta{}, err
	}
	meta := UpdateMeta{From: StateVector{}, To: StateVector{}}
	if len(structs) == 0 {
		return meta, nil
	}
	client := structs[0].id.Client
	clock := structs[0].id.Clock
	meta.From[client] = clock
	for _, it := range structs {
		if it.id.Client != client {
			meta.To[client] = clock
			meta.From[it.id.Client] = it.id.Clock
			client = it.id.Client
		}
		clock = end(it)
	}
	meta.To[client] = clock
	return meta, nil
}
