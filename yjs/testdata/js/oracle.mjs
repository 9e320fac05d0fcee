// oracle.mjs runs yjs as a reference implementation for the Go tests. It
// reads one JSON request per line on stdin and writes one JSON reply per
// line on stdout. Byte strings travel as hex.
//
// Requests: {"op": ..., ...}; replies: {"ok": true, ...} or {"ok": false,
// "error": "..."}. See handlers below for each op's fields.
import * as Y from 'yjs'
import * as readline from 'node:readline'

const docs = new Map()

const fromHex = (h) => Uint8Array.from(Buffer.from(h, 'hex'))
const toHex = (b) => Buffer.from(b).toString('hex')

// canonical turns yjs JSON values into plain JSON the Go side reproduces.
const canonical = (v) => JSON.parse(JSON.stringify(v, (_k, x) => {
  if (typeof x === 'bigint') return x.toString()
  if (x instanceof Uint8Array) return { $bytes: toHex(x) }
  return x
}))

const getRoot = (doc, name, kind) => {
  switch (kind) {
    case 'text': return doc.getText(name)
    case 'map': return doc.getMap(name)
    case 'array': return doc.getArray(name)
    case 'xmlfragment': return doc.getXmlFragment(name)
    default: throw new Error('unknown kind ' + kind)
  }
}

// resolve walks from a root through map keys and array indexes.
const resolve = (doc, target) => {
  let t = getRoot(doc, target.root, target.kind)
  for (const p of target.path || []) {
    t = typeof p === 'number' ? t.get(p) : t.get(p)
  }
  return t
}

// value builds yjs values from their JSON description.
const value = (v) => {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    if (v.$type === 'map') return new Y.Map()
    if (v.$type === 'array') return new Y.Array()
    if (v.$type === 'text') return new Y.Text()
    if (v.$type === 'xmlelement') return new Y.XmlElement(v.name)
    if (v.$type === 'xmltext') return new Y.XmlText()
    if (v.$type === 'subdoc') return new Y.Doc({ guid: v.guid, ...(v.opts || {}) })
    if (v.$bytes !== undefined) return fromHex(v.$bytes)
    if (v.$bigint !== undefined) return BigInt(v.$bigint)
    if (v.$undefined) return undefined
    const o = {}
    for (const k of Object.keys(v)) o[k] = value(v[k])
    return o
  }
  if (Array.isArray(v)) return v.map(value)
  return v
}

// describeEvent returns what the Go tests compare of a deep event: the
// path from the observed root, the changed keys and, for lists and texts,
// the delta.
const describeEvent = (e) => {
  const keys = {}
  e.keys.forEach((change, key) => { keys[key] = canonical({ action: change.action, oldValue: change.oldValue }) })
  const out = { path: e.path, keys }
  if (!(e.target instanceof Y.Map)) out.delta = canonical(e.delta)
  return out
}

const attrs = (a) => a === undefined || a === null ? undefined : value(a)

const applyEdit = (doc, e) => {
  const t = resolve(doc, e.target)
  switch (e.op) {
    case 'insertText': t.insert(e.index, e.text, attrs(e.attrs)); break
    case 'insertEmbed': t.insertEmbed(e.index, value(e.value), attrs(e.attrs)); break
    case 'deleteText': t.delete(e.index, e.length); break
    case 'format': t.format(e.index, e.length, value(e.attrs)); break
    case 'mapSet': t.set(e.key, value(e.value)); break
    case 'mapDelete': t.delete(e.key); break
    case 'arrayInsert': t.insert(e.index, e.values.map(value)); break
    case 'arrayPush': t.push(e.values.map(value)); break
    case 'arrayDelete': t.delete(e.index, e.length); break
    case 'xmlInsert': t.insert(e.index, e.values.map(value)); break
    case 'setAttribute': t.setAttribute(e.key, value(e.value)); break
    case 'removeAttribute': t.removeAttribute(e.key); break
    default: throw new Error('unknown edit ' + e.op)
  }
}

const undoOp = (r, f) => {
  const entry = docs.get(r.doc)
  entry.updates = []
  entry.updatesV2 = []
  entry.events = []
  const res = f(entry.um)
  return { updates: entry.updates, updatesV2: entry.updatesV2, events: entry.events, done: res != null }
}

const handlers = {
  // new {doc, client, gc, roots}: roots maps names to kinds to declare.
  new: (r) => {
    const doc = new Y.Doc({ gc: r.gc !== false })
    doc.clientID = r.client
    const entry = { doc, updates: [], updatesV2: [], events: [] }
    doc.on('update', (u) => entry.updates.push(toHex(u)))
    doc.on('updateV2', (u) => entry.updatesV2.push(toHex(u)))
    docs.set(r.doc, entry)
    if (r.undo) {
      const scope = r.undo.scope.map((name) => getRoot(doc, name, r.roots[name]))
      entry.um = new Y.UndoManager(scope, { captureTimeout: r.undo.captureTimeout })
    }
    for (const name of Object.keys(r.roots || {}).sort()) {
      const root = getRoot(doc, name, r.roots[name])
      root.observeDeep((events) => {
        entry.events.push({ root: name, events: events.map(describeEvent) })
      })
    }
    return {}
  },
  // edit {doc, edits: [...]}: all edits in one transaction; returns the
  // updates the document emitted.
  edit: (r) => {
    const entry = docs.get(r.doc)
    entry.updates = []
    entry.updatesV2 = []
    entry.events = []
    entry.doc.transact(() => { for (const e of r.edits) applyEdit(entry.doc, e) })
    return { updates: entry.updates, updatesV2: entry.updatesV2, events: entry.events }
  },
  // apply {doc, update, v2}
  apply: (r) => {
    const entry = docs.get(r.doc)
    entry.updates = []
    entry.updatesV2 = []
    entry.events = []
    // Remote updates get an origin the undo manager does not track.
    if (r.v2) Y.applyUpdateV2(entry.doc, fromHex(r.update), 'remote')
    else Y.applyUpdate(entry.doc, fromHex(r.update), 'remote')
    return { updates: entry.updates, updatesV2: entry.updatesV2, events: entry.events }
  },
  // state {doc, sv, roots}: full or diff state, state vector and JSON.
  state: (r) => {
    const { doc } = docs.get(r.doc)
    const sv = r.sv ? fromHex(r.sv) : undefined
    const json = {}
    const deltas = {}
    for (const [name, kind] of Object.entries(r.roots || {})) {
      const t = getRoot(doc, name, kind)
      json[name] = canonical(t.toJSON())
      if (kind === 'text') deltas[name] = canonical(t.toDelta())
    }
    return {
      update: toHex(Y.encodeStateAsUpdate(doc, sv)),
      updateV2: toHex(Y.encodeStateAsUpdateV2(doc, sv)),
      sv: toHex(Y.encodeStateVector(doc)),
      json,
      deltas,
      clientID: doc.clientID
    }
  },
  // undo, redo, stopCapturing {doc}: drive the document's undo manager.
  undo: (r) => undoOp(r, (um) => um.undo()),
  redo: (r) => undoOp(r, (um) => um.redo()),
  stopCapturing: (r) => undoOp(r, (um) => um.stopCapturing()),
  merge: (r) => ({ update: toHex(Y.mergeUpdates(r.updates.map(fromHex))) }),
  mergeV2: (r) => ({ update: toHex(Y.mergeUpdatesV2(r.updates.map(fromHex))) }),
  diff: (r) => ({ update: toHex(Y.diffUpdate(fromHex(r.update), fromHex(r.sv))) }),
  diffV2: (r) => ({ update: toHex(Y.diffUpdateV2(fromHex(r.update), fromHex(r.sv))) }),
  svFromUpdate: (r) => ({ sv: toHex(Y.encodeStateVectorFromUpdate(fromHex(r.update))) }),
  toV1: (r) => ({ update: toHex(Y.convertUpdateFormatV2ToV1(fromHex(r.update))) }),
  // items {doc, root}: the item list of a root text, for debugging.
  items: (r) => {
    const { doc } = docs.get(r.doc)
    const out = []
    for (let n = doc.getText(r.root)._start; n !== null; n = n.right) {
      const c = n.content
      out.push(`${n.id.client}:${n.id.clock}+${n.length}${n.deleted ? 'D' : ''}${n.countable ? 'C' : ''} ` +
        (c.constructor.name === 'ContentFormat' ? `fmt ${c.key}=${JSON.stringify(c.value)}` : c.constructor.name === 'ContentString' ? JSON.stringify(c.str) : c.constructor.name))
    }
    return { items: out }
  },
  // stringify {doc, roots}: JSON.stringify of each root's toJSON, and of
  // toDelta for texts, as text, so that lone surrogates stay escaped.
  stringify: (r) => {
    const { doc } = docs.get(r.doc)
    const out = {}
    for (const [name, kind] of Object.entries(r.roots)) {
      const t = getRoot(doc, name, kind)
      out[name] = JSON.stringify(kind === 'text' ? t.toDelta() : t.toJSON())
    }
    return { strings: out }
  },
  drop: (r) => { docs.delete(r.doc); return {} }
}

const rl = readline.createInterface({ input: process.stdin, terminal: false })
// yjs reports a changed client id with console.log; keep stdout for replies.
console.log = (...args) => process.stderr.write(args.join(' ') + '\n')
rl.on('line', (line) => {
  let reply
  try {
    const r = JSON.parse(line)
    reply = { ok: true, ...handlers[r.op](r) }
  } catch (err) {
    reply = { ok: false, error: String(err && err.stack || err) }
  }
  process.stdout.write(JSON.stringify(reply) + '\n')
})
