package yjs

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/jupygo/jupygo/yjs/lib0"
)

// DeleteRange is a run of Len deleted units of one client starting at Clock.
type DeleteRange struct {
	Clock uint64
	Len   uint64
}

// DeleteSet records deleted content per client. After normalize, the ranges
// of each client are sorted by clock, disjoint and not adjacent.
type DeleteSet map[uint64][]DeleteRange

func (ds DeleteSet) add(client, clock, length uint64) {
	ds[client] = append(ds[client], DeleteRange{clock, length})
}

// normalize sorts each client's ranges and merges overlapping or adjacent
// ones, as yjs does before writing a delete set.
func (ds DeleteSet) normalize() {
	for client, rs := range ds {
		slices.SortFunc(rs, func(a, b DeleteRange) int { return cmp.Compare(a.Clock, b.Clock) })
		j := 0
		for i := 1; i < len(rs); i++ {
			left := &rs[j]
			if left.Clock+left.Len >= rs[i].Clock {
				left.Len = max(left.Len, rs[i].Clock+rs[i].Len-left.Clock)
				continue
			}
			j++
			rs[j] = rs[i]
		}
		if len(rs) > 0 {
			ds[client] = rs[:j+1]
		}
	}
}

// Contains reports whether id lies in a deleted range. ds must be
// normalized.
func (ds DeleteSet) Contains(id ID) bool {
	rs := ds[id.Client]
	i, found := slices.BinarySearchFunc(rs, id.Clock, func(r DeleteRange, clock uint64) int {
		return cmp.Compare(r.Clock, clock)
	})
	if found {
		return true
	}
	return i > 0 && id.Clock < rs[i-1].Clock+rs[i-1].Len
}

// mergeDeleteSets returns the normalized union of sets.
func mergeDeleteSets(sets ...DeleteSet) DeleteSet {
	out := DeleteSet{}
	for _, ds := range sets {
		for client, rs := range ds {
			out[client] = append(out[client], rs...)
		}
	}
	out.normalize()
	return out
}

// writeDeleteSet writes ds in descending client order. Clients without
// ranges are written with a count of zero, as yjs writes them.
func writeDeleteSet(e updateEncoder, ds DeleteSet) {
	rest := e.rest()
	rest.WriteVarUint(uint64(len(ds)))
	for _, client := range sortedClientsDesc(ds) {
		e.resetDsCurVal()
		rest.WriteVarUint(client)
		rs := ds[client]
		rest.WriteVarUint(uint64(len(rs)))
		for _, r := range rs {
			e.writeDsClock(r.Clock)
			e.writeDsLen(r.Len)
		}
	}
}

// readDeleteSet reads a delete set. Clients with no ranges are dropped.
func readDeleteSet(d updateDecoder) DeleteSet {
	ds, _ := readDeleteSetOrdered(d)
	return ds
}

// readDeleteSetOrdered reads a delete set and the order of its clients.
// A range ending past 2^53-1 fails the decoder. Zero-length ranges are
// dropped.
func readDeleteSetOrdered(d updateDecoder) (DeleteSet, []uint64) {
	rest := d.rest()
	ds := DeleteSet{}
	var order []uint64
	n := rest.ReadLen(2)
	for i := 0; i < n && rest.Err() == nil; i++ {
		d.resetDsCurVal()
		client := rest.ReadVarUint()
		count := rest.ReadLen(1)
		for j := 0; j < count && rest.Err() == nil; j++ {
			clock := d.readDsClock()
			length := d.readDsLen()
			if rest.Err() == nil && (clock > lib0.MaxSafeInteger || length > lib0.MaxSafeInteger-clock) {
				rest.Fail(fmt.Errorf("delete range of client %d at clock %d with length %d ends past 2^53-1: %w",
					client, clock, length, lib0.ErrIntegerRange))
			}
			// A zero-length range deletes nothing, and yjs's V2 encoder
			// throws on one.
			if rest.Err() == nil && length > 0 {
				if _, ok := ds[client]; !ok {
					order = append(order, client)
				}
				ds.add(client, clock, length)
			}
		}
	}
	return ds, order
}

// EncodeDeleteSet returns ds in the V1 binary form that ends every update.
func EncodeDeleteSet(ds DeleteSet) []byte {
	e := newEncoderV1()
	writeDeleteSet(e, ds)
	return e.bytes()
}

// DecodeDeleteSet parses a V1 binary delete set.
func DecodeDeleteSet(b []byte) (DeleteSet, error) {
	d := newDecoderV1(lib0.NewDecoder(b))
	ds := readDeleteSet(d)
	if err := d.rest().Err(); err != nil {
		return nil, fmt.Errorf("decoding delete set: %w", err)
	}
	return ds, nil
}
