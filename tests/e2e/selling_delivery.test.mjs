// Delivery against the fake Discord with the real binary: the outbox worker DMs the buyer the
// product's template with the right key (nonce + enforce_nonce), the order becomes delivered in
// the portal, the log channel gets the sale and the product post its new stock; exactly one DM
// after a SIGKILL right after sending; DMs closed → the cart channel, and without a cart → a
// Revelar chave button only the buyer can use; Discord failing → failed in the portal → retry
// → delivered; /pedido for the buyer only, Reenviar; waiting_stock orders served oldest first
// when keys are uploaded through the API.
//
// The cart and the webhook are built elsewhere, so paid orders are seeded: the daemon is
// stopped (its store then checkpoints every file), seedPaid() does what shop_order_paid does
// (keys sold to the order, the order paid, the outbox entries dm-/log-/post-), and the daemon
// starts again on the same directory.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test, assert, eq, match, until } from './lib/harness.mjs';
import { startDaemon, tmpDir } from './lib/daemon.mjs';
import { DATA_KEY } from './lib/seed.mjs';
import { signup, api } from './lib/portal_client.mjs';
import { startFakeDiscord } from '../fakes/discord/server.mjs';

const TEMPLATE = 'Olá {comprador}! Pedido {pedido}: {produto}\n{chave}\nLoja {loja}';
const uuid = () => crypto.randomUUID();
const CODE_CHARS = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const code = () => Array.from({ length: 8 }, () => CODE_CHARS[crypto.randomInt(CODE_CHARS.length)]).join('');

async function world({ post = true } = {}) {
  const fake = await startFakeDiscord({ heartbeatInterval: 1000 });
  const owner = fake.createUser({ username: 'dono' });
  const buyer = fake.createUser({ username: 'comprador' });
  const other = fake.createUser({ username: 'curioso' });
  const guild = fake.createGuild({ name: 'Loja', ownerId: owner.id });
  fake.addMember(guild.id, buyer.id);
  fake.addMember(guild.id, other.id);
  const app = fake.createApp({ name: 'Bot da Loja' });
  fake.addBotToGuild(app.appId, guild.id, { permissions: '8' });
  const vitrine = fake.createChannel(guild.id, { name: 'vitrine', type: 0 });
  const logs = fake.createChannel(guild.id, { name: 'vendas', type: 0 });
  const cart = fake.createChannel(guild.id, { name: 'carrinho-comprador', type: 0 });
  const dir = tmpDir();
  const env = { DISCORD_API_BASE: fake.apiBase, DATA_ENCRYPTION_KEY: DATA_KEY,
    PORTAL_SESSION_SECRET: 'delivery-test-session-secret-0123456789' };
  const d = await startDaemon({ dir, env });
  const w = { fake, owner, buyer, other, guild, app, vitrine, logs, cart, dir, env, d };
  w.s = await signup(d);
  const inst = await (await api(d, w.s, 'POST', '/api/instances', { name: 'Minha Loja' })).json();
  w.inst = inst.id;
  eq((await call(w, 'PUT', '/token', { token: app.token })).status, 200);
  eq((await call(w, 'PATCH', '', { settings: { storeChannelId: vitrine.id, logChannelId: logs.id } })).status, 200);
  const { apiKey } = await (await call(w, 'POST', '/api-key')).json();
  eq((await call(w, 'POST', '/start')).status, 200);
  await online(w);
  const ix = fake.runCommand({ appId: app.appId, guildId: guild.id, channelId: vitrine.id, userId: owner.id,
    name: 'vincular', options: [{ name: 'chave', type: 3, value: apiKey }] });
  await ix.response;
  await until(() => fake.commands(app.appId, guild.id).some((c) => c.name === 'pedido'), { what: '/pedido registered' });
  let r = await call(w, 'POST', '/products', { name: 'Conta Premium', priceCents: 1990, dmTemplate: TEMPLATE });
  eq(r.status, 201, await r.clone().text());
  w.product = await r.json();
  if (post) eq((await call(w, 'POST', `/products/${w.product.id}/post`, { channelId: vitrine.id })).status, 200);
  return w;
}

const call = (w, method, sub, body) => api(w.d, w.s, method, `/api/instances/${w.inst}${sub}`, body);
const order = async (w, id) => (await call(w, 'GET', `/orders/${id}`)).json();

async function online(w) {
  await until(async () => (await (await call(w, 'GET', '')).json()).status === 'online', { what: 'online', timeout: 10000 });
}

// One request per key, a few ms apart, so that createdAt orders them and seedPaid sells the
// first uploaded (the stored keys are sealed: the test cannot read which is which).
async function upload(w, keys) {
  for (const k of keys) {
    const r = await call(w, 'POST', '/stock', { productId: w.product.id, text: k });
    eq(r.status, 200);
    await new Promise((res) => setTimeout(res, 5));
  }
}

function readDoc(file, key) {
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : { version: 1, seq: 0, [key]: {} };
}
function writeDoc(file, doc) {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });
}

// What shop_order_paid writes for an order of `quantity` keys of the product (stopped daemon):
// status 'paid' with its keys sold and the outbox entries, or 'waiting_stock' without keys.
// Returns the order record.
function seedPaid(w, { quantity = 1, status = 'paid', paidAt = Date.now(), cartId = null, attempts = 0, buyer = w.buyer } = {}) {
  const data = path.join(w.dir, 'data');
  const stockFile = path.join(data, 'instances', w.inst, 'stock.json');
  const stock = readDoc(stockFile, 'stock');
  const id = uuid();
  const ids = [];
  if (status === 'paid') {
    const avail = Object.values(stock.stock).filter((k) => k.productId === w.product.id && k.status === 'available')
      .sort((a, b) => a.createdAt - b.createdAt).slice(0, quantity);
    eq(avail.length, quantity, 'enough keys to seed');
    for (const k of avail) {
      Object.assign(k, { status: 'sold', slot: `${w.product.id}_none_sold`, orderId: id, reservedUntil: null, soldAt: paidAt });
      ids.push(k.id);
    }
    writeDoc(stockFile, stock);
  }
  const rec = {
    id, instanceId: w.inst, code: code(), status, buyerId: buyer.id, buyerName: buyer.username, cartId,
    items: [{ productId: w.product.id, variationId: null, productName: w.product.name, variationName: null,
      quantity, unitCents: 1990, stockIds: ids }],
    stockIds: ids, subtotalCents: 1990 * quantity, discountCents: 0, totalCents: 1990 * quantity, currency: 'BRL',
    couponId: null, coupon: null, paymentId: String(crypto.randomInt(1e9, 9e9)),
    payment: { provider: 'mercadopago', id: '1', status: 'approved' },
    createdAt: paidAt - 60000, updatedAt: paidAt, expiresAt: paidAt + 1800000, paidAt, deliveredAt: null,
    timeline: [{ at: paidAt - 60000, status: 'pending' }, { at: paidAt, status: 'paid' },
      ...(status === 'waiting_stock' ? [{ at: paidAt, status: 'waiting_stock' }] : [])],
  };
  rec.payment.id = rec.paymentId;
  const ordersFile = path.join(data, 'orders.json');
  const orders = readDoc(ordersFile, 'orders');
  orders.orders = orders.orders || {};
  orders.orders[id] = rec;
  writeDoc(ordersFile, orders);
  const delFile = path.join(data, 'deliveries.json');
  const del = readDoc(delFile, 'deliveries');
  del.outbox = del.outbox || {};
  const entry = (eid, type, extra) => ({ id: eid, type, instanceId: w.inst, orderId: null, productId: null,
    status: 'pending', attempts: 0, nextAt: paidAt, createdAt: paidAt, updatedAt: paidAt, lastError: null, ...extra });
  if (status === 'paid') {
    del.outbox[`dm-${id}`] = entry(`dm-${id}`, 'dm', { orderId: id, attempts });
    del.outbox[`post-${w.product.id}`] = entry(`post-${w.product.id}`, 'post', { productId: w.product.id });
  }
  del.outbox[`log-${id}`] = entry(`log-${id}`, 'log', { orderId: id });
  writeDoc(delFile, del);
  return rec;
}

function seedCart(w, channelId) {
  const file = path.join(w.dir, 'data', 'carts.json');
  const doc = readDoc(file, 'carts');
  doc.carts = doc.carts || {};
  const id = uuid();
  doc.carts[id] = { id, instanceId: w.inst, buyerId: w.buyer.id, channelId, items: [], couponId: null,
    status: 'closed', lastActivityAt: Date.now(), warnedAt: null };
  writeDoc(file, doc);
  return id;
}

// Stops the daemon, seeds, starts it again and waits for the bot.
async function reseed(w, fn) {
  eq((await w.d.stop()).code, 0);
  const out = fn();
  w.d = await startDaemon({ dir: w.dir, env: w.env });
  await online(w);
  return out;
}

const dmRequests = (w) => w.fake.requests.filter((q) => q.method === 'POST' && /^\/channels\/\d+\/messages$/.test(q.path.replace(/^\/api\/v10/, '')) && q.body && q.body.nonce);

async function close(w) {
  await w.d.stop();
  w.fake.assertNoViolations();
  await w.fake.close();
}

test('a paid order is DMed once with the template and its key, logged, and the post updated', async () => {
  const w = await world();
  try {
    await upload(w, ['KEY-AAAA-0001', 'KEY-BBBB-0002', 'KEY-CCCC-0003']);
    const o = await reseed(w, () => seedPaid(w));
    await until(async () => (await order(w, o.id)).status === 'delivered', { what: 'delivered', timeout: 10000 });
    const dms = w.fake.dmsTo(w.buyer.id);
    eq(dms.length, 1);
    eq(dms[0].content, `Olá <@${w.buyer.id}>! Pedido ${o.code}: Conta Premium\nKEY-AAAA-0001\nLoja Minha Loja`);
    const req = dmRequests(w).find((q) => q.body.content === dms[0].content);
    assert(req, 'the DM request');
    eq(req.body.enforce_nonce, true);
    assert(typeof req.body.nonce === 'string' && req.body.nonce.length <= 25, 'a nonce of at most 25 chars');
    const v = await order(w, o.id);
    eq(v.delivery.status, 'done');
    eq(v.delivery.channel, 'dm');
    eq(v.timeline.at(-1).status, 'delivered');
    eq(v.timeline.at(-1).detail, 'dm');
    assert(!JSON.stringify(v).includes('KEY-AAAA'), 'no key in the portal');
    // the log channel's notice, without the key
    await until(() => w.fake.messages(w.logs.id).length === 1, { what: 'log notice' });
    const log = w.fake.messages(w.logs.id)[0].content;
    match(log, new RegExp(`Venda \`${o.code}\`: Conta Premium · R\\$ 19,90 · comprador <@${w.buyer.id}>`));
    assert(!log.includes('KEY-'), 'no key in the log');
    // the post shows two keys left
    await until(() => {
      const m = w.fake.messages(w.vitrine.id).find((x) => x.embeds?.[0]?.title === 'Conta Premium');
      return m && m.embeds[0].fields.find((f) => f.name === 'Estoque').value === '2 disponíveis';
    }, { what: 'post edited' });

    // /pedido: the buyer sees it with Reenviar; someone else gets "not found"
    let ix = w.fake.runCommand({ appId: w.app.appId, guildId: w.guild.id, channelId: w.vitrine.id, userId: w.buyer.id,
      name: 'pedido', options: [{ name: 'codigo', type: 3, value: o.code.toLowerCase() }] });
    let res = await ix.response;
    eq(res.data.flags & 64, 64);
    match(res.data.content, new RegExp(`Pedido \`${o.code}\`\\*\\*: Entregue`));
    match(res.data.content, /Conta Premium ×1/);
    match(res.data.content, /R\$ 19,90/);
    assert(!res.data.content.includes('KEY-'), 'no key in /pedido');
    const btn = res.data.components[0].components[0];
    eq(btn.custom_id, `astra:resend:${o.id}`);
    eq(btn.label, 'Reenviar');
    ix = w.fake.runCommand({ appId: w.app.appId, guildId: w.guild.id, channelId: w.vitrine.id, userId: w.other.id,
      name: 'pedido', options: [{ name: 'codigo', type: 3, value: o.code }] });
    res = await ix.response;
    match(res.data.content, /Nenhum pedido seu/);
    // Reenviar: only the buyer; a second DM with another nonce
    const pedido = w.fake.runCommand({ appId: w.app.appId, guildId: w.guild.id, channelId: w.vitrine.id, userId: w.buyer.id,
      name: 'pedido', options: [{ name: 'codigo', type: 3, value: o.code }] });
    await pedido.response;
    const msg = w.fake.messages(w.vitrine.id).find((m) => m._ephemeralFor === w.buyer.id && m.components?.length);
    assert(msg, 'the ephemeral /pedido answer');
    const click = w.fake.clickButton({ appId: w.app.appId, messageId: msg.id, customId: `astra:resend:${o.id}`, userId: w.buyer.id });
    await click.response;
    await until(() => w.fake.dmsTo(w.buyer.id).length === 2, { what: 'resent DM' });
    const [a, b] = dmRequests(w).filter((q) => q.body.content === dms[0].content);
    assert(a && b && a.body.nonce !== b.body.nonce, 'a resend has a nonce of its own');
    eq((await order(w, o.id)).status, 'delivered');
  } finally {
    await close(w);
  }
});

test('exactly one DM when the daemon is killed right after sending', async () => {
  const w = await world({ post: false });
  try {
    await upload(w, ['KEY-KILL-0001']);
    const o = await reseed(w, () => seedPaid(w));
    await until(() => w.fake.dmsTo(w.buyer.id).length >= 1, { what: 'DM sent', every: 2, timeout: 10000 });
    await w.d.kill();
    w.d = await startDaemon({ dir: w.dir, env: w.env });
    await online(w);
    await until(async () => (await order(w, o.id)).status === 'delivered', { what: 'delivered', timeout: 10000 });
    await new Promise((r) => setTimeout(r, 1500));
    eq(w.fake.dmsTo(w.buyer.id).length, 1);
    match(w.fake.dmsTo(w.buyer.id)[0].content, /KEY-KILL-0001/);
  } finally {
    await close(w);
  }
});

test('DMs closed: the cart channel, and without a cart a Revelar button only the buyer can use', async () => {
  const w = await world();
  try {
    await upload(w, ['KEY-CART-0001', 'KEY-REVL-0002']);
    w.fake.setDmsClosed(w.buyer.id, true);
    const [withCart, without] = await reseed(w, () => {
      const cartId = seedCart(w, w.cart.id);
      const a = seedPaid(w, { cartId, paidAt: Date.now() - 1000 });
      const b = seedPaid(w);
      return [a, b];
    });
    await until(async () => (await order(w, withCart.id)).status === 'delivered', { what: 'cart delivery', timeout: 10000 });
    const inCart = w.fake.messages(w.cart.id);
    eq(inCart.length, 1);
    match(inCart[0].content, new RegExp(`^<@${w.buyer.id}>\\n`));
    match(inCart[0].content, /KEY-CART-0001/);
    eq((await order(w, withCart.id)).delivery.channel, 'cart');

    await until(async () => (await order(w, without.id)).status === 'delivered', { what: 'reveal posted', timeout: 10000 });
    eq((await order(w, without.id)).delivery.channel, 'reveal');
    const cid = `astra:reveal:${without.id}`;
    const m = w.fake.messages(w.vitrine.id).find((x) => x.components?.[0]?.components?.[0]?.custom_id === cid);
    assert(m, 'the reveal button in the product post channel');
    assert(!m.content.includes('KEY-'), 'no key in the channel');
    let click = w.fake.clickButton({ appId: w.app.appId, messageId: m.id, customId: cid, userId: w.other.id });
    let res = await click.response;
    eq(res.data.flags & 64, 64);
    assert(!res.data.content.includes('KEY-'), 'someone else sees no key');
    click = w.fake.clickButton({ appId: w.app.appId, messageId: m.id, customId: cid, userId: w.buyer.id });
    res = await click.response;
    eq(res.data.flags & 64, 64);
    match(res.data.content, /KEY-REVL-0002/);
    eq(w.fake.dmsTo(w.buyer.id).length, 0);
  } finally {
    await close(w);
  }
});

test('a delivery that keeps failing is failed in the portal; retry delivers it', async () => {
  const w = await world({ post: false });
  try {
    await upload(w, ['KEY-FAIL-0001']);
    w.fake.setDmsClosed(w.buyer.id, true);
    // the last attempt: DMs closed, no cart, no product post → nowhere to deliver
    const o = await reseed(w, () => seedPaid(w, { attempts: 7 }));
    await until(async () => (await order(w, o.id)).status === 'failed', { what: 'failed', timeout: 10000 });
    let v = await order(w, o.id);
    eq(v.delivery.status, 'failed');
    eq(v.delivery.attempts, 8);
    match(v.delivery.lastError, /no channel/);
    // another seller cannot retry it
    const s2 = await signup(w.d);
    eq((await api(w.d, s2, 'POST', `/api/instances/${w.inst}/orders/${o.id}/retry`)).status, 404);
    eq((await call(w, 'POST', `/orders/${uuid()}/retry`)).status, 404);
    w.fake.setDmsClosed(w.buyer.id, false);
    const r = await call(w, 'POST', `/orders/${o.id}/retry`);
    eq(r.status, 200);
    v = await r.json();
    eq(v.status, 'paid');
    eq(v.delivery.status, 'pending');
    eq(v.delivery.attempts, 0);
    await until(async () => (await order(w, o.id)).status === 'delivered', { what: 'delivered after retry', timeout: 10000 });
    eq(w.fake.dmsTo(w.buyer.id).length, 1);
    eq((await call(w, 'POST', `/orders/${o.id}/retry`)).status, 409);
  } finally {
    await close(w);
  }
});

test('orders waiting for stock are delivered oldest first when keys are uploaded', async () => {
  const w = await world({ post: false });
  try {
    const [older, newer] = await reseed(w, () => [
      seedPaid(w, { status: 'waiting_stock', paidAt: Date.now() - 60000 }),
      seedPaid(w, { status: 'waiting_stock', paidAt: Date.now() - 30000, buyer: w.other }),
    ]);
    await upload(w, ['KEY-LATE-0001']);
    await until(async () => (await order(w, older.id)).status === 'delivered', { what: 'oldest delivered', timeout: 10000 });
    eq((await order(w, newer.id)).status, 'waiting_stock');
    match(w.fake.dmsTo(w.buyer.id)[0].content, /KEY-LATE-0001/);
    await upload(w, ['KEY-LATE-0002']);
    await until(async () => (await order(w, newer.id)).status === 'delivered', { what: 'next delivered', timeout: 10000 });
    match(w.fake.dmsTo(w.other.id)[0].content, /KEY-LATE-0002/);
  } finally {
    await close(w);
  }
});
