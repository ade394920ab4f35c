// The checks Mercado Pago applies to a Pix `POST /v1/payments` and to refunds
// (reference/payments.md §1.1, §1.4, §5). Each failure is an MP error body
// {message, error, status, cause:[{code, description, data}]} with the code and text MP
// documents for it (the error table of the payments API reference, `payments.json`); where
// MP documents nothing the choice is written in README.md.

export function mpError(status, error, message, cause = []) {
  return { status, body: { message, error, status, cause } };
}

export const badRequest = (code, description, data = null) =>
  mpError(400, 'bad_request', description, [{ code, description, data }]);

// Top-level fields of MP's payment create request (sdk-nodejs PaymentCreateRequest); anything
// else is MP's error 8 "The name of the following parameters is wrong".
const KNOWN_FIELDS = new Set([
  'additional_info', 'application_fee', 'binary_mode', 'callback_url', 'campaign_id', 'capture', 'coupon_amount',
  'coupon_code', 'date_of_expiration', 'description', 'differential_pricing_id', 'external_reference',
  'installments', 'issuer_id', 'metadata', 'notification_url', 'payer', 'payment_method_id',
  'statement_descriptor', 'token', 'transaction_amount', 'transaction_details', 'point_of_interaction',
  'sponsor_id', 'three_d_secure_mode', 'net_amount', 'taxes', 'forward_data', 'payment_method',
]);

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// A positive amount in BRL with at most two decimals (cents), as a JSON number.
export function amountError(v, field) {
  if (v === undefined || v === null) return badRequest(field === 'amount' ? 4023 : 4002, `${field} attribute can't be null`);
  if (typeof v !== 'number' || !Number.isFinite(v)) return badRequest(field === 'amount' ? 4024 : 4003, `${field} attribute must be numeric`);
  // Compared in cents with a tolerance for binary floating point (19.99 * 100 = 1998.9999…).
  const cents = v * 100;
  if (v <= 0 || Math.abs(cents - Math.round(cents)) > 1e-6) return badRequest(4037, `Invalid ${field}`);
  return null;
}

// "yyyy-MM-dd'T'HH:mm:ss.SSSz", e.g. 2022-11-17T09:37:52.000-04:00 (payments.json). Error 23
// spells the format without milliseconds, so both are accepted; the zone must be a numeric
// offset (no "Z"), as in every MP example.
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{3})?([+-])(\d{2}):(\d{2})$/;

export function parseMpDate(s) {
  const m = typeof s === 'string' && DATE_RE.exec(s);
  if (!m) return null;
  const [, Y, M, D, h, mi, sec, , sign, oh, om] = m;
  if (+M < 1 || +M > 12 || +D < 1 || +h > 23 || +mi > 59 || +sec > 59 || +oh > 14 || +om > 59) return null;
  const utc = Date.UTC(+Y, +M - 1, +D, +h, +mi, +sec, m[7] ? +m[7].slice(1) : 0);
  const check = new Date(Date.UTC(+Y, +M - 1, +D));
  if (check.getUTCDate() !== +D) return null;    // 2026-02-30
  return utc - (sign === '-' ? -1 : 1) * (+oh * 60 + +om) * 60000;
}

export const MIN_EXPIRATION_MS = 30 * 60 * 1000;
export const MAX_EXPIRATION_MS = 30 * 24 * 3600 * 1000;

// → { error } or { value: normalized fields }.
export function validateCreate(body, now) {
  if (!isObject(body)) return { error: badRequest(1, 'Params Error') };
  const unknown = Object.keys(body).filter((k) => !KNOWN_FIELDS.has(k));
  if (unknown.length) return { error: badRequest(8, `The name of the following parameters is wrong : [${unknown.join(', ')}]`) };

  const amountErr = amountError(body.transaction_amount, 'transaction_amount');
  if (amountErr) return { error: amountErr };

  if (body.payment_method_id === undefined || body.payment_method_id === null) {
    return { error: badRequest(4001, "payment_method_id attribute can't be null") };
  }
  // Other methods exist at MP; this fake only does Pix, and the daemon only sends Pix.
  if (body.payment_method_id !== 'pix') return { error: badRequest(3028, 'Invalid payment_method_id') };

  if (!isObject(body.payer)) return { error: badRequest(4006, 'payer attribute is malformed') };
  const email = body.payer.email;
  if (typeof email !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    return { error: badRequest(4050, 'payer.email must be a valid email') };
  }
  if (email.length > 254) return { error: badRequest(4051, 'payer.email must be shorter than 254 characters') };

  for (const f of ['description', 'external_reference']) {
    if (body[f] !== undefined && body[f] !== null && typeof body[f] !== 'string') {
      return { error: badRequest(1, `${f} must be a string`) };
    }
  }

  if (body.notification_url !== undefined && body.notification_url !== null) {
    const u = body.notification_url;
    let ok = typeof u === 'string';
    if (ok) {
      try { ok = ['http:', 'https:'].includes(new URL(u).protocol); } catch { ok = false; }
    }
    if (!ok) return { error: badRequest(4020, 'notificaction_url attribute must be url valid') };
    if (u.length > 248) return { error: badRequest(4021, 'notificaction_url attribute must be shorter than 248 characters') };
  }

  if (body.metadata !== undefined && body.metadata !== null && !isObject(body.metadata)) {
    return { error: badRequest(4022, 'metadata attribute must be a valid JSON') };
  }

  let expiresAt = now + 24 * 3600 * 1000;   // the Pix default
  if (body.date_of_expiration !== undefined && body.date_of_expiration !== null) {
    const t = parseMpDate(body.date_of_expiration);
    if (t === null) {
      return { error: badRequest(23, "The following parameters must be valid date and format (yyyy-MM-dd'T'HH:mm:ssz) date_of_expiration") };
    }
    if (t - now < MIN_EXPIRATION_MS || t - now > MAX_EXPIRATION_MS) {
      return { error: badRequest(1, 'date_of_expiration must be between 30 minutes and 30 days from now') };
    }
    expiresAt = t;
  }
  return { value: { expiresAt } };
}
