// Product posts through the portal API against the fake Discord: the bot posts a product (embed,
// Comprar button, variation select) with the bot running and stopped, reposts (the old message
// goes), explicit and remembered channels, English posts, and every refusal (no channel,
// inactive product, no token, a channel Discord refuses, another seller's product).
// Products and stock are seeded as files (the catalog routes live on another branch): the
// daemon is stopped, products.json / stock.json written, and the daemon started on the same dir.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test, assert, eq, match, until } from './lib/harness.mjs';
import { startDaemon, tmpDir } from './lib/daemon.mjs';
import { DATA_KEY } from './lib/seed.mjs';
import { signup, api } from './lib/portal_client.mjs';
import { startFakeDiscord } from '../fakes/discord/server.mjs';

const VIEW = 1n << 10n, SEND = 1n << 11n, EMBED = 1n << 14n;

async function world() {
  const fake = await startFakeDiscord({ heartbeatInterval: 1000 });
  const owner = fake.createUser({ username: 'dono' });
  const guild = fake.createGuild({ name: 'Loja', ownerId: owner.id });
  const app = fake.createApp({ name: 'Bot da Loja' });
  // not an administrator, so that channel overwrites apply to the bot
  fake.addBotToGuild(app.appId, guild.id, { permissions: String(VIEW | SEND | EMBED) });
  const vitrine = fake.createChannel(guild.id, { name: 'vitrine', type: 0 });
  const hidden = fake.createChannel(guild.id, {
    name: 'staff', type: 0,
    permission_overwrites: [{ id: guild.id, type: 0, allow: '0', deny: String(VIEW) }],
  });
  const dir = tmpDir();
  const env = { DISCORD_API_BASE: fake.apiBase, DATA_ENCRYPTION_KEY: DATA_KEY,
    PORTAL_SESSION_SECRET: 'post-test-session-secret-0123456789' };
  const d = await startDaemon({ dir, env });
  return { fake, owner, guild, app, vitrine, hidden, dir, env, d };
}

const uuid = () => crypto.randomUUID();

function product(over = {}) {
  const now = Date.now();
  return { id: uuid(), name: 'Conta Premium', description: 'Entrega automática.',
    imageUrl: 'https://cdn.example.com/capa.png', priceCents: 1990, currency: 'BRL', active: true,
    dmTemplate: null, lowStockThreshold: 5, variations: [], post: null, createdAt: now, updatedAt: now,
    ...over };
}

function keys(productId, variationId, n, status = 'available') {
  return Array.from({ length: n }, () => {
    const key = `KEY-${uuid()}`;
    return { id: uuid(), productId, variationId, key, keyHash: crypto.createHash('sha256').update(key).digest('hex'),
      hint: key.slice(-4), status, createdAt: Date.now() };
  });
}

// Stops the daemon, writes the instance's products and stock, starts it again on the same dir.
async function seed(w, instanceId, products, stock) {
  eq((await w.d.stop()).code, 0);
  const base = path.join(w.dir, 'data', 'instances', instanceId);
  fs.mkdirSync(base, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(base, 'products.json'), JSON.stringify({ version: 1, seq: 0,
    products: Object.fromEntries(products.map((p) => [p.id, p])) }));
  fs.writeFileSync(path.join(base, 'stock.json'), JSON.stringify({ version: 1, seq: 0,
    stock: Object.fromEntries(stock.map((k) => [k.id, k])) }));
  w.d = await startDaemon({ dir: w.dir, env: w.env });
}

const post = (w, s, iid, pid, body = {}) => api(w.d, s, 'POST', `/api/instances/${iid}/products/${pid}/post`, body);

async function expectError(r, status, code, field) {
  eq(r.status, status);
  const b = await r.json();
  eq(b.code, code, JSON.stringify(b));
  if (field) eq(b.field, field);
  return b;
}

const live = (w, channelId) => w.fake.messages(channelId).filter((m) => !m._deleted);
const byId = (w, channelId, id) => w.fake.messages(channelId).find((m) => m.id === id);
const row = (m, i) => m.components[i].components[0];

test('the bot posts a product in the store channel, reposts it, and posts where asked', async () => {
  const w = await world();
  try {
    const s = await signup(w.d);
    const inst = await (await api(w.d, s, 'POST', '/api/instances', { name: 'Minha Loja' })).json();
    eq((await api(w.d, s, 'PUT', `/api/instances/${inst.id}/token`, { token: w.app.token })).status, 200);
    const general = w.guild.defaultChannelId;
    eq((await api(w.d, s, 'PATCH', `/api/instances/${inst.id}`, { settings: { storeChannelId: general } })).status, 200);
    eq((await post(w, s, inst.id, uuid())).status, 404, 'a product that does not exist');

    const simple = product();
    const vars = product({ name: 'Assinatura', priceCents: 990, imageUrl: null, variations: [
      { id: uuid(), name: 'Mensal', priceCents: 1990, active: true },
      { id: uuid(), name: 'Anual', priceCents: 4990, active: true },
      { id: uuid(), name: 'Antiga', priceCents: 500, active: false },
    ] });
    const inactive = product({ name: 'Fora de linha', active: false });
    await seed(w, inst.id, [simple, vars, inactive], [
      ...keys(simple.id, null, 12), ...keys(simple.id, null, 2, 'sold'),
      ...keys(vars.id, vars.variations[0].id, 3), ...keys(vars.id, vars.variations[2].id, 4),
    ]);
    eq((await api(w.d, s, 'POST', `/api/instances/${inst.id}/start`)).status, 200);
    await until(async () => (await (await api(w.d, s, 'GET', `/api/instances/${inst.id}`)).json()).status === 'online', { what: 'online' });

    // a product without variations
    let r = await post(w, s, inst.id, simple.id);
    eq(r.status, 200);
    let body = await r.json();
    eq(body.id, simple.id);
    eq(body.post.channelId, general);
    match(body.post.messageId, /^\d+$/);
    assert(Math.abs(body.post.postedAt - Date.now()) < 60000, 'postedAt is now');
    eq(body.stock, { available: 12, reserved: 0, sold: 2 });
    let m = byId(w, general, body.post.messageId);
    assert(m, 'the message is in the store channel');
    eq(m.author.id, w.app.botUserId);
    const e = m.embeds[0];
    eq(e.title, 'Conta Premium');
    eq(e.description, 'Entrega automática.');
    eq(e.image.url, 'https://cdn.example.com/capa.png');
    eq(e.fields.find((f) => f.name === 'Preço').value, 'R$ 19,90');
    eq(e.fields.find((f) => f.name === 'Estoque').value, '12 disponíveis');
    eq(m.components.length, 1);
    eq(row(m, 0).type, 2);
    eq(row(m, 0).style, 3);
    eq(row(m, 0).label, 'Comprar');
    eq(row(m, 0).custom_id, `astra:buy:${simple.id}`);
    const first = body.post.messageId;

    // a product with variations: "a partir de", a field per variation, the select
    r = await post(w, s, inst.id, vars.id);
    eq(r.status, 200);
    body = await r.json();
    m = byId(w, general, body.post.messageId);
    eq(m.embeds[0].fields.find((f) => f.name === 'Preço').value, 'a partir de R$ 19,90');
    eq(m.embeds[0].fields.find((f) => f.name === 'Estoque').value, '3 disponíveis');
    match(m.embeds[0].fields.find((f) => f.name === 'Variações').value, /Mensal — R\$ 19,90 \(3 disponíveis\)\n• Anual — R\$ 49,90 \(Esgotado\)$/);
    eq(m.components.length, 2);
    eq(row(m, 0).type, 3);
    eq(row(m, 0).custom_id, `astra:pick:${vars.id}`);
    eq(row(m, 0).options.map((o) => o.value), [vars.variations[0].id, vars.variations[1].id]);
    eq(row(m, 0).options.map((o) => o.label), ['Mensal', 'Anual']);
    eq(row(m, 0).options[1].description, 'R$ 49,90 · Esgotado');
    eq(row(m, 1).custom_id, `astra:buy:${vars.id}`);
    eq(body.variations[0].stock.available, 3);

    // repost: a new message, the old one deleted, post.messageId updated
    r = await post(w, s, inst.id, simple.id);
    eq(r.status, 200);
    body = await r.json();
    assert(body.post.messageId !== first, 'a new message');
    eq(body.post.channelId, general);
    await until(() => byId(w, general, first)._deleted, { what: 'the old post deleted' });
    eq(live(w, general).filter((x) => x.components?.[0]?.components?.[0]?.custom_id === `astra:buy:${simple.id}`).length, 1);
    const second = body.post.messageId;

    // an explicit channel; the next repost without one stays there
    r = await post(w, s, inst.id, simple.id, { channelId: w.vitrine.id });
    eq(r.status, 200);
    body = await r.json();
    eq(body.post.channelId, w.vitrine.id);
    assert(byId(w, w.vitrine.id, body.post.messageId), 'posted in vitrine');
    await until(() => byId(w, general, second)._deleted, { what: 'the general post deleted' });
    const third = body.post.messageId;
    r = await post(w, s, inst.id, simple.id);
    body = await r.json();
    eq(body.post.channelId, w.vitrine.id);
    await until(() => byId(w, w.vitrine.id, third)._deleted, { what: 'the vitrine post deleted' });
    eq((await api(w.d, s, 'GET', `/api/instances/${inst.id}`)).status, 200);

    // refusals
    await expectError(await post(w, s, inst.id, inactive.id), 409, 1207);
    await expectError(await post(w, s, inst.id, simple.id, { channelId: 'geral' }), 400, 1007, 'channelId');
    await expectError(await post(w, s, inst.id, simple.id, { canal: '1' }), 400, 1009);
    w.fake.assertNoViolations();
  } finally {
    eq((await w.d.stop()).code, 0);
    await w.fake.close();
  }
});

test('with the bot stopped the post still goes out; refusals map to the documented errors', async () => {
  const w = await world();
  try {
    const s = await signup(w.d);
    const inst = await (await api(w.d, s, 'POST', '/api/instances', { name: 'Loja Parada' })).json();
    const p = product({ name: 'Game Key', priceCents: 123456 });
    await seed(w, inst.id, [p], keys(p.id, null, 1));

    // another seller's product is a 404, whatever it holds
    const other = await signup(w.d);
    await expectError(await post(w, other, inst.id, p.id), 404, 1001);
    // no token yet
    await expectError(await post(w, s, inst.id, p.id), 409, 1204);
    eq((await api(w.d, s, 'PUT', `/api/instances/${inst.id}/token`, { token: w.app.token })).status, 200);
    // no channel anywhere
    await expectError(await post(w, s, inst.id, p.id), 400, 1205);
    // channels Discord refuses: one the bot cannot see (50001), one that does not exist (10003)
    await expectError(await post(w, s, inst.id, p.id, { channelId: w.hidden.id }), 502, 1206, 'channelId');
    await expectError(await post(w, s, inst.id, p.id, { channelId: '123456789012345678' }), 502, 1206, 'channelId');
    eq(live(w, w.hidden.id).length, 0);

    // English store, bot stopped: a short-lived client posts
    eq((await api(w.d, s, 'PATCH', `/api/instances/${inst.id}`, { settings: { storeChannelId: w.vitrine.id, locale: 'en' } })).status, 200);
    const r = await post(w, s, inst.id, p.id);
    eq(r.status, 200);
    const body = await r.json();
    eq(body.post.channelId, w.vitrine.id);
    const m = byId(w, w.vitrine.id, body.post.messageId);
    eq(m.author.id, w.app.botUserId);
    eq(m.embeds[0].fields.find((f) => f.name === 'Price').value, 'R$1,234.56');
    eq(m.embeds[0].fields.find((f) => f.name === 'Stock').value, '1 available');
    eq(row(m, 0).label, 'Buy');
    eq(row(m, 0).custom_id, `astra:buy:${p.id}`);
    eq((await (await api(w.d, s, 'GET', `/api/instances/${inst.id}`)).json()).status, 'offline');
    // the record survives a restart
    eq((await w.d.stop()).code, 0);
    const saved = JSON.parse(fs.readFileSync(path.join(w.dir, 'data', 'instances', inst.id, 'products.json'), 'utf8'));
    eq(saved.products[p.id].post.messageId, body.post.messageId);
    w.d = await startDaemon({ dir: w.dir, env: w.env });
    assert(!w.d.logText().includes(w.app.token), 'the token never reaches the log');
    w.fake.assertNoViolations();
  } finally {
    eq((await w.d.stop()).code, 0);
    await w.fake.close();
  }
});
