// Shared pieces of the browser tests: starting jupygo servers, launching
// Debian's Chromium through playwright-core, keeping screenshots, and
// driving JupyterLab notebooks.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const here = path.dirname(new URL(import.meta.url).pathname);
export const repo = path.resolve(here, '..');
export const artifacts = path.join(here, 'artifacts');
mkdirSync(artifacts, { recursive: true });

export const bin = process.env.JUPYGO_BIN || path.join(repo, 'bin', 'jupygo');

// tempDir returns a new empty folder under the system temp dir.
export function tempDir(prefix) {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

// startServer runs `jupygo server` with args and resolves once it has
// printed its URL. The returned object has the URL, the port, stop(),
// kill() (SIGKILL, as in a crash), and exited, a promise of the exit code.
export function startServer(args, env = {}) {
  const child = spawn(bin, ['server', '--no-browser', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server printed no URL within 20 s:\n${output}`));
    }, 20000);
    const onData = (chunk) => {
      output += chunk;
      const m = output.match(/(http:\/\/127\.0\.0\.1:(\d+)\/\S*)/);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          port: Number(m[2]),
          output: () => output,
          stop: () => stopProcess(child),
          kill: () => child.kill('SIGKILL'),
          exited,
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before printing a URL:\n${output}`));
    });
  });
}

// stopProcess sends SIGTERM and waits for the exit, with SIGKILL after 15 s.
export function stopProcess(child) {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

// launchBrowser starts headless Chromium with the flags that keep it off the
// network except for the servers under test.
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

// shot saves a screenshot of page under artifacts/ as <name>.png.
export async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`) });
}

// collectErrors records page errors and failed API responses, for test
// failure messages.
export function collectErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 500) errors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
    if (r.status() >= 400) errors.clientErrors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  errors.clientErrors = [];
  return errors;
}

// describeV1 summarizes a kernel WebSocket frame in the
// v1.kernel.websocket.jupyter.org framing, for failure logs.
function describeV1(buf) {
  try {
    const n = Number(buf.readBigUInt64LE(0));
    const offsets = [];
    for (let i = 0; i < n; i++) offsets.push(Number(buf.readBigUInt64LE(8 + 8 * i)));
    const part = (i) => buf.subarray(offsets[i], offsets[i + 1]).toString();
    const header = JSON.parse(part(1));
    const parent = JSON.parse(part(2) || '{}');
    return `${part(0)} ${header.msg_type} parent=${parent.msg_type || ''} session=${header.session}`;
  } catch (e) {
    return `undecodable frame (${e.message})`;
  }
}

// traceKernelFrames appends a line to lines for every kernel WebSocket frame
// and for the sockets' opening and closing.
export function traceKernelFrames(page, lines) {
  const t0 = Date.now();
  page.on('websocket', (ws) => {
    if (!ws.url().includes('/channels')) return;
    const id = new URL(ws.url()).searchParams.get('session_id')?.slice(0, 8);
    lines.push(`${Date.now() - t0} open ${id}`);
    ws.on('framesent', (f) => lines.push(`${Date.now() - t0} ${id} sent ${describeV1(f.payload)}`));
    ws.on('framereceived', (f) => lines.push(`${Date.now() - t0} ${id} received ${describeV1(f.payload)}`));
    ws.on('close', () => lines.push(`${Date.now() - t0} ${id} closed`));
  });
}

// waitFor polls check until it returns a true value, and returns that.
export async function waitFor(what, check, timeout = 30000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// labShell waits until JupyterLab's launcher shows on page.
export async function labShell(page) {
  await page.locator('.jp-LauncherCard[data-category="Notebook"]').first()
    .waitFor({ timeout: 60000 });
}

// newNotebook creates a notebook from the launcher and waits for its
// kernel to be idle.
export async function newNotebook(page) {
  await page.locator('.jp-LauncherCard[data-category="Notebook"]').first().click();
  await page.locator('.jp-Notebook .jp-Cell .cm-content').first().waitFor();
  await kernelIdle(page);
}

// kernelIdle waits until the status bar shows the notebook's kernel idle.
export async function kernelIdle(page) {
  await page.locator('.jp-StatusBar-Widget', { hasText: /\| Idle/ }).first()
    .waitFor({ timeout: 60000 });
}

// runCell types code into the last cell of the current notebook, runs it
// with Shift+Enter and waits for an output that contains expected. The
// cell is chosen through the application object, because JupyterLab
// renders cells lazily and a click may land on a cell that moves.
export async function runCell(page, code, expected) {
  const index = await page.evaluate(async () => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    const last = notebook.widgets.length - 1;
    notebook.activeCellIndex = last;
    await notebook.scrollToItem(last);
    notebook.mode = 'edit';
    return last;
  });
  await page.waitForFunction(() => {
    const cell = window.jupyterapp.shell.currentWidget.content.activeCell;
    if (!cell.editor) return false;
    cell.editor.focus();
    return cell.editor.hasFocus();
  });
  await page.keyboard.type(code);
  await page.keyboard.press('Shift+Enter');
  await page.locator('.jp-Notebook .jp-Cell').nth(index).locator('.jp-OutputArea-output')
    .filter({ hasText: expected }).waitFor({ timeout: 60000 });
}

// kernelID returns the id of the current notebook's kernel.
export function kernelID(page) {
  return page.evaluate(() =>
    window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.id);
}

// saveNotebook saves the current notebook with the toolbar's button and
// accepts the rename dialog that JupyterLab shows on the first save of an
// untitled notebook, keeping the name.
export async function saveNotebook(page) {
  await page.locator('jp-button[data-command="docmanager:save"]').first().click();
  const accept = page.locator('.jp-Dialog .jp-mod-accept');
  await accept.waitFor({ timeout: 3000 }).then(() => accept.click(), () => {});
}

// userMenu waits until the user menu in JupyterLab's top bar shows a name,
// and an avatar that finished loading if it shows one. It returns the
// label, the initials and their background color (null with an avatar),
// and the avatar's address and whether it loaded (null and false without).
export async function userMenu(page) {
  const item = page.locator('#jp-top-panel #jp-UserMenu .lm-MenuBar-item');
  await item.locator('.jp-MenuBar-label', { hasText: /\S/ }).waitFor({ timeout: 30000 });
  await item.evaluate((li) => new Promise((resolve) => {
    const img = li.querySelector('.jp-MenuBar-imageIcon img');
    if (!img || img.complete) return resolve();
    img.addEventListener('load', resolve, { once: true });
    img.addEventListener('error', resolve, { once: true });
  }));
  return item.evaluate((li) => {
    const initials = li.querySelector('.jp-MenuBar-anonymousIcon');
    const img = li.querySelector('.jp-MenuBar-imageIcon img');
    return {
      label: li.querySelector('.jp-MenuBar-label').textContent,
      initials: initials ? initials.textContent : null,
      color: initials ? initials.style.backgroundColor : null,
      avatar: img ? img.getAttribute('src') : null,
      avatarLoaded: img ? img.complete && img.naturalWidth > 0 : false,
    };
  });
}

// userIdentity returns the identity that JupyterLab's user manager holds.
// The server must run with --expose-app-in-browser.
export function userIdentity(page) {
  return page.evaluate(async () => {
    const { user } = window.jupyterapp.serviceManager;
    await user.ready;
    return user.identity;
  });
}

// notebookCells returns the cells of the page's current notebook as JupyterLab's
// shared model contains them: the sources, and the text of each cell's
// outputs.
export function notebookCells(page) {
  return page.evaluate(() => {
    const model = window.jupyterapp.shell.currentWidget?.content?.model;
    if (!model) return null;
    return model.sharedModel.cells.map((cell) => ({
      source: cell.getSource(),
      outputs: (cell.toJSON().outputs || []).map((o) =>
        [].concat(o.text ?? o.data?.['text/plain'] ?? '').join('')).join(''),
    }));
  });
}

// waitCells waits until check accepts the cells of page's notebook.
export function waitCells(page, what, check, timeout = 30000) {
  return waitFor(what, async () => {
    const got = await notebookCells(page);
    return got && check(got);
  }, timeout);
}

// typeInCell puts the cursor at the end of cell index and types text, as a
// person does.
export async function typeInCell(page, index, text) {
  await page.evaluate(async (i) => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    notebook.activeCellIndex = i;
    await notebook.scrollToItem(i);
    notebook.mode = 'edit';
  }, index);
  await page.waitForFunction(() => {
    const cell = window.jupyterapp.shell.currentWidget.content.activeCell;
    if (!cell.editor) return false;
    cell.editor.focus();
    return cell.editor.hasFocus();
  });
  await page.keyboard.press('Control+End');
  await page.keyboard.type(text);
}
