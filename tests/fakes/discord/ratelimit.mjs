// REST rate limits as developers/topics/rate-limits.mdx describes them: per-route buckets keyed
// by route + top-level resource (channel_id, guild_id, webhook_id+token) and per bot token,
// X-RateLimit-* headers on every answer, real 429s (body {message, retry_after, global},
// Retry-After, X-RateLimit-Scope), the 50 req/s global limit (interaction endpoints excluded),
// and the invalid-request limit (401/403/429, 10,000 per 10 minutes per IP, then a ban).
//
// A 429 is the bot's fault only when it could have known: it sent on a bucket after we had
// answered Remaining: 0 for that window, or before the Retry-After of a 429 had passed. Those
// are recorded as violations; a 429 the bot could not have foreseen is not.
import crypto from 'node:crypto';
import { shape } from './validate.mjs';

export class RateLimiter {
  constructor(opts, violation) {
    this.opts = opts;
    this.violation = violation;
    this.limits = new Map();      // `${METHOD} ${shape}` -> {limit, resetAfterMs}
    this.buckets = new Map();     // `${appKey}|${hash}|${major}` -> window state
    this.global = new Map();      // appKey -> {start, count}
    this.globalBlocked = new Map(); // appKey -> until (ms) after a global 429
    this.forced = [];             // rules from rateLimit()
    this.invalid = [];            // times of 401/403/429 answers (queue)
    this.invalidHead = 0;
    this.bannedUntil = 0;
    this.sweeper = setInterval(() => this.sweep(), 30000);
    this.sweeper.unref();
  }

  close() { clearInterval(this.sweeper); }

  // route: "POST /channels/{channel_id}/messages" (parameter names do not matter).
  setBucketLimit(route, limit, resetAfterSec) {
    const [method, template] = String(route).trim().split(/\s+/, 2);
    if (!template) throw new Error(`setBucketLimit: route must be "METHOD /path/{param}", got ${route}`);
    this.limits.set(`${method.toUpperCase()} ${shape(template)}`, { limit: Number(limit), resetAfterMs: Number(resetAfterSec) * 1000 });
  }

  limitFor(route) {
    return this.limits.get(`${route.method} ${shape(route.template)}`) || route.bucket;
  }

  static hash(route) {
    return crypto.createHash('md5').update(`${route.method} ${shape(route.template)}`).digest('hex');
  }

  // rule: {method, path, count, global, retryAfter, scope, appId}; path is a concrete path
  // ("/channels/1/messages"), a template ("/channels/{channel_id}/messages"), a prefix ending
  // in "*", or a RegExp, relative to /api/v10.
  addForced(rule) {
    const r = { method: (rule.method || '*').toUpperCase(), path: rule.path ?? '*', count: rule.count ?? 1,
      global: !!rule.global, retryAfter: rule.retryAfter ?? 1, scope: rule.scope || (rule.global ? 'global' : 'user'),
      appId: rule.appId || null };
    if (typeof r.path === 'string' && r.path.startsWith('/api/v10')) r.path = r.path.slice(7);
    this.forced.push(r);
  }

  matchForced(req) {
    for (const r of this.forced) {
      if (r.count <= 0) continue;
      if (r.method !== '*' && r.method !== req.method) continue;
      if (r.appId && r.appId !== req.app?.id) continue;
      const p = r.path;
      const ok = p instanceof RegExp ? p.test(req.path)
        : p === '*' || p === req.path || shape(p) === shape(req.route.template)
          || (p.endsWith('*') && req.path.startsWith(p.slice(0, -1)));
      if (ok) { r.count--; return r; }
    }
    return null;
  }

  // Decides whether the request goes through. Returns {limited: null | {status, headers, body}, headers, bucket}.
  // req: {app, method, path, route, params, arrivedAt}
  check(req) {
    const now = Date.now();
    const appKey = req.app ? req.app.id : 'ip';
    const route = req.route;
    const exempt = !!route.noGlobal;

    // Inside a global 429's Retry-After: the bot ignored it (unless it sent before that 429
    // reached it).
    const gb = this.globalBlocked.get(appKey);
    if (!exempt && gb && now < gb.until) {
      if (this.knew(gb.sentAt, req)) this.violation('rate-limit-ignored', `sent ${req.method} ${req.path} during a global 429's Retry-After`, req);
      return { limited: this.global429(gb, now, 'global') };
    }

    const lim = this.limitFor(route);
    const major = route.major ? route.major.map((k) => req.params[k]).join('/') : '';
    const hash = RateLimiter.hash(route);
    const key = `${appKey}|${hash}|${major}`;
    let b = this.buckets.get(key);
    if (!b || now >= b.resetAt) {
      b = { limit: lim.limit, resetAfterMs: lim.resetAfterMs, resetAt: now + lim.resetAfterMs, count: 0,
        zeroSentAt: null, blockedUntil: b?.blockedUntil || 0, blockSentAt: b?.blockSentAt ?? null, hash };
      this.buckets.set(key, b);
    }

    if (now < b.blockedUntil) {
      if (this.knew(b.blockSentAt, req)) this.violation('rate-limit-ignored', `sent ${req.method} ${req.path} before the Retry-After of its 429 had passed`, req);
      return { limited: this.bucket429(b, now, b.blockedUntil - now, 'user') };
    }

    const forced = this.matchForced(req);
    if (forced) {
      const ms = forced.retryAfter * 1000;
      if (forced.global) {
        const block = { until: now + ms, sentAt: null };
        this.globalBlocked.set(appKey, block);
        return { limited: this.global429(block, now, forced.scope) };
      }
      b.blockedUntil = now + ms;
      b.blockSentAt = null;
      return { limited: { ...this.bucket429(b, now, ms, forced.scope), block: b } };
    }

    if (!exempt) {
      let g = this.global.get(appKey);
      if (!g || now - g.start >= 1000) { g = { start: now, count: 0 }; this.global.set(appKey, g); }
      if (g.count >= this.opts.globalLimit) {
        const block = { until: g.start + 1000, sentAt: null };
        this.globalBlocked.set(appKey, block);
        return { limited: this.global429(block, now, 'global') };
      }
      g.count++;
    }

    if (b.count >= b.limit) {
      // The bot was told Remaining: 0 for this window (allowing for a response still in flight).
      if (this.knew(b.zeroSentAt, req)) {
        this.violation('rate-limit-ignored', `sent ${req.method} ${req.path} on an exhausted bucket (X-RateLimit-Remaining: 0, resets in ${((b.resetAt - now) / 1000).toFixed(3)} s)`, req);
      }
      return { limited: this.bucket429(b, now, b.resetAt - now, 'user') };
    }
    b.count++;
    return { limited: null, headers: this.headers(b, now), bucket: b };
  }

  // Whether an answer written at `sentAt` had time to reach the bot before it sent `req`.
  knew(sentAt, req) {
    return sentAt !== null && sentAt !== undefined && req.arrivedAt - sentAt > this.opts.rateLimitGraceMs;
  }

  // Called once an answer is written (result = what check() returned, or its `limited`): from
  // then on the bot knows the bucket is empty or blocked.
  sent(result) {
    if (!result) return;
    const now = Date.now();
    const b = result.bucket;
    if (b && b.count >= b.limit && b.zeroSentAt === null) b.zeroSentAt = now;
    if (result.block && result.block.blockSentAt === null) result.block.blockSentAt = now;
    if (result.globalBlock && result.globalBlock.sentAt === null) result.globalBlock.sentAt = now;
  }

  headers(b, now, remaining = b.limit - b.count) {
    const after = Math.max(0, b.resetAt - now) / 1000;
    return {
      'X-RateLimit-Limit': String(b.limit),
      'X-RateLimit-Remaining': String(Math.max(0, remaining)),
      'X-RateLimit-Reset': ((b.resetAt) / 1000).toFixed(3),
      'X-RateLimit-Reset-After': after.toFixed(3),
      'X-RateLimit-Bucket': b.hash,
    };
  }

  bucket429(b, now, waitMs, scope) {
    const retry = Math.max(0, waitMs) / 1000;
    const h = this.headers(b, now, 0);
    h['X-RateLimit-Reset-After'] = retry.toFixed(3);
    h['X-RateLimit-Reset'] = ((now + waitMs) / 1000).toFixed(3);
    h['Retry-After'] = String(Math.ceil(retry));
    h['X-RateLimit-Scope'] = scope;
    const body = { message: scope === 'shared' ? 'The resource is being rate limited.' : 'You are being rate limited.',
      retry_after: Number(retry.toFixed(3)), global: false };
    return { status: 429, headers: h, body, scope, bucket: b };
  }

  global429(block, now, scope) {
    const retry = Math.max(0, block.until - now) / 1000;
    return { status: 429, scope, globalBlock: block, headers: { 'Retry-After': String(Math.ceil(retry)), 'X-RateLimit-Global': 'true', 'X-RateLimit-Scope': scope },
      body: { message: 'You are being rate limited.', retry_after: Number(retry.toFixed(3)), global: true } };
  }

  // Invalid requests: 401, 403 and 429 (except Scope: shared) count toward the IP's ban.
  countInvalid(status, scope) {
    if (!(status === 401 || status === 403 || (status === 429 && scope !== 'shared'))) return;
    const now = Date.now();
    this.invalid.push(now);
    while (this.invalidHead < this.invalid.length && now - this.invalid[this.invalidHead] > 600000) this.invalidHead++;
    if (this.invalidHead > 4096) { this.invalid = this.invalid.slice(this.invalidHead); this.invalidHead = 0; }
    const n = this.invalid.length - this.invalidHead;
    if (n >= this.opts.invalidRequestLimit && now >= this.bannedUntil) {
      this.bannedUntil = now + this.opts.invalidRequestBanMs;
      this.violation('invalid-request-limit', `${n} invalid (401/403/429) requests in 10 minutes: Cloudflare would ban this IP`, null);
    }
  }

  banned() { return Date.now() < this.bannedUntil; }

  sweep() {
    const now = Date.now();
    for (const [k, b] of this.buckets) if (now - b.resetAt > 60000 && now > b.blockedUntil) this.buckets.delete(k);
    for (const [k, g] of this.global) if (now - g.start > 5000) this.global.delete(k);
    for (const [k, u] of this.globalBlocked) if (now > u.until) this.globalBlocked.delete(k);
  }
}
