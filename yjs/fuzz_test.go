package yjs

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/jupygo/jupygo/yjs/lib0"
)

// fixtureSeeds returns updates from the recorded fixtures as fuzz seeds:
// the updates of edit steps and every final state, in V1 or V2.
func fixtureSeeds(f *testing.F, v2 bool) [][]byte {
	b, err := os.ReadFile(fixturesFile)
	if err != nil {
		f.Fatal(err)
	}
	var fixtures []scenario
	if err := json.Unmarshal(b, &fixtures); err != nil {
		f.Fatal(err)
	}
	var out [][]byte
	for _, sc := range fixtures {
		for _, p := range sc.Peers {
			st := sc.Final[p.Name]
			if v2 {
				out = append(out, mustHex(f, st.UpdateV2))
			} else {
				out = append(out, mustHex(f, st.Update))
			}
		}
		if !v2 {
			for _, s := range sc.Steps {
				for _, u := range s.Updates {
					out = append(out, mustHex(f, u))
				}
			}
		}
	}
	return out
}

func FuzzApplyUpdate(f *testing.F) {
	f.Add([]byte{0, 0})
	f.Add(unhex(f, "01 02 07 00 21 01 05 7374617465 05 6469727479 01 a8 07 00 01 79 01 07 01 00 01"))
	f.Add(unhex(f, "01 01 02 00 c4 01 00 01 01 01 62 00"))
	f.Add(unhex(f, hugeDeleteV1))
	f.Add(unhex(f, zeroDeleteV1))
	for _, s := range fixtureSeeds(f, false)[:40] {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDoc(WithClientID(1))
		if err := d.ApplyUpdate(b, nil); err != nil {
			return
		}
		d.ToJSON()
		state := d.EncodeStateAsUpdate(nil)
		d2 := NewDoc(WithClientID(2))
		if err := d2.ApplyUpdate(state, nil); err != nil {
			t.Fatalf("re-applying our own encoding: %v", err)
		}
		if _, err := MergeUpdates(b, state); err != nil {
			t.Fatalf("merging a valid update: %v", err)
		}
		if _, err := DiffUpdate(b, []byte{1, 1, 1}); err != nil {
			t.Fatalf("diffing a valid update: %v", err)
		}
		EncodeStateVectorFromUpdate(b)
		ParseUpdateMeta(b)
	})
}

// splitPairV2 returns a V2 state whose string column holds a surrogate pair
// that its lengths cut in two: a text with "x" and a lone high surrogate,
// and before it a lone low surrogate and "y".
func splitPairV2() []byte {
	d := NewDoc(WithClientID(4))
	text := d.GetText("t")
	text.Insert(0, "x"+string(lib0.AppendSurrogate(nil, 0xd83d)), nil)
	text.Insert(0, string(lib0.AppendSurrogate(nil, 0xde00))+"y", nil)
	return d.EncodeStateAsUpdateV2(nil)
}

// FuzzApplyDecoded checks that an update decoded once, inspected and then
// applied leaves a doc as ApplyUpdate leaves it, and that both reject the
// same inputs.
func FuzzApplyDecoded(f *testing.F) {
	f.Add([]byte{0, 0})
	f.Add(unhex(f, "01 02 07 00 21 01 05 7374617465 05 6469727479 01 a8 07 00 01 79 01 07 01 00 01"))
	f.Add(unhex(f, "01 01 02 00 c4 01 00 01 01 01 62 00"))
	for _, s := range fixtureSeeds(f, false)[:40] {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		direct := NewDoc(WithClientID(1))
		directErr := direct.ApplyUpdate(b, nil)
		decoded := NewDoc(WithClientID(1))
		u, err := DecodeUpdate(b)
		if err == nil {
			if _, err = decoded.Inspect(u); err != nil {
				t.Fatalf("inspecting a decoded update: %v", err)
			}
			err = decoded.ApplyDecoded(u, nil)
		}
		if (err == nil) != (directErr == nil) {
			t.Fatalf("ApplyDecoded error %v, ApplyUpdate error %v", err, directErr)
		}
		if err != nil {
			return
		}
		if got, want := decoded.EncodeStateAsUpdate(nil), direct.EncodeStateAsUpdate(nil); !bytes.Equal(got, want) {
			t.Fatalf("state after ApplyDecoded differs from ApplyUpdate:\n got %x\nwant %x", got, want)
		}
		if got, want := decoded.RootNames(), direct.RootNames(); !slices.Equal(got, want) {
			t.Fatalf("root types %v after ApplyDecoded, %v after ApplyUpdate", got, want)
		}
	})
}

func FuzzApplyUpdateV2(f *testing.F) {
	for _, s := range fixtureSeeds(f, true) {
		f.Add(s)
	}
	f.Add(unhex(f, hugeDeleteV2))
	f.Add(manyDeletedStructsV2(1000))
	f.Add(unhex(f, structCountBombV2))
	f.Add(unhex(f, gcRunV2))
	f.Add(splitPairV2())
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDoc(WithClientID(1))
		if err := d.ApplyUpdateV2(b, nil); err != nil {
			return
		}
		d.ToJSON()
		d.EncodeStateAsUpdate(nil)
		v2 := d.EncodeStateAsUpdateV2(nil)
		if err := NewDoc(WithClientID(2)).ApplyUpdateV2(v2, nil); err != nil {
			t.Fatalf("re-applying our own V2 encoding: %v", err)
		}
		ConvertUpdateV2ToV1(b)
	})
}

func FuzzMergeUpdates(f *testing.F) {
	seeds := fixtureSeeds(f, false)
	for i := 0; i+1 < len(seeds) && i < 40; i += 2 {
		f.Add(seeds[i], seeds[i+1])
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		merged, err := MergeUpdates(a, b)
		if err != nil {
			return
		}
		d := NewDoc(WithClientID(1))
		d.ApplyUpdate(merged, nil)
	})
}

func FuzzStateVector(f *testing.F) {
	f.Add([]byte{0})
	f.Add(unhex(f, "01 01 02"))
	f.Add(unhex(f, "01b9e0808008ab900b"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sv, err := DecodeStateVector(b)
		if err != nil {
			return
		}
		if _, err := DecodeStateVector(EncodeStateVector(sv)); err != nil {
			t.Fatalf("decoding our own encoding: %v", err)
		}
		d := NewDoc(WithClientID(1))
		d.GetText("t").Insert(0, "abc", nil)
		if _, err := d.EncodeStateAsUpdateFrom(b); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzDeleteSet(f *testing.F) {
	f.Add([]byte{0})
	f.Add(unhex(f, "01 04 01 01 01"))
	f.Add(unhex(f, "02 05 02 00 01 04 02 01 00 03"))
	f.Add(unhex(f, hugeDeleteV1)[1:])
	f.Add(unhex(f, zeroDeleteV1)[1:])
	f.Fuzz(func(t *testing.T, b []byte) {
		ds, err := DecodeDeleteSet(b)
		if err != nil {
			return
		}
		ds.normalize()
		if _, err := DecodeDeleteSet(EncodeDeleteSet(ds)); err != nil {
			t.Fatalf("decoding our own encoding: %v", err)
		}
		// A delete set alone is a valid update without structs.
		d := NewDoc(WithClientID(1))
		d.GetText("t").Insert(0, "abcdef", nil)
		d.ApplyUpdate(append([]byte{0}, b...), nil)
		if err := NewDoc().ApplyUpdate(d.EncodeStateAsUpdate(nil), nil); err != nil {
			t.Fatalf("re-applying our own encoding: %v", err)
		}
		if err := NewDoc().ApplyUpdateV2(d.EncodeStateAsUpdateV2(nil), nil); err != nil {
			t.Fatalf("re-applying our own V2 encoding: %v", err)
		}
	})
}

// FuzzApplyTwoUpdates applies two updates in a row, so that pending
// structs and deletes of the first meet the second.
func FuzzApplyTwoUpdates(f *testing.F) {
	seeds := fixtureSeeds(f, false)
	for i := 0; i+1 < len(seeds) && i < 60; i += 2 {
		f.Add(seeds[i+1], seeds[i])
	}
	hello := NewDoc(WithClientID(3))
	hello.GetText("t").Insert(0, "hello", nil)
	f.Add(hello.EncodeStateAsUpdate(nil), unhex(f, hugeDeleteV1))
	f.Add(hello.EncodeStateAsUpdate(nil), unhex(f, zeroDeleteV1))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		d := NewDoc(WithClientID(1))
		d.ApplyUpdate(a, nil)
		d.ApplyUpdate(b, nil)
		d.GetText("t").Insert(0, "x", nil)
		state := d.EncodeStateAsUpdate(nil)
		d2 := NewDoc(WithClientID(2))
		if err := d2.ApplyUpdate(state, nil); err != nil {
			t.Fatalf("re-applying our own encoding: %v", err)
		}
	})
}
