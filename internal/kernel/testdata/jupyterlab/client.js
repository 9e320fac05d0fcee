// Drives a kernel of a jupygo test server with JupyterLab's own kernel
// client: start, execute, stdin, restart, death and automatic restart, a
// comm with a binary buffer, shutdown. Prints one line per step and exits 1
// on the first failure.
//
//   npm install            (in this folder)
//   node client.js http://127.0.0.1:PORT/
const { KernelManager, ServerConnection } = require('@jupyterlab/services');
const WebSocket = require('ws');
const base = process.argv[2];
const settings = ServerConnection.makeSettings({
  baseUrl: base, wsUrl: base.replace('http', 'ws'), WebSocket, fetch, Request, Headers, token: ''
});
async function run(kernel, code, stdin) {
  const out = [];
  const future = kernel.requestExecute({ code, allow_stdin: !!stdin });
  future.onIOPub = msg => { if (msg.header.msg_type === 'stream') out.push(msg.content.text); };
  if (stdin) future.onStdin = msg => future.sendInputReply({ value: stdin, status: 'ok' }, msg.header);
  const reply = await future.done;
  return [reply.content.status, out.join('')];
}
(async () => {
  const km = new KernelManager({ serverSettings: settings });
  await km.ready;
  const kernel = await km.startNew({ name: 'python3' });
  kernel.connectionStatusChanged.connect((_, s) => console.log('connection', s));
  console.log('protocol', (await kernel.info).protocol_version);
  console.log('exec', await run(kernel, 'print(1+1)'));
  console.log('input', await run(kernel, 'x = input("?")\nprint("got", x)', 'alice'));
  await kernel.restart();
  console.log('after restart', await run(kernel, 'print("restarted")'));
  kernel.requestExecute({ code: 'import os; os._exit(1)' });
  await new Promise(r => { kernel.statusChanged.connect((_, s) => { if (s === 'autorestarting') { console.log('status', s); r(); } }); });
  await new Promise(r => { kernel.statusChanged.connect((_, s) => { if (s === 'idle') r(); }); });
  console.log('after death', await run(kernel, 'print("alive")'));
  const comm = kernel.createComm('echo');
  await run(kernel, `
def t(comm, msg):
    @comm.on_msg
    def _(m):
        comm.send({"n": len(m["buffers"][0])}, buffers=m["buffers"])
get_ipython().kernel.comm_manager.register_target("echo", t)`);
  comm.open();
  const echoed = new Promise(r => { comm.onMsg = m => r([m.content.data, m.buffers.map(b => b.byteLength)]); });
  comm.send({ hi: 1 }, undefined, [new Uint8Array([1, 2, 3]).buffer]);
  console.log('comm', JSON.stringify(await echoed));
  await kernel.shutdown();
  console.log('done');
  process.exit(0);
})().catch(e => { console.error('FAILED', e); process.exit(1); });
