package collab

import (
	"bytes"

	"github.com/jupygo/jupygo/yjs/yprotocol"
)

// emptyStateVector is the SyncStep1 payload of a client whose doc is
// empty, which every client opening the document sends.
var emptyStateVector = []byte{0}

// handleSyncLocked replies to a sync message as yprotocol.HandleSync does,
// but sends clients that start from an empty doc one shared frame of the
// whole state. The frame is the size of the document, and without sharing
// every client that joined since the last change would get its own copy,
// each kept until the garbage collector ran. The room keeps the frame
// until the doc changes, even with no client left.
func (r *room) handleSyncLocked(c *conn, m yprotocol.SyncMessage) ([]byte, error) {
	if m.Type != yprotocol.SyncStep1 || !bytes.Equal(m.Payload, emptyStateVector) ||
		r.doc.HasPending() {
		return yprotocol.HandleSync(r.doc, m, c)
	}
	if r.stateFrame == nil {
		frame, err := yprotocol.SyncStep2Frame(r.doc, m.Payload)
		if err != nil {
			return nil, err
		}
		r.stateFrame = frame
	}
	return r.stateFrame, nil
}
