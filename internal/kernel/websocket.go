package kernel

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// protocolV1 is the WebSocket subprotocol of jupyter_server 2 and
// JupyterLab 4: binary frames that carry the dict parts as the kernel sent
// them.
const protocolV1 = "v1.kernel.websocket.jupyter.org"

// maxFrameBytes bounds one WebSocket frame from a client. It leaves room for
// 10 MB messages (large cells, widget buffers) with margin.
const maxFrameBytes = 64 << 20

// maxBuffers bounds the number of binary buffers of one message.
const maxBuffers = 1 << 16

// framing encodes and decodes the frames of one WebSocket subprotocol.
type framing interface {
	encode(m *Message) (websocket.MessageType, []byte, error)
	decode(typ websocket.MessageType, frame []byte) (*Message, error)
}

// framingFor returns the framing of the negotiated subprotocol; the empty
// subprotocol selects the legacy JSON framing.
func framingFor(subprotocol string) framing {
	if subprotocol == protocolV1 {
		return v1Framing{}
	}
	return legacyFraming{}
}

// v1Framing is the v1.kernel.websocket.jupyter.org framing: a u64 count n,
// n u64 offsets (little-endian), then the parts channel, header,
// parent_header, metadata, content and the buffers. The offsets give where
// each part starts; the last one is the end of the last part.
type v1Framing struct{}

func (v1Framing) encode(m *Message) (websocket.MessageType, []byte, error) {
	return websocket.MessageBinary, encodeV1(m), nil
}

func (v1Framing) decode(typ websocket.MessageType, frame []byte) (*Message, error) {
	if typ != websocket.MessageBinary {
		return nil, errors.New("text frame on the v1 protocol, which uses binary frames only")
	}
	return decodeV1(frame)
}

// encodeV1 returns the v1 frame of m.
func encodeV1(m *Message) []byte {
	parts := make([][]byte, 0, 5+len(m.Buffers))
	parts = append(parts, []byte(m.Channel), m.Header, m.Parent, m.Metadata, m.Content)
	parts = append(parts, m.Buffers...)

	n := len(parts) + 1
	offset := 8 * (n + 1)
	size := offset
	for _, p := range parts {
		size += len(p)
	}
	out := make([]byte, 8*(n+1), size)
	binary.LittleEndian.PutUint64(out, uint64(n))
	for i, p := range parts {
		binary.LittleEndian.PutUint64(out[8*(i+1):], uint64(offset))
		offset += len(p)
	}
	binary.LittleEndian.PutUint64(out[8*n:], uint64(offset))
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// decodeV1 parses a v1 frame. The parts share the frame's memory.
func decodeV1(frame []byte) (*Message, error) {
	if len(frame) < 8 {
		return nil, fmt.Errorf("v1 frame of %d bytes is shorter than its offset count", len(frame))
	}
	n := binary.LittleEndian.Uint64(frame)
	if n < 6 || n > 6+maxBuffers {
		return nil, fmt.Errorf("v1 frame has %d offsets, want 6 to %d", n, 6+maxBuffers)
	}
	table := 8 * (n + 1)
	if uint64(len(frame)) < table {
		return nil, fmt.Errorf("v1 frame of %d bytes is shorter than its %d offsets", len(frame), n)
	}
	offsets := make([]uint64, n)
	for i := range offsets {
		offsets[i] = binary.LittleEndian.Uint64(frame[8*(i+1):])
		if offsets[i] < table || offsets[i] > uint64(len(frame)) {
			return nil, fmt.Errorf("v1 offset %d (%d) is outside the frame", i, offsets[i])
		}
		if i > 0 && offsets[i] < offsets[i-1] {
			return nil, fmt.Errorf("v1 offsets decrease at %d", i)
		}
	}
	parts := make([][]byte, n-1)
	for i := range parts {
		parts[i] = frame[offsets[i]:offsets[i+1]]
	}
	m := &Message{
		Channel: string(parts[0]),
		Header:  parts[1], Parent: parts[2], Metadata: parts[3], Content: parts[4],
	}
	if len(parts) > 5 {
		m.Buffers = parts[5:]
	}
	if err := checkClientMessage(m); err != nil {
		return nil, err
	}
	return m, nil
}

// checkClientMessage validates a message decoded from a client and fills its
// routing fields. Empty parent headers and metadata become {}.
func checkClientMessage(m *Message) error {
	if !utf8.ValidString(m.Channel) {
		return errors.New("channel is not UTF-8")
	}
	if len(bytes.TrimSpace(m.Parent)) == 0 || string(bytes.TrimSpace(m.Parent)) == "null" {
		m.Parent = []byte("{}")
	}
	if len(bytes.TrimSpace(m.Metadata)) == 0 || string(bytes.TrimSpace(m.Metadata)) == "null" {
		m.Metadata = []byte("{}")
	}
	if len(bytes.TrimSpace(m.Content)) == 0 || string(bytes.TrimSpace(m.Content)) == "null" {
		m.Content = []byte("{}")
	}
	if !isObject(m.Metadata) {
		return errors.New("metadata is not a JSON object")
	}
	if !isObject(m.Content) {
		return errors.New("content is not a JSON object")
	}
	return m.parseHeaders()
}

// legacyFraming is the framing used when no subprotocol is negotiated: a
// text frame holding the JSON of the whole message with its channel, or,
// when the message has buffers, a binary frame of a u32 count n, n u32
// offsets (big-endian), the message JSON without buffers, then the buffers.
type legacyFraming struct{}

// legacyMessage is the JSON shape of a legacy frame from a client.
type legacyMessage struct {
	Channel      *string         `json:"channel"`
	Header       json.RawMessage `json:"header"`
	ParentHeader json.RawMessage `json:"parent_header"`
	Metadata     json.RawMessage `json:"metadata"`
	Content      json.RawMessage `json:"content"`
}

func (legacyFraming) decode(typ websocket.MessageType, frame []byte) (*Message, error) {
	if typ == websocket.MessageText {
		return decodeLegacyJSON(frame, nil)
	}
	return decodeLegacyBinary(frame)
}

// decodeLegacyBinary splits a legacy binary frame into its JSON part and
// buffers.
func decodeLegacyBinary(frame []byte) (*Message, error) {
	if len(frame) < 4 {
		return nil, fmt.Errorf("legacy binary frame of %d bytes is shorter than its count", len(frame))
	}
	n := binary.BigEndian.Uint32(frame)
	if n < 1 || n > 1+maxBuffers {
		return nil, fmt.Errorf("legacy binary frame has %d parts, want 1 to %d", n, 1+maxBuffers)
	}
	table := 4 * (uint64(n) + 1)
	if uint64(len(frame)) < table {
		return nil, fmt.Errorf("legacy binary frame of %d bytes is shorter than its %d offsets",
			len(frame), n)
	}
	offsets := make([]uint64, n+1)
	for i := range n {
		offsets[i] = uint64(binary.BigEndian.Uint32(frame[4*(i+1):]))
		if offsets[i] < table || offsets[i] > uint64(len(frame)) {
			return nil, fmt.Errorf("legacy offset %d (%d) is outside the frame", i, offsets[i])
		}
		if i > 0 && offsets[i] < offsets[i-1] {
			return nil, fmt.Errorf("legacy offsets decrease at %d", i)
		}
	}
	offsets[n] = uint64(len(frame))
	var buffers [][]byte
	for i := uint32(1); i < n; i++ {
		buffers = append(buffers, frame[offsets[i]:offsets[i+1]])
	}
	return decodeLegacyJSON(frame[offsets[0]:offsets[1]], buffers)
}

// decodeLegacyJSON parses the JSON of a legacy message. A message without a
// channel goes to shell, as jupyter_server assumes.
func decodeLegacyJSON(data []byte, buffers [][]byte) (*Message, error) {
	var lm legacyMessage
	if err := decodeObject(data, &lm); err != nil {
		return nil, fmt.Errorf("invalid message JSON: %w", err)
	}
	channel := channelShell
	if lm.Channel != nil {
		channel = *lm.Channel
	}
	m := &Message{
		Channel: channel, Header: lm.Header, Parent: lm.ParentHeader,
		Metadata: lm.Metadata, Content: lm.Content, Buffers: buffers,
	}
	if err := checkClientMessage(m); err != nil {
		return nil, err
	}
	return m, nil
}

func (legacyFraming) encode(m *Message) (websocket.MessageType, []byte, error) {
	body, err := legacyJSON(m, len(m.Buffers) == 0)
	if err != nil {
		return 0, nil, err
	}
	if len(m.Buffers) == 0 {
		return websocket.MessageText, body, nil
	}
	return websocket.MessageBinary, encodeLegacyBinary(body, m.Buffers), nil
}

// legacyJSON returns the JSON object of m as jupyter_server writes it, with
// msg_id, msg_type and channel at the top level. The dict parts are copied
// verbatim, after a check that they are valid JSON, because a browser
// rejects the whole frame otherwise.
func legacyJSON(m *Message, withBuffers bool) ([]byte, error) {
	for _, part := range [][]byte{m.Header, m.Parent, m.Metadata, m.Content} {
		if !json.Valid(part) {
			return nil, fmt.Errorf("%s message %s has a part that is not valid JSON", m.MsgType, m.MsgID)
		}
	}
	var b bytes.Buffer
	b.Grow(m.size() + 160)
	b.WriteString(`{"header":`)
	b.Write(m.Header)
	b.WriteString(`,"msg_id":`)
	writeJSONString(&b, m.MsgID)
	b.WriteString(`,"msg_type":`)
	writeJSONString(&b, m.MsgType)
	b.WriteString(`,"parent_header":`)
	b.Write(m.Parent)
	b.WriteString(`,"metadata":`)
	b.Write(m.Metadata)
	b.WriteString(`,"content":`)
	b.Write(m.Content)
	if withBuffers {
		b.WriteString(`,"buffers":[]`)
	}
	b.WriteString(`,"channel":`)
	writeJSONString(&b, m.Channel)
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	data, _ := json.Marshal(s) // a string always marshals
	b.Write(data)
}

// encodeLegacyBinary returns the legacy binary frame of a message JSON and its
// buffers.
func encodeLegacyBinary(body []byte, buffers [][]byte) []byte {
	n := 1 + len(buffers)
	offset := 4 * (n + 1)
	size := offset + len(body)
	for _, buf := range buffers {
		size += len(buf)
	}
	out := make([]byte, offset, size)
	binary.BigEndian.PutUint32(out, uint32(n))
	binary.BigEndian.PutUint32(out[4:], uint32(offset))
	offset += len(body)
	for i, buf := range buffers {
		binary.BigEndian.PutUint32(out[4*(i+2):], uint32(offset))
		offset += len(buf)
	}
	out = append(out, body...)
	for _, buf := range buffers {
		out = append(out, buf...)
	}
	return out
}
