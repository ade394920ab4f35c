// The stock of keys through the portal API: bulk uploads (lines, CSV with header and quotes),
// duplicates and invalid lines by line number, a chunk sent twice, the 5000-key limit,
// variations, the list (filters, pagination, never a key), reveal with its audit line,
// removal (single and bulk), ownership, keys sealed at rest, and stock across a restart.
// Products are seeded on disk (the catalog routes are another engineer's work).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test, assert, eq, match } from './lib/harness.mjs';
import { startDaemon, tmpDir } from './lib/daemon.mjs';
import { DATA_KEY, sealToken } from './lib/seed.mjs';
import { signup, api } from './lib/portal_client.mjs';

const W = {}; // the world shared by the tests of this file, in order
const EN = { 'accept-language': 'en' };
const allKeys = new Set(); // every raw key sent: none may appear where it should not
const bodies = []; // every response body except reveals
const BULK_RE = /BULK5K-\d{6}-QWER/;

async function call(method, p, json, headers) {
  const r = await api(W.d, W.s, method, p, json, headers);
  const text = await r.text();
  if (!p.endsWith('/reveal')) bodies.push(text);
  return { status: r.status, body: text ? JSON.parse(text) : null, headers: r.headers };
}
const stock = (suffix = '') => `/api/instances/${W.inst}/stock${suffix}`;
function add(body, headers) {
  for (const k of String(body.text || '').split(/\r?\n/)) if (k.trim()) allKeys.add(k.trim());
  return call('POST', stock(), body, headers);
}

function product(id, { variations = [], deleted = false } = {}) {
  const p = {
    id, name: `Produto ${id}`, description: '', imageUrl: null, priceCents: 1990, currency: 'BRL',
    active: true, dmTemplate: null, lowStockThreshold: 0, post: null,
    variations: variations.map((v) => ({ id: v, name: v, priceCents: 990, active: true })),
    createdAt: Date.now(), updatedAt: Date.now(),
  };
  if (deleted) p.deletedAt = Date.now();
  return p;
}

// The daemon's keyed hash: HMAC-SHA256 under a subkey of the data key, over
// instance id || 0x00 || key (src/shop/stock.c).
function keyHash(inst, key) {
  const sub = crypto.createHmac('sha256', Buffer.from(DATA_KEY, 'hex')).update('astra stock key hash v1').digest();
  return crypto.createHmac('sha256', sub).update(Buffer.concat([Buffer.from(inst), Buffer.from([0]), Buffer.from(key)])).digest('hex');
}

function seedStockRecord(inst, id, productId, key, status) {
  return {
    id, productId, variationId: null, key: sealToken(key, DATA_KEY), keyHash: keyHash(inst, key), hint: key.length >= 12 ? key.slice(-4) : null,
    status, orderId: status === 'available' ? null : 'order-1',
    reservedUntil: status === 'reserved' ? Date.now() + 600000 : null,
    createdAt: Date.now() - 3600000, soldAt: status === 'sold' ? Date.now() - 60000 : null,
  };
}

function writeScoped(inst, file, coll, records) {
  const dir = path.join(W.dir, 'data', 'instances', inst);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = path.join(dir, file);
  const doc = fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) : { version: 1, seq: 0 };
  doc[coll] = doc[coll] || {};
  for (const r of records) doc[coll][r.id] = r;
  fs.writeFileSync(f, JSON.stringify(doc));
}

const auditLines = () => {
  const f = path.join(W.dir, 'data', 'audit.jsonl');
  return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
};

test('setup: two sellers, instances through the API, products and sold/reserved keys seeded', async () => {
  W.dir = tmpDir();
  const env = { DATA_ENCRYPTION_KEY: DATA_KEY };
  W.d = await startDaemon({ dir: W.dir, env });
  W.s = await signup(W.d);
  W.other = await signup(W.d);
  let r = await api(W.d, W.s, 'POST', '/api/instances', { name: 'Loja de Chaves' });
  eq(r.status, 201);
  W.inst = (await r.json()).id;
  r = await api(W.d, W.other, 'POST', '/api/instances', { name: 'Outra Loja' });
  W.otherInst = (await r.json()).id;
  eq((await W.d.stop()).code, 0);
  writeScoped(W.inst, 'products.json', 'products', [
    product('p-plain'), product('p-var', { variations: ['v-30', 'v-90'] }),
    product('p-gone', { deleted: true }),
  ]);
  writeScoped(W.otherInst, 'products.json', 'products', [product('p-other')]);
  writeScoped(W.inst, 'stock.json', 'stock', [
    seedStockRecord(W.inst, 's-reserved', 'p-plain', 'RESERVED-KEY-0001', 'reserved'),
    seedStockRecord(W.inst, 's-sold', 'p-plain', 'SOLD-KEY-00000002', 'sold'),
  ]);
  writeScoped(W.otherInst, 'stock.json', 'stock', [
    seedStockRecord(W.otherInst, 's-foreign', 'p-other', 'FOREIGN-KEY-0003', 'available'),
  ]);
  allKeys.add('RESERVED-KEY-0001').add('SOLD-KEY-00000002').add('FOREIGN-KEY-0003');
  W.d = await startDaemon({ dir: W.dir, env });
});

test('lines: added, trimmed, repeated and invalid lines reported by number; a chunk sent twice only reports duplicates', async () => {
  const long = 'L'.repeat(501);
  const text = 'KEY-AAAA-0001-XYZ\n\n  KEY-B  \r\nKEY-AAAA-0001-XYZ\n' + long + '\nBAD\u0007KEY\nKEY-ÇÃO-ÚNICA-ÑÑ\n';
  let r = await add({ productId: 'p-plain', text });
  eq(r.status, 200, JSON.stringify(r.body));
  eq(r.body.added, 3);
  eq(r.body.duplicates, [{ line: 4, masked: '••••••••-XYZ', reason: 'repeated' }]);
  eq(r.body.invalid, [{ line: 5, reason: 'too_long' }, { line: 6, reason: 'control_chars' }]);
  eq(r.body.counts, { available: 3, reserved: 1, sold: 1 });
  r = await add({ productId: 'p-plain', format: 'lines', text });
  eq(r.status, 200);
  eq(r.body.added, 0);
  eq(r.body.duplicates, [
    { line: 1, masked: '••••••••-XYZ', reason: 'in_stock' },
    { line: 3, masked: '••••••••', reason: 'in_stock' },
    { line: 4, masked: '••••••••-XYZ', reason: 'repeated' },
    { line: 7, masked: '••••••••A-ÑÑ', reason: 'in_stock' },
  ]);
  eq(r.body.counts.available, 3);
  // the same key as a seeded sold one is in stock too
  r = await add({ productId: 'p-plain', text: 'SOLD-KEY-00000002' });
  eq(r.body.duplicates, [{ line: 1, masked: '••••••••0002', reason: 'in_stock' }]);
});

test('csv: header skipped, first column, quotes with commas and doubled quotes', async () => {
  const text = '\ufeffChave,observação\r\n"CSV,KEY-0001-ABCD",primeira\r\n"say ""hi"" key-0002",segunda\r\nCSV-PLAIN-0003 ,"x,y"\r\n';
  for (const k of ['CSV,KEY-0001-ABCD', 'say "hi" key-0002', 'CSV-PLAIN-0003']) allKeys.add(k);
  const r = await call('POST', stock(), { productId: 'p-var', variationId: 'v-30', format: 'csv', text });
  eq(r.status, 200, JSON.stringify(r.body));
  eq(r.body.added, 3);
  eq(r.body.duplicates, []);
  eq(r.body.invalid, []);
  eq(r.body.counts, { available: 3, reserved: 0, sold: 0 });
  const list = await call('GET', stock('?productId=p-var&variationId=v-30'));
  const masks = list.body.items.map((i) => i.masked).sort();
  eq(masks, ['••••••••0002', '••••••••0003', '••••••••ABCD']);
  W.quoted = list.body.items.find((i) => i.masked === '••••••••0002').id;
});

test('limits and targets: 5000 keys at most, variation required or refused, unknown product, bad fields', async () => {
  const many = Array.from({ length: 5001 }, (_, i) => `BULK-${String(i).padStart(6, '0')}`).join('\n');
  let r = await call('POST', stock(), { productId: 'p-plain', text: many }, EN);
  eq(r.status, 400);
  eq(r.body.code, 1221);
  eq(r.body.error, 'stock_too_many');
  match(r.body.message, /at most 5000/);
  eq((await call('GET', stock('?productId=p-plain&status=available'))).body.counts.available, 3, 'nothing added');
  r = await call('POST', stock(), { productId: 'p-var', text: 'K-1' }, EN);
  eq([r.status, r.body.code, r.body.field], [400, 1203, 'variationId']);
  match(r.body.message, /has variations/);
  r = await call('POST', stock(), { productId: 'p-var', text: 'K-1' });
  match(r.body.message, /variações/);
  r = await call('POST', stock(), { productId: 'p-var', variationId: 'v-nope', text: 'K-1' });
  eq([r.status, r.body.error, r.body.field], [400, 'bad_field', 'variationId']);
  r = await call('POST', stock(), { productId: 'p-plain', variationId: 'v-30', text: 'K-1' });
  eq([r.status, r.body.error, r.body.field], [400, 'bad_field', 'variationId']);
  for (const pid of ['p-nope', 'p-gone', 'p-other']) {
    r = await call('POST', stock(), { productId: pid, text: 'K-1' });
    eq([r.status, r.body.error, r.body.field], [400, 'bad_field', 'productId'], pid);
  }
  r = await call('POST', stock(), { productId: 'p-plain', text: 'K-1', formato: 'csv' });
  eq([r.status, r.body.error, r.body.field], [400, 'unknown_field', 'formato']);
  r = await call('POST', stock(), { productId: 'p-plain', text: 'K-1', format: 'xlsx' });
  eq([r.status, r.body.field], [400, 'format']);
  r = await call('POST', stock(), { productId: 'p-plain' });
  eq([r.status, r.body.error, r.body.field], [400, 'missing_field', 'text']);
  r = await call('POST', stock(), { productId: 'p-plain', text: 42 });
  eq([r.status, r.body.field], [400, 'text']);
  eq((await call('GET', stock('?productId=p-plain'))).body.counts, { available: 3, reserved: 1, sold: 1 });
});

test('a 5000-key upload is added in one request, quickly', async () => {
  const keys = Array.from({ length: 5000 }, (_, i) => `BULK5K-${String(i).padStart(6, '0')}-QWER`);
  // these 5000 are checked by one pattern (BULK_RE) rather than one by one
  const t0 = Date.now();
  const r = await call('POST', stock(), { productId: 'p-var', variationId: 'v-90', text: keys.join('\r\n') });
  const ms = Date.now() - t0;
  eq(r.status, 200);
  eq(r.body.added, 5000);
  const line = W.d.logText().split('\n').find((l) => l.includes('stock upload: 5000 entries'));
  console.log(`# 5000-key upload: ${ms} ms round trip; daemon: ${line ? JSON.parse(line).msg : '?'}`);
});

test('list: filters, newest first, cursor pagination, counts, bad queries; never a key', async () => {
  const keys = Array.from({ length: 7 }, (_, i) => `PAGE-KEY-${i}-ABCDEFG${i}`);
  for (const k of keys) { // one request each: distinct createdAt, in order
    eq((await add({ productId: 'p-var', variationId: 'v-30', text: k })).body.added, 1);
    await new Promise((res) => setTimeout(res, 3));
  }
  const seen = [];
  let cursor = null, pages = 0;
  do {
    const r = await call('GET', stock(`?productId=p-var&variationId=v-30&limit=4${cursor ? `&cursor=${cursor}` : ''}`));
    eq(r.status, 200);
    eq(r.body.counts, { available: 10, reserved: 0, sold: 0 });
    seen.push(...r.body.items);
    cursor = r.body.nextCursor;
    pages++;
  } while (cursor);
  eq(pages, 3);
  eq(seen.length, 10);
  eq(new Set(seen.map((i) => i.id)).size, 10);
  for (let i = 1; i < seen.length; i++) assert(seen[i - 1].createdAt >= seen[i].createdAt, 'newest first');
  eq(seen.slice(0, 7).map((i) => i.masked), keys.map((k) => `••••••••${k.slice(-4)}`).reverse());
  const it = seen[0];
  eq(Object.keys(it).sort(), ['createdAt', 'flag', 'id', 'masked', 'orderId', 'productId', 'reservedUntil', 'soldAt', 'status', 'variationId']);
  eq([it.productId, it.variationId, it.status, it.orderId, it.soldAt], ['p-var', 'v-30', 'available', null, null]);
  // status filter; counts stay those of the product
  let r = await call('GET', stock('?productId=p-plain&status=sold'));
  eq(r.body.items.map((i) => [i.id, i.status, i.orderId]), [['s-sold', 'sold', 'order-1']]);
  eq(r.body.counts, { available: 3, reserved: 1, sold: 1 });
  eq(r.body.nextCursor, null);
  r = await call('GET', stock('?status=reserved'));
  eq(r.body.items.map((i) => i.id), ['s-reserved']);
  r = await call('GET', stock('?limit=200'));
  eq(r.body.items.length, 200);
  eq(r.body.counts.available, 5013);
  r = await call('GET', stock());
  eq(r.body.items.length, 50);
  for (const [q, name] of [['status=vendido', 'status'], ['limit=0', 'limit'], ['limit=201', 'limit'],
    ['limit=abc', 'limit'], ['limit=', 'limit'], ['limit=-1', 'limit'], ['cursor=***', 'cursor'],
    ['cursor=bm9wZQ', 'cursor'], ['productId=a%2Fb', 'productId'], ['productId=' + 'x'.repeat(65), 'productId'],
    ['variationId=v-30', 'variationId']]) {
    r = await call('GET', stock(`?${q}`), undefined, EN);
    eq([r.status, r.body.error, r.body.field], [400, 'bad_query', name], q);
    eq(r.body.message, 'Invalid query parameter.');
  }
  r = await call('GET', `/api/instances/${W.otherInst}/stock`);
  eq(r.status, 404);
});

test('reveal: the key, after exactly one durable audit line that does not contain it', async () => {
  const before = auditLines().length;
  const r = await call('POST', stock(`/${W.quoted}/reveal`));
  eq(r.status, 200);
  eq(r.body, { id: W.quoted, key: 'say "hi" key-0002' });
  eq(r.headers.get('cache-control'), 'no-store');
  const lines = auditLines();
  eq(lines.length, before + 1);
  const a = lines[lines.length - 1];
  eq([a.action, a.actor, a.instanceId, a.stockId, a.productId, a.ip, a.requestId],
    ['stock.reveal', { type: 'seller', id: W.s.user.id }, W.inst, W.quoted, 'p-var', '127.0.0.1', r.headers.get('x-request-id')]);
  assert(Math.abs(a.at - Date.now()) < 60000, 'at is now');
  const raw = fs.readFileSync(path.join(W.dir, 'data', 'audit.jsonl'), 'utf8');
  assert(!raw.includes('hi\\" key-0002') && !raw.includes('key-0002'), 'no key in the audit trail');
  // a seeded sold key can be revealed too (the seller resends it by hand)
  eq((await call('POST', stock('/s-sold/reveal'))).body.key, 'SOLD-KEY-00000002');
  // another seller's key, through either instance, and an unknown id: 404, no audit line
  const n = auditLines().length;
  eq((await call('POST', stock('/s-foreign/reveal'))).status, 404);
  eq((await call('POST', `/api/instances/${W.otherInst}/stock/s-foreign/reveal`)).status, 404);
  eq((await call('POST', stock('/nope/reveal'))).status, 404);
  eq(auditLines().length, n);
  assert(!W.d.logText().includes('key-0002') && !W.d.logText().includes('SOLD-KEY-00000002'), 'no key in the log');
});

test('remove: one available key, not a reserved or sold one; bulk with skipped reasons', async () => {
  const list = await call('GET', stock('?productId=p-plain&status=available'));
  const [a, b, c] = list.body.items.map((i) => i.id);
  let r = await call('DELETE', stock(`/${a}`));
  eq(r.status, 204);
  eq((await call('DELETE', stock(`/${a}`))).status, 404);
  r = await call('DELETE', stock('/s-reserved'), undefined, EN);
  eq([r.status, r.body.code, r.body.error], [409, 1220, 'stock_not_removable']);
  match(r.body.message, /Only available keys/);
  eq((await call('DELETE', stock('/s-sold'))).body.code, 1220);
  eq((await call('DELETE', stock('/s-foreign'))).status, 404);
  eq((await call('DELETE', `/api/instances/${W.otherInst}/stock/s-foreign`)).status, 404);
  r = await call('POST', stock('/remove'), { ids: [b, 's-reserved', 's-sold', 'nope', 's-foreign', c, b] });
  eq(r.status, 200);
  eq(r.body.removed, 2);
  eq(r.body.skipped, [
    { id: 's-reserved', reason: 'not_available' }, { id: 's-sold', reason: 'not_available' },
    { id: 'nope', reason: 'not_found' }, { id: 's-foreign', reason: 'not_found' }, { id: b, reason: 'not_found' },
  ]);
  eq((await call('GET', stock('?productId=p-plain'))).body.counts, { available: 0, reserved: 1, sold: 1 });
  for (const [body, field] of [[{ ids: [] }, 'ids'], [{ ids: Array(501).fill('x') }, 'ids'], [{ ids: [1] }, 'ids'],
    [{ ids: 'x' }, 'ids'], [{}, 'ids'], [{ ids: ['x'], all: true }, 'all']]) {
    r = await call('POST', stock('/remove'), body);
    eq([r.status, r.body.field], [400, field], JSON.stringify(body).slice(0, 40));
  }
  eq((await call('POST', `/api/instances/${W.otherInst}/stock/remove`, { ids: ['s-foreign'] })).status, 404);
  const removes = auditLines().filter((l) => l.action === 'stock.remove');
  eq(removes.map((l) => l.count), [1, 2]);
  const adds = auditLines().filter((l) => l.action === 'stock.add');
  assert(adds.length >= 4 && adds.every((l) => l.count > 0 && l.productId && l.actor.id === W.s.user.id), 'stock.add lines');
});

test('ownership: another seller sees 404 on every stock route of this instance', async () => {
  const other = (m, p, b) => api(W.d, W.other, m, p, b);
  eq((await other('GET', stock())).status, 404);
  eq((await other('POST', stock(), { productId: 'p-plain', text: 'X-1' })).status, 404);
  eq((await other('POST', stock(`/${W.quoted}/reveal`))).status, 404);
  eq((await other('DELETE', stock(`/${W.quoted}`))).status, 404);
  eq((await other('POST', stock('/remove'), { ids: [W.quoted] })).status, 404);
});

test('at rest: no key in plain text on disk; stock survives a restart', async () => {
  const before = (await call('GET', stock('?limit=200'))).body;
  eq((await W.d.stop()).code, 0);
  const files = [];
  const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else files.push(p); } };
  walk(path.join(W.dir, 'data'));
  walk(path.join(W.dir, 'logs'));
  assert(files.some((f) => f.endsWith('stock.json')), 'stock.json written');
  const blobs = files.map((f) => fs.readFileSync(f, 'latin1')).join('\n');
  for (const k of allKeys) assert(!blobs.includes(Buffer.from(k).toString('latin1')), `key ${k.slice(0, 12)}… is on disk in plain text`);
  assert(!BULK_RE.test(blobs), 'a bulk key is on disk in plain text');
  const all = bodies.join('\n');
  for (const k of allKeys) assert(!all.includes(k), `key ${k.slice(0, 12)}… in a response body`);
  assert(!BULK_RE.test(all), 'a bulk key in a response body');
  W.d = await startDaemon({ dir: W.dir, env: { DATA_ENCRYPTION_KEY: DATA_KEY } });
  const after = (await call('GET', stock('?limit=200'))).body;
  eq(after, before);
  eq((await call('POST', stock(`/${W.quoted}/reveal`))).body.key, 'say "hi" key-0002');
  const r = await add({ productId: 'p-var', variationId: 'v-30', text: 'PAGE-KEY-0-ABCDEFG0' });
  eq(r.body.duplicates.map((d) => d.reason), ['in_stock']);
  eq((await W.d.stop()).code, 0);
});
