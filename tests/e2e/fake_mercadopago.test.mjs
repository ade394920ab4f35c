// Tests of the fake Mercado Pago itself (tests/fakes/mercadopago): a correct client sees no
// violations, each rule answers as reference/payments.md §1 says MP does, webhooks are signed
// as §1.7 says (checked against its worked examples) and retried. No astrad binary is involved.
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test, assert, eq, match, sleep, until } from './lib/harness.mjs';
import { startFakeMercadoPago } from '../fakes/mercadopago/server.mjs';
import { signWebhook, verifyWebhook, parseSignatureHeader, WORKED_EXAMPLES } from '../fakes/mercadopago/signature.mjs';
import { crc16 } from '../fakes/mercadopago/pix.mjs';

const TOKEN = 'APP_USR-test-access-token';
const SECRET = 'mp_test_webhook_secret_123';
const HERE = path.dirname(fileURLToPath(import.meta.url));

// A webhook receiver on loopback: records every request; answers from `script` (a list of
// statuses, or 'hang'), then 200.
async function startReceiver() {
  const r = { got: [], script: [] };
  r.server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url, 'http://x');
      r.got.push({ method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers,
        text: Buffer.concat(chunks).toString('utf8') });
      const what = r.script.length ? r.script.shift() : 200;
      if (what === 'hang') return;     // no answer: the fake's timeout fires
      res.writeHead(what, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${r.server.address().port}/api/webhooks/mercadopago`;
  r.close = () => { r.server.closeAllConnections?.(); return new Promise((resolve) => r.server.close(resolve)); };
  return r;
}

async function withFake(opts, fn) {
  const mp = await startFakeMercadoPago({ accessToken: TOKEN, webhookSecret: SECRET, webhookTimeScale: 0.0002, ...opts });
  const rx = await startReceiver();
  try {
    await fn({ mp, rx });
  } finally {
    await mp.close();
    await rx.close();
  }
}

// A date as MP wants it, yyyy-MM-dd'T'HH:mm:ss.SSS±hh:mm, in Brazil's -03:00.
function mpDate(ms, offsetMin = -180) {
  const iso = new Date(ms + offsetMin * 60000).toISOString().replace('Z', '');
  const o = Math.abs(offsetMin);
  return `${iso}${offsetMin < 0 ? '-' : '+'}${String(Math.floor(o / 60)).padStart(2, '0')}:${String(o % 60).padStart(2, '0')}`;
}

function pixBody(rx, extra = {}) {
  return {
    transaction_amount: 100, description: 'Chave Steam', payment_method_id: 'pix',
    external_reference: 'order-123', notification_url: `${rx.url}?source_news=webhooks`,
    date_of_expiration: mpDate(Date.now() + 60 * 60000),
    payer: { email: 'buyer@example.com', first_name: 'Test', last_name: 'User' },
    ...extra,
  };
}

async function api(mp, method, p, body, { key = crypto.randomUUID(), token = TOKEN, raw } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined || raw !== undefined) headers['Content-Type'] = 'application/json';
  if (key && method !== 'GET') headers['X-Idempotency-Key'] = key;
  const r = await fetch(`${mp.apiBase}${p}`, { method, headers, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)) });
  return { status: r.status, body: await r.json().catch(() => null) };
}

const create = async (mp, rx, extra, opts) => {
  const r = await api(mp, 'POST', '/v1/payments', pixBody(rx, extra), opts);
  eq(r.status, 201, `create: ${JSON.stringify(r.body)}`);
  return r.body;
};

// What the daemon does with a notification: data.id from the query, x-request-id, x-signature.
function verify(got, secret = SECRET) {
  return verifyWebhook({ secret, header: got.headers['x-signature'], dataId: got.query['data.id'], requestId: got.headers['x-request-id'] });
}

// ---- signature ----

test('signWebhook reproduces the worked examples of §1.7', async () => {
  for (const ex of WORKED_EXAMPLES) {
    const s = signWebhook(ex);
    eq(s.v1, ex.v1, `v1 for ${s.manifest}`);
    eq(s.header, `ts=${ex.ts},v1=${ex.v1}`, 'header');
  }
  eq(signWebhook(WORKED_EXAMPLES[0]).manifest, 'id:123456789;request-id:2066ca19-c6f1-498a-be75-1923005edd06;ts:1742505638683;', 'manifest');
  eq(signWebhook(WORKED_EXAMPLES[1]).manifest, 'id:123456789;ts:1742505638683;', 'manifest without request id');
  // The same HMAC computed independently, as the reference's openssl line does.
  const hex = crypto.createHmac('sha256', 'mp_test_webhook_secret_123')
    .update('id:123456789;request-id:2066ca19-c6f1-498a-be75-1923005edd06;ts:1742505638683;').digest('hex');
  eq(hex, '663718770990e5ece9551d3eab1da553039a1cff9a1f7c8fec944378d04a158f', 'openssl example');
  eq(signWebhook({ secret: 's', dataId: '  ', requestId: '', ts: '1' }).manifest, 'ts:1;', 'blank values are absent');
  const ok = verifyWebhook({ secret: SECRET, header: `ts=1742505638683,v1=${WORKED_EXAMPLES[0].v1},v2=zz`, dataId: '123456789', requestId: WORKED_EXAMPLES[0].requestId });
  assert(ok.ok, 'unknown keys are ignored');
  assert(!verifyWebhook({ secret: SECRET, header: `ts=1742505638683,v1=${WORKED_EXAMPLES[0].v1}`, dataId: '123456780', requestId: WORKED_EXAMPLES[0].requestId }).ok, 'other id fails');
});

// ---- create ----

test('create a Pix payment: 201, MP fields, QR code, PNG, ticket page, GET; payment.created signed', async () => {
  await withFake({}, async ({ mp, rx }) => {
    const body = pixBody(rx);
    const r = await api(mp, 'POST', '/v1/payments', body);
    eq(r.status, 201, 'status');
    const p = r.body;
    assert(Number.isInteger(p.id) && p.id > 2 ** 32, `id ${p.id} is a number above 2^32`);
    eq([p.status, p.status_detail, p.payment_method_id, p.payment_type_id, p.currency_id], ['pending', 'pending_waiting_transfer', 'pix', 'bank_transfer', 'BRL'], 'status');
    eq([p.transaction_amount, p.external_reference, p.description, p.notification_url, p.payer.email], [100, 'order-123', 'Chave Steam', body.notification_url, 'buyer@example.com'], 'echo');
    match(p.date_created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-04:00$/, 'date_created');
    eq(Date.parse(p.date_of_expiration), Date.parse(body.date_of_expiration), 'date_of_expiration');
    eq(p.date_approved, null, 'date_approved');
    const td = p.point_of_interaction.transaction_data;
    eq(p.point_of_interaction.type, 'PIX', 'poi type');
    match(td.qr_code, /^000201.*br\.gov\.bcb\.pix.*5406100\.00.*6304[0-9A-F]{4}$/, 'copia e cola');
    eq(td.qr_code.slice(-4), crc16(td.qr_code.slice(0, -4)), 'BR Code CRC16');
    const png = Buffer.from(td.qr_code_base64, 'base64');
    eq([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
    eq(png.subarray(12, 16).toString(), 'IHDR', 'IHDR');
    const page = await fetch(td.ticket_url);
    eq(page.status, 200, 'ticket page');
    match(await page.text(), /data:image\/png;base64/, 'ticket page shows the QR');

    const g = await api(mp, 'GET', `/v1/payments/${p.id}`);
    eq(g.status, 200, 'GET');
    eq(g.body, p, 'GET returns the same object');
    eq(mp.payments().map((x) => x.id), [p.id], 'payments()');

    await until(() => rx.got.length === 1, { what: 'payment.created' });
    const w = rx.got[0];
    eq([w.query['data.id'], w.query.type, JSON.parse(w.text).action], [String(p.id), 'payment', 'payment.created'], 'created notification');
    assert(verify(w).ok, 'signature verifies');
    eq(mp.requests().map((x) => [x.route, x.status, x.auth]), [['POST /v1/payments', 201, 'ok'], ['GET /v1/payments/{id}', 200, 'ok']], 'request log');
    mp.assertNoViolations();
  });
});

test('without date_of_expiration the Pix expires in 24 h; 19.99 is a valid amount', async () => {
  await withFake({}, async ({ mp, rx }) => {
    const b = pixBody(rx, { transaction_amount: 19.99 });
    delete b.date_of_expiration;
    const r = await api(mp, 'POST', '/v1/payments', b);
    eq(r.status, 201, JSON.stringify(r.body));
    const left = Date.parse(r.body.date_of_expiration) - Date.now();
    assert(Math.abs(left - 24 * 3600e3) < 60e3, `expires in ${left} ms`);
    eq(r.body.transaction_amount, 19.99, 'amount');
    mp.assertNoViolations();
  });
});

test('each validation rule answers 400 with MP\'s error body and cause code', async () => {
  await withFake({ notifyOnCreate: false }, async ({ mp, rx }) => {
    const long = `${rx.url}?x=${'a'.repeat(248)}`;
    const cases = [
      ['no amount', { transaction_amount: undefined }, 4002],
      ['string amount', { transaction_amount: '100' }, 4003],
      ['zero amount', { transaction_amount: 0 }, 4037],
      ['negative amount', { transaction_amount: -5 }, 4037],
      ['three decimals', { transaction_amount: 10.005 }, 4037],
      ['no method', { payment_method_id: undefined }, 4001],
      ['not pix', { payment_method_id: 'bolbradesco' }, 3028],
      ['no payer', { payer: undefined }, 4006],
      ['payer not an object', { payer: 'x@y.z' }, 4006],
      ['no email', { payer: { first_name: 'A' } }, 4050],
      ['bad email', { payer: { email: 'not-an-email' } }, 4050],
      ['notification_url not a URL', { notification_url: 'not a url' }, 4020],
      ['notification_url ftp', { notification_url: 'ftp://example.com/x' }, 4020],
      ['notification_url > 248', { notification_url: long }, 4021],
      ['date without zone', { date_of_expiration: '2030-01-01T10:00:00.000' }, 23],
      ['date with Z', { date_of_expiration: new Date(Date.now() + 3600e3).toISOString() }, 23],
      ['date with space', { date_of_expiration: '2030-01-01 10:00:00-03:00' }, 23],
      ['date not a date', { date_of_expiration: '2030-02-30T10:00:00.000-03:00' }, 23],
      ['expires in 10 min', { date_of_expiration: mpDate(Date.now() + 10 * 60000) }, 1],
      ['expires in 31 days', { date_of_expiration: mpDate(Date.now() + 31 * 86400e3) }, 1],
      ['description number', { description: 5 }, 1],
      ['external_reference number', { external_reference: 123 }, 1],
      ['metadata array', { metadata: [1] }, 4022],
      ['unknown field', { colour: 'blue' }, 8],
    ];
    for (const [name, patch, code] of cases) {
      const r = await api(mp, 'POST', '/v1/payments', pixBody(rx, patch));
      eq(r.status, 400, `${name}: status`);
      eq([r.body.error, r.body.status, r.body.cause[0].code], ['bad_request', 400, code], `${name}: body ${JSON.stringify(r.body)}`);
      assert(typeof r.body.message === 'string' && r.body.message, `${name}: message`);
    }
    eq(mp.takeViolations('invalid-payment').length, cases.length, 'one violation per refusal');
    const ok = await api(mp, 'POST', '/v1/payments', pixBody(rx, { date_of_expiration: mpDate(Date.now() + 29 * 86400e3, 0).replace('.000', '') }));
    eq(ok.status, 201, 'without milliseconds, +00:00');
    const bad = await api(mp, 'POST', '/v1/payments', undefined, { raw: '{"transaction_amount":' });
    eq([bad.status, bad.body.cause[0].code], [400, 1], 'invalid JSON');
    eq(mp.takeViolations('invalid-json').length, 1, 'invalid-json violation');
    eq(mp.payments().length, 1, 'only the valid one was created');
    mp.assertNoViolations();
  });
});

test('X-Idempotency-Key: required; same key and body → same payment; other body → 409', async () => {
  await withFake({ notifyOnCreate: false }, async ({ mp, rx }) => {
    const none = await api(mp, 'POST', '/v1/payments', pixBody(rx), { key: null });
    eq([none.status, none.body.error], [400, 'bad_request'], 'no key');
    eq(mp.takeViolations('idempotency-key-missing').length, 1, 'violation');
    const key = crypto.randomUUID();
    const body = pixBody(rx);
    const a = await api(mp, 'POST', '/v1/payments', body, { key });
    const b = await api(mp, 'POST', '/v1/payments', body, { key });
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const c = await api(mp, 'POST', '/v1/payments', reordered, { key });
    eq([a.status, b.status, c.status], [201, 201, 201], 'statuses');
    eq([b.body.id, c.body.id], [a.body.id, a.body.id], 'same payment');
    eq(mp.payments().length, 1, 'one payment');
    const d = await api(mp, 'POST', '/v1/payments', { ...body, transaction_amount: 101 }, { key });
    eq([d.status, d.body.error, d.body.status], [409, 'conflict', 409], 'other body');
    eq(mp.takeViolations('idempotency-conflict').length, 1, 'violation');
    const e = await api(mp, 'POST', '/v1/payments', body);
    assert(e.body.id !== a.body.id, 'a new key is a new payment');
    mp.assertNoViolations();
  });
});

test('auth: no Authorization or another token → 401 in MP\'s shape, recorded', async () => {
  await withFake({}, async ({ mp, rx }) => {
    const a = await api(mp, 'POST', '/v1/payments', pixBody(rx), { token: null });
    eq([a.status, a.body.error, a.body.status, Array.isArray(a.body.cause)], [401, 'unauthorized', 401, true], 'missing');
    const b = await api(mp, 'GET', '/v1/payments/1', undefined, { token: 'APP_USR-other' });
    eq([b.status, b.body.error], [401, 'unauthorized'], 'wrong token');
    eq(mp.takeViolations().map((v) => v.kind), ['auth-missing', 'auth-invalid'], 'violations');
    eq(mp.requests().map((r) => r.auth), ['missing', 'invalid'], 'request log');
    eq(mp.payments().length, 0, 'nothing created');
  });
});

test('GET: unknown payment 404 (code 2000, not a violation); non-numeric id 400; unknown route 404', async () => {
  await withFake({}, async ({ mp }) => {
    const a = await api(mp, 'GET', '/v1/payments/999999999999');
    eq([a.status, a.body.error, a.body.cause[0].code], [404, 'not_found', 2000], 'unknown');
    mp.assertNoViolations();
    const b = await api(mp, 'GET', '/v1/payments/abc');
    eq([b.status, b.body.cause[0].code], [400, 4019], 'non-numeric');
    const c = await api(mp, 'GET', '/v1/orders/1');
    eq(c.status, 404, 'unknown route');
    eq(mp.takeViolations().map((v) => v.kind), ['bad-payment-id', 'unknown-route'], 'violations');
  });
});

// ---- webhooks ----

test('approve → payment.updated reaches the notification_url, signed as §1.7 says', async () => {
  await withFake({ notifyOnCreate: false }, async ({ mp, rx }) => {
    const p = await create(mp, rx);
    const out = mp.approve(p.id);
    eq([out.status, out.status_detail], ['approved', 'accredited'], 'approve() result');
    await until(() => rx.got.length === 1, { what: 'webhook' });
    const w = rx.got[0];
    eq([w.method, w.path], ['POST', '/api/webhooks/mercadopago'], 'target');
    eq(w.query, { source_news: 'webhooks', 'data.id': String(p.id), type: 'payment' }, 'query');
    eq([w.headers['content-type'], w.headers['x-retry'], w.headers['x-socket-timeout']], ['application/json', '0', '22000'], 'headers');
    match(w.headers['x-request-id'], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'x-request-id');
    const sig = parseSignatureHeader(w.headers['x-signature']);
    match(sig.ts, /^\d{13}$/, 'ts in ms');
    assert(Math.abs(Number(sig.ts) - Date.now()) < 5000, 'ts is now');
    // Recomputed by hand from the template, as the daemon's C code will.
    const manifest = `id:${p.id};request-id:${w.headers['x-request-id']};ts:${sig.ts};`;
    eq(sig.v1, crypto.createHmac('sha256', SECRET).update(manifest).digest('hex'), 'v1');
    const body = JSON.parse(w.text);
    eq(Object.keys(body).sort(), ['action', 'api_version', 'data', 'date_created', 'id', 'live_mode', 'type', 'user_id'], 'body keys');
    eq([body.type, body.action, body.api_version, body.live_mode, body.data], ['payment', 'payment.updated', 'v1', false, { id: String(p.id) }], 'body');
    assert(Number.isInteger(body.id), 'notification id is a number');
    const g = await api(mp, 'GET', `/v1/payments/${p.id}`);
    eq([g.body.status, g.body.status_detail], ['approved', 'accredited'], 'GET after approve');
    assert(g.body.date_approved, 'date_approved');
    await until(() => mp.deliveries()[0]?.state === 'delivered', { what: 'delivered' });
    eq(mp.deliveries()[0].attempts.map((a) => a.status), [200], 'one attempt');
    mp.assertNoViolations();
  });
});

test('retries until the receiver answers 200: fails twice, then delivered; X-Retry counts', async () => {
  await withFake({ notifyOnCreate: false }, async ({ mp, rx }) => {
    const p = await create(mp, rx);
    rx.script.push(500, 503);
    mp.approve(p.id);
    await until(() => mp.deliveries()[0]?.state === 'delivered', { what: 'delivered', timeout: 5000 });
    const d = mp.deliveries()[0];
    eq(d.attempts.map((a) => a.status), [500, 503, 200], 'attempts');
    eq(rx.got.map((g) => g.headers['x-retry']), ['0', '1', '2'], 'X-Retry');
    eq(new Set(rx.got.map((g) => g.headers['x-request-id'])).size, 1, 'same x-request-id');
    eq(new Set(rx.got.map((g) => g.text)).size, 1, 'same body');
    for (const g of rx.got) assert(verify(g).ok, 'each attempt verifies');
    // The schedule: 15 min × webhookTimeScale between the first attempts.
    const gap = d.attempts[1].at - d.attempts[0].at;
    assert(gap >= 15 * 60000 * 0.0002 - 5, `gap ${gap} ms`);
    mp.assertNoViolations();
  });
});

test('a receiver that hangs is timed out and retried; 204 is not an ack (violation, retried); gives up after the schedule', async () => {
  await withFake({ notifyOnCreate: false, webhookTimeoutMs: 200 }, async ({ mp, rx }) => {
    const p = await create(mp, rx);
    rx.script.push('hang', 204);
    mp.approve(p.id);
    await until(() => mp.deliveries()[0]?.state === 'delivered', { what: 'delivered' });
    const d = mp.deliveries()[0];
    eq(d.attempts.map((a) => [a.status, a.error]), [[0, 'timeout'], [204, undefined], [200, undefined]], 'attempts');
    eq(mp.takeViolations('webhook-ack-status').length, 1, '204 violation');
  });
  await withFake({ notifyOnCreate: false, webhookRetryDelaysMs: [10, 10] }, async ({ mp, rx }) => {
    const p = await create(mp, rx);
    rx.script.push(500, 500, 500, 500);
    mp.approve(p.id);
    await until(() => mp.deliveries()[0]?.state === 'gave_up', { what: 'gave up' });
    eq(mp.deliveries()[0].attempts.length, 3, '1 + 2 retries');
  });
});

test('legacy IPN too when notification_url lacks source_news; muteWebhooks loses notifications', async () => {
  await withFake({}, async ({ mp, rx }) => {
    const p = await create(mp, rx, { notification_url: rx.url });
    await until(() => rx.got.length === 2, { what: 'webhook + IPN' });
    const ipn = rx.got.find((g) => g.query.topic);
    const wh = rx.got.find((g) => g.query.type);
    eq(ipn.query, { topic: 'payment', id: String(p.id) }, 'IPN query');
    eq([ipn.headers['x-signature'], ipn.headers['x-request-id']], [undefined, undefined], 'IPN unsigned');
    eq(JSON.parse(ipn.text), { resource: String(p.id), topic: 'payment' }, 'IPN body');
    assert(verify(wh).ok, 'webhook signed');
    mp.muteWebhooks(true);
    mp.approve(p.id);
    await sleep(100);
    eq(rx.got.length, 2, 'nothing sent while muted');
    eq(mp.payment(p.id).status, 'approved', 'the payment changed anyway');
    mp.assertNoViolations();
  });
});

test('webhook variants of §5: each arrives as described and verifies (or not) accordingly', async () => {
  await withFake({ notifyOnCreate: false }, async ({ mp, rx }) => {
    const p = await create(mp, rx);
    const id = String(p.id);
    const sendOne = async (variant) => {
      const before = rx.got.length;
      const ds = await mp.sendWebhook(p.id, { variant });
      return { ds, got: rx.got.slice(before) };
    };

    let r = await sendOne('normal');
    eq([r.got.length, verify(r.got[0]).ok, r.ds[0].state], [1, true, 'delivered'], 'normal');

    r = await sendOne('duplicate');
    eq(r.got.length, 2, 'duplicate: two requests');
    eq([r.got[1].text, r.got[1].headers['x-request-id'], r.got[1].headers['x-signature']],
      [r.got[0].text, r.got[0].headers['x-request-id'], r.got[0].headers['x-signature']], 'duplicate: identical');
    assert(verify(r.got[1]).ok, 'duplicate verifies');

    r = await sendOne('outOfOrder');
    eq(r.got.map((g) => JSON.parse(g.text).action), ['payment.updated', 'payment.created'], 'out of order');
    assert(r.got.every((g) => verify(g).ok), 'out of order verifies');

    r = await sendOne('noRequestId');
    eq(r.got[0].headers['x-request-id'], undefined, 'no x-request-id');
    const s = parseSignatureHeader(r.got[0].headers['x-signature']);
    eq(s.v1, crypto.createHmac('sha256', SECRET).update(`id:${id};ts:${s.ts};`).digest('hex'), 'manifest without the pair');

    r = await sendOne('tsSeconds');
    match(parseSignatureHeader(r.got[0].headers['x-signature']).ts, /^\d{10}$/, 'ts in seconds');
    assert(verify(r.got[0]).ok, 'seconds verify');

    r = await sendOne('ipn');
    eq([r.got[0].query.topic, r.got[0].query.id, r.got[0].headers['x-signature']], ['payment', id, undefined], 'ipn');

    r = await sendOne('unknownPayment');
    const unknownId = r.got[0].query['data.id'];
    assert(unknownId !== id && verify(r.got[0]).ok, 'unknown payment, well signed');
    eq((await api(mp, 'GET', `/v1/payments/${unknownId}`)).status, 404, 'and MP does not know it');

    r = await sendOne('uppercaseId');
    match(r.got[0].query['data.id'], /^ORD01[0-9A-F]+$/, 'upper-case id');
    assert(verify(r.got[0]).ok, 'signed with case preserved');

    r = await sendOne('lowercaseSigned');
    assert(!verify(r.got[0]).ok, 'lower-case signed: fails as received');
    const g = r.got[0];
    assert(verifyWebhook({ secret: SECRET, header: g.headers['x-signature'], dataId: g.query['data.id'].toLowerCase(), requestId: g.headers['x-request-id'] }).ok, 'verifies lower-cased');

    r = await sendOne('stale');
    const staleTs = Number(parseSignatureHeader(r.got[0].headers['x-signature']).ts);
    assert(verify(r.got[0]).ok && Date.now() - staleTs >= 3600e3 - 1000, 'stale: valid but an hour old');

    r = await sendOne('forged');
    assert(!verify(r.got[0]).ok && verify(r.got[0], `${SECRET}-forged`).ok, 'forged: another secret');

    r = await sendOne('tamperedId');
    eq(r.got[0].query['data.id'], String(BigInt(id) + 1n), 'tampered id');
    assert(!verify(r.got[0]).ok, 'tampered fails');
    assert(verifyWebhook({ secret: SECRET, header: r.got[0].headers['x-signature'], dataId: id, requestId: r.got[0].headers['x-request-id'] }).ok, 'signed for the original id');

    r = await sendOne('noSignature');
    eq(r.got[0].headers['x-signature'], undefined, 'no signature');

    r = await sendOne('malformedSignature');
    eq(parseSignatureHeader(r.got[0].headers['x-signature']).v1, undefined, 'no v1');
    eq(verify(r.got[0]).reason, 'malformed', 'malformed');

    eq(mp.deliveries({ variant: 'forged' }).length, 1, 'deliveries filter');
    let threw = false;
    try { await mp.sendWebhook(p.id, { variant: 'nope' }); } catch { threw = true; }
    assert(threw, 'unknown variant throws');
    mp.assertNoViolations();
  });
});

test('a rejected forgery is not retried; a failed MP notification is', async () => {
  await withFake({ notifyOnCreate: false }, async ({ mp, rx }) => {
    const p = await create(mp, rx);
    rx.script.push(401);
    const [f] = await mp.sendWebhook(p.id, { variant: 'forged' });
    eq([f.state, f.attempts.length], ['failed', 1], 'forged: one attempt');
    rx.script.push(500);
    await mp.sendWebhook(p.id, { variant: 'normal' });
    await until(() => mp.deliveries({ variant: 'normal' })[0].state === 'delivered', { what: 'retried' });
  });
});

// ---- lifecycle and refunds ----

test('refunds: pending refused; partial, idempotent replay, over-refund refused, total; statuses follow', async () => {
  await withFake({ notifyOnCreate: false }, async ({ mp, rx }) => {
    const p = await create(mp, rx);
    const early = await api(mp, 'POST', `/v1/payments/${p.id}/refunds`, {});
    eq([early.status, early.body.cause[0].code], [400, 2018], 'pending: refused');
    eq(mp.takeViolations('refund-state').length, 1, 'violation');
    mp.approve(p.id);
    const key = crypto.randomUUID();
    const part = await api(mp, 'POST', `/v1/payments/${p.id}/refunds`, { amount: 30 }, { key });
    eq(part.status, 201, 'partial');
    eq([part.body.payment_id, part.body.amount, part.body.status], [p.id, 30, 'approved'], 'refund object');
    assert(Number.isInteger(part.body.id), 'refund id is a number');
    const again = await api(mp, 'POST', `/v1/payments/${p.id}/refunds`, { amount: 30 }, { key });
    eq([again.status, again.body.id], [201, part.body.id], 'replay: the same refund');
    let g = (await api(mp, 'GET', `/v1/payments/${p.id}`)).body;
    eq([g.status, g.status_detail, g.transaction_amount_refunded, g.refunds.length], ['approved', 'partially_refunded', 30, 1], 'after partial');
    const over = await api(mp, 'POST', `/v1/payments/${p.id}/refunds`, { amount: 70.01 });
    eq([over.status, over.body.cause[0].code], [400, 4037], 'over-refund');
    eq(mp.takeViolations('refund-amount').length, 1, 'violation');
    const noKey = await api(mp, 'POST', `/v1/payments/${p.id}/refunds`, {}, { key: null });
    eq(noKey.status, 400, 'refund without key');
    eq(mp.takeViolations('idempotency-key-missing').length, 1, 'violation');
    const total = await api(mp, 'POST', `/v1/payments/${p.id}/refunds`, {});
    eq([total.status, total.body.amount], [201, 70], 'total of the rest');
    g = (await api(mp, 'GET', `/v1/payments/${p.id}`)).body;
    eq([g.status, g.status_detail, g.transaction_amount_refunded], ['refunded', 'refunded', 100], 'refunded');
    const list = await api(mp, 'GET', `/v1/payments/${p.id}/refunds`);
    eq(list.body.map((r) => r.amount), [30, 70], 'refund list');
    eq((await api(mp, 'GET', `/v1/payments/${p.id}/refunds/${part.body.id}`)).body.id, part.body.id, 'get one refund');
    await until(() => rx.got.length === 3, { what: 'approve + 2 refund notifications' });
    assert(rx.got.every((w) => JSON.parse(w.text).action === 'payment.updated' && verify(w).ok), 'payment.updated each');
    // The control-side refund follows the same rules.
    const q = await create(mp, rx, { transaction_amount: 10 });
    mp.approve(q.id);
    eq(mp.refund(q.id, { amount: 2.5 }).amount, 2.5, 'control refund');
    eq(mp.payment(q.id).status_detail, 'partially_refunded', 'control refund status');
    mp.assertNoViolations();
  });
});

test('lifecycle controls: cancel by PUT, expire, reject, chargeback, setStatus, late approval, expiry at date_of_expiration', async () => {
  await withFake({ notifyOnCreate: false }, async ({ mp, rx }) => {
    const a = await create(mp, rx);
    const put = await api(mp, 'PUT', `/v1/payments/${a.id}`, { status: 'cancelled' });
    eq([put.status, put.body.status, put.body.status_detail], [200, 'cancelled', 'by_collector'], 'PUT cancel');
    const again = await api(mp, 'PUT', `/v1/payments/${a.id}`, { status: 'cancelled' });
    eq([again.status, again.body.cause[0].code], [400, 3005], 'cancel twice');
    eq(mp.takeViolations('cancel-state').length, 1, 'violation');

    const b = await create(mp, rx);
    eq(mp.expire(b.id).status_detail, 'expired', 'expire');
    let threw = false;
    try { mp.approve(b.id); } catch { threw = true; }
    assert(threw, 'approving an expired Pix needs force');
    eq(mp.approve(b.id, { force: true }).status, 'approved', 'late payment');
    eq(mp.chargeback(b.id).status, 'charged_back', 'chargeback');

    const c = await create(mp, rx);
    eq([mp.reject(c.id).status], ['rejected'], 'reject');
    eq(mp.setStatus(c.id, 'in_process', 'pending_review_manual').status_detail, 'pending_review_manual', 'setStatus');

    const d = await create(mp, rx, { date_of_expiration: mpDate(Date.now() + 31 * 60000) });
    mp.advanceTime(30 * 60000);
    eq(mp.payment(d.id).status, 'pending', 'not yet');
    mp.advanceTime(2 * 60000);
    eq([mp.payment(d.id).status, mp.payment(d.id).status_detail], ['cancelled', 'expired'], 'expired at date_of_expiration');
    await until(() => mp.deliveries({ paymentId: d.id }).length === 1, { what: 'expiry notification' });
    mp.assertNoViolations();
  });
});

// ---- faults ----

test('faults: 500 and 429 for the next calls, an answer lost after the work, a hang, a delay', async () => {
  await withFake({ notifyOnCreate: false }, async ({ mp, rx }) => {
    mp.failNext({ status: 500, count: 2, path: '/v1/payments' });
    const key = crypto.randomUUID();
    const body = pixBody(rx);
    eq((await api(mp, 'POST', '/v1/payments', body, { key })).status, 500, '1st');
    const second = await api(mp, 'POST', '/v1/payments', body, { key });
    eq([second.status, second.body.error, second.body.status], [500, 'internal_server_error', 500], '2nd');
    eq(mp.payments().length, 0, 'nothing created before the work');
    const ok = await api(mp, 'POST', '/v1/payments', body, { key });
    eq(ok.status, 201, '3rd');

    mp.failNext({ status: 429, method: 'GET' });
    eq((await api(mp, 'GET', `/v1/payments/${ok.body.id}`)).status, 429, '429');
    eq((await api(mp, 'GET', `/v1/payments/${ok.body.id}`)).status, 200, 'then fine');

    // The payment is made but the answer is lost: the retry with the same key finds it.
    mp.failNext({ status: 500, path: '/v1/payments', after: true });
    const k2 = crypto.randomUUID();
    eq((await api(mp, 'POST', '/v1/payments', body, { key: k2 })).status, 500, 'lost answer');
    eq(mp.payments().length, 2, 'but created');
    const retry = await api(mp, 'POST', '/v1/payments', body, { key: k2 });
    eq([retry.status, retry.body.id], [201, mp.payments()[1].id], 'retry finds it');

    mp.timeoutNext({ path: '/v1/payments/*' });
    let err = null;
    try {
      await fetch(`${mp.apiBase}/v1/payments/${ok.body.id}`, { headers: { Authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(300) });
    } catch (e) { err = e; }
    assert(err && /abort|timeout/i.test(err.name + err.message), `hang: ${err}`);

    mp.setDelay(200);
    const t0 = Date.now();
    eq((await api(mp, 'GET', `/v1/payments/${ok.body.id}`)).status, 200, 'delayed');
    assert(Date.now() - t0 >= 190, 'delay');
    mp.setDelay(0);
    eq(mp.requests({ status: 500 }).length, 3, 'request log has the faults');
    eq(mp.requests().filter((r) => r.fault).map((r) => r.fault), ['500', '500', '429', '500 after', 'timeout'], 'fault labels');
    mp.assertNoViolations();
  });
});

// ---- control over HTTP and the CLI ----

test('control over HTTP: approve, deliveries, sendWebhook, failNext, unknown method', async () => {
  await withFake({ notifyOnCreate: false }, async ({ mp, rx }) => {
    const p = await create(mp, rx);
    const ctl = (m, body) => fetch(`${mp.controlBase}${m}`, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) })
      .then(async (r) => ({ status: r.status, body: await r.json() }));
    const a = await ctl('approve', [p.id]);
    eq([a.status, a.body.status], [200, 'approved'], 'approve');
    await until(async () => (await ctl('deliveries', { paymentId: String(p.id) })).body.length === 1, { what: 'delivery' });
    const s = await ctl('sendWebhook', [p.id, { variant: 'forged' }]);
    eq([s.status, s.body[0].variant], [200, 'forged'], 'sendWebhook');
    eq((await ctl('failNext', { status: 503, path: '/v1/payments/*' })).status, 200, 'failNext');
    eq((await api(mp, 'GET', `/v1/payments/${p.id}`)).status, 503, 'fault applies');
    eq((await ctl('expire', [p.id])).status, 400, 'a throwing method answers 400');
    eq((await ctl('nope')).status, 404, 'unknown method');
    eq((await ctl('stats')).body.payments, 1, 'stats');
    eq((await ctl('violations')).body, [], 'violations');
  });
});

test('cli.mjs prints its JSON line, serves the API, and exits when stdin closes', async () => {
  const child = spawn(process.execPath, [path.join(HERE, '../fakes/mercadopago/cli.mjs'), '--access-token', TOKEN, '--webhook-secret', SECRET], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const line = await new Promise((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (c) => { buf += c; if (buf.includes('\n')) resolve(buf.split('\n')[0]); });
      child.on('exit', () => reject(new Error('exited early')));
    });
    const info = JSON.parse(line);
    eq(Object.keys(info).sort(), ['accessToken', 'apiBase', 'caFile', 'control', 'port', 'webhookSecret'], 'keys');
    eq([info.accessToken, info.webhookSecret, info.apiBase], [TOKEN, SECRET, `http://127.0.0.1:${info.port}`], 'values');
    const r = await fetch(`${info.apiBase}/v1/payments/1`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    eq(r.status, 404, 'API answers');
    const st = await fetch(`${info.control}stats`, { method: 'POST' }).then((x) => x.json());
    eq(st.requests, 1, 'control answers');
    const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    child.stdin.end();
    eq(await Promise.race([exited, sleep(3000).then(() => 'still running')]), 0, 'exit code');
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
  }
});
