// Writes jupyterlab.json: WebSocket frames made by @jupyterlab/services,
// the JupyterLab client library, for the framing tests to decode.
//
//   npm install @jupyterlab/services@7.6.6
//   node generate.js > jupyterlab.json
const { serialize } = require('@jupyterlab/services/lib/kernel/serialize');

const header = {
  msg_id: 'f0e1d2c3-0001',
  msg_type: 'comm_msg',
  session: 'b4a5c6d7-0002',
  username: 'alice',
  date: '2026-01-02T03:04:05.678Z',
  version: '5.2'
};
const base = {
  header,
  parent_header: {},
  metadata: { tag: 'é' },
  content: { comm_id: 'c-1', data: { x: [1, 2] } }
};
const cases = [
  { name: 'shell no buffers', msg: { ...base, channel: 'shell', buffers: [] } },
  {
    name: 'shell two buffers',
    msg: {
      ...base,
      channel: 'shell',
      buffers: [new Uint8Array([0, 1, 255]).buffer, new Uint8Array([]).buffer]
    }
  },
  { name: 'stdin', msg: { ...base, channel: 'stdin', buffers: [] } }
];

const hex = data =>
  typeof data === 'string'
    ? Buffer.from(data, 'utf8').toString('hex')
    : Buffer.from(new Uint8Array(data)).toString('hex');

const out = [];
for (const c of cases) {
  for (const protocol of ['v1.kernel.websocket.jupyter.org', '']) {
    const frame = serialize(c.msg, protocol);
    out.push({
      name: c.name,
      protocol,
      text: typeof frame === 'string',
      frame: hex(frame)
    });
  }
}
console.log(JSON.stringify(out, null, 1));
