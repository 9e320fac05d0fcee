package lib0

import (
	"encoding/hex"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The byte vectors below were produced by lib0 0.2.120 under node.
func TestVarIntVectors(t *testing.T) {
	uints := []struct {
		n   uint64
		hex string
	}{{0, "00"}, {127, "7f"}, {128, "8001"}, {300, "ac02"}, {1 << 32, "8080808010"}}
	for _, c := range uints {
		e := &Encoder{}
		e.WriteVarUint(c.n)
		if got := hex.EncodeToString(e.Bytes()); got != c.hex {
			t.Errorf("WriteVarUint(%d) = %s, want %s", c.n, got, c.hex)
		}
		d := NewDecoder(unhex(t, c.hex))
		if got := d.ReadVarUint(); got != c.n || d.Err() != nil {
			t.Errorf("ReadVarUint(%s) = %d, %v", c.hex, got, d.Err())
		}
	}
	ints := []struct {
		n   int64
		hex string
	}{{0, "00"}, {63, "3f"}, {64, "8001"}, {-1, "41"}, {-64, "c001"}, {-65, "c101"}}
	for _, c := range ints {
		e := &Encoder{}
		e.WriteVarInt(c.n)
		if got := hex.EncodeToString(e.Bytes()); got != c.hex {
			t.Errorf("WriteVarInt(%d) = %s, want %s", c.n, got, c.hex)
		}
		d := NewDecoder(unhex(t, c.hex))
		if got := d.ReadVarInt(); got != c.n || d.Err() != nil {
			t.Errorf("ReadVarInt(%s) = %d, %v", c.hex, got, d.Err())
		}
	}
}

func TestAnyVectors(t *testing.T) {
	values := []any{4.0, -1.0, math.Pow(2, 31), 1.5, 0.1, "x", nil, true, false,
		Undefined{}, []any{1.0}, NewObject(Field{"a", 1.0})}
	want := "7d04 7d41 7c4f000000 7c3fc00000 7b3fb999999999999a 770178 7e 78 79 7f" +
		" 75017d01 760101617d01"
	e := &Encoder{}
	for _, v := range values {
		e.WriteAny(v)
	}
	if diff := cmp.Diff(unhex(t, want), e.Bytes()); diff != "" {
		t.Fatalf("WriteAny bytes (-want +got):\n%s", diff)
	}
	d := NewDecoder(e.Bytes())
	var got []any
	for d.HasContent() {
		got = append(got, d.ReadAny())
	}
	if d.Err() != nil {
		t.Fatal(d.Err())
	}
	if diff := cmp.Diff(values, got); diff != "" {
		t.Errorf("ReadAny (-want +got):\n%s", diff)
	}
}

func TestObjectPropertyOrder(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		want []string
	}{
		{"insertion", []string{"b", "a"}, []string{"b", "a"}},
		{"indexes first", []string{"b", "10", "a", "2"}, []string{"2", "10", "b", "a"}},
		{"leading zero is a name", []string{"b", "01"}, []string{"b", "01"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o Object
			e := &Encoder{}
			e.WriteUint8(118)
			e.WriteVarUint(uint64(len(tc.keys)))
			for _, k := range tc.keys {
				o.Set(k, nil)
				e.WriteVarString(k)
				e.WriteAny(nil)
			}
			var got []string
			for _, f := range o.Fields {
				got = append(got, f.Key)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Set order (-want +got):\n%s", diff)
			}
			decoded := NewDecoder(e.Bytes()).ReadAny().(Object)
			got = got[:0]
			for _, f := range decoded.Fields {
				got = append(got, f.Key)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("decoded order (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecoderErrors(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		read func(*Decoder)
	}{
		{"truncated varuint", "80", func(d *Decoder) { d.ReadVarUint() }},
		{"varuint above 2^53", "ffffffffffffffff7f", func(d *Decoder) { d.ReadVarUint() }},
		{"string longer than input", "0561", func(d *Decoder) { d.ReadVarString() }},
		{"invalid utf-8", "01ff", func(d *Decoder) { d.ReadVarString() }},
		{"unknown tag", "10", func(d *Decoder) { d.ReadAny() }},
		{"array count too large", "75ffffff7f", func(d *Decoder) { d.ReadAny() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(unhex(t, tc.hex))
			tc.read(d)
			if d.Err() == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestUTF16Len(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 3, "é": 1, "日本": 2, "a😀": 3} {
		if got := UTF16Len(s); got != want {
			t.Errorf("UTF16Len(%q) = %d, want %d", s, got, want)
		}
	}
}

func FuzzReadAny(f *testing.F) {
	f.Add(unhex(f, "7d04 7c4f000000 770178 75017d01 760101617d01"))
	f.Add(unhex(f, "7b3fb999999999999a"))
	f.Add([]byte{0x75, 0x75, 0x75})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(b)
		for d.HasContent() {
			v := d.ReadAny()
			if d.Err() == nil {
				e := &Encoder{}
				e.WriteAny(v)
			}
		}
	})
}

func TestLoneSurrogatesInWTF8(t *testing.T) {
	hi, lo := string(AppendSurrogate(nil, 0xd83d)), string(AppendSurrogate(nil, 0xde00))
	tests := []struct {
		name, in, valid, wtf8 string
		units                 int
	}{
		{"lone high", "a" + hi + "b", "a\uFFFDb", "a" + hi + "b", 3},
		{"lone low", lo, "\uFFFD", lo, 1},
		{"halves that meet", hi + lo, "😀", "😀", 2},
		{"other invalid byte", "a\xffb", "a\uFFFDb", "a\uFFFDb", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ToValidUTF8(tt.in); got != tt.valid {
				t.Errorf("ToValidUTF8 = %q, want %q", got, tt.valid)
			}
			if got := ToWTF8(tt.in); got != tt.wtf8 {
				t.Errorf("ToWTF8 = %q, want %q", got, tt.wtf8)
			}
			if got := UTF16Len(ToWTF8(tt.in)); got != tt.units {
				t.Errorf("UTF16Len = %d, want %d", got, tt.units)
			}
		})
	}
	if got := string(AppendWTF8([]byte("x"+hi), lo+"y")); got != "x😀y" {
		t.Errorf("AppendWTF8 = %q, want %q", got, "x😀y")
	}
}
