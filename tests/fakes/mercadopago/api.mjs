// The Payments API pipeline: record → fault → auth → route → (delay) → answer. The routes are
// those of reference/payments.md §1.1 (create), §1.3 (get, cancel) and §1.4 (refunds). Every
// answer MP would give a correct client is not a violation; every refusal of a client's mistake
// (auth, missing idempotency key, invalid body, idempotency conflict, refund in a wrong state,
// unknown route) is one.
import { mpError, badRequest, validateCreate, amountError } from './validate.mjs';

const NOT_FOUND = mpError(404, 'not_found', 'Payment not found', [{ code: 2000, description: 'Payment not found', data: null }]);
const FAULT_BODIES = {
  429: { message: 'Too many requests', error: 'too_many_requests' },
  500: { message: 'Internal server error', error: 'internal_server_error' },
  502: { message: 'Bad gateway', error: 'bad_gateway' },
  503: { message: 'Service unavailable', error: 'service_unavailable' },
};

const ROUTES = [
  ['POST', /^\/v1\/payments$/, 'POST /v1/payments', createPayment],
  ['GET', /^\/v1\/payments\/([^/]+)$/, 'GET /v1/payments/{id}', getPayment],
  ['PUT', /^\/v1\/payments\/([^/]+)$/, 'PUT /v1/payments/{id}', updatePayment],
  ['POST', /^\/v1\/payments\/([^/]+)\/refunds$/, 'POST /v1/payments/{id}/refunds', createRefund],
  ['GET', /^\/v1\/payments\/([^/]+)\/refunds$/, 'GET /v1/payments/{id}/refunds', listRefunds],
  ['GET', /^\/v1\/payments\/([^/]+)\/refunds\/([^/]+)$/, 'GET /v1/payments/{id}/refunds/{refund_id}', getRefund],
];

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res, { status, body }) {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export async function handleApi(fake, req, res, url) {
  const started = Date.now();
  const text = await readBody(req);
  fake.expireDue();
  const key = req.headers['x-idempotency-key'];
  const entry = {
    at: started, method: req.method, path: url.pathname, query: url.search || '', route: null, status: null,
    idempotencyKey: key ?? null, auth: null, body: null, fault: null, ms: null,
  };
  fake.recordRequest(entry);
  let body;
  if (text) {
    try { body = JSON.parse(text); } catch { body = undefined; }
    entry.body = body === undefined ? text : body;
  }

  const fault = fake.takeFault(req.method, url.pathname);
  if (fault) entry.fault = fault.kind === 'hang' ? `timeout${fault.after ? ' after' : ''}` : `${fault.status}${fault.after ? ' after' : ''}`;
  const answerFault = () => {
    if (fault.kind === 'hang') { fake.held.add(res); res.on('close', () => fake.held.delete(res)); entry.status = 0; return; }
    const b = FAULT_BODIES[fault.status] || { message: 'error', error: 'error' };
    entry.status = fault.status;
    entry.ms = Date.now() - started;
    send(res, { status: fault.status, body: { ...b, status: fault.status, cause: [] } });
  };
  if (fault && !fault.after) return answerFault();

  const result = route(fake, req, url, entry, text, body);
  if (fault) return answerFault();
  if (fake.delayMs) await new Promise((r) => setTimeout(r, fake.delayMs));
  entry.status = result.status;
  entry.ms = Date.now() - started;
  send(res, result);
}

function route(fake, req, url, entry, text, body) {
  const v = (kind, message) => fake.violation(kind, message, { method: req.method, path: url.pathname });

  // Auth first, as an API gateway does: `Authorization: Bearer <access token>` (§1).
  const auth = req.headers.authorization;
  if (!auth) {
    entry.auth = 'missing';
    v('auth-missing', 'no Authorization header');
    return mpError(401, 'unauthorized', 'Must provide your access_token to proceed', []);
  }
  if (auth !== `Bearer ${fake.opts.accessToken}`) {
    entry.auth = 'invalid';
    v('auth-invalid', `Authorization is not "Bearer <the configured access token>"`);
    return mpError(401, 'unauthorized', 'invalid access token', []);
  }
  entry.auth = 'ok';

  const r = ROUTES.find(([m, re]) => m === req.method && re.test(url.pathname));
  if (!r) {
    const pathKnown = ROUTES.some(([, re]) => re.test(url.pathname));
    v('unknown-route', `${req.method} ${url.pathname} is not an API this fake (or MP, per the reference) has`);
    return pathKnown ? mpError(405, 'method_not_allowed', 'Method not allowed', []) : mpError(404, 'not_found', 'resource not found', []);
  }
  entry.route = r[2];
  if (['POST', 'PUT'].includes(req.method)) {
    // The SDK always sends JSON with Content-Type: application/json (§1).
    if (!/^application\/json\b/i.test(req.headers['content-type'] || '')) v('content-type', `Content-Type is ${req.headers['content-type'] ?? 'missing'}, expected application/json`);
    if (text && body === undefined) { v('invalid-json', 'the body is not JSON'); return badRequest(1, 'Params Error'); }
  }
  const params = r[1].exec(url.pathname).slice(1);
  return r[3](fake, { req, body, params, v, key: req.headers['x-idempotency-key'] });
}

// X-Idempotency-Key is "required": true on POST /v1/payments and on refunds (§1.1, §1.4).
function needKey(key, v) {
  if (typeof key === 'string' && key.trim()) return null;
  v('idempotency-key-missing', 'X-Idempotency-Key header missing');
  return badRequest(1, 'Header X-Idempotency-Key is required');
}

function conflict(v, key) {
  v('idempotency-conflict', `X-Idempotency-Key ${key} reused with a different body`);
  return mpError(409, 'conflict', 'X-Idempotency-Key already used with a different request', []);
}

function payment(fake, id, v) {
  if (!/^\d+$/.test(id)) {
    v('bad-payment-id', `payment id ${id} is not numeric`);
    return { error: badRequest(4019, 'payment_id attribute must be numeric') };
  }
  const p = fake.store.get(id);
  return p ? { p } : { error: NOT_FOUND };
}

function createPayment(fake, { body, v, key }) {
  const noKey = needKey(key, v);
  if (noKey) return noKey;
  // A retry with the same key and body gets the same payment (as it is now), even when the
  // body would no longer validate (its date_of_expiration is nearer now).
  const idem = fake.store.idempotency('payments', key, body);
  if (idem.conflict) return conflict(v, key);
  if (idem.replay) return { status: 201, body: fake.store.json(fake.store.get(idem.replay.paymentId)) };

  const now = fake.now();
  const checked = validateCreate(body, now);
  if (checked.error) {
    v('invalid-payment', `POST /v1/payments refused: ${checked.error.body.message}`);
    return checked.error;
  }
  for (const f of fake.opts.requireFields) {
    if (body[f] === undefined || body[f] === null || body[f] === '') v('missing-field', `the test expects ${f} in POST /v1/payments`);
  }
  const p = fake.store.create(body, { now, expiresAt: checked.value.expiresAt });
  if (fake.nextExpiry === undefined || p.expiresAt < fake.nextExpiry) fake.nextExpiry = p.expiresAt;
  fake.store.remember('payments', key, body, { paymentId: p.id });
  if (fake.opts.notifyOnCreate) fake.webhooks.notify(p, 'payment.created');
  return { status: 201, body: fake.store.json(p) };
}

function getPayment(fake, { params: [id], v }) {
  const { p, error } = payment(fake, id, v);
  return error || { status: 200, body: fake.store.json(p) };
}

// Only what §1.3 lists: cancelling a pending payment with {"status":"cancelled"}.
function updatePayment(fake, { params: [id], body, v }) {
  const { p, error } = payment(fake, id, v);
  if (error) return error;
  if (!body || typeof body !== 'object' || Object.keys(body).join() !== 'status') {
    v('unsupported-update', 'PUT /v1/payments/{id}: this fake only takes {"status":"cancelled"}');
    return badRequest(1, 'Params Error');
  }
  if (body.status !== 'cancelled') { v('invalid-update', `status ${body.status} cannot be set`); return badRequest(2016, 'Invalid status for update'); }
  if (p.status !== 'pending') {
    v('cancel-state', `cancel of a ${p.status} payment`);
    return badRequest(3005, 'Not valid action, the resource is in a state that does not allow this operation. For more information see the state that has the resource.');
  }
  return { status: 200, body: fake.change(p.id, 'cancelled', 'by_collector') };
}

// {} is a total refund, {"amount": x} a partial one (§1.4).
function createRefund(fake, { params: [id], body, v, key }) {
  const { p, error } = payment(fake, id, v);
  if (error) return error;
  const noKey = needKey(key, v);
  if (noKey) return noKey;
  const b = body ?? {};
  const idem = fake.store.idempotency(`refunds ${p.id}`, key, b);
  if (idem.conflict) return conflict(v, key);
  if (idem.replay) return { status: 201, body: { ...p.refunds.find((r) => r.id === idem.replay.refundId) } };

  if (typeof b !== 'object' || Array.isArray(b)) { v('invalid-refund', 'refund body is not an object'); return badRequest(1, 'Params Error'); }
  const unknown = Object.keys(b).filter((k) => k !== 'amount' && k !== 'metadata');
  if (unknown.length) { v('invalid-refund', `unknown refund fields ${unknown}`); return badRequest(8, `The name of the following parameters is wrong : [${unknown.join(', ')}]`); }
  if (b.amount !== undefined) {
    const e = amountError(b.amount, 'amount');
    if (e) { v('invalid-refund', `refund amount ${JSON.stringify(b.amount)}`); return e; }
  }
  const r = fake.store.refund(p, b.amount, fake.now());
  if (r.error === 'state') {
    v('refund-state', `refund of a ${p.status}/${p.statusDetail} payment`);
    return badRequest(2018, 'The action requested is not valid for the current payment state');
  }
  if (r.error === 'amount') {
    v('refund-amount', `refund of ${b.amount} exceeds what is left (${(p.amount - p.refundedCents) / 100})`);
    return badRequest(4037, 'Invalid amount');
  }
  fake.store.remember(`refunds ${p.id}`, key, b, { refundId: r.refund.id });
  fake.webhooks.notify(p, 'payment.updated');
  return { status: 201, body: { ...r.refund } };
}

function listRefunds(fake, { params: [id], v }) {
  const { p, error } = payment(fake, id, v);
  return error || { status: 200, body: p.refunds.map((r) => ({ ...r })) };
}

function getRefund(fake, { params: [id, rid], v }) {
  const { p, error } = payment(fake, id, v);
  if (error) return error;
  const r = p.refunds.find((x) => String(x.id) === rid);
  return r ? { status: 200, body: { ...r } } : mpError(404, 'not_found', 'Refund not found', []);
}
