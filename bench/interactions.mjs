// Interaction latency under load (issue target: p99 <= 5 ms at 500 interactions/s over 100
// instances). Not a test. Usage (from the repo root, after `make` and `npm ci` in tests/):
//   node bench/interactions.mjs [instances=100] [rate=500] [seconds=10]
// The fake Discord sends INTERACTION_CREATE (a /vincular with a wrong key, which the daemon
// answers at once after a store lookup and a hash) to the instances in turn, at the given
// rate; the latency is from just before the fake sends the event to when the daemon's
// callback has arrived at the fake, so it includes the websocket hop out and the HTTP hop
// back on loopback: an upper bound of "INTERACTION_CREATE received -> callback sent".
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startFakeDiscord } from '../tests/fakes/discord/server.mjs';
import { startDaemon, tmpDir } from '../tests/e2e/lib/daemon.mjs';
import { DATA_KEY, instanceRecord, seedInstances } from '../tests/e2e/lib/seed.mjs';

const [n = 100, rate = 500, seconds = 10] = process.argv.slice(2).map(Number);
const fake = await startFakeDiscord({ heartbeatInterval: 41250, openapi: false });
const owner = fake.createUser({ username: 'dono' });
const guild = fake.createGuild({ name: 'Bench', ownerId: owner.id });
fake.addMember(guild.id, owner.id, { permissions: String(1n << 5n) });
const apps = [];
for (let i = 0; i < n; i++) {
  const app = fake.createApp({ name: `Loja ${i}` });
  fake.addBotToGuild(app.appId, guild.id, { permissions: '8' });
  apps.push(app);
}
const dir = tmpDir('astra-bench-ix-');
seedInstances(path.join(dir, 'data'), apps.map((app) => instanceRecord({ app, apiKey: 'right-key-0123456789abcdef' })));
const d = await startDaemon({ dir, env: { DISCORD_API_BASE: fake.apiBase, DATA_ENCRYPTION_KEY: DATA_KEY, LOG_LEVEL: 'warn' } });
for (;;) {
  const r = await (await d.adminFetch('/api/instances')).json();
  const online = r.instances.filter((i) => i.status === 'online').length;
  const registered = apps.every((a) => (fake.commands(a.appId, guild.id) || []).length > 0);
  if (online === n && registered) break;
  await new Promise((res) => setTimeout(res, 200));
}
console.log(`# ${n} instances online; sending ${rate}/s for ${seconds} s`);
const lat = [];
let errors = 0, sent = 0;
const total = rate * seconds;
const start = performance.now();
const pending = [];
while (sent < total) {
  const due = start + (sent * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((res) => setTimeout(res, wait));
  const app = apps[sent % n];
  const t0 = performance.now();
  const ix = fake.runCommand({ appId: app.appId, guildId: guild.id, channelId: guild.defaultChannelId, userId: owner.id, name: 'vincular', options: [{ name: 'chave', type: 3, value: 'wrong-key-0123456789abcdef' }] });
  pending.push(ix.response.then(() => lat.push(performance.now() - t0), () => errors++));
  sent++;
}
await Promise.all(pending);
const elapsed = (performance.now() - start) / 1000;
lat.sort((a, b) => a - b);
const q = (p) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))].toFixed(2);
console.log(`interactions: ${lat.length} answered, ${errors} unanswered, ${(lat.length / elapsed).toFixed(0)}/s achieved`);
console.log(`latency ms: p50 ${q(50)}  p90 ${q(90)}  p99 ${q(99)}  max ${lat[lat.length - 1].toFixed(2)}`);
console.log(`violations: ${fake.violations.length}`);
const st = await (await d.adminFetch('/api/status')).json();
const l = st.bots.interactionLatencyUs;
console.log(`daemon side (INTERACTION_CREATE dispatched -> callback handed to REST), us: count ${l.count}  p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  max ${l.max}`);
await d.stop();
await fake.close();
