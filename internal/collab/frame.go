package collab

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jupygo/jupygo/yjs/lib0"
	"github.com/jupygo/jupygo/yjs/yprotocol"
)

// Message types on a room socket: those of y-websocket, where type 2 is
// Jupyter's RAW message instead of y-websocket's auth message.
const (
	msgSync           = yprotocol.MessageSync
	msgAwareness      = yprotocol.MessageAwareness
	msgRaw            = 2
	msgQueryAwareness = yprotocol.MessageQueryAwareness
)

// errMalformed is wrapped by every error about a frame that does not
// decode.
var errMalformed = yprotocol.ErrMalformed

// errUnknownType is returned for frames of a type rooms do not handle,
// such as the chat messages of jupyter-collaboration 4.0. Rooms ignore
// them, as jupyter-collaboration does.
var errUnknownType = errors.New("unknown message type")

// message is a decoded frame from a client.
type message struct {
	typ uint64
	// sync is set for msgSync.
	sync yprotocol.SyncMessage
	// awareness is the awareness update of msgAwareness.
	awareness []byte
	// raw is the string of msgRaw, and saveID the number that follows
	// "save".
	raw    string
	saveID uint64
}

// parseMessage decodes a frame that a client sent to a room. Bytes after
// the body are ignored, as y-websocket ignores them.
func parseMessage(b []byte) (message, error) {
	d := lib0.NewDecoder(b)
	m := message{typ: d.ReadVarUint()}
	if err := d.Err(); err != nil {
		return message{}, fmt.Errorf("%w: reading the message type: %w", errMalformed, err)
	}
	switch m.typ {
	case msgSync:
		s, err := yprotocol.ReadSync(d)
		if err != nil && !errors.Is(err, errMalformed) {
			err = fmt.Errorf("%w: %w", errMalformed, err)
		}
		if err != nil {
			return message{}, err
		}
		m.sync = s
	case msgAwareness:
		m.awareness = d.ReadVarUint8Array()
	case msgRaw:
		m.raw = d.ReadVarString()
		if m.raw == "save" {
			m.saveID = d.ReadVarUint()
		}
	case msgQueryAwareness:
	default:
		return message{}, fmt.Errorf("%w %d", errUnknownType, m.typ)
	}
	if err := d.Err(); err != nil {
		return message{}, fmt.Errorf("%w: message type %d: %w", errMalformed, m.typ, err)
	}
	return m, nil
}

// Save statuses of the RAW reply, as @jupyter/docprovider 5 reads them.
const (
	saveSuccess = "success"
	saveSkipped = "skipped"
	saveFailed  = "failed"
)

// saveReplyFrame returns the RAW frame of the reply to a save request.
func saveReplyFrame(id uint64, status string) []byte {
	body, _ := json.Marshal(struct {
		Type       string `json:"type"`
		ResponseTo uint64 `json:"responseTo"`
		Status     string `json:"status"`
	}{"save", id, status})
	e := lib0.NewEncoder([]byte{msgRaw})
	e.WriteVarString(string(body))
	return e.Bytes()
}
