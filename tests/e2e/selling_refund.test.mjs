// Refund and chargeback, end to end: three sales through the fake Discord and the fake Mercado
// Pago, all delivered by DM; then one is refunded in Mercado Pago's panel and another charged
// back by the buyer's bank. Each order ends refunded / charged_back in the portal (timeline),
// the wallet takes the sale and the fee back (the balance is the kept sale's net), the key the
// buyer got is flagged in the portal's stock view and in the data file, and the seller's log
// channel says so in Portuguese. Replayed notifications change nothing.
import fs from 'node:fs';
import path from 'node:path';
import { test, assert, eq, match, until, sleep } from './lib/harness.mjs';
import { api } from './lib/portal_client.mjs';
import { world, store, buy, threadOf, cartMsg, cartIdOf, click } from './lib/selling.mjs';

const dmsOf = (w, user) => w.fake.dmsTo(user.id).filter((m) => !m._deleted);
const NET = 500 - Math.floor(500 * 5 / 100); // Chave Steam, R$ 5,00, the default 5 % fee

// One whole sale of the product without variations: Comprar, Finalizar, Pix approved, DM.
async function sell(w, st, user) {
  const th = threadOf(await buy(w, st, user, st.chave.id));
  const cartId = cartIdOf(cartMsg(w, th));
  const before = new Set(w.mp.payments().map((p) => p.id));
  eq((await click(w, th, user, 'checkout', cartId).response).type, 6);
  await until(() => w.mp.payments().some((p) => !before.has(p.id)), { what: 'the Pix' });
  const pay = w.mp.payments().find((p) => !before.has(p.id));
  w.mp.approve(pay.id);
  await until(() => dmsOf(w, user).length === 1, { what: `${user.username}'s DM`, timeout: 15000 });
  const key = st.keys[st.chave.id].find((k) => dmsOf(w, user)[0].content.includes(k));
  assert(key, 'the DM holds a key of the product');
  const order = async () => (await api(w.d, st.s, 'GET', `/api/instances/${st.inst.id}/orders/${pay.external_reference}`)).json();
  await until(async () => (await order()).status === 'delivered', { what: 'delivered' });
  return { id: pay.external_reference, pay, key, code: (await order()).code, order };
}

test('a refund and a chargeback after delivered sales: orders, wallet, flagged keys, log channel', async () => {
  const w = await world();
  try {
    const st = await store(w);
    const P = `/api/instances/${st.inst.id}`;
    const log = w.fake.createChannel(w.guild.id, { name: 'vendas', type: 0 });
    eq((await api(w.d, st.s, 'PATCH', P, { settings: { logChannelId: log.id } })).status, 200);
    const [ana, bia, caio] = w.buyers;
    const kept = await sell(w, st, ana);
    const refunded = await sell(w, st, bia);
    const charged = await sell(w, st, caio);
    eq(new Set([kept.key, refunded.key, charged.key]).size, 3, 'three different keys');
    const wallet = async () => (await api(w.d, st.s, 'GET', '/api/wallet')).json();
    eq((await wallet()).balanceCents, 3 * NET);
    const logs = () => w.fake.messages(log.id).filter((m) => !m._deleted).map((m) => m.content);
    await until(() => logs().length === 3, { what: 'three sales in the log channel' });

    // refunded in Mercado Pago's panel
    w.mp.refund(refunded.pay.id);
    await until(async () => (await refunded.order()).status === 'refunded', { what: 'refunded in the portal', timeout: 15000 });
    eq((await refunded.order()).timeline.map((e) => e.status), ['pending', 'paid', 'delivered', 'refunded']);
    await until(async () => (await wallet()).balanceCents === 2 * NET, { what: 'the refund in the wallet' });
    await until(() => logs().length === 4, { what: 'the refund in the log channel' });
    const r1 = logs().find((t) => t.includes(refunded.code) && t.startsWith('↩️'));
    assert(r1, `a refund notice: ${JSON.stringify(logs())}`);
    match(r1, new RegExp(`^↩️ Reembolso \`${refunded.code}\`: Chave Steam · R\\$ 5,00 devolvidos · comprador <@${bia.id}>`));
    match(r1, /1 chave entregue marcada \(reembolso\) no estoque\./);
    assert(!r1.includes(refunded.key), 'no key in the log');

    // charged back by the buyer's bank
    w.mp.chargeback(charged.pay.id);
    await until(async () => (await charged.order()).status === 'charged_back', { what: 'charged back in the portal', timeout: 15000 });
    eq((await charged.order()).timeline.at(-1).status, 'charged_back');
    await until(async () => (await wallet()).balanceCents === NET, { what: 'the chargeback in the wallet' });
    await until(() => logs().length === 5, { what: 'the chargeback in the log channel' });
    const r2 = logs().find((t) => t.includes(charged.code) && t.startsWith('⚠️'));
    match(r2, new RegExp(`^⚠️ Contestação \\(chargeback\\) \`${charged.code}\`: Chave Steam · R\\$ 5,00 devolvidos · comprador <@${caio.id}>`));
    match(r2, /1 chave entregue marcada \(contestação\)/);

    // the wallet: each reversal is two entries, the kept sale untouched
    const wl = await wallet();
    const byOrder = (id) => wl.entries.filter((e) => e.orderId === id).map((e) => [e.type, e.amountCents]).sort();
    eq(byOrder(refunded.id), [['fee', -25], ['fee_reversal', 25], ['refunded', -500], ['sale', 500]]);
    eq(byOrder(charged.id), [['charged_back', -500], ['fee', -25], ['fee_reversal', 25], ['sale', 500]]);
    eq(byOrder(kept.id), [['fee', -25], ['sale', 500]]);
    eq((await kept.order()).status, 'delivered');

    // the portal's stock view flags the two keys the buyers keep
    const items = (await (await api(w.d, st.s, 'GET', `${P}/stock?productId=${st.chave.id}&status=sold`)).json()).items;
    const flagOf = (o) => items.find((i) => i.orderId === o.id)?.flag;
    eq([flagOf(kept), flagOf(refunded), flagOf(charged)], [null, 'refunded', 'charged_back']);

    // the same notifications again: nothing more
    await Promise.all([refunded, charged].map((o) => w.mp.sendWebhook(o.pay.id, { variant: 'duplicate' })));
    await sleep(1500);
    eq((await wallet()).balanceCents, NET, 'still one reversal each');
    eq(logs().length, 5, 'still one notice each');
    for (const u of [ana, bia, caio]) eq(dmsOf(w, u).length, 1, `one DM for ${u.username}`);

    // after a clean stop, the data file holds the flags
    eq((await w.d.stop()).code, 0);
    const stock = JSON.parse(fs.readFileSync(path.join(w.dir, 'data', 'instances', st.inst.id, 'stock.json'), 'utf8')).stock;
    const rec = (o) => Object.values(stock).find((s) => s.orderId === o.id);
    eq([rec(kept).flag, rec(refunded).flag, rec(charged).flag], [undefined, 'refunded', 'charged_back']);
    eq([rec(refunded).status, rec(charged).status], ['sold', 'sold'], 'still sold: the buyers have them');
    w.fake.assertNoViolations();
    w.mp.assertNoViolations();
  } finally {
    eq((await w.d.stop()).code, 0);
    await w.fake.close();
    await w.mp.close();
  }
}, { timeout: 120000 });
