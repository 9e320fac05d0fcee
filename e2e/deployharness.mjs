// Pieces of the deployment's browser test: pebble as the ACME CA, the fake
// GitHub, system accounts, and a Chromium that reaches the hub by its DNS
// name on loopback and trusts pebble's certificates.
import { execFileSync, spawn } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import {
  accessSync, chmodSync, constants, copyFileSync, mkdirSync, readFileSync, readdirSync, statSync,
  writeFileSync,
} from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { chromium } from 'playwright-core';
import { bin, repo, stopProcess, tempDir, waitFor } from './harness.mjs';

// hubDomain is the hub's DNS name. It resolves nowhere: Chromium maps it
// to 127.0.0.1, and pebble issues for it without looking it up.
export const hubDomain = 'hub.jupygo.test';

// freePort returns a loopback port that was free a moment ago, for
// settings that must name a port before the hub starts, such as the
// callback URL of the OAuth app.
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// sharedBinary copies the jupygo binary into a new folder that every
// account may enter, because servers that run as system accounts cannot
// execute a binary under /root. It returns the copy's path.
export function sharedBinary() {
  const dir = tempDir('jupygo-e2e-bin-');
  chmodSync(dir, 0o755);
  const copy = path.join(dir, 'jupygo');
  copyFileSync(bin, copy);
  chmodSync(copy, 0o755);
  return copy;
}

// spawnPrinting runs a command and resolves with the child once pattern
// matches its output, which is kept for failure messages.
function spawnPrinting(what, file, args, { env, pattern }) {
  const child = spawn(file, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} printed nothing that matches ${pattern} within 30 s:\n${output}`));
    }, 30000);
    const onData = (chunk) => {
      output += chunk;
      const m = output.match(pattern);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stderr.off('data', onData);
      child.stdout.on('data', (more) => { output += more; });
      child.stderr.on('data', (more) => { output += more; });
      child.removeAllListeners('exit');
      resolve({ child, match: m, output: () => output, stop: () => stopProcess(child) });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`running ${file}: ${e.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${output}`));
    });
  });
}

// goTool returns the path of the binary that `go tool -n NAME` builds from
// the module's tool directive.
function goTool(name) {
  return execFileSync('go', ['tool', '-n', name], { cwd: repo, encoding: 'utf8' }).trim();
}

// startPebble runs pebble, Let's Encrypt's ACME test server, on two free
// loopback ports, with a new self-signed certificate for its own HTTPS in
// dir. PEBBLE_VA_ALWAYS_VALID=1 makes it mark every challenge valid
// without connecting to the client, so no DNS name has to resolve, and
// PEBBLE_VA_NOSLEEP=1 and PEBBLE_WFE_NONCEREJECT=0 drop its random delays
// and nonce rejections (pebble's README, v2.10.3). The returned object has
// the directory URL, the CA file of pebble's HTTPS, issuerRoot() and stop().
export async function startPebble(dir) {
  const certFile = path.join(dir, 'pebble-cert.pem');
  const keyFile = path.join(dir, 'pebble-key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt',
    'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=pebble',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile],
  { stdio: 'pipe' });
  const [port, managementPort] = [await freePort(), await freePort()];
  const configFile = path.join(dir, 'pebble-config.json');
  writeFileSync(configFile, JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${port}`,
      managementListenAddress: `127.0.0.1:${managementPort}`,
      certificate: certFile,
      privateKey: keyFile,
      // Unused, because validation always succeeds, but pebble reads them.
      httpPort: 5002,
      tlsPort: 5001,
    },
  }));
  const run = await spawnPrinting('pebble', goTool('pebble'), ['-config', configFile], {
    env: { PEBBLE_VA_ALWAYS_VALID: '1', PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' },
    pattern: /ACME directory available at: \S+/,
  });
  const ca = readFileSync(certFile);
  // pebble prints the line above before its listener accepts, and a hub
  // whose first request is refused retries only a minute later, so wait for
  // the port.
  const deadline = Date.now() + 10000;
  for (;;) {
    try {
      await new Promise((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => { socket.end(); resolve(); });
        socket.on('error', reject);
      });
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        await run.stop();
        throw new Error(`pebble's port took no connection within 10 s: ${e.message}\n${run.output()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    directoryURL: `https://127.0.0.1:${port}/dir`,
    caFile: certFile,
    output: run.output,
    stop: run.stop,
    // issuerRoot returns the PEM of the root that pebble signs with, which
    // it makes anew at each start.
    issuerRoot: () => httpsGet(`https://127.0.0.1:${managementPort}/roots/0`, ca),
  };
}

// httpsGet returns the body of a GET of url, verified against the CA
// certificate ca.
function httpsGet(url, ca) {
  return new Promise((resolve, reject) => {
    https.get(url, { ca }, (resp) => {
      let body = '';
      resp.setEncoding('utf8');
      resp.on('data', (chunk) => { body += chunk; });
      resp.on('end', () => {
        if (resp.statusCode === 200) resolve(body);
        else reject(new Error(`GET ${url}: ${resp.statusCode} ${body}`));
      });
    }).on('error', reject);
  });
}

// startFakeGitHub builds and runs fakegithubd, the fake GitHub of
// internal/hub/auth/fakegithub, over plain HTTP on a free loopback port,
// with an account for each login and the OAuth app's registered
// callbackURL. profiles maps a login to the name and avatar_url of its
// account. It resolves with url, client_id and client_secret, and stop().
export async function startFakeGitHub(dir, { logins, callbackURL, profiles = {} }) {
  const file = path.join(dir, 'fakegithubd');
  execFileSync('go', ['build', '-o', file, './internal/hub/auth/fakegithub/fakegithubd'],
    { cwd: repo, stdio: 'pipe' });
  const args = ['-callback-url', callbackURL, '-require-pkce'];
  for (const login of logins) args.push('-user', login);
  for (const [login, { name, avatar_url: avatar }] of Object.entries(profiles)) {
    if (name !== undefined) args.push('-name', `${login}=${name}`);
    if (avatar !== undefined) args.push('-avatar-url', `${login}=${avatar}`);
  }
  const run = await spawnPrinting('fakegithubd', file, args, { pattern: /^\{.*\}\n/m });
  return { ...JSON.parse(run.match[0]), stop: run.stop };
}

// verifiedChain connects to the hub's TLS port as a browser would, with
// the server name domain, verifies the certificate against the PEM root,
// and returns the certificates it served, leaf first.
export function verifiedChain(port, domain, root) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: domain, ca: root,
      ALPNProtocols: ['h2', 'http/1.1'] }, () => {
      const chain = [];
      for (let c = socket.getPeerCertificate(true); c?.raw; c = c.issuerCertificate) {
        if (chain.some((seen) => seen.raw.equals(c.raw))) break;
        chain.push(c);
      }
      const alpn = socket.alpnProtocol;
      socket.end();
      resolve({ chain: chain.map((c) => new X509Certificate(c.raw)), alpn });
    });
    socket.on('error', reject);
  });
}

// spkiHash returns the base64 SHA-256 of a certificate's
// SubjectPublicKeyInfo, the form Chromium's
// --ignore-certificate-errors-spki-list takes.
export function spkiHash(cert) {
  const der = cert.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

// launchDeployBrowser starts headless Chromium with the flags of the
// other browser tests and a host resolver rule that sends domain to
// 127.0.0.1. Where NSS's certutil is installed (Debian's libnss3-tools),
// Chromium trusts the PEM root in a new NSS database under dir, which it
// finds through HOME, as a root that a person added. Elsewhere it ignores
// certificate errors for the certificates of chain, by the SHA-256 of
// their keys, and only for them. It resolves with the browser and trust,
// "nss" or "spki".
export async function launchDeployBrowser(domain, { root, chain, dir }) {
  const args = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--host-resolver-rules=MAP ${domain} 127.0.0.1`,
  ];
  let env = process.env;
  let trust = 'nss';
  if (onPath('certutil')) {
    const home = path.join(dir, 'chromium-home');
    const db = path.join(home, '.pki', 'nssdb');
    mkdirSync(db, { recursive: true });
    const rootFile = path.join(dir, 'issuer-root.pem');
    writeFileSync(rootFile, root);
    execFileSync('certutil', ['-N', '-d', `sql:${db}`, '--empty-password'], { stdio: 'pipe' });
    execFileSync('certutil', ['-A', '-d', `sql:${db}`, '-n', 'pebble issuer root', '-t', 'C,,',
      '-i', rootFile], { stdio: 'pipe' });
    env = { ...process.env, HOME: home };
  } else {
    trust = 'spki';
    args.push(`--ignore-certificate-errors-spki-list=${chain.map(spkiHash).join(',')}`);
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args,
    env,
  });
  return { browser, trust };
}

// onPath reports whether command is an executable file in a folder of PATH.
function onPath(command) {
  return (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      accessSync(path.join(dir || '.', command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

// setTOMLKeys returns the TOML text with keys set in its tables: for each
// table name in settings, each key's line in that table is replaced with
// `key = value`, or added after the table's header when the table has no
// such key. Values are TOML as written. Every table must be in text, as a
// [NAME] header on its own line.
export function setTOMLKeys(text, settings) {
  const lines = text.split('\n');
  for (const [table, keys] of Object.entries(settings)) {
    const header = lines.indexOf(`[${table}]`);
    if (header < 0) throw new Error(`no [${table}] table in the configuration`);
    let end = lines.findIndex((line, i) => i > header && /^\[/.test(line));
    if (end < 0) end = lines.length;
    for (const [key, value] of Object.entries(keys)) {
      const line = `${key} = ${value}`;
      const at = lines.findIndex((l, i) => i > header && i < end && l.startsWith(`${key} = `));
      if (at >= 0) {
        lines[at] = line;
      } else {
        lines.splice(header + 1, 0, line);
        end++;
      }
    }
  }
  return lines.join('\n');
}

// systemAccount returns the passwd entry of name as { name, uid, gid,
// home }, or undefined when there is no such account.
export function systemAccount(name) {
  let line;
  try {
    line = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
  const [, , uid, gid, , home] = line.split(':');
  return { name, uid: Number(uid), gid: Number(gid), home };
}

// processUID returns the real uid of process pid, from /proc/PID/status,
// or undefined when the process is gone.
export function processUID(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(status.match(/^Uid:\s+(\d+)/m)[1]);
  } catch {
    return undefined;
  }
}

// processesOf returns the live processes whose real uid is uid.
function processesOf(uid) {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || processUID(entry) !== uid) continue;
    try {
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      if (state !== 'Z') found.push(Number(entry));
    } catch {
      // The process ended while it was read.
    }
  }
  return found;
}

// removeSystemAccount kills the processes of account name, deletes the
// account and its home folder with Debian's deluser (userdel -r
// elsewhere), and returns what it could not remove, as messages. An
// account that does not exist is no error.
export async function removeSystemAccount(name) {
  const account = systemAccount(name);
  if (!account) return [];
  const problems = [];
  try {
    await waitFor(`the processes of ${name} to exit`, () => {
      const left = processesOf(account.uid);
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
      return left.length === 0;
    }, 10000);
  } catch (e) {
    problems.push(`${e.message}: ${processesOf(account.uid)}`);
  }
  const [cmd, args] = statOrUndefined('/etc/adduser.conf')
    ? ['deluser', ['--quiet', '--remove-home', name]]
    : ['userdel', ['-r', name]];
  try {
    execFileSync(cmd, args, { stdio: 'pipe', env: { ...process.env,
      PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
  } catch (e) {
    problems.push(`${cmd} ${args.join(' ')}: ${e.message} ${e.stderr ?? ''}`);
  }
  if (systemAccount(name)) problems.push(`account ${name} is left`);
  if (statOrUndefined(account.home)) problems.push(`home folder ${account.home} is left`);
  return problems;
}

// statOrUndefined returns the fs.Stats of file, or undefined when it is
// missing.
export function statOrUndefined(file) {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}
