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
// holds the type when it is nested.
type branch struct {
	kind     Kind
	doc      *Doc
	item     *item
	m        map[string]*item
	keys     []string // keys of m in insertion order, as a JavaScript Map
	start    *item
	length   int
	markers  *searchMarkers // nil: no markers, as for formatted text
	name     string         // node name of an XML element or hook
	rootName string
	// hasFormatting is set once a format item was integrated.
	hasFormatting bool
	observers     []*observer
	deepObservers []*observer
	wrapper       any
}

func newBranch(kind Kind) *branch {
	b := &branch{kind: kind, m: map[string]*item{}}
	if kind == KindArray || kind == KindText || kind == KindXMLText {
		b.markers = &searchMarkers{}
	}
	return b
}

func (b *branch) integrate(doc *Doc, it *item) {
	b.doc = doc
	b.item = it
}

func (b *branch) setMapEntry(key string, it *item) {
	if _, ok := b.m[key]; !ok {
		b.keys = append(b.keys, key)
	}
	b.m[key] = it
}

// orderedKeys returns the map keys in insertion order.
func (b *branch) orderedKeys() []string { return b.keys }

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
	it := b.m[key]
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
	s := b.markers
	if b.start == nil || index == 0 || s == nil {
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
