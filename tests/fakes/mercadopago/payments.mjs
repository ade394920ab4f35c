// The fake's payments: creation, the Pix lifecycle (reference/payments.md §1.2), refunds (§1.4),
// idempotency keys (§1.1), and the PaymentResponse JSON MP returns (§1.1, sdk-nodejs
// PaymentResponse). Money is kept in integer cents; the JSON shows reais as MP does.
import crypto from 'node:crypto';
import { pixPayload, pngFor } from './pix.mjs';

// MP's API answers dates in its own zone, e.g. 2022-11-17T09:37:52.000-04:00 (payments.json):
// a client that ignores the offset is off by hours, which the tests should see.
const MP_OFFSET_MIN = -4 * 60;

export function mpDate(ms) {
  if (ms === null || ms === undefined) return null;
  const d = new Date(ms + MP_OFFSET_MIN * 60000);
  const iso = d.toISOString().replace('Z', '');
  const sign = MP_OFFSET_MIN < 0 ? '-' : '+';
  const off = Math.abs(MP_OFFSET_MIN);
  return `${iso}${sign}${String(Math.floor(off / 60)).padStart(2, '0')}:${String(off % 60).padStart(2, '0')}`;
}

// Default status_detail per status (the "Get payment status" table in §1.2).
export const DEFAULT_DETAIL = {
  pending: 'pending_waiting_transfer',
  approved: 'accredited',
  authorized: 'pending_capture',
  in_process: 'pending_review_manual',
  in_mediation: null,
  rejected: 'bank_error',
  cancelled: 'expired',
  refunded: 'refunded',
  charged_back: 'settled',
};

const cents = (reais) => Math.round(reais * 100);
const reais = (c) => c / 100;

// Canonical JSON (sorted keys), so that a retry that only reorders keys is "the same body".
export function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

export class Payments {
  constructor({ firstPaymentId, firstRefundId, collectorId, httpBase }) {
    this.byId = new Map();
    this.idem = new Map();            // "<scope> <key>" → { hash, paymentId, refundId }
    this.nextId = BigInt(firstPaymentId);
    this.nextRefundId = BigInt(firstRefundId);
    this.collectorId = collectorId;
    this.httpBase = httpBase;
  }

  // ---- idempotency (X-Idempotency-Key) ----

  // → { replay: record } for the same key and body, { conflict: true } for the same key and
  // another body, {} for a new key. `scope` separates payments from each payment's refunds.
  idempotency(scope, key, body) {
    const hit = this.idem.get(`${scope} ${key}`);
    if (!hit) return {};
    return hit.hash === canonical(body ?? null) ? { replay: hit } : { conflict: true };
  }

  remember(scope, key, body, rec) {
    this.idem.set(`${scope} ${key}`, { hash: canonical(body ?? null), ...rec });
  }

  // ---- payments ----

  create(body, { now, expiresAt }) {
    const id = String(this.nextId++);
    const amount = cents(body.transaction_amount);
    const txid = crypto.randomBytes(12).toString('hex');
    const qr = pixPayload({ amount: reais(amount), txid, location: `pix.fake-mercadopago.test/qr/v2/${txid}` });
    const p = {
      id, amount, refundedCents: 0, refunds: [], body,
      status: 'pending', statusDetail: DEFAULT_DETAIL.pending,
      createdAt: now, updatedAt: now, approvedAt: null, expiresAt,
      qrCode: qr, qrPng: pngFor(qr).toString('base64'),
      ticketUrl: `${this.httpBase}/payments/${id}/ticket?caller_id=${this.collectorId}&hash=${crypto.randomUUID()}`,
    };
    this.byId.set(id, p);
    return p;
  }

  get(id) { return this.byId.get(String(id)) || null; }

  need(id) {
    const p = this.get(id);
    if (!p) throw new Error(`unknown payment ${id}`);
    return p;
  }

  setStatus(p, status, detail, now) {
    if (!(status in DEFAULT_DETAIL)) throw new Error(`unknown status ${status}`);
    p.status = status;
    p.statusDetail = detail === undefined ? DEFAULT_DETAIL[status] : detail;
    p.updatedAt = now;
    if (status === 'approved' && !p.approvedAt) p.approvedAt = now;
    return p;
  }

  // → { error: 'state' | 'amount' } or { refund }. `amountReais` undefined: the rest (total).
  refund(p, amountReais, now) {
    if (p.status !== 'approved') return { error: 'state' };
    const left = p.amount - p.refundedCents;
    const c = amountReais === undefined ? left : cents(amountReais);
    if (c <= 0 || c > left) return { error: 'amount' };
    const r = {
      id: Number(this.nextRefundId++), payment_id: Number(p.id), amount: reais(c), metadata: {},
      source: { id: String(this.collectorId), name: 'Astra Fake Collector', type: 'collector' },
      date_created: mpDate(now), unique_sequence_number: null, refund_mode: 'standard', adjustment_amount: 0,
      status: 'approved', reason: null, amount_refunded_to_payer: reais(c), labels: [], partition_details: [],
    };
    p.refunds.push(r);
    p.refundedCents += c;
    if (p.refundedCents === p.amount) this.setStatus(p, 'refunded', 'refunded', now);
    else this.setStatus(p, 'approved', 'partially_refunded', now);
    return { refund: r };
  }

  // The PaymentResponse object (the excerpt of §1.1 plus the fields sdk-nodejs lists).
  json(p) {
    const b = p.body;
    const payer = { id: null, type: null, email: b.payer.email, identification: b.payer.identification ?? { type: null, number: null },
      first_name: b.payer.first_name ?? null, last_name: b.payer.last_name ?? null, entity_type: null, phone: null, operator_id: null };
    const paid = ['approved', 'refunded', 'charged_back', 'in_mediation'].includes(p.status);
    return {
      id: Number(p.id),
      date_created: mpDate(p.createdAt),
      date_approved: mpDate(p.approvedAt),
      date_last_updated: mpDate(p.updatedAt),
      date_of_expiration: mpDate(p.expiresAt),
      money_release_date: p.approvedAt ? mpDate(p.approvedAt) : null,
      money_release_status: p.approvedAt ? 'released' : null,
      operation_type: 'regular_payment',
      issuer_id: null,
      payment_method_id: 'pix',
      payment_type_id: 'bank_transfer',
      payment_method: { id: 'pix', type: 'bank_transfer', issuer_id: null },
      status: p.status,
      status_detail: p.statusDetail,
      currency_id: 'BRL',
      description: b.description ?? null,
      live_mode: false,
      sponsor_id: null,
      authorization_code: null,
      collector_id: this.collectorId,
      payer,
      metadata: b.metadata ?? {},
      additional_info: b.additional_info ?? {},
      external_reference: b.external_reference ?? null,
      transaction_amount: reais(p.amount),
      transaction_amount_refunded: reais(p.refundedCents),
      coupon_amount: 0,
      installments: 1,
      transaction_details: {
        net_received_amount: paid ? reais(p.amount) : 0, total_paid_amount: reais(p.amount), overpaid_amount: 0,
        external_resource_url: null, installment_amount: 0, financial_institution: null, transaction_id: null,
      },
      fee_details: [],
      captured: true,
      binary_mode: b.binary_mode ?? false,
      statement_descriptor: null,
      notification_url: b.notification_url ?? null,
      callback_url: b.callback_url ?? null,
      refunds: p.refunds.map((r) => ({ ...r })),
      point_of_interaction: {
        type: 'PIX', sub_type: null,
        application_data: { name: null, version: null },
        transaction_data: {
          qr_code: p.qrCode, qr_code_base64: p.qrPng, ticket_url: p.ticketUrl,
          transaction_id: paid ? `PIXE${p.id}` : null, bank_transfer_id: null, financial_institution: null,
          bank_info: { payer: { account_id: null, id: null, long_name: null }, collector: { account_id: null, long_name: 'Astra Fake Collector', account_holder_name: 'Astra Fake Collector' }, is_same_bank_account_owner: null },
        },
      },
    };
  }
}
