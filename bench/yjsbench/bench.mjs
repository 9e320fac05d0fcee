// bench.mjs measures yjs and ywasm for yjsbench, the Go program beside it,
// which starts one node process per measurement and reads the single JSON
// line it prints.
//
// Usage: node --expose-gc bench.mjs TASK IMPL DIR REPS
//
//   TASK  versions, prepare, replay, decode or updates
//   IMPL  yjs or ywasm (prepare and versions always use yjs)
//   DIR   the work folder: yjsbench writes edits.json into it, and prepare
//         writes state.bin and updates.bin
//   REPS  encodes (in replay) and decodes after the first, which is
//         reported apart
//
// edits.json is {"clientID", "root", "endContent", "edits": [[pos, del,
// ins], ...]} with positions already in UTF-16 code units. updates.bin is
// each per-edit update as a 4-byte little-endian length and the bytes.
import { readFileSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import * as Y from 'yjs'

const require = createRequire(import.meta.url)

// yjsImpl and loadYwasm adapt each library to the same few calls. Every
// edit runs in its own transaction: yjs's Text methods open one when
// called outside transact, and ywasm's do when passed no transaction.
const yjsImpl = {
  newDoc (clientID) {
    const doc = new Y.Doc()
    if (clientID !== undefined) doc.clientID = clientID
    return doc
  },
  text: (doc, root) => doc.getText(root),
  insert: (text, pos, s) => text.insert(pos, s),
  delete: (text, pos, n) => text.delete(pos, n),
  string: (text) => text.toString(),
  encode: (doc) => Y.encodeStateAsUpdate(doc),
  apply: (doc, update) => Y.applyUpdate(doc, update),
  free () {}
}

// loadYwasm loads ywasm only when asked for, so that its WebAssembly
// memory is absent from the yjs measurements.
function loadYwasm () {
  const W = require('ywasm')
  return {
    newDoc: (clientID) => new W.YDoc(clientID === undefined ? {} : { clientID }),
    text: (doc, root) => doc.getText(root),
    insert: (text, pos, s) => text.insert(pos, s, undefined, undefined),
    delete: (text, pos, n) => text.delete(pos, n, undefined),
    string: (text) => text.toString(undefined),
    encode: (doc) => W.encodeStateAsUpdate(doc),
    apply: (doc, update) => W.applyUpdate(doc, update, undefined),
    // free releases the WebAssembly memory of a document and its text.
    free (doc, text) {
      text.free()
      doc.free()
    }
  }
}

function implFor (name) {
  if (name === 'ywasm') return loadYwasm()
  if (name === 'yjs') return yjsImpl
  throw new Error(`unknown implementation ${JSON.stringify(name)}: want yjs or ywasm`)
}

function readEdits (dir) {
  return JSON.parse(readFileSync(`${dir}/edits.json`, 'utf8'))
}

function readUpdates (dir) {
  const buf = readFileSync(`${dir}/updates.bin`)
  const out = []
  for (let off = 0; off < buf.length;) {
    const n = buf.readUInt32LE(off)
    out.push(buf.subarray(off + 4, off + 4 + n))
    off += 4 + n
  }
  return out
}

function sha256 (bytes) {
  return createHash('sha256').update(bytes).digest('hex')
}

// heap collects garbage and returns the heap in use and the memory held
// outside the V8 heap (ArrayBuffers, including WebAssembly memory).
function heap () {
  global.gc()
  global.gc()
  const m = process.memoryUsage()
  return { heapUsed: m.heapUsed, external: m.external }
}

function replayEdits (impl, text, edits) {
  for (const [pos, del, ins] of edits) {
    if (del > 0) impl.delete(text, pos, del)
    if (ins.length > 0) impl.insert(text, pos, ins)
  }
}

// stopwatch returns a function that returns the wall-clock and CPU
// milliseconds since the call. CPU time is user plus system time of the
// whole process, all threads (garbage collectors included).
function stopwatch () {
  const wall = performance.now()
  const cpu = process.cpuUsage()
  return () => {
    const used = process.cpuUsage(cpu)
    return { ms: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 }
  }
}

function checkContent (impl, text, want, what) {
  if (impl.string(text) !== want) throw new Error(`${what}: the text differs from the trace's end content`)
}

// timeEncode encodes the document reps + 1 times. The first call, which
// includes compiling the encoder, is reported apart from the others.
function timeEncode (impl, doc, reps) {
  const out = { encodeFirstMs: [], encodeFirstCpuMs: [], encodeMs: [], encodeCpuMs: [] }
  let update
  for (let i = 0; i <= reps; i++) {
    const elapsed = stopwatch()
    update = impl.encode(doc)
    const { ms, cpuMs } = elapsed()
    const [wall, cpu] = i === 0 ? ['encodeFirstMs', 'encodeFirstCpuMs'] : ['encodeMs', 'encodeCpuMs']
    out[wall].push(ms)
    out[cpu].push(cpuMs)
  }
  return { ...out, stateLength: update.length, stateSHA256: sha256(update) }
}

// replay applies every edit in its own transaction and measures the time,
// the memory the document retains after garbage collection, and then
// encoding its state.
function replay (impl, dir, reps) {
  const { clientID, root, endContent, edits } = readEdits(dir)
  const before = heap()
  const elapsed = stopwatch()
  const doc = impl.newDoc(clientID)
  const text = impl.text(doc, root)
  replayEdits(impl, text, edits)
  const { ms, cpuMs } = elapsed()
  const after = heap()
  // Using edits after the second measurement keeps them alive until then,
  // or their memory would be subtracted from the document's.
  if (edits.length === 0) throw new Error('replay: the trace has no edits')
  checkContent(impl, text, endContent, 'replay')
  const out = {
    ms: [ms],
    cpuMs: [cpuMs],
    retainedHeapBytes: after.heapUsed - before.heapUsed,
    retainedExternalBytes: after.external - before.external,
    ...timeEncode(impl, doc, reps)
  }
  impl.free(doc, text)
  return out
}

// decode applies the state yjs encoded to a fresh document reps + 1
// times. The first time is reported apart from the others.
function decode (impl, dir, reps) {
  const { root, endContent } = readEdits(dir)
  const state = new Uint8Array(readFileSync(`${dir}/state.bin`))
  const out = { firstMs: [], firstCpuMs: [], ms: [], cpuMs: [] }
  for (let i = 0; i <= reps; i++) {
    const elapsed = stopwatch()
    const doc = impl.newDoc()
    impl.apply(doc, state)
    const { ms, cpuMs } = elapsed()
    const text = impl.text(doc, root)
    checkContent(impl, text, endContent, 'decode')
    impl.free(doc, text)
    out[i === 0 ? 'firstMs' : 'ms'].push(ms)
    out[i === 0 ? 'firstCpuMs' : 'cpuMs'].push(cpuMs)
  }
  return out
}

// updates applies the per-edit updates to a fresh document in order, as a
// collaboration server receives them.
function updates (impl, dir) {
  const { root, endContent } = readEdits(dir)
  const list = readUpdates(dir)
  const elapsed = stopwatch()
  const doc = impl.newDoc()
  for (const u of list) impl.apply(doc, u)
  const { ms, cpuMs } = elapsed()
  const text = impl.text(doc, root)
  checkContent(impl, text, endContent, 'updates')
  impl.free(doc, text)
  return { ms: [ms], cpuMs: [cpuMs], updates: list.length }
}

// prepare replays the edits in yjs and writes the per-edit updates that
// its update event emits and the final state, the input of decode and
// updates for every implementation.
function prepare (dir) {
  const { clientID, root, endContent, edits } = readEdits(dir)
  const doc = new Y.Doc()
  doc.clientID = clientID
  const chunks = []
  doc.on('update', (u) => {
    const len = Buffer.alloc(4)
    len.writeUInt32LE(u.length)
    chunks.push(len, u)
  })
  const text = doc.getText(root)
  replayEdits(yjsImpl, text, edits)
  checkContent(yjsImpl, text, endContent, 'prepare')
  const state = Y.encodeStateAsUpdate(doc)
  writeFileSync(`${dir}/updates.bin`, Buffer.concat(chunks))
  writeFileSync(`${dir}/state.bin`, state)
  return { updates: chunks.length / 2, stateLength: state.length, stateSHA256: sha256(state) }
}

function versions () {
  const version = (name) => JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version
  return { node: process.version, yjs: version('yjs'), ywasm: version('ywasm') }
}

function main (argv) {
  const [task, implName, dir, repsArg] = argv
  const reps = Number(repsArg ?? 1)
  if (task === 'versions') return versions()
  if (typeof global.gc !== 'function') throw new Error('run node with --expose-gc')
  if (!dir) throw new Error('usage: node --expose-gc bench.mjs TASK IMPL DIR REPS')
  if (task === 'prepare') return prepare(dir)
  const impl = implFor(implName)
  switch (task) {
    case 'replay': return replay(impl, dir, reps)
    case 'decode': return decode(impl, dir, reps)
    case 'updates': return updates(impl, dir)
  }
  throw new Error(`unknown task ${JSON.stringify(task)}: want versions, prepare, replay, decode or updates`)
}

console.log(JSON.stringify(main(process.argv.slice(2))))
