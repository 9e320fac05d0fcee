package yjs

import "slices"

// structList is one client's structs in clock order. It stores them in
// chunks, so inserting or removing a struct in the middle moves at most a
// chunk and not the whole history. Splitting an old item and merging it
// back are common, and copying long pointer slices is slow while the
// garbage collector runs.
type structList struct {
	chunks [][]*item
	offs   []int // offs[c] is the index of chunks[c][0]
	n      int
}

const chunkSize = 128

func (l *structList) len() int { return l.n }

func (l *structList) last() *item {
	c := l.chunks[len(l.chunks)-1]
	return c[len(c)-1]
}

// locate returns the chunk and offset of index i.
func (l *structList) locate(i int) (int, int) {
	last := len(l.chunks) - 1
	if i >= l.offs[last] {
		return last, i - l.offs[last]
	}
	lo, hi := 0, last
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if l.offs[mid] <= i {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo, i - l.offs[lo]
}

func (l *structList) at(i int) *item {
	c, j := l.locate(i)
	return l.chunks[c][j]
}

func (l *structList) set(i int, it *item) {
	c, j := l.locate(i)
	l.chunks[c][j] = it
}

func (l *structList) push(it *item) {
	if n := len(l.chunks); n == 0 || len(l.chunks[n-1]) >= chunkSize {
		l.chunks = append(l.chunks, make([]*item, 0, chunkSize))
		l.offs = append(l.offs, l.n)
	}
	last := len(l.chunks) - 1
	l.chunks[last] = append(l.chunks[last], it)
	l.n++
}

// insert puts it at index i, shifting later structs.
func (l *structList) insert(i int, it *item) {
	if i == l.n {
		l.push(it)
		return
	}
	c, j := l.locate(i)
	l.chunks[c] = slices.Insert(l.chunks[c], j, it)
	l.n++
	if len(l.chunks[c]) >= 2*chunkSize {
		full := l.chunks[c]
		left := slices.Clip(full[:chunkSize])
		right := append(make([]*item, 0, chunkSize), full[chunkSize:]...)
		l.chunks[c] = left
		l.chunks = slices.Insert(l.chunks, c+1, right)
		l.offs = slices.Insert(l.offs, c+1, 0)
	}
	l.reindex(c)
}

// remove deletes the structs at indexes [i, j).
func (l *structList) remove(i, j int) {
	for j > i {
		c, start := l.locate(j - 1)
		from := max(start-(j-1-i), 0)
		l.chunks[c] = slices.Delete(l.chunks[c], from, start+1)
		removed := start + 1 - from
		l.n -= removed
		j -= removed
		if len(l.chunks[c]) == 0 && len(l.chunks) > 1 {
			l.chunks = slices.Delete(l.chunks, c, c+1)
			l.offs = slices.Delete(l.offs, c, c+1)
		}
		l.reindex(max(c-1, 0))
	}
}

// reindex recomputes the chunk offsets from chunk c on.
func (l *structList) reindex(c int) {
	off := 0
	if c > 0 {
		off = l.offs[c-1] + len(l.chunks[c-1])
	}
	for ; c < len(l.chunks); c++ {
		l.offs[c] = off
		off += len(l.chunks[c])
	}
}

// findIndex returns the index of the struct containing clock; the caller
// must know that the list holds clock.
func (l *structList) findIndex(clock uint64) int {
	lo, hi := 0, len(l.chunks)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if l.chunks[mid][0].id.Clock <= clock {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return l.offs[lo] + findIndex(l.chunks[lo], clock)
}

// each calls f for the structs from index i on until f returns false.
func (l *structList) each(i int, f func(*item) bool) {
	if i >= l.n {
		return
	}
	c, j := l.locate(i)
	for ; c < len(l.chunks); c++ {
		for _, it := range l.chunks[c][j:] {
			if !f(it) {
				return
			}
		}
		j = 0
	}
}
