#!/usr/bin/env node
// A headless client of a notebook's collaboration room. It opens the
// document session, joins the room, waits for the first sync and prints the
// notebook as nbformat JSON. With --insert-cell or --type it edits the
// notebook first, one Yjs update per typed character as an editor sends
// them, waits until the server has every edit, and then prints it.
import { parseArgs } from 'node:util';
import { YNotebook } from '@jupyter/ydoc';
import {
  documentRoom, joinRoom, namedRoom, openSession, parseServerURL, stateOf, waitServerHas, waitSynced,
} from './lib.mjs';

const usage = `Usage: node client.mjs --url URL [options] PATH

Joins the collaboration room of the notebook PATH (relative to the server's
root folder) and prints the notebook as JSON on stdout.

Options:
  --url URL            server URL with its base path, e.g. http://127.0.0.1:8888/
                       (required; only loopback hosts unless --allow-remote)
  --token TOKEN        API token (default: $JUPYGO_TOKEN, else none)
  --room NAME          join the room NAME directly, without a session request;
                       for servers that only relay rooms
  --insert-cell INDEX  insert a code cell at INDEX (-1 appends)
  --cell-type TYPE     type of the inserted cell: code, markdown or raw (default code)
  --cell INDEX         cell that --type types into when no cell is inserted
                       (default: the last cell)
  --type TEXT          type TEXT at the end of the cell's source
  --delay MS           pause between typed characters, in ms (default 0)
  --timeout SECONDS    limit for the sync and for the server to hold the
                       edits (default 30)
  --allow-remote       accept a server URL that is not on loopback
  -h, --help           show this help
`;

function fail(message, code = 1) {
  process.stderr.write(`collab client: ${message}\n`);
  process.exit(code);
}

function parseIndex(name, text) {
  const value = Number(text);
  if (!Number.isInteger(value)) fail(`invalid ${name} ${JSON.stringify(text)}: expected an integer`, 2);
  return value;
}

function parseCommandLine() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        room: { type: 'string' },
        'insert-cell': { type: 'string' },
        'cell-type': { type: 'string', default: 'code' },
        cell: { type: 'string' },
        type: { type: 'string' },
        delay: { type: 'string', default: '0' },
        timeout: { type: 'string', default: '30' },
        'allow-remote': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    fail(`${err.message}\n\n${usage}`, 2);
  }

  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }

  if (!values.url) fail(`--url is required\n\n${usage}`, 2);
  if (positionals.length !== 1 && !values.room) fail(`expected one notebook path\n\n${usage}`, 2);
  if (!['code', 'markdown', 'raw'].includes(values['cell-type'])) {
    fail(`invalid --cell-type ${values['cell-type']}: expected code, markdown or raw`, 2);
  }

  const timeout = Number(values.timeout);
  const delay = Number(values.delay);
  if (!(timeout > 0)) fail(`invalid --timeout ${values.timeout}: expected seconds above 0`, 2);
  if (!(delay >= 0)) fail(`invalid --delay ${values.delay}: expected milliseconds, 0 or more`, 2);

  let server;
  try {
    server = parseServerURL(values.url, { allowRemote: values['allow-remote'] });
  } catch (err) {
    fail(err.message, 2);
  }

  return {
    server,
    path: positionals[0],
    token: values.token ?? process.env.JUPYGO_TOKEN ?? '',
    room: values.room,
    insertAt: values['insert-cell'] === undefined ? undefined : parseIndex('--insert-cell', values['insert-cell']),
    cellType: values['cell-type'],
    cell: values.cell === undefined ? undefined : parseIndex('--cell', values.cell),
    text: values.type,
    delayMs: delay,
    timeoutMs: timeout * 1000,
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// edit applies the requested edits to notebook and returns whether it
// changed anything.
async function edit(notebook, opts) {
  let index = opts.cell ?? notebook.cells.length - 1;
  if (opts.insertAt !== undefined) {
    index = opts.insertAt < 0 ? notebook.cells.length + 1 + opts.insertAt : opts.insertAt;
    if (index < 0 || index > notebook.cells.length) {
      throw new Error(`--insert-cell ${opts.insertAt} is outside the notebook's ${notebook.cells.length} cells`);
    }
    notebook.insertCell(index, { cell_type: opts.cellType, source: '', metadata: {} });
  }
  if (opts.text === undefined) return opts.insertAt !== undefined;
  const cell = notebook.getCell(index);
  if (!cell) throw new Error(`no cell ${index} to type into: the notebook has ${notebook.cells.length} cells`);
  for (const ch of opts.text) {
    cell.ysource.insert(cell.ysource.length, ch);
    if (opts.delayMs > 0) await sleep(opts.delayMs);
  }
  return true;
}

async function main() {
  const opts = parseCommandLine();
  let address;
  if (opts.room) {
    address = namedRoom(opts.server, opts.room);
  } else {
    const session = await openSession(opts.server, opts.token, opts.path);
    address = documentRoom(opts.server, session);
  }

  const notebook = new YNotebook();
  const provider = joinRoom(address, notebook.ydoc, { token: opts.token, awareness: notebook.awareness });
  try {
    await waitSynced(provider, opts.timeoutMs);
    if (await edit(notebook, opts)) {
      const client = notebook.ydoc.clientID;
      await waitServerHas(address, client, stateOf(notebook.ydoc, client),
        { token: opts.token, timeoutMs: opts.timeoutMs });
    }
    process.stdout.write(`${JSON.stringify(notebook.toJSON(), null, 1)}\n`);
  } finally {
    provider.destroy();
    notebook.dispose();
  }
}

main().then(() => process.exit(0), (err) => fail(err.message));
