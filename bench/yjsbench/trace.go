package main

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"unicode/utf8"
)

// patch is one edit of a trace: delete del characters at pos, then insert
// ins there. Positions count Unicode code points.
type patch struct {
	pos, del int
	ins      string
}

// trace is a sequential editing trace in the format of
// josephg/editing-traces.
type trace struct {
	startContent string
	endContent   string
	patches      []patch
}

// traceJSON is the file format: {startContent, endContent, txns:
// [{patches: [[pos, del, ins], ...]}]}. Concurrent traces add "kind":
// "concurrent" and each transaction's parents.
type traceJSON struct {
	Kind         string `json:"kind"`
	StartContent string `json:"startContent"`
	EndContent   string `json:"endContent"`
	Txns         []struct {
		Patches [][]any `json:"patches"`
	} `json:"txns"`
}

// loadTrace reads a gzipped trace file.
func loadTrace(path string) (*trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening trace: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("reading trace %s: %w", path, err)
	}
	tr, err := decodeTrace(zr)
	if err != nil {
		return nil, fmt.Errorf("reading trace %s: %w", path, err)
	}
	return tr, nil
}

// decodeTrace parses the JSON of a sequential trace. It rejects concurrent
// traces, because their positions refer to the version each author saw.
func decodeTrace(r io.Reader) (*trace, error) {
	var tj traceJSON
	if err := json.NewDecoder(r).Decode(&tj); err != nil {
		return nil, fmt.Errorf("decoding JSON: %w", err)
	}
	if tj.Kind != "" && tj.Kind != "sequential" {
		return nil, fmt.Errorf("trace kind %q is not supported: want a sequential trace", tj.Kind)
	}
	tr := &trace{startContent: tj.StartContent, endContent: tj.EndContent}
	for i, txn := range tj.Txns {
		for j, raw := range txn.Patches {
			p, err := parsePatch(raw)
			if err != nil {
				return nil, fmt.Errorf("transaction %d, patch %d: %w", i, j, err)
			}
			tr.patches = append(tr.patches, p)
		}
	}
	return tr, nil
}

// parsePatch converts [pos, deleteCount, insertText].
func parsePatch(raw []any) (patch, error) {
	if len(raw) != 3 {
		return patch{}, fmt.Errorf("patch has %d elements, want 3", len(raw))
	}
	pos, err := count(raw[0])
	if err != nil {
		return patch{}, fmt.Errorf("position: %w", err)
	}
	del, err := count(raw[1])
	if err != nil {
		return patch{}, fmt.Errorf("delete count: %w", err)
	}
	ins, ok := raw[2].(string)
	if !ok {
		return patch{}, fmt.Errorf("insert text is %T, want a string", raw[2])
	}
	return patch{pos: pos, del: del, ins: ins}, nil
}

// maxCount bounds positions and counts well below the int and float64
// limits, so sums of two of them cannot overflow.
const maxCount = 1 << 40

func count(v any) (int, error) {
	f, ok := v.(float64)
	if !ok {
		return 0, fmt.Errorf("%v is %T, want a number", v, v)
	}
	if f < 0 || f > maxCount || f != math.Trunc(f) {
		return 0, fmt.Errorf("%v is not an integer in [0, 2^40]", f)
	}
	return int(f), nil
}

// edit is a patch with positions in UTF-16 code units, as yjs, ywasm and
// the Go yjs package count them. It encodes as [pos, del, ins].
type edit struct {
	Pos, Del int
	Ins      string
}

func (e edit) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{e.Pos, e.Del, e.Ins})
}

func (e *edit) UnmarshalJSON(b []byte) error {
	var raw []any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	p, err := parsePatch(raw)
	if err != nil {
		return err
	}
	*e = edit{Pos: p.pos, Del: p.del, Ins: p.ins}
	return nil
}

// editsFile is edits.json, the input of every worker: the trace with
// UTF-16 positions, the client id and root name to replay it with, and
// the text it must end with.
type editsFile struct {
	ClientID   uint64 `json:"clientID"`
	Root       string `json:"root"`
	EndContent string `json:"endContent"`
	Edits      []edit `json:"edits"`
}

// toUTF16 converts the trace to edits with UTF-16 positions, the start
// content becoming a first insert at 0. It returns an error for a patch
// that reaches past the end of the text.
func toUTF16(tr *trace) ([]edit, error) {
	var idx astralIndex
	var out []edit
	if tr.startContent != "" {
		out = append(out, edit{Pos: 0, Ins: tr.startContent})
		idx.insert(0, tr.startContent)
	}
	for i, p := range tr.patches {
		if p.pos+p.del > idx.length {
			return nil, fmt.Errorf("patch %d: range [%d, %d) is past the end of the text (%d code points)",
				i, p.pos, p.pos+p.del, idx.length)
		}
		start, end := idx.utf16(p.pos), idx.utf16(p.pos+p.del)
		out = append(out, edit{Pos: start, Del: end - start, Ins: p.ins})
		idx.delete(p.pos, p.del)
		idx.insert(p.pos, p.ins)
	}
	return out, nil
}

// astralIndex follows the text's length in code points and the code point
// positions of its characters outside the Basic Multilingual Plane, each
// of which is two UTF-16 code units. Updates cost O(number of such
// characters), nothing for the traces at hand, which contain none.
type astralIndex struct {
	length int
	astral []int // sorted
}

// utf16 converts a code point position to a UTF-16 position.
func (a *astralIndex) utf16(pos int) int {
	n, _ := slices.BinarySearch(a.astral, pos)
	return pos + n
}

func (a *astralIndex) delete(pos, n int) {
	if n == 0 {
		return
	}
	lo, _ := slices.BinarySearch(a.astral, pos)
	hi, _ := slices.BinarySearch(a.astral, pos+n)
	a.astral = slices.Delete(a.astral, lo, hi)
	for i := lo; i < len(a.astral); i++ {
		a.astral[i] -= n
	}
	a.length -= n
}

func (a *astralIndex) insert(pos int, s string) {
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return
	}
	at, _ := slices.BinarySearch(a.astral, pos)
	for i := at; i < len(a.astral); i++ {
		a.astral[i] += n
	}
	var added []int
	i := pos
	for _, r := range s {
		if r > 0xffff {
			added = append(added, i)
		}
		i++
	}
	a.astral = slices.Insert(a.astral, at, added...)
	a.length += n
}
