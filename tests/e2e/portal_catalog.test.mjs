// The seller's catalog through the portal API against the real binary: products and their
// variations (create, list, edit, delete, limits, field errors), stock counts and low-stock
// flags from keys put in the data directory, deletes refused while keys are on sale, the DM
// preview, English messages, another seller's ids answering 404, and a restart keeping it all.
import fs from 'node:fs';
import path from 'node:path';
import { test, assert, eq, match } from './lib/harness.mjs';
import { startDaemon, tmpDir } from './lib/daemon.mjs';
import { DATA_KEY } from './lib/seed.mjs';
import { signup, api } from './lib/portal_client.mjs';

const ENV = { DATA_ENCRYPTION_KEY: DATA_KEY, PORTAL_SESSION_SECRET: 'catalog-test-session-secret-0123' };
const start = (dir) => startDaemon({ dir, env: ENV });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const EN = { 'accept-language': 'en' };

async function call(d, s, method, p, body, headers) {
  const r = await api(d, s, method, p, body, headers);
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch {}
  return { status: r.status, json, text };
}

// A seller with one instance on a fresh daemon.
async function world() {
  const dir = tmpDir();
  const d = await start(dir);
  const s = await signup(d);
  const inst = (await call(d, s, 'POST', '/api/instances', { name: 'Loja Teste' })).json;
  return { dir, d, s, inst, P: `/api/instances/${inst.id}/products` };
}

async function create(w, body) {
  const r = await call(w.d, w.s, 'POST', w.P, body);
  eq(r.status, 201, r.text);
  return r.json;
}

function expectError(r, status, code, field) {
  eq(r.status, status, r.text);
  eq(r.json.code, code, r.text);
  if (field !== undefined) eq(r.json.field, field, r.text);
}

// Writes the instance's stock file while the daemon is stopped (as the stock routes would
// leave it): each item {productId, variationId?, status}.
function writeStock(w, items) {
  const stock = {};
  items.forEach((it, i) => {
    const id = `stock-${i}`;
    stock[id] = { id, productId: it.productId, variationId: it.variationId ?? null, key: 'sealed', keyHash: `h${i}`, hint: null, status: it.status, orderId: null, reservedUntil: null, createdAt: 1, soldAt: null };
  });
  const dir = path.join(w.dir, 'data', 'instances', w.inst.id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'stock.json'), JSON.stringify({ version: 1, stock }));
}
const keys = (n, productId, status, variationId) => Array.from({ length: n }, () => ({ productId, variationId, status }));

async function restart(w) {
  eq((await w.d.stop()).code, 0);
  w.d = await start(w.dir);
}

test('products: create with defaults and with variations, list newest first, edit, survive a restart', async () => {
  const w = await world();
  try {
    const a = await create(w, { name: 'Conta Básica', priceCents: 990 });
    match(a.id, UUID);
    eq(a.name, 'Conta Básica');
    eq(a.priceCents, 990);
    eq(a.currency, 'BRL');
    eq(a.description, '');
    eq(a.imageUrl, null);
    eq(a.active, true);
    eq(a.dmTemplate, null);
    eq(a.lowStockThreshold, 5);
    eq(a.variations, []);
    eq(a.post, null);
    eq(a.stock, { available: 0, reserved: 0, sold: 0 });
    eq(a.lowStock, true, 'no keys at all is low stock');
    assert(!('instanceId' in a) && !('deletedAt' in a), 'internal fields stay inside');
    assert(a.createdAt > 1.7e12 && a.updatedAt === a.createdAt, 'timestamps in ms');

    const b = await create(w, {
      name: 'Conta Premium', priceCents: 1990, description: 'Entrega automática.\nSuporte 24h.',
      imageUrl: 'https://cdn.loja.com/capa.png', active: false, lowStockThreshold: 0,
      dmTemplate: 'Oi {comprador}! {produto} ({variacao}): {chave}',
      variations: [{ name: '30 dias', priceCents: 1990 }, { name: '90 dias', priceCents: 4990, active: false }],
    });
    eq(b.variations.length, 2);
    match(b.variations[0].id, UUID);
    assert(b.variations[0].id !== b.variations[1].id, 'distinct variation ids');
    eq(b.variations.map((v) => [v.name, v.priceCents, v.active]), [['30 dias', 1990, true], ['90 dias', 4990, false]]);
    eq(b.variations[0].stock, { available: 0, reserved: 0, sold: 0 });
    eq(b.lowStock, false, 'threshold 0 never warns');
    eq(b.imageUrl, 'https://cdn.loja.com/capa.png');
    eq(b.active, false);

    const c = await create(w, { name: 'Terceiro', priceCents: 1 });
    let r = await call(w.d, w.s, 'GET', w.P);
    eq(r.status, 200);
    eq(r.json.products.map((p) => p.id), [c.id, b.id, a.id], 'newest first');
    r = await call(w.d, w.s, 'GET', `${w.P}/${b.id}`);
    eq(r.json, b);

    r = await call(w.d, w.s, 'PATCH', `${w.P}/${b.id}`, { name: 'Conta Premium+', priceCents: 2490, imageUrl: null, dmTemplate: null, active: true, lowStockThreshold: 10 });
    eq(r.status, 200, r.text);
    eq([r.json.name, r.json.priceCents, r.json.imageUrl, r.json.dmTemplate, r.json.active, r.json.lowStockThreshold], ['Conta Premium+', 2490, null, null, true, 10]);
    eq(r.json.description, b.description, 'fields not sent are kept');
    eq(r.json.variations.map((v) => v.id), b.variations.map((v) => v.id), 'variations kept');
    eq(r.json.createdAt, b.createdAt);
    assert(r.json.updatedAt >= b.updatedAt, 'updatedAt moves');
    eq(r.json.lowStock, true, 'an active variation with 0 keys is at or below 10');
    const before = (await call(w.d, w.s, 'GET', w.P)).json;

    await restart(w);
    r = await call(w.d, w.s, 'GET', w.P);
    eq(r.status, 200, r.text);
    eq(r.json, before, 'the same catalog after a restart');
    assert(fs.existsSync(path.join(w.dir, 'data', 'instances', w.inst.id, 'products.json')), 'products.json written');
  } finally {
    eq((await w.d.stop()).code, 0);
  }
});

test('bad fields answer 400 naming the field and change nothing; English messages', async () => {
  const w = await world();
  try {
    const ok = { name: 'Produto', priceCents: 1000 };
    const cases = [
      [{ priceCents: 1000 }, 1008, 'name'],
      [{ ...ok, name: '' }, 1007, 'name'],
      [{ ...ok, name: 'x'.repeat(101) }, 1007, 'name'],
      [{ ...ok, name: '   ' }, 1007, 'name'],
      [{ ...ok, name: 'linha\nquebrada' }, 1007, 'name'],
      [{ name: 'Produto' }, 1008, 'priceCents'],
      [{ ...ok, priceCents: 0 }, 1007, 'priceCents'],
      [{ ...ok, priceCents: 100000001 }, 1007, 'priceCents'],
      [{ ...ok, priceCents: 10.5 }, 1007, 'priceCents'],
      [{ ...ok, priceCents: '1000' }, 1007, 'priceCents'],
      [{ ...ok, description: 'd'.repeat(2001) }, 1007, 'description'],
      [{ ...ok, imageUrl: 'http://cdn.loja.com/a.png' }, 1007, 'imageUrl'],
      [{ ...ok, imageUrl: 'https://' }, 1007, 'imageUrl'],
      [{ ...ok, imageUrl: 'https://cdn.loja.com/a b.png' }, 1007, 'imageUrl'],
      [{ ...ok, imageUrl: 'javascript:alert(1)' }, 1007, 'imageUrl'],
      [{ ...ok, imageUrl: `https://cdn.loja.com/${'a'.repeat(490)}` }, 1007, 'imageUrl'],
      [{ ...ok, lowStockThreshold: -1 }, 1007, 'lowStockThreshold'],
      [{ ...ok, lowStockThreshold: 100001 }, 1007, 'lowStockThreshold'],
      [{ ...ok, active: 'sim' }, 1007, 'active'],
      [{ ...ok, prcie: 10 }, 1009, 'prcie'],
      [{ ...ok, variations: Array.from({ length: 26 }, (_, i) => ({ name: `v${i}`, priceCents: 100 })) }, 1007, 'variations'],
      [{ ...ok, variations: [{ name: 'a', priceCents: 1 }, { priceCents: 1 }] }, 1008, 'variations[1].name'],
      [{ ...ok, variations: ['30 dias'] }, 1007, 'variations[0]'],
      [{ ...ok, variations: [{ name: 'a', priceCents: 0 }] }, 1007, 'variations[0].priceCents'],
      [{ ...ok, variations: [{ name: 'a', priceCents: 1, cor: 'azul' }] }, 1009, 'variations[0].cor'],
      [{ ...ok, dmTemplate: 'x'.repeat(1501) }, 1007, 'dmTemplate'],
      [{ ...ok, dmTemplate: 'Sua chave: {chave} do {pedio}' }, 1202, 'dmTemplate'],
      [{ ...ok, dmTemplate: 'Sua chave: {Chave}' }, 1202, 'dmTemplate'],
      [{ ...ok, dmTemplate: 'Obrigado, {comprador}!' }, 1208, 'dmTemplate'],
    ];
    for (const [body, code, field] of cases) {
      const r = await call(w.d, w.s, 'POST', w.P, body);
      expectError(r, 400, code, field);
    }
    let r = await call(w.d, w.s, 'POST', w.P, { ...ok, dmTemplate: '{chave} {pedio}' });
    match(r.json.message, /Marcador desconhecido: \{pedio\}/, 'the typo is named');
    r = await call(w.d, w.s, 'POST', w.P, { ...ok, dmTemplate: '{chave} {pedio}' }, EN);
    match(r.json.message, /^Unknown placeholder: \{pedio\}\. The template uses an unknown placeholder/);
    r = await call(w.d, w.s, 'POST', w.P, { priceCents: 1 }, EN);
    eq(r.json.message, 'Missing required field.');
    // malformed JSON and a body that is not an object
    const raw = await fetch(`${w.d.portal}${w.P}`, { method: 'POST', headers: { cookie: w.s.cookie, 'x-csrf-token': w.s.csrf, 'content-type': 'application/json' }, body: '{"name":' });
    eq(raw.status, 400);
    eq((await raw.json()).code, 1006);
    expectError(await call(w.d, w.s, 'POST', w.P, [ok]), 400, 1006);
    eq((await call(w.d, w.s, 'GET', w.P)).json.products, [], 'nothing was created');

    // PATCH: the same rules, every field optional, variations not here
    const p = await create(w, { ...ok, dmTemplate: 'Chave: {chave}' });
    const patches = [
      [{ variations: [] }, 1009, 'variations'],
      [{ priceCents: 0 }, 1007, 'priceCents'],
      [{ name: null }, 1007, 'name'],
      [{ imageUrl: 'ftp://x.com/a.png' }, 1007, 'imageUrl'],
      [{ dmTemplate: '{chave} {lojas}' }, 1202, 'dmTemplate'],
      [{ dmTemplate: 'sem chave' }, 1208, 'dmTemplate'],
      [{ id: 'outro' }, 1009, 'id'],
      [{ stock: { available: 99 } }, 1009, 'stock'],
    ];
    for (const [body, code, field] of patches) expectError(await call(w.d, w.s, 'PATCH', `${w.P}/${p.id}`, body), 400, code, field);
    eq((await call(w.d, w.s, 'GET', `${w.P}/${p.id}`)).json, p, 'the product is unchanged');
  } finally {
    eq((await w.d.stop()).code, 0);
  }
});

test('variations: add, edit, delete, at most 25; deleted products and other sellers answer 404', async () => {
  const w = await world();
  try {
    const p = await create(w, { name: 'Gift Card', priceCents: 500 });
    const V = `${w.P}/${p.id}/variations`;
    let r = await call(w.d, w.s, 'POST', V, { name: 'R$ 10', priceCents: 1000 });
    eq(r.status, 201, r.text);
    eq(r.json.variations.length, 1);
    const v1 = r.json.variations[0];
    eq([v1.name, v1.priceCents, v1.active], ['R$ 10', 1000, true]);
    match(v1.id, UUID);
    expectError(await call(w.d, w.s, 'POST', V, { name: 'R$ 20' }), 400, 1008, 'priceCents');
    expectError(await call(w.d, w.s, 'POST', V, { name: 'x'.repeat(81), priceCents: 1 }), 400, 1007, 'name');
    expectError(await call(w.d, w.s, 'POST', V, { name: 'a', priceCents: 1, extra: 1 }), 400, 1009, 'extra');

    r = await call(w.d, w.s, 'PATCH', `${V}/${v1.id}`, { name: 'R$ 10,00', priceCents: 1050, active: false });
    eq(r.status, 200, r.text);
    eq(r.json.variations[0], { ...v1, name: 'R$ 10,00', priceCents: 1050, active: false, lowStock: false });
    expectError(await call(w.d, w.s, 'PATCH', `${V}/${v1.id}`, { priceCents: -5 }), 400, 1007, 'priceCents');
    expectError(await call(w.d, w.s, 'PATCH', `${V}/${v1.id}`, { id: 'x' }), 400, 1009, 'id');
    expectError(await call(w.d, w.s, 'PATCH', `${V}/00000000-0000-4000-8000-000000000000`, { name: 'x' }), 404, 1001);
    eq((await call(w.d, w.s, 'GET', `${w.P}/${p.id}`)).json.variations[0].priceCents, 1050, 'bad edits changed nothing');

    for (let i = 2; i <= 25; i++) eq((await call(w.d, w.s, 'POST', V, { name: `R$ ${i}0`, priceCents: i * 1000 })).status, 201);
    r = await call(w.d, w.s, 'POST', V, { name: 'R$ 260', priceCents: 26000 });
    expectError(r, 409, 1017);
    match(r.json.message, /25 variações/);
    r = await call(w.d, w.s, 'GET', `${w.P}/${p.id}`);
    eq(r.json.variations.length, 25);

    const last = r.json.variations[24];
    r = await call(w.d, w.s, 'DELETE', `${V}/${last.id}`);
    eq(r.status, 200, r.text);
    eq(r.json.variations.length, 24);
    assert(!r.json.variations.some((v) => v.id === last.id), 'gone');
    expectError(await call(w.d, w.s, 'DELETE', `${V}/${last.id}`), 404, 1001);

    // another seller: every catalog route of A's instance, and A's ids inside B's instance
    const b = await signup(w.d);
    const mine = (await call(w.d, b, 'POST', '/api/instances', { name: 'Loja B' })).json;
    const other = `/api/instances/${mine.id}/products`;
    const attempts = [
      ['GET', w.P], ['POST', w.P, { name: 'x', priceCents: 1 }], ['GET', `${w.P}/${p.id}`],
      ['PATCH', `${w.P}/${p.id}`, { name: 'x' }], ['DELETE', `${w.P}/${p.id}`],
      ['POST', V, { name: 'x', priceCents: 1 }], ['PATCH', `${V}/${v1.id}`, { name: 'x' }],
      ['DELETE', `${V}/${v1.id}`], ['POST', `/api/instances/${w.inst.id}/dm-preview`, {}],
      ['GET', `${other}/${p.id}`], ['PATCH', `${other}/${p.id}`, { name: 'x' }],
      ['DELETE', `${other}/${p.id}`], ['POST', `${other}/${p.id}/variations`, { name: 'x', priceCents: 1 }],
      ['PATCH', `${other}/${p.id}/variations/${v1.id}`, { name: 'x' }],
    ];
    for (const [m, u, body] of attempts) expectError(await call(w.d, b, m, u, body), 404, 1001);
    expectError(await call(w.d, b, 'POST', `/api/instances/${mine.id}/dm-preview`, { productId: p.id }), 404, 1001, 'productId');
    eq((await call(w.d, w.s, 'GET', `${w.P}/${p.id}`)).json.name, 'Gift Card', "B changed nothing of A's");

    // delete: 204, then 404 everywhere and out of the list
    const q = await create(w, { name: 'Descontinuado', priceCents: 100 });
    r = await call(w.d, w.s, 'DELETE', `${w.P}/${q.id}`);
    eq(r.status, 204, r.text);
    eq(r.text, '');
    expectError(await call(w.d, w.s, 'GET', `${w.P}/${q.id}`), 404, 1001);
    expectError(await call(w.d, w.s, 'PATCH', `${w.P}/${q.id}`, { name: 'Volta' }), 404, 1001);
    expectError(await call(w.d, w.s, 'DELETE', `${w.P}/${q.id}`), 404, 1001);
    expectError(await call(w.d, w.s, 'POST', `${w.P}/${q.id}/variations`, { name: 'x', priceCents: 1 }), 404, 1001);
    expectError(await call(w.d, w.s, 'POST', `/api/instances/${w.inst.id}/dm-preview`, { productId: q.id }), 404, 1001, 'productId');
    eq((await call(w.d, w.s, 'GET', w.P)).json.products.map((x) => x.id), [p.id]);
  } finally {
    eq((await w.d.stop()).code, 0);
  }
});

test('stock counts and lowStock come from the keys; deletes are refused while keys are on sale', async () => {
  const w = await world();
  try {
    const p1 = await create(w, { name: 'Sem variação', priceCents: 1000, lowStockThreshold: 2 });
    const p2 = await create(w, { name: 'Com variações', priceCents: 1000, lowStockThreshold: 3, variations: [{ name: 'Mensal', priceCents: 1000 }, { name: 'Anual', priceCents: 9000 }] });
    const [v1, v2] = p2.variations;
    const p3 = await create(w, { name: 'Vai ganhar variação', priceCents: 500 });
    eq((await w.d.stop()).code, 0);
    writeStock(w, [
      ...keys(2, p1.id, 'available'), ...keys(1, p1.id, 'reserved'), ...keys(4, p1.id, 'sold'),
      ...keys(5, p2.id, 'available', v1.id), ...keys(1, p2.id, 'available', v2.id), ...keys(2, p2.id, 'sold', v2.id),
      ...keys(1, p3.id, 'available'),
    ]);
    w.d = await start(w.dir);

    let r = await call(w.d, w.s, 'GET', `${w.P}/${p1.id}`);
    eq(r.json.stock, { available: 2, reserved: 1, sold: 4 });
    eq(r.json.lowStock, true, '2 available at a threshold of 2');
    r = await call(w.d, w.s, 'GET', `${w.P}/${p2.id}`);
    eq(r.json.stock, { available: 6, reserved: 0, sold: 2 }, 'all variations together');
    eq(r.json.variations.map((v) => [v.stock.available, v.stock.sold, v.lowStock]), [[5, 0, false], [1, 2, true]]);
    eq(r.json.lowStock, true, 'one active variation is low though the total is not');
    // the list counts the same way
    const listed = (await call(w.d, w.s, 'GET', w.P)).json.products;
    eq(listed.find((x) => x.id === p1.id).stock, { available: 2, reserved: 1, sold: 4 });
    eq(listed.find((x) => x.id === p2.id).variations[0].stock.available, 5);

    // an inactive variation is not on sale: it no longer makes the product low
    r = await call(w.d, w.s, 'PATCH', `${w.P}/${p2.id}/variations/${v2.id}`, { active: false });
    eq(r.json.variations[1].lowStock, false);
    eq(r.json.lowStock, false);
    // a higher threshold: low again
    r = await call(w.d, w.s, 'PATCH', `${w.P}/${p2.id}`, { lowStockThreshold: 6 });
    eq(r.json.lowStock, true);

    r = await call(w.d, w.s, 'DELETE', `${w.P}/${p1.id}`);
    expectError(r, 409, 1200);
    match(r.json.message, /chaves disponíveis ou reservadas/);
    r = await call(w.d, w.s, 'DELETE', `${w.P}/${p1.id}`, undefined, EN);
    eq(r.json.message, 'The product still has available or reserved keys. Remove them first.');
    expectError(await call(w.d, w.s, 'DELETE', `${w.P}/${p2.id}`), 409, 1200);
    r = await call(w.d, w.s, 'DELETE', `${w.P}/${p2.id}/variations/${v2.id}`);
    expectError(r, 409, 1201);
    r = await call(w.d, w.s, 'DELETE', `${w.P}/${p2.id}/variations/${v2.id}`, undefined, EN);
    eq(r.json.message, 'The variation still has available or reserved keys. Remove them first.');
    // keys of its own would never be sold once the product has variations
    expectError(await call(w.d, w.s, 'POST', `${w.P}/${p3.id}/variations`, { name: 'Mensal', priceCents: 500 }), 409, 1200);
    eq((await call(w.d, w.s, 'GET', `${w.P}/${p3.id}`)).json.variations, []);
    eq((await call(w.d, w.s, 'GET', w.P)).json.products.length, 3, 'nothing was deleted');

    // once only sold keys are left, the deletes go through (sold keys stay counted)
    eq((await w.d.stop()).code, 0);
    writeStock(w, [...keys(7, p1.id, 'sold'), ...keys(5, p2.id, 'available', v1.id), ...keys(3, p2.id, 'sold', v2.id), ...keys(1, p3.id, 'reserved')]);
    w.d = await start(w.dir);
    r = await call(w.d, w.s, 'DELETE', `${w.P}/${p2.id}/variations/${v2.id}`);
    eq(r.status, 200, r.text);
    eq(r.json.variations.map((v) => v.id), [v1.id]);
    eq(r.json.stock, { available: 5, reserved: 0, sold: 3 });
    eq((await call(w.d, w.s, 'DELETE', `${w.P}/${p1.id}`)).status, 204);
    expectError(await call(w.d, w.s, 'GET', `${w.P}/${p1.id}`), 404, 1001);
    eq((await call(w.d, w.s, 'POST', `${w.P}/${p3.id}/variations`, { name: 'Mensal', priceCents: 500 })).status, 409, 'p3 still has its key');
  } finally {
    eq((await w.d.stop()).code, 0);
  }
});

test('dm-preview: default template in the instance locale, the product and variation, tooLong', async () => {
  const w = await world();
  const PV = `/api/instances/${w.inst.id}/dm-preview`;
  try {
    let r = await call(w.d, w.s, 'POST', PV, {});
    eq(r.status, 200, r.text);
    const dflt = 'Obrigado pela compra, @comprador!\nPedido PEDIDO01: Produto de exemplo\nSua chave:\nABCD-EFGH-IJKL-MNOP\nLoja Teste';
    eq(r.json, { content: dflt, length: [...dflt].length, tooLong: false });

    const p = await create(w, { name: 'Açaí Premium', priceCents: 1000, dmTemplate: '✨ {produto} / {variacao} / {chave} / {loja}', variations: [{ name: '1 kg', priceCents: 1000 }] });
    const other = await create(w, { name: 'Outro', priceCents: 100, variations: [{ name: 'x', priceCents: 1 }] });
    r = await call(w.d, w.s, 'POST', PV, { productId: p.id });
    eq(r.json.content, '✨ Açaí Premium /  / ABCD-EFGH-IJKL-MNOP / Loja Teste');
    eq(r.json.length, 52, 'characters, not bytes');
    r = await call(w.d, w.s, 'POST', PV, { productId: p.id, variationId: p.variations[0].id });
    eq(r.json.content, '✨ Açaí Premium / 1 kg / ABCD-EFGH-IJKL-MNOP / Loja Teste');
    // a template being typed wins over the product's; null asks for the default
    r = await call(w.d, w.s, 'POST', PV, { productId: p.id, template: '{{pedido}} {chave}' });
    eq(r.json.content, '{PEDIDO01} ABCD-EFGH-IJKL-MNOP');
    r = await call(w.d, w.s, 'POST', PV, { productId: p.id, variationId: p.variations[0].id, template: null });
    eq(r.json.content, 'Obrigado pela compra, @comprador!\nPedido PEDIDO01: Açaí Premium 1 kg\nSua chave:\nABCD-EFGH-IJKL-MNOP\nLoja Teste');
    // a product without a template of its own uses the default
    r = await call(w.d, w.s, 'POST', PV, { productId: other.id });
    match(r.json.content, /^Obrigado pela compra, @comprador!\nPedido PEDIDO01: Outro\n/);

    // over Discord's 2000 characters
    r = await call(w.d, w.s, 'POST', PV, { template: '{chave}'.repeat(200) });
    eq([r.json.length, r.json.tooLong], [3800, true]);
    r = await call(w.d, w.s, 'POST', PV, { template: '{chave}'.repeat(105) });
    eq([r.json.length, r.json.tooLong], [1995, false]);

    // errors
    r = await call(w.d, w.s, 'POST', PV, { template: 'Sua chave: {chave} {variação}' });
    expectError(r, 400, 1202, 'template');
    match(r.json.message, /\{variação\}/);
    expectError(await call(w.d, w.s, 'POST', PV, { template: 'sem a chave' }), 400, 1208, 'template');
    expectError(await call(w.d, w.s, 'POST', PV, { template: '' }), 400, 1007, 'template');
    expectError(await call(w.d, w.s, 'POST', PV, { template: 5 }), 400, 1007, 'template');
    expectError(await call(w.d, w.s, 'POST', PV, { tempalte: 'x' }), 400, 1009, 'tempalte');
    expectError(await call(w.d, w.s, 'POST', PV, { variationId: p.variations[0].id }), 400, 1008, 'productId');
    expectError(await call(w.d, w.s, 'POST', PV, { productId: '00000000-0000-4000-8000-000000000000' }), 404, 1001, 'productId');
    expectError(await call(w.d, w.s, 'POST', PV, { productId: p.id, variationId: other.variations[0].id }), 404, 1001, 'variationId');
    r = await call(w.d, w.s, 'POST', PV, { template: '{chave} {x}' }, EN);
    match(r.json.message, /^Unknown placeholder: \{x\}/);

    // an English store: the buyers' default DM is in English (whatever the seller's browser)
    eq((await call(w.d, w.s, 'PATCH', `/api/instances/${w.inst.id}`, { settings: { locale: 'en' } })).status, 200);
    r = await call(w.d, w.s, 'POST', PV, {});
    eq(r.json.content, 'Thank you for your purchase, @comprador!\nOrder PEDIDO01: Sample product\nYour key:\nABCD-EFGH-IJKL-MNOP\nLoja Teste');
  } finally {
    eq((await w.d.stop()).code, 0);
  }
});

test('at most 200 live products per instance; a deleted one frees its place', async () => {
  const w = await world();
  try {
    let first;
    for (let i = 0; i < 200; i++) {
      const r = await call(w.d, w.s, 'POST', w.P, { name: `Produto ${i}`, priceCents: 100 + i });
      eq(r.status, 201, r.text);
      if (i === 0) first = r.json;
    }
    let r = await call(w.d, w.s, 'POST', w.P, { name: 'Um a mais', priceCents: 100 });
    expectError(r, 409, 1017);
    r = await call(w.d, w.s, 'POST', w.P, { name: 'Um a mais', priceCents: 100 }, EN);
    eq(r.json.message, 'Limit of 200 products per store reached.');
    eq((await call(w.d, w.s, 'DELETE', `${w.P}/${first.id}`)).status, 204);
    eq((await call(w.d, w.s, 'POST', w.P, { name: 'Agora cabe', priceCents: 100 })).status, 201);
    r = await call(w.d, w.s, 'GET', w.P);
    eq(r.json.products.length, 200);
    eq(r.json.products[0].name, 'Agora cabe');
  } finally {
    eq((await w.d.stop()).code, 0);
  }
}, { timeout: 90000 });
