// Package yprotocol implements the messages Yjs peers exchange, as the npm
// packages y-protocols (1.0.x) and y-websocket (1.5.x) define them: the
// sync protocol (SyncStep1, SyncStep2, Update), awareness updates with
// their clocks and 30-second timeout, and the y-websocket frame that
// carries both.
//
// Frame layout: a varUint message type, then the body.
//
//	0 messageSync            sync message: varUint sync type, varUint8Array payload
//	1 messageAwareness       varUint8Array awareness update
//	2 messageAuth            varUint 0 (permission denied), varString reason
//	3 messageQueryAwareness  no body
//
// Decoders never panic on malformed input; they return errors that wrap
// ErrMalformed.
package yprotocol

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jupygo/jupygo/yjs"
	"github.com/jupygo/jupygo/yjs/lib0"
)

// y-websocket frame types.
const (
	MessageSync           = 0
	MessageAwareness      = 1
	MessageAuth           = 2
	MessageQueryAwareness = 3
)

// Sync message types.
const (
	SyncStep1  = 0 // payload: state vector
	SyncStep2  = 1 // payload: V1 update, the reply to a SyncStep1
	SyncUpdate = 2 // payload: V1 update
)

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("malformed message")

// SyncMessage is one message of the sync protocol.
type SyncMessage struct {
	Type    uint64
	Payload []byte
}

// AppendSync appends a sync message (without frame type) to dst.
func AppendSync(dst []byte, typ uint64, payload []byte) []byte {
	e := lib0.NewEncoder(dst)
	e.WriteVarUint(typ)
	e.WriteVarUint8Array(payload)
	return e.Bytes()
}

// ReadSync reads a sync message from d.
func ReadSync(d *lib0.Decoder) (SyncMessage, error) {
	typ := d.ReadVarUint()
	payload := d.ReadVarUint8Array()
	if err := d.Err(); err != nil {
		return SyncMessage{}, fmt.Errorf("%w: reading sync message: %w", ErrMalformed, err)
	}
	if typ > SyncUpdate {
		return SyncMessage{}, fmt.Errorf("%w: unknown sync message type %d", ErrMalformed, typ)
	}
	return SyncMessage{Type: typ, Payload: payload}, nil
}

// SyncStep1Frame returns the frame that opens a sync: the state vector of
// doc.
func SyncStep1Frame(doc *yjs.Doc) []byte {
	return AppendSync([]byte{MessageSync}, SyncStep1, doc.EncodeStateVector())
}

// SyncStep2Frame returns the reply to a SyncStep1 that carried the binary
// state vector sv.
func SyncStep2Frame(doc *yjs.Doc, sv []byte) ([]byte, error) {
	state, err := yjs.DecodeStateVector(sv)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	// The update, often the whole document, is encoded behind room for
	// the longest header, and the header is then written right before it.
	const room = 2 + binary.MaxVarintLen64
	frame := doc.AppendStateAsUpdate(make([]byte, room), state)
	header := lib0.NewEncoder(make([]byte, 0, room))
	header.WriteVarUint(MessageSync)
	header.WriteVarUint(SyncStep2)
	header.WriteVarUint(uint64(len(frame) - room))
	start := room - header.Len()
	copy(frame[start:], header.Bytes())
	return frame[start:], nil
}

// UpdateFrame returns the frame that broadcasts a V1 update.
func UpdateFrame(update []byte) []byte {
	return AppendSync([]byte{MessageSync}, SyncUpdate, update)
}

// HandleSync applies a sync message to doc, as y-protocols' readSyncMessage
// does: SyncStep1 yields the SyncStep2 frame to send back; SyncStep2 and
// Update are applied with origin. The reply is nil when there is none.
func HandleSync(doc *yjs.Doc, m SyncMessage, origin any) (reply []byte, err error) {
	switch m.Type {
	case SyncStep1:
		return SyncStep2Frame(doc, m.Payload)
	case SyncStep2, SyncUpdate:
		if err := doc.ApplyUpdate(m.Payload, origin); err != nil {
			return nil, fmt.Errorf("applying sync message %d: %w", m.Type, err)
		}
		return nil, nil
	}
	return nil, fmt.Errorf("%w: unknown sync message type %d", ErrMalformed, m.Type)
}

// Frame is a decoded y-websocket frame. Exactly the field for Type is set:
// Sync for MessageSync, Awareness for MessageAwareness, AuthReason for
// MessageAuth; MessageQueryAwareness has no body.
type Frame struct {
	Type       uint64
	Sync       SyncMessage
	Awareness  []byte
	AuthReason string
}

// DecodeFrame decodes a y-websocket frame. Bytes after the body are
// ignored, as y-websocket ignores them. Unknown frame types return an error
// wrapping ErrMalformed; y-websocket servers ignore such frames.
func DecodeFrame(b []byte) (Frame, error) {
	d := lib0.NewDecoder(b)
	f := Frame{Type: d.ReadVarUint()}
	if err := d.Err(); err != nil {
		return Frame{}, fmt.Errorf("%w: reading frame type: %w", ErrMalformed, err)
	}
	switch f.Type {
	case MessageSync:
		m, err := ReadSync(d)
		if err != nil {
			return Frame{}, err
		}
		f.Sync = m
	case MessageAwareness:
		f.Awareness = d.ReadVarUint8Array()
	case MessageAuth:
		if reason := d.ReadVarUint(); reason != 0 && d.Err() == nil {
			return Frame{}, fmt.Errorf("%w: unknown auth message %d", ErrMalformed, reason)
		}
		f.AuthReason = d.ReadVarString()
	case MessageQueryAwareness:
	default:
		return Frame{}, fmt.Errorf("%w: unknown frame type %d", ErrMalformed, f.Type)
	}
	if err := d.Err(); err != nil {
		return Frame{}, fmt.Errorf("%w: frame type %d: %w", ErrMalformed, f.Type, err)
	}
	return f, nil
}

// AwarenessFrame wraps an awareness update in a frame.
func AwarenessFrame(update []byte) []byte {
	e := lib0.NewEncoder([]byte{MessageAwareness})
	e.WriteVarUint8Array(update)
	return e.Bytes()
}

// QueryAwarenessFrame returns the frame that requests every awareness
// state a peer holds.
func QueryAwarenessFrame() []byte { return []byte{MessageQueryAwareness} }

// PermissionDeniedFrame returns the auth frame that refuses a client.
func PermissionDeniedFrame(reason string) []byte {
	e := lib0.NewEncoder([]byte{MessageAuth, 0})
	e.WriteVarString(reason)
	return e.Bytes()
}
