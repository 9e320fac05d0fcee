// JupyterLab against a real jupygo server and a real ipykernel: the daily
// path of a notebook user, from the launcher to a server restart.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { collectErrors, launchBrowser, shot, startServer, tempDir } from './harness.mjs';

const token = 'e2e' + Math.random().toString(16).slice(2);

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

// runInLastCell types code into the last cell and runs it with Shift+Enter.
async function runInLastCell(page, code) {
  const editor = page.locator('.jp-Notebook .jp-Cell').last().locator('.cm-content');
  await editor.click();
  await page.keyboard.type(code);
  await page.keyboard.press('Shift+Enter');
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
  let server = await startServer(['--root-dir', root, '--port', '0', '--token', token], env);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors = collectErrors(page);
    errorsSeen = errors;

    // Open the printed URL and wait for the launcher.
    await page.goto(server.url);
    const card = page.locator('.jp-LauncherCard[data-category="Notebook"]').first();
    await card.waitFor({ timeout: 60000 });
    await shot(page, '01-launcher');

    // Create a notebook from the launcher and run a cell.
    await card.click();
    await page.locator('.jp-Notebook .jp-Cell .cm-content').first().waitFor();
    await page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
      .waitFor({ timeout: 60000 }).catch(() => {});
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
    await page.locator('jp-button[data-command="docmanager:save"]').first().click();
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
    await page.locator('jp-button[data-command="docmanager:save"]').first().click();
    await waitFor('the second save', () => {
      const nb = notebookOnDisk(file);
      return nb && nb.cells.length >= 4;
    });

    // Restart the server on the same port and reopen the notebook.
    const port = server.port;
    assert.equal(await server.stop(), 0, 'server exits cleanly on SIGTERM');
    server = await startServer(['--root-dir', root, '--port', String(port),
      '--port-retries', '0', '--token', token], env);
    await page.goto(`http://127.0.0.1:${port}/lab/tree/Untitled.ipynb?token=${token}`);
    await outputOfCell(page, 0).filter({ hasText: '45' }).waitFor({ timeout: 60000 });
    await page.locator('.jp-MarkdownOutput h1', { hasText: 'Rendered' }).waitFor();
    await runInLastCell(page, 'print(6*7)');
    await page.locator('.jp-OutputArea-output', { hasText: '42' }).waitFor({ timeout: 60000 });
    await shot(page, '07-server-restarted');
    assert.deepEqual(errors, [], 'no page errors or server errors');
  } catch (e) {
    e.message += `\n4xx responses: ${JSON.stringify(errorsSeen?.clientErrors ?? [])}` +
      `\nserver output:\n${server.output().slice(-4000)}`;
    throw e;
  } finally {
    await browser.close();
    await server.stop();
  }
});
