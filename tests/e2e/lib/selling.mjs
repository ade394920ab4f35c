// The selling world the e2e tests share: the real daemon, the fake Discord and the fake
// Mercado Pago, a seller's store made through the portal API (instance, token, products with
// variations, keys, coupons, posts), and a buyer's hands in the fake (Comprar, the cart's
// buttons). The keys uploaded are kept in st.keys (product or variation id -> keys) so that a
// test can tell which key a buyer received.
import { eq, until } from './harness.mjs';
import { startDaemon, tmpDir, freePorts } from './daemon.mjs';
import { DATA_KEY } from './seed.mjs';
import { signup, api } from './portal_client.mjs';
import { startFakeDiscord } from '../../fakes/discord/server.mjs';
import { startFakeMercadoPago } from '../../fakes/mercadopago/server.mjs';

const P = { VIEW: 1n << 10n, SEND: 1n << 11n, EMBED: 1n << 14n, ATTACH: 1n << 15n,
  HISTORY: 1n << 16n, MANAGE_THREADS: 1n << 34n, PRIVATE_THREADS: 1n << 36n, IN_THREADS: 1n << 38n };
const BOT_PERMS = String(Object.values(P).reduce((a, b) => a | b, 0n));
const MP_TOKEN = 'APP_USR-cart-test-token';
export const MP_SECRET = 'selling-test-webhook-secret';

export async function world({ mpToken = MP_TOKEN, env: extra = {} } = {}) {
  const fake = await startFakeDiscord({ heartbeatInterval: 1000 });
  const mp = await startFakeMercadoPago({ accessToken: MP_TOKEN, webhookSecret: MP_SECRET, notifyOnCreate: false, webhookTimeScale: 0.001 });
  const owner = fake.createUser({ username: 'dono' });
  const guild = fake.createGuild({ name: 'Loja', ownerId: owner.id });
  const app = fake.createApp({ name: 'Bot da Loja' });
  fake.addBotToGuild(app.appId, guild.id, { permissions: BOT_PERMS });
  const buyers = ['ana', 'bia', 'caio', 'duda'].map((username) => {
    const u = fake.createUser({ username });
    fake.addMember(guild.id, u.id);
    return u;
  });
  const dir = tmpDir();
  const [portalPort] = await freePorts(1);
  const env = { DISCORD_API_BASE: fake.apiBase, DATA_ENCRYPTION_KEY: DATA_KEY,
    PORTAL_SESSION_SECRET: 'cart-test-session-secret-0123456789',
    MERCADOPAGO_API_BASE: mp.apiBase, MERCADOPAGO_ACCESS_TOKEN: mpToken || undefined,
    MERCADOPAGO_WEBHOOK_SECRET: MP_SECRET, PUBLIC_URL: `http://127.0.0.1:${portalPort}`, ...extra };
  const d = await startDaemon({ dir, env, portalPort });
  return { fake, mp, owner, guild, app, buyers, dir, env, portalPort, d };
}

// A new daemon identifies at once: keep it out of the previous run's identify window
// (max_concurrency 1 per 5 s), which the fake enforces across processes as Discord does.
// whileStopped (optional) runs between the clean stop and the start: the data files are
// complete then, and may be read or edited.
export async function restart(w, whileStopped) {
  eq((await w.d.stop()).code, 0);
  if (whileStopped) await whileStopped();
  const wait = (w.startedAt ?? 0) + 5500 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  w.d = await startDaemon({ dir: w.dir, env: w.env, portalPort: w.portalPort });
  w.startedAt = Date.now();
}

export async function online(w, s, id) {
  await until(async () => (await (await api(w.d, s, 'GET', `/api/instances/${id}`)).json()).status === 'online',
    { what: 'online', timeout: 15000 });
}

// The seller's store: a product with two variations, one without, keys, coupons, a post.
export async function store(w) {
  const s = await signup(w.d);
  const inst = await (await api(w.d, s, 'POST', '/api/instances', { name: 'Minha Loja' })).json();
  eq((await api(w.d, s, 'PUT', `/api/instances/${inst.id}/token`, { token: w.app.token })).status, 200);
  const general = w.guild.defaultChannelId;
  eq((await api(w.d, s, 'PATCH', `/api/instances/${inst.id}`, { settings: { storeChannelId: general } })).status, 200);
  let r = await api(w.d, s, 'POST', `/api/instances/${inst.id}/products`, { name: 'Conta Premium', priceCents: 1990,
    variations: [{ name: 'Mensal', priceCents: 1990 }, { name: 'Anual', priceCents: 4990 }] });
  eq(r.status, 201);
  const conta = await r.json();
  r = await api(w.d, s, 'POST', `/api/instances/${inst.id}/products`, { name: 'Chave Steam', priceCents: 500 });
  eq(r.status, 201);
  const chave = await r.json();
  const [mensal, anual] = conta.variations;
  const keys = (p, n) => Array.from({ length: n }, (_, i) => `${p}-${i}-${Math.random().toString(36).slice(2)}`).join('\n');
  const stock = {};
  for (const [productId, variationId, n] of [[conta.id, mensal.id, 5], [conta.id, anual.id, 3], [chave.id, null, 3]]) {
    const text = keys('K', n);
    stock[variationId || productId] = text.split('\n');
    r = await api(w.d, s, 'POST', `/api/instances/${inst.id}/stock`, { productId, ...(variationId ? { variationId } : {}), text });
    eq(r.status, 200);
  }
  eq((await api(w.d, s, 'POST', `/api/instances/${inst.id}/coupons`, { code: 'DEZ', type: 'percent', value: 10 })).status, 201);
  eq((await api(w.d, s, 'POST', `/api/instances/${inst.id}/coupons`, { code: 'SOCHAVE', type: 'fixed', value: 100, productIds: [chave.id] })).status, 201);
  eq((await api(w.d, s, 'POST', `/api/instances/${inst.id}/start`)).status, 200);
  w.startedAt = Date.now();
  await online(w, s, inst.id);
  const posts = {};
  for (const p of [conta, chave]) {
    r = await api(w.d, s, 'POST', `/api/instances/${inst.id}/products/${p.id}/post`);
    eq(r.status, 200);
    posts[p.id] = (await r.json()).post.messageId;
  }
  return { s, inst, conta, chave, mensal, anual, general, posts, keys: stock };
}

export const counts = async (w, st, pid, vid) => (await (await api(w.d, st.s, 'GET',
  `/api/instances/${st.inst.id}/stock?productId=${pid}${vid ? `&variationId=${vid}` : ''}`)).json()).counts;

export async function buy(w, st, user, productId) {
  const ix = w.fake.clickButton({ appId: w.app.appId, messageId: st.posts[productId], customId: `astra:buy:${productId}`, userId: user.id });
  const res = await ix.response;
  eq(res.type, 4);
  eq(res.data.flags & 64, 64, 'ephemeral');
  return res.data.content;
}

export const threadOf = (text) => text.match(/<#(\d+)>/)?.[1];
export const cartMsg = (w, th) => w.fake.messages(th).find((m) => !m._deleted && m.embeds?.[0]?.title?.match(/carrinho|cart/i));
export const cartIdOf = (m) => m.components.flatMap((r) => r.components).find((c) => c.custom_id?.startsWith('astra:cart:cancel:')).custom_id.split(':')[3];
export const click = (w, th, user, op, cartId) => w.fake.clickButton({ appId: w.app.appId, channelId: th, customId: `astra:cart:${op}:${cartId}`, userId: user.id });

