package collab

import (
	"github.com/jupygo/jupygo/yjs"
	"github.com/jupygo/jupygo/yjs/yprotocol"
)

// A new client's SyncStep1 carries an empty state vector, and the reply
// is the whole doc: for a 2,000-cell notebook 1.9 MB, which took 12 to
// 19 ms to encode in one measurement (amd64, Go 1.26, a loaded 2-core
// machine). A room
// encodes it once and sends the same bytes to every new client. Updates
// applied since are kept as a tail and follow the SyncStep2 as one update
// frame, so typing does not make each join encode the doc again. A tail
// past maxTailUpdates updates or an eighth of the state drops the cache.
const maxTailUpdates = 1024

// stateCache is a room's encoded doc for first syncs. Guarded by the
// room's mu.
type stateCache struct {
	// step2 is the SyncStep2 frame of the whole doc as it was when
	// encoded, or nil.
	step2 []byte
	// tail is the updates the doc applied since step2 was encoded.
	tail      [][]byte
	tailBytes int
	// used is set when step2 is sent, and cleared by each poll.
	used bool
}

// noteUpdate records an update the doc applied.
func (sc *stateCache) noteUpdate(update []byte) {
	if sc.step2 == nil {
		return
	}
	sc.tail = append(sc.tail, update)
	sc.tailBytes += len(update)
	if len(sc.tail) > maxTailUpdates || sc.tailBytes > len(sc.step2)/8 {
		sc.drop()
	}
}

// encode fills the cache with doc's SyncStep2 frame unless it holds one.
func (sc *stateCache) encode(doc *yjs.Doc) {
	if sc.step2 == nil {
		sc.step2 = yprotocol.AppendSync([]byte{yprotocol.MessageSync}, yprotocol.SyncStep2,
			doc.EncodeStateAsUpdate(nil))
	}
}

func (sc *stateCache) drop() {
	sc.step2, sc.tail, sc.tailBytes = nil, nil, 0
}

// dropUnused drops a cache that no client used since the last call, so
// that an idle room does not keep a second copy of its doc.
func (sc *stateCache) dropUnused() {
	if !sc.used {
		sc.drop()
	}
	sc.used = false
}

// firstSyncLocked returns the reply to a SyncStep1 carrying the encoded
// state vector sv when sv has nothing of the doc: the cached SyncStep2,
// then the tail as one update frame. ok is false for other state vectors,
// which get a reply of their own.
func (r *room) firstSyncLocked(sv []byte) (frames [][]byte, ok bool) {
	if !knowsNothing(r.doc, sv) {
		return nil, false
	}
	sc := &r.state
	sc.encode(r.doc)
	sc.used = true
	frames = [][]byte{sc.step2}
	switch len(sc.tail) {
	case 0:
	case 1:
		frames = append(frames, yprotocol.UpdateFrame(sc.tail[0]))
	default:
		merged, err := yjs.MergeUpdates(sc.tail...)
		if err != nil {
			// The doc applied every update of the tail, so they merge.
			// Should one not, encode the doc afresh.
			r.log.Warn("updates since the cached state do not merge", "err", err)
			sc.drop()
			return r.firstSyncLocked(sv)
		}
		// The next client reuses the merge.
		sc.tail, sc.tailBytes = [][]byte{merged}, len(merged)
		frames = append(frames, yprotocol.UpdateFrame(merged))
	}
	return frames, true
}

// knowsNothing reports whether the encoded state vector sv has no clock
// above zero for a client of doc, so that the reply to it is the whole
// doc. A state vector that does not decode reports false.
func knowsNothing(doc *yjs.Doc, sv []byte) bool {
	if len(sv) == 1 && sv[0] == 0 {
		return true
	}
	remote, err := yjs.DecodeStateVector(sv)
	if err != nil {
		return false
	}
	local := doc.StateVector()
	for client, clock := range remote {
		if clock > 0 && local[client] > 0 {
			return false
		}
	}
	return true
}
