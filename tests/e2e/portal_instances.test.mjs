// The seller's instances through the portal API: create, list, rename and settings, bot
// token (good, bad, already used), API key and /vincular, start/stop/restart, delete; and
// another seller's instance is a 404 everywhere.
import path from 'node:path';
import { test, assert, eq, match, until } from './lib/harness.mjs';
import { startDaemon, tmpDir } from './lib/daemon.mjs';
import { DATA_KEY } from './lib/seed.mjs';
import { signup, api } from './lib/portal_client.mjs';
import { startFakeDiscord } from '../fakes/discord/server.mjs';

async function world() {
  const fake = await startFakeDiscord({ heartbeatInterval: 1000 });
  const owner = fake.createUser({ username: 'dono' });
  const guild = fake.createGuild({ name: 'Loja', ownerId: owner.id });
  fake.addMember(guild.id, owner.id, { permissions: String(1n << 5n) });
  const app = fake.createApp({ name: 'Bot da Loja' });
  fake.addBotToGuild(app.appId, guild.id, { permissions: '8' });
  const d = await startDaemon({ dir: tmpDir(), env: { DISCORD_API_BASE: fake.apiBase, DATA_ENCRYPTION_KEY: DATA_KEY } });
  return { fake, owner, guild, app, d };
}

test('a seller creates an instance, sets its bot token, links it with /vincular and runs it', async () => {
  const w = await world();
  try {
    const s = await signup(w.d);
    let r = await api(w.d, s, 'POST', '/api/instances', { name: 'Minha Loja' });
    eq(r.status, 201);
    const inst = await r.json();
    eq(inst.name, 'Minha Loja');
    eq(inst.status, 'offline');
    eq(inst.bot, null);
    // a token Discord refuses, then a plausible-looking garbage one, then the real one
    r = await api(w.d, s, 'PUT', `/api/instances/${inst.id}/token`, { token: 'x'.repeat(10) });
    eq(r.status, 400);
    eq((await r.json()).field, 'token');
    r = await api(w.d, s, 'PUT', `/api/instances/${inst.id}/token`, { token: 'MTExMTExMTExMTExMTExMTEx.Gabcde.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' });
    eq(r.status, 400);
    match((await r.json()).message, /Discord recusou/);
    r = await api(w.d, s, 'PUT', `/api/instances/${inst.id}/token`, { token: w.app.token });
    eq(r.status, 200);
    let body = await r.json();
    eq(body.bot.id, w.app.botUserId);
    eq(body.bot.applicationId, w.app.appId);
    match(body.bot.inviteUrl, new RegExp(`client_id=${w.app.appId}.*scope=bot\\+applications\\.commands`));
    assert(!JSON.stringify(body).includes(w.app.token), 'the token never comes back');
    // the API key, shown once
    r = await api(w.d, s, 'POST', `/api/instances/${inst.id}/api-key`);
    eq(r.status, 201);
    const { apiKey } = await r.json();
    match(apiKey, /^astra_[0-9a-f]{48}$/);
    r = await api(w.d, s, 'GET', `/api/instances/${inst.id}`);
    body = await r.json();
    eq(body.hasApiKey, true);
    assert(!JSON.stringify(body).includes(apiKey), 'the key is not shown again');
    // start: the bot comes online; /vincular with the key links the guild
    r = await api(w.d, s, 'POST', `/api/instances/${inst.id}/start`);
    eq(r.status, 200);
    await until(async () => (await (await api(w.d, s, 'GET', `/api/instances/${inst.id}`)).json()).status === 'online', { what: 'online' });
    await until(() => (w.fake.commands(w.app.appId, w.guild.id) || []).length > 0, { what: 'commands' });
    const ix = w.fake.runCommand({ appId: w.app.appId, guildId: w.guild.id, channelId: w.guild.defaultChannelId, userId: w.owner.id, name: 'vincular', options: [{ name: 'chave', type: 3, value: apiKey }] });
    match((await ix.response).data.content, /vinculada/);
    body = await (await api(w.d, s, 'GET', `/api/instances/${inst.id}`)).json();
    eq(body.guildId, w.guild.id);
    // a rotated key: the old one no longer links
    await api(w.d, s, 'POST', `/api/instances/${inst.id}/api-key`);
    const ix2 = w.fake.runCommand({ appId: w.app.appId, guildId: w.guild.id, channelId: w.guild.defaultChannelId, userId: w.owner.id, name: 'vincular', options: [{ name: 'chave', type: 3, value: apiKey }] });
    match((await ix2.response).data.content, /Chave inválida/);
    // settings and rename
    r = await api(w.d, s, 'PATCH', `/api/instances/${inst.id}`, { name: 'Loja Nova', settings: { cartMode: 'channel', cartInactivityMinutes: 20, staffRoleId: '123456789012345678' } });
    eq(r.status, 200);
    body = await r.json();
    eq(body.name, 'Loja Nova');
    eq(body.settings.cartMode, 'channel');
    r = await api(w.d, s, 'PATCH', `/api/instances/${inst.id}`, { settings: { cartInactivityMinutes: 2 } });
    eq(r.status, 400);
    eq((await r.json()).field, 'cartInactivityMinutes');
    r = await api(w.d, s, 'PATCH', `/api/instances/${inst.id}`, { settings: { staffRoleId: 'not-a-snowflake' } });
    eq((await r.json()).field, 'staffRoleId');
    // stop
    r = await api(w.d, s, 'POST', `/api/instances/${inst.id}/stop`);
    eq(r.status, 200);
    await until(async () => (await (await api(w.d, s, 'GET', `/api/instances/${inst.id}`)).json()).status === 'offline', { what: 'offline' });
    // delete needs the name typed back; the records stay, the instance disappears
    r = await api(w.d, s, 'DELETE', `/api/instances/${inst.id}`, { confirm: 'errado' });
    eq(r.status, 400);
    r = await api(w.d, s, 'DELETE', `/api/instances/${inst.id}`, { confirm: 'Loja Nova' });
    eq(r.status, 200);
    eq((await api(w.d, s, 'GET', `/api/instances/${inst.id}`)).status, 404);
    eq((await (await api(w.d, s, 'GET', '/api/instances')).json()).instances.length, 0);
    w.fake.assertNoViolations();
  } finally {
    eq((await w.d.stop()).code, 0);
    await w.fake.close();
  }
});

test("another seller's instance answers 404 on every route, and a used token is refused", async () => {
  const w = await world();
  try {
    const a = await signup(w.d), b = await signup(w.d);
    const inst = await (await api(w.d, a, 'POST', '/api/instances', { name: 'Loja A' })).json();
    eq((await api(w.d, a, 'PUT', `/api/instances/${inst.id}/token`, { token: w.app.token })).status, 200);
    const routes = [
      ['GET', ''], ['PATCH', '', { name: 'x' }], ['DELETE', '', { confirm: 'Loja A' }],
      ['PUT', '/token', { token: w.app.token }], ['POST', '/api-key'], ['POST', '/start'],
      ['POST', '/stop'], ['POST', '/restart'],
    ];
    for (const [m, p, body] of routes) {
      const r = await api(w.d, b, m, `/api/instances/${inst.id}${p}`, body);
      eq(r.status, 404, `${m} ${p}`);
    }
    eq((await (await api(w.d, b, 'GET', '/api/instances')).json()).instances.length, 0);
    // B's own instance cannot take A's bot
    const mine = await (await api(w.d, b, 'POST', '/api/instances', { name: 'Loja B' })).json();
    const r = await api(w.d, b, 'PUT', `/api/instances/${mine.id}/token`, { token: w.app.token });
    eq(r.status, 409);
    eq((await r.json()).field, 'token');
  } finally {
    eq((await w.d.stop()).code, 0);
    await w.fake.close();
  }
});

test('the security lists cover every /api/ route of the portal route table', async () => {
  const fs = await import('node:fs');
  const { ROOT } = await import('./lib/daemon.mjs');
  const { PORTAL_PROTECTED_ROUTES, PORTAL_PUBLIC_ROUTES } = await import('./lib/portal_routes.mjs');
  const table = fs.readFileSync(path.join(ROOT, 'src/portal_server.c'), 'utf8');
  const rows = [...table.matchAll(/\{\s*((?:HTTP_[A-Z]+\s*\|?\s*)+),\s*"([^"]+)"/g)]
    .flatMap(([, methods, pattern]) => methods.split('|').map((m) => [m.trim().replace('HTTP_', ''), pattern]));
  assert(rows.length > 10, `parsed the route table (${rows.length} rows)`);
  const known = [...PORTAL_PROTECTED_ROUTES, ...PORTAL_PUBLIC_ROUTES].map((r) => `${r.method} ${r.route}`);
  const missing = rows.filter(([m, p]) => p.startsWith('/api/') && !known.includes(`${m} ${p}`)).map(([m, p]) => `${m} ${p}`);
  eq(missing, [], 'routes missing from tests/e2e/lib/portal_routes.mjs');
});
