// The portal's fetch wrapper: JSON in and out, the user's locale as Accept-Language (the
// server picks the language of its error messages from it), the CSRF token on every
// state-changing request, and one error shape: ApiError {status, code, error, message, field}.
// A 401 outside the sign-in calls hands control to onUnauthorized (the app goes to login).
import { locale, t } from '/shared/i18n.js';

let csrf = null;
let onUnauthorized = null;

const pending = new Set();

export function setCsrf(token) { csrf = token || null; }

// Resolves when no request is in flight (sign-out waits for it, so a refresh that was on its
// way does not come back as a 401 after the session is gone).
export async function idle() {
  while (pending.size) await Promise.allSettled([...pending]);
}
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

export class ApiError extends Error {
  constructor(status, body = {}) {
    super(body.message || t('common.error'));
    this.status = status;
    this.code = body.code ?? null;
    this.error = body.error ?? null;
    this.field = body.field ?? null;
    this.retryAfter = body.retryAfter ?? null;
  }
}

// method, path, optional JSON body; opts.quiet401: a 401 is this call's own answer (sign in,
// session probe) and must not bounce the user to the login page.
export function api(method, path, body, opts = {}) {
  const p = request(method, path, body, opts);
  pending.add(p);
  const done = () => pending.delete(p);
  p.then(done, done);
  return p;
}

async function request(method, path, body, opts) {
  const headers = { accept: 'application/json', 'accept-language': locale() };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['x-csrf-token'] = csrf;
  let r;
  try {
    r = await fetch(path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { message: t('common.error') });
  }
  if (r.status === 204) return null;
  let data = null;
  try { data = await r.json(); } catch { data = null; }
  if (r.ok) return data;
  const err = new ApiError(r.status, data || {});
  if (r.status === 429) {
    const s = Number(r.headers.get('retry-after'));
    if (s > 0) {
      err.retryAfter = s;
      err.message = `${err.message} ${t('common.retry_in').replace('{s}', String(s))}`;
    }
  }
  if (r.status === 401 && !opts.quiet401 && onUnauthorized) onUnauthorized(err);
  throw err;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body, opts) => api('POST', path, body, opts);
export const put = (path, body, opts) => api('PUT', path, body, opts);
export const patch = (path, body, opts) => api('PATCH', path, body, opts);
export const del = (path, body, opts) => api('DELETE', path, body, opts);
