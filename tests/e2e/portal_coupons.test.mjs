// The seller's coupons through the portal API: create (percent and fixed), codes in any case
// and unique per instance, every validation error naming its field, the validity window,
// product scope, PATCH (type re-checks value, deactivate, taken code), DELETE, `uses` counted
// from orders by status, another seller's ids as 404, the 500-coupon cap, restarts, English.
//
// Products and orders come from routes other people are building, so they are seeded the way
// an operator's data would be: daemon stopped, files written, daemon started on the same dir.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test, assert, eq, match } from './lib/harness.mjs';
import { startDaemon, tmpDir } from './lib/daemon.mjs';
import { signup, api } from './lib/portal_client.mjs';

const T = { timeout: 60000 };

// Merges records into a store file ({"version":1,"seq":N,"<key>":{id:rec}}), keeping its seq.
function seedFile(file, key, records) {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const doc = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : { version: 1, seq: 0 };
  doc[key] = doc[key] || {};
  for (const r of records) doc[key][r.id] = r;
  fs.writeFileSync(file, JSON.stringify(doc));
}

const productsFile = (d, inst) => path.join(d.dataDir, 'instances', inst, 'products.json');

function product(name, extra = {}) {
  const now = Date.now();
  return { id: crypto.randomUUID(), name, priceCents: 1990, currency: 'BRL', active: true,
    description: '', imageUrl: null, dmTemplate: null, lowStockThreshold: 0, variations: [],
    createdAt: now, updatedAt: now, ...extra };
}

function order(instanceId, couponId, buyerId, status) {
  return { id: crypto.randomUUID(), code: crypto.randomBytes(4).toString('hex').toUpperCase(),
    instanceId, couponId, buyerId, buyerName: 'comprador', status, items: [],
    subtotalCents: 1990, discountCents: 199, totalCents: 1791, currency: 'BRL',
    coupon: { id: couponId, code: 'X' }, createdAt: Date.now(), timeline: [] };
}

// Stops d (cleanly: everything checkpointed), lets seed() write files, starts on the same dir.
async function restartWith(d, seed = () => {}) {
  eq((await d.stop()).code, 0, 'clean stop');
  seed();
  return startDaemon({ dir: d.dir });
}

async function world() {
  const d = await startDaemon({ dir: tmpDir() });
  const a = await signup(d), b = await signup(d);
  const instA = await (await api(d, a, 'POST', '/api/instances', { name: 'Loja A' })).json();
  const instB = await (await api(d, b, 'POST', '/api/instances', { name: 'Loja B' })).json();
  return { d, a, b, instA, instB };
}

const couponsOf = (inst) => `/api/instances/${inst.id}/coupons`;

test('percent and fixed coupons; codes in any case, unique per instance; newest first', async () => {
  const { d, a, b, instA, instB } = await world();
  try {
    let r = await api(d, a, 'POST', couponsOf(instA), { code: 'bem-vindo_10', type: 'percent', value: 10 });
    eq(r.status, 201);
    const pct = await r.json();
    eq(Object.keys(pct).sort(), ['active', 'code', 'createdAt', 'id', 'maxUses', 'maxUsesPerBuyer',
      'productIds', 'type', 'updatedAt', 'uses', 'validFrom', 'validUntil', 'value']);
    eq(pct.code, 'BEM-VINDO_10');
    eq([pct.type, pct.value, pct.productIds, pct.active, pct.uses], ['percent', 10, [], true, 0]);
    eq([pct.maxUses, pct.maxUsesPerBuyer, pct.validFrom, pct.validUntil], [null, null, null, null]);
    assert(pct.createdAt > 0 && pct.updatedAt === pct.createdAt, 'timestamps');
    r = await api(d, a, 'POST', couponsOf(instA), {
      code: 'DESC5', type: 'fixed', value: 500, maxUses: 100, maxUsesPerBuyer: 1,
      validFrom: 1700000000000, validUntil: 1900000000000, active: false,
    });
    eq(r.status, 201);
    const fixed = await r.json();
    eq([fixed.type, fixed.value, fixed.maxUses, fixed.maxUsesPerBuyer, fixed.active],
      ['fixed', 500, 100, 1, false]);
    eq([fixed.validFrom, fixed.validUntil], [1700000000000, 1900000000000]);
    // the same code in another case is taken in this instance...
    r = await api(d, a, 'POST', couponsOf(instA), { code: 'Bem-Vindo_10', type: 'fixed', value: 1 });
    eq(r.status, 409);
    let e = await r.json();
    eq([e.code, e.error, e.field], [1240, 'coupon_code_taken', 'code']);
    match(e.message, /Já existe um cupom/);
    // ...but free in another seller's instance
    r = await api(d, b, 'POST', couponsOf(instB), { code: 'BEM-VINDO_10', type: 'percent', value: 50 });
    eq(r.status, 201);
    // lists: newest first, only the instance's own coupons, no internal fields
    r = await api(d, a, 'GET', couponsOf(instA));
    eq(r.status, 200);
    const list = (await r.json()).coupons;
    eq(list.map((c) => c.code), ['DESC5', 'BEM-VINDO_10']);
    assert(!JSON.stringify(list).includes('codeKey') && !JSON.stringify(list).includes('instanceId'),
      'internal fields stay inside');
    eq((await (await api(d, b, 'GET', couponsOf(instB))).json()).coupons.map((c) => c.value), [50]);
    // a 100 % coupon and the largest fixed value are fine
    eq((await api(d, a, 'POST', couponsOf(instA), { code: 'GRATIS', type: 'percent', value: 100 })).status, 201);
    eq((await api(d, a, 'POST', couponsOf(instA), { code: 'MAX', type: 'fixed', value: 100000000 })).status, 201);
  } finally {
    eq((await d.stop()).code, 0);
  }
}, T);

test('every bad field is a 400 naming it, and changes nothing', async () => {
  const { d, a, instA } = await world();
  try {
    const ok = { code: 'PROMO', type: 'percent', value: 10 };
    const cases = [
      [{ type: 'percent', value: 10 }, 'missing_field', 'code'],
      [{ code: 'PROMO', value: 10 }, 'missing_field', 'type'],
      [{ code: 'PROMO', type: 'percent' }, 'missing_field', 'value'],
      [{ ...ok, discount: 5 }, 'unknown_field', 'discount'],
      [{ ...ok, code: 'AB' }, 'bad_field', 'code'],
      [{ ...ok, code: 'A'.repeat(33) }, 'bad_field', 'code'],
      [{ ...ok, code: 'PRO MO' }, 'bad_field', 'code'],
      [{ ...ok, code: 'PROMOÇÃO' }, 'bad_field', 'code'],
      [{ ...ok, code: 12345 }, 'bad_field', 'code'],
      [{ ...ok, type: 'free' }, 'bad_field', 'type'],
      [{ ...ok, value: 0 }, 'bad_field', 'value'],
      [{ ...ok, value: -5 }, 'bad_field', 'value'],
      [{ ...ok, value: 101 }, 'bad_field', 'value'],
      [{ ...ok, value: 10.5 }, 'bad_field', 'value'],
      [{ ...ok, value: '10' }, 'bad_field', 'value'],
      [{ ...ok, type: 'fixed', value: 100000001 }, 'bad_field', 'value'],
      [{ ...ok, productIds: 'abc' }, 'bad_field', 'productIds'],
      [{ ...ok, productIds: [1] }, 'bad_field', 'productIds'],
      [{ ...ok, productIds: [crypto.randomUUID()] }, 'bad_field', 'productIds'],
      [{ ...ok, productIds: ['../../portal'] }, 'bad_field', 'productIds'],
      [{ ...ok, productIds: Array.from({ length: 51 }, () => crypto.randomUUID()) }, 'bad_field', 'productIds'],
      [{ ...ok, maxUses: 0 }, 'bad_field', 'maxUses'],
      [{ ...ok, maxUses: 1000001 }, 'bad_field', 'maxUses'],
      [{ ...ok, maxUses: '5' }, 'bad_field', 'maxUses'],
      [{ ...ok, maxUsesPerBuyer: 0 }, 'bad_field', 'maxUsesPerBuyer'],
      [{ ...ok, validFrom: 'amanhã' }, 'bad_field', 'validFrom'],
      [{ ...ok, validFrom: -1 }, 'bad_field', 'validFrom'],
      [{ ...ok, validUntil: 1e300 }, 'bad_field', 'validUntil'],
      [{ ...ok, active: 'yes' }, 'bad_field', 'active'],
      [{ ...ok, active: null }, 'bad_field', 'active'],
      [{ ...ok, validFrom: 2000, validUntil: 2000 }, 'coupon_window', 'validUntil'],
      [{ ...ok, validFrom: 3000, validUntil: 2000 }, 'coupon_window', 'validUntil'],
    ];
    for (const [body, error, field] of cases) {
      const r = await api(d, a, 'POST', couponsOf(instA), body);
      const e = await r.json();
      eq([r.status, e.error, e.field], [400, error, field], JSON.stringify(body).slice(0, 80));
      if (error === 'coupon_window') eq(e.code, 1241);
    }
    let r = await api(d, a, 'POST', couponsOf(instA), '{"code":', { 'content-type': 'application/json' });
    eq([r.status, (await r.json()).error], [400, 'bad_json']);
    // a NUL inside a string is refused by the JSON parser itself
    r = await api(d, a, 'POST', couponsOf(instA), { ...ok, code: 'PRO\u0000MO' });
    eq([r.status, (await r.json()).error], [400, 'bad_json']);
    r = await api(d, a, 'POST', couponsOf(instA), [ok]);
    eq(r.status, 400);
    eq((await (await api(d, a, 'GET', couponsOf(instA))).json()).coupons, [], 'nothing was created');
    // the edges that are allowed
    r = await api(d, a, 'POST', couponsOf(instA), { code: 'ABC', type: 'percent', value: 1, maxUses: 1,
      maxUsesPerBuyer: 1000000, validFrom: 0, validUntil: 1, productIds: [] });
    eq(r.status, 201);
    r = await api(d, a, 'POST', couponsOf(instA), { code: '0'.repeat(32), type: 'fixed', value: 1,
      maxUses: null, validFrom: null, validUntil: 5000 });
    eq(r.status, 201);
  } finally {
    eq((await d.stop()).code, 0);
  }
}, T);

test('product scope: products of this instance only, deleted ones refused, duplicates removed', async () => {
  let { d, a, b, instA, instB } = await world();
  const p1 = product('Conta Premium'), p2 = product('Antigo', { deletedAt: Date.now() });
  const p3 = product('Da outra loja');
  try {
    d = await restartWith(d, () => {
      seedFile(productsFile(d, instA.id), 'products', [p1, p2]);
      seedFile(productsFile(d, instB.id), 'products', [p3]);
    });
    let r = await api(d, a, 'POST', couponsOf(instA), { code: 'SCOPE', type: 'percent', value: 15, productIds: [p1.id, p1.id] });
    eq(r.status, 201);
    const c = await r.json();
    eq(c.productIds, [p1.id]);
    for (const ids of [[p2.id], [p3.id], [p1.id, p3.id]]) {
      r = await api(d, a, 'POST', couponsOf(instA), { code: 'SCOPE2', type: 'percent', value: 15, productIds: ids });
      eq([r.status, (await r.json()).field], [400, 'productIds']);
      r = await api(d, a, 'PATCH', `${couponsOf(instA)}/${c.id}`, { productIds: ids });
      eq([r.status, (await r.json()).field], [400, 'productIds']);
    }
    // B may scope its own coupon to its own product
    r = await api(d, b, 'POST', couponsOf(instB), { code: 'SCOPE', type: 'fixed', value: 100, productIds: [p3.id] });
    eq(r.status, 201);
    // back to every product
    r = await api(d, a, 'PATCH', `${couponsOf(instA)}/${c.id}`, { productIds: [] });
    eq([r.status, (await r.json()).productIds], [200, []]);
  } finally {
    eq((await d.stop()).code, 0);
  }
}, T);

test('PATCH: value re-checked against a new type, window, deactivate, taken code; DELETE', async () => {
  const { d, a, instA } = await world();
  try {
    const one = await (await api(d, a, 'POST', couponsOf(instA), { code: 'UM1', type: 'fixed', value: 5000 })).json();
    const two = await (await api(d, a, 'POST', couponsOf(instA), { code: 'DOIS', type: 'percent', value: 20 })).json();
    const url = `${couponsOf(instA)}/${one.id}`;
    // switching to percent with a 5000-cent value is refused on `value`
    let r = await api(d, a, 'PATCH', url, { type: 'percent' });
    eq([r.status, (await r.json()).field], [400, 'value']);
    r = await api(d, a, 'PATCH', url, { type: 'percent', value: 50 });
    eq(r.status, 200);
    let c = await r.json();
    eq([c.type, c.value, c.code, c.createdAt], ['percent', 50, 'UM1', one.createdAt]);
    assert(c.updatedAt >= one.updatedAt, 'updatedAt moves');
    // deactivate, then limits and window; null clears a limit
    r = await api(d, a, 'PATCH', url, { active: false, maxUses: 3, validFrom: 1000, validUntil: 2000 });
    c = await r.json();
    eq([r.status, c.active, c.maxUses, c.validFrom, c.validUntil], [200, false, 3, 1000, 2000]);
    r = await api(d, a, 'PATCH', url, { validFrom: 2000 });
    let e = await r.json();
    eq([r.status, e.code, e.field], [400, 1241, 'validFrom']);
    r = await api(d, a, 'PATCH', url, { validUntil: 500 });
    eq([r.status, (await r.json()).field], [400, 'validUntil']);
    r = await api(d, a, 'PATCH', url, { maxUses: null, validUntil: null });
    c = await r.json();
    eq([r.status, c.maxUses, c.validFrom, c.validUntil], [200, null, 1000, null]);
    // another coupon's code is taken; its own code in another case is fine
    r = await api(d, a, 'PATCH', url, { code: 'dois' });
    e = await r.json();
    eq([r.status, e.code, e.field], [409, 1240, 'code']);
    r = await api(d, a, 'PATCH', url, { code: 'um1' });
    eq([r.status, (await r.json()).code], [200, 'UM1']);
    r = await api(d, a, 'PATCH', url, { code: 'NOVO' });
    eq([r.status, (await r.json()).code], [200, 'NOVO']);
    // the old code is free again
    eq((await api(d, a, 'POST', couponsOf(instA), { code: 'UM1', type: 'fixed', value: 1 })).status, 201);
    // bad PATCH bodies change nothing
    r = await api(d, a, 'PATCH', url, { value: 0 });
    eq([r.status, (await r.json()).field], [400, 'value']);
    r = await api(d, a, 'PATCH', url, { nome: 'x' });
    eq([r.status, (await r.json()).error], [400, 'unknown_field']);
    const now = (await (await api(d, a, 'GET', couponsOf(instA))).json()).coupons.find((x) => x.id === one.id);
    eq([now.code, now.value, now.active], ['NOVO', 50, false]);
    // unknown coupon ids
    eq((await api(d, a, 'PATCH', `${couponsOf(instA)}/${crypto.randomUUID()}`, { active: true })).status, 404);
    eq((await api(d, a, 'DELETE', `${couponsOf(instA)}/${crypto.randomUUID()}`)).status, 404);
    // DELETE: gone from the list, its code free again
    r = await api(d, a, 'DELETE', `${couponsOf(instA)}/${two.id}`, { force: true });
    eq([r.status, (await r.json()).error], [400, 'unknown_field']);
    r = await api(d, a, 'DELETE', `${couponsOf(instA)}/${two.id}`);
    eq([r.status, await r.text()], [204, '']);
    eq((await api(d, a, 'PATCH', `${couponsOf(instA)}/${two.id}`, { active: true })).status, 404);
    eq((await api(d, a, 'DELETE', `${couponsOf(instA)}/${two.id}`)).status, 404);
    const codes = (await (await api(d, a, 'GET', couponsOf(instA))).json()).coupons.map((x) => x.code);
    eq(codes.sort(), ['NOVO', 'UM1']);
    eq((await api(d, a, 'POST', couponsOf(instA), { code: 'DOIS', type: 'percent', value: 5 })).status, 201);
  } finally {
    eq((await d.stop()).code, 0);
  }
}, T);

test('uses counts pending, paid, delivered and waiting_stock orders; coupons survive restarts', async () => {
  let { d, a, instA, instB } = await world();
  try {
    const c = await (await api(d, a, 'POST', couponsOf(instA), { code: 'CONTA', type: 'percent', value: 10, maxUses: 10 })).json();
    const other = await (await api(d, a, 'POST', couponsOf(instA), { code: 'OUTRO', type: 'fixed', value: 100 })).json();
    const statuses = ['pending', 'paid', 'delivered', 'waiting_stock', 'expired', 'cancelled',
      'refunded', 'charged_back', 'failed'];
    d = await restartWith(d, () => seedFile(path.join(d.dataDir, 'orders.json'), 'orders', [
      ...statuses.map((s, i) => order(instA.id, c.id, `buyer-${i % 2}`, s)),
      order(instA.id, c.id, 'buyer-0', 'paid'),
      order(instB.id, c.id, 'buyer-0', 'paid'), // another instance's order never counts here
      order(instA.id, null, 'buyer-0', 'paid'),
    ]));
    const list = (await (await api(d, a, 'GET', couponsOf(instA))).json()).coupons;
    const byCode = Object.fromEntries(list.map((x) => [x.code, x]));
    eq(byCode.CONTA.uses, 5);
    eq(byCode.OUTRO.uses, 0);
    eq(byCode.CONTA.id, c.id);
    eq(byCode.OUTRO.createdAt, other.createdAt);
    // PATCH answers with the count too
    const r = await api(d, a, 'PATCH', `${couponsOf(instA)}/${c.id}`, { maxUses: 5 });
    eq([r.status, (await r.json()).uses], [200, 5]);
    // and after one more restart everything is as it was
    d = await restartWith(d);
    const again = (await (await api(d, a, 'GET', couponsOf(instA))).json()).coupons;
    eq(again.map((x) => [x.code, x.uses, x.maxUses]), list.map((x) => [x.code, x.uses, x.code === 'CONTA' ? 5 : null]));
    // the unique code index is rebuilt from disk
    eq((await api(d, a, 'POST', couponsOf(instA), { code: 'conta', type: 'fixed', value: 1 })).status, 409);
  } finally {
    eq((await d.stop()).code, 0);
  }
}, T);

test("another seller's instance or coupon id answers 404 on every coupon route", async () => {
  const { d, a, b, instA, instB } = await world();
  try {
    const c = await (await api(d, a, 'POST', couponsOf(instA), { code: 'SEGREDO', type: 'percent', value: 10 })).json();
    const body = { code: 'X12', type: 'percent', value: 10 };
    // B on A's instance
    for (const [m, p, j] of [['GET', ''], ['POST', '', body], ['PATCH', `/${c.id}`, { active: false }], ['DELETE', `/${c.id}`]]) {
      const r = await api(d, b, m, `${couponsOf(instA)}${p}`, j);
      eq(r.status, 404, `${m} A${p}`);
    }
    // B's own instance with A's coupon id
    for (const [m, j] of [['PATCH', { active: false }], ['DELETE']]) {
      const r = await api(d, b, m, `${couponsOf(instB)}/${c.id}`, j);
      eq(r.status, 404, `${m} B/${c.id}`);
    }
    // nothing changed
    const mine = (await (await api(d, a, 'GET', couponsOf(instA))).json()).coupons;
    eq(mine.map((x) => [x.code, x.active]), [['SEGREDO', true]]);
    // a deleted instance's coupons are gone with it
    eq((await api(d, a, 'DELETE', `/api/instances/${instA.id}`, { confirm: 'Loja A' })).status, 200);
    eq((await api(d, a, 'GET', couponsOf(instA))).status, 404);
  } finally {
    eq((await d.stop()).code, 0);
  }
}, T);

test('at 500 coupons an instance refuses more with 409 conflict', async () => {
  let { d, a, instA } = await world();
  try {
    const now = Date.now();
    const many = Array.from({ length: 500 }, (_, i) => ({
      id: crypto.randomUUID(), instanceId: instA.id, code: `C${i}X`, codeKey: `${instA.id}:C${i}X`,
      type: 'percent', value: 5, productIds: [], maxUses: null, maxUsesPerBuyer: null,
      validFrom: null, validUntil: null, active: true, createdAt: now - i, updatedAt: now - i,
    }));
    d = await restartWith(d, () => seedFile(path.join(d.dataDir, 'instances', instA.id, 'coupons.json'), 'coupons', many));
    let r = await api(d, a, 'POST', couponsOf(instA), { code: 'MAIS', type: 'percent', value: 5 });
    eq([r.status, (await r.json()).error], [409, 'conflict']);
    const list = (await (await api(d, a, 'GET', couponsOf(instA))).json()).coupons;
    eq(list.length, 500);
    eq(list[0].code, 'C0X', 'newest first');
    eq((await api(d, a, 'DELETE', `${couponsOf(instA)}/${many[0].id}`)).status, 204);
    r = await api(d, a, 'POST', couponsOf(instA), { code: 'MAIS', type: 'percent', value: 5 });
    eq(r.status, 201);
  } finally {
    eq((await d.stop()).code, 0);
  }
}, T);

test('errors come in English with Accept-Language: en', async () => {
  const { d, a, instA } = await world();
  try {
    const en = { 'accept-language': 'en-US,en;q=0.9' };
    await api(d, a, 'POST', couponsOf(instA), { code: 'PROMO', type: 'percent', value: 10 });
    let r = await api(d, a, 'POST', couponsOf(instA), { code: 'promo', type: 'percent', value: 10 }, en);
    eq((await r.json()).message, 'A coupon with this code already exists in this store.');
    r = await api(d, a, 'POST', couponsOf(instA), { code: 'P2X', type: 'percent', value: 1, validFrom: 5, validUntil: 1 }, en);
    eq((await r.json()).message, 'The end of the validity window must be after its start.');
    r = await api(d, a, 'POST', couponsOf(instA), { code: 'P2X', type: 'percent', value: 150 }, en);
    eq((await r.json()).message, 'A percent discount takes a value from 1 to 100.');
    r = await api(d, a, 'POST', couponsOf(instA), { code: 'P 2', type: 'percent', value: 15 }, en);
    eq((await r.json()).message, 'The code must have 3 to 32 characters: letters, digits, - or _.');
    r = await api(d, a, 'POST', couponsOf(instA), { code: 'P2X', type: 'percent', value: 15, productIds: ['nope'] }, en);
    eq((await r.json()).message, 'Pick only existing products of this store.');
    r = await api(d, a, 'GET', `${couponsOf(instA)}/x`, undefined, en);
    eq(r.status, 405);
    r = await api(d, a, 'DELETE', `${couponsOf(instA)}/${crypto.randomUUID()}`, undefined, en);
    eq((await r.json()).message, 'Not found.');
    // and in pt-BR by default
    r = await api(d, a, 'POST', couponsOf(instA), { code: 'P2X', type: 'fixed', value: 100000001 });
    eq((await r.json()).message, 'Campo inválido.');
  } finally {
    eq((await d.stop()).code, 0);
  }
}, T);
