// Package lib0 implements the binary encoding that Yjs and y-protocols use
// on the wire, as the npm package lib0 (0.2.x) defines it: unsigned and
// signed variable-length integers, length-prefixed byte arrays and UTF-8
// strings, big-endian floats, and the tagged "any" value encoding.
//
// A Decoder never panics on malformed input. Its first error is sticky:
// every later read returns a zero value, and Err reports the error. Every
// length prefix is checked against the bytes that remain before anything is
// allocated, so a short input cannot make a decoder allocate without bound.
package lib0

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"
)

// MaxSafeInteger is the largest integer a JavaScript number holds exactly
// (2^53 - 1). lib0 rejects larger variable-length integers, and so does
// this package.
const MaxSafeInteger = 1<<53 - 1

// Errors a Decoder reports. Wrapped errors name the value being read.
var (
	ErrUnexpectedEnd = errors.New("unexpected end of input")
	ErrIntegerRange  = errors.New("integer exceeds 2^53-1")
	ErrInvalidUTF8   = errors.New("invalid UTF-8 in string")
	ErrLength        = errors.New("length prefix exceeds remaining input")
	ErrUnknownTag    = errors.New("unknown any tag")
	ErrTooDeep       = errors.New("any value nested too deeply")
)

// Encoder appends lib0-encoded values to a byte slice. The zero value is
// ready to use.
type Encoder struct {
	buf []byte
}

// NewEncoder returns an Encoder that appends to buf.
func NewEncoder(buf []byte) *Encoder { return &Encoder{buf: buf} }

// Bytes returns the encoded bytes. The slice aliases the encoder's buffer
// until the next write.
func (e *Encoder) Bytes() []byte { return e.buf }

// Len returns the number of bytes written so far.
func (e *Encoder) Len() int { return len(e.buf) }

// WriteUint8 appends one byte.
func (e *Encoder) WriteUint8(b uint8) { e.buf = append(e.buf, b) }

// WriteBytes appends raw bytes without a length prefix.
func (e *Encoder) WriteBytes(b []byte) { e.buf = append(e.buf, b...) }

// WriteVarUint appends n as unsigned LEB128: seven bits a byte, least
// significant group first, 0x80 marking that more bytes follow.
func (e *Encoder) WriteVarUint(n uint64) {
	e.buf = AppendVarUint(e.buf, n)
}

// AppendVarUint appends n to b as WriteVarUint does and returns the result.
func AppendVarUint(b []byte, n uint64) []byte {
	for n > 0x7f {
		b = append(b, byte(n&0x7f)|0x80)
		n >>= 7
	}
	return append(b, byte(n))
}

// WriteVarInt appends a signed integer in lib0's sign-magnitude form: the
// first byte carries a continuation bit (0x80), a sign bit (0x40) and six
// bits of magnitude; later bytes carry seven bits each.
func (e *Encoder) WriteVarInt(n int64) {
	if n < 0 {
		e.WriteVarIntSign(uint64(-n), true)
		return
	}
	e.WriteVarIntSign(uint64(n), false)
}

// WriteVarIntSign appends magnitude mag with an explicit sign, so that
// negative zero, which lib0's run-length encoders use as a marker, can be
// written.
func (e *Encoder) WriteVarIntSign(mag uint64, negative bool) {
	first := byte(mag & 0x3f)
	if negative {
		first |= 0x40
	}
	mag >>= 6
	if mag > 0 {
		first |= 0x80
	}
	e.buf = append(e.buf, first)
	for mag > 0 {
		b := byte(mag & 0x7f)
		mag >>= 7
		if mag > 0 {
			b |= 0x80
		}
		e.buf = append(e.buf, b)
	}
}

// WriteVarUint8Array appends the length of b as a varUint and then b.
func (e *Encoder) WriteVarUint8Array(b []byte) {
	e.WriteVarUint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}

// WriteVarString appends s as its UTF-8 byte length and bytes. A lone
// surrogate in s (see utf.go) and any other invalid byte are written as
// U+FFFD, as JavaScript's TextEncoder writes lone surrogates.
func (e *Encoder) WriteVarString(s string) {
	s = ToValidUTF8(s)
	e.WriteVarUint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// WriteVarUTF8 appends text b as WriteVarString does.
func (e *Encoder) WriteVarUTF8(b []byte) {
	if !utf8.Valid(b) {
		e.WriteVarString(string(b))
		return
	}
	e.WriteVarUint8Array(b)
}

// Decoder reads lib0-encoded values from a byte slice. See the package
// comment for its error contract.
type Decoder struct {
	buf []byte
	pos int
	err error
}

// NewDecoder returns a Decoder reading buf. The decoder does not copy buf;
// byte slices it returns alias buf.
func NewDecoder(buf []byte) *Decoder { return &Decoder{buf: buf} }

// Err returns the first error the decoder met, or nil.
func (d *Decoder) Err() error { return d.err }

// Fail records err as the decoder's error unless one is already recorded.
// Callers that validate decoded values use it to stop further reads.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// Remaining returns the number of unread bytes.
func (d *Decoder) Remaining() int { return len(d.buf) - d.pos }

// HasContent reports whether unread bytes remain and no error occurred.
func (d *Decoder) HasContent() bool { return d.err == nil && d.pos < len(d.buf) }

// Pos returns the read offset.
func (d *Decoder) Pos() int { return d.pos }

// Rest returns the unread bytes without consuming them.
func (d *Decoder) Rest() []byte { return d.buf[d.pos:] }

// ReadUint8 reads one byte.
func (d *Decoder) ReadUint8() uint8 {
	if d.err != nil {
		return 0
	}
	if d.pos >= len(d.buf) {
		d.err = ErrUnexpectedEnd
		return 0
	}
	b := d.buf[d.pos]
	d.pos++
	return b
}

// ReadBytes reads n raw bytes. The result aliases the input.
func (d *Decoder) ReadBytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.buf)-d.pos {
		d.err = fmt.Errorf("reading %d bytes with %d left: %w", n, len(d.buf)-d.pos, ErrLength)
		return nil
	}
	b := d.buf[d.pos : d.pos+n : d.pos+n]
	d.pos += n
	return b
}

// ReadVarUint reads an unsigned LEB128 integer of at most 2^53-1.
// Redundant zero groups (0x80 0x80 0x00) are accepted as lib0 accepts them.
func (d *Decoder) ReadVarUint() uint64 {
	if d.err != nil {
		return 0
	}
	var n uint64
	var shift uint
	for d.pos < len(d.buf) {
		b := d.buf[d.pos]
		d.pos++
		group := uint64(b & 0x7f)
		if group != 0 {
			if shift > 52 || group > MaxSafeInteger>>shift {
				d.err = ErrIntegerRange
				return 0
			}
			n |= group << shift
		}
		if b < 0x80 {
			return n
		}
		shift += 7
	}
	d.err = ErrUnexpectedEnd
	return 0
}

// ReadVarInt reads a signed lib0 integer. Negative zero reads as 0; use
// ReadVarIntSign to tell it apart.
func (d *Decoder) ReadVarInt() int64 {
	mag, neg := d.ReadVarIntSign()
	if neg {
		return -int64(mag)
	}
	return int64(mag)
}

// ReadVarIntSign reads a signed lib0 integer as its magnitude and sign.
func (d *Decoder) ReadVarIntSign() (mag uint64, negative bool) {
	if d.err != nil {
		return 0, false
	}
	if d.pos >= len(d.buf) {
		d.err = ErrUnexpectedEnd
		return 0, false
	}
	b := d.buf[d.pos]
	d.pos++
	n := uint64(b & 0x3f)
	negative = b&0x40 != 0
	if b < 0x80 {
		return n, negative
	}
	shift := uint(6)
	for d.pos < len(d.buf) {
		b = d.buf[d.pos]
		d.pos++
		group := uint64(b & 0x7f)
		if group != 0 {
			if shift > 52 || group > MaxSafeInteger>>shift {
				d.err = ErrIntegerRange
				return 0, false
			}
			n |= group << shift
		}
		if b < 0x80 {
			return n, negative
		}
		shift += 7
	}
	d.err = ErrUnexpectedEnd
	return 0, false
}

// ReadLen reads a varUint that counts elements of at least min bytes each
// that follow in the input, and rejects counts the remaining input cannot
// hold. Decoders use it before allocating per-element storage.
func (d *Decoder) ReadLen(min int) int {
	n := d.ReadVarUint()
	if d.err != nil {
		return 0
	}
	if min > 0 && n > uint64(d.Remaining()/min) {
		d.err = fmt.Errorf("count %d with %d bytes left: %w", n, d.Remaining(), ErrLength)
		return 0
	}
	return int(n)
}

// ReadVarUint8Array reads a varUint length and that many bytes. The result
// aliases the input.
func (d *Decoder) ReadVarUint8Array() []byte {
	n := d.ReadVarUint()
	if d.err != nil {
		return nil
	}
	if n > uint64(d.Remaining()) {
		d.err = fmt.Errorf("byte array of %d with %d bytes left: %w", n, d.Remaining(), ErrLength)
		return nil
	}
	return d.ReadBytes(int(n))
}

// ReadVarUTF8 is ReadVarString returning a copy of the bytes, for a
// caller that keeps them as a byte slice.
func (d *Decoder) ReadVarUTF8() []byte {
	b := d.ReadVarUint8Array()
	if d.err != nil {
		return nil
	}
	if !validUTF8(b) {
		d.err = ErrInvalidUTF8
		return nil
	}
	return bytes.Clone(b)
}

// ReadVarString reads a length-prefixed UTF-8 string. Invalid UTF-8 is an
// error, as in lib0, which decodes with a fatal TextDecoder. A leading byte
// order mark is kept.
func (d *Decoder) ReadVarString() string {
	b := d.ReadVarUint8Array()
	if d.err != nil {
		return ""
	}
	if !validUTF8(b) {
		d.err = ErrInvalidUTF8
		return ""
	}
	return string(b)
}
