// Two people on one notebook of a jupygo server with --collaborative: each
// gets the other's typing, cells, cursor and outputs, both appear in the
// Collaboration panel, a change made to the file on disk reaches both, and
// a server killed in the middle of the editing restarts with every edit
// that reached the other person, once.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  collectErrors, kernelIdle, launchBrowser, notebookCells, shot, startServer, tempDir, typeInCell,
  userIdentity, waitCells, waitFor,
} from './harness.mjs';

const token = 'e2e' + Math.random().toString(16).slice(2);

// notebook is the shared notebook as nbformat writes it: one code cell.
const notebook = {
  cells: [{
    cell_type: 'code', execution_count: null, id: 'c0', metadata: {}, outputs: [],
    source: ['x = 1'],
  }],
  metadata: {
    kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' },
  },
  nbformat: 4,
  nbformat_minor: 5,
};

// openNotebook opens the shared notebook in a new browser context, which
// is a new cookie session and so a new person.
async function openNotebook(browser, server, name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = collectErrors(page);
  const url = new URL(server.url);
  url.pathname = url.pathname.replace(/\/lab\/?$/, '/lab/tree/shared.ipynb');
  url.searchParams.set('reset', '');
  await page.goto(url.href);
  await page.locator('.jp-Notebook .jp-Cell .cm-content').first().waitFor({ timeout: 60000 });
  await waitCells(page, `${name}'s notebook to load`, (c) => c.length >= 1);
  return { page, errors, context };
}

// count returns how many times needle occurs in haystack.
function count(haystack, needle) {
  return haystack.split(needle).length - 1;
}

test('two people edit one notebook', { timeout: 600000 }, async () => {
  const root = tempDir('jupygo-e2e-collab-');
  const file = path.join(root, 'shared.ipynb');
  writeFileSync(file, JSON.stringify(notebook, null, 1) + '\n');
  const env = {
    JUPYTER_RUNTIME_DIR: tempDir('jupygo-e2e-runtime-'),
    JUPYTER_CONFIG_DIR: tempDir('jupygo-e2e-config-'),
    JUPYTER_DATA_DIR: tempDir('jupygo-e2e-data-'),
  };
  const args = ['--root-dir', root, '--token', token, '--collaborative', '--expose-app-in-browser',
    '--collab-save-delay', '5'];
  let server = await startServer([...args, '--port', '0'], env);
  const browser = await launchBrowser();
  let a, b;
  try {
    a = await openNotebook(browser, server, 'A');
    b = await openNotebook(browser, server, 'B');
    await shot(a.page, 'collab-01-a-opened');

    // A types into the cell, and the text reaches B.
    await typeInCell(a.page, 0, ' + 41');
    await waitCells(b.page, "A's typing on B's page", (c) => c[0].source === 'x = 1 + 41');
    await shot(b.page, 'collab-02-b-sees-typing');

    // B adds a cell, and the cell reaches A.
    await b.page.evaluate(() => window.jupyterapp.commands.execute('notebook:insert-cell-below'));
    await typeInCell(b.page, 1, "print('from B', x)");
    await waitCells(a.page, "B's new cell on A's page",
      (c) => c.length === 2 && c[1].source === "print('from B', x)");
    await shot(a.page, 'collab-03-a-sees-cell');

    // B's cursor shows in that cell on A's page, labelled with B's name.
    const idA = await userIdentity(a.page);
    const idB = await userIdentity(b.page);
    const cellOnA = a.page.locator('.jp-Notebook .jp-Cell').nth(1);
    await cellOnA.locator('.jp-remote-cursor').first().waitFor({ state: 'attached', timeout: 30000 });
    const flag = a.page.locator('.jp-remote-userFlag-name').first();
    await flag.waitFor({ state: 'attached', timeout: 30000 });
    const label = (await flag.textContent()).trim();
    assert.ok([idB.name, idB.display_name].includes(label),
      `cursor label ${JSON.stringify(label)} on A's page, want B's name ${JSON.stringify(idB.name)}`);

    // Both appear in the Collaboration panel.
    assert.notEqual(idA.username, idB.username, 'the two sessions are two people');
    for (const [page, other] of [[a.page, idB], [b.page, idA]]) {
      await page.locator('.jp-SideBar [data-id="jp-collaboration-panel"]').click();
      await page.locator('#jp-collaboration-panel').getByText(other.display_name).first()
        .waitFor({ timeout: 30000 });
    }
    await shot(a.page, 'collab-04-panel');

    // A runs both cells and B sees the output.
    await kernelIdle(a.page);
    await a.page.evaluate(() => window.jupyterapp.commands.execute('notebook:run-all-cells'));
    await waitCells(b.page, "the output of A's run on B's page", (c) => c[1].outputs.includes('from B 42'),
      60000);
    await shot(b.page, 'collab-05-b-sees-output');

    // A change made to the file on disk reaches both.
    await waitFor('the autosave of the output', () => readFileSync(file, 'utf8').includes('from B 42'));

    // Saving by hand after the autosave raises no File Changed dialog,
    // because the server puts the saved file's hash into the document.
    // The hash reaches B a moment after the file is written, and a save in
    // between would raise the dialog as it does with jupyter-collaboration.
    // The command waits for the dialog, so the test does not wait for it.
    await waitFor("the saved file's hash on B's page", async () => {
      const onDiskHash = createHash('sha256').update(readFileSync(file)).digest('hex');
      const hash = await b.page.evaluate(() =>
        window.jupyterapp.shell.currentWidget.context.model.sharedModel.getState('hash'));
      return hash === onDiskHash;
    });
    await b.page.evaluate(() => { window.jupyterapp.commands.execute('docmanager:save'); });
    const dialog = await b.page.locator('.jp-Dialog').waitFor({ timeout: 3000 }).then(() => true, () => false);
    if (dialog) await shot(b.page, 'collab-05b-dialog');
    assert.equal(dialog, false, 'a dialog opened on saving after the autosave');
    const onDisk = JSON.parse(readFileSync(file, 'utf8'));
    onDisk.cells[0].source = ['x = 2  # edited on disk'];
    writeFileSync(file, JSON.stringify(onDisk, null, 1) + '\n');
    for (const [page, name] of [[a.page, 'A'], [b.page, 'B']]) {
      await waitCells(page, `the disk edit on ${name}'s page`, (c) => c[0].source === 'x = 2  # edited on disk');
    }
    await shot(a.page, 'collab-06-disk-edit');

    // A types; once B has the text, the server has stored it. Then the
    // server is killed before its autosave (5 s after the last change),
    // and restarted on its port.
    await typeInCell(a.page, 1, '  # before the kill');
    await waitCells(b.page, "A's last typing on B's page", (c) => c[1].source.endsWith('# before the kill'));
    const port = server.port;
    server.kill();
    await server.exited;
    assert.equal(count(readFileSync(file, 'utf8'), '# before the kill'), 0,
      'the text typed before the kill was saved to the file before the kill');
    server = await startServer([...args, '--port', String(port)], env);

    // Both pages reconnect, and a third person opens the notebook fresh:
    // everyone has the text once and the two cells once.
    const c = await openNotebook(browser, server, 'C');
    for (const [page, name] of [[a.page, 'A'], [b.page, 'B'], [c.page, 'C']]) {
      await waitCells(page, `the text from before the kill on ${name}'s page once`, (cs) =>
        cs.length === 2 && count(cs[1].source, '# before the kill') === 1 &&
        cs[0].source === 'x = 2  # edited on disk', 60000);
    }
    await shot(c.page, 'collab-07-after-restart');
    await waitFor('the autosave after the restart', () => {
      const saved = readFileSync(file, 'utf8');
      return count(saved, '# before the kill') === 1 && JSON.parse(saved).cells.length === 2;
    }, 30000);
    await c.context.close();
  } catch (e) {
    e.message += `\nserver:\n${server.output()}`;
    if (a) e.message += `\nerrors of A: ${a.errors.join('\n')}`;
    if (b) e.message += `\nerrors of B: ${b.errors.join('\n')}`;
    throw e;
  } finally {
    await browser.close();
    await server.stop();
  }
});
