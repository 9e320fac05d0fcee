// A prebuilt JupyterLab extension installed in a JUPYTER_PATH folder loads
// into JupyterLab: the server lists it in the page config, serves its
// remote entry, and the frontend activates its plugin.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { collectErrors, launchBrowser, shot, startServer, tempDir } from './harness.mjs';

const token = 'e2e' + Math.random().toString(16).slice(2);
const name = 'jupygo-demo-extension';

// remoteEntry is a module-federation container written by hand, with only
// what frontend/src/bootstrap.js and main.js call: init, which joins no
// share scope, and get, which returns the factory of a module whose
// default export is one plugin.
const remoteEntry = `
window._JUPYTERLAB = window._JUPYTERLAB || {};
window._JUPYTERLAB[${JSON.stringify(name)}] = {
  init: async () => {},
  get: async () => () => ({
    __esModule: true,
    default: {
      id: '${name}:plugin',
      autoStart: true,
      activate: () => { document.body.dataset.demoExtension = 'activated'; },
    },
  }),
};
`;

test('a prebuilt extension activates', { timeout: 120000 }, async () => {
  const data = tempDir('jupygo-e2e-data-');
  const ext = path.join(data, 'labextensions', name);
  mkdirSync(path.join(ext, 'static'), { recursive: true });
  writeFileSync(path.join(ext, 'package.json'), JSON.stringify({
    name, version: '0.1.0',
    jupyterlab: { _build: { load: 'static/remoteEntry.js', extension: './extension' } },
  }));
  writeFileSync(path.join(ext, 'static', 'remoteEntry.js'), remoteEntry);

  const env = {
    JUPYTER_PATH: data,
    JUPYTER_RUNTIME_DIR: tempDir('jupygo-e2e-runtime-'),
    JUPYTER_CONFIG_DIR: tempDir('jupygo-e2e-config-'),
  };
  const server = await startServer(['--root-dir', tempDir('jupygo-e2e-'), '--port', '0',
    '--token', token], env);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors = collectErrors(page);
    await page.goto(server.url);
    await page.waitForFunction(() => document.body.dataset.demoExtension === 'activated',
      null, { timeout: 30000 });
    await page.locator('.jp-LabShell').waitFor({ timeout: 30000 });
    await shot(page, 'labextension');
    assert.deepEqual([...errors], [], 'server errors and page errors');
  } finally {
    await browser.close();
    await server.stop();
  }
});
