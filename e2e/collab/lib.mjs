// Headless clients of a collaboration room, shared by client.mjs and
// bench.mjs. A client opens a document session over REST
// (PUT api/collaboration/session/{path}), joins the document's room over a
// WebSocket with y-websocket's provider, as JupyterLab's docprovider does,
// and keeps the document in a Y.Doc or in @jupyter/ydoc's YNotebook.
import net from 'node:net';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

// loopbackHosts are the host names that the clients accept by default.
const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

// parseServerURL returns the server URL as a URL object with a trailing
// slash on its path. It rejects URLs that are not http or https, and URLs
// whose host is not loopback unless allowRemote is set.
export function parseServerURL(text, { allowRemote = false } = {}) {
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`invalid server URL ${JSON.stringify(text)}: expected e.g. http://127.0.0.1:8888/`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`invalid server URL ${text}: the scheme must be http or https`);
  }
  const host = url.hostname;
  if (!allowRemote && !loopbackHosts.has(host) && !/^127\.\d+\.\d+\.\d+$/.test(host)) {
    throw new Error(`server URL ${text} is not on loopback; pass --allow-remote to connect anyway`);
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  url.search = '';
  url.hash = '';
  return url;
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// authHeaders returns the request headers that carry token, as JupyterLab
// sends them. An empty token adds none.
function authHeaders(token) {
  return token ? { Authorization: `token ${token}` } : {};
}

// openSession requests the collaboration session of the file at path and
// returns the server's reply: {format, type, fileId, sessionId}.
export async function openSession(server, token, path, { format = 'json', type = 'notebook' } = {}) {
  const url = new URL(`api/collaboration/session/${encodeURIComponent(path)}`, server);
  let response;
  try {
    response = await fetch(url, {
      method: 'PUT',
      headers: { ...authHeaders(token), 'Content-Type': 'application/json' },
      body: JSON.stringify({ format, type }),
    });
  } catch (err) {
    throw new Error(`PUT ${url.href}: ${err.cause?.message ?? err.message}`);
  }
  const body = await response.text();
  if (response.status !== 200 && response.status !== 201) {
    throw new Error(`PUT ${url.pathname}: status ${response.status}: ${body.slice(0, 300)}`);
  }
  let session;
  try {
    session = JSON.parse(body);
  } catch {
    throw new Error(`PUT ${url.pathname}: invalid JSON in the response: ${body.slice(0, 300)}`);
  }
  if (typeof session.fileId !== 'string' || typeof session.sessionId !== 'string') {
    throw new Error(`PUT ${url.pathname}: fileId or sessionId missing in ${body.slice(0, 300)}`);
  }
  return session;
}

// RoomAddress locates a room: the WebSocket URL of the room folder, the
// room name and the query parameters that y-websocket appends.
export class RoomAddress {
  constructor(folderURL, name, params = {}) {
    this.folderURL = folderURL;
    this.name = name;
    this.params = params;
  }

  toString() {
    const query = new URLSearchParams(this.params).toString();
    return `${this.folderURL}/${this.name}${query ? `?${query}` : ''}`;
  }
}

// wsBase returns the ws: or wss: form of an http: or https: URL.
function wsBase(server) {
  const url = new URL(server);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url;
}

// documentRoom returns the address of the room of a session, as the
// docprovider builds it: api/collaboration/room/{format}:{type}:{fileId}
// with the session id as a query parameter.
export function documentRoom(server, session) {
  const folder = new URL('api/collaboration/room', wsBase(server)).href;
  const name = `${session.format}:${session.type}:${session.fileId}`;
  return new RoomAddress(folder, name, { sessionId: session.sessionId });
}

// namedRoom returns the address of the room name below
// api/collaboration/room of server, without a session. Servers that only
// relay rooms, such as the reference y-websocket server, need no session.
export function namedRoom(server, name) {
  return new RoomAddress(new URL('api/collaboration/room', wsBase(server)).href, name);
}

// webSocketClass returns a WebSocket class for y-websocket that sends the
// token in the Authorization header of the upgrade request, so that it
// stays out of URLs and server logs.
function webSocketClass(token) {
  const headers = authHeaders(token);
  return class extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, { headers, perMessageDeflate: false });
    }
  };
}

// joinRoom connects doc to the room at address and returns the y-websocket
// provider. awareness defaults to a new one of doc, whose interval timer
// runs until doc is destroyed. The in-process
// broadcast channel stays off, so that clients in one process exchange
// updates only through the server.
export function joinRoom(address, doc, { token = '', awareness, maxBackoffTime = 2500 } = {}) {
  const options = {
    params: address.params,
    WebSocketPolyfill: webSocketClass(token),
    disableBc: true,
    maxBackoffTime,
  };
  if (awareness) options.awareness = awareness;
  return new WebsocketProvider(address.folderURL, address.name, doc, options);
}

// waitSynced resolves when provider has completed its first sync with the
// server. It rejects when the connection closes first or after timeoutMs;
// the error names the close code and reason the server sent.
export function waitSynced(provider, timeoutMs) {
  if (provider.synced) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err) => {
      clearTimeout(timer);
      provider.off('sync', onSync);
      provider.off('connection-close', onClose);
      provider.off('connection-error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onSync = (synced) => synced && done();
    const onClose = (event) => {
      if (!event) return;
      const reason = event.reason ? `: ${event.reason}` : '';
      done(new Error(`room ${provider.roomname} closed before the sync, code ${event.code}${reason}`));
    };
    const onError = (event) => {
      const message = event?.message || event?.error?.message || 'connection failed';
      done(new Error(`room ${provider.roomname}: ${message}`));
    };
    const timer = setTimeout(
      () => done(new Error(`room ${provider.roomname}: no sync within ${timeoutMs} ms`)), timeoutMs);
    provider.on('sync', onSync);
    provider.on('connection-close', onClose);
    provider.on('connection-error', onError);
  });
}

// stateOf returns how many items of client the state vector of doc covers.
export function stateOf(doc, client) {
  return Y.decodeStateVector(Y.encodeStateVector(doc)).get(client) ?? 0;
}

// waitServerHas resolves once the server's copy of the room contains the
// first `clock` items of client, which a fresh Y.Doc joined to the room
// shows. y-websocket has no acknowledgements, so this is how a client
// knows that its edits arrived.
export async function waitServerHas(address, client, clock, { token = '', timeoutMs = 30000 } = {}) {
  const doc = new Y.Doc();
  const provider = joinRoom(address, doc, { token });
  try {
    await waitSynced(provider, timeoutMs);
    if (stateOf(doc, client) >= clock) return;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(
        `the server has ${stateOf(doc, client)} of ${clock} items of client ${client} after ${timeoutMs} ms`)),
      timeoutMs);
      doc.on('update', () => {
        if (stateOf(doc, client) >= clock) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    provider.destroy();
    doc.destroy();
  }
}
