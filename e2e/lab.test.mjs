// JupyterLab against a real jupygo server and a real ipykernel: the daily
// path of a notebook user, from the launcher to a server restart.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  artifacts, collectErrors, launchBrowser, shot, startServer, tempDir, traceKernelFrames, userIdentity,
  userMenu,
} from './harness.mjs';

const token = 'e2e' + Math.random().toString(16).slice(2);

// The plugins of the collaboration extension that the page config disables
// while collaboration is off, and the ones that make the user menu and the
// share dialog, which stay on.
const collaborationPlugins = ['rtcGlobalAwareness', 'rtcPanel', 'userEditorCursors']
  .map((name) => `@jupyter/collaboration-extension:${name}`);
const userMenuPlugins = ['@jupyter/collaboration-extension:userMenu',
  '@jupyter/collaboration-extension:user-menu-bar', '@jupygo/lab:user-menu-label',
  '@jupyter/collaboration-extension:shared-link'];

// isCollaborationURL reports whether url is one of the collaboration
// server's endpoints, which the page must not call while collaboration is
// off.
function isCollaborationURL(url) {
  return /\/api\/(collaboration|yjs)(\/|$)/.test(new URL(url).pathname);
}

// checkUserMenu checks that the top bar's user menu shows the user of the
// server's /api/me and that the collaboration plugins other than those of
// the user menu and the share dialog are not in the application.
async function checkUserMenu(page, server) {
  const meURL = new URL('/api/me', server.url);
  const me = await (await fetch(meURL, { headers: { Authorization: `token ${token}` } })).json();
  const menu = await userMenu(page);
  const identity = await userIdentity(page);
  assert.equal(menu.label, me.identity.display_name, 'label of the user menu');
  assert.equal(menu.initials, me.identity.initials, 'initials in the user menu');
  assert.equal(menu.avatar, null, 'avatar in the user menu of a user without one');
  assert.ok(identity.color, 'JupyterLab gave the user no color');
  assert.equal(menu.color, identity.color, 'background of the initials');
  const plugins = await page.evaluate((ids) => ids.map((id) => [id, window.jupyterapp.hasPlugin(id),
    window.jupyterapp.isPluginActivated(id)]), [...collaborationPlugins, ...userMenuPlugins]);
  for (const [id, registered, activated] of plugins) {
    const expected = userMenuPlugins.includes(id);
    assert.equal(registered, expected, `plugin ${id} registered`);
    assert.equal(activated, expected, `plugin ${id} activated`);
  }
  assert.equal(await page.locator('.jp-RTCPanel, #jp-collaboration-panel').count(), 0,
    'collaboration panel on the page');
  assert.equal(await page.locator('#jp-top-panel [data-jp-item-name*="shared-link"]').count(), 1,
    'shared-link button in the top bar');
}

// notebookOnDisk reads and parses the notebook file, or returns null.
function notebookOnDisk(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

async function waitFor(what, check, timeout = 30000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// runInLastCell types code into the last cell of the notebook and runs it
// with Shift+Enter. It selects that cell through the application object,
// because JupyterLab renders cells lazily and a click can land on a cell
// that moves while the notebook lays out.
async function runInLastCell(page, code) {
  await page.evaluate(async () => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    const last = notebook.widgets.length - 1;
    notebook.activeCellIndex = last;
    await notebook.scrollToItem(last);
    notebook.mode = 'edit';
  });
  await page.waitForFunction(() => {
    const cell = window.jupyterapp.shell.currentWidget.content.activeCell;
    if (!cell.editor) return false;
    cell.editor.focus();
    return cell.editor.hasFocus();
  });
  await page.keyboard.type(code);
  await page.keyboard.press('Shift+Enter');
}

// kernelIdle waits until the status bar shows the notebook's kernel idle.
async function kernelIdle(page) {
  await page.locator('.jp-StatusBar-Widget', { hasText: /\| Idle/ }).first()
    .waitFor({ timeout: 60000 });
}

// save clicks the toolbar's save button and accepts the rename dialog that
// JupyterLab shows on the first save of an untitled notebook, keeping the name.
async function save(page) {
  await page.locator('jp-button[data-command="docmanager:save"]').first().click();
  const accept = page.locator('.jp-Dialog .jp-mod-accept');
  await accept.waitFor({ timeout: 3000 }).then(() => accept.click(), () => {});
}

// outputOfCell returns the text of the outputs of the cell at index.
function outputOfCell(page, index) {
  return page.locator('.jp-Notebook .jp-Cell').nth(index).locator('.jp-OutputArea-output');
}

test('notebook from launcher to server restart', { timeout: 240000 }, async () => {
  const root = tempDir('jupygo-e2e-');
  const env = { JUPYTER_RUNTIME_DIR: tempDir('jupygo-e2e-runtime-'),
    JUPYTER_CONFIG_DIR: tempDir('jupygo-e2e-config-') };
  let errorsSeen;
  let consoleSeen = [];
  let page;
  let server = await startServer(['--root-dir', root, '--port', '0', '--token', token, '--log-level', process.env.E2E_LOG_LEVEL || 'info', '--expose-app-in-browser'], env);
  const browser = await launchBrowser();
  try {
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors = collectErrors(page);
    const consoleLines = [];
    const pluginErrors = [];
    const collaborationRequests = [];
    page.on('console', (m) => {
      consoleLines.push(`${m.type()}: ${m.text()}`);
      if (m.type() === 'error' && /plugin|collaborat|awareness|docprovider|provider|IUserMenu/i
        .test(m.text())) {
        pluginErrors.push(m.text());
      }
    });
    page.on('request', (r) => {
      if (isCollaborationURL(r.url())) collaborationRequests.push(`${r.method()} ${r.url()}`);
    });
    page.on('websocket', (ws) => {
      if (isCollaborationURL(ws.url())) collaborationRequests.push(`WebSocket ${ws.url()}`);
    });
    page.on('request', (r) => {
      if (r.url().includes('/api/sessions') && r.method() !== 'GET') {
        consoleLines.push(`request: ${r.method()} ${r.url()} ${r.postData()}`);
      }
    });
    page.on('response', async (r) => {
      if (r.url().includes('/api/sessions') && r.request().method() !== 'GET') {
        consoleLines.push(`response: ${r.status()} ${await r.text().catch(() => '')}`);
      }
    });
    consoleSeen = consoleLines;
    traceKernelFrames(page, consoleLines);
    errorsSeen = errors;

    // Open the printed URL and wait for the launcher.
    await page.goto(server.url);
    const card = page.locator('.jp-LauncherCard[data-category="Notebook"]').first();
    await card.waitFor({ timeout: 60000 });
    await checkUserMenu(page, server);
    await shot(page, '01-launcher');
    await page.locator('#jp-top-panel').screenshot({ path: path.join(artifacts, '01-top-bar.png') });

    // Create a notebook from the launcher and run a cell.
    await card.click();
    await page.locator('.jp-Notebook .jp-Cell .cm-content').first().waitFor();
    await kernelIdle(page);
    await runInLastCell(page, 'print(sum(range(10)))');
    await outputOfCell(page, 0).filter({ hasText: '45' }).waitFor({ timeout: 60000 });
    await shot(page, '02-executed');

    // A markdown cell renders.
    await page.keyboard.press('Escape');
    await page.keyboard.press('m');
    await page.keyboard.press('Enter');
    await page.keyboard.type('# Rendered *markdown*');
    await page.keyboard.press('Shift+Enter');
    await page.locator('.jp-MarkdownOutput h1', { hasText: 'Rendered' }).waitFor();
    await shot(page, '03-markdown');

    // Save, and find the cell with its output in the file.
    await save(page);
    const file = path.join(root, 'Untitled.ipynb');
    const saved = await waitFor('the saved notebook', () => {
      const nb = notebookOnDisk(file);
      return nb && nb.cells.length >= 2 && nb.cells[1].cell_type === 'markdown' ? nb : null;
    });
    const code = saved.cells[0];
    assert.equal([].concat(code.source).join(''), 'print(sum(range(10)))');
    assert.equal([].concat(code.outputs[0].text).join(''), '45\n');
    await shot(page, '04-saved');

    // Interrupt an endless loop.
    await runInLastCell(page, 'x = 1\nwhile True: pass');
    await page.locator('.jp-Notebook-ExecutionIndicator[data-status="busy"]')
      .waitFor({ timeout: 30000 }).catch(() => {});
    await page.waitForTimeout(500);
    await page.locator('jp-button[data-command="notebook:interrupt-kernel"]').click();
    await outputOfCell(page, 2).filter({ hasText: 'KeyboardInterrupt' })
      .waitFor({ timeout: 30000 });
    await shot(page, '05-interrupted');

    // Restart the kernel: state is gone and cells run again.
    await page.locator('jp-button[data-command="notebook:restart-kernel"]').click();
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await page.waitForTimeout(1000);
    await runInLastCell(page, "print('x' in globals())");
    await outputOfCell(page, 3).filter({ hasText: 'False' }).waitFor({ timeout: 60000 });
    await shot(page, '06-restarted');
    await save(page);
    await waitFor('the second save', () => {
      const nb = notebookOnDisk(file);
      return nb && nb.cells.length >= 4;
    });

    // Restart the server on the same port and reopen the notebook.
    const port = server.port;
    assert.equal(await server.stop(), 0, 'server exits cleanly on SIGTERM');
    server = await startServer(['--root-dir', root, '--port', String(port),
      '--port-retries', '0', '--token', token, '--expose-app-in-browser'], env);
    await page.goto(`http://127.0.0.1:${port}/lab/tree/Untitled.ipynb?token=${token}`);
    await outputOfCell(page, 0).filter({ hasText: '45' }).waitFor({ timeout: 60000 });
    await page.locator('.jp-MarkdownOutput h1', { hasText: 'Rendered' }).waitFor();
    await kernelIdle(page);
    await runInLastCell(page, 'print(6*7)');
    await page.locator('.jp-OutputArea-output', { hasText: '42' }).waitFor({ timeout: 60000 });
    await shot(page, '07-server-restarted');
    await checkUserMenu(page, server);
    assert.deepEqual([...errors], [], 'no page errors or server errors');
    assert.deepEqual(pluginErrors, [], 'console errors about plugins');
    assert.deepEqual(collaborationRequests, [], 'requests to collaboration endpoints');
  } catch (e) {
    if (page) await shot(page, 'failure').catch(() => {});
    writeFileSync(path.join(artifacts, 'server.log'), server.output());
    writeFileSync(path.join(artifacts, 'console.log'), consoleSeen.join('\n'));
    e.message += `\n4xx responses: ${JSON.stringify(errorsSeen?.clientErrors ?? [])}` +
      `\nserver output:\n${server.output().slice(-4000)}`;
    throw e;
  } finally {
    await browser.close();
    await server.stop();
  }
});

// A cell run as soon as a notebook shows its kernel must execute, even while
// the kernel is still starting: the request waits for it.
test('cell run right after opening executes', { timeout: 120000 }, async () => {
  const root = tempDir('jupygo-e2e-open-');
  writeFileSync(path.join(root, 'a.ipynb'), JSON.stringify({
    cells: [{ cell_type: 'code', source: '', metadata: {}, outputs: [], execution_count: null }],
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3' } },
    nbformat: 4, nbformat_minor: 5,
  }));
  const env = { JUPYTER_RUNTIME_DIR: tempDir('jupygo-e2e-runtime-'),
    JUPYTER_CONFIG_DIR: tempDir('jupygo-e2e-config-') };
  const server = await startServer(['--root-dir', root, '--port', '0', '--token', token], env);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(server.url.replace('/lab?', '/lab/tree/a.ipynb?'));
    const editor = page.locator('.jp-Notebook .jp-Cell .cm-content').first();
    await editor.waitFor({ timeout: 60000 });
    // The session exists as soon as the kernel process runs; the run below
    // happens while the kernel may still be starting.
    await page.locator('.jp-StatusBar-Widget', { hasText: /Python 3 \(ipykernel\) \|/ }).first()
      .waitFor({ timeout: 60000 });
    await editor.click();
    await page.keyboard.type('print(6*7)');
    await page.keyboard.press('Shift+Enter');
    await outputOfCell(page, 0).filter({ hasText: '42' }).waitFor({ timeout: 60000 });
    await shot(page, '08-run-at-once');
  } finally {
    await browser.close();
    await server.stop();
  }
});
