// The fake Discord for bench/selling.mjs, in a child process of its own (so that its CPU time
// is its own): builds the sellers' world in process (apps, guilds, thousands of buyers, which
// the control API would take one HTTP request each for), and records when each DM carrying a
// benchmark key was answered. Driven by JSON lines on stdin, answers JSON lines on stdout:
//   {"cmd":"world","apps":N,"buyers":M}  -> {"apps":[{token,appId,guildId,channelId}],"buyers":[[userId,app]...]}
//   {"cmd":"count"}                      -> {"dms":n}
//   {"cmd":"report"}                     -> {"dms":{orderIdx: ms},"routes":{...},"violations":[...]}
// argv[2]: JSON options for startFakeDiscord (e.g. {"openapi": false}), plus dmBucket.
import readline from 'node:readline';
import { startFakeDiscord } from '../../tests/fakes/discord/server.mjs';

const { dmBucket, ...opts } = JSON.parse(process.argv[2] || '{}');
const fake = await startFakeDiscord({ heartbeatInterval: 41250, ...opts });
// The fake gives POST /users/@me/channels its default bucket, 5 per 5 s per bot (Discord does
// not document this route's limit): one new DM channel per second per bot. dmBucket [n, s]
// replaces it, to measure the daemon rather than that guess.
if (dmBucket) fake.setBucketLimit('POST /users/@me/channels', dmBucket[0], dmBucket[1]);
const dms = new Map(); // order index -> ms the DM's answer was sent
const routes = {};     // "route status" -> count
const record = fake.recordRequest.bind(fake);
fake.recordRequest = (e) => {
  const k = `${e.method} ${e.route} ${e.status}`;
  routes[k] = (routes[k] || 0) + 1;
  if (e.status === 200 && e.method === 'POST' && e.route === '/channels/{}/messages') {
    const m = /BK(\d+)-/.exec(e.body?.content || '');
    if (m && !dms.has(+m[1])) dms.set(+m[1], Date.now());
  }
  record(e);
};

const P = 1n << 10n | 1n << 11n | 1n << 14n | 1n << 15n | 1n << 16n;
function world({ apps, buyers }) {
  const out = { apps: [], buyers: [] };
  for (let i = 0; i < apps; i++) {
    const owner = fake.createUser({ username: `dono${i}` });
    const guild = fake.createGuild({ name: `Loja ${i}`, ownerId: owner.id });
    const app = fake.createApp({ name: `Bot ${i}` });
    fake.addBotToGuild(app.appId, guild.id, { permissions: String(P) });
    out.apps.push({ token: app.token, appId: app.appId, guildId: guild.id, channelId: guild.defaultChannelId });
  }
  for (let b = 0; b < buyers; b++) {
    const u = fake.createUser({ username: `buyer${b}` });
    const a = b % apps;
    fake.addMember(out.apps[a].guildId, u.id);
    out.buyers.push([u.id, a]);
  }
  return out;
}

const reply = (o) => process.stdout.write(JSON.stringify(o) + '\n');
reply({ apiBase: fake.apiBase, pid: process.pid });
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const m = JSON.parse(line);
  if (m.cmd === 'world') reply(world(m));
  else if (m.cmd === 'count') reply({ dms: dms.size });
  else if (m.cmd === 'report') {
    reply({ dms: Object.fromEntries(dms), routes,
      violations: fake.violations.slice(0, 20).map((v) => `${v.kind}: ${v.message}`), nviolations: fake.violations.length });
  }
});
rl.on('close', async () => { await fake.close().catch(() => {}); process.exit(0); });
