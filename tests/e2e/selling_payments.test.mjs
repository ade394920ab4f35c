// Payment confirmation end to end, with the real binary and the fake Mercado Pago: the signed
// webhook, the reconciliation timer, refunds and the seller's wallet (docs/selling.md).
//
// The cart that creates orders is another piece, so each world makes its state the way
// checkout leaves it: a seller, an instance, products and keys through the portal API; then,
// with the daemon stopped, pending orders with their keys reserved (as src/shop/sale.c writes
// them) in data/orders.json and data/instances/<id>/stock.json, and their Pix payments created
// in the fake exactly as the daemon would (POST /v1/payments, X-Idempotency-Key
// astra-order-<orderId>, notification_url at the daemon's webhook); then a restart.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test, assert, eq, until, sleep } from './lib/harness.mjs';
import { startDaemon, tmpDir, freePorts } from './lib/daemon.mjs';
import { DATA_KEY } from './lib/seed.mjs';
import { signup, api } from './lib/portal_client.mjs';
import { startFakeMercadoPago } from '../fakes/mercadopago/server.mjs';

const TOKEN = 'APP_USR-test-token';
const SECRET = 'whsec-astra-e2e';
const FEE_BP = 499; // PLATFORM_FEE_PERCENT 4.99
const FEE_FIXED = 50;
const fee = (total) => Math.min(total, Math.floor(total * FEE_BP / 10000) + FEE_FIXED);

const CODE_CHARS = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const code = () => Array.from({ length: 8 }, () => CODE_CHARS[crypto.randomInt(CODE_CHARS.length)]).join('');

// MP's date format in Brasília time, as mp_format_time writes it.
function mpTime(ms) {
  return new Date(ms - 3 * 3600000).toISOString().replace('Z', '-03:00');
}

function readColl(dataDir, file, key) {
  const p = path.join(dataDir, file);
  return fs.existsSync(p) ? (JSON.parse(fs.readFileSync(p, 'utf8'))[key] || {}) : {};
}

function writeColl(dataDir, file, key, records) {
  const p = path.join(dataDir, file);
  fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o700 });
  const doc = fs.existsSync(p) ? JSON.parse(fs.readFileSync(p, 'utf8')) : { version: 1, seq: 0 };
  doc[key] = doc[key] || {};
  for (const r of records) doc[key][r.id] = r;
  fs.writeFileSync(p, JSON.stringify(doc), { mode: 0o600 });
}

// A world: the fake MP, a daemon on fixed ports (the notification_url must survive restarts),
// one seller with one instance and products with keys.
async function world({ env = {}, products = [{ name: 'Chave Steam', priceCents: 1990, keys: 6 }] } = {}) {
  const mp = await startFakeMercadoPago({
    accessToken: TOKEN, webhookSecret: SECRET, webhookTimeScale: 0.001, notifyOnCreate: false,
  });
  const dir = tmpDir();
  const [portalPort, adminPort] = await freePorts(2);
  const fullEnv = {
    DATA_ENCRYPTION_KEY: DATA_KEY, MERCADOPAGO_API_BASE: mp.apiBase, MERCADOPAGO_ACCESS_TOKEN: TOKEN,
    MERCADOPAGO_WEBHOOK_SECRET: SECRET, PUBLIC_URL: `http://127.0.0.1:${portalPort}`,
    PLATFORM_FEE_PERCENT: '4.99', PLATFORM_FEE_FIXED_CENTS: String(FEE_FIXED),
    PAYMENT_RECONCILE_SECONDS: '3600', ...env,
  };
  const start = () => startDaemon({ dir, env: fullEnv, portalPort, adminPort });
  const d = await start();
  const s = await signup(d);
  let r = await api(d, s, 'POST', '/api/instances', { name: 'Loja Pix' });
  eq(r.status, 201);
  const inst = (await r.json()).id;
  const prods = [];
  for (const p of products) {
    r = await api(d, s, 'POST', `/api/instances/${inst}/products`, { name: p.name, priceCents: p.priceCents });
    eq(r.status, 201, 'product');
    const prod = await r.json();
    const keys = Array.from({ length: p.keys }, (_, i) => `KEY-${prod.id.slice(0, 8)}-${i}-${crypto.randomUUID()}`);
    r = await api(d, s, 'POST', `/api/instances/${inst}/stock`, { productId: prod.id, text: keys.join('\n') });
    eq(r.status, 200, 'stock');
    r = await api(d, s, 'GET', `/api/instances/${inst}/stock?productId=${prod.id}&limit=100`);
    const items = (await r.json()).items;
    eq(items.length, p.keys, 'keys listed');
    prods.push({ ...prod, stockIds: items.map((i) => i.id) });
  }
  return { mp, dir, d, s, inst, prods, start, env: fullEnv, notificationUrl: `http://127.0.0.1:${portalPort}/api/webhooks/mercadopago?source_news=webhooks` };
}

// Orders written into the stopped daemon's data, with their payments created in the fake.
// spec: {product, keys: [stockId], status='pending', reservedBy?, expiresAt, payment=true,
// payAmountCents?, totalCents?}. Returns the orders with .paymentId.
async function seedOrders(w, specs) {
  eq((await w.d.stop()).code, 0);
  const data = path.join(w.dir, 'data');
  const now = Date.now();
  const stockFile = path.join('instances', w.inst, 'stock.json');
  const stock = readColl(data, stockFile, 'stock');
  const orders = [];
  for (const spec of specs) {
    const id = crypto.randomUUID();
    const p = spec.product;
    const qty = spec.keys.length;
    const total = spec.totalCents ?? p.priceCents * qty;
    const expiresAt = spec.expiresAt ?? now + 30 * 60000;
    const o = {
      id, instanceId: w.inst, code: code(), buyerId: '123456789012345678', buyerName: 'comprador',
      cartId: null,
      items: [{ productId: p.id, variationId: null, productName: p.name, variationName: null,
        quantity: qty, unitCents: p.priceCents, stockIds: spec.keys }],
      stockIds: spec.keys, subtotalCents: total, discountCents: 0, totalCents: total, currency: 'BRL',
      couponId: null, coupon: null, payment: null, createdAt: now - 60000, updatedAt: now - 60000,
      expiresAt, paidAt: null, deliveredAt: null, status: spec.status || 'pending',
      timeline: [{ at: now - 60000, status: 'pending' }],
    };
    if (o.status !== 'pending') o.timeline.push({ at: now - 1000, status: o.status });
    const holder = spec.reservedBy || (o.status === 'pending' ? id : null);
    for (const k of spec.keys) {
      const rec = stock[k];
      assert(rec, `stock ${k}`);
      if (holder) {
        Object.assign(rec, { status: 'reserved', orderId: holder, reservedUntil: expiresAt,
          slot: `${p.id}_none_reserved` });
      }
    }
    if (spec.payment !== false) {
      const amount = spec.payAmountCents ?? total;
      const body = {
        transaction_amount: amount / 100, description: `Pedido ${o.code}`, payment_method_id: 'pix',
        external_reference: id, notification_url: w.notificationUrl,
        date_of_expiration: mpTime(Math.max(expiresAt, now + 31 * 60000)),
        payer: { email: 'comprador@astra.test' },
      };
      const r = await fetch(`${w.mp.apiBase}/v1/payments`, {
        method: 'POST', body: JSON.stringify(body),
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json',
          'x-idempotency-key': `astra-order-${id}` },
      });
      eq(r.status, 201, 'payment created');
      const pay = await r.json();
      o.paymentId = String(pay.id);
      o.payment = { provider: 'mercadopago', id: String(pay.id), status: 'pending',
        qrCode: pay.point_of_interaction.transaction_data.qr_code, expiresAt };
    }
    orders.push(o);
  }
  writeColl(data, 'orders.json', 'orders', orders);
  writeColl(data, stockFile, 'stock', Object.values(stock));
  w.d = await w.start();
  return orders;
}

const getJson = async (w, p) => {
  const r = await api(w.d, w.s, 'GET', p);
  return { status: r.status, body: await r.json() };
};
const order = async (w, o) => (await getJson(w, `/api/instances/${w.inst}/orders/${o.id}`)).body;
const wallet = async (w, q = '') => (await getJson(w, `/api/wallet${q}`)).body;
const stockOf = async (w, p) => Object.fromEntries(
  (await getJson(w, `/api/instances/${w.inst}/stock?productId=${p.id}&limit=100`)).body.items.map((i) => [i.id, i.status]));
const gets = (w, pid) => w.mp.requests({ method: 'GET' }).filter((r) => r.path === `/v1/payments/${pid}`).length;
const delivered = (w, pid, n = 1) => until(
  () => w.mp.deliveries({ paymentId: pid }).filter((x) => x.state === 'delivered').length >= n,
  { timeout: 15000, what: `webhook for ${pid} delivered` });
const ids = (b) => b.entries.map((e) => e.id).sort();

async function finish(w) {
  const ok = (await w.d.stop()).code;
  w.mp.assertNoViolations();
  await w.mp.close();
  eq(ok, 0, 'clean exit');
}

// ---- world A: webhooks ---------------------------------------------------------------------

const A = {};

test('setup A: a seller, an instance, keys, and pending orders with their Pix payments', async () => {
  Object.assign(A, await world({ products: [{ name: 'Chave Steam', priceCents: 1990, keys: 8 }] }));
  const [p] = A.prods;
  const k = p.stockIds;
  [A.o1, A.o2, A.o3, A.o4, A.o5] = await seedOrders(A, [
    { product: p, keys: [k[0], k[1]] },
    { product: p, keys: [k[2]] },
    { product: p, keys: [k[3]], payAmountCents: 2990 }, // the payment's amount differs
    { product: p, keys: [k[4]] },
    { product: p, keys: [k[5]] },
  ]);
  eq((await order(A, A.o1)).status, 'pending');
});

test('approve → signed webhook → order paid, keys sold, wallet credited minus the fee', async () => {
  const { o1 } = A;
  const [p] = A.prods;
  A.mp.approve(o1.paymentId);
  await delivered(A, o1.paymentId);
  const d = A.mp.deliveries({ paymentId: o1.paymentId })[0];
  eq(d.attempts.at(-1).status, 200, 'acknowledged with 200');
  const o = await order(A, o1);
  eq(o.status, 'paid');
  eq(o.payment.status, 'approved');
  assert(o.paidAt > 0, 'paidAt');
  const st = await stockOf(A, p);
  eq([st[o1.stockIds[0]], st[o1.stockIds[1]]], ['sold', 'sold'], 'keys sold');
  const b = await wallet(A);
  eq(b.currency, 'BRL');
  eq(b.balanceCents, 3980 - fee(3980), 'balance = sale - fee');
  eq(ids(b), [`fee-${o1.id}`, `sale-${o1.id}`]);
  const sale = b.entries.find((e) => e.type === 'sale');
  eq([sale.amountCents, sale.orderId, sale.instanceId], [3980, o1.id, A.inst]);
  eq(b.entries.find((e) => e.type === 'fee').amountCents, -fee(3980));
  eq(b.nextCursor, null);
});

test('forged, tampered id, stale, malformed and missing signatures: 401 and nothing happens', async () => {
  const { o5 } = A;
  A.mp.setStatus(o5.paymentId, 'approved', 'accredited', { notify: false });
  const before = gets(A, o5.paymentId);
  for (const variant of ['forged', 'tamperedId', 'stale', 'noSignature', 'malformedSignature']) {
    const res = [].concat(await A.mp.sendWebhook(o5.paymentId, { variant }));
    for (const r of res) eq(r.attempts[0].status, 401, `${variant}: 401`);
  }
  // a raw forgery with a plausible header, and one without any header at all
  const url = `${A.d.portal}/api/webhooks/mercadopago?data.id=${o5.paymentId}&type=payment`;
  let r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json',
    'x-signature': `ts=${Date.now()},v1=${'ab'.repeat(32)}`, 'x-request-id': crypto.randomUUID() }, body: '{}' });
  eq(r.status, 401);
  r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  eq(r.status, 401);
  eq(gets(A, o5.paymentId), before, 'no API call for a refused notification');
  eq((await order(A, A.o5)).status, 'pending', 'order unchanged');
  assert(!ids(await wallet(A)).includes(`sale-${o5.id}`), 'no credit');
  // the real one, retried with a fresh ts, goes through
  await A.mp.sendWebhook(o5.paymentId, { variant: 'tsSeconds' });
  eq((await order(A, A.o5)).status, 'paid', 'a ts in seconds is accepted');
});

test('the same webhook ten times at once, duplicated and out of order: one credit', async () => {
  const { o2 } = A;
  A.mp.setStatus(o2.paymentId, 'approved', 'accredited', { notify: false });
  const sends = [];
  for (let i = 0; i < 5; i++) {
    sends.push(A.mp.sendWebhook(o2.paymentId, { variant: 'duplicate' }));
    sends.push(A.mp.sendWebhook(o2.paymentId, { variant: 'outOfOrder' }));
  }
  const res = (await Promise.all(sends)).flat();
  assert(res.length >= 10, 'ten or more notifications');
  for (const r of res) eq(r.attempts.at(-1).status, 200, 'each acknowledged');
  const o = await order(A, o2);
  eq(o.status, 'paid');
  eq(o.timeline.filter((t) => t.status === 'paid').length, 1, 'paid once');
  const b = await wallet(A);
  eq(b.entries.filter((e) => e.orderId === o2.id).map((e) => e.type).sort(), ['fee', 'sale'], 'one credit, one fee');
  eq(b.balanceCents, 3980 - fee(3980) + 2 * (1990 - fee(1990)));
});

test('wrong amount: acknowledged, logged, nothing changes', async () => {
  const { o3 } = A;
  A.mp.approve(o3.paymentId);
  await delivered(A, o3.paymentId);
  eq((await order(A, o3)).status, 'pending', 'not paid');
  assert(!ids(await wallet(A)).includes(`sale-${o3.id}`), 'no credit');
  await until(() => A.d.logText().includes(`payment ${o3.paymentId} approved for 2990 cents`),
    { what: 'mismatch warning' });
});

test('unknown payment and legacy IPN: 200 and ignored', async () => {
  const res = [].concat(await A.mp.sendWebhook(A.o1.paymentId, { variant: 'unknownPayment' }));
  for (const r of res) eq(r.attempts[0].status, 200);
  const before = gets(A, A.o4.paymentId);
  const r = await fetch(`${A.d.portal}/api/webhooks/mercadopago?topic=payment&id=${A.o4.paymentId}`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ resource: A.o4.paymentId, topic: 'payment' }) });
  eq(r.status, 200, 'IPN acknowledged');
  eq(gets(A, A.o4.paymentId), before, 'IPN makes no API call');
  // another topic, well signed
  const res2 = [].concat(await A.mp.sendWebhook(A.o4.paymentId, { variant: 'uppercaseId' }));
  for (const x of res2) eq(x.attempts[0].status, 200, 'non-numeric id ignored');
  eq((await order(A, A.o4)).status, 'pending');
});

test('Mercado Pago answering 500: 503, then the retry fulfils', async () => {
  const { o4 } = A;
  A.mp.failNext({ status: 500, count: 4, method: 'GET', path: `/v1/payments/${o4.paymentId}` });
  A.mp.approve(o4.paymentId);
  await delivered(A, o4.paymentId);
  const d = A.mp.deliveries({ paymentId: o4.paymentId }).find((x) => x.action === 'payment.updated');
  eq(d.attempts[0].status, 503, 'first attempt 503');
  eq(d.attempts.at(-1).status, 200, 'retry 200');
  eq((await order(A, o4)).status, 'paid');
});

test('refund: reversal entries, order refunded, balance back', async () => {
  const { o1 } = A;
  const before = await wallet(A);
  A.mp.refund(o1.paymentId);
  await until(async () => (await order(A, o1)).status === 'refunded', { timeout: 15000, what: 'refunded' });
  const b = await wallet(A);
  const mine = Object.fromEntries(b.entries.filter((e) => e.orderId === o1.id).map((e) => [e.id, e]));
  eq(mine[`refund-${o1.id}`].amountCents, -3980);
  eq(mine[`refund-${o1.id}`].type, 'refunded');
  eq(mine[`feeback-${o1.id}`].amountCents, fee(3980));
  eq(b.balanceCents, before.balanceCents - 3980 + fee(3980));
  // a second refund notification changes nothing
  await A.mp.sendWebhook(o1.paymentId, { variant: 'duplicate' });
  eq((await wallet(A)).balanceCents, b.balanceCents);
  // pages of one walk every entry once, newest first
  const seen = [];
  let cursor = null;
  do {
    const page = await wallet(A, `?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    seen.push(...page.entries);
    cursor = page.nextCursor;
  } while (cursor && seen.length < 50);
  eq(seen.map((e) => e.id), b.entries.map((e) => e.id), 'pages of one = the whole list');
  for (let i = 1; i < seen.length; i++) assert(seen[i - 1].createdAt >= seen[i].createdAt, 'newest first');
  eq((await getJson(A, '/api/wallet?limit=0')).status, 400);
  eq((await getJson(A, '/api/wallet?cursor=%%%')).status, 400);
  eq((await fetch(`${A.d.portal}/api/wallet`)).status, 401, 'session required');
});

test('outbox entries written for each fulfilment; clean stop', async () => {
  eq((await A.d.stop()).code, 0);
  const outbox = readColl(path.join(A.dir, 'data'), 'deliveries.json', 'outbox');
  for (const o of [A.o1, A.o2, A.o4, A.o5]) assert(outbox[`dm-${o.id}`], `dm for ${o.id}`);
  assert(!outbox[`dm-${A.o3.id}`], 'no dm for the mismatch');
  // this world has no Discord and the product was never posted: no post edit to queue
  // (selling_posts covers the posted case)
  assert(!outbox[`post-${A.prods[0].id}`], 'no post update for a product without a post');
  await finish(A);
});

// ---- world B: reconciliation, expiry and late Pix -------------------------------------------

const B = {};

test('setup B: reconciliation every second, orders pending, expired and waiting', async () => {
  Object.assign(B, await world({
    env: { PAYMENT_RECONCILE_SECONDS: '1' },
    products: [{ name: 'Gift Card', priceCents: 5000, keys: 4 }, { name: 'Última Chave', priceCents: 990, keys: 1 }],
  }));
  const [p, q] = B.prods;
  const past = Date.now() - 60000;
  B.mp.muteWebhooks(true);
  [B.r1, B.e1, B.l1, B.c1, B.w1, B.p2] = await seedOrders(B, [
    { product: p, keys: [p.stockIds[0]] }, // paid while webhooks are lost
    { product: p, keys: [p.stockIds[1]], expiresAt: past, payment: false }, // checkout never finished
    { product: p, keys: [p.stockIds[2]], expiresAt: past }, // reservation over, Pix not paid yet
    { product: q, keys: [q.stockIds[0]], payment: false }, // holds the last key of q
    { product: q, keys: [q.stockIds[0]], status: 'expired', expiresAt: past },
    { product: p, keys: [p.stockIds[3]] }, // stays pending: read on every pass
  ]);
  // the c1 order, seeded after w1's key was written, must own the key
  eq((await stockOf(B, q))[q.stockIds[0]], 'reserved');
});

test('webhooks lost: reconciliation fulfils; lapsed reservations expire', async () => {
  B.mp.approve(B.r1.paymentId);
  await until(async () => (await order(B, B.r1)).status === 'paid', { timeout: 15000, what: 'reconciled' });
  eq(B.mp.deliveries({ paymentId: B.r1.paymentId }).length, 0, 'no webhook was sent');
  assert(ids(await wallet(B)).includes(`sale-${B.r1.id}`), 'credited');
  await until(async () => (await order(B, B.e1)).status === 'expired', { timeout: 10000, what: 'e1 expired' });
  await until(async () => (await order(B, B.l1)).status === 'expired', { timeout: 10000, what: 'l1 expired' });
  const st = await stockOf(B, B.prods[0]);
  eq([st[B.prods[0].stockIds[1]], st[B.prods[0].stockIds[2]]], ['available', 'available'], 'keys back');
  assert(gets(B, B.l1.paymentId) >= 1, 'l1 had a last look');
  // pending orders with time left stay pending
  eq((await order(B, B.c1)).status, 'pending');
});

test('a Pix paid after its reservation expired is honoured, or waits for stock', async () => {
  B.mp.muteWebhooks(false);
  B.mp.approve(B.l1.paymentId);
  await until(async () => (await order(B, B.l1)).status === 'paid', { timeout: 15000, what: 'late paid' });
  const o = await order(B, B.l1);
  assert(o.timeline.some((t) => t.status === 'paid' && t.detail === 'late'), 'marked late');
  B.mp.approve(B.w1.paymentId);
  await until(async () => (await order(B, B.w1)).status === 'waiting_stock', { timeout: 15000, what: 'waiting' });
  eq((await stockOf(B, B.prods[1]))[B.prods[1].stockIds[0]], 'reserved', 'the other order keeps its key');
  const b = await wallet(B);
  for (const x of [B.r1, B.l1, B.w1]) assert(ids(b).includes(`sale-${x.id}`), `credited ${x.id}`);
  eq(b.balanceCents, 2 * (5000 - fee(5000)) + 990 - fee(990));
});

test('stop with payment reads in flight (reconciliation and a webhook): clean, leak-free', async () => {
  B.mp.setDelay(3000);
  const before = gets(B, B.p2.paymentId);
  await until(() => gets(B, B.p2.paymentId) > before, { timeout: 5000, what: 'a pass reading p2' });
  const hook = B.mp.sendWebhook(B.p2.paymentId, { variant: 'normal' });
  await sleep(200);
  await finish(B);
  await hook.catch(() => {});
});

// ---- world C: no webhook secret ------------------------------------------------------------

test('no webhook secret: 503, logged once, nothing read', async () => {
  const dir = tmpDir();
  const d = await startDaemon({ dir, env: { DATA_ENCRYPTION_KEY: DATA_KEY, MERCADOPAGO_WEBHOOK_SECRET: undefined } });
  try {
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${d.portal}/api/webhooks/mercadopago?data.id=123&type=payment`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': `ts=${Date.now()},v1=${'0'.repeat(64)}` },
        body: '{}' });
      eq(r.status, 503);
    }
    await sleep(100);
    eq(d.logText().split('\n').filter((l) => l.includes('MERCADOPAGO_WEBHOOK_SECRET is not set')).length, 1, 'one log line');
  } finally {
    eq((await d.stop()).code, 0);
  }
});
