// Seller accounts on the real binary: signup, login, logout, /api/me and password changes;
// sessions (signed cookies, revocation, restarts) and CSRF; body caps and validation; rate
// limits; and Discord OAuth2 (sign up, log in, link) against the fake Discord's OAuth
// endpoints. Each client connects from its own loopback address so that the per-IP limits of
// one test do not leak into another.
import crypto from 'node:crypto';
import net from 'node:net';
import { test, assert, eq, match, sleep } from './lib/harness.mjs';
import { startDaemon, freePorts, tmpDir } from './lib/daemon.mjs';
import { PortalClient, PORTAL_PROTECTED_ROUTES, changesState, seenBodies } from './lib/portal_routes.mjs';
import { startFakeDiscord } from '../fakes/discord/server.mjs';

const PASSWORD = 'correct horse 42';

// Nothing a client ever received may carry a password hash.
function assertNoHashes() {
  for (const b of seenBodies) {
    assert(!b.includes('scrypt$'), `a response carried a scrypt hash: ${b.slice(0, 200)}`);
    assert(!/passwordHash/i.test(b), `a response carried a passwordHash field: ${b.slice(0, 200)}`);
  }
}

// The daemon's own log must not hold a password or a hash either.
function assertCleanLog(d, secrets) {
  const log = d.logText() + d.stderr;
  assert(!log.includes('scrypt$'), 'a scrypt hash reached the log');
  for (const s of secrets) assert(!log.includes(s), `a secret reached the log: ${s}`);
}

function errorBody(r, status, code, field) {
  eq(r.status, status, `status of ${r.text.slice(0, 200)}`);
  assert(r.json && typeof r.json.message === 'string' && r.json.message.length > 0, 'uniform error body');
  eq(r.json.code, code, 'error code');
  if (field !== undefined) eq(r.json.field, field, 'field');
}

const uniq = () => crypto.randomBytes(4).toString('hex');

async function withDaemon(opts, fn) {
  const d = await startDaemon(opts);
  try {
    await fn(d);
  } finally {
    await d.stop();
  }
}

test('signup, /api/me, logout, login and password change', async () => {
  await withDaemon({}, async (d) => {
    const a = new PortalClient(d.portal);
    const email = `Ana.${uniq()}@Example.COM`;
    let r = await a.signup(email, PASSWORD, { name: 'Ana' });
    eq(r.status, 201, r.text);
    const cookie = r.setCookie.find((c) => c.startsWith('astra_session='));
    assert(cookie, 'a session cookie');
    match(cookie, /; HttpOnly/, 'HttpOnly');
    match(cookie, /; SameSite=Lax/, 'SameSite=Lax');
    match(cookie, /; Path=\//, 'Path=/');
    match(cookie, /; Max-Age=2592000/, '30 days');
    assert(!/; Secure/.test(cookie), 'no Secure flag on plain http');
    const user = r.json.user;
    eq(user.email, email.toLowerCase(), 'email normalised to lower case');
    eq(user.name, 'Ana');
    eq(user.locale, 'pt-BR');
    eq(user.hasPassword, true);
    assert(typeof user.createdAt === 'number', 'createdAt');
    match(r.json.csrf, /^[0-9a-f]{64}$/, 'csrf token');
    assert(!('discord' in user), 'no discord yet');

    r = await a.me();
    eq(r.status, 200, r.text);
    eq(r.json.user.id, user.id);
    eq(r.json.csrf, a.csrf);

    // logout: 204, the cookie goes, and the old cookie no longer works anywhere
    const stolen = new PortalClient(d.portal);
    stolen.cookies = new Map(a.cookies);
    stolen.csrf = a.csrf;
    r = await a.post('/api/auth/logout');
    eq(r.status, 204, r.text);
    assert(r.setCookie.some((c) => /^astra_session=;.*Max-Age=0/.test(c)), 'cookie cleared');
    errorBody(await a.me(), 401, 1011);
    errorBody(await stolen.me(), 401, 1102);

    // one generic answer for a wrong password and for an unknown email
    const wrong = await a.login(email, 'not the password');
    const unknown = await a.login(`ninguem.${uniq()}@example.com`, PASSWORD);
    errorBody(wrong, 401, 1101);
    errorBody(unknown, 401, 1101);
    eq(wrong.json, unknown.json, 'the same body whatever was wrong');
    // and the same time: an unknown email is checked against a dummy scrypt hash
    const timed = async (e) => { const t = Date.now(); await new PortalClient(d.portal).login(e, 'nope nope'); return Date.now() - t; };
    const other = `tempo.${uniq()}@example.com`; // its own account: failures count per account
    eq((await new PortalClient(d.portal).signup(other, PASSWORD)).status, 201);
    let wrongMs = 0, unknownMs = 0;
    for (let i = 0; i < 3; i++) {
      wrongMs += await timed(other);
      unknownMs += await timed(`ninguem${i}.${uniq()}@example.com`);
    }
    assert(unknownMs > wrongMs * 0.5 && wrongMs > unknownMs * 0.5, `unknown email ${unknownMs} ms vs wrong password ${wrongMs} ms`);
    const en = new PortalClient(d.portal, { lang: 'en-US,en;q=0.9' });
    const wrongEn = await en.login(email, 'not the password');
    eq(wrongEn.json.message, 'Wrong email or password.');
    eq(wrong.json.message, 'E-mail ou senha incorretos.');

    r = await a.login(email.toUpperCase(), PASSWORD);
    eq(r.status, 200, r.text);
    eq(r.json.user.id, user.id);
    assert(r.setCookie.some((c) => c.startsWith('astra_session=')), 'new session cookie');

    // password change: the other sessions end, this one stays
    const b = new PortalClient(d.portal);
    eq((await b.login(email, PASSWORD)).status, 200);
    errorBody(await a.post('/api/auth/password', { current: 'wrong wrong', new: 'another secret 1' }), 400, 1106, 'current');
    errorBody(await a.post('/api/auth/password', { new: 'another secret 1' }), 400, 1008, 'current');
    errorBody(await a.post('/api/auth/password', { current: PASSWORD, new: 'short' }), 400, 1105, 'new');
    r = await a.post('/api/auth/password', { current: PASSWORD, new: 'another secret 1' });
    eq(r.status, 204, r.text);
    eq((await a.me()).status, 200, 'the session that changed it stays');
    errorBody(await b.me(), 401, 1102);
    errorBody(await new PortalClient(d.portal).login(email, PASSWORD), 401, 1101);
    eq((await new PortalClient(d.portal).login(email, 'another secret 1')).status, 200);

    assertNoHashes();
    assertCleanLog(d, [PASSWORD, 'another secret 1']);
  });
});

test('signup: duplicate email 409, bad bodies 400 naming the field, 413, 415', async () => {
  await withDaemon({}, async (d) => {
    const c = new PortalClient(d.portal);
    const email = `dup.${uniq()}@example.com`;
    eq((await c.signup(email, PASSWORD)).status, 201);
    const dup = await new PortalClient(d.portal).signup(email.toUpperCase(), 'other password');
    errorBody(dup, 409, 1100, 'email');
    match(dup.json.message, /e-mail/);

    const v = new PortalClient(d.portal);
    errorBody(await v.post('/api/auth/signup', { password: PASSWORD }), 400, 1008, 'email');
    errorBody(await v.post('/api/auth/signup', { email: 'x@example.com' }), 400, 1008, 'password');
    errorBody(await v.post('/api/auth/signup', { email: 'x@example.com', password: 'curta' }), 400, 1105, 'password');
    errorBody(await v.post('/api/auth/signup', { email: 'x@example.com', password: 'x'.repeat(129) }), 400, 1105, 'password');
    errorBody(await v.post('/api/auth/signup', { email: 'x@example.com', password: 12345678 }), 400, 1105, 'password');
    errorBody(await v.post('/api/auth/signup', { email: 42, password: PASSWORD }), 400, 1007, 'email');
    for (const bad of ['sem-arroba', 'a@b', 'a@@b.com', 'a b@c.com', '@example.com', 'a@example.', 'a..b@example.com', 'ação@example.com']) {
      errorBody(await v.post('/api/auth/signup', { email: bad, password: PASSWORD }), 400, 1104, 'email');
    }
    errorBody(await v.post('/api/auth/signup', { email: 'x@example.com', password: PASSWORD, admin: true }), 400, 1009, 'admin');
    errorBody(await v.post('/api/auth/signup', { email: 'x@example.com', password: PASSWORD, locale: 'fr' }), 400, 1007, 'locale');
    errorBody(await v.post('/api/auth/signup', '{"email": "x@example.com", "password": '), 400, 1006);
    errorBody(await v.post('/api/auth/signup', '[1, 2]'), 400, 1006);
    errorBody(await v.post('/api/auth/login', { email: 'x@example.com' }), 400, 1008, 'password');
    errorBody(await v.post('/api/auth/login', '{"email":'), 400, 1006);
    errorBody(await v.post('/api/auth/signup', { email: 'x@example.com', password: PASSWORD, name: 'n'.repeat(5000) }), 413, 1003);
    errorBody(await v.post('/api/auth/login', { email: 'x@example.com', password: 'p'.repeat(5000) }), 413, 1003);
    errorBody(await v.post('/api/auth/signup', `email=x@example.com&password=${PASSWORD}`, { headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 1005);
    errorBody(await v.post('/api/auth/login', 'x', { headers: { 'content-type': 'text/plain' } }), 415, 1005);

    // and on routes that need a session (the body is checked after authentication there)
    eq((await c.me()).status, 200);
    errorBody(await c.post('/api/auth/password', '{"new":'), 400, 1006);
    errorBody(await c.post('/api/auth/password', { current: PASSWORD, new: 'x'.repeat(5000) }), 413, 1003);
    errorBody(await c.post('/api/auth/password', { current: PASSWORD, nova: 'abcdefghij' }), 400, 1009, 'nova');
    assertNoHashes();
  });
});

test('every protected /api/ route: 401 without a session, 403 without or with a wrong CSRF token', async () => {
  await withDaemon({}, async (d) => {
    const anon = new PortalClient(d.portal);
    const forged = new PortalClient(d.portal);
    forged.cookies.set('astra_session', { value: `${crypto.randomUUID()}.${crypto.randomBytes(32).toString('base64url')}`, path: '/' });
    for (const r of PORTAL_PROTECTED_ROUTES) {
      errorBody(await anon.request(r.method, r.path, { body: r.body }), 401, 1011);
      const f = await forged.request(r.method, r.path, { body: r.body });
      eq(f.status, 401, `${r.method} ${r.path} with a forged cookie`);
    }
    const seller = new PortalClient(d.portal);
    eq((await seller.signup(`csrf.${uniq()}@example.com`, PASSWORD)).status, 201);
    // a cookie with a valid signature for another session id is no good either
    const [sid, sig] = seller.cookies.get('astra_session').value.split('.');
    const swapped = new PortalClient(d.portal);
    swapped.cookies.set('astra_session', { value: `${crypto.randomUUID()}.${sig}`, path: '/' });
    eq((await swapped.me()).status, 401);
    assert(sid.length > 0);
    for (const r of PORTAL_PROTECTED_ROUTES.filter((x) => changesState(x.method))) {
      errorBody(await seller.request(r.method, r.path, { body: r.body, csrf: false }), 403, 1103);
      errorBody(await seller.request(r.method, r.path, { body: r.body, headers: { 'x-csrf-token': 'f'.repeat(64) } }), 403, 1103);
      errorBody(await seller.request(r.method, r.path, { body: r.body, headers: { 'x-csrf-token': '' } }), 403, 1103);
    }
    // the token of another session does not work either
    const other = new PortalClient(d.portal);
    eq((await other.signup(`csrf2.${uniq()}@example.com`, PASSWORD)).status, 201);
    errorBody(await seller.request('POST', '/api/auth/logout', { headers: { 'x-csrf-token': other.csrf } }), 403, 1103);
    eq((await seller.me()).status, 200, 'still signed in after the refused requests');
    // unknown API paths stay 404, with or without a session
    errorBody(await anon.get('/api/nada'), 404, 1001);
    assertNoHashes();
  });
});

test('rate limits: login per account and per IP, signup per IP (429 with Retry-After)', async () => {
  await withDaemon({}, async (d) => {
    const email = `alvo.${uniq()}@example.com`;
    eq((await new PortalClient(d.portal).signup(email, PASSWORD)).status, 201);

    // 5 failures per 15 minutes per account, from anywhere (each attempt from a new address)
    for (let i = 0; i < 5; i++) errorBody(await new PortalClient(d.portal).login(email, `guess ${i}`), 401, 1101);
    let r = await new PortalClient(d.portal).login(email, 'guess 6');
    errorBody(r, 429, 1013);
    const ra = Number(r.headers['retry-after']);
    assert(ra > 840 && ra <= 900, `Retry-After ${r.headers['retry-after']} for the account`);
    // locked for the window, even with the right password
    errorBody(await new PortalClient(d.portal).login(email.toUpperCase(), PASSWORD), 429, 1013);

    // 10 attempts per minute per IP, whatever the accounts
    const ip = new PortalClient(d.portal);
    for (let i = 0; i < 10; i++) errorBody(await ip.login(`x${i}.${uniq()}@example.com`, 'whatever'), 401, 1101);
    r = await ip.login(`y.${uniq()}@example.com`, 'whatever');
    errorBody(r, 429, 1013);
    const ra2 = Number(r.headers['retry-after']);
    assert(ra2 >= 1 && ra2 <= 60, `Retry-After ${r.headers['retry-after']} for the IP`);

    // 5 signups per hour per IP (bad bodies do not count)
    const s = new PortalClient(d.portal);
    errorBody(await s.signup('not-an-email', PASSWORD), 400, 1104);
    for (let i = 0; i < 5; i++) eq((await s.signup(`novo${i}.${uniq()}@example.com`, PASSWORD)).status, 201);
    r = await s.signup(`novo6.${uniq()}@example.com`, PASSWORD);
    errorBody(r, 429, 1013);
    const ra3 = Number(r.headers['retry-after']);
    assert(ra3 > 3500 && ra3 <= 3600, `Retry-After ${r.headers['retry-after']} for signups`);
    // a different address still may
    eq((await new PortalClient(d.portal).signup(`outro.${uniq()}@example.com`, PASSWORD)).status, 201);
    assertNoHashes();
  });
}, { timeout: 60000 });

test('behind a proxy (TRUST_PROXY=1) the per-IP limits key on the last X-Forwarded-For hop; without it the header is ignored', async () => {
  const signupFrom = (c, xff, i) => c.post('/api/auth/signup', { email: `p${i}.${uniq()}@example.com`, password: PASSWORD }, { headers: { 'x-forwarded-for': xff } });
  await withDaemon({ env: { TRUST_PROXY: '1' } }, async (d) => {
    const proxy = new PortalClient(d.portal); // one socket address: the proxy
    // six buyers behind the proxy: each has its own budget (the client's own claim, first in
    // the list, is not what counts)
    for (let i = 0; i < 6; i++) eq((await signupFrom(proxy, `10.9.9.9, 203.0.113.${i + 1}`, i)).status, 201);
    // one of them, a sixth time: over their limit
    for (let i = 0; i < 4; i++) eq((await signupFrom(proxy, `203.0.113.1`, 10 + i)).status, 201);
    errorBody(await signupFrom(proxy, '198.51.100.7, 203.0.113.1', 20), 429, 1013);
    // a hop that is not an address falls back to the socket's
    eq((await signupFrom(proxy, 'desconhecido', 30)).status, 201);
  });
  await withDaemon({}, async (d) => {
    const direct = new PortalClient(d.portal);
    for (let i = 0; i < 5; i++) eq((await signupFrom(direct, `203.0.113.${i + 1}`, i)).status, 201);
    errorBody(await signupFrom(direct, '203.0.113.99', 9), 429, 1013);
  });
}, { timeout: 60000 });

test('scrypt runs off the loop: /health answers during a burst of logins; clients that leave mid-hash are harmless', async () => {
  await withDaemon({}, async (d) => {
    const email = `carga.${uniq()}@example.com`;
    eq((await new PortalClient(d.portal).signup(email, PASSWORD)).status, 201);
    // 8 logins (~100 ms of scrypt each) queued at once; the loop must keep serving meanwhile
    const logins = Array.from({ length: 8 }, (_, i) => new PortalClient(d.portal).login(email, i % 2 ? PASSWORD : 'wrong one'));
    const t0 = Date.now();
    const h = await fetch(`${d.portal}/health`);
    const healthMs = Date.now() - t0;
    eq(h.status, 200);
    const results = await Promise.all(logins);
    const busyMs = Date.now() - t0;
    eq(results.map((r) => r.status).sort(), [200, 200, 200, 200, 401, 401, 401, 401]);
    assert(healthMs < busyMs / 2, `/health took ${healthMs} ms while the logins took ${busyMs} ms`);

    // requests whose client disconnects while their password is being hashed
    const body = JSON.stringify({ email, password: PASSWORD });
    await Promise.all(Array.from({ length: 4 }, (_, i) => new Promise((resolve) => {
      const sock = net.connect({ port: d.portalPort, host: '127.0.0.1', localAddress: `127.0.9.${10 + i}` }, () => {
        sock.write(`POST /api/auth/${i % 2 ? 'login' : 'signup'} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\n\r\n${i % 2 ? body : JSON.stringify({ email: `saiu${i}.${uniq()}@example.com`, password: PASSWORD })}`);
        setTimeout(() => { sock.destroy(); resolve(); }, 20);
      });
      sock.on('error', resolve);
    })));
    await sleep(400); // the hashes finish with nobody waiting
    eq((await new PortalClient(d.portal).login(email, PASSWORD)).status, 200, 'still serving');
    const aborted = d.logLines().filter((l) => /^\/api\/auth\/(login|signup)$/.test(l.path || '') && /aborted/.test(l.msg || ''));
    assert(aborted.length >= 1, 'the disconnects reached the handlers');
  });
});

test('a stop while passwords are being hashed: the waiting requests get 503, the daemon exits clean', async () => {
  const d = await startDaemon({ env: { SHUTDOWN_GRACE_MS: '1' } });
  const email = `parada.${uniq()}@example.com`;
  eq((await new PortalClient(d.portal).signup(email, PASSWORD)).status, 201);
  const pending = [];
  for (let i = 0; i < 12; i++) {
    const c = new PortalClient(d.portal);
    pending.push((i % 3 ? c.login(email, PASSWORD) : c.signup(`p${i}.${uniq()}@example.com`, PASSWORD)).catch((e) => ({ status: 0, error: e })));
  }
  await sleep(60);
  const exited = await d.stop();
  eq(exited.code, 0, d.stderr.slice(-2000));
  const statuses = (await Promise.all(pending)).map((r) => r.status);
  assert(statuses.includes(503), `some requests were still hashing at the stop: ${statuses}`);
  assert(statuses.every((s) => [0, 200, 201, 503].includes(s)), `statuses: ${statuses}`);
});

test('sessions survive a restart; a revoked session stays refused', async () => {
  const dir = tmpDir();
  const email = `reinicio.${uniq()}@example.com`;
  const a = new PortalClient('http://127.0.0.1:1'), b = new PortalClient('http://127.0.0.1:1');
  let userId, kept;
  await withDaemon({ dir }, async (d) => {
    for (const c of [a, b]) c.port = d.portalPort;
    eq((await a.signup(email, PASSWORD)).status, 201);
    userId = (await a.me()).json.user.id;
    eq((await b.login(email, PASSWORD)).status, 200);
    kept = new Map(b.cookies);
    eq((await b.post('/api/auth/logout')).status, 204);
    b.cookies = new Map(kept); // a thief kept a copy of the old cookie
    errorBody(await b.me(), 401, 1102);
  });
  await withDaemon({ dir }, async (d) => {
    for (const c of [a, b]) c.port = d.portalPort;
    const r = await a.me();
    eq(r.status, 200, r.text);
    eq(r.json.user.id, userId);
    eq(r.json.csrf, a.csrf, 'the same CSRF token');
    b.cookies = new Map(kept);
    errorBody(await b.me(), 401, 1102);
    eq((await a.post('/api/auth/logout')).status, 204, 'CSRF still accepted after the restart');
  });
});

test('GET /api/auth/discord without OAuth configured: redirect with the error code', async () => {
  await withDaemon({ env: { DISCORD_OAUTH_CLIENT_ID: undefined, DISCORD_OAUTH_CLIENT_SECRET: undefined } }, async (d) => {
    const r = await new PortalClient(d.portal).get('/api/auth/discord');
    eq(r.status, 302);
    eq(r.headers.location, '/?erro=1107');
  });
});

// ---- Discord OAuth2 ----

// A daemon wired to a fake Discord with a registered OAuth client.
async function withOAuth(fn) {
  const fake = await startFakeDiscord({ heartbeatInterval: 1000 });
  const [portalPort] = await freePorts(1);
  const redirectUri = `http://127.0.0.1:${portalPort}/api/auth/discord/callback`;
  const client = fake.createOAuthClient({ redirectUri });
  try {
    await withDaemon({
      portalPort,
      env: {
        DISCORD_API_BASE: fake.apiBase,
        DISCORD_OAUTH_AUTHORIZE_URL: `${fake.httpBase}/oauth2/authorize`,
        DISCORD_OAUTH_CLIENT_ID: client.clientId,
        DISCORD_OAUTH_CLIENT_SECRET: client.clientSecret,
        DISCORD_OAUTH_REDIRECT_URI: redirectUri,
      },
    }, (d) => fn({ d, fake, client, redirectUri }));
    fake.assertNoViolations();
  } finally {
    await fake.close();
  }
}

// The browser's round trip: portal -> Discord's consent (the fake) -> portal callback.
// Returns the callback's answer, and the authorize URL the portal sent the browser to.
async function discordFlow(c, fake, mode = 'login', { tamper } = {}) {
  const start = await c.get(`/api/auth/discord?mode=${mode}`);
  if (start.status !== 302 || !start.headers.location.startsWith(fake.httpBase)) return { start };
  const authorize = new URL(start.headers.location);
  const consent = await fetch(authorize, { redirect: 'manual' });
  eq(consent.status, 302, `consent: ${await consent.text()}`);
  const back = new URL(consent.headers.get('location'));
  if (tamper) tamper(back);
  const cb = await c.get(back.pathname + back.search);
  return { start, authorize, back, cb };
}

function discordUser(fake, { username, globalName = null, email, verified = true }) {
  const u = fake.createUser({ username, globalName });
  if (email) fake.setUserEmail(u.id, email, verified);
  return u;
}

test('Discord: sign up, then log in again as the same user; a password can be set later', async () => {
  await withOAuth(async ({ d, fake, client, redirectUri }) => {
    const email = `vendedor.${uniq()}@example.com`;
    const du = discordUser(fake, { username: 'vendedor', globalName: 'Vendedor Um', email });
    fake.oauthAs(du.id);
    const c = new PortalClient(d.portal);
    const { start, authorize, cb } = await discordFlow(c, fake);
    // the authorize request
    const q = authorize.searchParams;
    eq(q.get('client_id'), client.clientId);
    eq(q.get('redirect_uri'), redirectUri);
    eq(q.get('response_type'), 'code');
    eq(q.get('scope'), 'identify email');
    eq(q.get('code_challenge_method'), 'S256');
    match(q.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
    match(q.get('state'), /^[A-Za-z0-9_-]{20,}$/);
    const flowCookie = start.setCookie.find((s) => s.startsWith('astra_oauth='));
    assert(flowCookie, 'the flow cookie');
    match(flowCookie, /Path=\/api\/auth\/discord; Max-Age=600; HttpOnly; SameSite=Lax/);
    // the callback
    eq(cb.status, 302, cb.text);
    eq(cb.headers.location, '/dashboard');
    assert(cb.setCookie.some((s) => s.startsWith('astra_session=')), 'signed in');
    assert(cb.setCookie.some((s) => /^astra_oauth=;/.test(s)), 'the flow cookie is spent');
    let me = await c.me();
    eq(me.status, 200, me.text);
    eq(me.json.user.discord, { id: du.id, username: 'vendedor' });
    eq(me.json.user.email, email);
    eq(me.json.user.name, 'Vendedor Um');
    eq(me.json.user.hasPassword, false);
    const id = me.json.user.id;

    // again, from another browser: the same account
    const c2 = new PortalClient(d.portal);
    const again = await discordFlow(c2, fake);
    eq(again.cb.headers.location, '/dashboard');
    eq((await c2.me()).json.user.id, id);

    // an account made through Discord may set a password without a current one
    eq((await c2.post('/api/auth/password', { new: 'senha do discord' })).status, 204);
    me = await c2.me();
    eq(me.json.user.hasPassword, true);
    const c3 = new PortalClient(d.portal);
    const r = await c3.login(email, 'senha do discord');
    eq(r.status, 200, r.text);
    eq(r.json.user.id, id);
    // the token exchange went as the fake expects it: form body, PKCE, the same redirect URI
    const tok = fake.requests.filter((x) => x.route === 'POST /oauth2/token');
    eq(tok.length, 2);
    eq(tok[0].body.grant_type, 'authorization_code');
    eq(tok[0].body.redirect_uri, redirectUri);
    assert(tok[0].body.code_verifier, 'PKCE verifier sent');
    eq(tok.every((x) => x.status === 200), true);
    assertNoHashes();
  });
});

test('Discord: link to an email account, then log in with Discord; a Discord account linked elsewhere is refused', async () => {
  await withOAuth(async ({ d, fake }) => {
    const seller = new PortalClient(d.portal);
    const email = `loja.${uniq()}@example.com`;
    eq((await seller.signup(email, PASSWORD)).status, 201);
    const id = (await seller.me()).json.user.id;
    const du = discordUser(fake, { username: 'dono_da_loja' });
    fake.oauthAs(du.id);
    // linking needs a session
    const nobody = await new PortalClient(d.portal).get('/api/auth/discord?mode=link');
    eq(nobody.headers.location, '/?erro=1011');
    const { cb } = await discordFlow(seller, fake, 'link');
    eq(cb.headers.location, '/dashboard');
    assert(!cb.setCookie.some((s) => s.startsWith('astra_session=')), 'linking keeps the session');
    const me = await seller.me();
    eq(me.json.user.discord, { id: du.id, username: 'dono_da_loja' });
    eq(me.json.user.email, email);

    // now "Entrar com Discord" reaches the email account
    const c = new PortalClient(d.portal);
    eq((await discordFlow(c, fake)).cb.headers.location, '/dashboard');
    eq((await c.me()).json.user.id, id);

    // another seller cannot take that Discord account
    const other = new PortalClient(d.portal);
    eq((await other.signup(`outra.${uniq()}@example.com`, PASSWORD)).status, 201);
    const refused = await discordFlow(other, fake, 'link');
    eq(refused.cb.status, 302);
    eq(refused.cb.headers.location, '/?erro=1111');
    assert(!('discord' in (await other.me()).json.user), 'nothing linked');
    eq((await c.me()).json.user.discord.id, du.id, 'the first link stands');
  });
});

test('Discord: an email that belongs to an account is not taken over; an unverified email is not used', async () => {
  await withOAuth(async ({ d, fake }) => {
    const email = `existe.${uniq()}@example.com`;
    eq((await new PortalClient(d.portal).signup(email, PASSWORD)).status, 201);
    const du = discordUser(fake, { username: 'mesmo_email', email: email.toUpperCase() });
    fake.oauthAs(du.id);
    const c = new PortalClient(d.portal);
    const { cb } = await discordFlow(c, fake);
    eq(cb.headers.location, '/?erro=1112');
    assert(!cb.setCookie.some((s) => s.startsWith('astra_session=')), 'not signed in');

    const du2 = discordUser(fake, { username: 'nao_verificado', email: `nv.${uniq()}@example.com`, verified: false });
    fake.oauthAs(du2.id);
    const c2 = new PortalClient(d.portal);
    eq((await discordFlow(c2, fake)).cb.headers.location, '/dashboard');
    const me = (await c2.me()).json.user;
    eq(me.email, null, 'an unverified email is not trusted');
    eq(me.name, 'nao_verificado');
  });
});

test('Discord: bad or missing state, a cancelled consent, and a flow from another browser are refused', async () => {
  await withOAuth(async ({ d, fake }) => {
    const du = discordUser(fake, { username: 'alguem' });
    fake.oauthAs(du.id);
    const before = fake.requests.filter((x) => x.route === 'POST /oauth2/token').length;
    const c = new PortalClient(d.portal);
    let f = await discordFlow(c, fake, 'login', { tamper: (u) => u.searchParams.set('state', 'x'.repeat(32)) });
    eq(f.cb.headers.location, '/?erro=1108');
    f = await discordFlow(c, fake, 'login', { tamper: (u) => u.searchParams.delete('state') });
    eq(f.cb.headers.location, '/?erro=1108');
    // the callback in a browser that did not start the flow (login CSRF)
    const start = await new PortalClient(d.portal).get('/api/auth/discord');
    const consent = await fetch(start.headers.location, { redirect: 'manual' });
    const back = new URL(consent.headers.get('location'));
    const victim = new PortalClient(d.portal);
    const r = await victim.get(back.pathname + back.search);
    eq(r.headers.location, '/?erro=1108');
    assert(!r.setCookie.some((s) => s.startsWith('astra_session=')), 'no session');
    // the flow cookie is single use
    const c2 = new PortalClient(d.portal);
    f = await discordFlow(c2, fake);
    eq(f.cb.headers.location, '/dashboard');
    const replay = await c2.get(f.back.pathname + f.back.search);
    eq(replay.headers.location, '/?erro=1108');
    eq(fake.requests.filter((x) => x.route === 'POST /oauth2/token').length, before + 1, 'only the good flow reached the token endpoint');
    // a bad mode
    eq((await c.get('/api/auth/discord?mode=admin')).headers.location, '/?erro=1018');
    // the user cancels on Discord
    fake.oauthAs(null);
    f = await discordFlow(new PortalClient(d.portal), fake);
    eq(f.cb.headers.location, '/?erro=1109');
  });
});

test('fake Discord OAuth is strict: wrong secret, verifier, redirect URI or a reused code', async () => {
  const fake = await startFakeDiscord({});
  try {
    const redirectUri = 'http://127.0.0.1:9/cb';
    const cl = fake.createOAuthClient({ redirectUri });
    const u = fake.createUser({ username: 'teste' });
    fake.setUserEmail(u.id, 'teste@example.com', true);
    fake.oauthAs(u.id);
    const verifier = crypto.randomBytes(48).toString('base64url');
    const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
    const authorize = (params = {}) => {
      const q = new URLSearchParams({ client_id: cl.clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'identify email', state: 'abc', code_challenge: challenge, code_challenge_method: 'S256', ...params });
      for (const [k, v] of Object.entries(params)) if (v === null) q.delete(k);
      return fetch(`${fake.httpBase}/oauth2/authorize?${q}`, { redirect: 'manual' });
    };
    const code = async () => new URL((await authorize()).headers.get('location')).searchParams.get('code');
    const token = (form, headers = {}) => fetch(`${fake.apiBase}/oauth2/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const base = (c) => ({ grant_type: 'authorization_code', code: c, redirect_uri: redirectUri, code_verifier: verifier, client_id: cl.clientId, client_secret: cl.clientSecret });

    eq((await authorize({ redirect_uri: 'http://127.0.0.1:9/other' })).status, 400);
    eq((await authorize({ client_id: '1' })).status, 400);
    eq((await authorize({ state: null })).status, 400);
    eq((await authorize({ code_challenge_method: 'plain' })).status, 400);
    eq((await authorize({ scope: 'identify admin' })).status, 400);

    let r = await token({ ...base(await code()), client_secret: 'wrong' });
    eq([r.status, r.body.error], [401, 'invalid_client']);
    r = await token({ ...base(await code()), code_verifier: crypto.randomBytes(48).toString('base64url') });
    eq([r.status, r.body.error], [400, 'invalid_grant']);
    r = await token({ ...base(await code()), redirect_uri: 'http://127.0.0.1:9/other' });
    eq([r.status, r.body.error], [400, 'invalid_grant']);
    // client auth by Basic works, and the code is single use
    const c = await code();
    const { client_id: _id, client_secret: _s, ...noClient } = base(c);
    r = await token(noClient, { authorization: `Basic ${Buffer.from(`${cl.clientId}:${cl.clientSecret}`).toString('base64')}` });
    eq(r.status, 200, JSON.stringify(r.body));
    eq(r.body.token_type, 'Bearer');
    eq(r.body.scope, 'identify email');
    const me = await fetch(`${fake.apiBase}/users/@me`, { headers: { authorization: `Bearer ${r.body.access_token}` } }).then((x) => x.json());
    eq([me.id, me.email, me.verified], [u.id, 'teste@example.com', true]);
    const first = r.body.access_token;
    r = await token(base(c));
    eq([r.status, r.body.error], [400, 'invalid_grant']);
    // the reuse revoked what the code had given
    eq((await fetch(`${fake.apiBase}/users/@me`, { headers: { authorization: `Bearer ${first}` } })).status, 401);
    const kinds = fake.takeViolations(/^oauth-/).map((v) => v.kind);
    assert(kinds.includes('oauth-token-client') && kinds.includes('oauth-token-verifier') && kinds.includes('oauth-token-redirect') && kinds.includes('oauth-token-code-reused'), kinds.join(','));
    fake.assertNoViolations();
  } finally {
    await fake.close();
  }
});

test('no response carried a password hash', async () => {
  assert(seenBodies.length > 50, 'the tests above ran');
  assertNoHashes();
});
