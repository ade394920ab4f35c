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

// Each route is written as in src/portal_server.c; pathFor() fills its parameters. A
// parameter is named by the collection segment before it: /instances/:id -> ids.instance,
// /products/:pid -> ids.product, /variations/:vid, /stock/:sid, /coupons/:cid,
// /orders/:oid, /customers/:cid. Missing ids are SOME_ID.
const PARAM_OF = {
  instances: 'instance', products: 'product', variations: 'variation', stock: 'stock',
  coupons: 'coupon', orders: 'order', customers: 'customer',
};
export function pathFor(route, ids = {}) {
  const seg = route.split('/');
  return seg.map((s, i) => (s.startsWith(':') ? (ids[PARAM_OF[seg[i - 1]]] ?? SOME_ID) : s)).join('/');
}

const R = (method, route, body) => ({ method, route, path: pathFor(route), body });

export const PORTAL_PROTECTED_ROUTES = [
  // accounts and wallet
  R('GET', '/api/me'),
  R('GET', '/api/wallet'),
  R('POST', '/api/auth/logout'),
  R('POST', '/api/auth/password', { current: 'senha-antiga-1', new: 'senha-nova-123' }),
  // instances
  R('GET', '/api/instances'),
  R('POST', '/api/instances', { name: 'Loja' }),
  R('GET', '/api/instances/:id'),
  R('PATCH', '/api/instances/:id', { name: 'Loja' }),
  R('DELETE', '/api/instances/:id'),
  R('PUT', '/api/instances/:id/token', { token: 'x'.repeat(70) }),
  R('POST', '/api/instances/:id/api-key'),
  R('POST', '/api/instances/:id/start'),
  R('POST', '/api/instances/:id/stop'),
  R('POST', '/api/instances/:id/restart'),
  // catalog
  R('GET', '/api/instances/:id/products'),
  R('POST', '/api/instances/:id/products', { name: 'Produto', priceCents: 1000 }),
  R('GET', '/api/instances/:id/products/:pid'),
  R('PATCH', '/api/instances/:id/products/:pid', { name: 'Produto' }),
  R('DELETE', '/api/instances/:id/products/:pid'),
  R('POST', '/api/instances/:id/products/:pid/variations', { name: '30 dias', priceCents: 1000 }),
  R('PATCH', '/api/instances/:id/products/:pid/variations/:vid', { name: '60 dias' }),
  R('DELETE', '/api/instances/:id/products/:pid/variations/:vid'),
  R('POST', '/api/instances/:id/products/:pid/post', {}),
  R('POST', '/api/instances/:id/dm-preview', { template: 'Sua chave: {chave}' }),
  // stock
  R('GET', '/api/instances/:id/stock'),
  R('POST', '/api/instances/:id/stock', { productId: SOME_ID, text: 'KEY-1' }),
  R('POST', '/api/instances/:id/stock/remove', { ids: [SOME_ID] }),
  R('POST', '/api/instances/:id/stock/:sid/reveal'),
  R('DELETE', '/api/instances/:id/stock/:sid'),
  // coupons
  R('GET', '/api/instances/:id/coupons'),
  R('POST', '/api/instances/:id/coupons', { code: 'PROMO10', type: 'percent', value: 10 }),
  R('PATCH', '/api/instances/:id/coupons/:cid', { active: false }),
  R('DELETE', '/api/instances/:id/coupons/:cid'),
  // orders and customers
  R('GET', '/api/instances/:id/orders'),
  R('GET', '/api/instances/:id/orders/:oid'),
  R('POST', '/api/instances/:id/orders/:oid/retry'),
  R('GET', '/api/instances/:id/customers'),
  R('GET', '/api/instances/:id/customers/:cid'),
];

// Public on purpose (no session): what a visitor needs to get one, and the health check.
export const PORTAL_PUBLIC_ROUTES = [
  R('GET', '/health'),
  R('POST', '/api/auth/signup'),
  R('POST', '/api/auth/login'),
  R('GET', '/api/auth/discord'),
  R('GET', '/api/auth/discord/callback'),
  // signed by Mercado Pago (x-signature), not by a session
  R('POST', '/api/webhooks/mercadopago'),
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
