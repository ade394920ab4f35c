// Orders and customers through the portal API (read-only): two sellers and three instances
// made through the API, orders and customers seeded into the stopped daemon's data, then on
// restart: newest first, every filter alone and combined, q in any case, cursor pages that
// visit every match once, totals, details, customers with their orders, no internal field
// ever shown, 404 across sellers and across one seller's instances, 400 bad_query naming the
// parameter.
import { test, assert, eq } from './lib/harness.mjs';
import { startDaemon, tmpDir } from './lib/daemon.mjs';
import { DATA_KEY } from './lib/seed.mjs';
import { signup, api } from './lib/portal_client.mjs';
import {
  ORDER_STATUSES, makeOrders, customersFrom, sampleCatalog, sampleBuyers, seedOrders,
  seedCustomers, orderView, customerView, newestFirst, orderMatches, icontains,
} from './lib/orders_seed.mjs';

const ENV = { DATA_ENCRYPTION_KEY: DATA_KEY };

// Key-order-independent comparison.
const canon = (v) => (Array.isArray(v) ? v.map(canon)
  : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])])) : v);
const same = (a, b, msg) => eq(canon(a), canon(b), msg);

// Every body the test saw, for the "never shown" checks at the end.
const bodies = [];
async function get(d, s, p, headers) {
  const r = await api(d, s, 'GET', p, undefined, headers);
  const text = await r.text();
  bodies.push(text);
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

// Walks every page of a list; returns the records in order and checks total on each page.
async function walk(d, s, base, key, { limit = 50 } = {}) {
  const all = [];
  let cursor = null, total = null, pages = 0;
  do {
    const sep = base.includes('?') ? '&' : '?';
    const r = await get(d, s, `${base}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    eq(r.status, 200, `${base} page ${pages}`);
    assert(r.body[key].length <= limit, 'page size');
    if (total === null) total = r.body.total;
    eq(r.body.total, total, 'total is the same on every page');
    all.push(...r.body[key]);
    cursor = r.body.nextCursor;
    assert(cursor === null || r.body[key].length === limit, 'only full pages have a next cursor');
    assert(++pages < 500, 'pagination ends');
  } while (cursor);
  eq(all.length, total, `${base}: total counts every match`);
  eq(new Set(all.map((o) => o.id)).size, all.length, `${base}: each match once`);
  return all;
}

async function world() {
  const dir = tmpDir();
  let d = await startDaemon({ dir, env: ENV });
  const a = await signup(d), b = await signup(d);
  const mk = async (s, name) => (await (await api(d, s, 'POST', '/api/instances', { name })).json()).id;
  const a1 = await mk(a, 'Loja A1'), a2 = await mk(a, 'Loja A2'), b1 = await mk(b, 'Loja B1');
  eq((await d.stop()).code, 0);

  // Buyers shared between A's instances: a customer's detail must list only this instance's.
  const buyers = sampleBuyers(12);
  const now = Date.now();
  const orders = {
    a1: makeOrders({ instanceId: a1, count: 130, buyers, products: sampleCatalog(), now, seed: 41,
      coupons: [{ id: 'cpn-bemvindo', code: 'BEMVINDO', type: 'percent', value: 10 },
        { id: 'cpn-cinco', code: 'CINCO', type: 'fixed', value: 500 }] }),
    a2: makeOrders({ instanceId: a2, count: 25, buyers: buyers.slice(0, 4), products: sampleCatalog(), now, seed: 42 }),
    b1: makeOrders({ instanceId: b1, count: 20, buyers: buyers.slice(2, 6), products: sampleCatalog(), now, seed: 43 }),
  };
  const all = [...orders.a1, ...orders.a2, ...orders.b1];
  const customers = customersFrom(all);
  seedOrders(d.dataDir, all);
  seedCustomers(d.dataDir, customers);
  d = await startDaemon({ dir, env: ENV });
  const custOf = (inst) => customers.filter((c) => c.instanceId === inst);
  return { d, a, b, a1, a2, b1, orders, customers, custOf };
}

test('orders: newest first, filters alone and combined, q in any case, pages, totals, detail', async () => {
  const w = await world();
  const { d, a, a1 } = w;
  try {
    const expected = (f) => w.orders.a1.filter((o) => orderMatches(o, f)).sort(newestFirst('createdAt')).map(orderView);
    const base = `/api/instances/${a1}/orders`;

    // the first page: 50 of 130, newest first, exactly the seller view
    let r = await get(d, a, base);
    eq(r.status, 200);
    eq(r.body.total, 130);
    eq(r.body.orders.length, 50);
    assert(typeof r.body.nextCursor === 'string', 'a next cursor');
    same(r.body.orders, expected({}).slice(0, 50), 'first page');

    // pages of 7 visit every order once, in order
    same(await walk(d, a, base, 'orders', { limit: 7 }), expected({}), 'walk of 7');
    same(await walk(d, a, base, 'orders', { limit: 100 }), expected({}), 'walk of 100');

    // each status alone
    for (const status of ORDER_STATUSES) {
      const got = await walk(d, a, `${base}?status=${status}`, 'orders', { limit: 6 });
      assert(got.length > 0, `some ${status}`);
      same(got, expected({ status }), `status ${status}`);
    }

    // q on the code, the buyer's name and id, a product's name, in any case
    const sample = w.orders.a1[10];
    const qs = [
      sample.code.slice(2, 6).toLowerCase(), sample.code,
      sample.buyerName.toUpperCase(), sample.buyerId.slice(5, 14),
      'gIfT cArD', 'LICENça', 'açaí', 'conta premium',
    ];
    for (const q of qs) {
      const want = expected({ q });
      assert(want.length > 0, `q ${q} matches something`);
      same(await walk(d, a, `${base}?q=${encodeURIComponent(q)}`, 'orders', { limit: 9 }), want, `q ${q}`);
    }
    // ASCII folding only (documented): "LICENÇA" does not find "Licença", as Ç is not ç
    r = await get(d, a, `${base}?q=${encodeURIComponent('LICENÇA')}`);
    eq(r.body.total, 0, 'no folding beyond ASCII');

    // dates alone and together (inclusive bounds on createdAt)
    const times = w.orders.a1.map((o) => o.createdAt).sort((x, y) => x - y);
    const from = times[30], to = times[90];
    same(await walk(d, a, `${base}?from=${from}`, 'orders'), expected({ from }), 'from');
    same(await walk(d, a, `${base}?to=${to}`, 'orders'), expected({ to }), 'to');
    same(await walk(d, a, `${base}?from=${from}&to=${to}`, 'orders'), expected({ from, to }), 'from+to');
    eq((await get(d, a, `${base}?from=${times[5]}&to=${times[5]}`)).body.total,
      w.orders.a1.filter((o) => o.createdAt === times[5]).length, 'from = to');

    // everything combined
    for (const status of ['delivered', 'pending', 'refunded']) {
      const f = { status, q: 'CONTA', from: times[10], to: times[120] };
      same(await walk(d, a, `${base}?status=${status}&q=CONTA&from=${f.from}&to=${f.to}&foo=bar`, 'orders', { limit: 3 }),
        expected(f), `combined ${status}`);
    }
    r = await get(d, a, `${base}?status=paid&q=zzzz-nada`);
    eq(r.status, 200);
    eq(r.body, { orders: [], total: 0, nextCursor: null });
    // an empty q is no filter (a cleared search box)
    eq((await get(d, a, `${base}?q=`)).body.total, 130);

    // detail of every order: the same view
    for (const o of w.orders.a1) {
      r = await get(d, a, `${base}/${o.id}`);
      eq(r.status, 200);
      same(r.body, orderView(o), `detail ${o.id}`);
    }
    const c = w.orders.a1.find((o) => o.coupon);
    eq((await get(d, a, `${base}/${c.id}`)).body.coupon, c.coupon);
  } finally {
    eq((await w.d.stop()).code, 0);
  }
});

test('customers: most recent buyer first, q, pages, detail with their orders in this instance only', async () => {
  const w = await world();
  const { d, a, a1 } = w;
  try {
    const base = `/api/instances/${a1}/customers`;
    const want = (q) => w.custOf(a1).filter((c) => !q || icontains(c.username, q) || icontains(c.discordId, q))
      .sort(newestFirst('lastPurchaseAt')).map(customerView);
    assert(want().length >= 10, 'enough customers');
    let r = await get(d, a, base);
    eq(r.status, 200);
    eq(r.body.total, want().length);
    same(r.body.customers, want(), 'list');
    eq(r.body.nextCursor, null);
    same(await walk(d, a, base, 'customers', { limit: 3 }), want(), 'walk of 3');
    const one = w.custOf(a1)[3];
    for (const q of [one.username.toUpperCase(), one.discordId.slice(4, 12), 'maria_SILVA']) {
      same(await walk(d, a, `${base}?q=${encodeURIComponent(q)}`, 'customers', { limit: 2 }), want(q), `q ${q}`);
    }
    // detail: the customer and their orders in this instance, newest first; a buyer of both
    // of A's instances has orders in A2 that must not show here
    let shared = 0;
    for (const c of w.custOf(a1)) {
      r = await get(d, a, `${base}/${c.id}`);
      eq(r.status, 200);
      same(r.body.customer, customerView(c), 'customer');
      const mine = w.orders.a1.filter((o) => o.buyerId === c.discordId).sort(newestFirst('createdAt')).map(orderView);
      same(r.body.orders, mine, `orders of ${c.username}`);
      if (w.orders.a2.some((o) => o.buyerId === c.discordId)) shared++;
    }
    assert(shared > 0, 'some buyers bought in both instances');
  } finally {
    eq((await w.d.stop()).code, 0);
  }
});

test("another seller's or another instance's orders and customers are 404; nothing internal shows", async () => {
  const w = await world();
  const { d, a, b, a1, a2, b1 } = w;
  try {
    const oa1 = w.orders.a1[0].id, oa2 = w.orders.a2[0].id, ob1 = w.orders.b1[0].id;
    const ca1 = w.custOf(a1)[0].id, ca2 = w.custOf(a2)[0].id, cb1 = w.custOf(b1)[0].id;
    const notFound = [
      // B on A's instance
      [b, `/api/instances/${a1}/orders`], [b, `/api/instances/${a1}/orders/${oa1}`],
      [b, `/api/instances/${a1}/customers`], [b, `/api/instances/${a1}/customers/${ca1}`],
      // B asks for A's records through B's own instance
      [b, `/api/instances/${b1}/orders/${oa1}`], [b, `/api/instances/${b1}/customers/${ca1}`],
      // A asks for A2's records through A1, and for B's through A1
      [a, `/api/instances/${a1}/orders/${oa2}`], [a, `/api/instances/${a1}/customers/${ca2}`],
      [a, `/api/instances/${a1}/orders/${ob1}`], [a, `/api/instances/${a1}/customers/${cb1}`],
      // made-up ids
      [a, `/api/instances/${a1}/orders/nao-existe`], [a, `/api/instances/${a1}/customers/nao-existe`],
      [a, '/api/instances/nao-existe/orders'],
    ];
    for (const [s, p] of notFound) {
      const r = await get(d, s, p, { 'accept-language': 'en' });
      eq(r.status, 404, p);
      eq(r.body.error, 'not_found', p);
    }
    // B sees only B's own
    const rb = await get(d, b, `/api/instances/${b1}/orders?limit=100`);
    eq(rb.body.total, w.orders.b1.length);
    assert(rb.body.orders.every((o) => w.orders.b1.some((x) => x.id === o.id)), "only B1's orders");
    const ra2 = await get(d, a, `/api/instances/${a2}/customers?limit=100`);
    eq(ra2.body.total, w.custOf(a2).length);

    // every list and detail once more for the scan below
    await walk(d, a, `/api/instances/${a1}/orders`, 'orders', { limit: 100 });
    await walk(d, a, `/api/instances/${a2}/orders`, 'orders', { limit: 100 });
    for (const c of w.custOf(a1)) await get(d, a, `/api/instances/${a1}/customers/${c.id}`);
    for (const o of w.orders.a2) await get(d, a, `/api/instances/${a2}/orders/${o.id}`);
    const text = bodies.join('\n');
    for (const bad of ['stockIds', 'qrCode', 'qrCodeBase64', 'point_of_interaction', 'instanceId',
      'couponId', 'expiresAt', 'br.gov.bcb.pix']) {
      assert(!text.includes(bad), `"${bad}" never shows`);
    }
    for (const o of [...w.orders.a1, ...w.orders.a2]) {
      for (const sid of o.stockIds) assert(!text.includes(sid), 'no stock id');
    }
    assert(!/[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}/.test(text), 'nothing key-like');
    assert(!text.includes(DATA_KEY), 'no data key');
  } finally {
    eq((await w.d.stop()).code, 0);
  }
});

test('bad query parameters are 400 bad_query naming the parameter, in English when asked', async () => {
  const w = await world();
  const { d, a, a1 } = w;
  try {
    const orders = `/api/instances/${a1}/orders`, customers = `/api/instances/${a1}/customers`;
    // a real cursor with a byte changed is not a cursor
    const real = (await get(d, a, `${orders}?limit=1`)).body.nextCursor;
    const tampered = real.slice(0, -1) + (real.endsWith('A') ? 'B' : 'A');
    const cases = [
      [orders, 'status=PAID', 'status'], [orders, 'status=', 'status'], [orders, 'status=shipped', 'status'],
      [orders, 'limit=0', 'limit'], [orders, 'limit=101', 'limit'], [orders, 'limit=abc', 'limit'],
      [orders, 'limit=', 'limit'], [orders, 'limit=-5', 'limit'], [orders, 'limit=07', 'limit'],
      [orders, 'from=-1', 'from'], [orders, 'from=abc', 'from'], [orders, 'from=1.5', 'from'],
      [orders, 'to=1e12', 'to'], [orders, 'to=', 'to'], [orders, 'from=10&to=5', 'to'],
      [orders, `q=${'x'.repeat(101)}`, 'q'], [orders, 'q=%01abc', 'q'], [orders, 'q=%C3', 'q'],
      [orders, 'cursor=', 'cursor'], [orders, 'cursor=nope', 'cursor'],
      [orders, `cursor=${encodeURIComponent(tampered)}`, 'cursor'],
      [orders, `cursor=${encodeURIComponent(real)}%3D`, 'cursor'],
      [customers, 'limit=0', 'limit'], [customers, 'limit=1000', 'limit'],
      [customers, 'cursor=abc', 'cursor'], [customers, `q=${'ç'.repeat(101)}`, 'q'],
    ];
    for (const [p, qs, field] of cases) {
      const r = await get(d, a, `${p}?${qs}`, { 'accept-language': 'en-US,en;q=0.9' });
      eq(r.status, 400, qs);
      eq(r.body.error, 'bad_query', qs);
      eq(r.body.code, 1018, qs);
      eq(r.body.field, field, qs);
      eq(r.body.message, 'Invalid query parameter.', qs);
    }
    // pt-BR by default
    const r = await get(d, a, `${orders}?limit=0`);
    eq(r.body.message, 'Parâmetro de consulta inválido.');
    // at the limits, and unknown parameters ignored
    eq((await get(d, a, `${orders}?limit=100&from=0&to=9007199254740991&sort=asc`)).status, 200);
    eq((await get(d, a, `${orders}?limit=1&q=${'x'.repeat(100)}`)).status, 200);
    eq((await get(d, a, `${customers}?limit=1&cursor=${encodeURIComponent(real)}`)).status, 200);
    // the next page from a real cursor works
    eq((await get(d, a, `${orders}?cursor=${encodeURIComponent(real)}`)).body.orders.length, 50);
  } finally {
    eq((await w.d.stop()).code, 0);
  }
});
