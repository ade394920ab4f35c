// Tests of the fake Discord itself (tests/fakes/discord): a well-behaved client must see no
// violations, and each rule the fake enforces must answer as Discord does. These use `ws` as a
// gateway client and fetch for REST; no astrad binary is involved.
import fs from 'node:fs';
import https from 'node:https';
import WebSocket from 'ws';
import { test, assert, eq, sleep, until } from './lib/harness.mjs';
import { startFakeDiscord } from '../fakes/discord/server.mjs';

const UA = 'DiscordBot (https://github.com/astra/astrad, 0.1.0)';
const GUILDS = 1;
// VIEW_CHANNEL | SEND_MESSAGES | MANAGE_CHANNELS | MANAGE_ROLES | CREATE_PRIVATE_THREADS | SEND_MESSAGES_IN_THREADS
const BOT_PERMS = String((1n << 10n) | (1n << 11n) | (1n << 4n) | (1n << 28n) | (1n << 36n) | (1n << 38n));

// A fake with one app in one guild (with a buyer member), closed when fn ends.
async function withFake(opts, fn) {
  const fake = await startFakeDiscord({ heartbeatInterval: 1000, ...opts });
  try {
    const app = fake.createApp({ name: 'Loja' });
    const owner = fake.createUser({ username: 'dono' });
    const guild = fake.createGuild({ name: 'Servidor', ownerId: owner.id });
    fake.addBotToGuild(app.appId, guild.id, { permissions: BOT_PERMS });
    const buyer = fake.createUser({ username: 'comprador' });
    fake.addMember(guild.id, buyer.id);
    await fn({ fake, app, guild, channelId: guild.channels[0].id, buyer });
  } finally {
    await fake.close();
  }
}

function api(fake, token, method, path, body, headers = {}) {
  const h = { 'User-Agent': UA, ...headers };
  if (token) h.Authorization = `Bot ${token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  return fetch(`${fake.apiBase}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) })
    .then(async (r) => ({ status: r.status, headers: r.headers, body: r.status === 204 ? null : await r.json().catch(() => null) }));
}

// A minimal gateway client: records every payload, lets a test wait for one.
class GatewayClient {
  constructor(url, { headers = { 'User-Agent': UA }, ca } = {}) {
    this.received = [];
    this.waiters = [];
    this.seq = null;
    this.ws = new WebSocket(url, { headers, ca });
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.ws.on('error', () => {});
    this.ws.on('message', (data) => {
      const p = JSON.parse(data.toString());
      if (p.op === 0 && p.s !== null) this.seq = p.s;
      this.received.push(p);
      for (const w of [...this.waiters]) if (w.pred(p)) { this.waiters.splice(this.waiters.indexOf(w), 1); w.resolve(p); }
    });
  }

  // Resolves with the first payload (already received or coming) that matches.
  next(pred, { timeout = 5000, what = 'payload' } = {}) {
    const have = this.received.find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      this.waiters.push(w);
      setTimeout(() => { if (this.waiters.includes(w)) reject(new Error(`timed out waiting for ${what}`)); }, timeout);
    });
  }

  send(p) { this.ws.send(typeof p === 'string' ? p : JSON.stringify(p)); }
  hello() { return this.next((p) => p.op === 10, { what: 'HELLO' }); }
  dispatch(t) { return this.next((p) => p.op === 0 && p.t === t, { what: t }); }

  identify(token, extra = {}) {
    this.send({ op: 2, d: { token, intents: GUILDS, properties: { os: 'linux', browser: 'astra-test', device: 'astra-test' }, ...extra } });
  }

  // Heartbeats every `ms` with the last sequence number, as the docs ask.
  beat(ms) {
    this.timer = setInterval(() => { if (this.ws.readyState === WebSocket.OPEN) this.send({ op: 1, d: this.seq }); }, ms);
  }

  close(code = 4000) { clearInterval(this.timer); try { this.ws.close(code); } catch {} return this.closed; }
  kill() { clearInterval(this.timer); this.ws.terminate(); return this.closed; }
}

const gw = (fake, path = '/gateway', opts) => new GatewayClient(`${fake.wsBase}${path}/?v=10&encoding=json`, opts);

async function connectReady(fake, app) {
  const c = gw(fake);
  await c.hello();
  c.identify(app.token);
  c.beat(300);
  const ready = await c.dispatch('READY');
  return { c, ready };
}

test('identify happy path: HELLO, READY, GUILD_CREATE, heartbeats ACKed, no violations', async () => {
  await withFake({ heartbeatInterval: 400 }, async ({ fake, app, guild }) => {
    const c = gw(fake);
    const hello = await c.hello();
    eq(hello.d.heartbeat_interval, 400, 'heartbeat_interval');
    eq([hello.s, hello.t], [null, null], 'non-dispatch s/t');
    c.identify(app.token);
    c.beat(300);
    const ready = await c.dispatch('READY');
    eq(ready.s, 1, 'READY seq');
    eq(ready.d.v, 10, 'v');
    eq(ready.d.user.id, app.botUserId, 'user');
    eq(ready.d.application.id, app.appId, 'application');
    eq(ready.d.guilds, [{ id: guild.id, unavailable: true }], 'guilds unavailable');
    assert(ready.d.resume_gateway_url === `${fake.wsBase}/gateway-resume`, ready.d.resume_gateway_url);
    const gc = await c.dispatch('GUILD_CREATE');
    eq([gc.s, gc.d.id, gc.d.unavailable], [2, guild.id, false], 'GUILD_CREATE');
    await until(() => c.received.filter((p) => p.op === 11).length >= 3, { what: '3 heartbeat ACKs' });
    const [s] = fake.sessions(app.appId);
    eq([s.identified, s.state, s.sessionId], [1, 'identified', ready.d.session_id], 'session record');
    await c.close();
    fake.assertNoViolations();
  });
});

test('identify with a bad token closes 4004', async () => {
  await withFake({}, async ({ fake }) => {
    const c = gw(fake);
    await c.hello();
    c.identify('MTIz.abcdef.not-a-real-token-at-all-xxxxxxx');
    eq((await c.closed).code, 4004, 'close code');
  });
});

test('a payload over 4096 bytes closes 4002', async () => {
  await withFake({}, async ({ fake, app }) => {
    const { c } = await connectReady(fake, app);
    c.send({ op: 3, d: { since: null, activities: [{ name: 'x'.repeat(5000), type: 0 }], status: 'online', afk: false } });
    eq((await c.closed).code, 4002, 'close code');
    eq(fake.takeViolations('gateway-payload-too-large').length, 1, 'violation');
    fake.assertNoViolations();
  });
});

test('121 gateway sends within the window close 4008', async () => {
  await withFake({ sendWindowMs: 3000 }, async ({ fake }) => {
    const c = gw(fake);
    await c.hello();
    for (let i = 0; i < 121; i++) c.send({ op: 1, d: null });
    eq((await c.closed).code, 4008, 'close code');
    eq(fake.takeViolations('gateway-rate-limit').length, 1, 'violation');
  });
});

test('anything but identify/resume/heartbeat before identifying closes 4003; unknown op 4001; bad JSON 4002', async () => {
  await withFake({}, async ({ fake }) => {
    const a = gw(fake);
    await a.hello();
    a.send({ op: 3, d: { since: null, activities: [], status: 'online', afk: false } });
    eq((await a.closed).code, 4003, 'op 3 before identify');
    const b = gw(fake);
    await b.hello();
    b.send({ op: 99, d: null });
    eq((await b.closed).code, 4001, 'unknown op');
    const c = gw(fake);
    await c.hello();
    c.send('{not json');
    eq((await c.closed).code, 4002, 'bad JSON');
    eq(fake.violations.map((v) => v.kind).sort(), ['gateway-decode', 'gateway-not-authenticated', 'gateway-unknown-op'], 'violations');
  });
});

test('second identify closes 4005; privileged intent closes 4014', async () => {
  await withFake({}, async ({ fake, app }) => {
    const { c } = await connectReady(fake, app);
    await sleep(50);
    c.identify(app.token);
    eq((await c.closed).code, 4005, 'second identify');
    const d = gw(fake);
    await d.hello();
    d.beat(300);
    await sleep(5100 - 50);   // the identify window (max_concurrency 1 per 5 s)
    d.identify(app.token, { intents: 1 | (1 << 15) });
    eq((await d.closed).code, 4014, 'MESSAGE_CONTENT not enabled');
    eq(fake.violations.map((v) => v.kind), ['gateway-already-authenticated', 'identify-intents'], 'violations');
  });
});

test('identify concurrency: a second identify within 5 s gets op 9 d:false', async () => {
  await withFake({}, async ({ fake, app }) => {
    await connectReady(fake, app);
    const c2 = gw(fake);
    await c2.hello();
    c2.identify(app.token);
    const inv = await c2.next((p) => p.op === 9, { what: 'op 9' });
    eq(inv.d, false, 'op 9 d');
    eq(fake.takeViolations('identify-rate-limit').length, 1, 'violation');
  });
});

test('resume on resume_gateway_url replays missed dispatches, then RESUMED', async () => {
  await withFake({}, async ({ fake, app, guild }) => {
    const { c, ready } = await connectReady(fake, app);
    await c.dispatch('GUILD_CREATE');
    const seq = c.seq;
    await c.kill();                       // drop without a close frame: the session stays resumable
    await until(() => fake.sessionStats(app.appId).open === 0, { what: 'drop noticed' });
    // Events while disconnected are kept for the replay.
    const ch = fake.createChannel(guild.id, { name: 'novo', type: 0 });
    fake.dispatch(app.appId, 'CUSTOM_TEST_EVENT', { n: 1 });
    const r = gw(fake, '/gateway-resume');
    await r.hello();
    r.send({ op: 6, d: { token: app.token, session_id: ready.d.session_id, seq } });
    r.beat(300);
    const created = await r.dispatch('CHANNEL_CREATE');
    eq([created.s, created.d.id], [seq + 1, ch.id], 'replayed CHANNEL_CREATE');
    eq((await r.dispatch('CUSTOM_TEST_EVENT')).s, seq + 2, 'replayed event');
    eq((await r.dispatch('RESUMED')).s, seq + 3, 'RESUMED after the replay');
    eq(fake.sessionStats(app.appId).resumes, 1, 'resume counted');
    await r.close();
    fake.assertNoViolations();
  });
});

test('fault injection: op 7 reconnect and op 9 invalid session', async () => {
  await withFake({ reconnectCloseMs: 300 }, async ({ fake, app }) => {
    const { c, ready } = await connectReady(fake, app);
    fake.gatewayReconnect(app.appId);
    eq((await c.next((p) => p.op === 7, { what: 'op 7' })).d, null, 'op 7 d');
    eq((await c.closed).code, 1006, 'server cuts a connection left open after op 7');
    // The session is still resumable after op 7.
    const r = gw(fake, '/gateway-resume');
    await r.hello();
    r.send({ op: 6, d: { token: app.token, session_id: ready.d.session_id, seq: c.seq } });
    r.beat(300);
    await r.dispatch('RESUMED');
    fake.gatewayInvalidSession(app.appId, false);
    eq((await r.next((p) => p.op === 9, { what: 'op 9' })).d, false, 'op 9 d:false');
    await r.close();
    // ...and after op 9 d:false it is not.
    const r2 = gw(fake, '/gateway-resume');
    await r2.hello();
    r2.send({ op: 6, d: { token: app.token, session_id: ready.d.session_id, seq: r.seq } });
    eq((await r2.next((p) => p.op === 9, { what: 'op 9 on resume' })).d, false, 'resume refused');
    await r2.close();
    fake.assertNoViolations();
  });
});

test('gatewayClose sends the code; gatewaySilence stops ACKs', async () => {
  await withFake({ heartbeatInterval: 300 }, async ({ fake, app }) => {
    const { c } = await connectReady(fake, app);
    fake.gatewaySilence(app.appId, true);
    await sleep(100);
    const acks = c.received.filter((p) => p.op === 11).length;
    await sleep(700);
    eq(c.received.filter((p) => p.op === 11).length, acks, 'no ACK while silenced');
    fake.gatewayClose(app.appId, 4009);
    eq((await c.closed).code, 4009, 'close code');
    fake.assertNoViolations();
  });
});

test('REST without a token is 401 {"message":"401: Unauthorized","code":0}', async () => {
  await withFake({}, async ({ fake, app }) => {
    const r = await api(fake, null, 'GET', '/users/@me');
    eq([r.status, r.body], [401, { message: '401: Unauthorized', code: 0 }], 'answer');
    eq(fake.takeViolations('missing-authorization').length, 1, 'violation');
    const ok = await api(fake, app.token, 'GET', '/users/@me');
    eq([ok.status, ok.body.id, ok.body.bot], [200, app.botUserId, true], 'with the token');
    const unknown = await api(fake, app.token, 'GET', '/nope');
    eq([unknown.status, unknown.body], [404, { message: '404: Not Found', code: 0 }], 'unknown route');
    fake.takeViolations('unknown-route');
    fake.assertNoViolations();
  });
});

test('message content of 2001 characters: 400 50035 and a violation', async () => {
  await withFake({}, async ({ fake, app, channelId }) => {
    const r = await api(fake, app.token, 'POST', `/channels/${channelId}/messages`, { content: 'x'.repeat(2001) });
    eq([r.status, r.body.code, r.body.message], [400, 50035, 'Invalid Form Body'], 'answer');
    eq(r.body.errors.content._errors[0].code, 'BASE_TYPE_MAX_LENGTH', 'error code');
    eq(fake.takeViolations('invalid-form-body').length, 1, 'violation');
    const ok = await api(fake, app.token, 'POST', `/channels/${channelId}/messages`, { content: 'x'.repeat(2000) });
    eq(ok.status, 200, '2000 characters pass');
    fake.assertNoViolations();
  });
});

const row = (...ids) => ({ type: 1, components: ids.map((id) => ({ type: 2, style: 1, label: id, custom_id: id })) });

test('six action rows in a legacy message: violation', async () => {
  await withFake({}, async ({ fake, app, channelId }) => {
    const rows = [1, 2, 3, 4, 5, 6].map((i) => row(`b${i}`));
    const r = await api(fake, app.token, 'POST', `/channels/${channelId}/messages`, { content: 'menu', components: rows });
    eq([r.status, r.body.code], [400, 50035], 'answer');
    assert(r.body.errors.components, JSON.stringify(r.body));
    eq(fake.takeViolations('invalid-form-body').length, 1, 'violation');
    const ok = await api(fake, app.token, 'POST', `/channels/${channelId}/messages`, { content: 'menu', components: rows.slice(0, 5) });
    eq(ok.status, 200, 'five rows pass');
    fake.assertNoViolations();
  });
});

test('duplicate custom_id in one message: violation', async () => {
  await withFake({}, async ({ fake, app, channelId }) => {
    const r = await api(fake, app.token, 'POST', `/channels/${channelId}/messages`, { content: 'x', components: [row('astra:buy:1'), row('astra:buy:1')] });
    eq([r.status, r.body.code], [400, 50035], 'answer');
    eq(r.body.errors.components['1'].components['0'].custom_id._errors[0].code, 'COMPONENT_CUSTOM_ID_DUPLICATED', 'error');
    eq(fake.takeViolations('invalid-form-body').length, 1, 'violation');
  });
});

test('a body that breaks the OpenAPI schema (embeds not an array): violation', async () => {
  await withFake({}, async ({ fake, app, channelId }) => {
    if (!fake.spec) { console.log('# skip: OpenAPI spec not available, schema validation is off'); return; }
    const r = await api(fake, app.token, 'POST', `/channels/${channelId}/messages`, { content: 'x', embeds: { title: 'not a list' } });
    eq([r.status, r.body.code], [400, 50035], 'answer');
    assert(r.body.errors.embeds, JSON.stringify(r.body));
    eq(fake.takeViolations('invalid-form-body').length, 1, 'violation');
    // Permission strings are accepted where the spec says integer (reference §4).
    const ch = await api(fake, app.token, 'POST', `/guilds/${(await api(fake, app.token, 'GET', `/channels/${channelId}`)).body.guild_id}/channels`,
      { name: 'carrinho', type: 0, permission_overwrites: [{ id: app.botUserId, type: 1, allow: '3072', deny: '0' }] });
    eq(ch.status, 201, `string allow/deny accepted: ${JSON.stringify(ch.body)}`);
    fake.assertNoViolations();
  });
});

test('rate limits: bucket headers, a real 429, and a forced 429 with Retry-After', async () => {
  await withFake({}, async ({ fake, app, channelId }) => {
    const path = `/channels/${channelId}/messages`;
    let bucket;
    for (let i = 0; i < 5; i++) {
      const r = await api(fake, app.token, 'POST', path, { content: `m${i}` });
      eq([r.status, r.headers.get('x-ratelimit-limit'), r.headers.get('x-ratelimit-remaining')], [200, '5', String(4 - i)], `message ${i}`);
      bucket ??= r.headers.get('x-ratelimit-bucket');
      eq(r.headers.get('x-ratelimit-bucket'), bucket, 'same bucket');
      assert(Number(r.headers.get('x-ratelimit-reset-after')) > 0 && Number(r.headers.get('x-ratelimit-reset')) > Date.now() / 1000 - 1, 'reset headers');
    }
    await sleep(100);                       // the bot has seen Remaining: 0
    const limited = await api(fake, app.token, 'POST', path, { content: 'one too many' });
    eq([limited.status, limited.body.global, limited.headers.get('x-ratelimit-scope')], [429, false, 'user'], '429');
    assert(Number(limited.headers.get('retry-after')) >= 1 && limited.body.retry_after > 0, 'Retry-After');
    eq(fake.takeViolations('rate-limit-ignored').length, 1, 'sending on an exhausted bucket is a violation');

    fake.rateLimit({ method: 'GET', path: '/users/@me', count: 1, retryAfter: 1 });
    const forced = await api(fake, app.token, 'GET', '/users/@me');
    eq([forced.status, forced.headers.get('retry-after'), forced.body.retry_after, forced.body.global], [429, '1', 1, false], 'forced 429');
    fake.assertNoViolations();             // a 429 the bot could not foresee is not its fault
    await sleep(1100);
    eq((await api(fake, app.token, 'GET', '/users/@me')).status, 200, 'after Retry-After');

    fake.rateLimit({ global: true, count: 1, retryAfter: 0.5 });
    const g = await api(fake, app.token, 'GET', '/users/@me');
    eq([g.status, g.headers.get('x-ratelimit-global'), g.headers.get('x-ratelimit-scope'), g.body.global], [429, 'true', 'global', true], 'global 429');
    await sleep(150);
    eq((await api(fake, app.token, 'GET', '/users/@me')).status, 429, 'still inside the global Retry-After');
    eq(fake.takeViolations('rate-limit-ignored').length, 1, 'ignoring Retry-After is a violation');
    fake.assertNoViolations();
  });
});

async function postedMenu(fake, app, channelId) {
  const r = await api(fake, app.token, 'POST', `/channels/${channelId}/messages`, { content: 'Produtos', components: [row('astra:buy:1')] });
  eq(r.status, 200, 'menu posted');
  return r.body;
}

test('interaction callback after 3 s is 10062; the handle rejects', async () => {
  await withFake({}, async ({ fake, app, channelId, buyer }) => {
    const msg = await postedMenu(fake, app, channelId);
    const h = fake.clickButton({ messageId: msg.id, customId: 'astra:buy:1', userId: buyer.id });
    let rejected = false;
    h.response.catch(() => { rejected = true; });
    await sleep(3100);
    const r = await api(fake, null, 'POST', `/interactions/${h.id}/${h.token}/callback`, { type: 6 });
    eq([r.status, r.body], [404, { message: 'Unknown interaction', code: 10062 }], 'late callback');
    eq(fake.takeViolations('interaction-deadline').length, 1, 'violation');
    await until(() => rejected, { what: 'response rejected' });
    fake.assertNoViolations();
  });
});

test('second interaction callback is 400 40060', async () => {
  await withFake({}, async ({ fake, app, channelId, buyer }) => {
    const msg = await postedMenu(fake, app, channelId);
    const h = fake.clickButton({ messageId: msg.id, customId: 'astra:buy:1', userId: buyer.id });
    const first = await api(fake, null, 'POST', `/interactions/${h.id}/${h.token}/callback`, { type: 6 });
    eq(first.status, 204, 'first callback');
    eq(await h.response, { type: 6, data: null }, 'handle resolves with the callback');
    const second = await api(fake, null, 'POST', `/interactions/${h.id}/${h.token}/callback`, { type: 6 });
    eq([second.status, second.body], [400, { message: 'Interaction has already been acknowledged.', code: 40060 }], 'second callback');
    eq(fake.takeViolations('interaction-already-acknowledged').length, 1, 'violation');
  });
});

test('a full buyer flow over the gateway: click, modal, submit, defer, edit @original, follow-up', async () => {
  await withFake({}, async ({ fake, app, channelId, buyer }) => {
    const { c } = await connectReady(fake, app);
    const msg = await postedMenu(fake, app, channelId);
    const click = fake.clickButton({ messageId: msg.id, customId: 'astra:buy:1', userId: buyer.id });
    const ev = await c.dispatch('INTERACTION_CREATE');
    const i = ev.d;
    eq([i.id, i.type, i.data.custom_id, i.member.user.id, i.message.id, i.version, i.locale], [click.id, 3, 'astra:buy:1', buyer.id, msg.id, 1, 'pt-BR'], 'interaction');
    const modal = { custom_id: 'astra:qty:1', title: 'Quantidade', components: [{ type: 18, label: 'Quantas?', component: { type: 4, custom_id: 'qty', style: 1, min_length: 1, max_length: 3 } }] };
    eq((await api(fake, null, 'POST', `/interactions/${i.id}/${i.token}/callback`, { type: 9, data: modal })).status, 204, 'modal');
    const submit = fake.submitModal({ appId: app.appId, customId: 'astra:qty:1', fields: { qty: '2' }, userId: buyer.id });
    const s = (await c.next((p) => p.t === 'INTERACTION_CREATE' && p.d.id === submit.id, { what: 'modal submit' })).d;
    eq(s.data.components[0].component.value, '2', 'submitted value');
    eq((await api(fake, null, 'POST', `/interactions/${s.id}/${s.token}/callback`, { type: 5, data: { flags: 64 } })).status, 204, 'defer');
    const edit = await api(fake, null, 'PATCH', `/webhooks/${app.appId}/${s.token}/messages/@original`, { content: 'Pedido criado', embeds: [{ title: 'Pedido', description: '2 itens' }] });
    eq([edit.status, edit.body.content, edit.body.flags & 64], [200, 'Pedido criado', 64], 'edit original');
    const fu = await api(fake, null, 'POST', `/webhooks/${app.appId}/${s.token}`, { content: 'Pague com Pix', flags: 64 });
    eq(fu.status, 200, 'follow-up');
    const view = fake.interactions(submit.id);
    eq([view.callback.type, view.original.content, view.followups.length], [5, 'Pedido criado', 1], 'interaction record');
    await c.close();
    fake.assertNoViolations();
  });
});

test('DM to a user with DMs closed is 403 50007', async () => {
  await withFake({}, async ({ fake, app, buyer }) => {
    fake.setDmsClosed(buyer.id, true);
    const dm = await api(fake, app.token, 'POST', '/users/@me/channels', { recipient_id: buyer.id });
    eq([dm.status, dm.body.type], [200, 1], 'DM channel');
    const r = await api(fake, app.token, 'POST', `/channels/${dm.body.id}/messages`, { content: 'Seu produto' });
    eq([r.status, r.body], [403, { message: 'Cannot send messages to this user', code: 50007 }], 'closed DMs');
    fake.setDmsClosed(buyer.id, false);
    const ok = await api(fake, app.token, 'POST', `/channels/${dm.body.id}/messages`, { content: 'Seu produto' });
    eq(ok.status, 200, 'open DMs');
    eq(fake.dmsTo(buyer.id).map((m) => m.content), ['Seu produto'], 'dmsTo');
    fake.assertNoViolations();
  });
});

test('private thread and channel overwrites need the right permissions', async () => {
  await withFake({}, async ({ fake, app, guild, channelId, buyer }) => {
    const th = await api(fake, app.token, 'POST', `/channels/${channelId}/threads`, { name: 'carrinho-1', type: 12, invitable: false, auto_archive_duration: 1440 });
    eq([th.status, th.body.type, th.body.thread_metadata.invitable], [201, 12, false], 'thread');
    eq((await api(fake, app.token, 'PUT', `/channels/${th.body.id}/thread-members/${buyer.id}`)).status, 204, 'add member');
    eq(fake.threadMembers(th.body.id).map((m) => m.user_id).sort(), [app.botUserId, buyer.id].sort(), 'members');
    const cat = fake.createChannel(guild.id, { name: 'Carrinhos', type: 4 });
    const inCat = await api(fake, app.token, 'POST', `/channels/${cat.id}/threads`, { name: 'x', type: 12 });
    eq([inCat.status, inCat.body.code], [400, 50024], 'private threads only in text channels');
    fake.takeViolations('wrong-channel-type');
    // A role without MANAGE_CHANNELS cannot create channels.
    const weak = fake.createApp({ name: 'Fraca' });
    fake.addBotToGuild(weak.appId, guild.id, { permissions: String(1n << 10n) });
    const denied = await api(fake, weak.token, 'POST', `/guilds/${guild.id}/channels`, { name: 'x' });
    eq([denied.status, denied.body.code], [403, 50013], 'missing MANAGE_CHANNELS');
    fake.assertNoViolations();
  });
});

test('restart drops every connection, listens on the same port, sessions stay resumable', async () => {
  await withFake({}, async ({ fake, app }) => {
    const { c, ready } = await connectReady(fake, app);
    const port = fake.port;
    await fake.restart();
    eq((await c.closed).code, 1006, 'connection cut');
    eq(fake.port, port, 'same port');
    const r = gw(fake, '/gateway-resume');
    await r.hello();
    r.send({ op: 6, d: { token: app.token, session_id: ready.d.session_id, seq: c.seq } });
    r.beat(300);
    await r.dispatch('RESUMED');
    eq((await api(fake, app.token, 'GET', '/gateway/bot')).status, 200, 'REST back');
    await r.close();
    fake.assertNoViolations();
  });
});

test('control API over HTTP', async () => {
  await withFake({}, async ({ fake }) => {
    const call = (m, body) => fetch(`${fake.httpBase}/_control/${m}`, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.json());
    const app = await call('createApp', { name: 'Bench' });
    assert(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}$/.test(app.token), app.token);
    eq(Buffer.from(app.token.split('.')[0], 'base64').toString(), app.botUserId, 'token carries the bot user id');
    const user = await call('createUser', { username: 'u' });
    await call('setDmsClosed', [user.id, true]);
    const me = await api(fake, app.token, 'GET', '/users/@me');
    eq(me.body.id, app.botUserId, 'token works');
    eq((await call('requests', { limit: 1 }))[0].path, '/users/@me', 'request log');
  });
});

test('TLS mode: HTTPS and WSS verified with the generated CA', async () => {
  await withFake({ tls: true }, async ({ fake, app }) => {
    assert(fake.apiBase.startsWith('https://127.0.0.1:') && fs.existsSync(fake.caFile), fake.apiBase);
    const ca = fs.readFileSync(fake.caFile);
    const get = (opts) => new Promise((resolve, reject) => {
      const req = https.request(`${fake.apiBase}/gateway/bot`, { headers: { Authorization: `Bot ${app.token}`, 'User-Agent': UA }, ...opts }, (res) => {
        let body = '';
        res.on('data', (d) => { body += d; });
        res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(body) }));
      });
      req.on('error', reject);
      req.end();
    });
    const r = await get({ ca });
    eq(r.status, 200, 'HTTPS with the CA');
    assert(r.body.url.startsWith('wss://127.0.0.1:'), r.body.url);
    let untrusted = null;
    await get({}).catch((e) => { untrusted = e; });
    assert(untrusted && /self.signed|unable to verify|certificate/i.test(untrusted.message), `no CA must fail: ${untrusted?.message}`);
    const c = new GatewayClient(`${r.body.url}/?v=10&encoding=json`, { ca });
    await c.hello();
    c.identify(app.token);
    c.beat(300);
    await c.dispatch('READY');
    await c.close();
    fake.assertNoViolations();
  });
});
