// The gateway and REST rules end to end: the real astrad against the fake Discord, faults
// injected by the fake, statuses read from the admin API.
import path from 'node:path';
import { test, assert, eq, match, until, sleep } from './lib/harness.mjs';
import { startDaemon, tmpDir } from './lib/daemon.mjs';
import { DATA_KEY, instanceRecord, seedInstances } from './lib/seed.mjs';
import { startFakeDiscord } from '../fakes/discord/server.mjs';

async function setup(n = 1) {
  const fake = await startFakeDiscord({ heartbeatInterval: 800, maxConcurrency: 1 });
  const owner = fake.createUser({ username: 'dono' });
  const guild = fake.createGuild({ name: 'Loja', ownerId: owner.id });
  const apps = [];
  for (let i = 0; i < n; i++) {
    const app = fake.createApp({ name: `Loja ${i}` });
    fake.addBotToGuild(app.appId, guild.id, { permissions: '8' });
    apps.push(app);
  }
  const dir = tmpDir();
  const recs = apps.map((app, i) => instanceRecord({ app, name: `Loja ${i}` }));
  seedInstances(path.join(dir, 'data'), recs);
  return { fake, guild, apps, recs, dir };
}

const start = (w) => startDaemon({ dir: w.dir, env: { DISCORD_API_BASE: w.fake.apiBase, DATA_ENCRYPTION_KEY: DATA_KEY, LOG_LEVEL: 'info' } });

async function inst(d, id) {
  const r = await (await d.adminFetch('/api/instances')).json();
  return r.instances.find((i) => i.id === id);
}

const waitFor = (d, id, pred, what, timeout = 15000) =>
  until(async () => { const i = await inst(d, id); return i && pred(i) ? i : null; }, { timeout, what });

test('every close code: resumable ones come back online, the others stop only that bot with a reason', async () => {
  const fatal = { 4004: /[Tt]oken/, 4010: /sharding/, 4011: /sharding/, 4012: /[Vv]ersão/, 4013: /[Ii]ntents/, 4014: /[Ii]ntents/ };
  const codes = [4000, 4001, 4002, 4003, 4005, 4007, 4008, 4009, 4010, 4011, 4012, 4013, 4014, 4004];
  const w = await setup(2);
  const d = await start(w);
  try {
    const [a, other] = w.recs;
    await waitFor(d, a.id, (i) => i.status === 'online', 'online');
    await waitFor(d, other.id, (i) => i.status === 'online', 'other online');
    for (const code of codes) {
      if (fatal[code]) {
        w.fake.gatewayClose(w.apps[0].appId, code);
        const i = await waitFor(d, a.id, (x) => x.status === 'erro', `erro after ${code}`);
        match(i.lastError, fatal[code], `reason for ${code}`);
        eq((await inst(d, other.id)).status, 'online', `other bot untouched by ${code}`);
        // the operator restarts it: a new session, online again
        eq((await d.adminFetch(`/api/instances/${a.id}/restart`, { method: 'POST' })).status, 200);
        await waitFor(d, a.id, (x) => x.status === 'online', `online after restart (${code})`);
      } else {
        const before = (await inst(d, a.id)).reconnects;
        w.fake.gatewayClose(w.apps[0].appId, code);
        await waitFor(d, a.id, (x) => x.status === 'online' && x.reconnects > before, `back online after ${code}`);
      }
    }
    const st = w.fake.sessionStats(w.apps[0].appId);
    assert(st.resumes >= 6, `resumed after the resumable codes (${st.resumes})`);
    w.fake.takeViolations(/identif/i); // operator restarts re-identify within 5 s on purpose
    w.fake.assertNoViolations();
  } finally {
    eq((await d.stop()).code, 0);
    await w.fake.close();
  }
}, { timeout: 180000 });

test('op 7, op 9 (true and false) and a zombie connection: the bot resumes or re-identifies and stays online', async () => {
  const w = await setup(1);
  const d = await start(w);
  const id = w.recs[0].id, app = w.apps[0].appId;
  try {
    await waitFor(d, id, (i) => i.status === 'online', 'online');
    let s0 = w.fake.sessionStats(app);
    w.fake.gatewayReconnect(app);
    await until(() => w.fake.sessionStats(app).resumes > s0.resumes, { what: 'resume after op 7' });
    await waitFor(d, id, (i) => i.status === 'online', 'online after op 7');
    s0 = w.fake.sessionStats(app);
    w.fake.gatewayInvalidSession(app, true);
    await until(() => w.fake.sessionStats(app).resumes > s0.resumes, { what: 'resume after op 9 true' });
    s0 = w.fake.sessionStats(app);
    await sleep(5200); // the next identify must wait for the app's 5 s window
    w.fake.gatewayInvalidSession(app, false);
    await until(() => w.fake.sessionStats(app).identifies > s0.identifies, { timeout: 15000, what: 're-identify after op 9 false' });
    await waitFor(d, id, (i) => i.status === 'online', 'online after op 9 false');
    s0 = w.fake.sessionStats(app);
    w.fake.gatewaySilence(app, true); // heartbeats no longer ACKed: a zombie
    await sleep(2500);
    w.fake.gatewaySilence(app, false);
    await until(() => w.fake.sessionStats(app).resumes > s0.resumes, { timeout: 15000, what: 'resume after zombie' });
    await waitFor(d, id, (i) => i.status === 'online', 'online after zombie');
    w.fake.assertNoViolations();
  } finally {
    eq((await d.stop()).code, 0);
    await w.fake.close();
  }
}, { timeout: 90000 });

test('429s per bucket and global: the daemon waits as told and gets there, without a second 429', async () => {
  const w = await setup(1);
  // the first command registration meets a bucket 429, /gateway/bot a global one
  w.fake.rateLimit({ method: 'PUT', path: '/applications/{application_id}/guilds/{guild_id}/commands', count: 1, retryAfter: 0.6 });
  w.fake.rateLimit({ method: 'GET', path: '/gateway/bot', count: 1, retryAfter: 0.4, global: true });
  const d = await start(w);
  try {
    await waitFor(d, w.recs[0].id, (i) => i.status === 'online', 'online despite the global 429');
    await until(() => (w.fake.commands(w.apps[0].appId, w.guild.id) || []).length > 0, { what: 'commands registered after the 429' });
    const limited = w.fake.requests.filter((r) => r.status === 429);
    eq(limited.length, 2, 'exactly the two forced 429s');
    w.fake.assertNoViolations();
  } finally {
    eq((await d.stop()).code, 0);
    await w.fake.close();
  }
});
