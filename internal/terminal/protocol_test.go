package terminal

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParseMessage(t *testing.T) {
	tests := []struct {
		name    string
		frame   string
		want    message
		wantErr bool
		badSize bool
	}{
		{"stdin", `["stdin", "ls\r"]`, message{Kind: "stdin", Data: "ls\r"}, false, false},
		{"stdin with extra", `["stdin", "x", 1]`, message{Kind: "stdin", Data: "x"}, false, false},
		{"set_size", `["set_size", 24, 80]`, message{Kind: "set_size", Rows: 24, Cols: 80}, false, false},
		{"set_size with pixels", `["set_size", 24, 80, 600, 800]`, message{Kind: "set_size", Rows: 24, Cols: 80}, false, false},
		{"set_size whole float", `["set_size", 24.0, 80]`, message{Kind: "set_size", Rows: 24, Cols: 80}, false, false},
		{"unknown kind", `["disconnect"]`, message{Kind: "disconnect"}, false, false},
		{"zero rows", `["set_size", 0, 80]`, message{}, true, true},
		{"huge cols", `["set_size", 24, 1e12]`, message{}, true, true},
		{"fraction", `["set_size", 24.5, 80]`, message{}, true, false},
		{"null size", `["set_size", null, 80]`, message{}, true, false},
		{"stdin null", `["stdin", null]`, message{}, true, false},
		{"not JSON", `[`, message{}, true, false},
		{"object", `{}`, message{}, true, false},
		{"empty", `[]`, message{}, true, false},
		{"kind number", `[3]`, message{}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMessage([]byte(tt.frame))
			if (err != nil) != tt.wantErr || errors.Is(err, errBadSize) != tt.badSize {
				t.Fatalf("parseMessage(%s) error = %v, want error %v, bad size %v", tt.frame, err, tt.wantErr, tt.badSize)
			}
			if diff := cmp.Diff(tt.want, got); err == nil && diff != "" {
				t.Errorf("parseMessage(%s) (-want +got):\n%s", tt.frame, diff)
			}
		})
	}
}

func TestUTF8Decoder(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   string
	}{
		{"ascii", []string{"ab", "c"}, "abc"},
		{"split euro", []string{"x\xe2", "\x82", "\xacy"}, "x€y"},
		{"split emoji", []string{"\xf0\x9f", "\x98\x80"}, "😀"},
		{"invalid byte", []string{"a\xffb"}, "a\uFFFDb"},
		{"stray continuation", []string{"\x82a"}, "\uFFFDa"},
		{"cut at the end", []string{"a\xe2\x82"}, "a\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d utf8Decoder
			var b strings.Builder
			for _, c := range tt.chunks {
				b.WriteString(d.decode([]byte(c)))
			}
			b.WriteString(d.flush())
			if b.String() != tt.want {
				t.Errorf("decoded %q, want %q", b.String(), tt.want)
			}
		})
	}
}

func FuzzParseMessage(f *testing.F) {
	for _, s := range []string{
		`["stdin", "ls\r"]`, `["set_size", 24, 80, 600, 800]`, `["set_size", 0, -1]`,
		`["disconnect"]`, `[]`, `{}`, `["stdin", null]`, `["set_size", 1e400, 2]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		m, err := parseMessage(frame)
		if err != nil {
			return
		}
		if m.Kind == kindSetSize && (m.Rows < 1 || m.Rows > maxDimension || m.Cols < 1 || m.Cols > maxDimension) {
			t.Errorf("parseMessage(%q) accepted size %dx%d", frame, m.Rows, m.Cols)
		}
		if !utf8.ValidString(m.Data) && m.Kind == kindStdin {
			// encoding/json replaces invalid UTF-8, so text is always valid.
			t.Errorf("parseMessage(%q) returned invalid UTF-8", frame)
		}
	})
}

func FuzzUTF8Decoder(f *testing.F) {
	f.Add([]byte("a\xe2\x82\xac"), 2)
	f.Fuzz(func(t *testing.T, data []byte, cut int) {
		if cut < 0 || cut > len(data) {
			return
		}
		var d utf8Decoder
		got := d.decode(data[:cut]) + d.decode(data[cut:]) + d.flush()
		if !utf8.ValidString(got) {
			t.Fatalf("decoded %q to invalid UTF-8", data)
		}
		if utf8.Valid(data) && got != string(data) {
			t.Fatalf("decoded valid %q cut at %d to %q", data, cut, got)
		}
	})
}
