// The buyer's cart in Discord, end to end: the real daemon, the fake Discord and the fake
// Mercado Pago. A seller sets up a store through the portal API (instance, token, products
// with variations, stock, coupons, a post); buyers click Comprar (a private thread with the
// buyer in it), pick a variation, change the quantity, try coupons (a refusal with its reason,
// then a good one), and check out (one Pix payment with the right amount, idempotency key,
// external_reference, notification_url and expiry; the QR image and the copia-e-cola in the
// cart). Cancelar releases the keys; a second Comprar reuses the open cart; buttons work after
// a restart; idle carts are warned and expired; without Mercado Pago checkout says so.
import fs from 'node:fs';
import path from 'node:path';
import { test, assert, eq, match, until } from './lib/harness.mjs';
import { startDaemon } from './lib/daemon.mjs';
import { api } from './lib/portal_client.mjs';

import { world, restart, online, store, counts, buy, threadOf, cartMsg, cartIdOf, click } from './lib/selling.mjs';

test('a buyer fills a cart in a private thread and pays with Pix; cancel, reuse, restart, expiry', async () => {
  const w = await world();
  try {
    const st = await store(w);
    const [ana, bia, caio, duda] = w.buyers;

    // Comprar: a private thread in the channel of the click, the buyer in it, a link back
    let text = await buy(w, st, ana, st.conta.id);
    match(text, /Seu carrinho: <#\d+>/);
    const th = threadOf(text);
    const ch = w.fake.channel(th);
    eq(ch.type, 12);
    eq(ch.parent_id, st.general);
    eq(ch.thread_metadata.invitable, false);
    assert(w.fake.threadMembers(th).some((m) => (m.user_id ?? m.id ?? m) === ana.id || JSON.stringify(m).includes(ana.id)), 'the buyer is in the thread');
    let m = cartMsg(w, th);
    assert(m, 'the cart message is in the thread');
    const cartId = cartIdOf(m);
    match(m.embeds[0].description, /Conta Premium\*\* — Mensal\n1 × R\$ 19,90 = \*\*R\$ 19,90\*\*/);

    // the variation select and + : updated in place (type 7)
    let res = await w.fake.selectValues({ appId: w.app.appId, channelId: th, customId: `astra:cart:var:${cartId}`, values: [st.anual.id], userId: ana.id }).response;
    eq(res.type, 7);
    match(res.data.embeds[0].description, /Anual\n1 × R\$ 49,90/);
    res = await click(w, th, ana, 'inc', cartId).response;
    eq(res.type, 7);
    match(res.data.embeds[0].description, /2 × R\$ 49,90 = \*\*R\$ 99,80\*\*/);
    eq(res.data.embeds[0].fields.find((f) => f.name === 'Total').value, 'R$ 99,80');

    // coupons: one for another product is refused with its reason; DEZ takes 10 %
    res = await click(w, th, ana, 'coupon', cartId).response;
    eq(res.type, 9);
    res = await w.fake.submitModal({ appId: w.app.appId, customId: `astra:coupon:${cartId}`, fields: { code: 'sochave' }, userId: ana.id, channelId: th, guildId: w.guild.id }).response;
    eq(res.type, 4);
    eq(res.data.flags & 64, 64);
    match(res.data.content, /produto/);
    await click(w, th, ana, 'coupon', cartId).response;
    res = await w.fake.submitModal({ appId: w.app.appId, customId: `astra:coupon:${cartId}`, fields: { code: ' dez ' }, userId: ana.id, channelId: th, guildId: w.guild.id }).response;
    match(res.data.content, /Cupom aplicado/);
    await until(() => cartMsg(w, th).embeds[0].fields.find((f) => f.name === 'Total').value === 'R$ 89,82', { what: 'the discounted total' });
    match(cartMsg(w, th).embeds[0].fields.find((f) => f.name === 'Cupom').value, /DEZ \(-R\$ 9,98\)/);

    // Finalizar: exactly one payment, as Mercado Pago wants it; the Pix in the cart
    const before = Date.now();
    res = await click(w, th, ana, 'checkout', cartId).response;
    eq(res.type, 6);
    await until(() => w.mp.payments().length === 1, { what: 'a payment' });
    await until(() => w.fake.messages(th).some((x) => x.attachments?.length), { what: 'the Pix in the cart' });
    const pays = w.mp.payments();
    eq(pays.length, 1);
    const p = pays[0];
    eq(p.transaction_amount, 89.82);
    eq(p.payment_method_id, 'pix');
    eq(p.notification_url, `http://127.0.0.1:${w.portalPort}/api/webhooks/mercadopago?source_news=webhooks`);
    match(p.payer.email, /^discord-\d+@example\.com$/);
    const orderId = p.external_reference;
    match(orderId, /^[0-9a-f-]{36}$/);
    const posts = w.mp.requests({ method: 'POST' });
    eq(posts.length, 1);
    eq(posts[0].idempotencyKey, `astra-order-${orderId}`);
    assert(Date.parse(p.date_of_expiration) - before >= 30 * 60 * 1000, `expiry ${p.date_of_expiration} is 30 min ahead`);
    const pix = w.fake.messages(th).find((x) => x.attachments?.length);
    eq(pix.attachments[0].filename, 'pix.png');
    eq(pix.embeds[0].image.url, 'attachment://pix.png');
    assert(pix.content.includes(p.point_of_interaction.transaction_data.qr_code), 'the copia-e-cola');
    match(pix.content, /<t:\d+:R>/);
    eq(await counts(w, st, st.conta.id, st.anual.id), { available: 1, reserved: 2, sold: 0 });
    // the cart now only offers Cancelar; a second Comprar points to it
    await until(() => cartMsg(w, th).components[0].components.length === 1, { what: 'cart locked' });
    text = await buy(w, st, ana, st.chave.id);
    eq(threadOf(text), th);
    match(text, /pagamento em andamento/);

    // another buyer: a cart, a checkout, then Cancelar releases the keys and closes the thread
    text = await buy(w, st, bia, st.chave.id);
    const th2 = threadOf(text);
    assert(th2 && th2 !== th, 'a cart of her own');
    const cart2 = cartIdOf(cartMsg(w, th2));
    // + on a product without variations
    res = await w.fake.clickButton({ appId: w.app.appId, messageId: cartMsg(w, th2).id, customId: `astra:cart:inc:${cart2}`, userId: bia.id }).response;
    eq(res.type, 7);
    res = await click(w, th2, bia, 'checkout', cart2).response;
    eq(res.type, 6);
    await until(async () => (await counts(w, st, st.chave.id)).reserved === 2, { what: 'reserved' });
    await until(() => w.fake.messages(th2).some((x) => x.attachments?.length), { what: 'the second Pix' });
    res = await click(w, th2, bia, 'cancel', cart2).response;
    eq(res.type, 6);
    await until(async () => (await counts(w, st, st.chave.id)).available === 3, { what: 'released' });
    await until(() => w.fake.channel(th2).thread_metadata.archived && w.fake.channel(th2).thread_metadata.locked, { what: 'archived' });

    // a second Comprar reuses the open cart
    text = await buy(w, st, caio, st.chave.id);
    const th3 = threadOf(text);
    const cart3 = cartIdOf(cartMsg(w, th3));
    text = await buy(w, st, caio, st.conta.id);
    eq(threadOf(text), th3);
    await until(() => /Conta Premium/.test(cartMsg(w, th3).embeds[0].description), { what: 'the line replaced' });

    // a restart loses nothing: the buttons still work
    await restart(w);
    await online(w, st.s, st.inst.id);
    res = await click(w, th3, caio, 'inc', cart3).response;
    eq(res.type, 7);
    match(res.data.embeds[0].description, /2 × R\$ 19,90/);

    // inactivity: one cart idle past its time is expired, one near it is warned; the cart
    // whose Pix is pending stays
    text = await buy(w, st, duda, st.chave.id);
    const th4 = threadOf(text);
    const cart4 = cartIdOf(cartMsg(w, th4));
    eq((await w.d.stop()).code, 0);
    const file = path.join(w.dir, 'data', 'carts.json');
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
    const now = Date.now();
    saved.carts[cart3].lastActivityAt = now - 20 * 60000;
    saved.carts[cart4].lastActivityAt = now - 11 * 60000;
    saved.carts[cartId].lastActivityAt = now - 60 * 60000;
    fs.writeFileSync(file, JSON.stringify(saved));
    const wait = w.startedAt + 5500 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    w.d = await startDaemon({ dir: w.dir, env: w.env, portalPort: w.portalPort });
    w.startedAt = Date.now();
    await until(() => w.fake.channel(th3).thread_metadata.archived, { what: 'the idle cart closed', timeout: 15000 });
    await until(() => w.fake.messages(th4).some((x) => /inatividade/.test(x.content)), { what: 'the warning', timeout: 15000 });
    assert(!w.fake.channel(th).thread_metadata.archived, 'the cart with a pending Pix stays');
    eq(await counts(w, st, st.conta.id, st.anual.id), { available: 1, reserved: 2, sold: 0 });
    await new Promise((r) => setTimeout(r, 3500)); // another sweep: warned once only
    eq(w.fake.messages(th4).filter((x) => /inatividade/.test(x.content)).length, 1);
    eq((await w.d.stop()).code, 0);
    const after = JSON.parse(fs.readFileSync(file, 'utf8')).carts;
    eq(after[cart3].status, 'closed');
    eq(after[cart3].closedReason, 'expired');
    assert(!after[cart3].openKey, 'out of the open index');
    eq(after[cart2].closedReason, 'cancelled');
    eq(after[cartId].status, 'checkout');
    w.fake.assertNoViolations();
    w.mp.assertNoViolations();
  } finally {
    eq((await w.d.stop()).code, 0);
    await w.fake.close();
    await w.mp.close();
  }
});

test('without Mercado Pago, Finalizar says payments are not configured and reserves nothing', async () => {
  const w = await world({ mpToken: null });
  try {
    const st = await store(w);
    const [ana] = w.buyers;
    const th = threadOf(await buy(w, st, ana, st.chave.id));
    const cartId = cartIdOf(cartMsg(w, th));
    const res = await click(w, th, ana, 'checkout', cartId).response;
    eq(res.type, 4);
    eq(res.data.flags & 64, 64);
    eq(res.data.content, 'Pagamentos não configurados nesta loja.');
    eq(await counts(w, st, st.chave.id), { available: 3, reserved: 0, sold: 0 });
    eq(w.mp.payments().length, 0);
    w.fake.assertNoViolations();
    w.mp.assertNoViolations();
  } finally {
    eq((await w.d.stop()).code, 0);
    await w.fake.close();
    await w.mp.close();
  }
});
