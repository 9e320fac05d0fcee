// JupyterLab's File > Shut Down against a real jupygo server: the menu
// entry shows, and confirming it stops the server with its kernel.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import {
  collectErrors, launchBrowser, newNotebook, shot, startServer, tempDir, waitFor,
} from './harness.mjs';

const token = 'e2e' + Math.random().toString(16).slice(2);

test('File > Shut Down stops the server', { timeout: 120000 }, async () => {
  const root = tempDir('jupygo-e2e-');
  const runtime = tempDir('jupygo-e2e-runtime-');
  const env = { JUPYTER_RUNTIME_DIR: runtime, JUPYTER_CONFIG_DIR: tempDir('jupygo-e2e-config-') };
  const server = await startServer(['--root-dir', root, '--port', '0', '--token', token], env);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors = collectErrors(page);
    await page.goto(server.url);
    await newNotebook(page);
    assert.ok(readdirSync(runtime).some((f) => /^kernel-.*\.json$/.test(f)),
      'no kernel connection file while the notebook runs');

    await page.locator('.lm-MenuBar-itemLabel', { hasText: /^File$/ }).click();
    await page.locator('.lm-Menu-itemLabel', { hasText: /^Shut Down$/ }).click();
    await page.locator('.jp-Dialog button', { hasText: /^Shut Down$/ }).click();
    await page.locator('.jp-Dialog', { hasText: 'Server stopped' }).waitFor({ timeout: 30000 });
    await shot(page, 'shutdown-dialog');

    const code = await Promise.race([server.exited,
      new Promise((resolve) => setTimeout(() => resolve('still running'), 30000))]);
    assert.equal(code, 0, 'exit code of the server after File > Shut Down');
    await waitFor('the kernel connection file to be removed',
      () => !readdirSync(runtime).some((f) => /^kernel-.*\.json$/.test(f)), 5000);
    assert.deepEqual([...errors], [], 'server errors and page errors');
  } finally {
    await browser.close();
    await server.stop();
  }
});
