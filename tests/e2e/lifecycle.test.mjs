// Starting, configuration errors, signals and graceful shutdown, as ops see them.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test, assert, eq, match, sleep, until } from './lib/harness.mjs';
import { startDaemon, runBinary, tmpDir, ADMIN_TOKEN, ROOT } from './lib/daemon.mjs';

test('--version, --help and an unknown flag', async () => {
  let r = await runBinary(['--version']);
  eq(r.code, 0);
  match(r.stdout, /^astrad \d+\.\d+\.\d+/);
  r = await runBinary(['--help']);
  eq(r.code, 0);
  match(r.stdout, /--check-config/);
  r = await runBinary(['--frobnicate']);
  eq(r.code, 2);
});

test('a bad value stops the start with one line naming the variable', async () => {
  const cases = [
    [{ PORTAL_PORT: 'abc' }, /PORTAL_PORT/],
    [{ ADMIN_PORT: '70000' }, /ADMIN_PORT/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ LOCALE: 'fr' }, /LOCALE/],
    [{ DISCORD_API_BASE: 'ftp://x' }, /DISCORD_API_BASE/],
    [{ DATA_ENCRYPTION_KEY: 'short' }, /DATA_ENCRYPTION_KEY/],
    [{ TLS_CA_FILE: '/nonexistent/ca.pem' }, /TLS_CA_FILE/],
  ];
  for (const [env, re] of cases) {
    const dir = tmpDir();
    const r = await runBinary([], { DATA_DIR: path.join(dir, 'data'), LOG_DIR: path.join(dir, 'logs'), ...env }, dir);
    eq(r.code, 2, JSON.stringify(env));
    match(r.stderr, re);
    eq(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert(!fs.existsSync(path.join(dir, 'data', 'orders.json')), 'nothing written');
  }
});

test('--check-config prints the effective configuration with secrets masked', async () => {
  const secret = 'mp-access-token-SHOULD-NOT-SHOW-123456';
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, '.env'), `PORTAL_PORT=4100\nMERCADOPAGO_ACCESS_TOKEN=${secret}\n`);
  const r = await runBinary(['--check-config'], { ADMIN_PANEL_TOKEN: ADMIN_TOKEN, ADMIN_PORT: '4000' }, dir);
  eq(r.code, 0);
  match(r.stdout, /PORTAL_PORT=4100/);
  match(r.stdout, /ADMIN_PORT=4000/);
  match(r.stdout, /MERCADOPAGO_ACCESS_TOKEN=/);
  assert(!r.stdout.includes(secret), 'secret masked');
  assert(!r.stdout.includes(ADMIN_TOKEN), 'admin token masked');
});

test('SIGTERM: stops accepting, lets the request in flight finish, exits 0', async () => {
  const d = await startDaemon({ env: { SHUTDOWN_GRACE_MS: '8000' } });
  // A request whose body is still arriving when SIGTERM comes.
  const body = '{"level":"info"}';
  const sock = net.connect(d.adminPort, '127.0.0.1');
  await new Promise((r) => sock.on('connect', r));
  let resp = '';
  sock.on('data', (c) => { resp += c; });
  const closed = new Promise((r) => sock.on('close', r));
  sock.write(`PUT /api/log-level HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 5)}`);
  // a keep-alive connection opened (and used once) before the signal
  const ka = net.connect(d.portalPort, '127.0.0.1');
  await new Promise((r) => ka.on('connect', r));
  await new Promise((r) => { ka.once('data', r); ka.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'); });
  await sleep(200);
  d.proc.kill('SIGTERM');
  // New connections are refused once it stops accepting.
  await until(() => new Promise((res) => {
    const s = net.connect(d.portalPort, '127.0.0.1');
    s.on('error', () => res(true));
    s.on('connect', () => { s.destroy(); res(false); });
  }), { timeout: 3000, what: 'listener closed' });
  assert(!d.exited, 'still running while a request is in flight');
  // an already-open keep-alive connection can still ask: the daemon says it is stopping
  const health = await new Promise((resolve, reject) => {
    ka.once('data', (c) => resolve(String(c)));
    ka.once('error', reject);
    ka.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
  });
  match(health, /^HTTP\/1\.1 503/);
  match(health, /"status":"stopping"/);
  ka.destroy();
  sock.write(body.slice(5));
  await closed;
  match(resp, /^HTTP\/1\.1 200/);
  const ex = await d.stop();
  eq(ex.code, 0);
  match(d.logText(), /store durable/);
});

test('SIGTERM with a stuck client: exits 0 after the grace period', async () => {
  const d = await startDaemon({ env: { SHUTDOWN_GRACE_MS: '500' } });
  const sock = net.connect(d.adminPort, '127.0.0.1');
  await new Promise((r) => sock.on('connect', r));
  sock.on('error', () => {});
  sock.write(`PUT /api/log-level HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`);
  await sleep(100);
  const t0 = Date.now();
  d.proc.kill('SIGTERM');
  const ex = await d.stop();
  eq(ex.code, 0);
  assert(Date.now() - t0 < 5000, 'did not hang');
  sock.destroy();
});

test('SIGHUP reopens the log file', async () => {
  const d = await startDaemon();
  try {
    const log = path.join(d.logDir, 'astra.log');
    await until(() => fs.existsSync(log) && fs.statSync(log).size > 0, { what: 'log written' });
    fs.renameSync(log, `${log}.1`);
    d.proc.kill('SIGHUP');
    await until(() => fs.existsSync(log), { what: 'new log file' });
    const r = await fetch(`${d.portal}/api/after-rotate`);
    eq(r.status, 404);
    await until(() => fs.readFileSync(log, 'utf8').includes('/api/after-rotate'), { what: 'line in the new file' });
    assert(!fs.readFileSync(`${log}.1`, 'utf8').includes('/api/after-rotate'), 'old file untouched');
  } finally {
    eq((await d.stop()).code, 0);
  }
});

test('two daemons cannot share a port: the second exits with a clear line', async () => {
  const { freePort } = await import('./lib/daemon.mjs');
  const d = await startDaemon();
  try {
    const dir = tmpDir();
    const r = await runBinary([], {
      PORTAL_PORT: String(d.portalPort), ADMIN_PORT: String(await freePort()),
      DATA_DIR: path.join(dir, 'data'), LOG_DIR: path.join(dir, 'logs'), ADMIN_PANEL_TOKEN: ADMIN_TOKEN,
      WEB_DIR: path.join(ROOT, 'web'),
    }, dir);
    assert(r.code !== 0, 'second daemon failed');
    match(r.stderr, /cannot listen/);
  } finally {
    eq((await d.stop()).code, 0);
  }
});
