package yprotocol

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jupygo/jupygo/yjs"
	"github.com/jupygo/jupygo/yjs/lib0"
)

// OutdatedTimeout is how long a remote awareness state lives without a
// renewal. The local state is renewed after half of it.
const OutdatedTimeout = 30 * time.Second

// CheckInterval is how often y-protocols checks for outdated states; call
// Awareness.Check at this interval.
const CheckInterval = OutdatedTimeout / 10

// Change lists the clients an awareness update added, updated or removed.
type Change struct {
	Added   []uint64
	Updated []uint64
	Removed []uint64
}

// Empty reports whether the change names no client.
func (c Change) Empty() bool { return len(c.Added)+len(c.Updated)+len(c.Removed) == 0 }

type clientMeta struct {
	clock       uint64
	lastUpdated time.Time
}

// Awareness holds the awareness states of a document's clients: cursor,
// user name and the like, as JSON values (see yjs.ParseJSON) keyed by
// client id, each with a clock. It is not safe for concurrent use.
//
// Time is passed in, never read: ApplyUpdate and SetLocalState take the
// current time, and the owner calls Check every CheckInterval.
type Awareness struct {
	clientID uint64
	states   map[uint64]any
	meta     map[uint64]clientMeta
	onChange []func(Change, any)
	onUpdate []func(Change, any)
}

// NewAwareness returns the awareness of the local client clientID with an
// empty local state ({}), as y-protocols starts.
func NewAwareness(clientID uint64, now time.Time) *Awareness {
	a := &Awareness{clientID: clientID, states: map[uint64]any{}, meta: map[uint64]clientMeta{}}
	a.setLocal(yjs.Object{}, now)
	return a
}

// ClientID returns the local client id.
func (a *Awareness) ClientID() uint64 { return a.clientID }

// OnChange registers f for updates that added, removed or changed states;
// origin is the value given to the call that caused them.
func (a *Awareness) OnChange(f func(c Change, origin any)) { a.onChange = append(a.onChange, f) }

// OnUpdate registers f for every update, renewals without changes
// included. Servers forward awareness on this event.
func (a *Awareness) OnUpdate(f func(c Change, origin any)) { a.onUpdate = append(a.onUpdate, f) }

func (a *Awareness) emit(change, update Change, origin any) {
	if !change.Empty() {
		for _, f := range a.onChange {
			f(change, origin)
		}
	}
	if !update.Empty() {
		for _, f := range a.onUpdate {
			f(update, origin)
		}
	}
}

// LocalState returns the local state, or nil when it was removed.
func (a *Awareness) LocalState() any { return a.states[a.clientID] }

// States returns a copy of the states of all known clients.
func (a *Awareness) States() map[uint64]any {
	out := make(map[uint64]any, len(a.states))
	for k, v := range a.states {
		out[k] = v
	}
	return out
}

// Len returns the number of clients with a state.
func (a *Awareness) Len() int { return len(a.states) }

// Clock returns the clock of client and whether the client is known.
func (a *Awareness) Clock(client uint64) (uint64, bool) {
	m, ok := a.meta[client]
	return m.clock, ok
}

// SetLocalState sets the local state to the JSON form of v, any Go value
// that encoding/json marshals. A nil v removes the local state, which peers
// take as the client leaving.
func (a *Awareness) SetLocalState(v any, now time.Time) error {
	if v == nil {
		a.setLocal(nil, now)
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding awareness state: %w", err)
	}
	state, err := yjs.ParseJSON(string(b))
	if err != nil {
		return fmt.Errorf("encoding awareness state: %w", err)
	}
	a.setLocal(state, now)
	return nil
}

func (a *Awareness) setLocal(state any, now time.Time) {
	id := a.clientID
	var clock uint64
	if m, ok := a.meta[id]; ok {
		clock = m.clock + 1
	}
	prev, hadPrev := a.states[id]
	if state == nil {
		delete(a.states, id)
	} else {
		a.states[id] = state
	}
	a.meta[id] = clientMeta{clock, now}
	var change, update Change
	switch {
	case state == nil:
		change.Removed = []uint64{id}
		update.Removed = []uint64{id}
	case !hadPrev || prev == nil:
		change.Added = []uint64{id}
		update.Added = []uint64{id}
	default:
		update.Updated = []uint64{id}
		if !deepEqual(prev, state) {
			change.Updated = []uint64{id}
		}
	}
	a.emit(change, update, "local")
}

// EncodeUpdate returns the awareness update for clients: client id,
// clock and JSON state each, null for clients without a state. Clients
// never seen are skipped.
func (a *Awareness) EncodeUpdate(clients []uint64) []byte {
	known := slices.DeleteFunc(slices.Clone(clients), func(c uint64) bool {
		_, ok := a.meta[c]
		return !ok
	})
	e := &lib0.Encoder{}
	e.WriteVarUint(uint64(len(known)))
	for _, c := range known {
		e.WriteVarUint(c)
		e.WriteVarUint(a.meta[c].clock)
		state, ok := a.states[c]
		if !ok {
			state = nil
		}
		e.WriteVarString(yjs.StringifyJSON(state))
	}
	return e.Bytes()
}

// EncodeAll returns the awareness update for every client with a state,
// what a server sends a new connection.
func (a *Awareness) EncodeAll() []byte {
	clients := make([]uint64, 0, len(a.states))
	for c := range a.states {
		clients = append(clients, c)
	}
	slices.Sort(clients)
	return a.EncodeUpdate(clients)
}

// AwarenessEntry is one client's entry of an awareness update. State is
// nil when the client left.
type AwarenessEntry struct {
	Client uint64
	Clock  uint64
	State  any
}

// DecodeUpdate parses an awareness update without applying it.
func DecodeUpdate(update []byte) ([]AwarenessEntry, error) {
	d := lib0.NewDecoder(update)
	// Each entry takes at least four bytes: client, clock, and a state of
	// at least one character with its length.
	n := d.ReadLen(4)
	entries := make([]AwarenessEntry, 0, n)
	for i := 0; i < n && d.Err() == nil; i++ {
		client := d.ReadVarUint()
		clock := d.ReadVarUint()
		text := d.ReadVarString()
		if d.Err() != nil {
			break
		}
		state, err := yjs.ParseJSON(text)
		if err != nil {
			return nil, fmt.Errorf("%w: awareness state of client %d: %w", ErrMalformed, client, err)
		}
		entries = append(entries, AwarenessEntry{client, clock, state})
	}
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("%w: awareness update: %w", ErrMalformed, err)
	}
	return entries, nil
}

// ApplyUpdate applies a remote awareness update, as y-protocols does: an
// entry wins when its clock is newer, or equal with a null state removing
// a known state. A remote null for the local client while it has a state
// is refused, and the local clock moves past it so the next broadcast
// re-announces the client.
func (a *Awareness) ApplyUpdate(update []byte, origin any, now time.Time) error {
	entries, err := DecodeUpdate(update)
	if err != nil {
		return err
	}
	a.ApplyEntries(entries, origin, now)
	return nil
}

// ApplyEntries is ApplyUpdate for entries that DecodeUpdate returned, for
// a caller that reads them too.
func (a *Awareness) ApplyEntries(entries []AwarenessEntry, origin any, now time.Time) {
	var change, all Change
	for _, en := range entries {
		a.applyEntry(en, now, &change, &all)
	}
	a.emit(change, all, origin)
}

func (a *Awareness) applyEntry(en AwarenessEntry, now time.Time, change, all *Change) {
	meta, known := a.meta[en.Client]
	prev, hasState := a.states[en.Client]
	if !(meta.clock < en.Clock || meta.clock == en.Clock && en.State == nil && hasState) {
		return
	}
	clock := en.Clock
	if en.State == nil {
		if en.Client == a.clientID && a.states[a.clientID] != nil {
			clock++
		} else {
			delete(a.states, en.Client)
		}
	} else {
		a.states[en.Client] = en.State
	}
	a.meta[en.Client] = clientMeta{clock, now}
	switch {
	case !known && en.State != nil:
		change.Added = append(change.Added, en.Client)
		all.Added = append(all.Added, en.Client)
	case known && en.State == nil:
		change.Removed = append(change.Removed, en.Client)
		all.Removed = append(all.Removed, en.Client)
	case en.State != nil:
		if !deepEqual(en.State, prev) {
			change.Updated = append(change.Updated, en.Client)
		}
		all.Updated = append(all.Updated, en.Client)
	}
}

// RemoveStates removes the states of clients, as a server does for the
// clients of a closed connection. Removing the local state bumps its clock.
func (a *Awareness) RemoveStates(clients []uint64, origin any, now time.Time) {
	var removed []uint64
	for _, c := range clients {
		if _, ok := a.states[c]; !ok {
			continue
		}
		delete(a.states, c)
		if c == a.clientID {
			m := a.meta[c]
			a.meta[c] = clientMeta{m.clock + 1, now}
		}
		removed = append(removed, c)
	}
	ch := Change{Removed: removed}
	a.emit(ch, ch, origin)
}

// Check renews the local state once it is half the timeout old and removes
// remote states not renewed within OutdatedTimeout (origin "timeout"). The
// owner calls it every CheckInterval.
func (a *Awareness) Check(now time.Time) {
	if local := a.states[a.clientID]; local != nil &&
		now.Sub(a.meta[a.clientID].lastUpdated) >= OutdatedTimeout/2 {
		a.setLocal(local, now)
	}
	var remove []uint64
	for c, m := range a.meta {
		if _, ok := a.states[c]; ok && c != a.clientID && now.Sub(m.lastUpdated) >= OutdatedTimeout {
			remove = append(remove, c)
		}
	}
	slices.Sort(remove)
	if len(remove) > 0 {
		a.RemoveStates(remove, "timeout", now)
	}
}

// deepEqual compares JSON values as lib0's equalityDeep does.
func deepEqual(a, b any) bool {
	switch a := a.(type) {
	case yjs.Object:
		o, ok := b.(yjs.Object)
		if !ok || a.Len() != o.Len() {
			return false
		}
		for _, f := range a.Fields {
			v, ok := o.Get(f.Key)
			if !ok || !deepEqual(f.Value, v) {
				return false
			}
		}
		return true
	case []any:
		o, ok := b.([]any)
		if !ok || len(a) != len(o) {
			return false
		}
		for i := range a {
			if !deepEqual(a[i], o[i]) {
				return false
			}
		}
		return true
	case float64:
		f, ok := b.(float64)
		return ok && (a == f || math.IsNaN(a) && math.IsNaN(f))
	}
	return a == b
}
