package ydoc

import (
	"bytes"
	"testing"

	"github.com/jupygo/jupygo/yjs"
)

// TestSetFreshInPlace checks that filling an empty document of client id 0
// in place gives the state that applying a scratch document's state gives.
func TestSetFreshInPlace(t *testing.T) {
	cases := map[string]struct {
		m       Model
		content []byte
	}{
		"text":  {File{}, []byte("one\r\ntwo 😀\n")},
		"blob":  {Blob{}, []byte{0, 1, 2, 255}},
		"large": {Notebook{}, largeNotebook(t, 20, "")},
	}
	for name, file := range testNotebooks(t) {
		cases["notebook "+name] = struct {
			m       Model
			content []byte
		}{Notebook{}, file}
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			inPlace := yjs.NewDoc(yjs.WithClientID(0))
			if err := tc.m.Set(inPlace, tc.content); err != nil {
				t.Fatal(err)
			}
			viaScratch := setNew(t, tc.m, tc.content)
			got := inPlace.EncodeStateAsUpdate(nil)
			want := viaScratch.EncodeStateAsUpdate(nil)
			if !bytes.Equal(got, want) {
				t.Errorf("state filled in place differs from the state applied from a scratch document:\n%x\n%x",
					got, want)
			}
		})
	}
}
