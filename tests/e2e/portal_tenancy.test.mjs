// One seller can never see or touch another seller's data, whatever route they use: every
// protected route of tests/e2e/lib/portal_routes.mjs (the list a new route must join) is
// called by seller B with seller A's instance, product, variation, key, coupon, order and
// customer ids, and with B's own instance but A's inner ids. Each answers 404, and A's data is
// the same afterwards. The same table drives the body checks: every route that takes a body
// answers 413 one byte over its cap (read from the route table in src/portal_server.c) and
// 400 bad_json for a malformed body. No response carries a stored key.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import net from 'node:net';
import { test, assert, eq } from './lib/harness.mjs';
import { startDaemon, tmpDir, ROOT } from './lib/daemon.mjs';
import { DATA_KEY } from './lib/seed.mjs';
import { PortalClient, PORTAL_PROTECTED_ROUTES, pathFor, seenBodies } from './lib/portal_routes.mjs';
import { startFakeDiscord } from '../fakes/discord/server.mjs';

const PASSWORD = 'senha-forte-123';
const KEYS = ['TENANT-A-KEY-0001-SECRET', 'TENANT-A-KEY-0002-SECRET', 'TENANT-A-KEY-0003-SECRET'];

async function ok(res, status, what) {
  eq(res.status, status, `${what}: ${res.text.slice(0, 300)}`);
  return res.json;
}

// Orders and customers are written by the selling flow; here they are seeded into the stopped
// daemon's files, with the fields the portal reads.
function seedSales(dataDir, instanceId, productId, variationId) {
  const now = Date.now();
  const orderId = crypto.randomUUID(), customerId = crypto.randomUUID();
  const order = {
    id: orderId, code: `T${orderId.slice(0, 7).toUpperCase()}`, instanceId, status: 'delivered', buyerId: '81234567890123456',
    buyerName: 'comprador', couponId: null, coupon: null,
    items: [{ productId, variationId, productName: 'Produto A', variationName: '30 dias', quantity: 1, unitCents: 1500 }],
    subtotalCents: 1500, discountCents: 0, totalCents: 1500, currency: 'BRL',
    payment: { provider: 'mercadopago', id: '123', status: 'approved' },
    createdAt: now - 60000, paidAt: now - 50000, deliveredAt: now - 49000,
    timeline: [{ at: now - 60000, status: 'pending' }, { at: now - 50000, status: 'paid' }, { at: now - 49000, status: 'delivered' }],
  };
  const customer = {
    id: customerId, instanceId, discordId: '81234567890123456', username: 'comprador',
    firstPurchaseAt: now - 50000, lastPurchaseAt: now - 50000, orderCount: 1, totalSpentCents: 1500,
  };
  const put = (file, coll, rec) => {
    const p = path.join(dataDir, file);
    const doc = fs.existsSync(p) ? JSON.parse(fs.readFileSync(p, 'utf8')) : { version: 1, seq: 0 };
    doc[coll] = doc[coll] || {};
    doc[coll][rec.id] = rec;
    fs.writeFileSync(p, JSON.stringify(doc));
  };
  put('orders.json', 'orders', order);
  put('customers.json', 'customers', customer);
  return { order: orderId, customer: customerId };
}

// Seller A's whole store, made through the API: instance, product with a variation, keys,
// a coupon; then orders and customers seeded while the daemon is stopped.
async function storeOf(d, email, token) {
  const c = new PortalClient(d.portal);
  await ok(await c.signup(email, PASSWORD), 201, 'signup');
  const inst = await ok(await c.post('/api/instances', { name: 'Loja' }), 201, 'instance');
  await ok(await c.request('PUT', `/api/instances/${inst.id}/token`, { body: { token } }), 200, 'bot token');
  const prod = await ok(await c.post(`/api/instances/${inst.id}/products`, { name: 'Produto A', priceCents: 1500 }), 201, 'product');
  const withVar = await ok(await c.post(`/api/instances/${inst.id}/products/${prod.id}/variations`, { name: '30 dias', priceCents: 1500 }), 201, 'variation');
  const variation = withVar.variations[0].id;
  const added = await ok(await c.post(`/api/instances/${inst.id}/stock`, { productId: prod.id, variationId: variation, text: KEYS.join('\n') }), 200, 'stock');
  eq(added.added, KEYS.length, 'keys added');
  const list = await ok(await c.get(`/api/instances/${inst.id}/stock?productId=${prod.id}`), 200, 'stock list');
  const coupon = await ok(await c.post(`/api/instances/${inst.id}/coupons`, { code: 'TENANT10', type: 'percent', value: 10 }), 201, 'coupon');
  return { client: c, ids: { instance: inst.id, product: prod.id, variation, stock: list.items[0].id, coupon: coupon.id } };
}

async function snapshot(c, ids) {
  const get = async (p) => (await ok(await c.get(p), 200, p));
  return JSON.stringify([
    await get(`/api/instances/${ids.instance}`).then((i) => ({ ...i, status: undefined, latencyMs: undefined, onlineSince: undefined })),
    await get(`/api/instances/${ids.instance}/products/${ids.product}`),
    (await get(`/api/instances/${ids.instance}/stock`)).items,
    await get(`/api/instances/${ids.instance}/coupons`),
    await get(`/api/instances/${ids.instance}/orders/${ids.order}`),
    await get(`/api/instances/${ids.instance}/customers/${ids.customer}`),
  ]);
}

test('another seller\'s ids answer 404 on every instance route and change nothing', async () => {
  const dir = tmpDir();
  const fake = await startFakeDiscord({ heartbeatInterval: 1000 });
  const apps = [fake.createApp({ name: 'Bot A' }), fake.createApp({ name: 'Bot B' })];
  const env = { DATA_ENCRYPTION_KEY: DATA_KEY, DISCORD_API_BASE: fake.apiBase };
  let d = await startDaemon({ dir, env });
  const a = await storeOf(d, `a.${Date.now()}@loja.test`, apps[0].token);
  const b = await storeOf(d, `b.${Date.now()}@loja.test`, apps[1].token);
  await d.stop();
  Object.assign(a.ids, seedSales(d.dataDir, a.ids.instance, a.ids.product, a.ids.variation));
  Object.assign(b.ids, seedSales(d.dataDir, b.ids.instance, b.ids.product, b.ids.variation));
  d = await startDaemon({ dir, env, portalPort: d.portalPort });
  try {
    // the sessions survive the restart (they are in the store)
    const before = await snapshot(a.client, a.ids);
    const own = await snapshot(b.client, b.ids);
    assert(own.length > 0);
    const routes = PORTAL_PROTECTED_ROUTES.filter((r) => r.route.startsWith('/api/instances/:id'));
    assert(routes.length >= 25, `instance routes in the table (${routes.length})`);
    for (const r of routes) {
      // all of A's ids, then B's instance with A's inner ids
      const variants = [a.ids];
      if (r.route.split(':').length > 2) variants.push({ ...a.ids, instance: b.ids.instance });
      for (const ids of variants) {
        const p = pathFor(r.route, ids);
        const res = await b.client.request(r.method, p, { body: r.body });
        eq(res.status, 404, `${r.method} ${r.route} as seller B with ${ids === a.ids ? 'A\'s ids' : 'B\'s instance and A\'s ids'}: ${res.text.slice(0, 200)}`);
        eq(res.json && res.json.code, 1001, `${r.method} ${p} error code`);
      }
    }
    // ids inside bodies are checked too: B cannot stock, scope a coupon on, or preview A's product
    let res = await b.client.post(`/api/instances/${b.ids.instance}/stock`, { productId: a.ids.product, text: 'B-KEY-1' });
    eq(res.status, 400, 'stock for another seller\'s product');
    eq(res.json.field, 'productId');
    res = await b.client.post(`/api/instances/${b.ids.instance}/coupons`, { code: 'CROSS1', type: 'fixed', value: 100, productIds: [a.ids.product] });
    eq(res.status, 400, 'coupon scoped on another seller\'s product');
    eq(res.json.field, 'productIds');
    res = await b.client.post(`/api/instances/${b.ids.instance}/dm-preview`, { productId: a.ids.product });
    eq(res.status, 404, 'preview of another seller\'s product');
    eq(await snapshot(a.client, a.ids), before, 'seller A\'s data after seller B\'s attempts');
    // no body ever carried a key (none was revealed here), a bot token or a password hash,
    // nor the stored (sealed or hashed) forms of them
    const secrets = [...KEYS, ...apps.map((x) => x.token), 'scrypt$', '"passwordHash"', '"botToken"', '"keyHash"', '"key"', '"apiKeyHash"'];
    for (const body of seenBodies) for (const k of secrets) assert(!body.includes(k), `a response carried ${k}: ${body.slice(0, 200)}`);
  } finally {
    await d.stop();
    await fake.close();
  }
});

// Sends a body the server should refuse before reading it: the daemon answers 413 as soon as
// it sees Content-Length and closes, so the rest of the upload would fail with EPIPE (which
// can also swallow the answer). The head goes first; the body only if no answer came, and
// writing stops at the first byte of the answer. Resolves the status code.
function oversized(c, method, path, body) {
  return new Promise((resolve, reject) => {
    const head = [`${method} ${path} HTTP/1.1`, `host: ${c.host}:${c.port}`,
      `cookie: ${c.cookieHeader(path)}`, `x-csrf-token: ${c.csrf}`,
      'content-type: application/json', `content-length: ${Buffer.byteLength(body)}`,
      'connection: close', '', ''].join('\r\n');
    const sock = net.connect({ host: c.host, port: c.port, localAddress: c.ip });
    let got = '';
    let answered = false;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no answer to ${method} ${path}`)); }, 10000);
    sock.on('error', () => {}); // EPIPE / ECONNRESET once the server has answered and closed
    sock.on('data', (d) => {
      answered = true;
      got += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (m) { clearTimeout(timer); sock.destroy(); resolve(Number(m[1])); }
    });
    sock.on('connect', async () => {
      sock.write(head);
      // the daemon decides on Content-Length alone: give it the chance to answer before the
      // body, as it should (writing on would race its close and lose the answer to EPIPE)
      await new Promise((r) => setTimeout(r, 300));
      const buf = Buffer.from(body);
      for (let i = 0; i < buf.length && !answered && !sock.destroyed; i += 65536) {
        if (!sock.write(buf.subarray(i, i + 65536))) await new Promise((r) => { sock.once('drain', r); setTimeout(r, 50); });
      }
    });
  });
}

test('every route with a body: one byte over its cap is 413, malformed JSON is 400 bad_json', async () => {
  const table = fs.readFileSync(path.join(ROOT, 'src/portal_server.c'), 'utf8');
  const caps = new Map();
  for (const [, method, route, cap, flags] of table.matchAll(/\{HTTP_([A-Z]+),\s*"([^"]+)",\s*\w+,\s*(\d+),\s*([A-Z_| 0]+)\}/g)) {
    caps.set(`${method} ${route}`, { cap: Number(cap), json: flags.includes('ROUTE_JSON') });
  }
  const d = await startDaemon({ dir: tmpDir(), env: { DATA_ENCRYPTION_KEY: DATA_KEY } });
  try {
    const c = new PortalClient(d.portal);
    await ok(await c.signup(`caps.${Date.now()}@loja.test`, PASSWORD), 201, 'signup');
    const inst = await ok(await c.post('/api/instances', { name: 'Loja' }), 201, 'instance');
    let checked = 0;
    for (const r of PORTAL_PROTECTED_ROUTES.filter((x) => x.method !== 'GET')) {
      const info = caps.get(`${r.method} ${r.route}`);
      assert(info, `${r.method} ${r.route} found in the route table`);
      if (!info.json || info.cap === 0) continue;
      const p = pathFor(r.route, { instance: inst.id });
      // valid JSON of exactly cap + 1 bytes: {"x":"aaa…"}
      const big = `{"x":"${'a'.repeat(info.cap + 1 - 8)}"}`;
      eq(big.length, info.cap + 1);
      eq(await oversized(c, r.method, p, big), 413, `${r.method} ${r.route} with ${big.length} bytes (cap ${info.cap})`);
      const res = await c.request(r.method, p, { body: '{"name": ' });
      eq(res.status, 400, `${r.method} ${r.route} with malformed JSON`);
      eq(res.json.error, 'bad_json');
      checked++;
    }
    assert(checked >= 15, `routes with a JSON body checked (${checked})`);
  } finally {
    await d.stop();
  }
});
