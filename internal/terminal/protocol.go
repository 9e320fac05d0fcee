package terminal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// Message kinds of terminado's protocol. Clients send stdin and set_size;
// the server sends setup, stdout and disconnect.
const (
	kindStdin      = "stdin"
	kindSetSize    = "set_size"
	kindSetup      = "setup"
	kindStdout     = "stdout"
	kindDisconnect = "disconnect"
)

// maxDimension bounds the rows and columns a client may ask for. Larger
// values, zero and negative ones are ignored, as no screen has them.
const maxDimension = 10000

// message is one decoded client message: a JSON array whose first element
// names its kind. For stdin, Data is the text to type; for set_size, Rows
// and Cols are the client's size. Kinds the server does not know are kept
// with no data, and ignored, as terminado ignores them.
type message struct {
	Kind       string
	Data       string
	Rows, Cols int
}

// errBadSize marks a set_size message with a size out of range, which the
// server ignores instead of closing the connection.
var errBadSize = errors.New("terminal size out of range")

// parseMessage decodes a client frame. It returns an error for anything
// that is not a JSON array starting with a string, for a stdin message
// without text, and for a set_size message without two integer sizes. For
// a size out of range, the error wraps errBadSize.
func parseMessage(frame []byte) (message, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(frame, &parts); err != nil {
		return message{}, fmt.Errorf("message is not a JSON array: %w", err)
	}
	if len(parts) == 0 {
		return message{}, errors.New("message is an empty array")
	}
	var m message
	if err := json.Unmarshal(parts[0], &m.Kind); err != nil {
		return message{}, errors.New("message kind is not a string")
	}
	switch m.Kind {
	case kindStdin:
		if len(parts) < 2 || json.Unmarshal(parts[1], &m.Data) != nil || isNull(parts[1]) {
			return message{}, errors.New("stdin message without a text")
		}
	case kindSetSize:
		if len(parts) < 3 {
			return message{}, errors.New("set_size message without rows and columns")
		}
		var err error
		if m.Rows, err = dimension(parts[1]); err != nil {
			return message{}, fmt.Errorf("set_size rows: %w", err)
		}
		if m.Cols, err = dimension(parts[2]); err != nil {
			return message{}, fmt.Errorf("set_size columns: %w", err)
		}
	}
	return m, nil
}

func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// dimension decodes a row or column count: a JSON number with no fraction,
// from 1 to maxDimension.
func dimension(raw json.RawMessage) (int, error) {
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || isNull(raw) {
		return 0, errors.New("not a number")
	}
	if f != math.Trunc(f) {
		return 0, fmt.Errorf("%v is not a whole number", f)
	}
	if f < 1 || f > maxDimension {
		return 0, fmt.Errorf("%w: %v is not between 1 and %d", errBadSize, f, maxDimension)
	}
	return int(f), nil
}

// encodeMessage returns the frame of a server message: the kind followed by
// its arguments, as a JSON array.
func encodeMessage(kind string, args ...any) []byte {
	data, err := json.Marshal(append([]any{kind}, args...))
	if err != nil {
		// Only strings, numbers and empty objects are sent.
		panic(fmt.Sprintf("encoding terminal message %s: %v", kind, err))
	}
	return data
}

// utf8Decoder turns the bytes a terminal writes into text, as terminado's
// incremental decoder does: a character split between two reads is joined,
// and invalid bytes become U+FFFD. It is not safe for concurrent use.
type utf8Decoder struct {
	pending []byte // the start of a character that the next read completes
}

// decode returns the text of the complete characters in p and keeps an
// unfinished last character for the next call.
func (d *utf8Decoder) decode(p []byte) string {
	buf := append(d.pending, p...)
	n := len(buf) - incompleteTail(buf)
	d.pending = append(d.pending[:0:0], buf[n:]...)
	return string(bytes.ToValidUTF8(buf[:n], []byte("\uFFFD")))
}

// flush returns what an unfinished last character left, as U+FFFD.
func (d *utf8Decoder) flush() string {
	if len(d.pending) == 0 {
		return ""
	}
	d.pending = nil
	return "\uFFFD"
}

// incompleteTail returns the length of the unfinished character that b
// ends with: the lead byte of a multi-byte character and fewer
// continuation bytes than it needs. It returns 0 when b ends whole.
func incompleteTail(b []byte) int {
	for i := 1; i <= utf8.UTFMax-1 && i <= len(b); i++ {
		c := b[len(b)-i]
		if c&0xC0 == 0x80 {
			continue // a continuation byte: look further back
		}
		if c < 0xC0 || c >= 0xF8 {
			return 0 // ASCII, or a byte that starts no character
		}
		if need := leadLength(c); need > i {
			return i
		}
		return 0
	}
	return 0
}

// leadLength returns the length of the character that lead byte c starts.
func leadLength(c byte) int {
	switch {
	case c >= 0xF0:
		return 4
	case c >= 0xE0:
		return 3
	default:
		return 2
	}
}
