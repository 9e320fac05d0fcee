package yjs

import (
	"fmt"
	"unicode/utf8"

	"github.com/jupygo/jupygo/yjs/lib0"
)

// The V2 update format stores each field kind in its own column, most of
// them run-length encoded. An update is a feature flag (0), then nine
// columns as byte arrays (key clocks, clients, left clocks, right clocks,
// info bytes, strings, parent info, type refs, lengths), then the rest
// stream with delete sets, any values and buffers. The readers and writers
// below follow lib0's run-length decoders and encoders.

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

// stringDecoder slices one concatenated string by UTF-16 lengths, as
// lib0 slices the JavaScript string. A length that ends inside a surrogate
// pair cuts it: the string read gets the high half and the next one
// starts with the low half, both in WTF-8 (see lib0).
type stringDecoder struct {
	lens uintOptRleDecoder
	str  string
	pos  int  // byte offset into str
	half bool // the high half of the pair at pos was read
}

func (s *stringDecoder) read(fail func(error)) string {
	n := s.lens.read()
	rest := s.str[s.pos:]
	if n > uint64(len(rest))*2 {
		fail(fmt.Errorf("string of %d units past the string column", n))
		return ""
	}
	units := int(n)
	var head []byte
	if s.half && units > 0 {
		head = lowHalf(rest)
		rest = rest[4:]
		s.pos += 4
		s.half = false
		units--
	}
	b, inPair := utf16ToByteOffset(rest, -1, units)
	s.pos += b
	if inPair {
		s.half = true
		return string(append(append(head, rest[:b]...), highHalf(rest[b:])...))
	}
	if head != nil {
		return string(append(head, rest[:b]...))
	}
	return rest[:b]
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
func (v *decoderV2) readText() []byte     { return []byte(v.readString()) }
func (v *decoderV2) readParentInfo() bool { return v.parent.read() == 1 }
func (v *decoderV2) readTypeRef() uint64  { return v.typeRef.read() }
func (v *decoderV2) readLen() uint64      { return v.length.read() }
func (v *decoderV2) readAny() any         { return v.d.ReadAny() }
func (v *decoderV2) readJSON() any        { return v.d.ReadAny() }
func (v *decoderV2) readBuf() []byte {
	return append([]byte(nil), v.d.ReadVarUint8Array()...)
}
func (v *decoderV2) resetDsCurVal()    { v.dsCurVal = 0 }
func (v *decoderV2) stringBudget() int { return len(v.strings.str) - v.strings.pos }
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

// rleUint8Encoder writes a byte and, when it repeats, the count of
// repetitions minus one before the next different byte. The last run's
// count is not written: the decoder repeats the last byte forever.
type rleUint8Encoder struct {
	e     lib0.Encoder
	s     uint8
	count int
}

func (r *rleUint8Encoder) write(v uint8) {
	if r.count > 0 && r.s == v {
		r.count++
		return
	}
	if r.count > 0 {
		r.e.WriteVarUint(uint64(r.count - 1))
	}
	r.count = 1
	r.e.WriteUint8(v)
	r.s = v
}

func (r *rleUint8Encoder) bytes() []byte { return r.e.Bytes() }

// uintOptRleEncoder writes a value positive when it occurs once, and
// negative followed by the count minus two when it repeats.
type uintOptRleEncoder struct {
	e     lib0.Encoder
	s     uint64
	count uint64
}

func (r *uintOptRleEncoder) write(v uint64) {
	if r.s == v {
		r.count++
		return
	}
	r.flush()
	r.count = 1
	r.s = v
}

func (r *uintOptRleEncoder) flush() {
	if r.count == 0 {
		return
	}
	r.e.WriteVarIntSign(r.s, r.count > 1)
	if r.count > 1 {
		r.e.WriteVarUint(r.count - 2)
	}
}

func (r *uintOptRleEncoder) bytes() []byte {
	r.flush()
	r.count = 0
	return r.e.Bytes()
}

// intDiffOptRleEncoder writes differences between consecutive values, the
// low bit telling whether a repeat count follows.
type intDiffOptRleEncoder struct {
	e     lib0.Encoder
	s     int64
	count uint64
	diff  int64
}

func (r *intDiffOptRleEncoder) write(v uint64) {
	d := int64(v) - r.s
	if r.diff == d {
		r.s = int64(v)
		r.count++
		return
	}
	r.flush()
	r.count = 1
	r.diff = d
	r.s = int64(v)
}

func (r *intDiffOptRleEncoder) flush() {
	if r.count == 0 {
		return
	}
	encoded := r.diff * 2
	if r.count > 1 {
		encoded++
	}
	r.e.WriteVarInt(encoded)
	if r.count > 1 {
		r.e.WriteVarUint(r.count - 2)
	}
}

func (r *intDiffOptRleEncoder) bytes() []byte {
	r.flush()
	r.count = 0
	return r.e.Bytes()
}

// stringEncoder concatenates strings and records their UTF-16 lengths. As
// in JavaScript, a lone high surrogate and a lone low one that meet form a
// pair, and lone surrogates left over are written as U+FFFD.
type stringEncoder struct {
	sb   []byte
	lens uintOptRleEncoder
}

func (s *stringEncoder) write(b []byte) {
	s.sb = lib0.AppendWTF8(s.sb, b)
	s.lens.write(uint64(lib0.UTF16Len(string(b))))
}

func (s *stringEncoder) bytes() []byte {
	e := &lib0.Encoder{}
	if !utf8.Valid(s.sb) {
		s.sb = []byte(lib0.ToValidUTF8(string(s.sb)))
	}
	e.WriteVarUint8Array(s.sb)
	e.WriteBytes(s.lens.bytes())
	return e.Bytes()
}

// encoderV2 writes the V2 update format; see the top of this file.
type encoderV2 struct {
	restE     *lib0.Encoder
	dsCurVal  uint64
	keyClock  uint64
	keyClockE intDiffOptRleEncoder
	client    uintOptRleEncoder
	leftClock intDiffOptRleEncoder
	rightClk  intDiffOptRleEncoder
	info      rleUint8Encoder
	strings   stringEncoder
	parent    rleUint8Encoder
	typeRef   uintOptRleEncoder
	length    uintOptRleEncoder
}

func newEncoderV2() *encoderV2 { return &encoderV2{restE: &lib0.Encoder{}} }

func (v *encoderV2) rest() *lib0.Encoder     { return v.restE }
func (v *encoderV2) setRest(r *lib0.Encoder) { v.restE = r }

func (v *encoderV2) bytes() []byte {
	e := &lib0.Encoder{}
	e.WriteVarUint(0) // feature flag
	e.WriteVarUint8Array(v.keyClockE.bytes())
	e.WriteVarUint8Array(v.client.bytes())
	e.WriteVarUint8Array(v.leftClock.bytes())
	e.WriteVarUint8Array(v.rightClk.bytes())
	e.WriteVarUint8Array(v.info.bytes())
	e.WriteVarUint8Array(v.strings.bytes())
	e.WriteVarUint8Array(v.parent.bytes())
	e.WriteVarUint8Array(v.typeRef.bytes())
	e.WriteVarUint8Array(v.length.bytes())
	e.WriteBytes(v.restE.Bytes())
	return e.Bytes()
}

func (v *encoderV2) writeLeftID(id ID) {
	v.client.write(id.Client)
	v.leftClock.write(id.Clock)
}

func (v *encoderV2) writeRightID(id ID) {
	v.client.write(id.Client)
	v.rightClk.write(id.Clock)
}

func (v *encoderV2) writeClient(c uint64) { v.client.write(c) }
func (v *encoderV2) writeInfo(i uint8)    { v.info.write(i) }
func (v *encoderV2) writeString(s string) { v.strings.write([]byte(lib0.ToWTF8(s))) }
func (v *encoderV2) writeUTF8(b []byte)   { v.strings.write(b) }
func (v *encoderV2) writeTypeRef(r uint8) { v.typeRef.write(uint64(r)) }
func (v *encoderV2) writeLen(n uint64)    { v.length.write(n) }
func (v *encoderV2) writeAny(a any)       { v.restE.WriteAny(a) }
func (v *encoderV2) writeBuf(b []byte)    { v.restE.WriteVarUint8Array(b) }
func (v *encoderV2) writeJSON(a any)      { v.restE.WriteAny(a) }
func (v *encoderV2) resetDsCurVal()       { v.dsCurVal = 0 }

func (v *encoderV2) writeParentInfo(isYKey bool) {
	if isYKey {
		v.parent.write(1)
	} else {
		v.parent.write(0)
	}
}

// writeKey writes a key as new every time, as yjs does: its key cache is
// disabled, and decoders must not depend on reuse.
func (v *encoderV2) writeKey(k string) {
	v.keyClockE.write(v.keyClock)
	v.keyClock++
	v.writeString(k)
}

func (v *encoderV2) writeDsClock(c uint64) {
	v.restE.WriteVarUint(c - v.dsCurVal)
	v.dsCurVal = c
}

func (v *encoderV2) writeDsLen(n uint64) {
	v.restE.WriteVarUint(n - 1)
	v.dsCurVal += n
}
