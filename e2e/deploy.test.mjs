// The single-machine deployment of docs/deploy.md in a real browser. A hub
// running as root serves HTTPS with a certificate from an ACME CA (pebble).
// People sign in with GitHub (the fake GitHub), the hub creates their system
// accounts, and each gets a JupyterLab server that runs as their own.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import {
  artifacts, collectErrors, labShell, newNotebook, runCell, saveNotebook, repo, shot, tempDir,
  userIdentity, userMenu, waitFor,
} from './harness.mjs';
import { e2eService, serverPID, startHub, stopAllServers } from './hubharness.mjs';
import {
  freePort, hubDomain, launchDeployBrowser, processUID, removeSystemAccount, setTOMLKeys,
  sharedBinary, startFakeGitHub, startPebble, statOrUndefined, systemAccount, verifiedChain,
} from './deployharness.mjs';

const viewport = { width: 1280, height: 800 };
const suffix = Math.random().toString(16).slice(2, 8);
// The GitHub logins. The hub lowercases them, and its user names are the
// names of the system accounts, so each run gets accounts of its own.
const ada = { login: `Ada-${suffix}`, name: `ada-${suffix}` };
const bob = { login: `Bob-${suffix}`, name: `bob-${suffix}` };
const eve = { login: `Eve-${suffix}`, name: `eve-${suffix}` };
// Ada's GitHub account has a name and an avatar, which the avatar server
// of the test serves. Bob's has his login as its name and no avatar.
ada.displayName = 'Ada Lovelace';
bob.displayName = bob.login;

// startAvatarServer serves an SVG avatar on a free loopback port, so that
// Chromium loads no image from elsewhere. It resolves with the avatar's
// url, the number of requests for it, and stop().
function startAvatarServer() {
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48">' +
    '<circle cx="24" cy="24" r="24" fill="#3f7fbf"/></svg>';
  const served = { requests: 0 };
  const server = http.createServer((req, res) => {
    if (req.url !== '/avatars/ada.svg') {
      res.writeHead(404).end();
      return;
    }
    served.requests++;
    res.writeHead(200, { 'Content-Type': 'image/svg+xml' }).end(svg);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      served.url = `http://127.0.0.1:${server.address().port}/avatars/ada.svg`;
      served.stop = () => new Promise((done) => server.close(done));
      resolve(served);
    });
  });
}

// checkUserMenu checks that the user menu in JupyterLab's top bar shows
// user's display name and, when avatar is given, that avatar, else the
// initials on the user's color.
async function checkUserMenu(page, user, avatar) {
  const menu = await userMenu(page);
  const identity = await userIdentity(page);
  assert.equal(identity.display_name, user.displayName, `display name of ${user.name}`);
  assert.equal(menu.label, user.displayName, `label of ${user.name}'s user menu`);
  if (avatar) {
    assert.equal(menu.avatar, avatar, `avatar of ${user.name}`);
    assert.ok(menu.avatarLoaded, `${user.name}'s avatar did not load`);
    assert.equal(menu.initials, null, `initials of ${user.name} beside the avatar`);
    return;
  }
  assert.equal(menu.avatar, null, `avatar of ${user.name}`);
  assert.equal(menu.initials, identity.initials, `initials of ${user.name}`);
  assert.ok(identity.color, `JupyterLab gave ${user.name} no color`);
  assert.equal(menu.color, identity.color, `background of ${user.name}'s initials`);
}

// hubConfig writes the hub's configuration into dir and returns its path:
// deploy/hub.toml with pebble in place of Let's Encrypt, the fake GitHub
// in place of github.com, the test's ports, names and binary, and the e2e
// service.
function hubConfig(dir, { pebble, github, port, redirectPort, binary }) {
  const secretFile = path.join(dir, 'github-client-secret');
  writeFileSync(secretFile, github.client_secret, { mode: 0o600 });
  const sample = readFileSync(path.join(repo, 'deploy', 'hub.toml'), 'utf8');
  const toml = (value) => JSON.stringify(value);
  const config = setTOMLKeys(sample, {
    JupyterHub: {
      ip: toml('127.0.0.1'),
      port,
      http_redirect_port: redirectPort,
      hub_port: 0,
      acme_domains: toml([hubDomain]),
      acme_email: toml('ops@jupygo.test'),
      acme_directory_url: toml(pebble.directoryURL),
      acme_ca_roots: toml(pebble.caFile),
      data_dir: toml(path.join(dir, 'data')),
    },
    Authenticator: {
      admin_users: toml([ada.login]),
      allowed_users: toml([bob.login]),
    },
    GitHubOAuthenticator: {
      client_id: toml(github.client_id),
      client_secret_file: toml(secretFile),
      github_url: toml(github.url),
      oauth_callback_url: toml(`https://${hubDomain}:${port}/hub/oauth_callback`),
    },
    Spawner: {
      cmd: toml([binary, 'server']),
      args: toml(['--expose-app-in-browser']),
    },
  });
  const file = path.join(dir, 'hub.toml');
  writeFileSync(file, `${config}\n${e2eService}`);
  return file;
}

// withDeployment starts pebble, the fake GitHub, the hub and a browser
// that trusts the hub's certificate, and runs body with them. Then, whether
// body failed or not, it stops everything and deletes the system accounts
// of the test's users with their homes.
async function withDeployment(body) {
  const dir = tempDir('jupygo-e2e-deploy-');
  const ctx = { dir, dataDir: path.join(dir, 'data'), pages: [] };
  const cleanups = [];
  // Only accounts that did not exist before the test are deleted after it.
  const users = [ada, bob, eve];
  const newUsers = users.filter((u) => !systemAccount(u.name));

  let failure;
  try {
    assert.deepEqual(newUsers, users, 'system accounts with the test\'s user names exist');
    await setUp(ctx, cleanups);
    await body(ctx);
  } catch (e) {
    failure = e;
    for (const [i, page] of ctx.pages.entries()) {
      await shot(page, `deploy-failure-${i}`).catch(() => {});
    }
    if (ctx.hub) e.message += `\nhub output:\n${ctx.hub.output().slice(-6000)}`;
  }

  const problems = [];
  for (const [what, cleanup] of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (e) {
      problems.push(`${what}: ${e.message}`);
    }
  }
  for (const user of newUsers) problems.push(...await removeSystemAccount(user.name));

  if (failure) throw failure;
  assert.deepEqual(problems, [], 'cleanup after the test');
  rmSync(dir, { recursive: true, force: true });
}

// setUp starts the pieces of the deployment into ctx and pushes a cleanup
// for each onto cleanups, as [what, function].
async function setUp(ctx, cleanups) {
  const binary = sharedBinary();
  cleanups.push(['removing the binary',
    () => rmSync(path.dirname(binary), { recursive: true, force: true })]);
  ctx.pebble = await startPebble(ctx.dir);
  cleanups.push(['stopping pebble', () => ctx.pebble.stop()]);

  ctx.avatars = await startAvatarServer();
  cleanups.push(['stopping the avatar server', () => ctx.avatars.stop()]);
  const [port, redirectPort] = [await freePort(), await freePort()];
  ctx.github = await startFakeGitHub(ctx.dir, {
    logins: [ada.login, bob.login, eve.login],
    callbackURL: `https://${hubDomain}:${port}/hub/oauth_callback`,
    profiles: { [ada.login]: { name: ada.displayName, avatar_url: ctx.avatars.url } },
  });
  cleanups.push(['stopping the fake GitHub', () => ctx.github.stop()]);

  const config = hubConfig(ctx.dir, { pebble: ctx.pebble, github: ctx.github, port,
    redirectPort, binary });
  ctx.hub = await startHub({ dataDir: ctx.dataDir, config, port, cwd: ctx.dir });
  ctx.redirectPort = redirectPort;
  cleanups.push(['stopping the hub', async () => {
    writeFileSync(path.join(artifacts, 'deploy-hub.log'), ctx.hub.output());
    assert.equal(await ctx.hub.stop(), 0, 'exit code of the hub');
  }]);
  cleanups.push(['stopping the user servers', () => stopAllServers(ctx.hub)]);

  // User servers and the e2e service reach the hub API on its internal
  // plain-HTTP listener, whose port the start log names.
  const internal = await waitFor('the internal listener in the hub log',
    () => ctx.hub.output().match(/"hub listeners open".*internal=(127\.0\.0\.1:\d+)/)?.[1]);
  ctx.hub.apiBase = `http://${internal}/`;
  await waitFor('the ACME certificate', () => {
    const out = ctx.hub.output();
    if (/ACME certificate request failed/.test(out)) throw new Error('the ACME request failed');
    return out.includes('ACME certificate ready');
  }, 60000);

  // The hub's chain verifies against pebble's root, which the browser
  // trusts.
  const root = await ctx.pebble.issuerRoot();
  ctx.tls = await verifiedChain(port, hubDomain, root);
  const launched = await launchDeployBrowser(hubDomain, { root, chain: ctx.tls.chain,
    dir: ctx.dir });
  ctx.browser = launched.browser;
  ctx.trust = launched.trust;
  cleanups.push(['closing the browser', () => ctx.browser.close()]);
}

// newPage opens a page in a new browser context, one per person.
async function newPage(ctx) {
  const context = await ctx.browser.newContext({ viewport });
  const page = await context.newPage();
  page.errors = collectErrors(page);
  ctx.pages.push(page);
  return page;
}

// signInWithGitHub signs in on the hub's login page through the fake
// GitHub's authorize form as login.
async function signInWithGitHub(page, hub, login) {
  await page.goto(new URL('hub/login', hub.url).href);
  await page.click('a:has-text("Sign in with GitHub")');
  await page.waitForURL((u) => u.pathname === '/login/oauth/authorize');
  await page.fill('#login', login);
  await Promise.all([page.waitForURL((u) => u.host === new URL(hub.url).host),
    page.click('#authorize')]);
}

// startLab signs user in, checks that the sign-in created the user's
// system account, starts the default server from the home page and waits
// for JupyterLab.
async function startLab(ctx, user) {
  const page = await newPage(ctx);
  assert.equal(systemAccount(user.name), undefined, `account ${user.name} before the sign-in`);
  await signInWithGitHub(page, ctx.hub, user.login);
  assert.ok(systemAccount(user.name), `the sign-in created no system account ${user.name}`);
  await page.goto(new URL('hub/home', ctx.hub.url).href);
  await page.click('button:has-text("Start my server")');
  await page.waitForURL(new URL(`user/${user.name}/lab`, ctx.hub.url).href + '**',
    { timeout: 90000 });
  await labShell(page);
  return page;
}

// checkRunsAsAccount checks that user's server process and kernel run as
// user's system account, and that a notebook saved in JupyterLab belongs
// to it.
async function checkRunsAsAccount(ctx, page, user) {
  const account = systemAccount(user.name);
  assert.ok(account, `the hub created no system account ${user.name}`);
  assert.ok(account.uid >= 1000, `account ${user.name} has uid ${account.uid}`);
  const pid = await serverPID(ctx.hub, user.name);
  assert.ok(pid > 0, `${user.name} server has a pid`);
  assert.equal(processUID(pid), account.uid, `uid of ${user.name} server process ${pid}`);

  await newNotebook(page);
  await runCell(page, 'import os, pwd\nprint("runs as", pwd.getpwuid(os.getuid()).pw_name)',
    `runs as ${user.name}`);
  await saveNotebook(page);
  const file = path.join(account.home, 'Untitled.ipynb');
  const saved = await waitFor(`the saved notebook ${file}`, () => statOrUndefined(file));
  assert.equal(saved.uid, account.uid, `owner of ${file}`);
  assert.equal(saved.mode & 0o077, 0, `mode of ${file} under umask 077`);
}

test('deployment: HTTPS, GitHub, system accounts', {
  timeout: 400000,
  skip: process.getuid() !== 0 && 'servers as system accounts need a hub running as root',
}, async (t) => {
  await withDeployment(async (ctx) => {
    t.diagnostic(ctx.trust === 'nss'
      ? 'Chromium trusts pebble\'s root from an NSS database'
      : 'certutil is missing, so Chromium ignores certificate errors for the hub\'s chain only');

    // The hub serves pebble's certificate for its name, over HTTP/2.
    const leaf = ctx.tls.chain[0];
    assert.equal(leaf.subjectAltName, `DNS:${hubDomain}`, 'names of the certificate');
    assert.equal(ctx.tls.alpn, 'h2', 'protocol of the TLS connection');

    // Plain HTTP on the redirect port leads the browser to HTTPS.
    const first = await newPage(ctx);
    await first.goto(`http://${hubDomain}:${ctx.redirectPort}/hub/login`);
    assert.equal(first.url(), new URL('hub/login', ctx.hub.url).href, 'URL after the redirect');
    await first.locator('a', { hasText: 'Sign in with GitHub' }).waitFor();
    await shot(first, 'deploy-01-login');

    // Ada, an admin, signs in with GitHub, which creates her system
    // account, and gets JupyterLab running as it.
    const adaPage = await startLab(ctx, ada);
    await checkUserMenu(adaPage, ada, ctx.avatars.url);
    assert.ok(ctx.avatars.requests > 0, 'requests for ada\'s avatar');
    await shot(adaPage, 'deploy-02-ada-lab');

    // Her user menu contains the hub's commands.
    await adaPage.locator('#jp-UserMenu .lm-MenuBar-item').click();
    const items = adaPage.locator('.lm-Menu .lm-Menu-itemLabel');
    await items.filter({ hasText: 'Log Out' }).waitFor();
    assert.deepEqual(await items.allTextContents(), ['Hub Control Panel', 'Log Out'],
      'items of ada\'s user menu');
    await shot(adaPage, 'deploy-02-ada-user-menu');
    await adaPage.keyboard.press('Escape');
    await checkRunsAsAccount(ctx, adaPage, ada);
    await shot(adaPage, 'deploy-03-ada-ran-cell');

    // Bob, an allowed user, gets his own.
    const bobPage = await startLab(ctx, bob);
    await checkUserMenu(bobPage, bob, null);
    await checkRunsAsAccount(ctx, bobPage, bob);
    await shot(bobPage, 'deploy-04-bob-ran-cell');
    assert.notEqual(systemAccount(ada.name).uid, systemAccount(bob.name).uid,
      'ada and bob share a uid');

    // Bob at Ada's server URL is turned away, wherever the redirects lead.
    const resp = await bobPage.goto(new URL(`user/${ada.name}/lab`, ctx.hub.url).href);
    await shot(bobPage, 'deploy-05-bob-at-ada');
    const landed = new URL(bobPage.url()).pathname;
    assert.ok(resp.status() === 403 || landed.startsWith('/hub/') ||
      landed.startsWith(`/user/${bob.name}/`), `bob at ada's lab got ${resp.status()} at ${landed}`);
    assert.ok(!landed.startsWith(`/user/${ada.name}/`), `bob stayed on ${landed}`);
    assert.equal(await bobPage.locator('#jp-main-dock-panel').count(), 0,
      'JupyterLab on the page bob was sent to');
    const api = await bobPage.evaluate(async (name) =>
      (await fetch(`/user/${name}/api/contents`)).status, ada.name);
    assert.notEqual(api, 200, 'bob lists the files of ada\'s server');
    const admin = await bobPage.goto(new URL('hub/admin', ctx.hub.url).href);
    assert.equal(admin.status(), 403, 'bob at the admin page');

    // Eve has a GitHub account but is not allowed: no hub user, no system
    // account.
    const evePage = await newPage(ctx);
    await signInWithGitHub(evePage, ctx.hub, eve.login);
    await shot(evePage, 'deploy-06-eve-rejected');
    assert.match(await evePage.locator('h1').textContent(), /^403: Not allowed/,
      'the page eve gets');
    assert.equal(systemAccount(eve.name), undefined, `account ${eve.name} after the sign-in`);

    for (const page of ctx.pages) {
      assert.deepEqual([...page.errors], [], `page errors or server errors on ${page.url()}`);
    }
  });
});
