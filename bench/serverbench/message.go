package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// protocolVersion is the kernel messaging protocol version that the
// benchmark's requests declare (the version jupyter_client 7 sends).
const protocolVersion = "5.3"

// Header is the header (or parent_header) of a Jupyter kernel message.
// The zero Header is the empty parent_header `{}`.
type Header struct {
	MsgID    string `json:"msg_id,omitempty"`
	Session  string `json:"session,omitempty"`
	Username string `json:"username,omitempty"`
	Date     string `json:"date,omitempty"`
	MsgType  string `json:"msg_type,omitempty"`
	Version  string `json:"version,omitempty"`
}

// Message is one kernel message as both framings and the ZeroMQ wire
// format carry it. Metadata and Content hold JSON objects.
type Message struct {
	Channel  string
	Header   Header
	Parent   Header
	Metadata json.RawMessage
	Content  json.RawMessage
	Buffers  [][]byte
}

// newRequest builds a request of type msgType for channel with a fresh
// msg_id in the client session session. content is marshalled to JSON.
func newRequest(channel, session, msgType string, content any) (Message, error) {
	body, err := json.Marshal(content)
	if err != nil {
		return Message{}, fmt.Errorf("encoding %s content: %w", msgType, err)
	}
	h := Header{
		MsgID:    uuid.NewString(),
		Session:  session,
		Username: "bench",
		Date:     time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"),
		MsgType:  msgType,
		Version:  protocolVersion,
	}
	return Message{
		Channel:  channel,
		Header:   h,
		Metadata: json.RawMessage("{}"),
		Content:  body,
	}, nil
}

// executeContent returns the content of an execute_request for code, with
// the fields JupyterLab sends.
func executeContent(code string) map[string]any {
	return map[string]any{
		"code":             code,
		"silent":           false,
		"store_history":    true,
		"user_expressions": map[string]any{},
		"allow_stdin":      false,
		"stop_on_error":    true,
	}
}

// executionState returns the execution_state of a status message, or "" for
// any other message.
func executionState(m Message) string {
	if m.Header.MsgType != "status" {
		return ""
	}
	var c struct {
		State string `json:"execution_state"`
	}
	if err := json.Unmarshal(m.Content, &c); err != nil {
		return ""
	}
	return c.State
}

// replyStatus returns the status field of a reply's content ("ok",
// "error" or "aborted"), or "" when it has none.
func replyStatus(m Message) string {
	var c struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(m.Content, &c); err != nil {
		return ""
	}
	return c.Status
}

// marshalDicts returns the JSON of the four dict parts in wire order:
// header, parent_header, metadata, content.
func marshalDicts(m Message) ([4][]byte, error) {
	var parts [4][]byte
	var err error
	if parts[0], err = json.Marshal(m.Header); err != nil {
		return parts, fmt.Errorf("encoding header: %w", err)
	}
	if parts[1], err = json.Marshal(m.Parent); err != nil {
		return parts, fmt.Errorf("encoding parent_header: %w", err)
	}
	parts[2] = objectOrEmpty(m.Metadata)
	parts[3] = objectOrEmpty(m.Content)
	return parts, nil
}

// unmarshalDicts fills the header, parent, metadata and content of m from
// the four JSON dict parts in wire order.
func unmarshalDicts(m *Message, header, parent, metadata, content []byte) error {
	if err := json.Unmarshal(header, &m.Header); err != nil {
		return fmt.Errorf("decoding header: %w", err)
	}
	if err := json.Unmarshal(parent, &m.Parent); err != nil {
		return fmt.Errorf("decoding parent_header: %w", err)
	}
	if !json.Valid(metadata) {
		return fmt.Errorf("decoding metadata: invalid JSON")
	}
	if !json.Valid(content) {
		return fmt.Errorf("decoding content: invalid JSON")
	}
	m.Metadata = json.RawMessage(metadata)
	m.Content = json.RawMessage(content)
	return nil
}

func objectOrEmpty(raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return []byte("{}")
	}
	return raw
}
