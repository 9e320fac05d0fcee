// Runs client.mjs, which keeps the notebook in @jupyter/ydoc's YNotebook as
// JupyterLab does, against `jupygo server --collaborative`: the notebook it
// prints equals the file, and the cell it types reaches the file on disk.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

const here = path.dirname(new URL(import.meta.url).pathname);
const bin = process.env.JUPYGO_BIN || path.resolve(here, '..', '..', 'bin', 'jupygo');
const run = promisify(execFile);
const token = 'collab' + Math.random().toString(16).slice(2);

// notebook is a notebook as nbformat writes it, with a markdown cell and a
// code cell that has a stream output and a display_data output.
const notebook = {
  cells: [
    { cell_type: 'markdown', id: 'm1', metadata: {}, source: ['# Title\n', 'Some *text*.'] },
    {
      cell_type: 'code', execution_count: 3, id: 'c1', metadata: { tags: ['a'] },
      outputs: [
        { name: 'stdout', output_type: 'stream', text: ['one\n', 'two\n'] },
        { data: { 'text/plain': ['42'] }, metadata: {}, output_type: 'display_data' },
      ],
      source: ['print("one")\n', 'print("two")'],
    },
  ],
  metadata: { kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' } },
  nbformat: 4,
  nbformat_minor: 5,
};

let server;
let url;
let root;

before(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'jupygo-collab-client-'));
  writeFileSync(path.join(root, 'nb.ipynb'), JSON.stringify(notebook, null, 1) + '\n');
  const env = {
    ...process.env,
    JUPYTER_RUNTIME_DIR: mkdtempSync(path.join(tmpdir(), 'jupygo-collab-runtime-')),
    JUPYTER_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'jupygo-collab-data-')),
    JUPYTER_CONFIG_DIR: mkdtempSync(path.join(tmpdir(), 'jupygo-collab-config-')),
  };
  server = spawn(bin, ['server', '--no-browser', '--port', '0', '--root-dir', root, '--token', token,
    '--collaborative', '--collab-save-delay', '0.2'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  url = await new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`no URL within 20 s:\n${output}`)), 20000);
    const onData = (chunk) => {
      output += chunk;
      const m = output.match(/(http:\/\/127\.0\.0\.1:\d+\/)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    server.stdout.on('data', onData);
    server.stderr.on('data', onData);
  });
});

after(() => server?.kill());

// client runs client.mjs against the server with args.
async function client(...args) {
  try {
    const { stdout, stderr } = await run(process.execPath,
      [path.join(here, 'client.mjs'), '--url', url, '--token', token, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

// joined returns the lines of a multi-line notebook string joined.
const joined = (s) => [].concat(s).join('');

test('YNotebook of jupygo room equals the file', async () => {
  const { code, stdout, stderr } = await client('nb.ipynb');
  assert.equal(code, 0, stderr);
  const got = JSON.parse(stdout);
  assert.equal(got.nbformat, 4);
  assert.equal(got.nbformat_minor, 5);
  assert.deepEqual(got.metadata, notebook.metadata);
  assert.equal(got.cells.length, 2);
  for (const [i, want] of notebook.cells.entries()) {
    const cell = got.cells[i];
    assert.equal(cell.id, want.id, `cell ${i} id`);
    assert.equal(cell.cell_type, want.cell_type, `cell ${i} type`);
    assert.equal(joined(cell.source), joined(want.source), `cell ${i} source`);
    assert.deepEqual(cell.metadata, want.metadata, `cell ${i} metadata`);
  }
  const outputs = got.cells[1].outputs;
  assert.equal(joined(outputs[0].text), 'one\ntwo\n');
  assert.equal(joined(outputs[1].data['text/plain']), '42');
  assert.equal(got.cells[1].execution_count, 3);
});

test('cell typed in YNotebook reaches the file', async () => {
  const edited = await client('--insert-cell=-1', '--type', 'x = 6 * 7', 'nb.ipynb');
  assert.equal(edited.code, 0, edited.stderr);
  const file = path.join(root, 'nb.ipynb');
  const deadline = Date.now() + 20000;
  let saved;
  for (;;) {
    saved = JSON.parse(readFileSync(file, 'utf8'));
    if (saved.cells.length === 3 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(saved.cells.length, 3, 'cells in the saved file');
  assert.equal(joined(saved.cells[2].source), 'x = 6 * 7');
  assert.equal(saved.cells[2].cell_type, 'code');
  assert.equal(joined(saved.cells[0].source), joined(notebook.cells[0].source), 'first cell unchanged');
});
