// /health, /api/status and the admin token: what ops and the container healthcheck see.
import { test, assert, eq, match } from './lib/harness.mjs';
import { startDaemon, ADMIN_TOKEN } from './lib/daemon.mjs';

test('GET /health answers 200 ok with the version; HEAD has no body', async () => {
  const d = await startDaemon();
  try {
    const r = await fetch(`${d.portal}/health`);
    eq(r.status, 200);
    match(r.headers.get('content-type'), /^application\/json/);
    const b = await r.json();
    eq(b.status, 'ok');
    match(b.version, /^\d+\.\d+\.\d+/);
    assert(typeof b.uptime_s === 'number');
    assert(r.headers.get('x-request-id')?.length === 16, 'request id header');
    const h = await fetch(`${d.portal}/health`, { method: 'HEAD' });
    eq(h.status, 200);
    eq((await h.text()).length, 0);
  } finally {
    eq((await d.stop()).code, 0, 'exit code');
  }
});

test('GET /api/status needs the admin token, compared exactly', async () => {
  const d = await startDaemon();
  try {
    for (const auth of [undefined, 'Bearer wrong', `Bearer ${ADMIN_TOKEN}x`, `Bearer ${ADMIN_TOKEN.slice(0, -1)}`, `Basic ${ADMIN_TOKEN}`, ADMIN_TOKEN]) {
      const r = await fetch(`${d.admin}/api/status`, { headers: auth ? { authorization: auth } : {} });
      eq(r.status, 401, `auth ${auth}`);
      const b = await r.json();
      eq(b.error, 'unauthorized');
      eq(typeof b.code, 'number');
      match(r.headers.get('www-authenticate') || '', /^Bearer/);
    }
    const r = await d.adminFetch('/api/status');
    eq(r.status, 200);
    const s = await r.json();
    match(s.version, /^\d+\.\d+\.\d+/);
    eq(s.phase, 'running');
    eq(s.store.state, 'ok');
    assert(s.memory.rss_bytes > 0, 'rss');
    assert(typeof s.counts.orders === 'number', 'order count');
    assert(s.http.admin.requests >= 1, 'admin request count');
    assert(typeof s.uptime_s === 'number');
  } finally {
    eq((await d.stop()).code, 0);
  }
});

test('the admin token is generated once into data/.secrets when unset', async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const d = await startDaemon({ env: { ADMIN_PANEL_TOKEN: null } });
  let token;
  try {
    const m = d.stdout.match(/ADMIN_PANEL_TOKEN[^:]*: ([0-9a-f]{64})/);
    assert(m, `token printed on first start: ${d.stdout}`);
    token = m[1];
    const st = fs.statSync(path.join(d.dataDir, '.secrets'));
    eq(st.mode & 0o777, 0o600, '.secrets mode');
    const r = await fetch(`${d.admin}/api/status`, { headers: { authorization: `Bearer ${token}` } });
    eq(r.status, 200);
    assert(!d.logText().includes(token), 'the token never reaches the log');
    assert(!d.stderr.includes(token), 'nor stderr');
  } finally {
    eq((await d.stop()).code, 0);
  }
  // Second start with the same data dir: same token, not printed again.
  const d2 = await startDaemon({ dir: d.dir, env: { ADMIN_PANEL_TOKEN: null } });
  try {
    assert(!d2.stdout.includes(token), 'not printed again');
    const r = await fetch(`${d2.admin}/api/status`, { headers: { authorization: `Bearer ${token}` } });
    eq(r.status, 200);
  } finally {
    eq((await d2.stop()).code, 0);
  }
});
