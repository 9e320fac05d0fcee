package lib0

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Any values are the Go form of the JavaScript values that lib0's writeAny
// and readAny exchange:
//
//	JavaScript     Go
//	undefined      Undefined{}
//	null           nil
//	boolean        bool
//	number         float64 (negative zero and NaN included)
//	bigint         int64
//	string         string
//	Uint8Array     []byte
//	Array          []any
//	Object         Object
//
// WriteAny also accepts the Go integer and float types and writes them as
// numbers; every other Go type is written as undefined, which is what lib0
// writes for functions and symbols.

// Undefined is JavaScript's undefined.
type Undefined struct{}

// Field is one property of an Object.
type Field struct {
	Key   string
	Value any
}

// Object is a JavaScript object: string keys in JavaScript's property
// order, which puts array-index keys ("0", "17") first in ascending numeric
// order and the other keys after them in insertion order. Set keeps that
// order, so an Object written back produces the bytes lib0 would write.
type Object struct {
	Fields []Field
}

// NewObject returns an Object with the given fields set in order.
func NewObject(fields ...Field) Object {
	var o Object
	for _, f := range fields {
		o.Set(f.Key, f.Value)
	}
	return o
}

// Len returns the number of properties.
func (o Object) Len() int { return len(o.Fields) }

// Get returns the value of key and whether it is present.
func (o Object) Get(key string) (any, bool) {
	for _, f := range o.Fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return nil, false
}

// Set assigns key, keeping an existing key in place as JavaScript does.
func (o *Object) Set(key string, v any) {
	for i := range o.Fields {
		if o.Fields[i].Key == key {
			o.Fields[i].Value = v
			return
		}
	}
	idx, ok := arrayIndex(key)
	if !ok {
		o.Fields = append(o.Fields, Field{key, v})
		return
	}
	pos := 0
	for pos < len(o.Fields) {
		other, isIndex := arrayIndex(o.Fields[pos].Key)
		if !isIndex || other > idx {
			break
		}
		pos++
	}
	o.Fields = append(o.Fields, Field{})
	copy(o.Fields[pos+1:], o.Fields[pos:])
	o.Fields[pos] = Field{key, v}
}

// Delete removes key if present.
func (o *Object) Delete(key string) {
	for i := range o.Fields {
		if o.Fields[i].Key == key {
			o.Fields = append(o.Fields[:i], o.Fields[i+1:]...)
			return
		}
	}
}

// arrayIndex reports whether key is a canonical array index as ECMAScript
// defines it (an integer below 2^32-1 without leading zeros), which puts it
// before other keys in property order.
func arrayIndex(key string) (uint64, bool) {
	if key == "" || len(key) > 10 || (key[0] == '0' && len(key) > 1) {
		return 0, false
	}
	n, err := strconv.ParseUint(key, 10, 64)
	if err != nil || n >= 1<<32-1 {
		return 0, false
	}
	return n, true
}

// MaxDepth bounds the nesting of arrays and objects in Any values, decoded
// or built, so that the recursive walks over them stay within a few
// megabytes of stack. yjs 13.6.33 under node 20 round-trips values nested
// 4,096 deep and fails deeper with a RangeError (8,431 with twice the
// default stack), so the bound is above anything yjs itself can exchange.
const MaxDepth = 1 << 14

const maxAnyDepth = MaxDepth

// WriteAny appends v with lib0's any encoding. Numbers are written as lib0
// writes them: integers of magnitude below 2^31 as varInt (tag 125), other
// values that survive a float32 round trip as float32 (124), everything
// else as float64 (123).
func (e *Encoder) WriteAny(v any) {
	switch v := v.(type) {
	case nil:
		e.WriteUint8(126)
	case Undefined:
		e.WriteUint8(127)
	case bool:
		if v {
			e.WriteUint8(120)
		} else {
			e.WriteUint8(121)
		}
	case string:
		e.WriteUint8(119)
		e.WriteVarString(v)
	case float64:
		e.writeNumber(v)
	case float32:
		e.writeNumber(float64(v))
	case int:
		e.writeNumber(float64(v))
	case int32:
		e.writeNumber(float64(v))
	case uint32:
		e.writeNumber(float64(v))
	case uint64:
		e.writeNumber(float64(v))
	case int64:
		e.WriteUint8(122)
		e.buf = binary.BigEndian.AppendUint64(e.buf, uint64(v))
	case []byte:
		e.WriteUint8(116)
		e.WriteVarUint8Array(v)
	case []any:
		e.WriteUint8(117)
		e.WriteVarUint(uint64(len(v)))
		for _, x := range v {
			e.WriteAny(x)
		}
	case Object:
		e.writeObject(v)
	case *Object:
		e.writeObject(*v)
	default:
		e.WriteUint8(127)
	}
}

func (e *Encoder) writeObject(o Object) {
	e.WriteUint8(118)
	e.WriteVarUint(uint64(len(o.Fields)))
	for _, f := range o.Fields {
		e.WriteVarString(f.Key)
		e.WriteAny(f.Value)
	}
}

func (e *Encoder) writeNumber(f float64) {
	switch {
	case f == math.Trunc(f) && math.Abs(f) <= math.MaxInt32:
		e.WriteUint8(125)
		e.WriteVarIntSign(uint64(math.Abs(f)), math.Signbit(f))
	case float64(float32(f)) == f:
		e.WriteUint8(124)
		e.WriteFloat32(float32(f))
	default:
		e.WriteUint8(123)
		e.WriteFloat64(f)
	}
}

// WriteFloat32 appends f as a big-endian IEEE-754 single.
func (e *Encoder) WriteFloat32(f float32) {
	e.buf = binary.BigEndian.AppendUint32(e.buf, math.Float32bits(f))
}

// WriteFloat64 appends f as a big-endian IEEE-754 double.
func (e *Encoder) WriteFloat64(f float64) {
	e.buf = binary.BigEndian.AppendUint64(e.buf, math.Float64bits(f))
}

// ReadAny reads one any-encoded value; see the type table above.
func (d *Decoder) ReadAny() any { return d.readAny(0) }

func (d *Decoder) readAny(depth int) any {
	if depth > maxAnyDepth {
		d.Fail(ErrTooDeep)
		return nil
	}
	tag := d.ReadUint8()
	if d.err != nil {
		return nil
	}
	switch tag {
	case 127:
		return Undefined{}
	case 126:
		return nil
	case 125:
		mag, neg := d.ReadVarIntSign()
		f := float64(mag)
		if neg {
			f = -f
		}
		return f
	case 124:
		b := d.ReadBytes(4)
		if d.err != nil {
			return nil
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
	case 123:
		b := d.ReadBytes(8)
		if d.err != nil {
			return nil
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b))
	case 122:
		b := d.ReadBytes(8)
		if d.err != nil {
			return nil
		}
		return int64(binary.BigEndian.Uint64(b))
	case 121:
		return false
	case 120:
		return true
	case 119:
		return d.ReadVarString()
	case 118:
		return d.readObject(depth)
	case 117:
		return d.readArray(depth)
	case 116:
		return d.ReadVarUint8Array()
	}
	d.Fail(fmt.Errorf("tag %d: %w", tag, ErrUnknownTag))
	return nil
}

func (d *Decoder) readObject(depth int) any {
	// Each property takes at least two bytes: an empty key and a tag.
	n := d.ReadLen(2)
	fields := make([]Field, 0, min(n, 64))
	pos := make(map[string]int)
	for i := 0; i < n && d.err == nil; i++ {
		key := d.ReadVarString()
		v := d.readAny(depth + 1)
		if d.err != nil {
			break
		}
		if p, ok := pos[key]; ok {
			fields[p].Value = v
			continue
		}
		pos[key] = len(fields)
		fields = append(fields, Field{key, v})
	}
	if d.err != nil {
		return nil
	}
	return Object{Fields: jsPropertyOrder(fields)}
}

// jsPropertyOrder moves array-index keys to the front in ascending order
// and keeps the other keys in insertion order.
func jsPropertyOrder(fields []Field) []Field {
	var indexed, named []Field
	for _, f := range fields {
		if _, ok := arrayIndex(f.Key); ok {
			indexed = append(indexed, f)
		} else {
			named = append(named, f)
		}
	}
	if len(indexed) == 0 {
		return fields
	}
	slices.SortStableFunc(indexed, func(a, b Field) int {
		x, _ := arrayIndex(a.Key)
		y, _ := arrayIndex(b.Key)
		return cmp.Compare(x, y)
	})
	return append(indexed, named...)
}

func (d *Decoder) readArray(depth int) any {
	n := d.ReadLen(1)
	arr := make([]any, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		arr = append(arr, d.readAny(depth+1))
	}
	if d.err != nil {
		return nil
	}
	return arr
}
