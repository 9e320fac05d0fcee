// Pieces of the hub's browser tests: starting `jupygo hub`, signing in
// through its pages, calling the hub's REST API with a service token, and
// making sure no process outlives a test.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bin, stopProcess, waitFor } from './harness.mjs';

// apiToken is the token of the "e2e" service.
export const apiToken = 'e2e' + Math.random().toString(16).slice(2).padEnd(16, '0');

// e2eService is the TOML of the "e2e" service that every test
// configuration declares, with the scopes to list users, read their
// servers' process ids, stop the servers and share them (which needs the
// access that a share grants).
export const e2eService = `[[JupyterHub.services]]
name = "e2e"
api_token = "${apiToken}"

[[JupyterHub.load_roles]]
name = "e2e"
scopes = ["admin:users", "admin:servers", "admin:server_state", "read:shares", "shares", "access:servers"]
services = ["e2e"]
`;

// writeConfig writes a hub configuration file into dir and returns its path.
// Every configuration exposes JupyterLab's application object to the tests
// and declares the e2e service. jupyterHub is TOML for the [JupyterHub]
// table, spawner more TOML for the [Spawner] table, spawnerCmd, when set,
// replaces the command of user servers, and serverArgs are arguments of the
// user servers besides --expose-app-in-browser.
export function writeConfig(dir, { jupyterHub = '', spawner = '', spawnerCmd, serverArgs = [] } = {}) {
  const file = path.join(dir, 'hub.toml');
  const cmd = spawnerCmd ? `cmd = ${JSON.stringify(spawnerCmd)}\n` : '';
  const args = JSON.stringify(['--expose-app-in-browser', ...serverArgs]);
  writeFileSync(file, `[JupyterHub]
${jupyterHub}

${e2eService}
[Spawner]
${cmd}args = ${args}
${spawner}
`);
  return file;
}

// slowStart returns a spawner command that waits a moment before it runs
// `jupygo server`, so that the hub shows its spawn-pending page instead of
// going straight to the server. exec keeps the process id that the spawner
// stores.
export function slowStart(seconds) {
  return ['/bin/sh', '-c', `sleep ${seconds}; exec "$0" server "$@"`, bin];
}

// runningAt matches the URL line: http://127.0.0.1:PORT/, or over HTTPS
// https://NAME:PORT/ with the certificate's first name.
const runningAt = /jupygo hub is running at (https?:\/\/[^\s/:]+:(\d+)\/)/;
const firstAdmin = /sign in as "([^"]+)" with the one-time password\s+(\S+)/;

// startHub runs `jupygo hub` on port (0 for a free one) with the data
// folder dataDir and the configuration file config. It resolves once the
// hub prints its URL, with the admin's one-time password at the first
// start. The hub's stop sends SIGTERM and crash sends SIGKILL, and both
// wait for the exit.
export function startHub({ dataDir, config, port = 0, cwd }) {
  const args = ['hub', '--port', String(port), '--data-dir', dataDir];
  if (config) args.push('-f', config);
  const child = spawn(bin, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hub printed no URL within 20 s:\n${output}`));
    }, 20000);
    const onData = (chunk) => {
      output += chunk;
      const m = output.match(runningAt);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      const admin = output.match(firstAdmin);
      resolve({
        url: m[1],
        port: Number(m[2]),
        admin: admin?.[1],
        password: admin?.[2],
        pid: child.pid,
        output: () => output,
        stop: () => stopProcess(child),
        crash: () => new Promise((done) => {
          child.once('exit', done);
          child.kill('SIGKILL');
        }),
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => { output += chunk; });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code} before printing its URL:\n${output}`));
    });
  });
}

// hubAPI calls the hub's REST API with the e2e service's token and returns
// the status and the decoded body. It uses hub.apiBase when set, such as the
// plain-HTTP internal listener of a hub that serves HTTPS.
export async function hubAPI(hub, method, apiPath, body) {
  const resp = await fetch(new URL('hub/api/' + apiPath, hub.apiBase ?? hub.url), {
    method,
    headers: { Authorization: `token ${apiToken}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  let data = text;
  try {
    data = JSON.parse(text);
  } catch {
    // Not JSON: keep the text for the failure message.
  }
  return { status: resp.status, body: data };
}

// serverPID returns the process id in the spawner state of user's server
// (name '' for the default one), or 0 when it has none.
export async function serverPID(hub, user, name = '') {
  const { status, body } = await hubAPI(hub, 'GET', `users/${user}`);
  assert.equal(status, 200, `GET users/${user}: ${JSON.stringify(body)}`);
  return body.servers?.[name]?.state?.pid ?? 0;
}

// stopAllServers stops every user server through the hub's API and waits
// until the hub lists none as running or stopping.
export async function stopAllServers(hub) {
  const { status, body } = await hubAPI(hub, 'GET', 'users');
  assert.equal(status, 200, `GET users: ${JSON.stringify(body)}`);
  for (const user of body) {
    for (const name of Object.keys(user.servers ?? {})) {
      const target = name ? `users/${user.name}/servers/${name}` : `users/${user.name}/server`;
      const r = await hubAPI(hub, 'DELETE', target);
      assert.ok([202, 204].includes(r.status), `DELETE ${target} = ${r.status}`);
    }
  }
  await waitFor('every server to stop', async () => {
    const users = (await hubAPI(hub, 'GET', 'users')).body;
    return users.every((u) => Object.keys(u.servers ?? {}).length === 0);
  });
}

// processesUnder returns the processes whose working folder or HOME lies
// in dir: the user servers of a hub with that data folder, and their
// kernels.
export function processesUnder(dir) {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      if (state === 'Z') continue;
      if (cwd.startsWith(dir + '/') || env.some((v) => v.startsWith(`HOME=${dir}/`))) {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
        found.push({ pid: Number(entry), cmdline });
      }
    } catch {
      // The process ended while it was read, or is not ours to read.
    }
  }
  return found;
}

// processGone reports whether pid has exited.
export function processGone(pid) {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state === 'Z';
  } catch {
    return true;
  }
}

// killLeftovers kills what processesUnder(dir) finds and returns their
// descriptions, so that a failed test leaves nothing running.
export function killLeftovers(dir) {
  const left = processesUnder(dir);
  for (const p of left) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  return left.map((p) => `${p.pid} ${p.cmdline}`);
}

// signIn fills the hub's login form on page.
export async function signIn(page, hub, user, password) {
  await page.goto(new URL('hub/login', hub.url).href);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

// changePassword fills the password form that the hub shows after a sign
// in with a temporary password, and waits until the hub moves on.
export async function changePassword(page, current, password) {
  await page.waitForURL(/\/hub\/password/);
  await page.fill('#current', current);
  await page.fill('#new', password);
  await page.fill('#confirm', password);
  await page.click('button[type=submit]');
  await page.waitForURL((u) => !u.pathname.includes('/hub/password'));
}
