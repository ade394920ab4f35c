// A seller's side of the portal API for e2e tests: sign up, then call routes with the
// session cookie and the CSRF token, as the web app does.
import { assert, eq } from './harness.mjs';

export async function signup(d, { email = `v${Date.now()}${Math.random().toString(16).slice(2, 8)}@loja.test`, password = 'senha-forte-123' } = {}) {
  const r = await fetch(`${d.portal}/api/auth/signup`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }),
  });
  eq(r.status, 201, `signup ${email}`);
  const cookie = (r.headers.get('set-cookie') || '').split(';')[0];
  assert(cookie.startsWith('astra_session='), 'session cookie');
  const body = await r.json();
  return { email, password, cookie, csrf: body.csrf, user: body.user };
}

// fetch with the seller's session; json: a body to send as JSON.
export function api(d, s, method, path, json, headers = {}) {
  const h = { cookie: s.cookie, ...headers };
  if (method !== 'GET' && method !== 'HEAD') h['x-csrf-token'] = s.csrf;
  if (json !== undefined) h['content-type'] = 'application/json';
  return fetch(`${d.portal}${path}`, { method, headers: h, body: json === undefined ? undefined : JSON.stringify(json) });
}
