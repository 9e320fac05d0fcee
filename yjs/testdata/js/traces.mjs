// traces.mjs replays the sequential editing traces in yjs, one transaction
// per patch, with client id 2147495993 (2^31+12345) into the root text "t",
// and prints the length and SHA-256 of each final encoded state as JSON
// (the content of ../traces/expected.json).
import * as Y from 'yjs'
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { createHash } from 'node:crypto'

const out = {}
for (const name of ['automerge-paper', 'seph-blog1', 'friendsforever_flat']) {
  const trace = JSON.parse(gunzipSync(readFileSync(`../traces/${name}.json.gz`)))
  const doc = new Y.Doc()
  doc.clientID = 2147495993
  const text = doc.getText("t")
  for (const txn of trace.txns) {
    for (const [pos, del, ins] of txn.patches) {
      // The traces contain no characters outside the BMP, so code point
      // positions equal UTF-16 positions.
      if (del > 0) text.delete(pos, del)
      if (ins.length > 0) text.insert(pos, ins)
    }
  }
  if (text.toString() !== trace.endContent) throw new Error(name + ': wrong end content')
  const update = Y.encodeStateAsUpdate(doc)
  out[name] = {
    length: update.length,
    sha256: createHash('sha256').update(update).digest('hex'),
    stateVector: Buffer.from(Y.encodeStateVector(doc)).toString('hex')
  }
}
console.log(JSON.stringify(out, null, 1))
