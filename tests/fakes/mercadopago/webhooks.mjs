// Webhook notifications, as reference/payments.md §1.7 describes them: POST to the payment's
// notification_url with `?data.id=<id>&type=payment`, the JSON body of the `payment` topic,
// `x-request-id`, `x-signature: ts=<ms>,v1=<hmac>`, `X-Retry`, `X-Socket-Timeout: 22000`; success
// is HTTP 200 or 201 within 22 s; otherwise retried on a schedule (15 min, then longer). Plus
// the legacy IPN (`?topic=payment&id=<id>`, unsigned) when the URL lacks source_news=webhooks,
// and the misbehaving variants of §5 for the receiver's tests.
import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { signWebhook } from './signature.mjs';
import { mpDate } from './payments.mjs';

// Delays before retry n (ms): "every 15 minutes … After the third attempt, the interval will be
// extended, but the attempts will continue" (§1.7). How much longer and for how long is not
// documented: doubling from 1 h, 8 attempts in all, is this fake's choice.
export const RETRY_DELAYS_MS = [15, 15, 15, 60, 120, 240, 480].map((m) => m * 60000);

// variant → how the notification is built. `retry`: whether a failed attempt is retried (MP
// retries its own notifications; a forgery or a replay is one request).
export const VARIANTS = {
  normal:             { retry: true },
  duplicate:          { retry: true },   // the same notification (same id, request id, signature) twice
  outOfOrder:         { retry: true },   // payment.updated, then an older payment.created
  noRequestId:        { retry: true },   // no x-request-id: the manifest omits the pair
  tsSeconds:          { retry: true },   // ts in seconds (the payments page's own example)
  ipn:                { retry: true },   // legacy IPN: ?topic=payment&id=<id>, no signature
  unknownPayment:     { retry: false },  // a well-signed notification for a payment that does not exist
  uppercaseId:        { retry: false },  // alphanumeric upper-case data.id, signed as sent
  lowercaseSigned:    { retry: false },  // upper-case data.id, signed over its lower-case form (Orders docs)
  stale:              { retry: false },  // well signed, ts an hour old (a replay)
  forged:             { retry: false },  // signed with another secret
  tamperedId:         { retry: false },  // data.id in the query changed after signing
  noSignature:        { retry: false },  // no x-signature header
  malformedSignature: { retry: false },  // x-signature without v1
};

const isAck = (status) => status === 200 || status === 201;
// Another payment's id, as an attacker replaying a signed notification for a new id would send.
const tamper = (id) => (/^\d+$/.test(id) ? String(BigInt(id) + 1n) : `${id}X`);

export class Webhooks {
  constructor(fake) {
    this.fake = fake;
    this.list = [];
    this.timers = new Set();
    this.inflight = new Set();
    this.nextNotificationId = BigInt(fake.opts.firstNotificationId);
    this.muted = false;
  }

  get opts() { return this.fake.opts; }

  // A payment changed (or was created): what MP does on its own.
  notify(p, action) {
    const url = p.body.notification_url;
    if (!url || this.muted) return [];
    const out = [this.start(this.build(p.id, url, { action, variant: 'normal' }), true)];
    if (this.opts.ipn && !new URL(url).searchParams.has('source_news')) {
      out.push(this.start(this.build(p.id, url, { action, variant: 'ipn' }), true));
    }
    return out;
  }

  // Control: one notification of the given variant for paymentId (which must exist, except
  // that `url` may be given). Resolves once the first attempt(s) finished.
  async send(paymentId, { variant = 'normal', action = 'payment.updated', retry, url, dataId } = {}) {
    if (!VARIANTS[variant]) throw new Error(`unknown webhook variant ${variant}; known: ${Object.keys(VARIANTS).join(', ')}`);
    const p = this.fake.store.get(paymentId);
    const target = url || p?.body.notification_url;
    if (!target) throw new Error(`payment ${paymentId} has no notification_url (pass url)`);
    const doRetry = retry ?? VARIANTS[variant].retry;
    let id = dataId ?? String(paymentId);
    if (variant === 'unknownPayment') id = dataId ?? String(BigInt(this.fake.store.nextId) + 1000000n);
    if (variant === 'uppercaseId' || variant === 'lowercaseSigned') id = dataId ?? `ORD01${crypto.randomBytes(10).toString('hex').toUpperCase()}`;

    if (variant === 'duplicate') {
      const d = this.build(id, target, { action, variant });
      const first = await this.start(d, doRetry).firstAttempt;
      const again = { ...d, id: this.list.length + 1, duplicateOf: d.id, attempts: [], state: 'pending' };
      this.list.push(again);
      await this.start(again, doRetry, { reuse: true }).firstAttempt;
      return [first, this.view(again)];
    }
    if (variant === 'outOfOrder') {
      const upd = this.build(id, target, { action: 'payment.updated', variant });
      await this.start(upd, doRetry).firstAttempt;
      const crt = this.build(id, target, { action: 'payment.created', variant });
      await this.start(crt, doRetry).firstAttempt;
      return [this.view(upd), this.view(crt)];
    }
    const d = this.build(id, target, { action, variant });
    await this.start(d, doRetry).firstAttempt;
    return [this.view(d)];
  }

  // A delivery record: the notification (URL, headers but the signature, body) and attempts.
  build(dataId, notificationUrl, { action, variant }) {
    const now = this.fake.now();
    const d = {
      id: this.list.length + 1, variant, paymentId: String(dataId), action,
      notificationId: Number(this.nextNotificationId++),
      requestId: variant === 'noRequestId' || variant === 'ipn' ? null : crypto.randomUUID(),
      url: null, body: null, createdAt: now, attempts: [], state: 'pending',
    };
    const u = new URL(notificationUrl);
    if (variant === 'ipn') {
      u.searchParams.set('topic', 'payment');
      u.searchParams.set('id', d.paymentId);
      // The IPN body is not in the reference: {resource, topic} as MP's IPN posts carry it.
      d.body = JSON.stringify({ resource: d.paymentId, topic: 'payment' });
    } else {
      u.searchParams.set('data.id', variant === 'tamperedId' ? tamper(d.paymentId) : d.paymentId);
      u.searchParams.set('type', 'payment');
      d.body = JSON.stringify({
        id: d.notificationId, live_mode: false, type: 'payment', date_created: mpDate(now),
        user_id: this.opts.userId, api_version: 'v1', action, data: { id: d.paymentId },
      });
    }
    d.url = u.toString();
    this.list.push(d);
    return d;
  }

  // Headers for one attempt; the signature is recomputed with the attempt's own ts.
  headers(d, attempt, reuse) {
    const h = {
      'Content-Type': 'application/json',
      'User-Agent': 'restclient-node/4.15.3',
      'X-Retry': String(attempt),
      'X-Socket-Timeout': String(this.opts.webhookTimeoutMs),
    };
    if (d.requestId) h['X-Request-Id'] = d.requestId;
    if (d.variant === 'ipn' || d.variant === 'noSignature') return h;
    if (reuse && d.signature) { h['X-Signature'] = d.signature; return h; }
    const nowMs = this.fake.now();
    let ts = String(nowMs);
    if (d.variant === 'tsSeconds') ts = String(Math.floor(nowMs / 1000));
    if (d.variant === 'stale') ts = String(nowMs - this.opts.staleMs);
    let secret = this.opts.webhookSecret, signedId = d.paymentId;
    if (d.variant === 'forged') secret = `${secret}-forged`;
    if (d.variant === 'lowercaseSigned') signedId = d.paymentId.toLowerCase();
    const sig = signWebhook({ secret, dataId: signedId, requestId: d.requestId, ts });
    h['X-Signature'] = d.variant === 'malformedSignature' ? `ts=${ts}` : sig.header;
    d.signature = h['X-Signature'];
    return h;
  }

  // Sends attempt 0 now and schedules the retries. → { firstAttempt: Promise<delivery view> }.
  start(d, retry, { reuse = false } = {}) {
    const run = async (n) => {
      if (this.fake.closed) return;
      const headers = this.headers(d, n, reuse && n === 0);
      const a = await this.post(d.url, headers, d.body);
      d.attempts.push({ n, at: a.at, status: a.status, error: a.error, ms: a.ms, headers, response: a.response });
      if (a.status >= 200 && a.status < 300 && !isAck(a.status)) {
        this.fake.violation('webhook-ack-status', `webhook answered ${a.status}: MP counts only 200 or 201 as received`, { delivery: d.id });
      }
      if (isAck(a.status)) { d.state = 'delivered'; return; }
      const delays = this.opts.webhookRetryDelaysMs;
      if (!retry || n >= delays.length) { d.state = retry ? 'gave_up' : 'failed'; return; }
      d.state = 'retrying';
      const t = setTimeout(() => { this.timers.delete(t); run(n + 1); }, delays[n] * this.opts.webhookTimeScale);
      this.timers.add(t);
    };
    return { firstAttempt: run(0).then(() => this.view(d)) };
  }

  post(url, headers, body) {
    const started = Date.now();
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const buf = Buffer.from(body);
    return new Promise((resolve) => {
      let done = false;
      const finish = (r) => { if (!done) { done = true; this.inflight.delete(req); resolve({ at: started, ms: Date.now() - started, ...r }); } };
      const req = mod.request(u, {
        method: 'POST', headers: { ...headers, 'Content-Length': buf.length },
        timeout: this.opts.webhookTimeoutMs, ca: this.opts.webhookCa, rejectUnauthorized: !!this.opts.webhookCa,
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => finish({ status: res.statusCode, response: Buffer.concat(chunks).toString('utf8').slice(0, 2000) }));
        res.on('error', (e) => finish({ status: 0, error: e.message }));
      });
      req.on('timeout', () => { req.destroy(new Error('timeout')); });
      req.on('error', (e) => finish({ status: 0, error: e.message }));
      this.inflight.add(req);
      req.end(buf);
    });
  }

  view(d) { return JSON.parse(JSON.stringify(d)); }

  deliveries({ paymentId, variant, state } = {}) {
    return this.list.filter((d) => (!paymentId || d.paymentId === String(paymentId))
      && (!variant || d.variant === variant) && (!state || d.state === state)).map((d) => this.view(d));
  }

  close() {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const r of this.inflight) r.destroy();
  }
}
