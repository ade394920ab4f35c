// Mercado Pago's webhook signature (reference/payments.md §1.7), on its own so that C unit
// tests and e2e tests can check their verifier against the same worked examples:
//
//   manifest = "id:<data.id>;request-id:<x-request-id>;ts:<ts>;"   (trailing ';' always)
//   v1       = hex(HMAC-SHA256(key = webhook secret, msg = manifest))
//   header   = "x-signature: ts=<ts>,v1=<v1>"
//
// Omission rule (the official SDKs): a missing, empty or blank data.id drops the whole
// "id:…;" pair, a missing x-request-id drops "request-id:…;"; "ts:…;" is always there.
// data.id is used with its case preserved (the SDKs' 2026 fix); `ts` is signed verbatim, so
// its unit (ms or s) only matters to a tolerance check.
import crypto from 'node:crypto';

const present = (v) => v !== undefined && v !== null && String(v).trim() !== '';

export function buildManifest({ dataId, requestId, ts }) {
  if (!present(ts)) throw new Error('buildManifest: ts is required');
  let m = '';
  if (present(dataId)) m += `id:${String(dataId).trim()};`;
  if (present(requestId)) m += `request-id:${String(requestId).trim()};`;
  return `${m}ts:${String(ts).trim()};`;
}

// → { manifest, v1, header } where header is the x-signature value.
export function signWebhook({ secret, dataId, requestId, ts }) {
  if (typeof secret !== 'string' || !secret) throw new Error('signWebhook: secret is required');
  const manifest = buildManifest({ dataId, requestId, ts });
  const v1 = crypto.createHmac('sha256', secret).update(manifest).digest('hex');
  return { manifest, v1, header: `ts=${String(ts).trim()},v1=${v1}` };
}

// Splits "ts=…,v1=…" on ',' then on the first '='; unknown keys are kept but ignored.
export function parseSignatureHeader(header) {
  const out = {};
  for (const part of String(header ?? '').split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

// What a receiver does (the SDK validators): → { ok, reason, ts }. Used by the fake's own
// tests; the daemon has its own C implementation checked against the same examples.
export function verifyWebhook({ secret, header, dataId, requestId }) {
  const p = parseSignatureHeader(header);
  if (!present(p.ts) || !present(p.v1)) return { ok: false, reason: 'malformed' };
  const want = Buffer.from(signWebhook({ secret, dataId, requestId, ts: p.ts }).v1, 'hex');
  const got = /^[0-9a-f]{64}$/i.test(p.v1) ? Buffer.from(p.v1, 'hex') : Buffer.alloc(0);
  const ok = got.length === want.length && crypto.timingSafeEqual(got, want);
  return { ok, reason: ok ? null : 'mismatch', ts: p.ts };
}

// The worked examples of §1.7, reproduced by the tests (and usable as C test vectors).
export const WORKED_EXAMPLES = [
  { secret: 'mp_test_webhook_secret_123', dataId: '123456789', requestId: '2066ca19-c6f1-498a-be75-1923005edd06',
    ts: '1742505638683', v1: '663718770990e5ece9551d3eab1da553039a1cff9a1f7c8fec944378d04a158f' },
  { secret: 'mp_test_webhook_secret_123', dataId: '123456789', requestId: undefined,
    ts: '1742505638683', v1: '37c0161030779fb2d58156bab5ba643963fa5f2545ea6c7a8b91f1aed41ca78e' },
  { secret: 'mp_test_webhook_secret_123', dataId: 'ord01jq4s4ky8hwq6na5pxb65b3d3', requestId: '2066ca19-c6f1-498a-be75-1923005edd06',
    ts: '1742505638683', v1: 'b20cff2248c36889b51b60ba57c96a423cbc033ebc86cd45b9937cc65bf441f1' },
  { secret: 'mp_test_webhook_secret_123', dataId: 'ORD01JQ4S4KY8HWQ6NA5PXB65B3D3', requestId: '2066ca19-c6f1-498a-be75-1923005edd06',
    ts: '1742505638683', v1: '20fc2f847085943865ee88fcf195b1df9fbae1eae29f013942f994fb8c796cf5' },
];
