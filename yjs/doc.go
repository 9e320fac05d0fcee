// Package yjs is a Yjs CRDT: documents, shared types and the binary update
// format, compatible byte for byte with the JavaScript yjs 13.6. It
// imports only the standard library and logs nothing.
//
// # Model
//
// A Doc holds named root types (Text, Map, Array and the XML types), which
// may nest further types. Every change is recorded as structs in a struct
// store: per client, a slice of structs sorted by clock, without gaps, so
// that any ID (client, clock) is found by binary search. A struct is an
// Item, which carries content and a position, or a GC struct, a run of
// garbage-collected units that keeps only its length. Skip structs (holes)
// appear only in merged updates.
//
// An Item covers Length clock units: one per UTF-16 code unit of a string,
// one per element of an array of values, one for every other content kind
// (embed, format, binary, nested type, subdocument). Items of a list are
// linked left to right; items of a map key are linked from the oldest
// value to the current one, which is the key's entry in the parent.
//
// Strings are Go strings, but a V2 update can cut a surrogate pair in
// two, and yjs then keeps each half as a lone surrogate in its UTF-16
// string. Such a half is held in WTF-8 (three bytes ED A0..BF 80..BF),
// which is not valid UTF-8. Text.String, deltas, map keys and JSON values
// can return it, and StringifyJSON escapes it as JSON.stringify does
// ("\ud83d"). Halves that meet again join into their pair, and the
// encoders write a lone half as U+FFFD, as yjs does. Insert keeps a lone
// surrogate given in WTF-8 and replaces other invalid UTF-8 by U+FFFD.
// encoding/json writes each byte of a half as U+FFFD, so use StringifyJSON
// where the escapes matter.
//
// Each Item records its origin, the last unit to its left when it was
// inserted, and its right origin, the first unit to its right. Integration
// (YATA) places concurrent inserts between the same neighbours in the same
// order on every peer: with equal origins the lower client id goes first,
// and items whose origin lies among the conflicting items follow their
// origin. For map keys the rightmost item wins, which makes the higher
// client id win concurrent writes.
//
// Items are split when an operation or a remote origin needs a boundary
// inside them, and adjacent items of one client that were created as a run
// merge back at the end of every transaction, as in yjs. Text positions
// are found with yjs's search markers. Both follow yjs exactly, because
// the item boundaries and origins they produce decide the bytes of every
// later update.
//
// # Transactions and observers
//
// Doc.Transact groups changes. When the outermost transaction ends,
// observers run (Event carries the changed keys, the list or text delta
// and the path from a deep observer's type), deleted content is garbage
// collected unless WithGC(false), structs are merged, and OnUpdate
// handlers receive the transaction's update. The methods of the shared
// types run their own transaction when called outside one. A Doc is not
// safe for concurrent use.
//
// # Undo
//
// UndoManager records tracked transactions on a set of types as undo
// steps, as yjs's UndoManager does. Undo deletes what a step inserted and
// re-creates what it deleted as new items linked from the old ones
// (redone), so undoing is an ordinary change that syncs to every peer.
// Deleted content it may restore is kept from garbage collection.
//
// # Deletions
//
// A deletion marks items deleted and records the range in a DeleteSet,
// per client a sorted list of clock ranges. Deleted content stays in the
// store until garbage collection replaces it with ContentDeleted, or, for
// the children of a deleted type, with GC structs. Every update ends with
// a delete set; a full state carries the delete set of the whole document.
//
// # Encoding
//
// An update is the structs a peer lacks, written per client in descending
// client order, followed by a delete set; EncodeStateAsUpdate writes
// everything past a state vector. ApplyUpdate integrates what it can.
// Structs whose dependencies (origin, right origin, parent, earlier clocks
// of the same client) are missing wait as pending structs, and deletions
// of unknown content as pending deletes; both are retried when later
// updates arrive and are included in EncodeStateAsUpdate.
//
// Both formats are read and written: V1 (ApplyUpdate, EncodeStateAsUpdate),
// which y-websocket and the Jupyter stack use, and V2 (ApplyUpdateV2,
// EncodeStateAsUpdateV2, ConvertUpdateV1ToV2). MergeUpdates, DiffUpdate,
// EncodeStateVectorFromUpdate and ParseUpdateMeta work on V1 updates
// without a Doc. Doc.InspectUpdate reads a V1 update and finds where each
// of its items would go in the document, without applying it, so that an
// application can check an update before it accepts it. Values inside Any and JSON content follow JavaScript:
// see package lib0 for the value model and ParseJSON for JSON text.
//
// Package yprotocol builds the sync and awareness protocols of y-websocket
// on this package.
package yjs
