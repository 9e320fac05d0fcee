package yjs

import (
	"fmt"

	"github.com/jupygo/jupygo/yjs/lib0"
)

// updateEncoder writes the fields of structs and delete sets. V1 writes
// everything into one lib0 stream; V2 would spread fields over columns.
type updateEncoder interface {
	rest() *lib0.Encoder
	setRest(*lib0.Encoder)
	bytes() []byte
	writeLeftID(ID)
	writeRightID(ID)
	writeClient(uint64)
	writeInfo(uint8)
	writeString(string)
	// writeUTF8 writes a string given as valid UTF-8 bytes.
	writeUTF8([]byte)
	writeParentInfo(isYKey bool)
	writeTypeRef(uint8)
	writeLen(uint64)
	writeAny(any)
	writeBuf([]byte)
	writeJSON(any)
	writeKey(string)
	resetDsCurVal()
	writeDsClock(uint64)
	writeDsLen(uint64)
}

// updateDecoder reads what updateEncoder writes. Errors are sticky on the
// rest decoder; every read after an error returns a zero value.
type updateDecoder interface {
	rest() *lib0.Decoder
	readLeftID() ID
	readRightID() ID
	readClient() uint64
	readInfo() uint8
	readString() string
	// readText reads a string as a byte slice that the caller owns.
	readText() []byte
	readParentInfo() bool
	readTypeRef() uint64
	readLen() uint64
	readAny() any
	readBuf() []byte
	readJSON() any
	readKey() string
	// stringBudget bounds how many more strings can be read: each takes at
	// least a byte of the stream strings come from.
	stringBudget() int
	resetDsCurVal()
	readDsClock() uint64
	readDsLen() uint64
}

type encoderV1 struct{ e *lib0.Encoder }

func newEncoderV1() *encoderV1 { return &encoderV1{e: &lib0.Encoder{}} }

func (e *encoderV1) rest() *lib0.Encoder     { return e.e }
func (e *encoderV1) setRest(r *lib0.Encoder) { e.e = r }
func (e *encoderV1) bytes() []byte           { return e.e.Bytes() }
func (e *encoderV1) writeLeftID(id ID) {
	e.e.WriteVarUint(id.Client)
	e.e.WriteVarUint(id.Clock)
}
func (e *encoderV1) writeRightID(id ID) {
	e.e.WriteVarUint(id.Client)
	e.e.WriteVarUint(id.Clock)
}
func (e *encoderV1) writeClient(c uint64)  { e.e.WriteVarUint(c) }
func (e *encoderV1) writeInfo(i uint8)     { e.e.WriteUint8(i) }
func (e *encoderV1) writeString(s string)  { e.e.WriteVarString(s) }
func (e *encoderV1) writeUTF8(b []byte)    { e.e.WriteVarUTF8(b) }
func (e *encoderV1) writeTypeRef(r uint8)  { e.e.WriteVarUint(uint64(r)) }
func (e *encoderV1) writeLen(n uint64)     { e.e.WriteVarUint(n) }
func (e *encoderV1) writeAny(v any)        { e.e.WriteAny(v) }
func (e *encoderV1) writeBuf(b []byte)     { e.e.WriteVarUint8Array(b) }
func (e *encoderV1) writeJSON(v any)       { e.e.WriteVarString(stringifyJSON(v)) }
func (e *encoderV1) writeKey(k string)     { e.e.WriteVarString(k) }
func (e *encoderV1) resetDsCurVal()        {}
func (e *encoderV1) writeDsClock(c uint64) { e.e.WriteVarUint(c) }
func (e *encoderV1) writeDsLen(n uint64)   { e.e.WriteVarUint(n) }
func (e *encoderV1) writeParentInfo(isYKey bool) {
	if isYKey {
		e.e.WriteVarUint(1)
	} else {
		e.e.WriteVarUint(0)
	}
}

type decoderV1 struct{ d *lib0.Decoder }

func newDecoderV1(d *lib0.Decoder) *decoderV1 { return &decoderV1{d: d} }

func (d *decoderV1) rest() *lib0.Decoder { return d.d }
func (d *decoderV1) readLeftID() ID {
	client := d.d.ReadVarUint()
	return ID{client, d.d.ReadVarUint()}
}
func (d *decoderV1) readRightID() ID      { return d.readLeftID() }
func (d *decoderV1) readClient() uint64   { return d.d.ReadVarUint() }
func (d *decoderV1) readInfo() uint8      { return d.d.ReadUint8() }
func (d *decoderV1) readString() string   { return d.d.ReadVarString() }
func (d *decoderV1) readText() []byte     { return d.d.ReadVarUTF8() }
func (d *decoderV1) readParentInfo() bool { return d.d.ReadVarUint() == 1 }
func (d *decoderV1) readTypeRef() uint64  { return d.d.ReadVarUint() }
func (d *decoderV1) readLen() uint64      { return d.d.ReadVarUint() }
func (d *decoderV1) readAny() any         { return d.d.ReadAny() }
func (d *decoderV1) readKey() string      { return d.d.ReadVarString() }
func (d *decoderV1) stringBudget() int    { return d.d.Remaining() }
func (d *decoderV1) resetDsCurVal()       {}
func (d *decoderV1) readDsClock() uint64  { return d.d.ReadVarUint() }
func (d *decoderV1) readDsLen() uint64    { return d.d.ReadVarUint() }

func (d *decoderV1) readBuf() []byte {
	b := d.d.ReadVarUint8Array()
	return append([]byte(nil), b...)
}

func (d *decoderV1) readJSON() any {
	s := d.d.ReadVarString()
	if d.d.Err() != nil {
		return nil
	}
	v, err := parseJSON(s)
	if err != nil {
		d.d.Fail(fmt.Errorf("parsing JSON content: %w", err))
		return nil
	}
	return v
}
