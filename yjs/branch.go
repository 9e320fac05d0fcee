package yjs

import (
	"errors"
	"slices"
)

// Kind is the kind of a shared type, numbered as the type references of
// the update format.
type Kind uint8

// The kinds of shared types. KindUndefined is a root type that an update
// created before the application asked for it with a kind.
const (
	KindArray       Kind = 0
	KindMap         Kind = 1
	KindText        Kind = 2
	KindXMLElement  Kind = 3
	KindXMLFragment Kind = 4
	KindXMLHook     Kind = 5
	KindXMLText     Kind = 6
	KindUndefined   Kind = 255
)

var (
	errInvalidContentRef = errors.New("invalid content reference")
	errInvalidTypeRef    = errors.New("invalid type reference")
	// ErrLengthExceeded is returned for positions past the end of a list
	// or text.
	ErrLengthExceeded = errors.New("length exceeded")
)

// branch is the state every shared type has, yjs's AbstractType: a list of
// items from start, the current item of every map key, and the item that
// holds the type when it is nested. A document holds one for every nested
// type, so what most types never use (map keys, search markers, observers)
// is allocated on first use.
type branch struct {
	kind Kind
	// hasFormatting is set once a format item was integrated.
	hasFormatting bool
	doc           *Doc
	item          *item
	m             *keyMap // nil: no key set yet
	start         *item
	length        int
	// markers is nil until the first index lookup of an Array, Text or
	// XMLText, and stays nil once the type has formatting.
	markers   *searchMarkers
	name      string // node name of an XML element or hook
	rootName  string
	observers *observers // nil: none registered yet
	wrapper   any
}

// observers is the functions registered on a type.
type observers struct {
	direct, deep []*observer
}

// keyMap is the current item of every map key of a type, in the order the
// keys were first set, which is the order a JavaScript Map iterates them.
// Most types have a few keys, which a scan finds as fast as a hash, so an
// index is built only past keyMapScan keys.
type keyMap struct {
	entries []mapEntry
	index   map[string]int
}

type mapEntry struct {
	key string
	it  *item
}

const keyMapScan = 16

func (m *keyMap) find(key string) int {
	if m.index != nil {
		if i, ok := m.index[key]; ok {
			return i
		}
		return -1
	}
	for i := range m.entries {
		if m.entries[i].key == key {
			return i
		}
	}
	return -1
}

func (m *keyMap) set(key string, it *item) {
	if i := m.find(key); i >= 0 {
		m.entries[i].it = it
		return
	}
	m.entries = append(m.entries, mapEntry{key, it})
	switch {
	case m.index != nil:
		m.index[key] = len(m.entries) - 1
	case len(m.entries) > keyMapScan:
		m.index = make(map[string]int, len(m.entries))
		for i, e := range m.entries {
			m.index[e.key] = i
		}
	}
}

func newBranch(kind Kind) *branch {
	return &branch{kind: kind}
}

// mapItem returns the current item of key, nil when the key was never set.
func (b *branch) mapItem(key string) *item {
	if b.m == nil {
		return nil
	}
	if i := b.m.find(key); i >= 0 {
		return b.m.entries[i].it
	}
	return nil
}

// mapItems returns the keys with their current items in insertion order.
// The caller must not keep the slice past a change of the type.
func (b *branch) mapItems() []mapEntry {
	if b.m == nil {
		return nil
	}
	return b.m.entries
}

// searchMarkers returns the search markers of the type, allocating them on
// first use, or nil for a type without them.
func (b *branch) searchMarkers() *searchMarkers {
	if b.markers == nil && !b.hasFormatting &&
		(b.kind == KindArray || b.kind == KindText || b.kind == KindXMLText) {
		b.markers = &searchMarkers{}
	}
	return b.markers
}

func (b *branch) integrate(doc *Doc, it *item) {
	b.doc = doc
	b.item = it
}

func (b *branch) setMapEntry(key string, it *item) {
	if b.m == nil {
		b.m = &keyMap{}
	}
	b.m.set(key, it)
}

// shared returns the public value for the branch: *Map, *Array, *Text,
// *XMLElement, *XMLFragment, *XMLHook or *XMLText.
func (b *branch) shared() any {
	if b.wrapper != nil {
		return b.wrapper
	}
	switch b.kind {
	case KindArray:
		b.wrapper = &Array{b}
	case KindMap:
		b.wrapper = &Map{b}
	case KindText:
		b.wrapper = &Text{b}
	case KindXMLElement:
		b.wrapper = &XMLElement{b}
	case KindXMLFragment:
		b.wrapper = &XMLFragment{b}
	case KindXMLHook:
		b.wrapper = &XMLHook{b}
	case KindXMLText:
		b.wrapper = &XMLText{b}
	default:
		return nil
	}
	return b.wrapper
}

// mapGet returns the value of key and whether it is set.
func (b *branch) mapGet(key string) (any, bool) {
	it := b.mapItem(key)
	if it == nil || it.deleted() {
		return nil, false
	}
	vals := it.content.values()
	if len(vals) == 0 {
		return nil, false
	}
	return vals[len(vals)-1], true
}

// listValues returns the values of all undeleted countable items.
func (b *branch) listValues() []any {
	var out []any
	for n := b.start; n != nil; n = n.right {
		if n.visibleCountable() {
			out = append(out, n.content.values()...)
		}
	}
	return out
}

// searchMarkers caches positions of items in a list so that index lookups
// start near their target. The algorithm follows yjs exactly, including
// where markers move, because the item a lookup stops at decides the
// origins of inserted items and so the bytes of the document.
type searchMarkers struct {
	list  []*marker
	clock uint64
}

type marker struct {
	p         *item
	index     int
	timestamp uint64
}

const maxSearchMarkers = 80

func (s *searchMarkers) tick() uint64 {
	s.clock++
	return s.clock
}

func (s *searchMarkers) overwrite(m *marker, p *item, index int) {
	m.p.flags &^= flagMarker
	m.p = p
	p.flags |= flagMarker
	m.index = index
	m.timestamp = s.tick()
}

func (s *searchMarkers) markPosition(p *item, index int) *marker {
	if len(s.list) >= maxSearchMarkers {
		oldest := s.list[0]
		for _, m := range s.list[1:] {
			if m.timestamp < oldest.timestamp {
				oldest = m
			}
		}
		s.overwrite(oldest, p, index)
		return oldest
	}
	p.flags |= flagMarker
	m := &marker{p: p, index: index, timestamp: s.tick()}
	s.list = append(s.list, m)
	return m
}

// findMarker returns a marker at or near index, moved onto an item that
// cannot be merged with its left neighbour, or nil when markers are off.
func (b *branch) findMarker(index int) *marker {
	if b.start == nil || index == 0 {
		return nil
	}
	s := b.searchMarkers()
	if s == nil {
		return nil
	}
	var m *marker
	for _, c := range s.list {
		if m == nil || !(abs(index-m.index) < abs(index-c.index)) {
			m = c
		}
	}
	p := b.start
	pindex := 0
	if m != nil {
		p = m.p
		pindex = m.index
		m.timestamp = s.tick()
	}
	for p.right != nil && pindex < index {
		if p.visibleCountable() {
			if index < pindex+p.length {
				break
			}
			pindex += p.length
		}
		p = p.right
	}
	for p.left != nil && pindex > index {
		p = p.left
		if p.visibleCountable() {
			pindex -= p.length
		}
	}
	for p.left != nil && p.left.id.Client == p.id.Client &&
		p.left.id.Clock+uint64(p.left.length) == p.id.Clock {
		p = p.left
		if p.visibleCountable() {
			pindex -= p.length
		}
	}
	if m != nil && float64(abs(m.index-pindex)) < float64(p.parent.length)/maxSearchMarkers {
		s.overwrite(m, p, pindex)
		return m
	}
	return s.markPosition(p, pindex)
}

// updateMarkerChanges shifts markers after an insertion (n > 0) or a
// deletion (n < 0) at index. It must run before a deletion is applied.
func (s *searchMarkers) updateMarkerChanges(index, n int) {
	for i := len(s.list) - 1; i >= 0; i-- {
		m := s.list[i]
		if n > 0 {
			p := m.p
			p.flags &^= flagMarker
			for p != nil && (p.deleted() || !p.countable()) {
				p = p.left
				if p != nil && p.visibleCountable() {
					m.index -= p.length
				}
			}
			if p == nil || p.has(flagMarker) {
				s.list = slices.Delete(s.list, i, i+1)
				continue
			}
			m.p = p
			p.flags |= flagMarker
		}
		if index < m.index || n > 0 && index == m.index {
			m.index = max(index, m.index+n)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
