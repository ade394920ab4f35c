// The whole sale, end to end, as issue 5 puts it: a buyer clicks Comprar, picks a variation,
// applies a coupon, pays the Pix (the fake Mercado Pago approves it and sends its signed
// webhook to the daemon), and gets the DM with the right key; the seller's log channel, the
// product post, the orders page and the wallet all show it. Then the same webhook ten times
// at once changes nothing: one DM, one credit.
import { test, assert, eq, match, until } from './lib/harness.mjs';
import { api } from './lib/portal_client.mjs';
import { world, store, buy, threadOf, cartMsg, cartIdOf, click, counts } from './lib/selling.mjs';

const dmsOf = (w, user) => w.fake.dmsTo(user.id).filter((m) => !m._deleted);

test('a buyer pays by Pix and gets the key by DM; the seller sees the sale everywhere; replays change nothing', async () => {
  const w = await world();
  try {
    const st = await store(w);
    const [ana] = w.buyers;
    const log = w.fake.createChannel(w.guild.id, { name: 'vendas', type: 0 });
    eq((await api(w.d, st.s, 'PATCH', `/api/instances/${st.inst.id}`, { settings: { logChannelId: log.id } })).status, 200);

    // Comprar → the Anual variation → the DEZ coupon → Finalizar
    const th = threadOf(await buy(w, st, ana, st.conta.id));
    const cartId = cartIdOf(cartMsg(w, th));
    let res = await w.fake.selectValues({ appId: w.app.appId, channelId: th, customId: `astra:cart:var:${cartId}`, values: [st.anual.id], userId: ana.id }).response;
    eq(res.type, 7);
    await click(w, th, ana, 'coupon', cartId).response;
    res = await w.fake.submitModal({ appId: w.app.appId, customId: `astra:coupon:${cartId}`, fields: { code: 'DEZ' }, userId: ana.id, channelId: th, guildId: w.guild.id }).response;
    match(res.data.content, /Cupom aplicado/);
    res = await click(w, th, ana, 'checkout', cartId).response;
    eq(res.type, 6);
    await until(() => w.mp.payments().length === 1, { what: 'the Pix payment' });
    const pay = w.mp.payments()[0];
    eq(pay.transaction_amount, 44.91); // R$ 49,90 − 10 %
    await until(() => w.fake.messages(th).some((x) => x.attachments?.length), { what: 'the QR code in the cart' });
    eq(await counts(w, st, st.conta.id, st.anual.id), { available: 2, reserved: 1, sold: 0 });

    // the buyer pays: Mercado Pago approves and notifies the daemon
    w.mp.approve(pay.id);
    await until(() => dmsOf(w, ana).length > 0, { what: 'the DM with the key', timeout: 15000 });
    const dm = dmsOf(w, ana);
    eq(dm.length, 1, 'one DM');
    const got = st.keys[st.anual.id].filter((k) => dm[0].content.includes(k));
    eq(got.length, 1, `the DM holds exactly one of the Anual keys: ${dm[0].content}`);
    for (const other of [...st.keys[st.mensal.id], ...st.keys[st.chave.id]]) assert(!dm[0].content.includes(other), 'no key of another product');
    match(dm[0].content, /Conta Premium/);
    assert(dm[0].nonce && dm[0].nonce.length <= 25, 'sent with a nonce');
    eq(await counts(w, st, st.conta.id, st.anual.id), { available: 2, reserved: 0, sold: 1 });

    // the seller's side: orders page, log channel, product post, wallet
    const orderId = pay.external_reference;
    await until(async () => (await (await api(w.d, st.s, 'GET', `/api/instances/${st.inst.id}/orders/${orderId}`)).json()).status === 'delivered', { what: 'delivered in the portal' });
    const order = await (await api(w.d, st.s, 'GET', `/api/instances/${st.inst.id}/orders/${orderId}`)).json();
    eq(order.totalCents, 4491);
    eq(order.discountCents, 499);
    eq(order.coupon.code, 'DEZ');
    eq(order.timeline.map((e) => e.status), ['pending', 'paid', 'delivered']);
    eq(order.buyerId, ana.id);
    assert(!JSON.stringify(order).includes(got[0]), 'the key is not in the order view');
    await until(() => w.fake.messages(log.id).some((m) => m.content?.includes(order.code)), { what: 'the sale in the log channel' });
    await until(() => {
      const post = w.fake.messages(st.general).find((m) => m.id === st.posts[st.conta.id]);
      return post && JSON.stringify(post.embeds).includes('2 disponíveis');
    }, { what: 'the product post edited with the stock left' });
    const wallet = await (await api(w.d, st.s, 'GET', '/api/wallet')).json();
    eq(wallet.balanceCents, 4491 - Math.floor(4491 * 5 / 100)); // the default 5 % fee
    eq(wallet.entries.map((e) => e.type).sort(), ['fee', 'sale']);

    // the same notification ten times at once: nothing more
    await Promise.all(Array.from({ length: 10 }, () => w.mp.sendWebhook(pay.id, { variant: 'duplicate' })));
    await new Promise((r) => setTimeout(r, 1500));
    eq(dmsOf(w, ana).length, 1, 'still one DM');
    eq((await (await api(w.d, st.s, 'GET', '/api/wallet')).json()).balanceCents, wallet.balanceCents, 'still one credit');
    eq(await counts(w, st, st.conta.id, st.anual.id), { available: 2, reserved: 0, sold: 1 });
    w.fake.assertNoViolations();
    w.mp.assertNoViolations();
  } finally {
    eq((await w.d.stop()).code, 0);
    await w.fake.close();
    await w.mp.close();
  }
}, { timeout: 90000 });
