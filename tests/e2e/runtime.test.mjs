// The Discord runtime end to end: the real astrad against the strict fake Discord. Instances
// are seeded into the data directory as the portal will write them.
import path from 'node:path';
import { test, assert, eq, match, until, sleep } from './lib/harness.mjs';
import { startDaemon, tmpDir } from './lib/daemon.mjs';
import { DATA_KEY, instanceRecord, seedInstances } from './lib/seed.mjs';
import { startFakeDiscord } from '../fakes/discord/server.mjs';

const MANAGE_GUILD = 1n << 5n;

async function world({ apps = 1, maxConcurrency = 1, tls = false } = {}) {
  const fake = await startFakeDiscord({ heartbeatInterval: 1000, maxConcurrency, tls });
  const owner = fake.createUser({ username: 'dono' });
  const buyer = fake.createUser({ username: 'comprador' });
  const guild = fake.createGuild({ name: 'Servidor da Loja', ownerId: owner.id });
  fake.addMember(guild.id, owner.id, { permissions: String(MANAGE_GUILD) });
  fake.addMember(guild.id, buyer.id, { permissions: '0' });
  const list = [];
  for (let i = 0; i < apps; i++) {
    const app = fake.createApp({ name: `Loja ${i}` });
    fake.addBotToGuild(app.appId, guild.id, { permissions: '8' });
    list.push(app);
  }
  return { fake, owner, buyer, guild, apps: list };
}

function daemonEnv(fake, extra = {}) {
  const env = { DISCORD_API_BASE: fake.apiBase, DATA_ENCRYPTION_KEY: DATA_KEY, LOG_LEVEL: 'info', ...extra };
  if (fake.caFile) env.TLS_CA_FILE = fake.caFile;
  return env;
}

async function instances(d) {
  const r = await d.adminFetch('/api/instances');
  eq(r.status, 200);
  const body = await r.json();
  return Object.fromEntries(body.instances.map((i) => [i.id, i]));
}

async function waitStatus(d, id, status, timeout = 15000) {
  return until(async () => {
    const i = (await instances(d))[id];
    return i && i.status === status ? i : null;
  }, { timeout, what: `instance ${id} ${status}` });
}

test('a seeded instance comes online; /vincular refuses a wrong key and links with the right one', async () => {
  const w = await world();
  const dir = tmpDir();
  const key = 'chave-da-instancia-0123456789abcdef';
  const rec = instanceRecord({ app: w.apps[0], apiKey: key });
  seedInstances(path.join(dir, 'data'), [rec]);
  const d = await startDaemon({ dir, env: daemonEnv(w.fake) });
  try {
    const inst = await waitStatus(d, rec.id, 'online');
    eq(inst.gatewayState, 'ready');
    // the unlinked guild got /vincular, once
    await until(() => (w.fake.commands(w.apps[0].appId, w.guild.id) || []).some((c) => c.name === 'vincular'), { what: 'commands registered' });
    // a member without Manage Server does not even see it (default_member_permissions)
    let hidden = false;
    try {
      w.fake.runCommand({ appId: w.apps[0].appId, guildId: w.guild.id, channelId: w.guild.defaultChannelId, userId: w.buyer.id, name: 'vincular', options: [{ name: 'chave', type: 3, value: key }] });
    } catch (e) { hidden = /default_member_permissions/.test(e.message); }
    assert(hidden, '/vincular hidden from members without Manage Server');
    // the owner, with a wrong key
    let res;
    let ix = w.fake.runCommand({ appId: w.apps[0].appId, guildId: w.guild.id, channelId: w.guild.defaultChannelId, userId: w.owner.id, name: 'vincular', options: [{ name: 'chave', type: 3, value: 'chave-errada-0000000000000000' }] });
    res = await ix.response;
    eq(res.type, 4);
    eq(res.data.flags & 64, 64, 'ephemeral');
    match(res.data.content, /Chave inválida/);
    eq((await instances(d))[rec.id].guildId, undefined, 'not linked');
    // the right key
    ix = w.fake.runCommand({ appId: w.apps[0].appId, guildId: w.guild.id, channelId: w.guild.defaultChannelId, userId: w.owner.id, name: 'vincular', options: [{ name: 'chave', type: 3, value: key }] });
    res = await ix.response;
    match(res.data.content, /vinculada/);
    eq((await instances(d))[rec.id].guildId, w.guild.id, 'linked');
    // operators see how fast the daemon answers
    const lat = (await (await d.adminFetch('/api/status')).json()).bots.interactionLatencyUs;
    eq(lat.count, 2, 'two interactions answered');
    assert(lat.p50 > 0 && lat.p99 >= lat.p50 && lat.p99 < 2000000, `latency ${JSON.stringify(lat)}`);
    w.fake.assertNoViolations();
  } finally {
    eq((await d.stop()).code, 0);
    await w.fake.close();
  }
});

test('a button keeps working after the daemon restarts (state lives in custom_id)', async () => {
  const w = await world();
  const dir = tmpDir();
  const key = 'chave-da-instancia-0123456789abcdef';
  const rec = instanceRecord({ app: w.apps[0], apiKey: key });
  seedInstances(path.join(dir, 'data'), [rec]);
  let d = await startDaemon({ dir, env: daemonEnv(w.fake) });
  let button;
  try {
    await waitStatus(d, rec.id, 'online');
    const ix = w.fake.runCommand({ appId: w.apps[0].appId, guildId: w.guild.id, channelId: w.guild.defaultChannelId, userId: w.owner.id, name: 'vincular', options: [{ name: 'chave', type: 3, value: key }] });
    const res = await ix.response;
    button = res.data.components[0].components[0];
    match(button.custom_id, new RegExp(`^astra:status:${rec.id}$`));
  } finally {
    eq((await d.stop()).code, 0);
  }
  d = await startDaemon({ dir, env: daemonEnv(w.fake) });
  try {
    await waitStatus(d, rec.id, 'online');
    const click = w.fake.clickButton({ appId: w.apps[0].appId, guildId: w.guild.id, channelId: w.guild.defaultChannelId, customId: button.custom_id, userId: w.owner.id });
    const res = await click.response;
    eq(res.type, 4);
    match(res.data.content, /online/);
    match(res.data.content, /Vinculada a este servidor/);
    w.fake.assertNoViolations();
  } finally {
    eq((await d.stop()).code, 0);
    await w.fake.close();
  }
});

test('a revoked token puts only its own instance in erro, with a readable reason', async () => {
  const w = await world({ apps: 2 });
  const dir = tmpDir();
  const good = instanceRecord({ app: w.apps[0], name: 'Boa' });
  const bad = instanceRecord({ app: w.apps[1], name: 'Revogada' });
  w.fake.revokeToken(w.apps[1].token);
  seedInstances(path.join(dir, 'data'), [good, bad]);
  const d = await startDaemon({ dir, env: daemonEnv(w.fake) });
  try {
    await waitStatus(d, good.id, 'online');
    const b = await waitStatus(d, bad.id, 'erro');
    match(b.lastError, /[Tt]oken/);
    await sleep(1500);
    eq((await instances(d))[good.id].status, 'online', 'the other instance is untouched');
    // nothing more is tried with the revoked token
    const before = w.fake.requests.filter((r) => r.token === w.apps[1].token).length;
    await sleep(2500);
    eq(w.fake.requests.filter((r) => r.token === w.apps[1].token).length, before, 'no more requests with the bad token');
  } finally {
    eq((await d.stop()).code, 0);
    await w.fake.close();
  }
});

test('50 instances started at once come online, identify paced; all come back after the fake restarts', async () => {
  const w = await world({ apps: 50, maxConcurrency: 1 });
  const dir = tmpDir();
  const recs = w.apps.map((app, i) => instanceRecord({ app, name: `Loja ${i}` }));
  seedInstances(path.join(dir, 'data'), recs);
  const d = await startDaemon({ dir, env: daemonEnv(w.fake, { LOG_LEVEL: 'warn' }) });
  try {
    await until(async () => Object.values(await instances(d)).filter((i) => i.status === 'online').length === 50, { timeout: 30000, what: '50 online' });
    w.fake.assertNoViolations();
    await w.fake.restart();
    await until(async () => Object.values(await instances(d)).filter((i) => i.status === 'online').length === 50, { timeout: 60000, what: '50 back online' });
    w.fake.assertNoViolations();
  } finally {
    eq((await d.stop()).code, 0);
    await w.fake.close();
  }
}, { timeout: 120000 });

test('operators stop and start an instance; the desired state survives a restart', async () => {
  const w = await world();
  const dir = tmpDir();
  const rec = instanceRecord({ app: w.apps[0] });
  seedInstances(path.join(dir, 'data'), [rec]);
  let d = await startDaemon({ dir, env: daemonEnv(w.fake) });
  try {
    await waitStatus(d, rec.id, 'online');
    let r = await d.adminFetch(`/api/instances/${rec.id}/stop`, { method: 'POST' });
    eq(r.status, 200);
    eq((await r.json()).desiredState, 'stopped');
    await waitStatus(d, rec.id, 'offline');
    eq((await d.adminFetch('/api/instances/nope/stop', { method: 'POST' })).status, 404);
  } finally {
    eq((await d.stop()).code, 0);
  }
  d = await startDaemon({ dir, env: daemonEnv(w.fake) });
  try {
    await sleep(1500);
    eq((await instances(d))[rec.id].status, 'offline', 'still stopped after restart');
    const r = await d.adminFetch(`/api/instances/${rec.id}/start`, { method: 'POST' });
    eq(r.status, 200);
    await waitStatus(d, rec.id, 'online');
  } finally {
    eq((await d.stop()).code, 0);
    await w.fake.close();
  }
});

test('TLS: the daemon reaches a wss:// and https:// Discord through TLS_CA_FILE', async () => {
  const w = await world({ tls: true });
  const dir = tmpDir();
  const rec = instanceRecord({ app: w.apps[0] });
  seedInstances(path.join(dir, 'data'), [rec]);
  const d = await startDaemon({ dir, env: daemonEnv(w.fake) });
  try {
    await waitStatus(d, rec.id, 'online');
    w.fake.assertNoViolations();
  } finally {
    eq((await d.stop()).code, 0);
    await w.fake.close();
  }
});

test('DISCORD_TOKEN: the platform store is created on first start and kept running', async () => {
  const w = await world();
  const dir = tmpDir();
  const d = await startDaemon({ dir, env: daemonEnv(w.fake, { DISCORD_TOKEN: w.apps[0].token }) });
  let id;
  try {
    id = await until(async () => {
      const p = Object.values(await instances(d)).find((i) => i.platform === 'yes');
      return p && p.status === 'online' ? p.id : null;
    }, { what: 'platform instance online' });
    const all = await instances(d);
    eq(Object.keys(all).length, 1);
    eq(all[id].ownerId, 'platform');
    const text = JSON.stringify(all);
    assert(!text.includes(w.apps[0].token), 'the token is never returned');
  } finally {
    eq((await d.stop()).code, 0);
  }
  const d2 = await startDaemon({ dir, env: daemonEnv(w.fake, { DISCORD_TOKEN: w.apps[0].token }) });
  try {
    await waitStatus(d2, id, 'online');
    eq(Object.keys(await instances(d2)).length, 1, 'not created twice');
    assert(!d2.logText().includes(w.apps[0].token), 'the token never reaches the log');
  } finally {
    eq((await d2.stop()).code, 0);
    await w.fake.close();
  }
});

test('a token already used by another instance is refused for a second one', async () => {
  const w = await world();
  const dir = tmpDir();
  const seller = instanceRecord({ app: w.apps[0], name: 'Vendedor' });
  seedInstances(path.join(dir, 'data'), [seller]);
  // the operator configures the same bot as the platform's own store
  const d = await startDaemon({ dir, env: daemonEnv(w.fake, { DISCORD_TOKEN: w.apps[0].token }) });
  try {
    await waitStatus(d, seller.id, 'online');
    const all = await instances(d);
    eq(Object.keys(all).length, 1, 'no second instance with the same token');
    match(d.logText(), /used by another instance/);
    w.fake.assertNoViolations();
  } finally {
    eq((await d.stop()).code, 0);
    await w.fake.close();
  }
});
