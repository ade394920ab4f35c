// Selling: paid orders per second end to end, webhook in -> DM recorded by the fake Discord.
//
//   node bench/selling.mjs            (or bench/run.sh selling)
//
// Environment (defaults in brackets):
//   ORDERS [20000]      pending orders, one key each, spread over the instances
//   INSTANCES [40]      instances (sellers' bots), each its own app in the fake Discord; the
//                       daemon paces every bot at Discord's 50 requests/s and a DM costs two
//                       (open the DM channel, send), so the DM rate is at most INSTANCES x 25/s
//   RATE [0]            webhooks per second, open loop (latency counted from the planned send
//                       time); 0: closed loop, CONC senders as fast as the daemon answers
//   CONC [32]           concurrent webhook senders (closed loop) / max sockets (open loop)
//   POSTS [1]           1: each product has a post in the fake Discord, edited after sales
//                       (as in a real store); 0: no post
//   DM_BUCKET [50/1]    the fake Discord's bucket for POST /users/@me/channels, n/seconds per bot;
//                       the fake's own default is 5/5 (one new DM channel per second per bot,
//                       a guess: Discord does not document it); "fake": keep that default
//   VALIDATE [1]        0: the fake Discord skips OpenAPI schema validation (its rules still apply)
//   PERF [0]            1: perf record -g the daemon from the first webhook to the last DM
//                       (bench/results/selling.perf.data); 2: with DWARF call graphs (callers of libc)
//   CPUPROF [0]         1: the fakes write V8 CPU profiles into bench/results/selling-prof/
//   LOG_LEVEL [info]    the daemon's (info: an access line per webhook, a line per payment and per DM)
//   ASTRAD [build/astrad]
//
// How: the fakes run in child processes of their own (bench/lib/selling_discord.mjs,
// bench/lib/selling_mp.mjs) so that each one's CPU is its own. The sellers' store (instances,
// tokens, a product, keys, a post) is made through the portal API; then, with the daemon
// stopped, the pending orders and their reserved keys are written into the data directory as
// checkout leaves them (as tests/e2e/selling_payments.test.mjs does), their payments made and
// approved in the fake Mercado Pago (no notification), and the daemon started again. The
// benchmark then sends each order's signed webhook (signWebhook, as Mercado Pago signs) to
// the daemon, which reads the payment back from the fake and answers 200 once durable, and
// waits until the fake Discord has answered every DM.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Daemon, ROOT, tmpDir, freePorts } from '../tests/e2e/lib/daemon.mjs';
import { DATA_KEY } from '../tests/e2e/lib/seed.mjs';
import { signup, api } from '../tests/e2e/lib/portal_client.mjs';
import { signWebhook } from '../tests/fakes/mercadopago/signature.mjs';

const env = (k, d) => (process.env[k] === undefined || process.env[k] === '' ? d : Number(process.env[k]));
const ORDERS = env('ORDERS', 20000), INSTANCES = env('INSTANCES', 40), RATE = env('RATE', 0);
const CONC = env('CONC', 32), POSTS = env('POSTS', 1), VALIDATE = env('VALIDATE', 1);
const DM_BUCKET = process.env.DM_BUCKET || '50/1';
const PERF = env('PERF', 0), CPUPROF = env('CPUPROF', 0);
const BINARY = process.env.ASTRAD || path.join(ROOT, 'build/astrad');
const MP_TOKEN = 'APP_USR-bench-token', MP_SECRET = 'bench-webhook-secret';
const PRICE = 1990;
const RESULTS = path.join(ROOT, 'bench/results');

const log = (...a) => console.log('#', ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)] : NaN;
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const summary = (xs) => {
  const s = Float64Array.from(xs).sort();
  return `p50 ${f1(pct(s, 50))}  p90 ${f1(pct(s, 90))}  p99 ${f1(pct(s, 99))}  max ${f1(s[s.length - 1])}`;
};

// ---- child processes speaking JSON lines ----
function child(script, args, profDir) {
  const nodeArgs = profDir ? [`--cpu-prof`, `--cpu-prof-dir=${profDir}`] : [];
  const p = spawn(process.execPath, [...nodeArgs, script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const rl = readline.createInterface({ input: p.stdout });
  const waiting = [];
  rl.on('line', (l) => waiting.shift()?.(JSON.parse(l)));
  const next = () => new Promise((r) => waiting.push(r));
  return { p, hello: next(), ask: (m) => { const r = next(); p.stdin.write(JSON.stringify(m) + '\n'); return r; },
    close: () => new Promise((r) => { p.on('exit', r); p.stdin.end(); }) };
}

// ---- /proc ----
const TICK = 100; // USER_HZ
function cpuS(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const v = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(v[11]) + Number(v[12])) / TICK;
}
function memKB(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const g = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1]);
  return { rss: g('VmRSS'), hwm: g('VmHWM') };
}
const uptime = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

// ---- data directory ----
function readDoc(file) { return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : { version: 1, seq: 0 }; }
function writeDoc(file, doc) {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });
}
function openSealed(b64) {
  const blob = Buffer.from(b64, 'base64');
  const d = crypto.createDecipheriv('aes-256-gcm', Buffer.from(DATA_KEY, 'hex'), blob.subarray(2, 14));
  d.setAAD(blob.subarray(0, 2));
  d.setAuthTag(blob.subarray(blob.length - 16));
  return Buffer.concat([d.update(blob.subarray(14, blob.length - 16)), d.final()]).toString('utf8');
}
const CODE_CHARS = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const code = () => Array.from({ length: 8 }, () => CODE_CHARS[crypto.randomInt(CODE_CHARS.length)]).join('');

async function ok(rp, what, want = [200, 201]) {
  const r = await rp;
  if (!want.includes(r.status)) throw new Error(`${what}: HTTP ${r.status} ${await r.text()}`);
  return r.status === 204 ? null : r.json();
}

// ---- webhooks ----
function sendWebhook(agent, port, paymentId) {
  const requestId = crypto.randomUUID();
  const { header } = signWebhook({ secret: MP_SECRET, dataId: String(paymentId), requestId, ts: Date.now() });
  return new Promise((resolve) => {
    const req = http.request({ agent, host: '127.0.0.1', port, method: 'POST',
      path: `/api/webhooks/mercadopago?source_news=webhooks&data.id=${paymentId}&type=payment`,
      headers: { 'content-type': 'application/json', 'x-signature': header, 'x-request-id': requestId,
        'user-agent': 'restclient-node/4.15.3' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.end(JSON.stringify({ action: 'payment.updated', type: 'payment', data: { id: String(paymentId) } }));
  });
}

async function main() {
  const profDir = CPUPROF ? path.join(RESULTS, 'selling-prof') : null;
  if (profDir) fs.mkdirSync(profDir, { recursive: true });
  log(`selling: ORDERS=${ORDERS} INSTANCES=${INSTANCES} RATE=${RATE || 'max'} CONC=${CONC} POSTS=${POSTS} VALIDATE=${VALIDATE} DM_BUCKET=${DM_BUCKET}`);
  log(`load average at start: ${uptime()}`);

  // the fakes
  const dc = child(path.join(ROOT, 'bench/lib/selling_discord.mjs'), [JSON.stringify({ ...(VALIDATE ? {} : { openapi: false }),
    ...(DM_BUCKET === 'fake' ? {} : { dmBucket: DM_BUCKET.split('/').map(Number) }) })], profDir);
  const mc = child(path.join(ROOT, 'bench/lib/selling_mp.mjs'), [JSON.stringify({ accessToken: MP_TOKEN, webhookSecret: MP_SECRET })], profDir);
  const [dHello, mHello] = await Promise.all([dc.hello, mc.hello]);
  const w = await dc.ask({ cmd: 'world', apps: INSTANCES, buyers: ORDERS });

  // the daemon and the sellers' stores, through the portal API
  const dir = tmpDir('astra-bench-selling-');
  const [portalPort, adminPort] = await freePorts(2);
  const denv = { DISCORD_API_BASE: dHello.apiBase, DATA_ENCRYPTION_KEY: DATA_KEY,
    PORTAL_SESSION_SECRET: 'bench-session-secret-0123456789abcdef', MERCADOPAGO_API_BASE: mHello.apiBase,
    MERCADOPAGO_ACCESS_TOKEN: MP_TOKEN, MERCADOPAGO_WEBHOOK_SECRET: MP_SECRET,
    PUBLIC_URL: `http://127.0.0.1:${portalPort}`, PAYMENT_RECONCILE_SECONDS: '3600', LOG_LEVEL: process.env.LOG_LEVEL || 'info' };
  let d = await new Daemon({ dir, env: denv, portalPort, adminPort, binary: BINARY }).start();
  const insts = []; // {id, pid, session, app}
  let s = null;
  const per = Math.ceil(ORDERS / INSTANCES);
  for (let i = 0; i < INSTANCES; i++) {
    if (i % 20 === 0) s = await signup(d); // at most 20 instances per seller
    const app = w.apps[i];
    const inst = await ok(api(d, s, 'POST', '/api/instances', { name: `Loja ${i}` }), 'instance');
    await ok(api(d, s, 'PUT', `/api/instances/${inst.id}/token`, { token: app.token }), 'token');
    await ok(api(d, s, 'PATCH', `/api/instances/${inst.id}`, { settings: { storeChannelId: app.channelId } }), 'settings');
    const prod = await ok(api(d, s, 'POST', `/api/instances/${inst.id}/products`, { name: 'Chave Steam', priceCents: PRICE }), 'product');
    const mine = [];
    for (let o = i; o < ORDERS; o += INSTANCES) mine.push(o);
    for (let k = 0; k < mine.length; k += 5000) {
      const text = mine.slice(k, k + 5000).map((o) => `BK${o}-${crypto.randomBytes(6).toString('hex')}`).join('\n');
      await ok(api(d, s, 'POST', `/api/instances/${inst.id}/stock`, { productId: prod.id, text }), 'stock');
    }
    await ok(api(d, s, 'POST', `/api/instances/${inst.id}/start`), 'start');
    if (POSTS) await ok(api(d, s, 'POST', `/api/instances/${inst.id}/products/${prod.id}/post`), 'post');
    insts.push({ id: inst.id, pid: prod.id, s, app });
  }
  log(`store made: ${INSTANCES} instances, ${ORDERS} keys (${per} per instance)`);
  if ((await d.stop()).code !== 0) throw new Error('daemon stop');

  // pending orders with reserved keys, as checkout leaves them; their payments, approved
  const data = path.join(dir, 'data');
  const now = Date.now();
  const expiresAt = now + 30 * 60000;
  const orders = new Array(ORDERS);
  const ordersDoc = readDoc(path.join(data, 'orders.json'));
  ordersDoc.orders = ordersDoc.orders || {};
  for (let i = 0; i < INSTANCES; i++) {
    const inst = insts[i];
    const file = path.join(data, 'instances', inst.id, 'stock.json');
    const doc = readDoc(file);
    for (const rec of Object.values(doc.stock)) {
      const o = Number(/^BK(\d+)-/.exec(openSealed(rec.key))[1]);
      const id = crypto.randomUUID();
      Object.assign(rec, { status: 'reserved', orderId: id, reservedUntil: expiresAt, slot: `${inst.pid}_none_reserved` });
      orders[o] = {
        id, instanceId: inst.id, code: code(), buyerId: w.buyers[o][0], buyerName: `buyer${o}`, cartId: null,
        items: [{ productId: inst.pid, variationId: null, productName: 'Chave Steam', variationName: null,
          quantity: 1, unitCents: PRICE, stockIds: [rec.id] }],
        stockIds: [rec.id], subtotalCents: PRICE, discountCents: 0, totalCents: PRICE, currency: 'BRL',
        couponId: null, coupon: null, payment: null, createdAt: now - 60000, updatedAt: now - 60000,
        expiresAt, paidAt: null, deliveredAt: null, status: 'pending', timeline: [{ at: now - 60000, status: 'pending' }],
      };
    }
    writeDoc(file, doc);
  }
  const url = `http://127.0.0.1:${portalPort}/api/webhooks/mercadopago?source_news=webhooks`;
  const payIds = [];
  for (let k = 0; k < ORDERS; k += 2000) {
    const r = await mc.ask({ cmd: 'pay', orders: orders.slice(k, k + 2000).map((o) => ({ id: o.id, cents: PRICE, url, expiresAt })) });
    payIds.push(...r.ids);
  }
  orders.forEach((o, i) => {
    o.paymentId = String(payIds[i]);
    o.payment = { provider: 'mercadopago', id: o.paymentId, status: 'pending', qrCode: '000201-bench', expiresAt };
    ordersDoc.orders[o.id] = o;
  });
  writeDoc(path.join(data, 'orders.json'), ordersDoc);
  log(`seeded ${ORDERS} pending orders and approved payments`);

  // restart, every bot online
  d = await new Daemon({ dir, env: denv, portalPort, adminPort, binary: BINARY }).start();
  const t0 = Date.now();
  for (;;) {
    let online = 0;
    for (const seller of [...new Set(insts.map((x) => x.s))]) {
      const list = await ok(api(d, seller, 'GET', '/api/instances'), 'list');
      online += list.instances.filter((x) => x.status === 'online').length;
    }
    if (online === INSTANCES) break;
    if (Date.now() - t0 > 120000) throw new Error(`only ${online}/${INSTANCES} online`);
    await sleep(500);
  }
  await sleep(2000); // let the start settle (post edits, gateway)
  const pid = d.proc.pid;
  const pids = { astrad: pid, discord: dHello.pid, mp: mHello.pid };
  log(`all ${INSTANCES} bots online after ${((Date.now() - t0) / 1000).toFixed(1)} s; daemon RSS ${memKB(pid).rss} kB`);

  // fire
  let perf = null;
  if (PERF) {
    perf = spawn('perf', ['record', '-F', PERF === 2 ? '199' : '499', ...(PERF === 2 ? ['--call-graph', 'dwarf,16384'] : ['-g']), '-p', String(pid), '-o', path.join(RESULTS, 'selling.perf.data')], { stdio: 'ignore' });
    await sleep(300);
  }
  const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuS(p)]));
  const self0 = process.cpuUsage();
  const load0 = uptime();
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONC });
  const lat = new Float64Array(ORDERS), sentAt = new Float64Array(ORDERS), okAt = new Float64Array(ORDERS);
  const statuses = {};
  const start = performance.now(), startWall = Date.now();
  const one = async (i, planned) => {
    const st = await sendWebhook(agent, portalPort, orders[i].paymentId);
    const end = performance.now();
    statuses[st] = (statuses[st] || 0) + 1;
    lat[i] = end - planned;
    sentAt[i] = startWall + (planned - start);
    okAt[i] = startWall + (end - start);
  };
  if (RATE > 0) {
    const all = [];
    for (let i = 0; i < ORDERS; i++) {
      const planned = start + i * 1000 / RATE;
      const wait = planned - performance.now();
      if (wait > 1) await sleep(wait);
      all.push(one(i, planned));
    }
    await Promise.all(all);
  } else {
    let next = 0;
    await Promise.all(Array.from({ length: CONC }, async () => {
      while (next < ORDERS) { const i = next++; await one(i, performance.now()); }
    }));
  }
  const webhooksMs = performance.now() - start;
  const cpuW = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuS(p) - cpu0[k]]));
  log(`webhooks done in ${(webhooksMs / 1000).toFixed(2)} s; waiting for the DMs`);
  let last = -1, lastChange = Date.now(), n = 0;
  for (;;) {
    n = (await dc.ask({ cmd: 'count' })).dms;
    if (n >= ORDERS) break;
    if (n !== last) { last = n; lastChange = Date.now(); }
    if (Date.now() - lastChange > 60000) { log(`no DM for 60 s: ${n}/${ORDERS}`); break; }
    await sleep(100);
  }
  const cpu1 = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuS(p) - cpu0[k]]));
  const self1 = process.cpuUsage(self0);
  const load1 = uptime();
  if (perf) { perf.kill('SIGINT'); await new Promise((r) => perf.on('exit', r)); }
  const rep = await dc.ask({ cmd: 'report' });
  const mps = await mc.ask({ cmd: 'stats' });
  const mem = memKB(pid);
  const status = await (await d.adminFetch('/api/status')).json().catch(() => null);

  // figures
  const dmAt = rep.dms;
  const dmTimes = Object.values(dmAt);
  const lastDm = Math.max(...dmTimes);
  const totalS = (lastDm - startWall) / 1000;
  const delay = [], afterOk = [];
  for (const [k, at] of Object.entries(dmAt)) { delay.push(at - sentAt[k]); afterOk.push(at - okAt[k]); }
  console.log(`paid_orders_per_s ${(Object.keys(dmAt).length / totalS).toFixed(0)} (${Object.keys(dmAt).length}/${ORDERS} DMs; first webhook -> last DM ${totalS.toFixed(2)} s)`);
  console.log(`webhooks_per_s ${(ORDERS / webhooksMs * 1000).toFixed(0)} (${RATE ? `open loop at ${RATE}/s` : `closed loop, ${CONC} senders`}; statuses ${JSON.stringify(statuses)})`);
  console.log(`webhook_latency_ms ${summary(lat)}`);
  console.log(`dm_delay_after_webhook_s ${summary(delay.map((x) => x / 1000))}`);
  console.log(`cpu_s_webhook_phase astrad ${f2(cpuW.astrad)} fake_discord ${f2(cpuW.discord)} fake_mp ${f2(cpuW.mp)} (in ${(webhooksMs / 1000).toFixed(2)} s)`);
  console.log(`cpu_s_total astrad ${f2(cpu1.astrad)} fake_discord ${f2(cpu1.discord)} fake_mp ${f2(cpu1.mp)} sender ${f2((self1.user + self1.system) / 1e6)} (in ${totalS.toFixed(2)} s)`);
  console.log(`astrad_cpu_ms_per_1000_orders ${f1(cpu1.astrad * 1e6 / ORDERS)} (webhook phase alone: ${f1(cpuW.astrad * 1e6 / ORDERS)})`);
  console.log(`astrad_rss_kb ${mem.rss} (peak ${mem.hwm})`);
  console.log(`load_average ${load0} -> ${load1}`);
  console.log(`fake_discord_routes ${JSON.stringify(rep.routes)}`);
  console.log(`fake_discord_violations ${rep.nviolations}${rep.nviolations ? ` ${JSON.stringify(rep.violations.slice(0, 3))}` : ''}`);
  console.log(`fake_mp_gets ${mps.gets} ${JSON.stringify(mps.getStatus)} violations ${mps.violations.length}`);
  if (status?.store) console.log(`astrad_store ${JSON.stringify(status.store)}`);

  await d.stop();
  await Promise.all([dc.close(), mc.close()]);
  if (!process.env.KEEP) fs.rmSync(dir, { recursive: true, force: true });
  if (Object.keys(dmAt).length < ORDERS) process.exitCode = 1;
}

main().catch((e) => { console.error(e); process.exit(1); });
