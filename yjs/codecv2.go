package yjs

import (
	"fmt"

	"github.com/jupygo/jupygo/yjs/lib0"
)

// The V2 update format stores each field kind in its own column, most of
// them run-length encoded: a feature flag (0), nine columns as byte arrays
// (key clocks, clients, left clocks, right clocks, info bytes, strings,
// parent info, type refs, lengths), then the rest stream with delete sets,
// any values and buffers. The readers below follow lib0's decoders.

// rleUint8Decoder repeats each byte a counted number of times; the last
// run repeats forever.
type rleUint8Decoder struct {
	d     *lib0.Decoder
	s     uint8
	count int64
}

func (r *rleUint8Decoder) read() uint8 {
	if r.count == 0 {
		r.s = r.d.ReadUint8()
		if r.d.HasContent() {
			r.count = int64(r.d.ReadVarUint()) + 1
		} else {
			r.count = -1
		}
	}
	r.count--
	return r.s
}

// uintOptRleDecoder reads values where a negative sign announces a run.
type uintOptRleDecoder struct {
	d     *lib0.Decoder
	s     uint64
	count uint64
}

func (r *uintOptRleDecoder) read() uint64 {
	if r.count == 0 {
		mag, neg := r.d.ReadVarIntSign()
		r.s = mag
		r.count = 1
		if neg {
			r.count = r.d.ReadVarUint() + 2
		}
	}
	r.count--
	return r.s
}

// intDiffOptRleDecoder reads differences whose low bit announces a run.
type intDiffOptRleDecoder struct {
	d     *lib0.Decoder
	s     int64
	count uint64
	diff  int64
}

func (r *intDiffOptRleDecoder) read() uint64 {
	if r.count == 0 {
		mag, neg := r.d.ReadVarIntSign()
		hasCount := mag&1 == 1
		// JavaScript computes floor(diff / 2) on the signed value.
		if neg {
			r.diff = -int64((mag + 1) / 2)
		} else {
			r.diff = int64(mag / 2)
		}
		r.count = 1
		if hasCount {
			r.count = r.d.ReadVarUint() + 2
		}
	}
	r.s += r.diff
	r.count--
	if r.s < 0 || r.s > lib0.MaxSafeInteger {
		r.d.Fail(fmt.Errorf("clock %d: %w", r.s, lib0.ErrIntegerRange))
		return 0
	}
	return uint64(r.s)
}

// stringDecoder slices one concatenated string by UTF-16 lengths.
type stringDecoder struct {
	lens uintOptRleDecoder
	str  string
	pos  int // byte offset into str
}

func (s *stringDecoder) read(fail func(error)) string {
	n := s.lens.read()
	rest := s.str[s.pos:]
	if n > uint64(len(rest))*2 {
		fail(fmt.Errorf("string of %d units past the string column", n))
		return ""
	}
	b := utf16ToByteOffset(rest, int(n))
	out := rest[:b]
	s.pos += b
	return out
}

type decoderV2 struct {
	d         *lib0.Decoder
	dsCurVal  uint64
	keys      []string
	keyClock  intDiffOptRleDecoder
	client    uintOptRleDecoder
	leftClock intDiffOptRleDecoder
	rightClk  intDiffOptRleDecoder
	info      rleUint8Decoder
	strings   stringDecoder
	parent    rleUint8Decoder
	typeRef   uintOptRleDecoder
	length    uintOptRleDecoder
	columns   []*lib0.Decoder
}

func newDecoderV2(d *lib0.Decoder) (*decoderV2, error) {
	v := &decoderV2{d: d}
	d.ReadVarUint() // feature flag, unused
	col := func() *lib0.Decoder {
		c := lib0.NewDecoder(d.ReadVarUint8Array())
		v.columns = append(v.columns, c)
		return c
	}
	v.keyClock.d = col()
	v.client.d = col()
	v.leftClock.d = col()
	v.rightClk.d = col()
	v.info.d = col()
	strCol := col()
	v.parent.d = col()
	v.typeRef.d = col()
	v.length.d = col()
	v.strings.lens.d = strCol
	v.strings.str = strCol.ReadVarString()
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("reading V2 columns: %w", err)
	}
	if err := strCol.Err(); err != nil {
		return nil, fmt.Errorf("reading V2 string column: %w", err)
	}
	return v, nil
}

// check moves the first column error onto the rest decoder, where callers
// look for errors.
func (v *decoderV2) check() {
	for _, c := range v.columns {
		if err := c.Err(); err != nil {
			v.d.Fail(fmt.Errorf("V2 column: %w", err))
		}
	}
}

func (v *decoderV2) rest() *lib0.Decoder { v.check(); return v.d }
func (v *decoderV2) readLeftID() ID {
	client := v.client.read()
	return ID{client, v.leftClock.read()}
}
func (v *decoderV2) readRightID() ID {
	client := v.client.read()
	return ID{client, v.rightClk.read()}
}
func (v *decoderV2) readClient() uint64   { return v.client.read() }
func (v *decoderV2) readInfo() uint8      { return v.info.read() }
func (v *decoderV2) readString() string   { return v.strings.read(v.d.Fail) }
func (v *decoderV2) readParentInfo() bool { return v.parent.read() == 1 }
func (v *decoderV2) readTypeRef() uint64  { return v.typeRef.read() }
func (v *decoderV2) readLen() uint64      { return v.length.read() }
func (v *decoderV2) readAny() any         { return v.d.ReadAny() }
func (v *decoderV2) readJSON() any        { return v.d.ReadAny() }
func (v *decoderV2) readBuf() []byte {
	return append([]byte(nil), v.d.ReadVarUint8Array()...)
}
func (v *decoderV2) resetDsCurVal() { v.dsCurVal = 0 }
func (v *decoderV2) readDsClock() uint64 {
	v.dsCurVal += v.d.ReadVarUint()
	return v.dsCurVal
}
func (v *decoderV2) readDsLen() uint64 {
	n := v.d.ReadVarUint() + 1
	v.dsCurVal += n
	return n
}

func (v *decoderV2) readKey() string {
	clock := v.keyClock.read()
	if clock < uint64(len(v.keys)) {
		return v.keys[clock]
	}
	key := v.readString()
	v.keys = append(v.keys, key)
	return key
}
