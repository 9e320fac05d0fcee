package kernel

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Channel names as the Jupyter messaging protocol and the WebSocket framings
// spell them.
const (
	channelShell   = "shell"
	channelControl = "control"
	channelStdin   = "stdin"
	channelIOPub   = "iopub"
)

// protocolVersion is the messaging protocol version written into the headers
// of the messages the server makes itself.
const protocolVersion = "5.3"

// delimiter separates the routing frames from the message frames on ZeroMQ.
var delimiter = []byte("<IDS|MSG>")

// Message is one Jupyter message as it crosses the bridge. The four dict
// parts are kept as the serialized JSON they arrived as, so they can be
// relayed and signed without decoding them again. A Message is immutable once
// built: the same value is handed to every WebSocket of a kernel.
type Message struct {
	Channel  string
	Header   []byte
	Parent   []byte
	Metadata []byte
	Content  []byte
	Buffers  [][]byte

	// Fields read from Header and Parent; empty when absent.
	MsgID, MsgType, Session             string
	ParentID, ParentType, ParentSession string
}

// size returns the number of payload bytes of m.
func (m *Message) size() int {
	n := len(m.Header) + len(m.Parent) + len(m.Metadata) + len(m.Content)
	for _, b := range m.Buffers {
		n += len(b)
	}
	return n
}

// headerFields are the header fields the bridge needs for routing.
type headerFields struct {
	MsgID   string `json:"msg_id"`
	MsgType string `json:"msg_type"`
	Session string `json:"session"`
}

// parseHeaders fills the routing fields of m from its header and parent
// header. The header must be a JSON object; an empty parent header is
// allowed.
func (m *Message) parseHeaders() error {
	var h headerFields
	if err := decodeObject(m.Header, &h); err != nil {
		return fmt.Errorf("invalid header: %w", err)
	}
	if h.MsgType == "" {
		return errors.New("invalid header: msg_type is missing")
	}
	m.MsgID, m.MsgType, m.Session = h.MsgID, h.MsgType, h.Session

	var p headerFields
	if err := decodeObject(m.Parent, &p); err != nil {
		return fmt.Errorf("invalid parent_header: %w", err)
	}
	m.ParentID, m.ParentType, m.ParentSession = p.MsgID, p.MsgType, p.Session
	return nil
}

// decodeObject decodes data, which must hold one JSON object, into v.
func decodeObject(data []byte, v any) error {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return errors.New("not a JSON object")
	}
	return json.Unmarshal(data, v)
}

// isObject reports whether data starts like a JSON object. It is a cheap
// check for the parts the bridge relays without decoding.
func isObject(data []byte) bool {
	trimmed := bytes.TrimSpace(data)
	return len(trimmed) >= 2 && trimmed[0] == '{' && trimmed[len(trimmed)-1] == '}'
}

// isReply reports whether msgType names a reply, which ends the request that
// caused it.
func isReply(msgType string) bool { return strings.HasSuffix(msgType, "_reply") }

// isRequest reports whether msgType names a request, which is answered by
// one reply on the same channel.
func isRequest(msgType string) bool { return strings.HasSuffix(msgType, "_request") }

// signer makes and checks the HMAC-SHA256 signatures of messages. An empty
// key disables signing, as the connection file format specifies. A signer is
// not safe for concurrent use.
type signer struct {
	mac hash.Hash // nil when signing is disabled
	sum []byte
}

func newSigner(key string) *signer {
	if key == "" {
		return &signer{}
	}
	return &signer{mac: hmac.New(sha256.New, []byte(key))}
}

// sign returns the lowercase hex signature over the four dict parts.
func (s *signer) sign(header, parent, metadata, content []byte) []byte {
	if s.mac == nil {
		return []byte{}
	}
	sum := s.digest(header, parent, metadata, content)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum)
	return out
}

func (s *signer) digest(parts ...[]byte) []byte {
	s.mac.Reset()
	for _, p := range parts {
		s.mac.Write(p)
	}
	s.sum = s.mac.Sum(s.sum[:0])
	return s.sum
}

// verify reports whether sig is the signature of the four dict parts. The
// comparison takes constant time.
func (s *signer) verify(sig, header, parent, metadata, content []byte) bool {
	if s.mac == nil {
		return true
	}
	var want [sha256.Size]byte
	if hex.DecodedLen(len(sig)) != len(want) {
		return false
	}
	if _, err := hex.Decode(want[:], sig); err != nil {
		return false
	}
	return hmac.Equal(want[:], s.digest(header, parent, metadata, content))
}

// Errors of parseWire.
var (
	errNoDelimiter  = errors.New("no <IDS|MSG> delimiter frame")
	errShortMessage = errors.New("fewer than five frames after the delimiter")
	errBadSignature = errors.New("invalid signature")
)

// parseWire parses the frames of one ZeroMQ message,
// [routing ids…] <IDS|MSG> signature header parent metadata content [buffers…],
// and checks its signature. The returned message shares the frames' memory.
func parseWire(frames [][]byte, s *signer) (*Message, []byte, error) {
	i := 0
	for i < len(frames) && !bytes.Equal(frames[i], delimiter) {
		i++
	}
	if i == len(frames) {
		return nil, nil, errNoDelimiter
	}
	rest := frames[i+1:]
	if len(rest) < 5 {
		return nil, nil, errShortMessage
	}
	sig := rest[0]
	m := &Message{Header: rest[1], Parent: rest[2], Metadata: rest[3], Content: rest[4]}
	if len(rest) > 5 {
		m.Buffers = rest[5:]
	}
	if !s.verify(sig, m.Header, m.Parent, m.Metadata, m.Content) {
		return nil, nil, errBadSignature
	}
	if err := m.parseHeaders(); err != nil {
		return nil, nil, err
	}
	return m, sig, nil
}

// wireFrames returns the ZeroMQ frames of m, signed by s, without routing
// ids: DEALER sockets add none.
func wireFrames(m *Message, s *signer) [][]byte {
	frames := make([][]byte, 0, 6+len(m.Buffers))
	frames = append(frames, delimiter,
		s.sign(m.Header, m.Parent, m.Metadata, m.Content),
		m.Header, m.Parent, m.Metadata, m.Content)
	return append(frames, m.Buffers...)
}

// replayGuard remembers the most recent signatures so a message received
// twice is dropped, as jupyter_client's Session does.
type replayGuard struct {
	seen map[[sha256.Size]byte]struct{}
	ring [][sha256.Size]byte
	next int
}

const replayHistory = 1 << 13

func newReplayGuard() *replayGuard {
	return &replayGuard{
		seen: make(map[[sha256.Size]byte]struct{}, replayHistory),
		ring: make([][sha256.Size]byte, 0, replayHistory),
	}
}

// duplicate records sig and reports whether it was seen before. Empty
// signatures, used when signing is off, are never duplicates.
func (g *replayGuard) duplicate(sig []byte) bool {
	var key [sha256.Size]byte
	if len(sig) == 0 || hex.DecodedLen(len(sig)) != len(key) {
		return false
	}
	if _, err := hex.Decode(key[:], sig); err != nil {
		return false
	}
	if _, ok := g.seen[key]; ok {
		return true
	}
	if len(g.ring) < cap(g.ring) {
		g.ring = append(g.ring, key)
	} else {
		delete(g.seen, g.ring[g.next])
		g.ring[g.next] = key
		g.next = (g.next + 1) % len(g.ring)
	}
	g.seen[key] = struct{}{}
	return false
}

// header is the header of a message the server makes itself.
type header struct {
	MsgID    string `json:"msg_id"`
	MsgType  string `json:"msg_type"`
	Username string `json:"username"`
	Session  string `json:"session"`
	Date     string `json:"date"`
	Version  string `json:"version"`
}

// isoTime formats t as jupyter_server does: ISO 8601 in UTC with a Z suffix
// and microseconds.
func isoTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

// newMessage builds a message from the server's own session. parent is the
// serialized parent header, or nil for none. content must marshal to a JSON
// object.
func newMessage(channel, msgType, session string, parent []byte, content any) *Message {
	h := header{
		MsgID:    uuid.NewString(),
		MsgType:  msgType,
		Username: "jupygo",
		Session:  session,
		Date:     isoTime(time.Now()),
		Version:  protocolVersion,
	}
	hb, _ := json.Marshal(h) // a struct of strings always marshals
	cb, err := json.Marshal(content)
	if err != nil {
		cb = []byte("{}")
	}
	if len(parent) == 0 {
		parent = []byte("{}")
	}
	m := &Message{
		Channel: channel, Header: hb, Parent: parent,
		Metadata: []byte("{}"), Content: cb,
		MsgID: h.MsgID, MsgType: msgType, Session: session,
	}
	var p headerFields
	if decodeObject(parent, &p) == nil {
		m.ParentID, m.ParentType, m.ParentSession = p.MsgID, p.MsgType, p.Session
	}
	return m
}
