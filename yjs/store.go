package yjs

import (
	"cmp"
	"slices"
)

// store is the struct store: for every client, its structs sorted by clock
// without gaps, so a clock is found by binary search.
type store struct {
	clients map[uint64]*structList
	// order lists the clients in the order their first struct arrived,
	// the iteration order of yjs's state vectors.
	order []uint64
	// pendingStructs holds structs that wait for missing dependencies, as a
	// V1 update, with the lowest clock missing per client.
	pendingStructs []byte
	pendingMissing StateVector
	// pendingDS holds deletions of content not received yet, as a V1
	// update without structs.
	pendingDS []byte
}

func newStore() *store {
	return &store{clients: map[uint64]*structList{}}
}

// state returns the next clock expected from client.
func (s *store) state(client uint64) uint64 {
	l := s.clients[client]
	if l == nil || l.len() == 0 {
		return 0
	}
	last := l.last()
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
	l := s.clients[it.id.Client]
	if l == nil {
		l = &structList{}
		s.clients[it.id.Client] = l
		s.order = append(s.order, it.id.Client)
	} else if s.state(it.id.Client) != it.id.Clock {
		panic("yjs: struct added out of order")
	}
	l.push(it)
}

// findIndex returns the index of the struct containing clock in structs,
// a run of consecutive structs. It starts with a guess from the clock's
// share of the run, as clocks are often spread evenly.
func findIndex(structs []*item, clock uint64) int {
	left, right := 0, len(structs)-1
	last := structs[right]
	if last.id.Clock == clock {
		return right
	}
	first := structs[0].id.Clock
	mid := 0
	if span := last.id.Clock + uint64(last.length) - 1 - first; span > 0 && clock >= first {
		mid = int(float64(clock-first) / float64(span) * float64(right))
	}
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
	l := s.clients[id.Client]
	return l.at(l.findIndex(id.Clock))
}

// findIndexCleanStart returns the index of the struct that starts at clock,
// splitting the Item that contains it if needed.
func (s *store) findIndexCleanStart(t *Transaction, client uint64, clock uint64) int {
	l := s.clients[client]
	i := l.findIndex(clock)
	it := l.at(i)
	if it.id.Clock < clock && !it.isGC() {
		l.insert(i+1, it.split(t, int(clock-it.id.Clock)))
		return i + 1
	}
	return i
}

// getItemCleanStart returns the struct starting at id, splitting as needed.
func (s *store) getItemCleanStart(t *Transaction, id ID) *item {
	i := s.findIndexCleanStart(t, id.Client, id.Clock)
	return s.clients[id.Client].at(i)
}

// getItemCleanEnd returns the struct ending at id, splitting as needed.
func (s *store) getItemCleanEnd(t *Transaction, id ID) *item {
	l := s.clients[id.Client]
	i := l.findIndex(id.Clock)
	it := l.at(i)
	if id.Clock != it.id.Clock+uint64(it.length)-1 && !it.isGC() {
		l.insert(i+1, it.split(t, int(id.Clock-it.id.Clock)+1))
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
	l := s.clients[client]
	i := s.findIndexCleanStart(t, client, clock)
	for {
		it := l.at(i)
		i++
		if end < it.id.Clock+uint64(it.length) {
			s.findIndexCleanStart(t, client, end)
		}
		f(it)
		if i >= l.len() || l.at(i).id.Clock >= end {
			return
		}
	}
}

// deleteSet returns the delete set of everything deleted in the store.
func (s *store) deleteSet() DeleteSet {
	ds := DeleteSet{}
	for client, l := range s.clients {
		var ranges []DeleteRange
		open := false // whether the last range is still being extended
		l.each(0, func(it *item) bool {
			switch {
			case !it.deleted():
				open = false
			case open:
				ranges[len(ranges)-1].Len += uint64(it.length)
			default:
				ranges = append(ranges, DeleteRange{it.id.Clock, uint64(it.length)})
				open = true
			}
			return true
		})
		if len(ranges) > 0 {
			ds[client] = ranges
		}
	}
	return ds
}
