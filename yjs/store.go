package yjs

import (
	"cmp"
	"slices"
)

// store is the struct store: for every client, its structs sorted by clock
// without gaps, so a clock is found by binary search.
type store struct {
	clients map[uint64][]*item
	// pendingStructs holds structs that wait for missing dependencies, as a
	// V1 update, with the lowest clock missing per client.
	pendingStructs []byte
	pendingMissing StateVector
	// pendingDS holds deletions of content not received yet, as a V1
	// update without structs.
	pendingDS []byte
}

func newStore() *store {
	return &store{clients: map[uint64][]*item{}}
}

// state returns the next clock expected from client.
func (s *store) state(client uint64) uint64 {
	structs := s.clients[client]
	if len(structs) == 0 {
		return 0
	}
	last := structs[len(structs)-1]
	return last.id.Clock + uint64(last.length)
}

// stateVector returns the state of every client.
func (s *store) stateVector() StateVector {
	sv := make(StateVector, len(s.clients))
	for client := range s.clients {
		sv[client] = s.state(client)
	}
	return sv
}

// clockVector is a state vector as a slice sorted by client: a
// transaction takes two of them, and a slice is cheaper than a map for the
// few clients a document usually has.
type clockVector []ID

func (s *store) clockVector() clockVector {
	v := make(clockVector, 0, len(s.clients))
	for client := range s.clients {
		v = append(v, ID{client, s.state(client)})
	}
	slices.SortFunc(v, func(a, b ID) int { return cmp.Compare(a.Client, b.Client) })
	return v
}

// get returns the clock of client, 0 when absent.
func (v clockVector) get(client uint64) uint64 {
	i, ok := slices.BinarySearchFunc(v, client, func(id ID, c uint64) int { return cmp.Compare(id.Client, c) })
	if !ok {
		return 0
	}
	return v[i].Clock
}

func (v clockVector) stateVector() StateVector {
	sv := make(StateVector, len(v))
	for _, id := range v {
		sv[id.Client] = id.Clock
	}
	return sv
}

// add appends a struct that continues its client's clock.
func (s *store) add(it *item) {
	structs := s.clients[it.id.Client]
	if n := len(structs); n > 0 {
		last := structs[n-1]
		if last.id.Clock+uint64(last.length) != it.id.Clock {
			panic("yjs: struct added out of order")
		}
	}
	s.clients[it.id.Client] = append(structs, it)
}

// findIndex returns the index of the struct containing clock. It starts
// with a guess from the clock's share of the total, as most lookups are
// near the end or spread evenly.
func findIndex(structs []*item, clock uint64) int {
	left, right := 0, len(structs)-1
	last := structs[right]
	if last.id.Clock == clock {
		return right
	}
	mid := int(float64(clock) / float64(last.id.Clock+uint64(last.length)-1) * float64(right))
	for left <= right {
		if mid < left || mid > right {
			mid = (left + right) / 2
		}
		s := structs[mid]
		if s.id.Clock <= clock {
			if clock < s.id.Clock+uint64(s.length) {
				return mid
			}
			left = mid + 1
		} else {
			right = mid - 1
		}
		mid = (left + right) / 2
	}
	panic("yjs: clock not in store")
}

// find returns the struct that contains id. The caller must know that the
// store holds id.
func (s *store) find(id ID) *item {
	structs := s.clients[id.Client]
	return structs[findIndex(structs, id.Clock)]
}

// findIndexCleanStart returns the index of the struct that starts at clock,
// splitting the Item that contains it if needed.
func (s *store) findIndexCleanStart(t *Transaction, client uint64, clock uint64) int {
	structs := s.clients[client]
	i := findIndex(structs, clock)
	it := structs[i]
	if it.id.Clock < clock && !it.isGC() {
		right := it.split(t, int(clock-it.id.Clock))
		s.clients[client] = slices.Insert(structs, i+1, right)
		return i + 1
	}
	return i
}

// getItemCleanStart returns the struct starting at id, splitting as needed.
func (s *store) getItemCleanStart(t *Transaction, id ID) *item {
	i := s.findIndexCleanStart(t, id.Client, id.Clock)
	return s.clients[id.Client][i]
}

// getItemCleanEnd returns the struct ending at id, splitting as needed.
func (s *store) getItemCleanEnd(t *Transaction, id ID) *item {
	structs := s.clients[id.Client]
	i := findIndex(structs, id.Clock)
	it := structs[i]
	if id.Clock != it.id.Clock+uint64(it.length)-1 && !it.isGC() {
		right := it.split(t, int(id.Clock-it.id.Clock)+1)
		s.clients[id.Client] = slices.Insert(structs, i+1, right)
	}
	return it
}

// iterateStructs calls f for every struct overlapping [clock, clock+n),
// splitting structs at both ends first.
func (s *store) iterateStructs(t *Transaction, client uint64, clock, n uint64, f func(*item)) {
	if n == 0 {
		return
	}
	end := clock + n
	i := s.findIndexCleanStart(t, client, clock)
	for {
		it := s.clients[client][i]
		i++
		if end < it.id.Clock+uint64(it.length) {
			s.findIndexCleanStart(t, client, end)
		}
		f(it)
		structs := s.clients[client]
		if i >= len(structs) || structs[i].id.Clock >= end {
			return
		}
	}
}

// deleteSet returns the delete set of everything deleted in the store.
func (s *store) deleteSet() DeleteSet {
	ds := DeleteSet{}
	for client, structs := range s.clients {
		var ranges []DeleteRange
		for i := 0; i < len(structs); i++ {
			it := structs[i]
			if !it.deleted() {
				continue
			}
			r := DeleteRange{it.id.Clock, uint64(it.length)}
			for i+1 < len(structs) && structs[i+1].deleted() {
				i++
				r.Len += uint64(structs[i].length)
			}
			ranges = append(ranges, r)
		}
		if len(ranges) > 0 {
			ds[client] = ranges
		}
	}
	return ds
}
