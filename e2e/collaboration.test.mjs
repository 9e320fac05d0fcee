// JupyterLab with real-time collaboration turned on: the page boots with
// the collaboration extensions active, shows the Collaboration panel, and
// opens the global awareness room. Skipped when the jupygo binary has no
// --collaborative flag.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { bin, collectErrors, labShell, launchBrowser, shot, startServer, tempDir } from './harness.mjs';

const token = 'e2e' + Math.random().toString(16).slice(2);

// collaborationPlugins are the plugins that the page config disables while
// collaboration is off.
const collaborationPlugins = [
  ...['rtcGlobalAwareness', 'rtcPanel', 'userEditorCursors']
    .map((name) => `@jupyter/collaboration-extension:${name}`),
  ...['content-provider', 'forkManager', 'logger', 'statusBarTimeline',
    'websocket-provider-awareness-factory', 'websocket-provider-document-factory', 'yfile', 'ynotebook']
    .map((name) => `@jupyter/docprovider-extension:${name}`),
];

function hasCollaborativeFlag() {
  const help = spawnSync(bin, ['server', '--help'], { encoding: 'utf8' });
  return /-collaborative\b/.test(`${help.stdout}${help.stderr}`);
}

test('collaboration on boots the lab', { timeout: 120000, skip: !hasCollaborativeFlag() &&
    'jupygo server has no --collaborative flag' }, async () => {
  const env = {
    JUPYTER_RUNTIME_DIR: tempDir('jupygo-e2e-runtime-'),
    JUPYTER_CONFIG_DIR: tempDir('jupygo-e2e-config-'),
  };
  const server = await startServer(['--root-dir', tempDir('jupygo-e2e-'), '--port', '0',
    '--token', token, '--collaborative', '--expose-app-in-browser'], env);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors = collectErrors(page);
    const rooms = [];
    page.on('websocket', (ws) => {
      const url = new URL(ws.url());
      if (url.pathname.includes('/api/collaboration/room/')) rooms.push(url.pathname);
    });
    await page.goto(server.url);
    await labShell(page);

    const config = await page.evaluate(() =>
      JSON.parse(document.getElementById('jupyter-config-data').textContent));
    assert.equal(config.disableRTC, false, 'page config disableRTC');
    const disabled = collaborationPlugins.filter((id) => config.disabledExtensions.includes(id));
    assert.deepEqual(disabled, [], 'collaboration plugins in disabledExtensions');

    const plugins = await page.evaluate((ids) => ids.map((id) => [id, window.jupyterapp.hasPlugin(id),
      window.jupyterapp.isPluginActivated(id)]), collaborationPlugins);
    for (const [id, registered, activated] of plugins) {
      assert.equal(registered, true, `plugin ${id} registered`);
      assert.equal(activated, true, `plugin ${id} activated`);
    }

    const tab = page.locator('.jp-SideBar [data-id="jp-collaboration-panel"]');
    await tab.waitFor({ timeout: 30000 });
    await tab.click();
    await page.locator('#jp-collaboration-panel').waitFor({ state: 'visible', timeout: 30000 });
    await shot(page, 'collaboration-panel');
    assert.ok(rooms.some((p) => p.endsWith('/api/collaboration/room/JupyterLab:globalAwareness')),
      `global awareness room not opened; rooms: ${rooms.join(', ')}`);
    assert.deepEqual([...errors], [], 'server errors and page errors');
  } finally {
    await browser.close();
    await server.stop();
  }
});
