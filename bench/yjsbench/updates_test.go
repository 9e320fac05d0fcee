package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitUpdates(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		want    [][]byte
		wantErr string
	}{
		{name: "empty", data: nil},
		{
			name: "two updates",
			data: []byte{2, 0, 0, 0, 'a', 'b', 0, 0, 0, 0, 1, 0, 0, 0, 'c'},
			want: [][]byte{[]byte("ab"), {}, []byte("c")},
		},
		{name: "truncated length", data: []byte{1, 0, 0}, wantErr: "truncated length"},
		{name: "truncated update", data: []byte{3, 0, 0, 0, 'a'}, wantErr: "only 1 bytes follow"},
		{name: "huge length", data: []byte{0xff, 0xff, 0xff, 0xff, 'a'}, wantErr: "has length 4294967295"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := splitUpdates(tt.data)
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
				t.Errorf("updates (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzSplitUpdates(f *testing.F) {
	f.Add([]byte{2, 0, 0, 0, 'a', 'b'})
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		updates, err := splitUpdates(data)
		if err != nil {
			return
		}
		n := 0
		for _, u := range updates {
			n += 4 + len(u)
		}
		if n != len(data) {
			t.Errorf("updates cover %d bytes of %d", n, len(data))
		}
	})
}
