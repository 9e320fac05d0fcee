package main

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
)

func TestDecodeTrace(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    []patch
		wantErr string
	}{
		{
			name: "sequential",
			json: `{"startContent":"ab","endContent":"xb","txns":[{"patches":[[0,1,"x"]]},{"patches":[[1,0,""],[2,0,"!"]]}]}`,
			want: []patch{{0, 1, "x"}, {1, 0, ""}, {2, 0, "!"}},
		},
		{name: "no transactions", json: `{"endContent":""}`},
		{name: "concurrent", json: `{"kind":"concurrent","txns":[]}`, wantErr: "not supported"},
		{name: "two elements", json: `{"txns":[{"patches":[[0,1]]}]}`, wantErr: "has 2 elements"},
		{name: "negative position", json: `{"txns":[{"patches":[[-1,0,"a"]]}]}`, wantErr: "position"},
		{name: "fractional count", json: `{"txns":[{"patches":[[0,1.5,""]]}]}`, wantErr: "delete count"},
		{name: "huge position", json: `{"txns":[{"patches":[[1e300,0,"a"]]}]}`, wantErr: "position"},
		{name: "position as string", json: `{"txns":[{"patches":[["0",0,"a"]]}]}`, wantErr: "want a number"},
		{name: "insert as number", json: `{"txns":[{"patches":[[0,0,5]]}]}`, wantErr: "insert text"},
		{name: "not JSON", json: `{"txns":`, wantErr: "decoding JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := decodeTrace(strings.NewReader(tt.json))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, tr.patches, cmp.AllowUnexported(patch{})); diff != "" {
				t.Errorf("patches (-want +got):\n%s", diff)
			}
		})
	}
}

func TestToUTF16(t *testing.T) {
	tests := []struct {
		name    string
		start   string
		patches []patch
		want    []edit
		wantErr string
	}{
		{
			name:    "BMP only",
			start:   "abc",
			patches: []patch{{1, 1, "é"}, {3, 0, "d"}},
			want:    []edit{{0, 0, "abc"}, {1, 1, "é"}, {3, 0, "d"}},
		},
		{
			name:    "after an astral character",
			start:   "a😀b",
			patches: []patch{{2, 0, "x"}, {3, 1, ""}},
			want:    []edit{{0, 0, "a😀b"}, {3, 0, "x"}, {4, 1, ""}},
		},
		{
			name:    "deleting an astral character",
			start:   "😀😀z",
			patches: []patch{{1, 1, ""}, {1, 1, ""}},
			want:    []edit{{0, 0, "😀😀z"}, {2, 2, ""}, {2, 1, ""}},
		},
		{
			name:    "inserted astral characters shift later ones",
			patches: []patch{{0, 0, "😀"}, {0, 0, "🎉a"}, {3, 0, "b"}, {2, 1, ""}},
			want:    []edit{{0, 0, "😀"}, {0, 0, "🎉a"}, {5, 0, "b"}, {3, 2, ""}},
		},
		{
			name:    "delete past the end",
			start:   "ab",
			patches: []patch{{1, 2, ""}},
			wantErr: "past the end",
		},
		{
			name:    "insert past the end",
			patches: []patch{{1, 0, "a"}},
			wantErr: "past the end",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := toUTF16(&trace{startContent: tt.start, patches: tt.patches})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("edits (-want +got):\n%s", diff)
			}
		})
	}
}

// TestToUTF16Random applies random patches with astral characters as code
// points and their conversions as UTF-16 units: both must give the same
// text after every step.
func TestToUTF16Random(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("ab😀é🎉\u4e2d")
	for run := range 20 {
		var runes []rune
		var patches []patch
		for range 200 {
			pos := rng.IntN(len(runes) + 1)
			del := rng.IntN(len(runes) - pos + 1)
			var ins []rune
			for range rng.IntN(3) {
				ins = append(ins, alphabet[rng.IntN(len(alphabet))])
			}
			patches = append(patches, patch{pos, del, string(ins)})
			runes = append(append(append([]rune(nil), runes[:pos]...), ins...), runes[pos+del:]...)
		}
		edits, err := toUTF16(&trace{patches: patches})
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		var units []uint16
		for _, e := range edits {
			ins := utf16.Encode([]rune(e.Ins))
			units = append(append(append([]uint16(nil), units[:e.Pos]...), ins...), units[e.Pos+e.Del:]...)
		}
		if got, want := string(utf16.Decode(units)), string(runes); got != want {
			t.Fatalf("run %d: UTF-16 replay gives %q, want %q", run, got, want)
		}
	}
}

func TestEditJSON(t *testing.T) {
	in := []edit{{3, 1, "😀"}, {0, 0, ""}}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), `[[3,1,"😀"],[0,0,""]]`; got != want {
		t.Errorf("encoded %s, want %s", got, want)
	}
	var out []edit
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Errorf("decoded edits (-want +got):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(`[[1,2]]`), &out); err == nil {
		t.Error("decoding a two-element edit: got no error")
	}
}

func FuzzDecodeTrace(f *testing.F) {
	f.Add(`{"startContent":"a😀","endContent":"","txns":[{"patches":[[0,2,""]]}]}`)
	f.Add(`{"txns":[{"patches":[[1,0,"x"],[0,1,""]]}]}`)
	f.Add(`{"kind":"concurrent"}`)
	f.Add(`{"txns":[{"patches":[[1e20,-1,null]]}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		tr, err := decodeTrace(strings.NewReader(s))
		if err != nil {
			return
		}
		// Every decoded trace converts without panicking, with or without
		// an error for patches past the end of the text.
		toUTF16(tr)
	})
}
