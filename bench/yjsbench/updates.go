package main

import (
	"encoding/binary"
	"fmt"
	"os"
)

// readUpdatesFile reads updates.bin, which bench.mjs writes: each update
// as a 4-byte little-endian length followed by its bytes.
func readUpdatesFile(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading updates: %w", err)
	}
	updates, err := splitUpdates(data)
	if err != nil {
		return nil, fmt.Errorf("reading updates %s: %w", path, err)
	}
	return updates, nil
}

// splitUpdates splits length-prefixed updates. The returned slices share
// data's memory.
func splitUpdates(data []byte) ([][]byte, error) {
	var out [][]byte
	for off := 0; off < len(data); {
		if len(data)-off < 4 {
			return nil, fmt.Errorf("truncated length at byte %d", off)
		}
		n := binary.LittleEndian.Uint32(data[off:])
		off += 4
		if uint64(n) > uint64(len(data)-off) {
			return nil, fmt.Errorf("update at byte %d has length %d, but only %d bytes follow",
				off-4, n, len(data)-off)
		}
		out = append(out, data[off:off+int(n):off+int(n)])
		off += int(n)
	}
	return out, nil
}
