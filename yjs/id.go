package yjs

import (
	"fmt"
	"maps"
	"slices"

	"github.com/jupygo/jupygo/yjs/lib0"
)

// ID names one unit of content: the Clock-th unit that client Client ever
// created. Clocks of a client start at 0 and have no gaps.
type ID struct {
	Client uint64
	Clock  uint64
}

func (id ID) String() string { return fmt.Sprintf("%d:%d", id.Client, id.Clock) }

// StateVector maps each client to its next expected clock, which is the
// number of units of that client a document holds. A missing client means 0.
type StateVector map[uint64]uint64

// EncodeStateVector returns sv in the binary form SyncStep1 carries:
// a varUint count, then client and clock pairs in descending client order.
func EncodeStateVector(sv StateVector) []byte {
	e := &lib0.Encoder{}
	writeStateVector(e, sv)
	return e.Bytes()
}

func writeStateVector(e *lib0.Encoder, sv StateVector) {
	e.WriteVarUint(uint64(len(sv)))
	for _, client := range sortedClientsDesc(sv) {
		e.WriteVarUint(client)
		e.WriteVarUint(sv[client])
	}
}

// DecodeStateVector parses a binary state vector. Trailing bytes are
// ignored, as yjs ignores them.
func DecodeStateVector(b []byte) (StateVector, error) {
	d := lib0.NewDecoder(b)
	sv := readStateVector(d)
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("decoding state vector: %w", err)
	}
	return sv, nil
}

func readStateVector(d *lib0.Decoder) StateVector {
	// Each entry takes at least two bytes.
	n := d.ReadLen(2)
	sv := make(StateVector, n)
	for i := 0; i < n && d.Err() == nil; i++ {
		client := d.ReadVarUint()
		sv[client] = d.ReadVarUint()
	}
	return sv
}

func sortedClientsDesc[V any](m map[uint64]V) []uint64 {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b uint64) int {
		switch {
		case a > b:
			return -1
		case a < b:
			return 1
		}
		return 0
	})
	return keys
}
