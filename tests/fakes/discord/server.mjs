// Fake Discord for astrad's end-to-end tests: REST (/api/v10), the gateway (/gateway and
// /gateway-resume) and a control API, on one HTTP(S) server on 127.0.0.1. It follows Discord's
// rules strictly (reference/discord.md, the OpenAPI spec, developers/ docs): what Discord would
// reject is rejected the same way and recorded in fake.violations.
//
//   import { startFakeDiscord } from '../fakes/discord/server.mjs';
//   const fake = await startFakeDiscord({ tls: false, heartbeatInterval: 1000 });
//   daemon env: DISCORD_API_BASE=fake.apiBase (TLS_CA_FILE=fake.caFile with tls: true)
//
// As a child process (benchmarks, scripts): cli.mjs; then drive it with POST /_control/<method>.
import http from 'node:http';
import https from 'node:https';
import { State } from './state.mjs';
import { Gateway } from './gateway.mjs';
import { Rest } from './rest.mjs';
import { buildRoutes } from './routes.mjs';
import { RateLimiter } from './ratelimit.mjs';
import { Interactions } from './interactions.mjs';
import { loadSpec } from './validate.mjs';
import { makeCertificates } from './tls.mjs';
import { handleControl } from './control.mjs';
import { OAuth } from './oauth.mjs';

export const DEFAULTS = {
  tls: false,
  host: '127.0.0.1',
  port: 0,
  openapi: undefined,              // path of openapi.json; false: no schema validation
  heartbeatInterval: 41250,        // ms, sent in Hello
  heartbeatGraceMs: undefined,     // lateness tolerated before closing (default max(1 s, 25 %))
  heartbeatRequestTimeoutMs: 2000, // answer time allowed for a server op 1
  seqGraceMs: 3000,                // a heartbeat may lag a dispatch by this much
  maxConcurrency: 1,               // identifies per identifyWindowMs per rate-limit key
  identifyWindowMs: 5000,
  identifyDailyLimit: 1000,
  sendLimit: 120,                  // gateway events per connection per sendWindowMs
  sendWindowMs: 60000,
  resumeTimeoutMs: 180000,         // how long a disconnected session stays resumable
  reconnectCloseMs: 5000,          // after op 7 / op 9 the server cuts a connection left open
  interactionDeadlineMs: 3000,
  interactionTokenTtlMs: 15 * 60 * 1000,
  globalLimit: 50,                 // REST requests per second per bot
  rateLimitGraceMs: 50,            // in-flight allowance before "ignored the headers"
  invalidRequestLimit: 10000,      // 401/403/429 per 10 min before a Cloudflare ban
  invalidRequestBanMs: 60000,
  maxRequestLog: 50000,
  restartDelayMs: 200,
};

export async function startFakeDiscord(opts = {}) {
  const fake = new FakeDiscord(opts);
  await fake.start();
  return fake;
}

export class FakeDiscord {
  constructor(opts = {}) {
    this.opts = { ...DEFAULTS };
    for (const [k, v] of Object.entries(opts)) if (v !== undefined) this.opts[k] = v;
    this.state = new State();
    this.violations = [];
    this.requests = [];
    this.files = new Map();            // attachment bytes, served under /attachments/
    this.onceKeys = new Set();
    this.spec = loadSpec(this.opts.openapi);
    this.gateway = new Gateway(this);
    this.state.gateway = this.gateway;
    this.ix = new Interactions(this);
    this.limiter = new RateLimiter(this.opts, (kind, message, req) =>
      this.violation(kind, message, { appId: req?.app?.id ?? null, method: req?.method, path: req?.path }));
    this.rest = new Rest(this, buildRoutes(this));
    this.oauth = new OAuth(this);
    this.sockets = new Set();
    this.caFile = null;
  }

  async start() {
    if (this.opts.tls) {
      this.certs = await makeCertificates();
      this.caFile = this.certs.caFile;
      this.server = https.createServer({ key: this.certs.key, cert: this.certs.cert });
    } else {
      this.server = http.createServer();
    }
    this.server.keepAliveTimeout = 30000;
    this.server.on('request', (req, res) => this.onRequest(req, res));
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    // Every TCP connection, so that restart() and close() can cut them all.
    this.server.on('connection', (sock) => {
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
      sock.on('error', () => {});
    });
    await this.listen(this.opts.port);
    this.port = this.server.address().port;
    const s = this.opts.tls ? 's' : '';
    this.httpBase = `http${s}://${this.opts.host}:${this.port}`;
    this.apiBase = `${this.httpBase}/api/v10`;
    this.wsBase = `ws${s}://${this.opts.host}:${this.port}`;
    this.gatewayUrl = `${this.wsBase}/gateway`;
    return this;
  }

  listen(port) {
    return new Promise((resolve, reject) => {
      const onError = (e) => reject(e);
      this.server.once('error', onError);
      this.server.listen(port, this.opts.host, () => { this.server.off('error', onError); resolve(); });
    });
  }

  onRequest(req, res) {
    const url = new URL(req.url, this.httpBase || 'http://127.0.0.1');
    if (url.pathname.startsWith('/_control/')) return handleControl(this, req, res, url.pathname.slice('/_control/'.length));
    if (url.pathname.startsWith('/attachments/') && req.method === 'GET') return this.serveFile(url, res);
    // OAuth2 (oauth.mjs): the consent stand-in, the token endpoint, and /users/@me with a
    // user's Bearer token; bot-token requests to /users/@me stay with the REST pipeline.
    if (this.oauth.handles(req, url)) {
      return this.oauth.handle(req, res, url).catch((e) => {
        console.error('# fake-discord: oauth request failed', e);
        if (!res.headersSent) { res.writeHead(500); res.end(); }
      });
    }
    this.rest.handle(req, res, url).catch((e) => {
      console.error('# fake-discord: request failed', e);
      if (!res.headersSent) { res.writeHead(500); res.end(); }
    });
  }

  onUpgrade(req, socket, head) {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (!/^\/gateway(-resume)?\/?$/.test(url.pathname)) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.gateway.handleUpgrade(req, socket, head, url);
  }

  serveFile(url, res) {
    const [, , ch, id] = url.pathname.split('/');
    const f = this.files.get(`${ch}/${id}`);
    if (!f) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': f.contentType, 'Content-Length': f.data.length });
    res.end(f.data);
  }

  // Drops every websocket and TCP connection at once, stops listening, and listens again on
  // the same port after restartDelayMs. Sessions survive and stay resumable, as at Discord.
  async restart({ delayMs = this.opts.restartDelayMs } = {}) {
    const closed = new Promise((resolve) => this.server.close(() => resolve()));
    this.gateway.dropAll('server-restart');
    for (const s of this.sockets) s.destroy();
    await closed;
    await new Promise((r) => setTimeout(r, delayMs));
    await this.listen(this.port);
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    this.gateway.closeAll();
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(() => resolve()));
    this.limiter.close();
    for (const rec of this.ix.byId.values()) if (rec.waiter) clearTimeout(rec.waiter.timer);
    this.certs?.cleanup();
  }

  // ---- violations and the request log ----

  violation(kind, message, extra = {}) {
    const v = { kind, message, at: Date.now(), ...extra };
    this.violations.push(v);
    if (process.env.FAKE_DISCORD_DEBUG) console.error(`# fake-discord violation [${kind}] ${message}`);
    return v;
  }

  // The same problem repeated on every request (a missing User-Agent) is reported once.
  violationOnce(key, kind, message, extra) {
    if (this.onceKeys.has(key)) return;
    this.onceKeys.add(key);
    this.violation(kind, message, extra);
  }

  assertNoViolations() {
    if (!this.violations.length) return;
    const lines = this.violations.slice(0, 30).map((v) => `  [${v.kind}] ${v.message}${v.errors ? ' ' + JSON.stringify(v.errors).slice(0, 400) : ''}`);
    if (this.violations.length > 30) lines.push(`  ... and ${this.violations.length - 30} more`);
    throw new Error(`fake Discord saw ${this.violations.length} rule violation(s):\n${lines.join('\n')}`);
  }

  // Removes and returns the violations matching `kind` (a string, RegExp or predicate), for a
  // test that provokes some on purpose.
  takeViolations(kind) {
    const test = typeof kind === 'function' ? kind : kind instanceof RegExp ? (v) => kind.test(v.kind) : kind ? (v) => v.kind === kind : () => true;
    const taken = this.violations.filter(test);
    this.violations = this.violations.filter((v) => !test(v));
    return taken;
  }

  clearViolations() { return this.takeViolations(); }

  recordRequest(entry) {
    this.requests.push(entry);
    // Trimmed in batches so that a long benchmark does not pay a splice per request.
    const max = this.opts.maxRequestLog;
    if (this.requests.length > max + Math.max(100, max >> 3)) this.requests.splice(0, this.requests.length - max);
  }

  // ---- world building ----

  createApp({ name, privilegedIntents } = {}) {
    const app = this.state.createApp({ name, privilegedIntents });
    return { token: app.token, appId: app.id, botUserId: app.botUserId, name: app.name };
  }

  // The token stops working for REST (401) and the app's gateway sessions end with 4004.
  revokeToken(token) {
    const app = this.state.revokeToken(token);
    if (app) this.gateway.closeApp(app, 4004, 'Authentication failed.');
    return !!app;
  }

  // Gives the app a new token (the old one is revoked): what a seller does after a reset.
  resetToken(appId) {
    const app = this.needApp(appId);
    if (app.token) this.revokeToken(app.token);
    return this.state.newToken(app);
  }

  createUser({ username = 'buyer', globalName = null } = {}) {
    return this.state.userJson(this.state.createUser({ username, globalName }).id);
  }

  // The email Discord has for a user (sent by /users/@me with the email scope), and whether
  // Discord verified it.
  setUserEmail(userId, email, verified = true) {
    const u = this.state.users.get(userId);
    if (!u) throw new Error(`unknown user ${userId}`);
    u.email = email;
    u.verified = !!verified;
  }

  // ---- OAuth2 (oauth.mjs) ----

  // An OAuth2 application: { clientId, clientSecret } for DISCORD_OAUTH_CLIENT_ID/SECRET.
  createOAuthClient(args) { return this.oauth.createClient(args); }
  // Who approves the consent screen at /oauth2/authorize (null: the user cancels).
  oauthAs(userId) { this.oauth.as(userId); }

  setDmsClosed(userId, closed = true) {
    const u = this.state.users.get(userId);
    if (!u) throw new Error(`unknown user ${userId}`);
    u.dmsClosed = !!closed;
  }

  createGuild(args) { return this.state.createGuild(args); }
  createChannel(guildId, args) { return this.state.createChannel(guildId, args).json(); }
  createRole(guildId, args) { return this.state.createRole(guildId, args); }
  addMember(guildId, userId, args) { return this.state.addMember(guildId, userId, args); }
  addBotToGuild(appId, guildId, args) { return this.state.addBotToGuild(appId, guildId, args); }

  // ---- acting as a user ----

  clickButton(args) { return this.ix.clickButton(args); }
  selectValues(args) { return this.ix.selectValues(args); }
  submitModal(args) { return this.ix.submitModal(args); }
  runCommand(args) { return this.ix.runCommand(args); }

  // ---- reading ----

  messages(channelId) {
    const ch = this.state.channels.get(channelId);
    if (!ch) return [];
    return ch.messageIds.map((id) => this.state.messageView(this.state.messages.get(id)));
  }

  // Every message in the DM channels of this user (with any bot).
  dmsTo(userId) {
    const out = [];
    for (const [key, cid] of this.state.dms) {
      if (key.split(':').includes(userId)) out.push(...this.messages(cid));
    }
    return out.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  }

  interactions(id) { return this.ix.view(id); }

  commands(appId, guildId) {
    const app = this.needApp(appId);
    return JSON.parse(JSON.stringify(guildId ? (app.guildCommands.get(guildId) || []) : app.globalCommands));
  }

  channel(id) {
    const ch = this.state.channels.get(id);
    return ch ? { ...ch.json(), _deleted: ch.deleted } : null;
  }

  threadMembers(threadId) {
    const th = this.state.channels.get(threadId);
    if (!th?.threadMembers) return [];
    return [...th.threadMembers].map(([userId, m]) => ({ id: threadId, user_id: userId, join_timestamp: m.joinTimestamp, flags: 0 }));
  }

  sessions(appId) { return this.gateway.connections(this.needApp(appId)); }
  sessionStats(appId) { return this.gateway.stats(this.needApp(appId)); }

  needApp(appId) {
    const app = this.state.apps.get(appId);
    if (!app) throw new Error(`unknown app ${appId}`);
    return app;
  }

  // ---- faults ----

  gatewayReconnect(appId) { this.gateway.reconnect(this.needApp(appId)); }
  gatewayInvalidSession(appId, resumable = false) { this.gateway.invalidSession(this.needApp(appId), resumable); }
  gatewayClose(appId, code = 4000) { this.gateway.closeApp(this.needApp(appId), code, 'fault injected'); }
  gatewaySilence(appId, on = true) { this.needApp(appId).silenced = !!on; }
  gatewayDrop(appId) { this.gateway.drop(this.needApp(appId)); }
  gatewayHeartbeatRequest(appId) { this.gateway.requestHeartbeat(this.needApp(appId)); }
  // Sends any event to the app's sessions (a guild's shard when guildId is given).
  dispatch(appId, t, d, { guildId = null } = {}) { return this.gateway.toApp(this.needApp(appId), t, () => d, { guildId }); }

  rateLimit(rule) { this.limiter.addForced(rule); }
  setBucketLimit(route, limit, resetAfterSec) { this.limiter.setBucketLimit(route, limit, resetAfterSec); }
}
