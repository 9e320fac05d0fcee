// JupyterLab's terminal against a real jupygo server: open one from the
// launcher, run a command, resize it, and find it again after a reload.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectErrors, launchBrowser, shot, startServer, tempDir, waitFor } from './harness.mjs';

const token = 'e2e' + Math.random().toString(16).slice(2);

// screenText returns the lines of the current terminal's screen and
// scrollback, read from JupyterLab's xterm.js instance, because its
// renderer draws on a canvas.
function screenText(page) {
  return page.evaluate(() => {
    const term = window.jupyterapp.shell.currentWidget?.content?._term;
    if (!term) return '';
    const buffer = term.buffer.active;
    const lines = [];
    for (let i = 0; i < buffer.length; i++) {
      lines.push(buffer.getLine(i).translateToString(true));
    }
    return lines.join('\n');
  });
}

// terminalSize returns the rows and columns of the current terminal.
function terminalSize(page) {
  return page.evaluate(() => {
    const term = window.jupyterapp.shell.currentWidget.content._term;
    return { rows: term.rows, cols: term.cols };
  });
}

// typeLine focuses the terminal and types line with Enter.
async function typeLine(page, line) {
  await page.locator('.jp-Terminal .xterm').first().click();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

// waitScreen waits until a line of the terminal's screen matches re.
function waitScreen(page, what, re) {
  return waitFor(what, async () => (await screenText(page)).split('\n').some((l) => re.test(l)));
}

// api sends a token-authenticated GET to the server and returns the JSON.
async function api(server, path) {
  const base = server.url.slice(0, server.url.indexOf('/lab'));
  const resp = await fetch(`${base}/${path}`, { headers: { Authorization: `token ${token}` } });
  assert.equal(resp.status, 200, `GET ${path}`);
  return resp.json();
}

test('terminal from launcher survives a reload', { timeout: 180000 }, async () => {
  const root = tempDir('jupygo-e2e-term-');
  const env = { JUPYTER_RUNTIME_DIR: tempDir('jupygo-e2e-runtime-'),
    JUPYTER_CONFIG_DIR: tempDir('jupygo-e2e-config-'), SHELL: '/bin/bash' };
  const server = await startServer(['--root-dir', root, '--port', '0', '--token', token,
    '--expose-app-in-browser'], env);
  const browser = await launchBrowser();
  let errors = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    errors = collectErrors(page);

    // The launcher offers a terminal.
    await page.goto(server.url);
    const card = page.locator('.jp-LauncherCard[data-category="Other"]', { hasText: 'Terminal' });
    await card.first().waitFor({ timeout: 60000 });
    await shot(page, 'terminal-01-launcher');

    // Open it and run a command.
    await card.first().click();
    await page.locator('.jp-Terminal .xterm').first().waitFor({ timeout: 30000 });
    await waitFor('a shell prompt', async () => (await screenText(page)).trim() !== '');
    await typeLine(page, 'echo $((6*7))');
    await waitScreen(page, '42 on the terminal', /^42\s*$/);
    await shot(page, 'terminal-02-echo');
    const running = await api(server, 'api/terminals');
    assert.deepEqual(running.map((t) => t.name), ['1']);

    // Resize the page: the terminal refits and the shell sees its size.
    await page.setViewportSize({ width: 900, height: 560 });
    await waitFor('the terminal to refit', async () => (await terminalSize(page)).rows > 0);
    await new Promise((r) => setTimeout(r, 500)); // the refit is debounced
    const size = await terminalSize(page);
    await typeLine(page, 'stty size');
    await waitScreen(page, `stty size ${size.rows} ${size.cols}`,
      new RegExp(`^${size.rows} ${size.cols}\\s*$`));
    await shot(page, 'terminal-03-resized');

    // Reload: JupyterLab restores the tab and connects to the same
    // terminal, which replays its recent output.
    await waitFor('the workspace to hold the terminal', async () =>
      JSON.stringify(await api(server, 'lab/api/workspaces/default')).includes('terminal:1'));
    await page.reload();
    await page.locator('.jp-Terminal .xterm').first().waitFor({ timeout: 60000 });
    await waitScreen(page, '42 replayed after the reload', /^42\s*$/);
    await typeLine(page, 'echo again-$((6*7))');
    await waitScreen(page, 'again-42 after the reload', /^again-42\s*$/);
    await shot(page, 'terminal-04-reloaded');
    const after = await api(server, 'api/terminals');
    assert.deepEqual(after.map((t) => t.name), ['1'], 'the reload started no new terminal');
    assert.deepEqual(errors.filter((e) => !e.startsWith('page error')), []);
  } catch (e) {
    e.message += `\nerrors: ${errors.join('\n')}\nserver:\n${server.output()}`;
    throw e;
  } finally {
    await browser.close();
    await server.stop();
  }
});
