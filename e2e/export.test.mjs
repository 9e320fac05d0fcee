// Downloads from JupyterLab: a notebook through File > Save and Export
// Notebook As > Executable Script, and folders through the file browser's
// archive submenus. Also checks that the HTML export, opened in the
// browser, runs its scripts in an opaque origin.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { collectErrors, launchBrowser, shot, startServer, tempDir } from './harness.mjs';

const token = 'e2e' + Math.random().toString(16).slice(2);

const notebook = {
  cells: [
    { cell_type: 'markdown', id: 'm1', metadata: {}, source: ['# Report\n', 'Numbers.'] },
    {
      cell_type: 'code', execution_count: 1, id: 'c1', metadata: {},
      outputs: [
        { name: 'stdout', output_type: 'stream', text: ['6\n'] },
        {
          output_type: 'display_data', metadata: {},
          data: { 'text/html': ['<p id="out">output</p><script>window.outputRan = true;</script>'] },
        },
      ],
      source: ['total = 1 + 2 + 3\n', 'print(total)'],
    },
  ],
  metadata: {
    kernelspec: { name: 'python3', language: 'python', display_name: 'Python 3 (ipykernel)' },
    language_info: { name: 'python', file_extension: '.py', mimetype: 'text/x-python' },
  },
  nbformat: 4,
  nbformat_minor: 5,
};

// menuItem clicks the item with label in the open menu.
async function menuItem(page, label) {
  const item = page.locator('.lm-Menu:visible .lm-Menu-item', {
    has: page.locator('.lm-Menu-itemLabel', { hasText: new RegExp(`^${label}$`) }),
  }).last();
  await item.waitFor({ timeout: 15000 });
  await item.click();
}

test('notebook export and folder archive download', { timeout: 180000 }, async () => {
  const root = tempDir('jupygo-e2e-');
  writeFileSync(path.join(root, 'report.ipynb'), JSON.stringify(notebook, null, 1));
  mkdirSync(path.join(root, 'data', 'nested'), { recursive: true });
  writeFileSync(path.join(root, 'data', 'a.txt'), 'alpha\n');
  writeFileSync(path.join(root, 'data', 'nested', 'b.txt'), 'beta\n');
  const env = { JUPYTER_RUNTIME_DIR: tempDir('jupygo-e2e-runtime-'),
    JUPYTER_CONFIG_DIR: tempDir('jupygo-e2e-config-') };
  const server = await startServer(['--root-dir', root, '--port', '0', '--token', token,
    '--expose-app-in-browser'], env);
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 },
      acceptDownloads: true });
    const page = await context.newPage();
    const errors = collectErrors(page);
    // JupyterLab fills the export menu from /api/nbconvert once a notebook
    // opens. The server probes jupyter-nbconvert first, which takes seconds.
    const formatsListed = page.waitForResponse((r) => r.url().includes('/api/nbconvert'),
      { timeout: 60000 });
    await page.goto(server.url.replace(/\/lab\b/, '/lab/tree/report.ipynb'));
    await page.locator('.jp-Notebook .jp-Cell').first().waitFor({ timeout: 60000 });
    const formats = await (await formatsListed).json();

    // JupyterLab opens the export in a new window, which closes once the
    // download starts; Chromium reports the download on the opener too.
    const downloaded = page.waitForEvent('download', { timeout: 30000 });
    await page.locator('.lm-MenuBar-itemLabel', { hasText: /^File$/ }).click();
    await menuItem(page, 'Save and Export Notebook As');
    // The submenu has an item for each format the server listed.
    const items = page.locator('.lm-Menu:visible').last().locator('.lm-Menu-item');
    await shot(page, 'export-menu');
    assert.equal(await items.count(), Object.keys(formats).length,
      `export menu items for the formats ${Object.keys(formats)}`);
    await menuItem(page, 'Executable Script');
    const script = await downloaded;
    assert.equal(script.suggestedFilename(), 'report.py', 'file name of the script');
    const text = readFileSync(await script.path(), 'utf8');
    assert.match(text, /^#!\/usr\/bin\/env python\n/, 'script starts with a shebang');
    assert.match(text, /total = 1 \+ 2 \+ 3\nprint\(total\)\n/, 'script has the code cell');
    assert.match(text, /# # Report\n/, 'script has the markdown cell as a comment');

    // The folder archive, from the context menu of the folder.
    await page.locator('.jp-DirListing-item[title^="Name: data"]').first().click({ button: 'right' });
    const archiveDownload = page.waitForEvent('download');
    await menuItem(page, 'Download as an Archive');
    await shot(page, 'export-archive-menu');
    await menuItem(page, 'ZIP Archive');
    const archive = await archiveDownload;
    assert.equal(archive.suggestedFilename(), 'data.zip', 'file name of the archive');
    const zip = readFileSync(await archive.path());
    assert.equal(zip.subarray(0, 2).toString(), 'PK', 'archive is a zip file');
    for (const name of ['data/a.txt', 'data/nested/b.txt']) {
      assert.ok(zip.includes(Buffer.from(name)), `archive lists ${name}`);
    }

    // The folder shown, from the context menu of the listing.
    await page.locator('.jp-DirListing-content').click({ button: 'right', position: { x: 100, y: 300 } });
    const tarDownload = page.waitForEvent('download');
    await menuItem(page, 'Download Current Folder as an Archive');
    await menuItem(page, 'TAR GZ Archive');
    const tarball = await tarDownload;
    assert.equal(tarball.suggestedFilename(), `${path.basename(root)}.tar.gz`,
      'file name of the current folder\'s archive');
    const entries = gunzipSync(readFileSync(await tarball.path()));
    for (const name of ['/report.ipynb', '/data/nested/b.txt']) {
      assert.ok(entries.includes(Buffer.from(path.basename(root) + name)), `tarball has ${name}`);
    }
    await shot(page, 'export');
    assert.deepEqual([...errors], [], 'server errors and page errors');

    // The HTML export opened in the browser renders, and the script of
    // its output runs in an opaque origin, away from the server's
    // cookies and API.
    // It is opened from JupyterLab's page, as the server lets a cookie
    // session read exports only from its own pages.
    const [view] = await Promise.all([
      context.waitForEvent('page'),
      page.evaluate(() => window.open('/nbconvert/html/report.ipynb', '_blank')),
    ]);
    await view.locator('h1', { hasText: 'Report' }).waitFor({ timeout: 15000 });
    const sandbox = await view.evaluate(() => {
      let cookies;
      try {
        cookies = document.cookie;
      } catch (e) {
        cookies = e.name;
      }
      return { ran: window.outputRan === true, origin: window.origin, cookies };
    });
    assert.deepEqual(sandbox, { ran: true, origin: 'null', cookies: 'SecurityError' },
      'script of the HTML export');
    await shot(view, 'export-html');
  } finally {
    await browser.close();
    await server.stop();
  }
});
