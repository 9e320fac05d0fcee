package yjs

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jupygo/jupygo/yjs/lib0"
)

// jsStringify formats a root of d as the oracle's stringify op does: a
// text's delta, or the JSON of a map of at most one key.
func jsStringify(d *Doc, name, kind string) string {
	if kind == "map" {
		// The maps of these tests have at most one key, so order is moot.
		o := Object{}
		for k, v := range d.GetMap(name).ToJSON() {
			o.Set(k, v)
		}
		return StringifyJSON(o)
	}
	var ops []any
	for _, op := range d.GetText(name).ToDelta() {
		o := Object{}
		o.Set("insert", op.Insert)
		if op.Attributes != nil {
			attrs := Object{}
			for k, v := range op.Attributes {
				attrs.Set(k, v)
			}
			o.Set("attributes", attrs)
		}
		ops = append(ops, o)
	}
	return StringifyJSON(ops)
}

// TestV2LoneSurrogates decodes V2 updates in which yjs cuts a string of the
// string column inside a surrogate pair, leaving lone surrogates in texts
// and keys. yjs builds each update from edits with lone surrogates; both
// sides decode it and must re-encode it to the same V1 and V2 bytes and
// report the same JSON, escapes included.
func TestV2LoneSurrogates(t *testing.T) {
	o := startOracle(t)
	tests := []struct {
		name  string
		roots map[string]string
		peers [][]string // edits as raw JSON, one document per entry
	}{
		{"text items", map[string]string{"t": "text"}, [][]string{{
			`{"target":{"root":"t","kind":"text"},"op":"insertText","index":0,"text":"x\ud83d"}`,
			`{"target":{"root":"t","kind":"text"},"op":"insertText","index":0,"text":"\ude00y"}`,
		}}},
		{"format key", map[string]string{"t": "text"}, [][]string{{
			`{"target":{"root":"t","kind":"text"},"op":"insertText","index":0,"text":"a\ud83d"}`,
			`{"target":{"root":"t","kind":"text"},"op":"insertText","index":2,"text":"z","attrs":{"\ude00b":true}}`,
		}}},
		{"map key", map[string]string{"t": "text", "m": "map"}, [][]string{{
			`{"target":{"root":"t","kind":"text"},"op":"insertText","index":0,"text":"q"}`,
			`{"target":{"root":"m","kind":"map"},"op":"mapSet","key":"k\ud83d","value":1}`,
			`{"target":{"root":"t","kind":"text"},"op":"insertText","index":1,"text":"\ude00y"}`,
		}}},
		{"pair across clients", map[string]string{"t": "text"}, [][]string{
			{`{"target":{"root":"t","kind":"text"},"op":"insertText","index":0,"text":"x\ud83d"}`},
			{`{"target":{"root":"t","kind":"text"},"op":"insertText","index":2,"text":"\ude00y"}`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each peer edits after receiving the state of the one before.
			var state string
			for i, edits := range tt.peers {
				name := t.Name() + "/src" + string(rune('0'+i))
				o.call(t, map[string]any{"op": "new", "doc": name, "client": 10 - i, "roots": tt.roots}, nil)
				defer o.call(t, map[string]any{"op": "drop", "doc": name}, nil)
				if state != "" {
					o.call(t, map[string]any{"op": "apply", "doc": name, "update": state}, nil)
				}
				raw := "["
				for j, e := range edits {
					if j > 0 {
						raw += ","
					}
					raw += e
				}
				o.call(t, map[string]any{"op": "edit", "doc": name, "edits": json.RawMessage(raw + "]")}, nil)
				var st peerState
				o.call(t, map[string]any{"op": "state", "doc": name, "roots": tt.roots}, &st)
				state = st.Update
				if i == len(tt.peers)-1 {
					state = st.UpdateV2
				}
			}
			update := mustHex(t, state)

			name := t.Name() + "/dst"
			o.call(t, map[string]any{"op": "new", "doc": name, "client": 1, "roots": tt.roots}, nil)
			defer o.call(t, map[string]any{"op": "drop", "doc": name}, nil)
			o.call(t, map[string]any{"op": "apply", "doc": name, "update": state, "v2": true}, nil)
			var want peerState
			o.call(t, map[string]any{"op": "state", "doc": name, "roots": tt.roots}, &want)
			var strs struct{ Strings map[string]string }
			o.call(t, map[string]any{"op": "stringify", "doc": name, "roots": tt.roots}, &strs)

			d := NewDoc(WithClientID(1))
			if err := d.ApplyUpdateV2(update, nil); err != nil {
				t.Fatalf("ApplyUpdateV2: %v", err)
			}
			if diff := cmp.Diff(want.Update, hexOf(d.EncodeStateAsUpdate(nil))); diff != "" {
				t.Errorf("V1 state (-yjs +go):\n%s", diff)
			}
			if diff := cmp.Diff(want.UpdateV2, hexOf(d.EncodeStateAsUpdateV2(nil))); diff != "" {
				t.Errorf("V2 state (-yjs +go):\n%s", diff)
			}
			for root, kind := range tt.roots {
				if diff := cmp.Diff(strs.Strings[root], jsStringify(d, root, kind)); diff != "" {
					t.Errorf("%s as JSON (-yjs +go):\n%s", root, diff)
				}
			}
			v1, err := ConvertUpdateV2ToV1(update)
			if err != nil {
				t.Fatal(err)
			}
			var conv struct{ Update string }
			o.call(t, map[string]any{"op": "toV1", "update": state}, &conv)
			if diff := cmp.Diff(conv.Update, hexOf(v1)); diff != "" {
				t.Errorf("V2 to V1 (-yjs +go):\n%s", diff)
			}
		})
	}
}

// TestSplitAfterLoneHighSurrogate splits text after a lone high surrogate:
// yjs's ContentString.splice replaces it and the first unit of the right
// part with U+FFFD.
func TestSplitAfterLoneHighSurrogate(t *testing.T) {
	hi := string(lib0.AppendSurrogate(nil, 0xd83d))
	tests := []struct {
		name, in, left, right string
		off                   int
	}{
		{"before ascii", "x" + hi + "ab", "x\uFFFD", "\uFFFDb", 2},
		{"before a pair", "x" + hi + "😀", "x\uFFFD", "\uFFFD" + string(lib0.AppendSurrogate(nil, 0xde00)), 2},
		{"inside a pair", "a😀b", "a\uFFFD", "\uFFFDb", 2},
		{"plain", "abc", "a", "bc", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newContentString(tt.in)
			n := c.length()
			right := c.splice(tt.off).(*contentString)
			if string(c.b) != tt.left || string(right.b) != tt.right {
				t.Errorf("split %q at %d: got %q, %q, want %q, %q", tt.in, tt.off, c.b, right.b, tt.left, tt.right)
			}
			if c.n+right.n != n || lib0.UTF16Len(string(right.b)) != right.n {
				t.Errorf("lengths %d + %d, want %d in all", c.n, right.n, n)
			}
		})
	}
}

// TestLoneSurrogatesInGoStrings inserts lone surrogates in their WTF-8 form
// through the API: a high and a low one that meet join into a pair, and
// the encoders write the lone ones as U+FFFD.
func TestLoneSurrogatesInGoStrings(t *testing.T) {
	hi, lo := string(lib0.AppendSurrogate(nil, 0xd83d)), string(lib0.AppendSurrogate(nil, 0xde00))
	d := NewDoc(WithClientID(4))
	text := d.GetText("t")
	text.Insert(0, "x"+hi, nil)
	v1 := d.EncodeStateAsUpdate(nil)
	if want := "x\uFFFD"; !bytes.Contains(v1, []byte(want)) {
		t.Errorf("V1 state %x lacks %q", v1, want)
	}
	text.Insert(2, lo+"y", nil)
	if got, want := text.String(), "x😀y"; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
	if got := text.Len(); got != 4 {
		t.Errorf("length %d, want 4", got)
	}
	d2 := NewDoc()
	if err := d2.ApplyUpdateV2(splitPairV2(), nil); err != nil {
		t.Fatal(err)
	}
	if got, want := d2.GetText("t").String(), lo+"yx"+hi; got != want {
		t.Errorf("decoded text %q, want %q", got, want)
	}
}
