// Fake Mercado Pago for astrad's end-to-end tests: the Payments API for Pix (create, get,
// cancel, refunds), signed webhooks with MP's retries, and a control API, on one HTTP(S) server
// on 127.0.0.1. It follows shared/reference/payments.md §1 and §5 strictly: what MP would reject
// is rejected the same way (MP's status and error body) and recorded as a violation; a test
// ends with fake.assertNoViolations().
//
//   import { startFakeMercadoPago } from '../fakes/mercadopago/server.mjs';
//   const mp = await startFakeMercadoPago({ accessToken: 'APP_USR-test', webhookSecret: 's3cret' });
//   daemon env: MERCADOPAGO_API_BASE=mp.apiBase, MERCADOPAGO_ACCESS_TOKEN, MERCADOPAGO_WEBHOOK_SECRET
//   mp.approve(paymentId)  → payment.updated webhook to its notification_url
//
// As a child process (C tests, benchmarks): cli.mjs; then POST /_control/<method>.
import http from 'node:http';
import https from 'node:https';
import { makeCertificates } from '../discord/tls.mjs';
import { Payments } from './payments.mjs';
import { Webhooks, RETRY_DELAYS_MS } from './webhooks.mjs';
import { handleApi } from './api.mjs';
import { handleControl } from './control.mjs';

export { signWebhook, verifyWebhook, buildManifest, WORKED_EXAMPLES } from './signature.mjs';

export const DEFAULTS = {
  tls: false,
  host: '127.0.0.1',
  port: 0,
  accessToken: 'APP_USR-0000000000000000-000000-00000000000000000000000000000000-000000000',
  webhookSecret: 'fake-mp-webhook-secret',
  userId: 2025701502,                   // the collector: body user_id, payment collector_id
  firstPaymentId: '130000000001',       // > 2^32, so that an int32 in the client shows
  firstRefundId: '4100000001',
  firstNotificationId: '120000000001',
  webhookTimeoutMs: 22000,              // MP waits 22 s for 200/201 (§1.7)
  webhookRetryDelaysMs: RETRY_DELAYS_MS,
  webhookTimeScale: 1,                  // multiplies the retry delays (0.001: 15 min → 0.9 s)
  webhookCa: undefined,                 // CA (PEM) to verify an https notification_url
  notifyOnCreate: true,                 // payment.created when a payment is created
  ipn: true,                            // also the legacy IPN when notification_url lacks source_news
  staleMs: 3600 * 1000,                 // how old the `stale` variant's ts is
  requireFields: [],                    // fields MP accepts without but the test expects (violation only)
  expirySweepMs: 250,                   // how often pending payments are checked for date_of_expiration
  maxRequestLog: 50000,
};

export async function startFakeMercadoPago(opts = {}) {
  const fake = new FakeMercadoPago(opts);
  await fake.start();
  return fake;
}

export class FakeMercadoPago {
  constructor(opts = {}) {
    this.opts = { ...DEFAULTS };
    for (const [k, v] of Object.entries(opts)) if (v !== undefined) this.opts[k] = v;
    this.log = [];
    this.violationList = [];
    this.faults = [];
    this.delayMs = 0;
    this.clockOffsetMs = 0;
    this.sockets = new Set();
    this.held = new Set();            // responses a timeout fault never answers
    this.caFile = null;
    this.closed = false;
  }

  async start() {
    if (this.opts.tls) {
      this.certs = await makeCertificates();
      this.caFile = this.certs.caFile;
      this.server = https.createServer({ key: this.certs.key, cert: this.certs.cert });
    } else {
      this.server = http.createServer();
    }
    this.server.on('request', (req, res) => this.onRequest(req, res));
    this.server.on('connection', (sock) => {
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
      sock.on('error', () => {});
    });
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => { this.server.off('error', reject); resolve(); });
    });
    this.port = this.server.address().port;
    this.httpBase = `http${this.opts.tls ? 's' : ''}://${this.opts.host}:${this.port}`;
    this.apiBase = this.httpBase;    // like https://api.mercadopago.com: paths start with /v1/
    this.controlBase = `${this.httpBase}/_control/`;
    this.store = new Payments({
      firstPaymentId: this.opts.firstPaymentId, firstRefundId: this.opts.firstRefundId,
      collectorId: this.opts.userId, httpBase: this.httpBase,
    });
    this.webhooks = new Webhooks(this);
    this.sweeper = setInterval(() => this.expireDue(), this.opts.expirySweepMs);
    this.sweeper.unref();
    return this;
  }

  onRequest(req, res) {
    const url = new URL(req.url, this.httpBase);
    const fail = (e) => {
      console.error('# fake-mercadopago: request failed', e);
      if (!res.headersSent) { res.writeHead(500); res.end(); }
    };
    if (url.pathname.startsWith('/_control/')) {
      handleControl(this, req, res, url.pathname.slice('/_control/'.length)).catch(fail);
      return;
    }
    const ticket = /^\/payments\/(\d+)\/ticket$/.exec(url.pathname);
    if (ticket && req.method === 'GET') return this.serveTicket(ticket[1], res);
    handleApi(this, req, res, url).catch(fail);
  }

  // The hosted page `ticket_url` points at: the QR code and the copia-e-cola, nothing more.
  serveTicket(id, res) {
    const p = this.store.get(id);
    if (!p) { res.writeHead(404, { 'Content-Type': 'text/plain' }); res.end('not found'); return; }
    const html = `<!doctype html><meta charset="utf-8"><title>Pix ${id}</title>`
      + `<img alt="QR" src="data:image/png;base64,${p.qrPng}"><pre>${p.qrCode}</pre><p>${p.status}</p>`;
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    this.webhooks.close();
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(() => resolve()));
    this.certs?.cleanup();
  }

  // The fake's clock: Date.now() shifted by advanceTime(), for expiry without waiting.
  now() { return Date.now() + this.clockOffsetMs; }

  // ---- violations and the request log ----

  violation(kind, message, extra = {}) {
    const v = { kind, message, at: Date.now(), ...extra };
    this.violationList.push(v);
    if (process.env.FAKE_MP_DEBUG) console.error(`# fake-mercadopago violation [${kind}] ${message}`);
    return v;
  }

  violations() { return this.violationList.map((v) => ({ ...v })); }

  assertNoViolations() {
    const list = this.violationList;
    if (!list.length) return;
    const lines = list.slice(0, 30).map((v) => `  [${v.kind}] ${v.message}`);
    if (list.length > 30) lines.push(`  ... and ${list.length - 30} more`);
    throw new Error(`fake Mercado Pago saw ${list.length} rule violation(s):\n${lines.join('\n')}`);
  }

  // Removes and returns the violations matching `kind` (string, RegExp or predicate; none: all),
  // for a test that provokes some on purpose.
  takeViolations(kind) {
    const test = typeof kind === 'function' ? kind : kind instanceof RegExp ? (v) => kind.test(v.kind) : kind ? (v) => v.kind === kind : () => true;
    const taken = this.violationList.filter(test);
    this.violationList = this.violationList.filter((v) => !test(v));
    return taken;
  }

  clearViolations() { return this.takeViolations(); }

  recordRequest(entry) {
    this.log.push(entry);
    const max = this.opts.maxRequestLog;
    if (this.log.length > max + Math.max(100, max >> 3)) this.log.splice(0, this.log.length - max);
  }

  // Every API request: {at, method, path, query, route, status, idempotencyKey, auth, body,
  // fault, ms}; filters: since (ms), method, route, status, limit (newest last).
  requests({ since, method, route, status, limit } = {}) {
    let list = this.log;
    if (since) list = list.filter((r) => r.at >= since);
    if (method) list = list.filter((r) => r.method === method);
    if (route) list = list.filter((r) => r.route === route);
    if (status) list = list.filter((r) => r.status === status);
    if (limit) list = list.slice(-limit);
    return list.map((r) => ({ ...r }));
  }

  stats() {
    return { requests: this.log.length, violations: this.violationList.length, payments: this.store.byId.size,
      deliveries: this.webhooks.list.length, pendingDeliveries: this.webhooks.list.filter((d) => d.state === 'pending' || d.state === 'retrying').length };
  }

  // ---- reading payments ----

  payment(id) {
    const p = this.store.get(id);
    return p ? this.store.json(p) : null;
  }

  // Every payment, oldest first, as GET /v1/payments/{id} shows it.
  payments() { return [...this.store.byId.values()].map((p) => this.store.json(p)); }

  // ---- changing payments (each sends payment.updated, as MP does) ----

  change(id, status, detail, { notify = true } = {}) {
    if (status === 'pending') this.nextExpiry = undefined; // back to pending: walk again
    const p = this.store.need(id);
    this.store.setStatus(p, status, detail, this.now());
    if (notify) this.webhooks.notify(p, 'payment.updated');
    return this.store.json(p);
  }

  // The buyer paid. `force`: also from cancelled/expired (a Pix paid late, which the daemon
  // must still honour); otherwise only a pending payment can be approved.
  approve(id, { force = false } = {}) {
    const p = this.store.need(id);
    if (p.status !== 'pending' && !(force && p.status === 'cancelled')) {
      throw new Error(`payment ${id} is ${p.status}, not pending`);
    }
    return this.change(id, 'approved', 'accredited');
  }

  reject(id, { detail = 'bank_error' } = {}) {
    this.needPending(id);
    return this.change(id, 'rejected', detail);
  }

  // date_of_expiration reached (or forced now): cancelled/expired.
  expire(id) {
    this.needPending(id);
    return this.change(id, 'cancelled', 'expired');
  }

  cancel(id) {
    this.needPending(id);
    return this.change(id, 'cancelled', 'by_collector');
  }

  // As if refunded from MP's panel: the same rules as the API. → the refund object.
  refund(id, { amount } = {}) {
    const p = this.store.need(id);
    const r = this.store.refund(p, amount, this.now());
    if (r.error) throw new Error(`cannot refund payment ${id}: ${r.error === 'state' ? `it is ${p.status}` : 'bad amount'}`);
    this.webhooks.notify(p, 'payment.updated');
    return r.refund;
  }

  chargeback(id) {
    const p = this.store.need(id);
    if (p.status !== 'approved') throw new Error(`payment ${id} is ${p.status}, not approved`);
    return this.change(id, 'charged_back', 'settled');
  }

  // Any status and status_detail (detail defaults per §1.2's table); no checks.
  setStatus(id, status, detail, opts) { return this.change(id, status, detail, opts); }

  needPending(id) {
    const p = this.store.need(id);
    if (p.status !== 'pending') throw new Error(`payment ${id} is ${p.status}, not pending`);
    return p;
  }

  // Pending payments past date_of_expiration become cancelled/expired. Every API request
  // calls this; the full walk runs only when the earliest pending expiry seen by the last walk
  // has come (or a new payment may expire sooner: create() lowers nextExpiry), so that a fake
  // holding many payments stays cheap per request (benchmarks).
  expireDue({ force = false } = {}) {
    const now = this.now();
    if (!force && this.nextExpiry !== undefined && now < this.nextExpiry) return;
    let next = Infinity;
    for (const p of this.store.byId.values()) {
      if (p.status !== 'pending') continue;
      if (p.expiresAt <= now) this.change(p.id, 'cancelled', 'expired');
      else if (p.expiresAt < next) next = p.expiresAt;
    }
    this.nextExpiry = next;
  }

  advanceTime(ms) {
    this.clockOffsetMs += Number(ms);
    this.expireDue({ force: true });
    return { now: this.now() };
  }

  // ---- webhooks ----

  sendWebhook(paymentId, opts) { return this.webhooks.send(paymentId, opts); }
  deliveries(filter) { return this.webhooks.deliveries(filter); }
  // While muted, payment changes send no notification (a lost webhook; reconciliation must find it).
  muteWebhooks(on = true) { this.webhooks.muted = !!on; }

  // ---- faults ----

  // The next `count` API requests matching method/path (path: exact, `prefix*`, or RegExp)
  // answer `status` (500, 429, …) in MP's error shape. `after`: the request is carried out
  // first and only its answer is lost (a retry with the same idempotency key must find it).
  failNext({ status = 500, count = 1, method, path, after = false } = {}) {
    this.faults.push({ kind: 'status', status, count, method, path, after });
  }

  // The next `count` matching requests get no answer at all (the connection stays open until the
  // client gives up). `after`: carried out first.
  timeoutNext({ count = 1, method, path, after = false } = {}) {
    this.faults.push({ kind: 'hang', count, method, path, after });
  }

  // Every API answer waits `ms` first (0: off).
  setDelay(ms) { this.delayMs = Number(ms) || 0; }

  takeFault(method, path) {
    const match = (f) => (!f.method || f.method === method) && (!f.path
      || (f.path instanceof RegExp ? f.path.test(path) : f.path.endsWith('*') ? path.startsWith(f.path.slice(0, -1)) : f.path === path));
    const f = this.faults.find(match);
    if (!f) return null;
    if (--f.count <= 0) this.faults.splice(this.faults.indexOf(f), 1);
    return f;
  }
}
