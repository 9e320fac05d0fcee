package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// delimiter separates the routing identities of a ZeroMQ kernel message
// from its signature and dict frames.
var delimiter = []byte("<IDS|MSG>")

// signer computes and checks the HMAC-SHA256 message signatures of the
// kernel wire protocol. An empty key disables signing, as in
// jupyter_client: signatures are empty and not checked.
type signer struct {
	key []byte
}

// sign returns the lowercase hex HMAC-SHA256 of the four dict frames in
// order, or "" when the key is empty.
func (s signer) sign(dicts [4][]byte) []byte {
	if len(s.key) == 0 {
		return nil
	}
	mac := hmac.New(sha256.New, s.key)
	for _, d := range dicts {
		mac.Write(d)
	}
	sum := mac.Sum(nil)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum)
	return out
}

// verify reports whether signature matches the dict frames, comparing in
// constant time.
func (s signer) verify(signature []byte, dicts [4][]byte) bool {
	if len(s.key) == 0 {
		return true
	}
	return hmac.Equal(signature, s.sign(dicts))
}

// encodeZMQ returns the frames of m for a DEALER socket: delimiter,
// signature, the four dict frames and the buffers. A DEALER adds no
// routing identity of its own, so none is written.
func encodeZMQ(m Message, s signer) ([][]byte, error) {
	dicts, err := marshalDicts(m)
	if err != nil {
		return nil, err
	}
	frames := make([][]byte, 0, 6+len(m.Buffers))
	frames = append(frames, delimiter, s.sign(dicts))
	frames = append(frames, dicts[:]...)
	return append(frames, m.Buffers...), nil
}

// decodeZMQ parses the frames of a kernel message received on channel.
// Frames before the delimiter (identities, or the iopub topic) are
// skipped. It returns an error, and does not panic (FuzzDecodeZMQ), when
// the delimiter or a dict frame is missing, the signature does not match
// or a dict is not JSON.
//
// NOTE: it does not reject replayed signatures as jupyter_client does,
// because the benchmark talks only to kernels it started on loopback.
func decodeZMQ(frames [][]byte, channel string, s signer) (Message, error) {
	i := 0
	for i < len(frames) && !bytes.Equal(frames[i], delimiter) {
		i++
	}
	if i == len(frames) {
		return Message{}, errors.New("zmq message: no <IDS|MSG> delimiter")
	}
	rest := frames[i+1:]
	if len(rest) < 5 {
		return Message{}, fmt.Errorf("zmq message: %d frames after the delimiter, want at least 5", len(rest))
	}
	dicts := [4][]byte{rest[1], rest[2], rest[3], rest[4]}
	if !s.verify(rest[0], dicts) {
		return Message{}, errors.New("zmq message: invalid signature")
	}
	m := Message{Channel: channel}
	if err := unmarshalDicts(&m, dicts[0], dicts[1], dicts[2], dicts[3]); err != nil {
		return Message{}, fmt.Errorf("zmq message: %w", err)
	}
	if len(rest) > 5 {
		m.Buffers = rest[5:]
	}
	return m, nil
}
