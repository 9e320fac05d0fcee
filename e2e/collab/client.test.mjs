// Runs client.mjs against the reference Yjs server, @y/websocket-server,
// with a small notebook in a room: printing, inserting a cell, typing into
// it, and the errors for a bad URL and a closed port.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import * as Y from 'yjs';
import { freePort, joinRoom, namedRoom, parseServerURL, waitServerHas, waitSynced } from './lib.mjs';
import { generateNotebook, notebookState } from './notebook.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const run = promisify(execFile);
const room = 'json:notebook:client-test';

let server;
let url;

// client runs client.mjs with args and returns its exit code, stdout and
// stderr.
async function client(...args) {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(here, 'client.mjs'), ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

before(async () => {
  const port = await freePort();
  server = spawn(process.execPath,
    [path.join(here, 'node_modules', '@y', 'websocket-server', 'src', 'server.js')],
    { env: { ...process.env, HOST: '127.0.0.1', PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => server.stdout.once('data', resolve));
  url = `http://127.0.0.1:${port}/`;

  // Load three cells into the room, as a server would from the file.
  const doc = new Y.Doc();
  Y.applyUpdate(doc, notebookState(generateNotebook(3, 2)));
  const address = namedRoom(parseServerURL(url), room);
  const provider = joinRoom(address, doc);
  await waitSynced(provider, 10000);
  for (const [id, clock] of Y.decodeStateVector(Y.encodeStateVector(doc))) {
    await waitServerHas(address, id, clock, { timeoutMs: 10000 });
  }
  provider.destroy();
  doc.destroy(); // stops the interval timer of the provider's awareness
});

after(() => server?.kill());

test('client prints the synced notebook', async () => {
  const { code, stdout, stderr } = await client('--url', url, '--room', room);
  assert.equal(code, 0, stderr);
  const notebook = JSON.parse(stdout);
  assert.equal(notebook.nbformat, 4);
  assert.equal(notebook.cells.length, 3);
  assert.equal(notebook.cells[1].id, 'cell-00001');
  assert.match(notebook.cells[1].source, /^# step 1:/);
  assert.equal(notebook.cells[1].outputs[0].text,
    'batch 1 row 0: value=0 status=ok\nbatch 1 row 1: value=2 status=ok\n');
});

test('client inserts a cell and types', async () => {
  const edited = await client('--url', url, '--room', room, '--insert-cell', '1',
    '--cell-type', 'markdown', '--type', '# Notes');
  assert.equal(edited.code, 0, edited.stderr);
  assert.equal(JSON.parse(edited.stdout).cells.length, 4);

  // A second client sees the edit, so the server had it.
  const { code, stdout, stderr } = await client('--url', url, '--room', room);
  assert.equal(code, 0, stderr);
  const cells = JSON.parse(stdout).cells;
  assert.equal(cells.length, 4);
  assert.equal(cells[1].cell_type, 'markdown');
  assert.equal(cells[1].source, '# Notes');
  assert.match(cells[2].source, /^# step 1:/);
});

test('client rejects a remote URL', async () => {
  const { code, stderr } = await client('--url', 'http://192.0.2.1:8888/', 'a.ipynb');
  assert.equal(code, 2);
  assert.match(stderr, /not on loopback/);
});

test('client reports a closed port', async () => {
  const port = await freePort();
  const { code, stderr } = await client('--url', `http://127.0.0.1:${port}/`, 'a.ipynb');
  assert.equal(code, 1);
  assert.match(stderr, /PUT http:\/\/127\.0\.0\.1:\d+\/api\/collaboration\/session\/a\.ipynb: /);
});
