// ydoc.mjs runs @jupyter/ydoc, the document models of JupyterLab, against
// the documents that the Go package builds. It reads one JSON request on
// stdin and writes one JSON reply on stdout. Updates travel as hex.
//
// Requests:
//   {"op": "notebook", "update": hex}
//     -> {"json": YNotebook.toJSON(),
//         "cells": [{"type", "sourceIsText", "outputsAreMaps"}]}
//     where outputsAreMaps means Y.Maps, with stream text as Y.Text
//   {"op": "edit-notebook", "update": hex}
//     -> {"update": hex of the whole state after editing, "json": toJSON()}
//   {"op": "reload", "update": hex, "diff": hex}
//     -> {"json": toJSON() after the diff, "kept": [bool]}, where kept[i]
//        tells whether cell i after the diff is the cell model that had
//        its id before it
//   {"op": "file", "update": hex} -> {"source": YFile.source}
//   {"op": "edit-file", "update": hex, "start": n, "end": n, "value": s}
//     -> {"update": hex, "source": s}
import * as Y from 'yjs'
import { YNotebook, YFile } from '@jupyter/ydoc'
import { readFileSync } from 'node:fs'

const fromHex = (h) => Uint8Array.from(Buffer.from(h, 'hex'))
const toHex = (b) => Buffer.from(b).toString('hex')

// A client creates its model first and then receives the server's state,
// as the docprovider does when it syncs.
const notebookFrom = (update) => {
  const nb = new YNotebook()
  Y.applyUpdate(nb.ydoc, fromHex(update))
  return nb
}

const describeCells = (nb) => nb.cells.map(c => ({
  type: c.cell_type,
  sourceIsText: c.ymodel.get('source') instanceof Y.Text,
  outputsAreMaps: c.cell_type !== 'code' || c.youtputs.toArray().every(o =>
    o instanceof Y.Map && (o.get('output_type') !== 'stream' || o.get('text') instanceof Y.Text))
}))

// editNotebook makes the edits a user makes in JupyterLab.
const editNotebook = (nb) => {
  // Type into the first cell.
  const first = nb.getCell(0)
  first.updateSource(0, 0, 'typed ')
  // Add a code cell with a stream output and an execution count, as a
  // kernel run fills them in.
  const cell = nb.insertCell(1, { cell_type: 'code', source: 'print("hi")', metadata: { tags: ['new'] } })
  cell.execution_count = 7
  cell.setOutputs([{ output_type: 'stream', name: 'stdout', text: 'hi\n' }])
  cell.appendStreamOutput(0, 'there\n')
  cell.updateOutputs(1, 1, [{
    output_type: 'execute_result', execution_count: 7, metadata: {},
    data: { 'text/plain': '42' }
  }])
  // Add a markdown cell and a notebook metadata key.
  nb.addCell({ cell_type: 'markdown', source: '## end', metadata: {} })
  nb.setMetadata('title', 'edited')
}

const handlers = {
  notebook: (req) => {
    const nb = notebookFrom(req.update)
    return { json: nb.toJSON(), cells: describeCells(nb) }
  },
  'edit-notebook': (req) => {
    const nb = notebookFrom(req.update)
    editNotebook(nb)
    return { update: toHex(Y.encodeStateAsUpdate(nb.ydoc)), json: nb.toJSON() }
  },
  reload: (req) => {
    const nb = notebookFrom(req.update)
    const before = new Map(nb.cells.map(c => [c.id, c]))
    Y.applyUpdate(nb.ydoc, fromHex(req.diff))
    return { json: nb.toJSON(), kept: nb.cells.map(c => before.get(c.id) === c) }
  },
  file: (req) => {
    const f = new YFile()
    Y.applyUpdate(f.ydoc, fromHex(req.update))
    return { source: f.source }
  },
  'edit-file': (req) => {
    const f = new YFile()
    Y.applyUpdate(f.ydoc, fromHex(req.update))
    f.updateSource(req.start, req.end, req.value)
    return { update: toHex(Y.encodeStateAsUpdate(f.ydoc)), source: f.source }
  }
}

const req = JSON.parse(readFileSync(0, 'utf8'))
const handler = handlers[req.op]
if (!handler) {
  throw new Error('unknown op ' + req.op)
}
// The awareness of every model keeps a timer running, so exit once the
// reply is written.
process.stdout.write(JSON.stringify(handler(req)), () => process.exit(0))
