package yjs

import "fmt"

// ContentKind is the kind of an item's content, numbered as the content
// references of the update format.
type ContentKind uint8

// The content kinds of items.
const (
	ContentDeleted ContentKind = refDeleted
	ContentJSON    ContentKind = refJSON
	ContentBinary  ContentKind = refBinary
	ContentString  ContentKind = refString
	ContentEmbed   ContentKind = refEmbed
	ContentFormat  ContentKind = refFormat
	ContentType    ContentKind = refType
	ContentAny     ContentKind = refAny
	ContentDoc     ContentKind = refDoc
)

// UpdateItem is an item that an update would add to a document, as
// InspectUpdate finds it.
type UpdateItem struct {
	ID ID
	// Parent is the shared type the item would go into.
	Parent *UpdateParent
	// Key is the map key of a map entry, when IsEntry is set; other items
	// are list elements.
	Key     string
	IsEntry bool
	Content ContentKind
	// Values are the elements of Any and JSON content, the string of
	// String content, the value of an embed, a binary's []byte and a
	// format's value.
	Values []any
	// TypeKind is the kind of the shared type that Type content creates.
	TypeKind Kind

	// Type is the shared type that Type content creates, as the parent of
	// the update's items inside it.
	Type *UpdateParent
	// Deleted is set when the update's delete set deletes the item.
	Deleted bool
}

// UpdateParent is a shared type that items of an update go into: a root
// type, a type already in the document, or a type that an item of the
// same update creates.
type UpdateParent struct {
	// Kind is the type's kind, KindUndefined for a root that no one has
	// declared.
	Kind Kind
	// RootName is the name of a root type; Up is nil then.
	RootName string
	// Up is the type that contains this one, Key and IsEntry its place
	// there (see UpdateItem).
	Up      *UpdateParent
	Key     string
	IsEntry bool
	// Value is the type in the document (*Map, *Array, *Text or an XML
	// type), nil for a root the document lacks and for a type the update
	// creates.
	Value any
	// Item is the update's item that creates the type, or nil.
	Item *UpdateItem
	// Deleted is set when the type is deleted in the document, or its
	// item in the update's delete set.
	Deleted bool

	b *branch // the type in the document, or nil
}

// Index returns the position of a type of the document in its parent
// list, and false for a root, a map entry or a type the update creates.
// It walks the list, so its cost grows with the position.
func (p *UpdateParent) Index() (int, bool) {
	if p.b == nil || p.b.item == nil || p.IsEntry {
		return 0, false
	}
	i := 0
	for n := p.b.item.left; n != nil; n = n.left {
		if n.visibleCountable() {
			i += n.length
		}
	}
	return i, true
}

// Inspection is the result of InspectUpdate: the new items of an update
// and its delete set.
type Inspection struct {
	// Items are the items new to the document that have a parent, in the
	// order of the update. An item whose parent is gone (a GC struct in
	// the document, or an item without a type) would be stored as a GC
	// struct and is left out.
	Items []*UpdateItem
	// Unresolved are items whose parent cannot be found because they
	// depend on structs that neither the document nor the update holds.
	// ApplyUpdate would keep them pending.
	Unresolved []ID
	// DeleteSet is the update's delete set.
	DeleteSet DeleteSet
	// DeletedEntries are the current map entries of the document that the
	// delete set deletes, each with its parent and key, unless the delete
	// set deletes their parent too. Their content is that of the entry.
	DeletedEntries []*UpdateItem
}

// InspectUpdate decodes a V1 update and resolves the parent of each of its
// items against d and the update itself, without applying it: d is not
// changed, and no root type is created. Parents are found as integration
// finds them: by root name, by the parent item's ID, or through the
// origin or right origin for items that inherit their parent and map key.
// Items, or parts of items, that d already holds are left out. Errors wrap
// ErrInvalidUpdate.
//
// Items that the doc holds among its pending structs are left out of
// Unresolved. NOTE: pending structs that the update makes integrable are
// not reported, and an item that depends on them is reported as
// unresolved.
func (d *Doc) InspectUpdate(update []byte) (*Inspection, error) {
	u, err := DecodeUpdate(update)
	if err != nil {
		return nil, err
	}
	return d.Inspect(u)
}

// Inspect is InspectUpdate for an update decoded by DecodeUpdate, which
// can be applied afterwards. An update already applied returns an error.
func (d *Doc) Inspect(update *Update) (*Inspection, error) {
	if update.applied {
		return nil, errApplied
	}
	u := update.u
	in := &inspector{
		doc:      d,
		u:        u,
		byItem:   map[*item]*UpdateItem{},
		branches: map[*branch]*UpdateParent{},
		roots:    map[string]*UpdateParent{},
		state:    map[*item]resolveState{},
	}
	out := &Inspection{DeleteSet: u.ds}
	for _, client := range u.order {
		rl := u.refs[client]
		if rl == nil {
			continue
		}
		// A client's structs integrate in clock order: past a gap, which
		// a Skip struct or a clock beyond the doc's state leaves, they
		// wait for the missing clocks.
		next := d.store.state(client)
		for _, it := range rl.refs {
			end := it.id.Clock + uint64(it.length)
			if it.isSkip() || it.id.Clock > next {
				next = ^uint64(0)
				if !it.isSkip() && !it.isGC() {
					out.Unresolved = append(out.Unresolved, it.id)
				}
				continue
			}
			if end <= next {
				continue
			}
			next = end
			if it.isGC() {
				continue
			}
			ui, ok := in.resolve(it)
			switch {
			case !ok:
				out.Unresolved = append(out.Unresolved, it.id)
			case ui != nil:
				out.Items = append(out.Items, ui)
			}
		}
	}
	out.Unresolved = d.notPending(out.Unresolved)
	out.DeletedEntries = in.deletedEntries()
	for _, ui := range out.Items {
		ui.Deleted = u.ds.Contains(ui.ID)
		if ui.Type != nil && ui.Deleted {
			ui.Type.Deleted = true
		}
	}
	return out, nil
}

// notPending returns the IDs of ids that the doc's pending structs do not
// hold. A client's sync step 2 carries the pending structs it received
// from the doc, and those are not new.
func (d *Doc) notPending(ids []ID) []ID {
	if len(ids) == 0 || d.store.pendingStructs == nil {
		return ids
	}
	pending, err := decodeUpdate(d.store.pendingStructs, nil, false)
	if err != nil {
		return ids
	}
	in := &inspector{u: pending}
	kept := ids[:0]
	for _, id := range ids {
		if in.find(id) == nil {
			kept = append(kept, id)
		}
	}
	return kept
}

// deletedEntries returns the current map entries of the document that the
// update's delete set deletes.
func (in *inspector) deletedEntries() []*UpdateItem {
	var out []*UpdateItem
	s := in.doc.store
	for client, ranges := range in.u.ds {
		l := s.clients[client]
		state := s.state(client)
		for _, r := range ranges {
			if r.Clock >= state {
				continue
			}
			end := min(r.Clock+r.Len, state)
			for i := l.findIndex(r.Clock); i < l.len(); i++ {
				it := l.at(i)
				if it.id.Clock >= end {
					break
				}
				if it.isGC() || it.deleted() || !it.hasParentSub() || it.parent == nil ||
					it.parent.mapItem(it.parentSub) != it || in.typeDeleted(it.parent) {
					continue
				}
				ui := &UpdateItem{ID: it.id, Parent: in.branch(it.parent), Key: it.parentSub,
					IsEntry: true, Deleted: true}
				describeContent(ui, it.content)
				out = append(out, ui)
			}
		}
	}
	return out
}

// typeDeleted reports whether b, or a type that contains it, is deleted
// in the document or by the update.
func (in *inspector) typeDeleted(b *branch) bool {
	for ; b != nil && b.item != nil; b = b.item.parent {
		if b.item.deleted() || in.u.ds.Contains(b.item.id) {
			return true
		}
	}
	return false
}

// resolveState tracks the resolution of an update's item.
type resolveState uint8

const (
	unvisited resolveState = iota
	visiting
	resolved   // byItem holds its UpdateItem, nil when it has no parent
	unresolved // depends on structs that are missing
)

type inspector struct {
	doc      *Doc
	u        *decodedUpdate
	byItem   map[*item]*UpdateItem
	branches map[*branch]*UpdateParent
	roots    map[string]*UpdateParent
	state    map[*item]resolveState
}

// maxResolveDepth bounds the chain of items whose parent comes from
// another item of the same update. Longer chains are followed without
// recursion by resolving them from their far end first.
const maxResolveDepth = 64

// resolve returns the UpdateItem of it, nil when it has no parent, and
// false when its parent cannot be found.
func (in *inspector) resolve(it *item) (*UpdateItem, bool) {
	// Resolve a long chain of dependencies from its far end, so that the
	// recursion below stays shallow.
	chain := []*item{it}
	for len(chain) <= maxResolveDepth*maxResolveDepth {
		dep := in.updateDependency(chain[len(chain)-1])
		if dep == nil || in.state[dep] != unvisited {
			break
		}
		chain = append(chain, dep)
	}
	for i := len(chain) - 1; i > 0; i -= maxResolveDepth {
		in.resolveDepth(chain[i], 0)
	}
	return in.resolveDepth(it, 0)
}

// updateDependency returns the first item of the update that it depends
// on and that is not resolved yet, or nil.
func (in *inspector) updateDependency(it *item) *item {
	for _, dep := range []struct {
		flag uint16
		id   ID
	}{{flagHasParentID, it.origin}, {flagHasOrigin, it.origin}, {flagHasRightOrigin, it.rightOrigin}} {
		if !it.has(dep.flag) || dep.id.Clock < in.doc.store.state(dep.id.Client) {
			continue
		}
		if n := in.find(dep.id); n != nil && in.state[n] == unvisited {
			return n
		}
	}
	return nil
}

func (in *inspector) resolveDepth(it *item, depth int) (*UpdateItem, bool) {
	switch in.state[it] {
	case resolved:
		return in.byItem[it], true
	case unresolved, visiting:
		// A cycle of items that depend on each other stays pending.
		return nil, false
	}
	if depth > maxResolveDepth {
		return nil, false
	}
	in.state[it] = visiting
	parent, key, isEntry, ok := in.parentOf(it, depth)
	if !ok {
		in.state[it] = unresolved
		return nil, false
	}
	in.state[it] = resolved
	if parent == nil {
		return nil, true
	}
	ui := &UpdateItem{ID: it.id, Parent: parent, Key: key, IsEntry: isEntry}
	describeContent(ui, it.content)
	if ct, ok := it.content.(*contentType); ok {
		ui.TypeKind = ct.t.kind
		ui.Type = &UpdateParent{Kind: ct.t.kind, Up: parent, Key: key, IsEntry: isEntry,
			Item: ui, Deleted: parent.Deleted}
	}
	in.byItem[it] = ui
	return ui, true
}

// parentOf returns the parent and map key of it as integration would set
// them, a nil parent when integration would store it as a GC struct, and
// false when a struct it depends on is missing.
func (in *inspector) parentOf(it *item, depth int) (*UpdateParent, string, bool, bool) {
	if !it.has(flagHasOrigin | flagHasRightOrigin) {
		if it.has(flagHasParentID) {
			p, ok := in.typeAt(it, it.origin, depth)
			return p, it.parentSub, it.hasParentSub(), ok
		}
		if it.parent == nil {
			return nil, "", false, true
		}
		return in.root(it.parent.rootName), it.parentSub, it.hasParentSub(), true
	}
	var from *UpdateParent
	var key string
	var isEntry, found bool
	for _, side := range []struct {
		has uint16
		id  ID
	}{{flagHasOrigin, it.origin}, {flagHasRightOrigin, it.rightOrigin}} {
		if !it.has(side.has) {
			continue
		}
		p, k, e, gone, ok := in.neighbour(it, side.id, depth)
		if !ok {
			return nil, "", false, false
		}
		if gone {
			return nil, "", false, true
		}
		if !found {
			from, key, isEntry, found = p, k, e, true
		}
	}
	return from, key, isEntry, true
}

// neighbour returns the parent and map key of the struct that contains id,
// an origin of it: gone when that struct is a GC struct, and false when it
// is missing.
func (in *inspector) neighbour(it *item, id ID, depth int) (*UpdateParent, string, bool, bool, bool) {
	if id.Clock < in.doc.store.state(id.Client) {
		n := in.doc.store.find(id)
		if n.isGC() || n.parent == nil {
			return nil, "", false, true, true
		}
		return in.branch(n.parent), n.parentSub, n.hasParentSub(), false, true
	}
	n := in.find(id)
	if n == nil || n.id.Client == it.id.Client && n.id.Clock >= it.id.Clock {
		// Missing, or a later struct of the same client, which yjs
		// rejects: integration stores the item as a GC struct.
		return nil, "", false, n != nil, n != nil
	}
	if n.isGC() {
		return nil, "", false, true, true
	}
	ui, ok := in.resolveDepth(n, depth+1)
	if !ok {
		return nil, "", false, false, false
	}
	if ui == nil {
		return nil, "", false, true, true
	}
	return ui.Parent, ui.Key, ui.IsEntry, false, true
}

// typeAt returns the type that the item at id creates, nil when that item
// creates none, and false when it is missing.
func (in *inspector) typeAt(it *item, id ID, depth int) (*UpdateParent, bool) {
	if id.Clock < in.doc.store.state(id.Client) {
		p := in.doc.store.find(id)
		ct, isType := p.content.(*contentType)
		if p.isGC() || !isType {
			return nil, true
		}
		return in.branch(ct.t), true
	}
	p := in.find(id)
	if p == nil {
		return nil, false
	}
	if p.id.Client == it.id.Client && p.id.Clock >= it.id.Clock || p.isGC() {
		return nil, true
	}
	ui, ok := in.resolveDepth(p, depth+1)
	if !ok || ui == nil {
		return nil, ok
	}
	return ui.Type, true
}

// find returns the update's struct that contains id, or nil.
func (in *inspector) find(id ID) *item {
	rl := in.u.refs[id.Client]
	if rl == nil {
		return nil
	}
	refs := rl.refs
	lo, hi := 0, len(refs)
	for lo < hi {
		mid := (lo + hi) / 2
		if refs[mid].id.Clock+uint64(refs[mid].length) <= id.Clock {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == len(refs) || refs[lo].id.Clock > id.Clock || refs[lo].isSkip() {
		return nil
	}
	return refs[lo]
}

func (in *inspector) root(name string) *UpdateParent {
	if p := in.roots[name]; p != nil {
		return p
	}
	p := &UpdateParent{Kind: KindUndefined, RootName: name}
	if b := in.doc.share[name]; b != nil {
		p.Kind, p.Value = b.kind, b.shared()
	}
	in.roots[name] = p
	return p
}

// branch returns the UpdateParent of a type in the document.
func (in *inspector) branch(b *branch) *UpdateParent {
	if p := in.branches[b]; p != nil {
		return p
	}
	var p *UpdateParent
	if b.item == nil {
		p = in.root(b.rootName)
	} else {
		// Walk up to the first type already seen or the root, then fill
		// in the types on the way back down.
		var path []*branch
		for x := b; x != nil && x.item != nil && in.branches[x] == nil; x = x.item.parent {
			path = append(path, x)
		}
		for i := len(path) - 1; i >= 0; i-- {
			x := path[i]
			var up *UpdateParent
			switch par := x.item.parent; {
			case par == nil:
			case par.item == nil:
				up = in.root(par.rootName)
			default:
				up = in.branches[par]
			}
			in.branches[x] = &UpdateParent{Kind: x.kind, Up: up, Key: x.item.parentSub,
				IsEntry: x.item.hasParentSub(), Value: x.shared(), b: x,
				Deleted: x.item.deleted() || up != nil && up.Deleted}
		}
		p = in.branches[b]
	}
	in.branches[b] = p
	return p
}

func describeContent(ui *UpdateItem, c content) {
	ui.Content = ContentKind(c.ref())
	switch c := c.(type) {
	case *contentAny:
		ui.Values = c.arr
	case *contentJSON:
		ui.Values = c.arr
	case *contentString:
		ui.Values = []any{string(c.b)}
	case *contentEmbed:
		ui.Values = []any{c.v}
	case *contentBinary:
		ui.Values = []any{c.b}
	case *contentFormat:
		ui.Values = []any{c.value}
	case *contentDeletedRun:
		ui.Content = ContentDeleted
	}
}

// String returns the kind's name in the update format.
func (k ContentKind) String() string {
	names := [...]string{"GC", "Deleted", "JSON", "Binary", "String", "Embed", "Format",
		"Type", "Any", "Doc"}
	if int(k) < len(names) {
		return names[k]
	}
	return fmt.Sprintf("ContentKind(%d)", uint8(k))
}
