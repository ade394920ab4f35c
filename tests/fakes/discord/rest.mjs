// The REST pipeline every /api/v10 request goes through, in Discord's order: route, auth,
// rate limits, body (Content-Type, JSON or multipart), schema validation, handler. It also
// stamps every answer with its bucket's X-RateLimit-* headers, records the request in
// fake.requests, and turns what the bot got wrong into violations (reference/discord.md §2-§4).
import { parseMultipart } from './multipart.mjs';
import { toErrors } from './rules.mjs';
import { shape } from './validate.mjs';

export class ApiError extends Error {
  constructor(status, code, message, errors) {
    super(message);
    this.status = status;
    this.code = code;
    this.errors = errors;
  }
}

// Discord's JSON error answers (topics/opcodes-and-status-codes.mdx §JSON Error Codes).
export const E = {
  unauthorized: () => new ApiError(401, 0, '401: Unauthorized'),
  notFound: () => new ApiError(404, 0, '404: Not Found'),
  methodNotAllowed: () => new ApiError(405, 0, '405: Method Not Allowed'),
  unknownChannel: () => new ApiError(404, 10003, 'Unknown Channel'),
  unknownGuild: () => new ApiError(404, 10004, 'Unknown Guild'),
  unknownMember: () => new ApiError(404, 10007, 'Unknown Member'),
  unknownMessage: () => new ApiError(404, 10008, 'Unknown Message'),
  unknownRole: () => new ApiError(404, 10011, 'Unknown Role'),
  unknownUser: () => new ApiError(404, 10013, 'Unknown User'),
  unknownWebhook: () => new ApiError(404, 10015, 'Unknown Webhook'),
  unknownInteraction: () => new ApiError(404, 10062, 'Unknown interaction'),
  unknownCommand: () => new ApiError(404, 10063, 'Unknown application command'),
  tooLarge: () => new ApiError(413, 40005, 'Request entity too large'),
  alreadyAcknowledged: () => new ApiError(400, 40060, 'Interaction has already been acknowledged.'),
  missingAccess: () => new ApiError(403, 50001, 'Missing Access'),
  notAuthor: () => new ApiError(403, 50005, 'Cannot edit a message authored by another user'),
  emptyMessage: () => new ApiError(400, 50006, 'Cannot send an empty message'),
  cannotDM: () => new ApiError(403, 50007, 'Cannot send messages to this user'),
  nonText: () => new ApiError(400, 50008, 'Cannot send messages in a non-text channel'),
  missingPermissions: () => new ApiError(403, 50013, 'Missing Permissions'),
  wrongChannelType: () => new ApiError(400, 50024, 'Cannot execute action on this channel type'),
  invalidWebhookToken: () => new ApiError(401, 50027, 'Invalid Webhook Token'),
  invalidRecipient: () => new ApiError(400, 50033, 'Invalid Recipient(s)'),
  archived: () => new ApiError(400, 50083, 'Thread is archived'),
  invalidJson: () => new ApiError(400, 50109, 'The request body contains invalid JSON.'),
  formBody: (problems) => new ApiError(400, 50035, 'Invalid Form Body', toErrors(problems)),
};

// Which violation kind a 4xx answer means.
const KIND_BY_CODE = { 50035: 'invalid-form-body', 50006: 'empty-message', 40060: 'interaction-already-acknowledged',
  50109: 'invalid-json', 40005: 'request-too-large', 50024: 'wrong-channel-type', 50008: 'non-text-channel' };

const MAX_BODY = 25 * 1024 * 1024;   // Discord's request limit (message.mdx §Create Message)
const UA_RE = /^DiscordBot \(\S+, \S+\)/;

export class Rest {
  constructor(fake, routes) {
    this.fake = fake;
    this.state = fake.state;
    this.opts = fake.opts;
    // Routes indexed by segment count; literal segments are tried before parameters.
    this.routes = new Map();
    for (const r of routes) {
      r.segments = r.template.split('/').slice(1);
      r.literals = r.segments.filter((s) => !s.startsWith('{')).length;
      const list = this.routes.get(r.segments.length) || [];
      list.push(r);
      list.sort((a, b) => b.literals - a.literals);
      this.routes.set(r.segments.length, list);
    }
  }

  match(method, path) {
    const parts = path.split('/').slice(1).map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
    let pathMatched = false;
    for (const r of this.routes.get(parts.length) || []) {
      const params = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const s = r.segments[i];
        if (s.startsWith('{')) params[s.slice(1, -1)] = parts[i];
        else ok = s === parts[i];
      }
      if (!ok) continue;
      pathMatched = true;
      if (r.method === method) return { route: r, params };
    }
    return { route: null, pathMatched };
  }

  async handle(req, res, url) {
    const ctx = {
      req, res, url, method: req.method, path: url.pathname.slice('/api/v10'.length) || '/', query: url.searchParams,
      arrivedAt: Date.now(), app: null, route: null, params: {}, body: undefined, files: [], status: 0,
      headers: {}, limit: null, fake: this.fake,
    };
    let out;
    try {
      out = await this.process(ctx);
    } catch (e) {
      if (!(e instanceof ApiError)) {
        console.error('# fake-discord: handler error', e);
        e = new ApiError(500, 0, '500: Internal Server Error');
      }
      out = { status: e.status, body: { message: e.message, code: e.code, ...(e.errors ? { errors: e.errors } : {}) } };
    }
    this.respond(ctx, out);
  }

  async process(ctx) {
    const { req } = ctx;
    if (!req.url.startsWith('/api/v10/')) {
      this.fake.violation('rest-version', `request outside /api/v10: ${req.method} ${ctx.url.pathname}`, {});
      throw E.notFound();
    }
    const ua = req.headers['user-agent'];
    if (!ua || !UA_RE.test(ua)) {
      this.fake.violationOnce(`ua:${ua}`, 'rest-user-agent', `User-Agent must be "DiscordBot ($url, $versionNumber)", got ${JSON.stringify(ua ?? null)}`, {});
    }
    if (this.fake.limiter.banned()) {
      return { status: 429, raw: 'error code: 1015', contentType: 'text/plain', headers: { 'Retry-After': '60' }, scope: 'ban' };
    }
    const m = this.match(req.method, ctx.path);
    if (!m.route) {
      if (m.pathMatched) throw E.methodNotAllowed();
      this.fake.violation('unknown-route', `${req.method} ${ctx.path}: not a Discord route (or not one the fake implements)`, {});
      throw E.notFound();
    }
    ctx.route = m.route;
    ctx.params = m.params;
    this.authenticate(ctx);

    // Body first: a request that is too large never reaches the rate limiter.
    const raw = await readBody(req, MAX_BODY);
    if (raw === null) throw E.tooLarge();

    const rl = this.fake.limiter.check({ app: ctx.app, method: req.method, path: ctx.path, route: ctx.route,
      params: ctx.params, arrivedAt: ctx.arrivedAt });
    if (rl.limited) { ctx.limit = rl.limited; return rl.limited; }
    ctx.limit = rl;
    ctx.headers = rl.headers;

    this.parseBody(ctx, raw);
    const b = ctx.body;
    if (ctx.route.body && !ctx.route.arrayBody && (typeof b !== 'object' || b === null || Array.isArray(b))) {
      throw E.formBody([{ path: [], code: 'BASE_TYPE_TYPE', message: 'The body must be a JSON object.' }]);
    }
    if (ctx.route.body && !ctx.route.validateInHandler) this.validateSpec(ctx);
    return await ctx.route.handler(ctx);
  }

  // Authorization: Bot <token>. Interaction endpoints take no token, but a wrong one is still 401.
  authenticate(ctx) {
    const h = ctx.req.headers.authorization;
    const need = ctx.route.auth !== 'none';
    if (!h) {
      if (!need) return;
      this.fake.violation('missing-authorization', `${ctx.method} ${ctx.path} without an Authorization header`, {});
      throw E.unauthorized();
    }
    const m = /^Bot (\S+)$/.exec(h);
    const app = m && this.state.appsByToken.get(m[1]);
    if (!app) {
      // Reference §3: a token that got a 401 must be quarantined; using it again is a bug.
      const known = m && this.state.revoked.get(m[1]);
      if (known) {
        // Requests already in flight when the first 401 went out are not held against it.
        if (known.first401At && ctx.arrivedAt - known.first401At > this.opts.rateLimitGraceMs) {
          this.fake.violation('token-after-401', `kept using app ${known.id}'s token after a 401`, { appId: known.id });
        }
        known.first401At ??= Date.now();
      } else if (!m) {
        this.fake.violation('authorization-format', `Authorization must be "Bot <token>", got "${h.slice(0, 12)}…"`, {});
      }
      throw E.unauthorized();
    }
    ctx.app = app;
  }

  parseBody(ctx, raw) {
    if (!ctx.route.body || raw.length === 0) { ctx.body = ctx.route.body ? {} : undefined; ctx.emptyBody = true; return; }
    const ct = (ctx.req.headers['content-type'] || '').toLowerCase();
    if (ct.startsWith('application/json')) {
      try { ctx.body = JSON.parse(raw.toString('utf8')); } catch { throw E.invalidJson(); }
    } else if (ct.startsWith('multipart/form-data') && ctx.route.files) {
      let parts;
      try { parts = parseMultipart(raw, ctx.req.headers['content-type']); } catch (e) {
        throw E.formBody([{ path: [], code: 'MULTIPART_INVALID', message: e.message }]);
      }
      if (parts.fields.payload_json !== undefined) {
        try { ctx.body = JSON.parse(parts.fields.payload_json); } catch { throw E.invalidJson(); }
      } else {
        ctx.body = { ...parts.fields };
      }
      ctx.files = parts.files;
      for (const f of ctx.files) {
        if (!/^files\[\d+\]$/.test(f.name) && f.name !== 'file') {
          throw E.formBody([{ path: [f.name], code: 'FILE_FIELD_INVALID', message: 'File parts are named files[n].' }]);
        }
      }
    } else {
      throw E.formBody([{ path: [], code: 'CONTENT_TYPE_INVALID',
        message: `Expected "Content-Type" header to be one of {'application/json'${ctx.route.files ? ", 'multipart/form-data'" : ''}}; got ${JSON.stringify(ct || null)}.` }]);
    }
  }

  // The operation's requestBody schema from the OpenAPI spec (validate.mjs).
  validateSpec(ctx) {
    const spec = this.fake.spec;
    if (!spec || ctx.body === undefined) return;
    let problems = spec.validate(ctx.method, ctx.route.specTemplate || ctx.route.template, ctx.body);
    if (!problems.length) return;
    // Discord reports every problem of a body at once: add the §4 rules' findings (the handler
    // would have reported them had the schema passed), the rules' wording first.
    if (ctx.route.rules) {
      let extra = [];
      try { extra = ctx.route.rules(ctx.body); } catch { /* a body too malformed for the rules */ }
      const key = (p) => p.path.join('/') + '|' + p.code;
      const seen = new Set(extra.map(key));
      problems = [...extra, ...problems.filter((p) => !seen.has(key(p)))];
    }
    throw E.formBody(problems);
  }

  respond(ctx, out) {
    const { res } = ctx;
    const headers = { ...(out.headers || ctx.headers || {}) };
    // Every answer of a known route carries its bucket's headers (also errors other than 429).
    if (out.status !== 429 && ctx.limit && ctx.limit.headers) Object.assign(headers, ctx.limit.headers);
    headers['Via'] = '1.1 google';
    let payload = null;
    if (out.raw !== undefined) {
      payload = out.raw;
      headers['Content-Type'] = out.contentType || 'text/plain';
    } else if (out.status !== 204) {
      payload = JSON.stringify(out.body ?? null);
      headers['Content-Type'] = 'application/json';
    }
    res.writeHead(out.status, headers);
    res.end(payload);
    if (ctx.limit) this.fake.limiter.sent(ctx.limit);
    this.fake.limiter.countInvalid(out.status, out.scope);
    this.record(ctx, out);
  }

  record(ctx, out) {
    const app = ctx.app;
    const entry = {
      at: ctx.arrivedAt, method: ctx.method, path: ctx.path, route: ctx.route ? shape(ctx.route.template) : null,
      appId: app?.id ?? null, token: /^Bot (\S+)$/.exec(ctx.req.headers.authorization || '')?.[1] ?? null, status: out.status, code: out.body?.code, ms: Date.now() - ctx.arrivedAt,
      bucket: ctx.limit?.headers?.['X-RateLimit-Bucket'] ?? out.headers?.['X-RateLimit-Bucket'] ?? null,
      body: ctx.body, files: ctx.files.map((f) => ({ name: f.name, filename: f.filename, size: f.data.length })),
    };
    this.fake.recordRequest(entry);
    if (out.status === 400 || out.status === 413) {
      const code = out.body?.code;
      this.fake.violation(KIND_BY_CODE[code] || 'bad-request', `${ctx.method} ${ctx.path} -> ${out.status} ${code}: ${out.body?.message}`,
        { appId: entry.appId, method: ctx.method, path: ctx.path, errors: out.body?.errors, body: ctx.body });
    }
  }
}

function readBody(req, max) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0, over = false;
    req.on('data', (c) => {
      size += c.length;
      if (size > max) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
