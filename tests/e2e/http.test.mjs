// The HTTP adapter's uniform behaviour: error bodies, 404/405/413/414/415, JSON bodies.
import { test, assert, eq, match } from './lib/harness.mjs';
import { startDaemon, rawRequest } from './lib/daemon.mjs';

function isErrorBody(b, name) {
  eq(b.error, name);
  assert(Number.isInteger(b.code) && b.code >= 1000, `code ${b.code}`);
  assert(typeof b.message === 'string' && b.message.length > 0, 'message');
}

test('unknown API path: 404 with the uniform JSON error, pt-BR by default, en on request', async () => {
  const d = await startDaemon();
  try {
    let r = await fetch(`${d.portal}/api/nope`);
    eq(r.status, 404);
    let b = await r.json();
    isErrorBody(b, 'not_found');
    eq(b.message, 'Recurso não encontrado.');
    r = await fetch(`${d.portal}/api/nope`, { headers: { 'accept-language': 'en-US,en;q=0.9' } });
    b = await r.json();
    eq(b.message, 'Not found.');
    r = await d.adminFetch('/api/nope');
    eq(r.status, 404);
  } finally {
    eq((await d.stop()).code, 0);
  }
});

test('wrong method: 405 with Allow', async () => {
  const d = await startDaemon();
  try {
    const r = await fetch(`${d.portal}/health`, { method: 'POST' });
    eq(r.status, 405);
    match(r.headers.get('allow'), /GET/);
    isErrorBody(await r.json(), 'method_not_allowed');
    const r2 = await d.adminFetch('/api/log-level', { method: 'GET' });
    eq(r2.status, 405);
    eq(r2.headers.get('allow'), 'PUT, OPTIONS');
  } finally {
    eq((await d.stop()).code, 0);
  }
});

test('a body over the route cap: 413, whether declared or chunked', async () => {
  const d = await startDaemon();
  try {
    const big = JSON.stringify({ level: 'x'.repeat(1000) });
    let r = await d.adminFetch('/api/log-level', { method: 'PUT', body: big, headers: { 'content-type': 'application/json' } });
    eq(r.status, 413);
    isErrorBody(await r.json(), 'body_too_large');
    // chunked: no Content-Length, so the cap is found while reading
    const chunk = big;
    const raw = await rawRequest(d.adminPort,
      `PUT /api/log-level HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${(await import('./lib/daemon.mjs')).ADMIN_TOKEN}\r\n` +
      `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
      `${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`);
    eq(raw.status, 413);
    // a GET with a body where none is allowed
    const raw2 = await rawRequest(d.portalPort, 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
    eq(raw2.status, 413);
  } finally {
    eq((await d.stop()).code, 0);
  }
});

test('a URI over 2048 bytes: 414', async () => {
  const d = await startDaemon();
  try {
    const r = await fetch(`${d.portal}/api/${'a'.repeat(2100)}`);
    eq(r.status, 414);
    isErrorBody(await r.json(), 'uri_too_long');
    const r2 = await fetch(`${d.portal}/health?x=${'b'.repeat(3000)}`);
    eq(r2.status, 414);
  } finally {
    eq((await d.stop()).code, 0);
  }
});

test('a JSON route refuses other media types (415) and malformed JSON (400)', async () => {
  const d = await startDaemon();
  try {
    let r = await d.adminFetch('/api/log-level', { method: 'PUT', body: 'level=debug', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    eq(r.status, 415);
    isErrorBody(await r.json(), 'unsupported_media_type');
    r = await d.adminFetch('/api/log-level', { method: 'PUT', body: '{"level":', headers: { 'content-type': 'application/json' } });
    eq(r.status, 400);
    isErrorBody(await r.json(), 'bad_json');
    r = await d.adminFetch('/api/log-level', { method: 'PUT', body: '{"level":"loud"}', headers: { 'content-type': 'application/json' } });
    eq(r.status, 400);
    let b = await r.json();
    isErrorBody(b, 'bad_field');
    eq(b.field, 'level');
    r = await d.adminFetch('/api/log-level', { method: 'PUT', body: '{"levle":"info"}', headers: { 'content-type': 'application/json' } });
    b = await r.json();
    eq(r.status, 400);
    eq(b.field, 'levle');
    r = await d.adminFetch('/api/log-level', { method: 'PUT', body: '{"level":"warn"}', headers: { 'content-type': 'application/json; charset=utf-8' } });
    eq(r.status, 200);
    eq((await r.json()).level, 'warn');
  } finally {
    eq((await d.stop()).code, 0);
  }
});

test('every response carries security headers and a request id that the access log shows', async () => {
  const d = await startDaemon();
  try {
    const r = await fetch(`${d.portal}/api/nope`);
    eq(r.headers.get('x-content-type-options'), 'nosniff');
    match(r.headers.get('content-security-policy'), /frame-ancestors 'none'/);
    eq(r.headers.get('x-frame-options'), 'DENY');
    const id = r.headers.get('x-request-id');
    match(id, /^[0-9a-f]{16}$/);
    await d.stop();
    const line = d.logLines().find((l) => l.req === id && l.module === 'access');
    assert(line, 'access log line with the request id');
    eq(line.method, 'GET');
    eq(line.path, '/api/nope');
    eq(line.status, '404');
    assert(Number(line.bytes) > 0, 'bytes');
    assert(line.ms !== undefined, 'duration');
  } finally {
    await d.stop();
  }
});
