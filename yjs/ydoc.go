package yjs

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/jupygo/jupygo/yjs/lib0"
)

// Doc is a Yjs document: a set of named root types and the struct store
// that holds their history. A Doc is not safe for concurrent use; callers
// serialize access, for example with a mutex per document.
type Doc struct {
	clientID         uint64
	gc               bool
	guid             string
	share            map[string]*branch
	shareOrder       []string
	store            *store
	txn              *Transaction
	cleanups         []*Transaction
	updateHandlers   []*updateHandler
	updateV2Handlers []*updateHandler
	afterTxnHandlers []*txnHandler
	// stateSize is the length of the last encoding of the whole state,
	// the capacity the next one starts with.
	stateSize int
}

// Option configures NewDoc.
type Option func(*Doc)

// WithClientID sets the client id of local changes. Ids must be below
// 2^53 and unique among the peers of a document; the default is a random
// 32-bit id, as yjs picks.
func WithClientID(id uint64) Option { return func(d *Doc) { d.clientID = id } }

// WithGC turns garbage collection of deleted content on (the default) or
// off. With it off, deleted content stays in the document, as snapshots
// and undo across sessions need.
func WithGC(on bool) Option { return func(d *Doc) { d.gc = on } }

// WithGUID sets the document's guid, which names it as a subdocument.
func WithGUID(guid string) Option { return func(d *Doc) { d.guid = guid } }

// NewDoc returns an empty document.
func NewDoc(opts ...Option) *Doc {
	d := &Doc{
		clientID: randomClientID(),
		gc:       true,
		share:    map[string]*branch{},
		store:    newStore(),
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

func randomClientID() uint64 {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("yjs: reading random client id: %v", err))
	}
	return uint64(binary.LittleEndian.Uint32(b[:]))
}

// ClientID returns the id under which local changes are recorded. It
// changes when a remote update turns out to use the same id.
func (d *Doc) ClientID() uint64 { return d.clientID }

// SetClientID sets the id under which later local changes are recorded,
// as assigning doc.clientID does in yjs. It must not be called inside a
// transaction. A server can load a file under the shared id 0, so that
// every load of the same file gives the same items, and go on under its
// own id.
func (d *Doc) SetClientID(id uint64) { d.clientID = id }

// GUID returns the document's guid, or "" when none was set.
func (d *Doc) GUID() string { return d.guid }

// GC reports whether garbage collection is on.
func (d *Doc) GC() bool { return d.gc }

// get returns the root type name, creating it with kind or upgrading a
// root of undefined kind, which updates create for names they mention.
func (d *Doc) get(name string, kind Kind) (*branch, error) {
	b := d.share[name]
	if b == nil {
		b = newBranch(kind)
		b.rootName = name
		b.integrate(d, nil)
		d.share[name] = b
		d.shareOrder = append(d.shareOrder, name)
		return b, nil
	}
	if kind == KindUndefined || b.kind == kind {
		return b, nil
	}
	if b.kind != KindUndefined {
		return nil, fmt.Errorf("root type %q is a %v, not a %v", name, b.kind, kind)
	}
	// yjs replaces the placeholder with a fresh type that takes over its
	// items, so search markers start anew and a formatting flag is lost.
	b.kind = kind
	b.markers = nil
	b.hasFormatting = false
	return b, nil
}

func (d *Doc) mustGet(name string, kind Kind) *branch {
	b, err := d.get(name, kind)
	if err != nil {
		panic("yjs: " + err.Error())
	}
	return b
}

// GetText returns the root Text called name, creating it if needed. It
// panics when name is a root of another kind, a programming error like a
// wrong type assertion.
func (d *Doc) GetText(name string) *Text { return d.mustGet(name, KindText).shared().(*Text) }

// GetMap returns the root Map called name; see GetText.
func (d *Doc) GetMap(name string) *Map { return d.mustGet(name, KindMap).shared().(*Map) }

// GetArray returns the root Array called name; see GetText.
func (d *Doc) GetArray(name string) *Array { return d.mustGet(name, KindArray).shared().(*Array) }

// GetXMLFragment returns the root XMLFragment called name; see GetText.
func (d *Doc) GetXMLFragment(name string) *XMLFragment {
	return d.mustGet(name, KindXMLFragment).shared().(*XMLFragment)
}

// RootKind returns the kind of the root type name and whether it exists. A
// root that only updates have named is KindUndefined until the application
// declares it with GetText, GetMap, GetArray or GetXMLFragment.
func (d *Doc) RootKind(name string) (Kind, bool) {
	b, ok := d.share[name]
	if !ok {
		return 0, false
	}
	return b.kind, true
}

// RootNames returns the names of the root types in creation order.
func (d *Doc) RootNames() []string { return append([]string(nil), d.shareOrder...) }

// ToJSON returns the JSON value of every root type whose kind is known,
// keyed by name, as yjs's Doc.toJSON does.
func (d *Doc) ToJSON() map[string]any {
	out := map[string]any{}
	for _, name := range d.shareOrder {
		b := d.share[name]
		if b.kind == KindUndefined {
			continue
		}
		out[name] = b.toJSON()
	}
	return out
}

// StateVector returns the document's state vector.
func (d *Doc) StateVector() StateVector { return d.store.stateVector() }

// EncodeStateVector returns the document's state vector in binary form.
func (d *Doc) EncodeStateVector() []byte { return EncodeStateVector(d.StateVector()) }

// DeleteSet returns everything deleted in the document.
func (d *Doc) DeleteSet() DeleteSet { return d.store.deleteSet() }

type updateHandler struct {
	f func(update []byte, origin any, t *Transaction)
}

type txnHandler struct{ f func(*Transaction) }

// OnUpdate registers f to receive the V1 update of every transaction that
// changed the document, after its observers ran. It returns a function
// that unregisters f. The update slice is f's to keep.
func (d *Doc) OnUpdate(f func(update []byte, origin any, t *Transaction)) (cancel func()) {
	h := &updateHandler{f}
	d.updateHandlers = append(d.updateHandlers, h)
	return func() { d.updateHandlers = removeHandler(d.updateHandlers, h) }
}

// OnUpdateV2 is OnUpdate with updates in the V2 format.
func (d *Doc) OnUpdateV2(f func(update []byte, origin any, t *Transaction)) (cancel func()) {
	h := &updateHandler{f}
	d.updateV2Handlers = append(d.updateV2Handlers, h)
	return func() { d.updateV2Handlers = removeHandler(d.updateV2Handlers, h) }
}

// OnAfterTransaction registers f to run after the observers of every
// transaction; it returns a function that unregisters f.
func (d *Doc) OnAfterTransaction(f func(*Transaction)) (cancel func()) {
	h := &txnHandler{f}
	d.afterTxnHandlers = append(d.afterTxnHandlers, h)
	return func() { d.afterTxnHandlers = removeHandler(d.afterTxnHandlers, h) }
}

func removeHandler[T comparable](hs []T, h T) []T {
	out := make([]T, 0, len(hs))
	for _, x := range hs {
		if x != h {
			out = append(out, x)
		}
	}
	return out
}

// Subdoc is a document nested in another through a Map or Array value.
// Only its guid and options are part of the parent; its content travels in
// updates of its own, which this package leaves to the application.
type Subdoc struct {
	GUID     string
	GC       bool
	AutoLoad bool
	// Meta is any application value; nil means none.
	Meta any
	item *item
}

// NewSubdoc returns a subdocument to insert into a Map or Array.
func NewSubdoc(guid string) *Subdoc { return &Subdoc{GUID: guid, GC: true} }

// newSubdoc builds a subdocument from the options of a Doc content, with
// JavaScript's truthiness, as yjs's Doc constructor reads them.
func newSubdoc(guid string, opts lib0.Object) *Subdoc {
	sd := &Subdoc{GUID: guid, GC: true}
	if v, ok := opts.Get("gc"); ok {
		if _, undef := v.(lib0.Undefined); !undef {
			sd.GC = truthy(v)
		}
	}
	if v, ok := opts.Get("autoLoad"); ok {
		sd.AutoLoad = truthy(v)
	}
	if v, ok := opts.Get("meta"); ok {
		if _, undef := v.(lib0.Undefined); !undef {
			sd.Meta = v
		}
	}
	return sd
}

func truthy(v any) bool {
	switch v := v.(type) {
	case nil, lib0.Undefined:
		return false
	case bool:
		return v
	case float64:
		return v != 0 && v == v
	case int64:
		return v != 0
	case string:
		return v != ""
	}
	return true
}

func (k Kind) String() string {
	switch k {
	case KindArray:
		return "Array"
	case KindMap:
		return "Map"
	case KindText:
		return "Text"
	case KindXMLElement:
		return "XMLElement"
	case KindXMLFragment:
		return "XMLFragment"
	case KindXMLHook:
		return "XMLHook"
	case KindXMLText:
		return "XMLText"
	}
	return "undefined type"
}
