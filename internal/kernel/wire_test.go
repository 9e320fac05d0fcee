package kernel

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testKey = "0123456789abcdef0123456789abcdef"

// wireMessage returns the frames of a signed message with routing ids.
func wireMessage(s *signer, ids [][]byte, header, parent string, buffers ...[]byte) [][]byte {
	m := &Message{Header: []byte(header), Parent: []byte(parent),
		Metadata: []byte("{}"), Content: []byte(`{"a":1}`), Buffers: buffers}
	return append(append([][]byte{}, ids...), wireFrames(m, s)...)
}

func TestSignVerify(t *testing.T) {
	s := newSigner(testKey)
	h, p, md, c := []byte(`{"msg_id":"1"}`), []byte("{}"), []byte("{}"), []byte(`{"x":1}`)
	sig := s.sign(h, p, md, c)
	// The HMAC-SHA256 of the four parts in order, as Python's hmac module
	// computes it for this key.
	const want = "d5ff39bc6d7f809aae8d3fa711a4bf7ebc3628f7cdd41cde088fe78a304becd6"
	if string(sig) != want {
		t.Fatalf("signature = %s, want %s", sig, want)
	}
	if !s.verify(sig, h, p, md, c) {
		t.Error("verify rejects its own signature")
	}
	bad := bytes.Clone(sig)
	bad[0] ^= 1
	if s.verify(bad, h, p, md, c) {
		t.Error("verify accepts a changed signature")
	}
	if s.verify(sig, h, p, md, []byte(`{"x":2}`)) {
		t.Error("verify accepts changed content")
	}
	if s.verify([]byte("zz"), h, p, md, c) {
		t.Error("verify accepts a short signature")
	}
	if off := newSigner(""); !off.verify(nil, h, p, md, c) || len(off.sign(h, p, md, c)) != 0 {
		t.Error("an empty key must disable signing")
	}
}

func TestParseWire(t *testing.T) {
	s := newSigner(testKey)
	header := `{"msg_id":"m1","msg_type":"execute_reply","session":"s1"}`
	parent := `{"msg_id":"p1","msg_type":"execute_request","session":"s2"}`
	good := wireMessage(s, [][]byte{[]byte("topic")}, header, parent, []byte{1, 2})
	tampered := wireMessage(s, nil, header, parent)
	tampered[5] = []byte(`{"a":2}`)
	noType := wireMessage(s, nil, `{"msg_id":"m1"}`, "{}")
	notObject := wireMessage(s, nil, `[1]`, "{}")

	tests := []struct {
		name    string
		frames  [][]byte
		wantErr bool
	}{
		{"signed with ids and buffer", good, false},
		{"no delimiter", [][]byte{[]byte("a"), []byte("b")}, true},
		{"too few frames", good[:5], true},
		{"bad signature", tampered, true},
		{"missing msg_type", noType, true},
		{"header not an object", notObject, true},
		{"empty", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, err := parseWire(tt.frames, s)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			got := []string{m.MsgID, m.MsgType, m.Session, m.ParentID, m.ParentType, m.ParentSession}
			want := []string{"m1", "execute_reply", "s1", "p1", "execute_request", "s2"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([][]byte{{1, 2}}, m.Buffers); diff != "" {
				t.Errorf("buffers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReplayGuard(t *testing.T) {
	g := newReplayGuard()
	s := newSigner(testKey)
	sig := s.sign([]byte("{}"), []byte("{}"), []byte("{}"), []byte("{}"))
	if g.duplicate(sig) {
		t.Fatal("first signature reported as duplicate")
	}
	if !g.duplicate(sig) {
		t.Fatal("second signature not reported as duplicate")
	}
	if g.duplicate(nil) || g.duplicate(nil) {
		t.Error("empty signatures must never be duplicates")
	}
	// The history is bounded: after replayHistory other signatures the first
	// is forgotten.
	for i := range replayHistory {
		g.duplicate(s.sign([]byte{byte(i)}, []byte{byte(i >> 8)}, nil, nil))
	}
	if g.duplicate(sig) {
		t.Error("signature older than the history still remembered")
	}
	if len(g.seen) > replayHistory {
		t.Errorf("history holds %d signatures, want at most %d", len(g.seen), replayHistory)
	}
}

func FuzzParseWire(f *testing.F) {
	s := newSigner(testKey)
	seed := wireMessage(s, [][]byte{[]byte("id")}, `{"msg_id":"a","msg_type":"status"}`, "{}", []byte("buf"))
	f.Add(bytes.Join(seed, []byte{0}), true)
	f.Add([]byte("<IDS|MSG>\x00\x00{}\x00{}\x00{}\x00{}"), false)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, data []byte, signed bool) {
		key := ""
		if signed {
			key = testKey
		}
		frames := bytes.Split(data, []byte{0})
		m, _, err := parseWire(frames, newSigner(key))
		if err == nil && (m.MsgType == "" || m.Header == nil) {
			t.Fatalf("parsed message without msg_type: %+v", m)
		}
	})
}
