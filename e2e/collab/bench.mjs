// The collaboration benchmark that bench/collab.sh runs. For each target
// server it loads one generated notebook into a room and measures:
//
//   - first sync: the time until a new YNotebook client has synced. The
//     client's share is the time it spends applying the server's updates.
//   - fan-out: N clients are in the room while one more types a character
//     every interval. The latency runs from the typist's edit to each
//     client's receipt of it.
//   - awareness: the typist changes its awareness state every interval. The
//     latency runs from the change to each client's receipt of it.
//   - the server's CPU time while the typist types (utime + stime of
//     /proc/PID/stat), then for the autosave that follows, and its resident
//     memory (VmRSS and VmHWM of /proc/PID/status).
//
// Before the timed typing, the typist types --warmup seconds untimed.
//
// The listening clients run in child processes (workers) of at most
// --group clients each, 50 by default, and the typist in one of its own.
// Each worker process the scheduler has to fit in adds to the latency's
// tail on a small machine (see docs/benchmarks.md). Times come from
// process.hrtime, the system's monotonic clock, which is the same in every
// process.
import { fork, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { YNotebook } from '@jupyter/ydoc';
import * as Y from 'yjs';
import {
  documentRoom, freePort, joinRoom, namedRoom, openSession, parseServerURL, RoomAddress, waitServerHas,
  waitSynced,
} from './lib.mjs';
import { generateNotebook, notebookFile, notebookState } from './notebook.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Upper bounds that keep one run short and the machine usable.
const limits = { clients: 100, durationS: 120, syncs: 20, cells: 20000, runs: 9 };

// notebookName is the notebook's file name in the jupygo root folder.
const notebookName = 'bench.ipynb';

// ---- the worker side ------------------------------------------------------

// sourceOf returns the source of the first cell, the Y.Text that the typist
// appends to.
function sourceOf(doc) {
  return doc.getArray('cells').get(0).get('source');
}

// runWorker hosts clients for the parent process. Messages from the parent:
// join {address, token, count, role}, type {intervalMs, durationMs},
// aware {intervalMs, count}, report, exit.
function runWorker() {
  // Every provider listens for the process's exit.
  process.setMaxListeners(limits.clients + 10);
  const clients = [];
  let typist = null;
  // typed counts the typist's characters over all its type calls.
  let typed = 0;
  const handlers = {
    async join({ address, token, count, role }) {
      const room = new RoomAddress(address.folderURL, address.name, address.params);
      const joins = [];
      for (let i = 0; i < count; i++) {
        const doc = new Y.Doc();
        const provider = joinRoom(room, doc, { token });
        const client = { doc, provider, received: new Map(), aware: new Map() };
        clients.push(client);
        joins.push(waitSynced(provider, 120000).then(() => {
          client.base = sourceOf(doc).length;
          doc.on('update', () => {
            const index = sourceOf(doc).length - client.base;
            if (index > 0 && !client.received.has(index)) client.received.set(index, now());
          });
          provider.awareness.on('change', () => {
            for (const state of provider.awareness.getStates().values()) {
              const seq = state.bench;
              if (seq !== undefined && !client.aware.has(seq)) client.aware.set(seq, now());
            }
          });
        }));
      }
      await Promise.all(joins);
      if (role === 'typist') typist = clients[0];
      // Collect the garbage of the sync now rather than while timing.
      global.gc();
      return { clients: clients.length };
    },
    async type({ intervalMs, durationMs }) {
      const text = sourceOf(typist.doc);
      const sent = [];
      const start = now();
      for (let i = 1; now() - start < durationMs; i++) {
        const next = start + i * intervalMs;
        typed++;
        sent.push([typed, now()]);
        text.insert(text.length, String.fromCharCode(97 + (typed % 26)));
        await sleep(Math.max(0, next - now()));
      }
      return { sent };
    },
    async aware({ intervalMs, count }) {
      const sent = [];
      for (let seq = 1; seq <= count; seq++) {
        sent.push([seq, now()]);
        typist.provider.awareness.setLocalStateField('bench', seq);
        await sleep(intervalMs);
      }
      return { sent };
    },
    async report() {
      return {
        received: clients.filter((c) => c !== typist).map((c) => [...c.received]),
        aware: clients.filter((c) => c !== typist).map((c) => [...c.aware]),
      };
    },
    async exit() {
      for (const c of clients) {
        c.provider.destroy();
        c.doc.destroy();
      }
      setImmediate(() => process.exit(0));
      return {};
    },
  };
  process.on('message', async ({ id, cmd, args }) => {
    try {
      process.send({ id, result: await handlers[cmd](args) });
    } catch (err) {
      process.send({ id, error: err.stack || String(err) });
    }
  });
}

// Worker is the parent's handle on a worker process.
class Worker {
  constructor() {
    this.child = fork(new URL(import.meta.url).pathname, ['--worker'],
      { stdio: 'inherit', execArgv: ['--expose-gc'] });
    this.pending = new Map();
    this.nextId = 0;
    this.child.on('message', ({ id, result, error }) => {
      const p = this.pending.get(id);
      this.pending.delete(id);
      if (error) p.reject(new Error(`worker: ${error}`));
      else p.resolve(result);
    });
    this.child.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`worker exited with ${code}`));
      this.pending.clear();
    });
  }

  call(cmd, args = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, cmd, args });
    });
  }

  async stop() {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    await this.call('exit').catch(() => {});
    await Promise.race([exited, sleep(5000)]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

// ---- server processes -----------------------------------------------------

// serverCpus, when set, is the CPU list (taskset -c) that servers run on.
let serverCpus = '';

// pinSelf restricts this process and the workers it forks to the CPUs of
// list, as taskset -c reads it.
function pinSelf(list) {
  const r = spawnSync('taskset', ['-a', '-pc', list, String(process.pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`taskset -a -pc ${list} failed: ${r.error?.message ?? r.stderr}`);
}

// startProcess runs command and resolves with the child once its output
// matches ready, whose first group is returned as match.
function startProcess(command, args, { env = {}, ready, what }) {
  if (serverCpus) {
    args = ['-c', serverCpus, command, ...args];
    command = 'taskset';
  }
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not start within 30 s:\n${output}`));
    }, 30000);
    const onData = (chunk) => {
      output += chunk;
      const m = output.match(ready);
      if (m && timer) {
        clearTimeout(timer);
        resolve({ child, match: m[1] });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code} before it was ready:\n${output}`));
    });
  });
}

async function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(10000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

// processStats returns the CPU seconds (user + system) and the resident
// memory in MiB (current and peak) of process pid. cpuS counts clock
// ticks, so it moves in steps of 10 ms and a process that runs in short
// bursts is charged whole ticks at random. runS is the time the process's
// threads ran by the scheduler's clock, to the nanosecond, or null when the
// kernel does not expose it.
const clockTicks = 100; // USER_HZ (getconf CLK_TCK), 100 on Linux for x86 and arm
function processStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(fields[11]) + Number(fields[12])) / clockTicks;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'))[1]);
  return { cpuS: cpu, runS: runTime(pid), rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
}

// runTime returns the seconds that the threads of process pid have run,
// the sum of se.sum_exec_runtime (milliseconds) in /proc/PID/task/TID/sched,
// or null when those files are missing (kernels without CONFIG_SCHED_DEBUG).
// Threads that have exited are not counted: Go and Node.js keep theirs.
function runTime(pid) {
  let ms = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const sched = readFileSync(`/proc/${pid}/task/${tid}/sched`, 'utf8');
      const m = sched.match(/^se\.sum_exec_runtime\s*:\s*([\d.]+)/m);
      if (!m) return null;
      ms += Number(m[1]);
    }
  } catch {
    return null;
  }
  return ms / 1000;
}

// loadAverage returns the 1-minute load average of the machine.
function loadAverage() {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

// referenceTarget is the reference Yjs server, @y/websocket-server, which
// keeps documents in memory. The notebook reaches it from a loader client.
function referenceTarget() {
  let child;
  let server;
  return {
    name: 'reference',
    async start() {
      const port = await freePort();
      const script = path.join(here, 'node_modules', '@y', 'websocket-server', 'src', 'server.js');
      ({ child } = await startProcess(process.execPath, [script], {
        env: { HOST: '127.0.0.1', PORT: String(port) },
        ready: /(running at)/,
        what: '@y/websocket-server',
      }));
      server = parseServerURL(`http://127.0.0.1:${port}/`);
      return child.pid;
    },
    async room() {
      return { address: namedRoom(server, 'json:notebook:bench'), token: '' };
    },
    async load(notebook, address) {
      const state = notebookState(notebook);
      const doc = new Y.Doc();
      Y.applyUpdate(doc, state);
      const provider = joinRoom(address, doc);
      try {
        await waitSynced(provider, 60000);
      } finally {
        provider.destroy();
      }
      for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(doc))) {
        await waitServerHas(address, client, clock, { timeoutMs: 60000 });
      }
      doc.destroy();
    },
    async stop() {
      if (child) await stopProcess(child);
    },
  };
}

// jupygoTarget is `jupygo server --collaborative` with the notebook in its
// root folder; the room loads it from disk when the first client joins.
function jupygoTarget(bin) {
  let child;
  let server;
  let root;
  const token = `bench${Math.random().toString(16).slice(2)}`;
  return {
    name: 'jupygo',
    async start(notebook) {
      root = mkdtempSync(path.join(tmpdir(), 'jupygo-collab-bench-'));
      writeFileSync(path.join(root, notebookName), notebookFile(notebook));
      const env = {
        JUPYTER_RUNTIME_DIR: mkdtempSync(path.join(root, '.runtime-')),
        JUPYTER_CONFIG_DIR: mkdtempSync(path.join(root, '.config-')),
        JUPYTER_DATA_DIR: mkdtempSync(path.join(root, '.data-')),
      };
      let match;
      ({ child, match } = await startProcess(bin, ['server', '--no-browser', '--collaborative',
        '--root-dir', root, '--ip', '127.0.0.1', '--port', '0', '--token', token], {
        env, ready: /(http:\/\/127\.0\.0\.1:\d+\/\S*)/, what: 'jupygo server',
      }));
      // The printed URL opens JupyterLab: the server's base URL is its
      // path without "lab" and the query.
      server = parseServerURL(match.replace(/\?.*$/, '').replace(/lab\/?$/, ''));
      return child.pid;
    },
    async room() {
      const session = await openSession(server, token, notebookName);
      return { address: documentRoom(server, session), token };
    },
    async load() {},
    async stop() {
      if (child) await stopProcess(child);
      if (root) rmSync(root, { recursive: true, force: true });
    },
  };
}

// ---- measurements -----------------------------------------------------------

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}

// firstSync joins a new YNotebook client and returns the time from the
// session request to the first sync, and the time the client spent in
// transactions applying the server's updates.
async function firstSync(target) {
  const start = now();
  const { address, token } = await target.room();
  const notebook = new YNotebook();
  let applyMs = 0;
  let began = 0;
  notebook.ydoc.on('beforeTransaction', () => { began = now(); });
  notebook.ydoc.on('afterTransactionCleanup', () => { applyMs += now() - began; });
  const provider = joinRoom(address, notebook.ydoc, { token, awareness: notebook.awareness });
  try {
    await waitSynced(provider, 120000);
    const totalMs = now() - start;
    return { totalMs, applyMs, cells: notebook.cells.length };
  } finally {
    provider.destroy();
    notebook.dispose();
  }
}

// latencies pairs send times with the receipts of every client and returns
// the latencies in ms, the maximum latency of each change in the order sent,
// and how many receipts are missing.
function latencies(sent, receipts) {
  const out = [];
  const maxPerChange = sent.map(() => 0);
  let missing = 0;
  for (const client of receipts) {
    const got = new Map(client);
    sent.forEach(([index, t], i) => {
      const r = got.get(index);
      if (r === undefined) {
        missing++;
        return;
      }
      out.push(r - t);
      maxPerChange[i] = Math.max(maxPerChange[i], r - t);
    });
  }
  return { values: out, maxPerChange, missing };
}

// afterTypingMs is how long the CPU time of the typing phase runs on after
// the last edit, for its fan-out to end. A document server's autosave,
// jupygo's 1 s after the last change, comes after it, and saveWindowMs
// covers it.
const afterTypingMs = 500;
const saveWindowMs = 2000;

// runTimeBetween returns the server's run time from one processStats to
// another, or null where the kernel does not report it.
function runTimeBetween(from, to) {
  return from.runS === null || to.runS === null ? null : to.runS - from.runS;
}

// fanOut runs the typing and awareness phases with n listening clients.
async function fanOut(target, pid, n, opts) {
  const { address, token } = await target.room();
  const workers = [];
  try {
    const typist = new Worker();
    workers.push(typist);
    for (let left = n; left > 0; left -= opts.group) workers.push(new Worker());
    const joinStart = now();
    await Promise.all(workers.slice(1).map((w, i) =>
      w.call('join', { address, token, count: Math.min(opts.group, n - i * opts.group), role: 'listener' })));
    await typist.call('join', { address, token, count: 1, role: 'typist' });
    const joinS = (now() - joinStart) / 1000;
    await sleep(1000);
    if (opts.warmupS > 0) {
      // Without this typing, the clients of a process were held up at the
      // same edits with either server, most likely while node compiled
      // their code. The autosave that follows ends before the timed
      // typing starts.
      await typist.call('type', { intervalMs: opts.intervalMs, durationMs: opts.warmupS * 1000 });
      await sleep(afterTypingMs + saveWindowMs);
    }

    const before = processStats(pid);
    const { sent } = await typist.call('type', { intervalMs: opts.intervalMs, durationMs: opts.durationS * 1000 });
    await sleep(afterTypingMs);
    const after = processStats(pid);
    await sleep(saveWindowMs);
    const saved = processStats(pid);
    const { sent: awareSent } = await typist.call('aware', { intervalMs: opts.intervalMs, count: opts.awareness });
    await sleep(1000);

    const reports = await Promise.all(workers.slice(1).map((w) => w.call('report')));
    const typed = latencies(sent, reports.flatMap((r) => r.received));
    const aware = latencies(awareSent, reports.flatMap((r) => r.aware));
    return {
      clients: n,
      joinS,
      edits: sent.length,
      fanOut: { ...summarize(typed.values), missing: typed.missing, maxPerChange: typed.maxPerChange },
      awareness: { ...summarize(aware.values), missing: aware.missing, maxPerChange: aware.maxPerChange },
      cpuS: after.cpuS - before.cpuS,
      runS: runTimeBetween(before, after),
      saveCpuS: saved.cpuS - after.cpuS,
      saveRunS: runTimeBetween(after, saved),
      hwmMiB: after.hwmMiB,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

async function runTarget(target, notebook, opts) {
  const result = { target: target.name, loadBefore: loadAverage() };
  try {
    const pid = await target.start(notebook);
    await sleep(1000);
    result.idle = processStats(pid);
    const { address } = await target.room();
    await target.load(notebook, address);

    result.syncs = [];
    for (let i = 0; i < opts.syncs; i++) {
      // Collect the previous client's garbage now, when node runs with
      // --expose-gc, rather than while the next one applies the sync.
      global.gc?.();
      const sync = await firstSync(target);
      if (sync.cells !== notebook.cells.length) {
        throw new Error(`the client synced ${sync.cells} cells, expected ${notebook.cells.length}`);
      }
      result.syncs.push(sync);
    }
    result.roomOpen = processStats(pid);
    result.fanOut = [];
    for (const n of opts.clients) {
      result.fanOut.push(await fanOut(target, pid, n, opts));
    }
    result.end = processStats(pid);
    result.loadAfter = loadAverage();
  } finally {
    await target.stop();
  }
  return result;
}

// ---- report ---------------------------------------------------------------

const fmt = (v, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '-');
const median = (values) => percentile([...values].sort((a, b) => a - b), 50);

// figures flattens a result into the named numbers of the report.
function figures(r) {
  const out = new Map();
  const [cold, ...warm] = r.syncs;
  out.set('idle RSS (MiB)', r.idle.rssMiB);
  out.set('first sync, first client (ms)', cold.totalMs);
  out.set('first sync, later clients, median (ms)', warm.length ? median(warm.map((s) => s.totalMs)) : NaN);
  out.set('  of which client apply, median (ms)', median(r.syncs.map((s) => s.applyMs)));
  out.set('RSS with the room open (MiB)', r.roomOpen.rssMiB);
  for (const f of r.fanOut) {
    out.set(`${f.clients} clients: fan-out p50 (ms)`, f.fanOut.p50);
    out.set(`${f.clients} clients: fan-out p99 (ms)`, f.fanOut.p99);
    out.set(`${f.clients} clients: fan-out max (ms)`, f.fanOut.max);
    out.set(`${f.clients} clients: awareness p50 (ms)`, f.awareness.p50);
    out.set(`${f.clients} clients: awareness p99 (ms)`, f.awareness.p99);
    out.set(`${f.clients} clients: awareness max (ms)`, f.awareness.max);
    out.set(`${f.clients} clients: server CPU while typing (s)`, f.cpuS);
    if (f.runS !== null) out.set(`${f.clients} clients: server run time while typing (s)`, f.runS);
    out.set(`${f.clients} clients: server CPU in the 2 s after, autosave included (s)`, f.saveCpuS);
    if (f.saveRunS !== null) out.set(`${f.clients} clients: server run time in those 2 s (s)`, f.saveRunS);
    out.set(`${f.clients} clients: peak RSS, VmHWM (MiB)`, f.hwmMiB);
  }
  return out;
}

// medianFigures returns, for every figure of runs, its median over the runs.
function medianFigures(runs) {
  const out = new Map();
  for (const name of runs[0].keys()) {
    out.set(name, median(runs.map((f) => f.get(name))));
  }
  return out;
}

function printReport(results, opts) {
  console.log(`\nnotebook: ${opts.cells} cells, ${(opts.fileBytes / 1e6).toFixed(2)} MB as .ipynb, ` +
    `${(opts.stateBytes / 1e6).toFixed(2)} MB as Yjs state`);
  console.log(`typing: one character every ${opts.intervalMs} ms for ${opts.durationS} s, ` +
    `after ${opts.warmupS} s untimed; awareness: ${opts.awareness} changes, one every ${opts.intervalMs} ms`);
  if (opts.serverCpus || opts.clientCpus) {
    console.log(`CPUs: servers on ${opts.serverCpus || 'any'}, clients on ${opts.clientCpus || 'any'}`);
  }
  if (opts.runs > 1) console.log(`each figure: the median of ${opts.runs} runs`);
  for (const r of results) {
    console.log(`${r.target}, run ${r.run}: load average (1 min) ${r.loadBefore} before, ${r.loadAfter} after`);
    for (const f of r.fanOut) {
      if (f.fanOut.missing || f.awareness.missing) {
        console.log(`${r.target}, ${f.clients} clients: ${f.fanOut.missing} edits and ` +
          `${f.awareness.missing} awareness changes never arrived`);
      }
    }
  }
  const targets = opts.targets.filter((t) => results.some((r) => r.target === t));
  const tables = targets.map((t) => medianFigures(results.filter((r) => r.target === t).map(figures)));
  const names = [...tables[0].keys()];
  const header = ['figure', ...targets];
  const ref = targets.indexOf('reference');
  const jg = targets.indexOf('jupygo');
  const ratio = ref >= 0 && jg >= 0;
  if (ratio) header.push('jupygo/reference');
  const rows = names.map((name) => {
    // Times in seconds are CPU times, whose differences are tens of ms.
    const digits = name.endsWith('(s)') ? 3 : 1;
    const row = [name, ...tables.map((t) => fmt(t.get(name), digits))];
    // The reference server keeps documents in memory and saves nothing.
    if (ratio) row.push(name.includes('2 s after') || name.includes('those 2 s') ? '-' : fmt(tables[jg].get(name) / tables[ref].get(name), 2));
    return row;
  });
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => row[i].length)));
  const line = (row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
    .join('  ');
  console.log(`\n${line(header)}`);
  for (const row of rows) console.log(line(row));
}

// ---- command line -----------------------------------------------------------

const usage = `Usage: node bench.mjs [options]

Options:
  --targets LIST    servers to measure, in order: reference, jupygo (default reference)
  --jupygo PATH     jupygo binary for the jupygo target (default bin/jupygo)
  --clients LIST    listening clients per fan-out phase (default 20,50; at most ${limits.clients})
  --duration S      typing time per phase, in seconds (default 20; at most ${limits.durationS})
  --warmup S        untimed typing before each phase's timed typing, in seconds
                    (default 10; 0 for none)
  --interval MS     time between typed characters and awareness changes (default 50)
  --awareness N     awareness changes per phase (default 40)
  --syncs N         clients joining one after another for the first-sync figure (default 5)
  --runs N          runs of every target, in turn; the report gives each figure's median
                    (default 1; at most ${limits.runs})
  --cells N         cells of the generated notebook (default 2000)
  --group N         listening clients per worker process (default 50)
  --server-cpus L   run the servers on the CPUs of list L (taskset -c), e.g. 0
  --client-cpus L   run the clients and this process on the CPUs of list L,
                    e.g. 1; default: no pinning
  --json FILE       where to write the results as JSON
                    (default bench/results/collab-YYYYMMDD-HHMMSS.json)
`;

// defaultResultsFile returns bench/results/collab-<UTC time>.json.
function defaultResultsFile() {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return path.resolve(here, '..', '..', 'bench', 'results', `collab-${stamp}.json`);
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      targets: { type: 'string', default: 'reference' },
      jupygo: { type: 'string', default: path.resolve(here, '..', '..', 'bin', 'jupygo') },
      clients: { type: 'string', default: '20,50' },
      duration: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '10' },
      interval: { type: 'string', default: '50' },
      awareness: { type: 'string', default: '40' },
      syncs: { type: 'string', default: '5' },
      runs: { type: 'string', default: '1' },
      cells: { type: 'string', default: '2000' },
      group: { type: 'string', default: '50' },
      'server-cpus': { type: 'string', default: '' },
      'client-cpus': { type: 'string', default: '' },
      json: { type: 'string' },
      worker: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const int = (name, min, max) => {
    const v = Number(values[name]);
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new Error(`invalid --${name} ${values[name]}: expected an integer from ${min} to ${max}`);
    }
    return v;
  };
  const cpuList = (name) => {
    const v = values[name];
    if (v !== '' && !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) {
      throw new Error(`invalid --${name} ${v}: expected a CPU list such as 0 or 0-1,3`);
    }
    return v;
  };
  const clients = values.clients.split(',').map((s) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v < 1 || v > limits.clients) {
      throw new Error(`invalid --clients entry ${s}: expected an integer from 1 to ${limits.clients}`);
    }
    return v;
  });
  const targets = values.targets.split(',');
  for (const t of targets) {
    if (t !== 'reference' && t !== 'jupygo') throw new Error(`unknown target ${t}: expected reference or jupygo`);
  }
  return {
    worker: values.worker,
    targets,
    jupygo: values.jupygo,
    clients,
    durationS: int('duration', 1, limits.durationS),
    warmupS: int('warmup', 0, limits.durationS),
    intervalMs: int('interval', 10, 10000),
    awareness: int('awareness', 1, 1000),
    syncs: int('syncs', 1, limits.syncs),
    runs: int('runs', 1, limits.runs),
    cells: int('cells', 1, limits.cells),
    group: int('group', 1, limits.clients),
    serverCpus: cpuList('server-cpus'),
    clientCpus: cpuList('client-cpus'),
    json: values.json ?? defaultResultsFile(),
  };
}

async function main() {
  const opts = parseOptions();
  if (opts.worker) {
    runWorker();
    return;
  }
  serverCpus = opts.serverCpus;
  if (opts.clientCpus) pinSelf(opts.clientCpus);
  const notebook = generateNotebook(opts.cells, 15);
  opts.fileBytes = Buffer.byteLength(notebookFile(notebook));
  opts.stateBytes = notebookState(notebook).length;
  const results = [];
  let failed = false;
  for (let run = 1; run <= opts.runs; run++) {
    // Every other run reverses the order, so that no target always
    // follows the other.
    const order = run % 2 === 1 ? opts.targets : [...opts.targets].reverse();
    for (const name of order) {
      const target = name === 'jupygo' ? jupygoTarget(opts.jupygo) : referenceTarget();
      console.error(`collab bench: run ${run} of ${opts.runs}: measuring ${name}`);
      try {
        results.push({ ...(await runTarget(target, notebook, opts)), run });
      } catch (err) {
        console.error(`collab bench: ${name} failed: ${err.message}`);
        failed = true;
      }
    }
  }
  if (results.length === 0) process.exit(1);
  printReport(results, opts);
  mkdirSync(path.dirname(opts.json), { recursive: true });
  writeFileSync(opts.json, `${JSON.stringify({ options: opts, results }, null, 2)}\n`);
  console.log(`\nresults: ${opts.json}`);
  if (failed) process.exit(1);
}

main().catch((err) => {
  console.error(`collab bench: ${err.message}`);
  process.exit(1);
});
