// The portal's API routes as the security tests see them, and a small browser-like client.
//
// PORTAL_PROTECTED_ROUTES is the one list of every portal /api/ route that needs a session:
// portal_auth.test.mjs checks that each answers 401 without one and 403 without (or with a
// wrong) X-CSRF-Token when it changes state. A new portal route that needs a session is added
// here, with a body its handler would accept, and is covered at once.
//
// PortalClient keeps cookies like a browser (HttpOnly ones included), sends the CSRF token it
// was given, and connects from its own loopback address (127.0.x.y): the portal rate-limits
// per IP, so tests that should not share a budget use different clients.
import http from 'node:http';

const SOME_ID = '00000000-0000-4000-8000-000000000000'; // authentication comes before the 404

export const PORTAL_PROTECTED_ROUTES = [
  // accounts
  { method: 'GET', path: '/api/me' },
  { method: 'POST', path: '/api/auth/logout' },
  { method: 'POST', path: '/api/auth/password', body: { current: 'senha-antiga-1', new: 'senha-nova-123' } },
  // instances
  { method: 'GET', path: '/api/instances' },
  { method: 'POST', path: '/api/instances', body: { name: 'Loja' } },
  { method: 'GET', path: `/api/instances/${SOME_ID}` },
  { method: 'PATCH', path: `/api/instances/${SOME_ID}`, body: { name: 'Loja' } },
  { method: 'DELETE', path: `/api/instances/${SOME_ID}` },
  { method: 'PUT', path: `/api/instances/${SOME_ID}/token`, body: { token: 'x'.repeat(70) } },
  { method: 'POST', path: `/api/instances/${SOME_ID}/api-key` },
  { method: 'POST', path: `/api/instances/${SOME_ID}/start` },
  { method: 'POST', path: `/api/instances/${SOME_ID}/stop` },
  { method: 'POST', path: `/api/instances/${SOME_ID}/restart` },
];

// Public on purpose (no session): what a visitor needs to get one, and the health check.
export const PORTAL_PUBLIC_ROUTES = [
  { method: 'GET', path: '/health' },
  { method: 'POST', path: '/api/auth/signup' },
  { method: 'POST', path: '/api/auth/login' },
  { method: 'GET', path: '/api/auth/discord' },
  { method: 'GET', path: '/api/auth/discord/callback' },
];

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
export const changesState = (method) => STATE_CHANGING.has(method);

// 127.0.<n>.<m>: a fresh source address per client (the kernel routes all of 127/8 to lo).
let nextIp = 2 + Math.floor(Math.random() * 200) * 250;
export function freshIp() {
  const n = nextIp++;
  return `127.0.${(n >> 8) & 255}.${(n & 255) || 1}`;
}

// Every response body any PortalClient saw, for checks that span a whole test file.
export const seenBodies = [];

export class PortalClient {
  constructor(base, { ip = freshIp(), lang } = {}) {
    const u = new URL(base);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.ip = ip;
    this.lang = lang;
    this.cookies = new Map();  // name -> { value, path }
    this.csrf = null;
  }

  cookieHeader(path) {
    const parts = [];
    for (const [name, c] of this.cookies) if (path.startsWith(c.path)) parts.push(`${name}=${c.value}`);
    return parts.join('; ');
  }

  // Set-Cookie as a browser applies it: Max-Age=0 (or an empty value) removes the cookie.
  takeCookies(setCookie) {
    for (const line of setCookie || []) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const i = pair.indexOf('=');
      const name = pair.slice(0, i), value = pair.slice(i + 1);
      const attr = Object.fromEntries(attrs.map((a) => { const k = a.indexOf('='); return k < 0 ? [a.toLowerCase(), true] : [a.slice(0, k).toLowerCase(), a.slice(k + 1)]; }));
      if (attr['max-age'] === '0' || value === '') this.cookies.delete(name);
      else this.cookies.set(name, { value, path: attr.path || '/', attrs: attr });
    }
  }

  // One request; resolves { status, headers, text, json, setCookie }. body: an object (sent as
  // JSON), a string or a Buffer (sent as is, with headers['content-type'] if given).
  request(method, path, { body, headers = {}, csrf = true, cookies = true } = {}) {
    const h = { ...headers };
    if (this.lang) h['accept-language'] = this.lang;
    if (cookies) {
      const c = this.cookieHeader(path.split('?')[0]);
      if (c) h.cookie = c;
    }
    if (csrf && this.csrf && changesState(method) && !('x-csrf-token' in h)) h['x-csrf-token'] = this.csrf;
    let payload = null;
    if (body !== undefined) {
      payload = Buffer.isBuffer(body) || typeof body === 'string' ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
      if (!('content-type' in h)) h['content-type'] = 'application/json';
    }
    if (payload) h['content-length'] = String(payload.length);
    return new Promise((resolve, reject) => {
      const req = http.request({ host: this.host, port: this.port, localAddress: this.ip, method, path, headers: h }, (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          seenBodies.push(text);
          this.takeCookies(res.headers['set-cookie']);
          let json = null;
          try { json = text ? JSON.parse(text) : null; } catch {}
          if (json && typeof json.csrf === 'string') this.csrf = json.csrf;
          resolve({ status: res.statusCode, headers: res.headers, text, json, setCookie: res.headers['set-cookie'] || [] });
        });
      });
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  get(path, o) { return this.request('GET', path, o); }
  post(path, body, o = {}) { return this.request('POST', path, { ...o, body }); }

  signup(email, password, extra = {}) { return this.post('/api/auth/signup', { email, password, ...extra }); }
  login(email, password) { return this.post('/api/auth/login', { email, password }); }
  me() { return this.get('/api/me'); }
}
