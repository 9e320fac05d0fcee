// `jupygo hub` in a real browser: sign-in, spawning, JupyterLab through
// the built-in proxy, isolation between users, the admin page, named
// servers and a restart of the hub under an open notebook.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  artifacts, collectErrors, kernelID, kernelIdle, labShell, launchBrowser, newNotebook, runCell,
  saveNotebook, shot, tempDir, typeInCell, userIdentity, waitCells, waitFor,
} from './harness.mjs';
import {
  changePassword, hubAPI, killLeftovers, processGone, processesUnder, serverPID, signIn,
  slowStart, startHub, stopAllServers, writeConfig,
} from './hubharness.mjs';

const adminPassword = 'the admin password of the e2e tests';
const viewport = { width: 1280, height: 800 };

// withHub runs body against a new hub with its own data folder and
// configuration, and a browser. Afterwards it stops every user server
// through the hub's API, stops the hub and fails the test when a process
// of the data folder is left. body may replace ctx.hub, as a restart does.
async function withHub(name, options, body) {
  const dir = tempDir(`jupygo-e2e-hub-${name}-`);
  const dataDir = path.join(dir, 'data');
  const ctx = { dir, dataDir, config: writeConfig(dir, options), pages: [], earlierOutput: '' };
  ctx.hub = await startHub({ dataDir, config: ctx.config, cwd: dir });
  ctx.browser = await launchBrowser();
  let failure;
  try {
    await body(ctx);
  } catch (e) {
    failure = e;
    for (const [i, page] of ctx.pages.entries()) {
      await shot(page, `hub-${name}-failure-${i}`).catch(() => {});
    }
    e.message += `\nhub output:\n${hubOutput(ctx).slice(-6000)}`;
  }
  try {
    await ctx.browser.close();
    await stopAllServers(ctx.hub);
  } catch (e) {
    failure ??= e;
  } finally {
    writeFileSync(path.join(artifacts, `hub-${name}.log`), hubOutput(ctx));
    await ctx.hub.stop();
  }
  const left = killLeftovers(dataDir);
  if (failure) throw failure;
  assert.deepEqual(left, [], 'processes of the data folder left after the test');
  // A failed test keeps its folder, with the servers' logs, for a look.
  rmSync(dir, { recursive: true, force: true });
}

// hubOutput returns what the test's hubs have printed, the earlier ones
// first.
function hubOutput(ctx) {
  return ctx.earlierOutput + ctx.hub.output();
}

// restartHub stops the hub with SIGTERM, or kills it when crash is set,
// and starts a new one on the same port with the same data folder and
// configuration.
async function restartHub(ctx, { crash = false } = {}) {
  if (crash) {
    await ctx.hub.crash();
  } else {
    assert.equal(await ctx.hub.stop(), 0, 'hub exits cleanly on SIGTERM');
  }
  ctx.earlierOutput += ctx.hub.output() + '\n--- hub restarted ---\n';
  ctx.hub = await startHub({ dataDir: ctx.dataDir, config: ctx.config, port: ctx.hub.port,
    cwd: ctx.dir });
}

// newPage opens a page in a new browser context, one per person, and
// remembers it for the failure screenshots.
async function newPage(ctx) {
  const context = await ctx.browser.newContext({ viewport });
  const page = await context.newPage();
  page.errors = collectErrors(page);
  ctx.pages.push(page);
  return page;
}

// signInAdmin signs in as the first admin with the printed one-time
// password and replaces it.
async function signInAdmin(ctx, page) {
  assert.ok(ctx.hub.password, 'the first start printed a one-time password');
  await signIn(page, ctx.hub, ctx.hub.admin, ctx.hub.password);
  await changePassword(page, ctx.hub.password, adminPassword);
}

// startFromHome clicks the home page's start button, and resolves once
// JupyterLab runs at the user's default server.
async function startFromHome(page, hub, user) {
  await page.goto(new URL('hub/home', hub.url).href);
  await page.click('button:has-text("Start my server")');
  await page.waitForURL(new URL(`user/${user}/lab`, hub.url).href + '**', { timeout: 60000 });
  await labShell(page);
}

// waitForLabShell waits until page shows JupyterLab's shell at a URL that
// starts with url. JupyterLab 4.6 attaches its shell only after its window
// resolver has claimed a workspace name for the window. When another window
// of the same browser context and origin has claimed that name, JupyterLab
// loads lab/workspaces/auto-X?reset=1 instead, and a page.goto started
// meanwhile is interrupted. Once the shell shows, no such reload is pending.
async function waitForLabShell(page, url) {
  await page.waitForURL(url + '**', { timeout: 60000 });
  await page.locator('#jp-main-dock-panel').waitFor({ timeout: 60000 });
}

// addUser adds a user with a temporary password on the admin page.
async function addUser(admin, hub, user) {
  await admin.goto(new URL('hub/admin', hub.url).href);
  await admin.fill('#usernames', user);
  await admin.fill('#password', `a temporary password for ${user}`);
  await admin.click('button:has-text("Add users")');
  await admin.locator('td', { hasText: new RegExp(`^${user}$`) }).waitFor();
}

// signInNewUser signs in as a user that addUser made and replaces the
// temporary password.
async function signInNewUser(page, hub, user) {
  const temporary = `a temporary password for ${user}`;
  await signIn(page, hub, user, temporary);
  await changePassword(page, temporary, `${user} has chosen this password`);
}

test('admin signs in, runs a cell, logs out', { timeout: 180000 }, async () => {
  await withHub('first', { spawnerCmd: slowStart(2) }, async (ctx) => {
    const page = await newPage(ctx);
    await signIn(page, ctx.hub, ctx.hub.admin, ctx.hub.password);
    await shot(page, 'hub-01-password');
    await changePassword(page, ctx.hub.password, adminPassword);

    // The server takes two seconds to start, so the hub shows its
    // progress page, which moves on to JupyterLab by itself.
    await page.goto(new URL('hub/home', ctx.hub.url).href);
    await shot(page, 'hub-02-home');
    await page.click('button:has-text("Start my server")');
    await page.waitForURL(/\/hub\/spawn-pending\/admin/);
    await page.locator('#progress-bar').waitFor();
    await shot(page, 'hub-03-spawn-pending');
    await page.waitForURL(new URL('user/admin/lab', ctx.hub.url).href + '**', { timeout: 60000 });
    await labShell(page);
    await shot(page, 'hub-04-lab');

    await newNotebook(page);
    await runCell(page, 'print(6*7)', '42');
    await shot(page, 'hub-05-executed');

    // The server and its kernel are what the cleanup looks for, so the
    // check that none is left can fail.
    const pid = await serverPID(ctx.hub, 'admin');
    const found = processesUnder(ctx.dataDir);
    assert.ok(found.some((p) => p.pid === pid), `server ${pid} among ${JSON.stringify(found)}`);
    assert.ok(found.some((p) => p.cmdline.includes('ipykernel')),
      `a kernel among ${JSON.stringify(found)}`);

    // Logging out from JupyterLab ends the hub session and the server's
    // own session, so JupyterLab then requires a sign-in again.
    await page.evaluate(() => window.jupyterapp.commands.execute('hub:logout'));
    await page.waitForURL(/\/hub\/login/);
    await shot(page, 'hub-06-logged-out');
    await page.goto(new URL('user/admin/lab', ctx.hub.url).href);
    assert.match(new URL(page.url()).pathname, /^\/hub\/login/, 'JupyterLab after the logout');
    const status = await page.evaluate(async () => (await fetch('/user/admin/api/status')).status);
    assert.equal(status, 403, 'server API with the cookies left after the logout');
    assert.deepEqual([...page.errors], [], 'no page errors or server errors');
  });
});

test('token page creates and revokes', { timeout: 120000 }, async () => {
  await withHub('token', {}, async (ctx) => {
    const page = await newPage(ctx);
    await signInAdmin(ctx, page);
    await page.goto(new URL('hub/token', ctx.hub.url).href);
    await page.fill('#note', 'e2e script');
    await page.click('button:has-text("Request new API token")');
    const token = (await page.locator('code.token').textContent()).trim();
    await shot(page, 'hub-07-token');
    const whoami = async () => {
      const resp = await fetch(new URL('hub/api/user', ctx.hub.url),
        { headers: { Authorization: `token ${token}` } });
      return { status: resp.status, body: await resp.json() };
    };
    const before = await whoami();
    assert.equal(before.status, 200, `the new token: ${JSON.stringify(before.body)}`);
    assert.equal(before.body.name, 'admin', 'owner of the new token');

    const row = page.locator('tr', { hasText: 'e2e script' });
    await row.locator('button:has-text("Revoke")').click();
    await row.waitFor({ state: 'detached' });
    assert.equal((await whoami()).status, 403, 'the revoked token');
  });
});

test('failed start shows its error', { timeout: 120000 }, async () => {
  const failing = ['/bin/sh', '-c', 'sleep 2; echo "no such notebook folder" >&2; exit 3'];
  await withHub('failed', { spawnerCmd: failing }, async (ctx) => {
    const page = await newPage(ctx);
    await signInAdmin(ctx, page);
    await page.goto(new URL('hub/home', ctx.hub.url).href);
    await page.click('button:has-text("Start my server")');
    await page.waitForURL(/\/hub\/spawn-pending\/admin/);
    await page.locator('#progress-bar').waitFor();

    // The progress stream reports the failure, and the page reloads into
    // the error with a button to try again.
    await page.locator('h1', { hasText: 'The server did not start' }).waitFor({ timeout: 60000 });
    await shot(page, 'hub-08-start-failed');
    const message = await page.locator('.error').textContent();
    assert.match(message, /exit status 3/, `the error names the exit: ${message}`);
    assert.match(message, /no such notebook folder/, `the error shows the output: ${message}`);
    assert.equal(await page.locator('button:has-text("Try again")').count(), 1, 'try-again button');
    const { body } = await hubAPI(ctx.hub, 'GET', 'users/admin');
    assert.deepEqual(body.servers, {}, 'no server listed after the failed start');
  });
});

test('server access between users', { timeout: 180000 }, async () => {
  await withHub('users', {}, async (ctx) => {
    const admin = await newPage(ctx);
    await signInAdmin(ctx, admin);
    await startFromHome(admin, ctx.hub, 'admin');

    // The admin adds bob with a password, which bob must replace.
    await addUser(admin, ctx.hub, 'bob');
    await shot(admin, 'hub-09-admin-added-bob');
    // Bob follows a link to his server before he has signed in. After the
    // sign-in and the new password he is back at the link, which offers
    // to start the server.
    const bob = await newPage(ctx);
    await bob.goto(new URL('user/bob/lab', ctx.hub.url).href);
    await bob.waitForURL(/\/hub\/login/);
    await bob.fill('#username', 'bob');
    await bob.fill('#password', 'a temporary password for bob');
    await bob.click('button[type=submit]');
    await changePassword(bob, 'a temporary password for bob', 'bob has chosen this password');
    await bob.locator('a', { hasText: 'Launch server' }).click();
    await bob.waitForURL(new URL('user/bob/lab', ctx.hub.url).href + '**', { timeout: 60000 });
    await labShell(bob);
    await shot(bob, 'hub-10-bob-lab');
    const adminPID = await serverPID(ctx.hub, 'admin');
    const bobPID = await serverPID(ctx.hub, 'bob');
    assert.ok(adminPID > 0, 'admin server has a pid');
    assert.ok(bobPID > 0, 'bob server has a pid');
    assert.notEqual(adminPID, bobPID, 'admin and bob share a server process');

    // Bob at the admin's URL is turned away, wherever the redirects lead.
    const statuses = [];
    bob.on('response', (r) => statuses.push(`${r.status()} ${new URL(r.url()).pathname}`));
    const resp = await bob.goto(new URL('user/admin/lab', ctx.hub.url).href);
    await shot(bob, 'hub-11-bob-at-admin');
    const landed = new URL(bob.url()).pathname;
    assert.ok(resp.status() === 403 || landed.startsWith('/hub/') || landed.startsWith('/user/bob/'),
      `bob at /user/admin/lab got ${resp.status()} at ${landed}; responses: ${statuses}`);
    assert.equal(await bob.locator('#jp-main-dock-panel').count(), 0,
      'no JupyterLab on the page bob was sent to');
    assert.ok(!landed.startsWith('/user/admin/'), `bob stayed on ${landed}`);
    // Nor can bob's page reach the admin's server API with his cookies.
    const api = await bob.evaluate(async () => (await fetch('/user/admin/api/status')).status);
    assert.notEqual(api, 200, 'bob reads the admin server status');

    const adminPage = await bob.goto(new URL('hub/admin', ctx.hub.url).href);
    assert.equal(adminPage.status(), 403, 'bob at the admin page');

    // The admin may open bob's server, after confirming on the hub's page,
    // and gets bob's JupyterLab, not his own.
    await admin.goto(new URL('user/bob/lab', ctx.hub.url).href);
    await admin.locator('h1', { hasText: 'Authorize access' }).waitFor();
    await shot(admin, 'hub-12-admin-authorizes');
    await admin.click('button:has-text("Authorize")');
    await admin.waitForURL(new URL('user/bob/lab', ctx.hub.url).href + '**');
    await labShell(admin);
    // As in JupyterHub, hubUser is who views the page, and the server's
    // owner is hubServerUser.
    const config = await admin.evaluate(() =>
      JSON.parse(document.getElementById('jupyter-config-data').textContent));
    assert.equal(config.hubServerUser, 'bob', 'owner of the server the admin opened');
    assert.equal(config.hubUser, 'admin', 'viewer of bob\'s server');
  });
});

test('admin stops and deletes a user', { timeout: 180000 }, async () => {
  await withHub('stop', {}, async (ctx) => {
    const admin = await newPage(ctx);
    await signInAdmin(ctx, admin);
    await addUser(admin, ctx.hub, 'carol');
    const carol = await newPage(ctx);
    await signInNewUser(carol, ctx.hub, 'carol');
    await startFromHome(carol, ctx.hub, 'carol');
    await newNotebook(carol);
    const pid = await serverPID(ctx.hub, 'carol');
    assert.ok(pid > 0, 'carol server has a pid');

    await admin.goto(new URL('hub/admin', ctx.hub.url).href);
    const row = admin.locator('tr', { has: admin.locator('td', { hasText: /^carol$/ }) });
    await row.locator('button:has-text("Stop")').click();
    await row.locator('.muted', { hasText: 'stopped' }).waitFor();
    await shot(admin, 'hub-13-admin-stopped-carol');
    await waitFor(`carol server process ${pid} to exit`, () => processGone(pid));

    // Carol's JupyterLab polls its server, gets the hub's 424 and offers
    // to start the server again.
    const dialog = carol.locator('.jp-Dialog', { hasText: 'Server unavailable or unreachable' });
    await dialog.waitFor({ timeout: 60000 });
    await shot(carol, 'hub-14-carol-sees-stopped');
    const status = await carol.evaluate(async () => (await fetch('/user/carol/api/status')).status);
    assert.equal(status, 424, 'carol server API after the stop');

    // The dialog's Restart button opens the hub's /hub/spawn in a new tab,
    // which starts carol's server again and leads to JupyterLab.
    const [restarted] = await Promise.all([carol.context().waitForEvent('page'),
      dialog.locator('button', { hasText: 'Restart' }).click()]);
    ctx.pages.push(restarted);
    await restarted.waitForURL(new URL('user/carol/lab', ctx.hub.url).href + '**',
      { timeout: 60000 });
    await labShell(restarted);
    await shot(restarted, 'hub-15-carol-restarted');
    const newPID = await serverPID(ctx.hub, 'carol');
    assert.ok(newPID > 0, 'carol server has a pid after the restart');
    assert.notEqual(newPID, pid, 'carol server runs in a new process');

    // Deleting carol on the admin page stops her running server first.
    await admin.goto(new URL('hub/admin', ctx.hub.url).href);
    await row.locator('button:has-text("Delete user")').click();
    await admin.locator('.notice', { hasText: 'Deleted carol' }).waitFor();
    assert.equal(await row.count(), 0, 'carol still listed on the admin page');
    await waitFor(`carol server process ${newPID} to exit`, () => processGone(newPID));
    assert.equal((await hubAPI(ctx.hub, 'GET', 'users/carol')).status, 404, 'carol after deletion');
  });
});

test('named server runs beside the default one', { timeout: 180000 }, async () => {
  // Slow starts send both servers through the spawn-pending page.
  const options = { jupyterHub: 'allow_named_servers = true', spawnerCmd: slowStart(1.5) };
  await withHub('named', options, async (ctx) => {
    const page = await newPage(ctx);
    await signInAdmin(ctx, page);
    await startFromHome(page, ctx.hub, 'admin');
    await newNotebook(page);
    await runCell(page, "print('default', 6*7)", 'default 42');
    await shot(page, 'hub-16-default-server');

    // The home page adds and starts the named server "work".
    const work = await page.context().newPage();
    ctx.pages.push(work);
    await work.goto(new URL('hub/home', ctx.hub.url).href);
    await work.fill('#server_name', 'work');
    await work.click('button:has-text("Add new server")');
    await work.waitForURL(/\/hub\/spawn-pending\/admin\/work/);
    // The default server's window has claimed the default workspace, so
    // work's JupyterLab usually reloads itself at a workspace of its own.
    await waitForLabShell(work, new URL('user/admin/work/', ctx.hub.url).href);
    // JupyterLab keeps its workspace in the home folder, which both servers
    // share, as with jupyterlab_server. So the named server's JupyterLab may
    // restore the notebook opened above; ?reset starts from the launcher.
    await work.goto(new URL('user/admin/work/lab?reset', ctx.hub.url).href);
    await labShell(work);
    await newNotebook(work);
    await runCell(work, "print('work', 6*7)", 'work 42');
    await shot(work, 'hub-17-named-server');

    // Both run at once, as two processes, and the first still works.
    const [defaultPID, workPID] = [await serverPID(ctx.hub, 'admin'),
      await serverPID(ctx.hub, 'admin', 'work')];
    assert.ok(defaultPID > 0, 'default server has a pid');
    assert.ok(workPID > 0, 'named server has a pid');
    assert.notEqual(defaultPID, workPID, 'both servers in one process');
    assert.ok(!processGone(defaultPID), `default server ${defaultPID} runs`);
    assert.ok(!processGone(workPID), `named server ${workPID} runs`);
    await page.bringToFront();
    await runCell(page, "print('default again')", 'default again');
    const home = await page.context().newPage();
    ctx.pages.push(home);
    await home.goto(new URL('hub/home', ctx.hub.url).href);
    await home.locator('td a', { hasText: '/user/admin/work/' }).waitFor();
    await shot(home, 'hub-18-home-two-servers');

    // Stopping "work" from the home page leaves the default server alone.
    const workRow = home.locator('tr', { has: home.locator('td', { hasText: /^work$/ }) });
    await workRow.locator('button:has-text("Stop")').click();
    await waitFor(`named server process ${workPID} to exit`, () => processGone(workPID));
    assert.ok(!processGone(defaultPID), 'default server runs after the named one stopped');

    // work's JupyterLab now reaches the hub's 424 for work, not the default
    // server, so it offers to restart work while the default server runs.
    const dialog = work.locator('.jp-Dialog', { hasText: 'Server unavailable or unreachable' });
    await dialog.waitFor({ timeout: 60000 });
    const [restarted] = await Promise.all([work.context().waitForEvent('page'),
      dialog.locator('button', { hasText: 'Restart' }).click()]);
    ctx.pages.push(restarted);
    await restarted.waitForURL(new URL('user/admin/work/', ctx.hub.url).href + '**',
      { timeout: 60000 });
    await labShell(restarted);
    const again = await serverPID(ctx.hub, 'admin', 'work');
    assert.ok(again > 0, 'named server has a pid after the restart');
    assert.notEqual(again, workPID, 'named server runs in a new process');
    assert.equal(await serverPID(ctx.hub, 'admin'), defaultPID, 'default server kept its process');
    assert.ok(!processGone(defaultPID), 'default server runs after work restarted');
  });
});

test('hub restart keeps the kernel and the page', { timeout: 180000 }, async () => {
  await withHub('restart', {}, async (ctx) => {
    const page = await newPage(ctx);
    await signInAdmin(ctx, page);
    await startFromHome(page, ctx.hub, 'admin');
    await newNotebook(page);
    await runCell(page, 'answer = 6*7\nprint(answer)', '42');
    const kernel = await kernelID(page);
    const pid = await serverPID(ctx.hub, 'admin');
    await shot(page, 'hub-19-before-restart');

    // SIGTERM ends the hub but not the server. The new hub takes the same
    // port and data folder and finds the server again.
    await restartHub(ctx);
    assert.ok(!processGone(pid), 'the server outlives the hub');
    assert.equal(ctx.hub.password, undefined, 'no new one-time password');
    assert.equal(await serverPID(ctx.hub, 'admin'), pid, 'server pid after the restart');

    // The open page reconnects to the same kernel, whose state is kept.
    // The hub's restart closed the kernel's WebSocket, and JupyterLab,
    // after one failed attempt while no hub listened, retries only 10 to
    // 30 seconds later.
    await kernelIdle(page);
    await runCell(page, "print('still', answer)", 'still 42');
    assert.equal(await page.locator('.jp-Dialog').count(), 0, 'no dialog after the restart');

    // Saving goes through the new hub's proxy to the same server.
    await saveNotebook(page);
    const file = path.join(ctx.dataDir, 'users', 'admin', 'Untitled.ipynb');
    const cellsOnDisk = () => {
      try {
        return JSON.parse(readFileSync(file, 'utf8')).cells.map((c) => [].concat(c.source).join(''));
      } catch {
        return [];
      }
    };
    await waitFor(`the cell run after the restart in ${file}`,
      () => cellsOnDisk().includes("print('still', answer)"));
    assert.equal(await kernelID(page), kernel, 'kernel id after the restart');
    const { body } = await hubAPI(ctx.hub, 'GET', 'users/admin');
    assert.ok(body.servers[''].ready, `server ready after the restart: ${JSON.stringify(body)}`);
    await shot(page, 'hub-20-after-restart');
  });
});

test('hub crash during a start leaves no process', { timeout: 120000 }, async () => {
  await withHub('crash', { spawnerCmd: slowStart(3) }, async (ctx) => {
    const page = await newPage(ctx);
    await signInAdmin(ctx, page);
    await page.goto(new URL('hub/home', ctx.hub.url).href);
    await page.click('button:has-text("Start my server")');
    await page.waitForURL(/\/hub\/spawn-pending\/admin/);
    const pid = await waitFor('the starting server pid', () => serverPID(ctx.hub, 'admin'));
    assert.ok(!processGone(pid), `starting server ${pid} runs`);

    // The new hub finds the start that the killed hub left pending and
    // stops its process, which nothing would stop otherwise.
    await restartHub(ctx, { crash: true });
    await waitFor(`process ${pid} of the interrupted start to end`, () => processGone(pid));
    const { body } = await hubAPI(ctx.hub, 'GET', 'users/admin');
    assert.deepEqual(body.servers, {}, 'no server listed after the restart');
    await page.goto(new URL('hub/home', ctx.hub.url).href);
    await page.locator('button', { hasText: 'Start my server' }).waitFor();
    await shot(page, 'hub-21-after-crash');
  });
});

test('owner shares the server from JupyterLab\'s share dialog', { timeout: 240000 }, async () => {
  // The OAuth tokens of JupyterLab carry the scopes that the dialog checks
  // when the signed-in user holds them, as the admin does.
  const spawner = 'oauth_client_allowed_scopes = ["shares!server", "read:users:name", ' +
    '"list:users", "list:groups"]';
  await withHub('share', { spawner }, async (ctx) => {
    const admin = await newPage(ctx);
    await signInAdmin(ctx, admin);
    await addUser(admin, ctx.hub, 'bob');
    await startFromHome(admin, ctx.hub, 'admin');

    // The dialog opens in its sharing form, which lists bob.
    admin.evaluate(() => { window.jupyterapp.commands.execute('collaboration:shared-link'); });
    const dialog = admin.locator('.jp-Dialog');
    await dialog.locator('.jp-Dialog-header', { hasText: 'Share Jupyter Server default' }).waitFor();
    await dialog.locator('.jp-ManageSharesBody-search-input').fill('bob');
    await dialog.locator('.jp-ManageSharesBody-user-item', { hasText: /^bob$/ }).click();
    await dialog.locator('.jp-ManageSharesBody-shares-table td', { hasText: /^bob$/ }).waitFor();
    await shot(admin, 'hub-20-share-dialog');
    let shares = await hubAPI(ctx.hub, 'GET', 'shares/admin/');
    assert.equal(shares.status, 200, `GET shares/admin/: ${JSON.stringify(shares.body)}`);
    assert.deepEqual(shares.body.items.map((s) => s.user?.name), ['bob'], 'shares after the dialog');

    // bob confirms the authorization and opens the admin's JupyterLab.
    const bob = await newPage(ctx);
    await signInNewUser(bob, ctx.hub, 'bob');
    await bob.goto(new URL('user/admin/lab', ctx.hub.url).href);
    await bob.locator('button:has-text("Authorize")').click();
    await bob.waitForURL(new URL('user/admin/lab', ctx.hub.url).href + '**', { timeout: 60000 });
    await labShell(bob);
    await shot(bob, 'hub-21-guest-lab');
    const who = await bob.evaluate(async () => (await fetch('api/me')).json());
    assert.equal(who.identity.username, 'bob', 'identity in the shared JupyterLab');

    // Revoke in the dialog ends the share.
    await dialog.locator('.jp-ManageSharesBody-shares-table button', { hasText: 'Revoke' }).click();
    await dialog.locator('.jp-ManageSharesBody-shares-table td',
      { hasText: 'Your server is not shared to anybody yet' }).waitFor();
    shares = await hubAPI(ctx.hub, 'GET', 'shares/admin/');
    assert.deepEqual(shares.body.items, [], 'shares after the revoke');
  });
});

test('two users edit a shared server\'s notebook', { timeout: 300000 }, async () => {
  await withHub('collab', { serverArgs: ['--collaborative'] }, async (ctx) => {
    const admin = await newPage(ctx);
    await signInAdmin(ctx, admin);
    await addUser(admin, ctx.hub, 'bob');
    await startFromHome(admin, ctx.hub, 'admin');
    const shared = await hubAPI(ctx.hub, 'POST', 'shares/admin/', { user: 'bob' });
    assert.equal(shared.status, 200, `POST shares/admin/: ${JSON.stringify(shared.body)}`);

    // The admin writes a notebook into the server, and both open it.
    const notebook = {
      cells: [{ cell_type: 'code', execution_count: null, id: 'c0', metadata: {}, outputs: [],
        source: 'x = 1' }],
      metadata: { kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    await admin.evaluate((content) => window.jupyterapp.serviceManager.contents.save('shared.ipynb',
      { type: 'notebook', format: 'json', content }), notebook);
    const notebookURL = new URL('user/admin/lab/tree/shared.ipynb?reset', ctx.hub.url).href;
    await admin.goto(notebookURL);
    const bob = await newPage(ctx);
    await signInNewUser(bob, ctx.hub, 'bob');
    await bob.goto(notebookURL);
    await bob.locator('button:has-text("Authorize")').click();
    await bob.waitForURL(new URL('user/admin/lab', ctx.hub.url).href + '**', { timeout: 60000 });
    for (const page of [admin, bob]) {
      await page.locator('.jp-Notebook .jp-Cell .cm-content').first().waitFor({ timeout: 60000 });
    }

    // Each is shown with their own name, and gets the other's typing.
    const ids = { admin: await userIdentity(admin), bob: await userIdentity(bob) };
    assert.equal(ids.admin.username, 'admin', 'identity of the owner');
    assert.equal(ids.bob.username, 'bob', 'identity of the guest');
    await typeInCell(bob, 0, '  # bob was here');
    await waitCells(admin, "bob's typing on the admin's page", (c) => c[0].source === 'x = 1  # bob was here');
    await typeInCell(admin, 0, ' and admin too');
    await waitCells(bob, "the admin's typing on bob's page",
      (c) => c[0].source === 'x = 1  # bob was here and admin too');
    for (const [page, other] of [[admin, ids.bob], [bob, ids.admin]]) {
      await page.locator('.jp-SideBar [data-id="jp-collaboration-panel"]').click();
      const entry = page.locator('#jp-collaboration-panel .jp-CollaboratorsList .jp-Collaborator',
        { hasText: other.display_name });
      await entry.first().waitFor({ timeout: 30000 });
      const initials = await entry.first().locator('.jp-CollaboratorIcon').textContent();
      assert.equal(initials.trim(), other.initials, `initials of ${other.username} in the panel`);
    }
    await shot(admin, 'hub-22-collab-admin');
    await shot(bob, 'hub-23-collab-bob');
  });
});
