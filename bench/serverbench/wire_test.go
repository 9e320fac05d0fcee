package main

import (
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func sampleMessage(buffers ...[]byte) Message {
	return Message{
		Channel: "shell",
		Header: Header{MsgID: "m1", Session: "s1", Username: "bench", Date: "2024-01-01T00:00:00.000000Z",
			MsgType: "execute_request", Version: protocolVersion},
		Parent:   Header{MsgID: "p1", MsgType: "kernel_info_request"},
		Metadata: json.RawMessage(`{"a":1}`),
		Content:  json.RawMessage(`{"code":"1+1"}`),
		Buffers:  buffers,
	}
}

func TestFramingRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
	}{
		{"no buffers", sampleMessage()},
		{"two buffers", sampleMessage([]byte("abc"), []byte{0, 1, 2})},
		{"empty buffer", sampleMessage([]byte{})},
		{"empty parent", Message{Channel: "iopub", Header: Header{MsgID: "x", MsgType: "status"},
			Metadata: json.RawMessage(`{}`), Content: json.RawMessage(`{"execution_state":"idle"}`)}},
	}
	for _, tt := range tests {
		t.Run("v1/"+tt.name, func(t *testing.T) {
			frame, err := encodeV1(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeV1(frame)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.msg, got); diff != "" {
				t.Errorf("v1 round trip (-want +got):\n%s", diff)
			}
		})
		t.Run("legacy/"+tt.name, func(t *testing.T) {
			frame, binaryFrame, err := encodeLegacy(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if binaryFrame != (len(tt.msg.Buffers) > 0) {
				t.Errorf("binary frame = %v with %d buffers", binaryFrame, len(tt.msg.Buffers))
			}
			got, err := decodeLegacy(frame, binaryFrame)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.msg, got); diff != "" {
				t.Errorf("legacy round trip (-want +got):\n%s", diff)
			}
		})
		t.Run("zmq/"+tt.name, func(t *testing.T) {
			s := signer{key: []byte("k")}
			frames, err := encodeZMQ(tt.msg, s)
			if err != nil {
				t.Fatal(err)
			}
			routed := append([][]byte{[]byte("identity")}, frames...)
			got, err := decodeZMQ(routed, tt.msg.Channel, s)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.msg, got); diff != "" {
				t.Errorf("zmq round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncodeV1Layout(t *testing.T) {
	frame, err := encodeV1(sampleMessage([]byte("buf")))
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(frame)
	if n != 7 {
		t.Fatalf("offset count = %d, want 7 (6 parts plus the end offset)", n)
	}
	if first := binary.LittleEndian.Uint64(frame[8:]); first != 8*(n+1) {
		t.Errorf("first offset = %d, want %d", first, 8*(n+1))
	}
	if last := binary.LittleEndian.Uint64(frame[8*n:]); last != uint64(len(frame)) {
		t.Errorf("last offset = %d, want frame length %d", last, len(frame))
	}
	if got := string(frame[8*(n+1) : 8*(n+1)+5]); got != "shell" {
		t.Errorf("first part = %q, want the channel", got)
	}
}

func TestDecodeLegacyServerJSON(t *testing.T) {
	// A reply as jupyter-server sends it: msg_id and msg_type copied to
	// the top level, buffers empty.
	text := `{"header":{"msg_id":"r1","msg_type":"execute_reply","session":"k","username":"u",` +
		`"date":"2024-01-01T00:00:00.000000Z","version":"5.3"},"msg_id":"r1","msg_type":"execute_reply",` +
		`"parent_header":{"msg_id":"m1"},"metadata":{},"content":{"status":"ok"},"buffers":[],"channel":"shell"}`
	got, err := decodeLegacy([]byte(text), false)
	if err != nil {
		t.Fatal(err)
	}
	want := Message{
		Channel: "shell",
		Header: Header{MsgID: "r1", MsgType: "execute_reply", Session: "k", Username: "u",
			Date: "2024-01-01T00:00:00.000000Z", Version: "5.3"},
		Parent:   Header{MsgID: "m1"},
		Metadata: json.RawMessage(`{}`),
		Content:  json.RawMessage(`{"status":"ok"}`),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decodeLegacy (-want +got):\n%s", diff)
	}
}

func TestDecodeRejects(t *testing.T) {
	valid, err := encodeV1(sampleMessage())
	if err != nil {
		t.Fatal(err)
	}
	outOfOrder := append([]byte(nil), valid...)
	binary.LittleEndian.PutUint64(outOfOrder[16:], 0)
	signed, err := encodeZMQ(sampleMessage(), signer{key: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		decode func() error
	}{
		{"v1 empty", func() error { _, err := decodeV1(nil); return err }},
		{"v1 truncated", func() error { _, err := decodeV1(valid[:40]); return err }},
		{"v1 offsets out of order", func() error { _, err := decodeV1(outOfOrder); return err }},
		{"v1 huge count", func() error {
			f := make([]byte, 64)
			binary.LittleEndian.PutUint64(f, 1<<62)
			_, err := decodeV1(f)
			return err
		}},
		{"legacy not json", func() error { _, err := decodeLegacy([]byte("{"), false); return err }},
		{"legacy binary zero count", func() error { _, err := decodeLegacy(make([]byte, 8), true); return err }},
		{"legacy binary offset past end", func() error {
			f := []byte{0, 0, 0, 1, 0, 0, 0, 200}
			_, err := decodeLegacy(f, true)
			return err
		}},
		{"zmq no delimiter", func() error {
			_, err := decodeZMQ([][]byte{[]byte("a"), []byte("b")}, "shell", signer{})
			return err
		}},
		{"zmq bad signature", func() error {
			_, err := decodeZMQ(signed, "shell", signer{key: []byte("other")})
			return err
		}},
		{"zmq too few frames", func() error {
			_, err := decodeZMQ([][]byte{delimiter, []byte("sig"), []byte("{}")}, "shell", signer{})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.decode(); err == nil {
				t.Error("decoded without error, want an error")
			}
		})
	}
}

func TestSignKnownVector(t *testing.T) {
	// Computed with Python's hmac module (hashlib.sha256) over the same
	// four frames, as jupyter_client signs them.
	const want = "712005a3ddfac00ddc4b5e88335391b3a6ee2873954746371defcd8f11725fad"
	dicts := [4][]byte{[]byte(`{"msg_id":"a"}`), []byte(`{}`), []byte(`{}`), []byte(`{"code":"1+1"}`)}
	s := signer{key: []byte("secret-key")}
	if got := string(s.sign(dicts)); got != want {
		t.Errorf("sign = %s, want %s", got, want)
	}
	if !s.verify([]byte(want), dicts) {
		t.Error("verify rejected the correct signature")
	}
	if got := (signer{}).sign(dicts); got != nil {
		t.Errorf("sign with empty key = %q, want empty", got)
	}
}

func FuzzDecodeV1(f *testing.F) {
	frame, _ := encodeV1(sampleMessage([]byte("b")))
	f.Add(frame)
	f.Add([]byte{})
	f.Add(make([]byte, 56))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeV1(data)
		if err != nil {
			return
		}
		if _, err := encodeV1(m); err != nil {
			t.Errorf("re-encoding a decoded frame: %v", err)
		}
	})
}

func FuzzDecodeLegacy(f *testing.F) {
	text, _, _ := encodeLegacy(sampleMessage())
	bin, _, _ := encodeLegacy(sampleMessage([]byte("b")))
	f.Add(text, false)
	f.Add(bin, true)
	f.Add([]byte(`{"header":null}`), false)
	f.Add([]byte{0, 0, 0, 2, 0, 0, 0, 12, 0, 0, 0, 12}, true)
	f.Fuzz(func(t *testing.T, data []byte, binaryFrame bool) {
		_, _ = decodeLegacy(data, binaryFrame)
	})
}

func FuzzDecodeZMQ(f *testing.F) {
	s := signer{key: []byte("k")}
	frames, _ := encodeZMQ(sampleMessage(), s)
	f.Add(frames[0], frames[1], frames[2], frames[3], frames[4], frames[5])
	f.Add([]byte("id"), delimiter, []byte(""), []byte("{}"), []byte("{}"), []byte("{}"))
	f.Fuzz(func(t *testing.T, a, b, c, d, e, g []byte) {
		_, _ = decodeZMQ([][]byte{a, b, c, d, e, g}, "shell", s)
		_, _ = decodeZMQ([][]byte{a, b, c, d, e, g}, "shell", signer{})
	})
}
