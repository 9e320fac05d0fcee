package collab

import (
	"fmt"

	"github.com/jupygo/jupygo/yjs/lib0"
)

// Struct refs of the V1 update format (yjs 13.6 Item.js and
// encoding.js): 0 is a GC struct, 10 a Skip, and 1 to 9 an Item whose
// content kind the ref names.
const (
	refGC      = 0
	refDeleted = 1
	refJSON    = 2
	refBinary  = 3
	refString  = 4
	refEmbed   = 5
	refFormat  = 6
	refType    = 7
	refAny     = 8
	refDoc     = 9
	refSkip    = 10
)

// Type refs of ContentType whose content carries a name.
const (
	typeXMLElement = 3
	typeXMLHook    = 5
)

// updateCost returns the number of items a V1 update would create in a
// doc, counting each delete range as two, since a range can split an
// item at both ends. GC and Skip structs cost nothing: the yjs package
// joins runs of them. The count stops once it passes limit. It reads
// the update's structure only, without building anything, so that an
// update whose few bytes describe a huge structure can be rejected
// before it is applied. Errors wrap errMalformed.
func updateCost(update []byte, limit int) (int, error) {
	d := lib0.NewDecoder(update)
	cost := 0
	clients := d.ReadVarUint()
	for i := uint64(0); i < clients && d.Err() == nil && cost <= limit; i++ {
		structs := d.ReadVarUint()
		d.ReadVarUint() // client
		d.ReadVarUint() // clock
		for j := uint64(0); j < structs && d.Err() == nil && cost <= limit; j++ {
			if skipStruct(d) {
				cost++
			}
		}
	}
	ranges := d.ReadVarUint()
	for i := uint64(0); i < ranges && d.Err() == nil && cost <= limit; i++ {
		d.ReadVarUint() // client
		n := d.ReadVarUint()
		for j := uint64(0); j < n && d.Err() == nil && cost <= limit; j++ {
			d.ReadVarUint() // clock
			d.ReadVarUint() // length
			cost += 2
		}
	}
	if err := d.Err(); err != nil && cost <= limit {
		return cost, fmt.Errorf("%w: update: %w", errMalformed, err)
	}
	return cost, nil
}

// skipStruct reads one struct and reports whether it is an Item. Errors
// are left in d.
func skipStruct(d *lib0.Decoder) bool {
	info := d.ReadUint8()
	ref := info & 0x1f
	switch ref {
	case refGC, refSkip:
		d.ReadVarUint()
		return false
	}
	if info&0x80 != 0 { // origin
		d.ReadVarUint()
		d.ReadVarUint()
	}
	if info&0x40 != 0 { // right origin
		d.ReadVarUint()
		d.ReadVarUint()
	}
	if info&0xc0 == 0 {
		if d.ReadVarUint() == 1 {
			d.ReadVarString() // root type name
		} else {
			d.ReadVarUint() // parent item's client and clock
			d.ReadVarUint()
		}
		if info&0x20 != 0 {
			d.ReadVarString() // map key
		}
	}
	skipContent(d, ref)
	return true
}

// skipContent reads an Item's content of kind ref.
func skipContent(d *lib0.Decoder, ref uint8) {
	switch ref {
	case refDeleted:
		d.ReadVarUint()
	case refJSON:
		n := d.ReadVarUint()
		for i := uint64(0); i < n && d.Err() == nil; i++ {
			d.ReadVarString()
		}
	case refBinary:
		d.ReadVarUint8Array()
	case refString, refEmbed:
		d.ReadVarString()
	case refFormat:
		d.ReadVarString()
		d.ReadVarString()
	case refType:
		if t := d.ReadVarUint(); t == typeXMLElement || t == typeXMLHook {
			d.ReadVarString()
		}
	case refAny:
		n := d.ReadVarUint()
		for i := uint64(0); i < n && d.Err() == nil; i++ {
			d.ReadAny()
		}
	case refDoc:
		d.ReadVarString()
		d.ReadAny()
	default:
		d.Fail(fmt.Errorf("unknown struct ref %d", ref))
	}
}
