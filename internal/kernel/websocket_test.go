package kernel

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
)

// jupyterLabFrame is one frame of testdata/framing/jupyterlab.json, made by
// JupyterLab's own serializer (see generate.js there).
type jupyterLabFrame struct {
	Name     string `json:"name"`
	Protocol string `json:"protocol"`
	Text     bool   `json:"text"`
	Frame    string `json:"frame"`
}

func TestDecodeJupyterLabFrames(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "framing", "jupyterlab.json"))
	if err != nil {
		t.Fatal(err)
	}
	var frames []jupyterLabFrame
	if err := json.Unmarshal(data, &frames); err != nil {
		t.Fatal(err)
	}
	wantBuffers := map[string][][]byte{"shell two buffers": {{0, 1, 255}, {}}}
	wantChannel := map[string]string{"stdin": "stdin"}
	for _, f := range frames {
		t.Run(f.Name+"/"+f.Protocol, func(t *testing.T) {
			frame, err := hex.DecodeString(f.Frame)
			if err != nil {
				t.Fatal(err)
			}
			typ := websocket.MessageBinary
			if f.Text {
				typ = websocket.MessageText
			}
			m, err := framingFor(f.Protocol).decode(typ, frame)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			channel := wantChannel[f.Name]
			if channel == "" {
				channel = "shell"
			}
			got := []string{m.Channel, m.MsgID, m.MsgType, m.Session}
			want := []string{channel, "f0e1d2c3-0001", "comm_msg", "b4a5c6d7-0002"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			checkJSON(t, "metadata", m.Metadata, `{"tag":"é"}`)
			checkJSON(t, "content", m.Content, `{"comm_id":"c-1","data":{"x":[1,2]}}`)
			checkJSON(t, "parent_header", m.Parent, `{}`)
			if diff := cmp.Diff(wantBuffers[f.Name], m.Buffers); diff != "" {
				t.Errorf("buffers (-want +got):\n%s", diff)
			}
		})
	}
}

// checkJSON compares the JSON value of got with want.
func checkJSON(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("%s %q is not JSON: %v", what, got, err)
		return
	}
	json.Unmarshal([]byte(want), &w)
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

func TestFramingRoundTrip(t *testing.T) {
	msg := func(buffers ...[]byte) *Message {
		m := newMessage(channelIOPub, "comm_msg", "s", []byte(`{"msg_id":"p"}`),
			map[string]any{"data": "ü"})
		m.Buffers = buffers
		return m
	}
	tests := []struct {
		name     string
		protocol string
		msg      *Message
		wantType websocket.MessageType
	}{
		{"v1 without buffers", protocolV1, msg(), websocket.MessageBinary},
		{"v1 with buffers", protocolV1, msg([]byte{1}, []byte{}, []byte("abc")), websocket.MessageBinary},
		{"legacy without buffers", "", msg(), websocket.MessageText},
		{"legacy with buffers", "", msg([]byte{1}, []byte("abc")), websocket.MessageBinary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := framingFor(tt.protocol)
			typ, frame, err := f.encode(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if typ != tt.wantType {
				t.Errorf("frame type = %v, want %v", typ, tt.wantType)
			}
			got, err := decodeServerFrame(f, typ, frame)
			if err != nil {
				t.Fatal(err)
			}
			gotFields := []string{got.Channel, got.MsgID, got.MsgType, got.ParentID}
			wantFields := []string{"iopub", tt.msg.MsgID, "comm_msg", "p"}
			if diff := cmp.Diff(wantFields, gotFields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			checkJSON(t, "content", got.Content, `{"data":"ü"}`)
			if diff := cmp.Diff(tt.msg.Buffers, got.Buffers); diff != "" {
				t.Errorf("buffers (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEncodeV1Layout checks the offsets of a v1 frame against the layout:
// n = parts + 1 offsets, the first at 8 × (n + 1), the last at the end.
func TestEncodeV1Layout(t *testing.T) {
	m := &Message{Channel: "shell", Header: []byte("{}"), Parent: []byte("{}"),
		Metadata: []byte("{}"), Content: []byte("{}"), Buffers: [][]byte{{9}}}
	frame := encodeV1(m)
	var got []uint64
	for i := 0; i < 8; i++ {
		got = append(got, binary.LittleEndian.Uint64(frame[8*i:]))
	}
	want := []uint64{7, 64, 69, 71, 73, 75, 77, 78}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("count and offsets (-want +got):\n%s", diff)
	}
	if len(frame) != 78 || string(frame[64:69]) != "shell" || frame[77] != 9 {
		t.Errorf("frame body = %q", frame[64:])
	}
}

func TestEncodeLegacyLayout(t *testing.T) {
	frame := encodeLegacyBinary([]byte("{}"), [][]byte{{1, 2}, {3}})
	var got []uint32
	for i := 0; i < 4; i++ {
		got = append(got, binary.BigEndian.Uint32(frame[4*i:]))
	}
	want := []uint32{3, 16, 18, 20}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("count and offsets (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]byte("{}\x01\x02\x03"), frame[16:]); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestDecodeInvalidFrames(t *testing.T) {
	valid := encodeV1(&Message{Channel: "shell", Header: []byte(`{"msg_id":"1","msg_type":"x"}`),
		Parent: []byte("{}"), Metadata: []byte("{}"), Content: []byte("{}")})
	outside := append([]byte{}, valid...)
	binary.LittleEndian.PutUint64(outside[16:], 1<<40)
	decreasing := append([]byte{}, valid...)
	binary.LittleEndian.PutUint64(decreasing[24:], 57)
	noHeader := encodeV1(&Message{Channel: "shell", Header: []byte(`{}`),
		Parent: []byte("{}"), Metadata: []byte("{}"), Content: []byte("{}")})
	arrayContent := encodeV1(&Message{Channel: "shell", Header: []byte(`{"msg_type":"x"}`),
		Parent: []byte("{}"), Metadata: []byte("{}"), Content: []byte("[]")})

	tests := []struct {
		name     string
		protocol string
		typ      websocket.MessageType
		frame    []byte
	}{
		{"v1 empty", protocolV1, websocket.MessageBinary, nil},
		{"v1 text frame", protocolV1, websocket.MessageText, valid},
		{"v1 huge count", protocolV1, websocket.MessageBinary, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"v1 truncated table", protocolV1, websocket.MessageBinary, valid[:30]},
		{"v1 offset outside", protocolV1, websocket.MessageBinary, outside},
		{"v1 offsets decrease", protocolV1, websocket.MessageBinary, decreasing},
		{"v1 no msg_type", protocolV1, websocket.MessageBinary, noHeader},
		{"v1 content not an object", protocolV1, websocket.MessageBinary, arrayContent},
		{"legacy not JSON", "", websocket.MessageText, []byte("{")},
		{"legacy array", "", websocket.MessageText, []byte("[]")},
		{"legacy header null", "", websocket.MessageText, []byte(`{"header":null}`)},
		{"legacy binary short", "", websocket.MessageBinary, []byte{0, 0}},
		{"legacy binary zero parts", "", websocket.MessageBinary, []byte{0, 0, 0, 0}},
		{"legacy binary offset outside", "", websocket.MessageBinary, []byte{0, 0, 0, 1, 0, 0, 1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m, err := framingFor(tt.protocol).decode(tt.typ, tt.frame); err == nil {
				t.Errorf("decode accepted the frame: %+v", m)
			}
		})
	}
}

func TestLegacyMessageDefaults(t *testing.T) {
	m, err := decodeLegacyJSON([]byte(`{"header":{"msg_id":"1","msg_type":"kernel_info_request"}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{m.Channel, string(m.Parent), string(m.Metadata), string(m.Content)}
	want := []string{"shell", "{}", "{}", "{}"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func FuzzDecodeV1(f *testing.F) {
	f.Add(encodeV1(&Message{Channel: "shell", Header: []byte(`{"msg_id":"1","msg_type":"x"}`),
		Parent: []byte("{}"), Metadata: []byte("{}"), Content: []byte("{}"), Buffers: [][]byte{{1}}}))
	f.Add([]byte{6, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, frame []byte) {
		m, err := decodeV1(frame)
		if err != nil {
			return
		}
		// A frame that decodes must survive encoding and decoding again.
		again, err := decodeV1(encodeV1(m))
		if err != nil {
			t.Fatalf("re-encoded frame does not decode: %v", err)
		}
		if again.MsgType != m.MsgType || len(again.Buffers) != len(m.Buffers) {
			t.Fatalf("round trip changed the message: %+v vs %+v", m, again)
		}
	})
}

func FuzzDecodeLegacy(f *testing.F) {
	body := []byte(`{"header":{"msg_id":"1","msg_type":"comm_msg"},"channel":"shell","content":{}}`)
	f.Add(body, false)
	f.Add(encodeLegacyBinary(body, [][]byte{{1, 2}}), true)
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 8}, true)
	f.Add([]byte(`{"header":{}}`), false)
	f.Fuzz(func(t *testing.T, frame []byte, binaryFrame bool) {
		typ := websocket.MessageText
		if binaryFrame {
			typ = websocket.MessageBinary
		}
		m, err := legacyFraming{}.decode(typ, frame)
		if err != nil {
			return
		}
		if m.MsgType == "" {
			t.Fatalf("decoded message without msg_type: %+v", m)
		}
		if _, _, err := (legacyFraming{}).encode(m); err != nil && json.Valid(m.Content) && json.Valid(m.Metadata) {
			t.Fatalf("decoded message does not encode: %v", err)
		}
	})
}
