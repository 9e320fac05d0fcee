package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// subprotocolV1 is the kernel WebSocket subprotocol with binary framing.
// A server that selects no subprotocol speaks the legacy JSON framing.
const subprotocolV1 = "v1.kernel.websocket.jupyter.org"

// encodeV1 serializes m in the v1.kernel.websocket.jupyter.org framing:
// u64 n, then n offsets (little-endian u64), then the parts channel,
// header, parent_header, metadata, content and the buffers. n is the
// number of parts plus one, because the last offset is the frame length.
func encodeV1(m Message) ([]byte, error) {
	dicts, err := marshalDicts(m)
	if err != nil {
		return nil, err
	}
	parts := make([][]byte, 0, 5+len(m.Buffers))
	parts = append(parts, []byte(m.Channel))
	parts = append(parts, dicts[:]...)
	parts = append(parts, m.Buffers...)

	n := len(parts) + 1
	offset := 8 * (n + 1)
	size := offset
	for _, p := range parts {
		size += len(p)
	}
	frame := make([]byte, 8*(n+1), size)
	binary.LittleEndian.PutUint64(frame, uint64(n))
	for i, p := range parts {
		binary.LittleEndian.PutUint64(frame[8*(i+1):], uint64(offset))
		offset += len(p)
	}
	binary.LittleEndian.PutUint64(frame[8*n:], uint64(offset))
	for _, p := range parts {
		frame = append(frame, p...)
	}
	return frame, nil
}

// decodeV1 parses a v1.kernel.websocket.jupyter.org binary frame. It
// returns an error, and does not panic (FuzzDecodeV1), on a truncated
// frame, offsets out of order or out of range, or dict parts that are not
// JSON.
func decodeV1(frame []byte) (Message, error) {
	if len(frame) < 8 {
		return Message{}, errors.New("v1 frame: shorter than its offset count")
	}
	n := binary.LittleEndian.Uint64(frame)
	if n < 6 || n > uint64(len(frame)/8-1) {
		return Message{}, fmt.Errorf("v1 frame: offset count %d invalid for %d bytes", n, len(frame))
	}
	offsets := make([]int, n)
	prev := 8 * (int(n) + 1)
	for i := range offsets {
		o := binary.LittleEndian.Uint64(frame[8*(i+1):])
		if o < uint64(prev) || o > uint64(len(frame)) {
			return Message{}, fmt.Errorf("v1 frame: offset %d is %d, outside [%d, %d]", i, o, prev, len(frame))
		}
		offsets[i] = int(o)
		prev = int(o)
	}
	part := func(i int) []byte { return frame[offsets[i]:offsets[i+1]] }

	m := Message{Channel: string(part(0))}
	if err := unmarshalDicts(&m, part(1), part(2), part(3), part(4)); err != nil {
		return Message{}, fmt.Errorf("v1 frame: %w", err)
	}
	for i := 5; i < int(n)-1; i++ {
		m.Buffers = append(m.Buffers, part(i))
	}
	return m, nil
}

// legacyMessage is the JSON object of the legacy framing. Servers also copy
// msg_id and msg_type to the top level; the benchmark ignores those copies.
type legacyMessage struct {
	Header   json.RawMessage `json:"header"`
	Parent   json.RawMessage `json:"parent_header"`
	Metadata json.RawMessage `json:"metadata"`
	Content  json.RawMessage `json:"content"`
	Buffers  []any           `json:"buffers"`
	Channel  string          `json:"channel"`
}

// encodeLegacy serializes m in the legacy framing. It returns the frame and
// whether it must go out as a binary WebSocket message, which is the case
// when m carries buffers: u32 count, u32 offsets (both big-endian), the
// JSON, then the buffers. Without buffers the frame is the JSON text.
func encodeLegacy(m Message) ([]byte, bool, error) {
	dicts, err := marshalDicts(m)
	if err != nil {
		return nil, false, err
	}
	text, err := json.Marshal(legacyMessage{
		Header: dicts[0], Parent: dicts[1], Metadata: dicts[2], Content: dicts[3],
		Buffers: []any{}, Channel: m.Channel,
	})
	if err != nil {
		return nil, false, fmt.Errorf("encoding legacy message: %w", err)
	}
	if len(m.Buffers) == 0 {
		return text, false, nil
	}

	parts := append([][]byte{text}, m.Buffers...)
	offset := 4 * (len(parts) + 1)
	frame := make([]byte, offset)
	binary.BigEndian.PutUint32(frame, uint32(len(parts)))
	for i, p := range parts {
		binary.BigEndian.PutUint32(frame[4*(i+1):], uint32(offset))
		offset += len(p)
	}
	for _, p := range parts {
		frame = append(frame, p...)
	}
	return frame, true, nil
}

// decodeLegacy parses a legacy-framed message: JSON text, or when binary
// is set the offset table described at encodeLegacy. It returns an error,
// and does not panic (FuzzDecodeLegacy), on malformed input.
func decodeLegacy(frame []byte, binaryFrame bool) (Message, error) {
	if !binaryFrame {
		return decodeLegacyJSON(frame, nil)
	}
	if len(frame) < 4 {
		return Message{}, errors.New("legacy frame: shorter than its buffer count")
	}
	count := binary.BigEndian.Uint32(frame)
	if count < 1 || uint64(count) > uint64(len(frame)/4-1) {
		return Message{}, fmt.Errorf("legacy frame: buffer count %d invalid for %d bytes", count, len(frame))
	}
	offsets := make([]int, count+1)
	prev := 4 * (int(count) + 1)
	for i := 0; i < int(count); i++ {
		o := binary.BigEndian.Uint32(frame[4*(i+1):])
		if uint64(o) < uint64(prev) || uint64(o) > uint64(len(frame)) {
			return Message{}, fmt.Errorf("legacy frame: offset %d is %d, outside [%d, %d]", i, o, prev, len(frame))
		}
		offsets[i] = int(o)
		prev = int(o)
	}
	offsets[count] = len(frame)
	var buffers [][]byte
	for i := 1; i < int(count); i++ {
		buffers = append(buffers, frame[offsets[i]:offsets[i+1]])
	}
	return decodeLegacyJSON(frame[offsets[0]:offsets[1]], buffers)
}

func decodeLegacyJSON(text []byte, buffers [][]byte) (Message, error) {
	var lm legacyMessage
	if err := json.Unmarshal(text, &lm); err != nil {
		return Message{}, fmt.Errorf("legacy frame: %w", err)
	}
	m := Message{Channel: lm.Channel, Buffers: buffers}
	err := unmarshalDicts(&m, objectOrEmpty(lm.Header), objectOrEmpty(lm.Parent),
		objectOrEmpty(lm.Metadata), objectOrEmpty(lm.Content))
	if err != nil {
		return Message{}, fmt.Errorf("legacy frame: %w", err)
	}
	return m, nil
}
