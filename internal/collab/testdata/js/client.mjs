// client.mjs joins a collaboration room with y-websocket's
// WebsocketProvider, the client library @jupyter/docprovider 5 builds on,
// so the Go tests can check the rooms against it. It prints one JSON line
// per event on stdout.
//
// Usage: node client.mjs WS_BASE_URL ROOM SESSION_ID [IDLE_SECONDS]
//
// It waits for the first sync, prints the text, inserts "js:" at the
// start, sets an awareness state, sends a RAW save request, prints the
// reply, and exits. With IDLE_SECONDS it instead stays connected that
// long with only its awareness state, prints how often the connection
// closed, and exits.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'

const [base, room, sessionId, idle] = process.argv.slice(2)
const print = (event) => process.stdout.write(JSON.stringify(event) + '\n')

const doc = new Y.Doc()
const provider = new WebsocketProvider(base, room, doc, {
  WebSocketPolyfill: WebSocket,
  params: { sessionId },
  disableBc: true
})
let closes = 0
provider.on('connection-close', (event) => {
  closes++
  print({ event: 'close', code: event ? event.code : null })
})

if (idle) {
  provider.awareness.setLocalStateField('user', { name: 'idle' })
  setTimeout(() => {
    print({ event: 'idle', closes })
    provider.destroy()
    process.exit(0)
  }, Number(idle) * 1000)
}

const timeout = setTimeout(() => {
  print({ event: 'timeout' })
  process.exit(1)
}, idle ? (Number(idle) + 10) * 1000 : 10000)

provider.once('sync', () => {
  if (idle) return
  print({ event: 'synced', text: doc.getText('source').toString() })
  doc.getText('source').insert(0, 'js:')
  provider.awareness.setLocalStateField('user', { name: 'js' })

  provider.ws.addEventListener('message', (message) => {
    const data = new Uint8Array(message.data)
    if (data[0] !== 2) return
    const decoder = decoding.createDecoder(data)
    decoding.readVarUint(decoder)
    print({ event: 'raw', text: decoding.readVarString(decoder) })
    clearTimeout(timeout)
    provider.destroy()
    process.exit(0)
  })
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 2)
  encoding.writeVarString(encoder, 'save')
  encoding.writeVarUint(encoder, 1)
  provider.ws.send(encoding.toUint8Array(encoder))
})
