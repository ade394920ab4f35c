// Two buyers race for the last key, end to end through the fake Discord and the fake Mercado
// Pago: both click Comprar and Finalizar at the same time; one gets the Pix, the other is told
// in Portuguese there is not enough stock. Then the winner's reservation lapses (the daemon is
// stopped and the order's expiresAt moved into the past; reconciliation, every second, expires
// it), the other buyer buys and pays, and the first pays late: that order waits for stock,
// visible in the portal, until one key uploaded through the portal reaches them by DM. One DM
// each, and no key sold twice.
import fs from 'node:fs';
import path from 'node:path';
import { test, assert, eq, match, until, sleep } from './lib/harness.mjs';
import { api } from './lib/portal_client.mjs';
import { world, store, buy, threadOf, cartMsg, cartIdOf, click, counts, restart, online } from './lib/selling.mjs';

const dmsOf = (w, user) => w.fake.dmsTo(user.id).filter((m) => !m._deleted);

test('two buyers race for the last key; a lapsed reservation, a late Pix and a restock', async () => {
  const w = await world({ env: { PAYMENT_RECONCILE_SECONDS: '1' } });
  try {
    const st = await store(w);
    const P = `/api/instances/${st.inst.id}`;
    const [ana, bia] = w.buyers;
    let r = await api(w.d, st.s, 'POST', `${P}/products`, { name: 'Última Chave', priceCents: 990 });
    eq(r.status, 201);
    const ultima = await r.json();
    const FIRST = `ULTIMA-${Math.random().toString(36).slice(2)}`;
    eq((await api(w.d, st.s, 'POST', `${P}/stock`, { productId: ultima.id, text: FIRST })).status, 200);
    r = await api(w.d, st.s, 'POST', `${P}/products/${ultima.id}/post`);
    eq(r.status, 200);
    st.posts[ultima.id] = (await r.json()).post.messageId;

    // both click Comprar, then Finalizar, at the same time
    const texts = await Promise.all([buy(w, st, ana, ultima.id), buy(w, st, bia, ultima.id)]);
    const th = texts.map(threadOf);
    assert(th[0] && th[1] && th[0] !== th[1], 'a cart each');
    const carts = th.map((t) => cartIdOf(cartMsg(w, t)));
    const res = await Promise.all([ana, bia].map((u, i) => click(w, th[i], u, 'checkout', carts[i]).response));
    const winner = res.findIndex((x) => x.type === 6);
    assert(winner >= 0, `one checkout went on: ${JSON.stringify(res.map((x) => x.type))}`);
    const loser = 1 - winner;
    eq(res[loser].type, 4, 'the other is answered');
    match(res[loser].data.content, /Não há estoque suficiente/);
    await until(() => w.mp.payments().length === 1, { what: 'one Pix' });
    await sleep(500);
    eq(w.mp.payments().length, 1, 'exactly one Pix');
    const first = w.mp.payments()[0];
    const [A, B] = winner === 0 ? [ana, bia] : [bia, ana];
    const thB = th[loser];
    eq(await counts(w, st, ultima.id), { available: 0, reserved: 1, sold: 0 });

    // the winner's reservation lapses: stop, move expiresAt into the past, start again
    const oid = first.external_reference;
    await restart(w, () => {
      const file = path.join(w.dir, 'data', 'orders.json');
      const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
      eq(doc.orders[oid].status, 'pending');
      doc.orders[oid].expiresAt = Date.now() - 60000;
      fs.writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });
    });
    await online(w, st.s, st.inst.id);
    const order = async (id) => (await api(w.d, st.s, 'GET', `${P}/orders/${id}`)).json();
    await until(async () => (await order(oid)).status === 'expired', { what: 'the lapsed order expired', timeout: 15000 });
    eq(await counts(w, st, ultima.id), { available: 1, reserved: 0, sold: 0 });

    // the other buyer finalises now, and pays
    r = await click(w, thB, B, 'checkout', carts[loser]).response;
    eq(r.type, 6);
    await until(() => w.mp.payments().length === 2, { what: 'the second Pix' });
    const second = w.mp.payments().find((p) => p.id !== first.id);
    w.mp.approve(second.id);
    await until(() => dmsOf(w, B).length > 0, { what: 'B\'s DM', timeout: 15000 });
    assert(dmsOf(w, B)[0].content.includes(FIRST), 'B got the last key');

    // the first buyer pays the Pix they still hold: paid late, no key left, waiting
    w.mp.approve(first.id);
    await until(async () => (await order(oid)).status === 'waiting_stock', { what: 'waiting_stock in the portal', timeout: 15000 });
    const o = await order(oid);
    assert(o.timeline.some((e) => e.status === 'paid' && e.detail === 'late'), 'paid late');
    eq(dmsOf(w, A).length, 0, 'no DM yet');
    const list = await (await api(w.d, st.s, 'GET', `${P}/orders?status=waiting_stock`)).json();
    assert(JSON.stringify(list).includes(oid), 'listed as waiting_stock');

    // one key uploaded through the portal reaches the first buyer
    const SECOND = `ULTIMA-${Math.random().toString(36).slice(2)}`;
    eq((await api(w.d, st.s, 'POST', `${P}/stock`, { productId: ultima.id, text: SECOND })).status, 200);
    await until(() => dmsOf(w, A).length > 0, { what: 'A\'s DM after the restock', timeout: 15000 });
    await until(async () => (await order(oid)).status === 'delivered', { what: 'A delivered' });
    await sleep(1500);
    eq(dmsOf(w, A).length, 1, 'one DM for A');
    eq(dmsOf(w, B).length, 1, 'one DM for B');
    const a = dmsOf(w, A)[0].content, b = dmsOf(w, B)[0].content;
    assert(a.includes(SECOND) && !a.includes(FIRST), 'A got the new key only');
    assert(b.includes(FIRST) && !b.includes(SECOND), 'B got the first key only');
    eq(await counts(w, st, ultima.id), { available: 0, reserved: 0, sold: 2 });
    const items = (await (await api(w.d, st.s, 'GET', `${P}/stock?productId=${ultima.id}`)).json()).items;
    eq(new Set(items.map((i) => i.orderId)).size, 2, 'each key sold to its own order');
    w.fake.assertNoViolations();
  } finally {
    eq((await w.d.stop()).code, 0);
    await w.fake.close();
    await w.mp.close();
  }
}, { timeout: 120000 });
