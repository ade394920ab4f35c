// Orders and customers written straight into a stopped daemon's data directory, the way the
// selling flow will have left them: the records carry their internal fields too (instanceId,
// couponId, stockIds, the payment's QR code and raw answer), so that tests can check that the
// portal never shows them. Deterministic: the same seed gives the same records.
//
// Files (src/store/schema.c): data/orders.json {"version":1,"seq":N,"orders":{id:record}} and
// data/customers.json {"version":1,"seq":N,"customers":{id:record}}. Write them only while the
// daemon is stopped (it checkpoints over them otherwise); existing records are kept.
//
// Order record: {id, instanceId, code, status, buyerId, buyerName, items:[{productId,
// variationId, productName, variationName, quantity, unitCents, stockIds}], subtotalCents,
// discountCents, totalCents, currency, couponId, coupon:{id,code}|null, payment:{provider, id,
// status, qrCode, qrCodeBase64, raw}|null, stockIds, createdAt, paidAt, deliveredAt,
// expiresAt, timeline:[{at, status, detail?}]}.
// Customer record: {id, instanceId, discordId, username, firstPurchaseAt, lastPurchaseAt,
// orderCount, totalSpentCents}: one per (instance, buyer) with at least one paid order; the
// counts cover the paid orders (paidAt set), the times are their paidAt.
import fs from 'node:fs';
import path from 'node:path';

export const ORDER_STATUSES = ['pending', 'paid', 'delivered', 'waiting_stock', 'failed',
  'expired', 'cancelled', 'refunded', 'charged_back'];

// Statuses an order reaches only after its payment was approved.
const PAID = new Set(['paid', 'delivered', 'waiting_stock', 'refunded', 'charged_back']);

// A small seeded PRNG (mulberry32): reproducible data without a dependency.
export function rng(seed = 1) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (n) => Math.floor(next() * n);
  next.pick = (list) => list[next.int(list.length)];
  return next;
}

const CODE_CHARS = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export function orderCode(r) {
  let s = '';
  for (let i = 0; i < 8; i++) s += CODE_CHARS[r.int(CODE_CHARS.length)];
  return s;
}

// A Discord snowflake-looking id (17-19 digits).
export function snowflake(r) {
  let s = String(1 + r.int(9));
  for (let i = 0; i < 17; i++) s += String(r.int(10));
  return s;
}

const uuid = (r) => {
  const h = Array.from({ length: 32 }, () => '0123456789abcdef'[r.int(16)]).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
};

// One order record with everything the selling flow stores. items: [{product, variation?,
// quantity}] with product {id, name, priceCents} and variation {id, name, priceCents}.
export function orderRecord({
  r = rng(7), instanceId, id = uuid(r), code = orderCode(r), status = 'delivered', buyer,
  items, createdAt = Date.now(), coupon = null, currency = 'BRL',
}) {
  const lines = items.map(({ product, variation = null, quantity = 1 }) => ({
    productId: product.id, variationId: variation ? variation.id : null,
    productName: product.name, variationName: variation ? variation.name : null,
    quantity, unitCents: (variation || product).priceCents,
    stockIds: PAID.has(status) && status !== 'waiting_stock'
      ? Array.from({ length: quantity }, () => uuid(r)) : [],
  }));
  const subtotalCents = lines.reduce((s, l) => s + l.quantity * l.unitCents, 0);
  let discountCents = 0;
  if (coupon) {
    discountCents = coupon.type === 'fixed' ? Math.min(coupon.value, subtotalCents)
      : Math.floor(subtotalCents * coupon.value / 100);
  }
  const paidAt = PAID.has(status) ? createdAt + 30000 + r.int(600000) : null;
  const deliveredAt = ['delivered', 'refunded', 'charged_back'].includes(status)
    ? paidAt + 1000 + r.int(5000) : null;
  const timeline = [{ at: createdAt, status: 'pending' }];
  if (paidAt) timeline.push({ at: paidAt, status: 'paid' });
  if (status === 'waiting_stock') timeline.push({ at: paidAt + 500, status: 'waiting_stock' });
  if (deliveredAt) timeline.push({ at: deliveredAt, status: 'delivered', detail: 'dm' });
  if (status === 'refunded' || status === 'charged_back') {
    timeline.push({ at: deliveredAt + 86400000, status });
  }
  const endAt = createdAt + 15 * 60000;
  if (['failed', 'expired', 'cancelled'].includes(status)) {
    timeline.push({ at: endAt, status, ...(status === 'failed' ? { detail: 'payment_rejected' } : {}) });
  }
  const paymentStatus = {
    pending: 'pending', paid: 'approved', delivered: 'approved', waiting_stock: 'approved',
    failed: 'rejected', expired: 'expired', cancelled: 'cancelled', refunded: 'refunded',
    charged_back: 'charged_back',
  }[status];
  const payId = String(10 ** 10 + r.int(9 * 10 ** 10));
  const qr = `00020126580014br.gov.bcb.pix0136${uuid(r)}5204000053039865802BR5913ASTRA${payId}6304ABCD`;
  return {
    id, instanceId, code, status, buyerId: buyer.id, buyerName: buyer.name,
    items: lines, subtotalCents, discountCents, totalCents: subtotalCents - discountCents, currency,
    couponId: coupon ? coupon.id : null,
    coupon: coupon ? { id: coupon.id, code: coupon.code } : null,
    payment: {
      provider: 'mercadopago', id: payId, status: paymentStatus,
      qrCode: qr, qrCodeBase64: Buffer.from(qr).toString('base64'),
      raw: { id: Number(payId), status: paymentStatus, point_of_interaction: { transaction_data: { qr_code: qr } } },
    },
    stockIds: lines.flatMap((l) => l.stockIds),
    createdAt, paidAt, deliveredAt, expiresAt: endAt, timeline,
  };
}

// Customers from orders: one per (instance, buyer) with a paid order.
export function customersFrom(orders, { r = rng(11) } = {}) {
  const by = new Map();
  for (const o of orders) {
    if (!o.paidAt) continue;
    const k = `${o.instanceId}/${o.buyerId}`;
    let c = by.get(k);
    if (!c) {
      c = { id: uuid(r), instanceId: o.instanceId, discordId: o.buyerId, username: o.buyerName,
        firstPurchaseAt: o.paidAt, lastPurchaseAt: o.paidAt, orderCount: 0, totalSpentCents: 0 };
      by.set(k, c);
    }
    c.firstPurchaseAt = Math.min(c.firstPurchaseAt, o.paidAt);
    c.lastPurchaseAt = Math.max(c.lastPurchaseAt, o.paidAt);
    c.orderCount += 1;
    c.totalSpentCents += o.totalCents;
  }
  return [...by.values()];
}

// A catalog and buyers for makeOrders: products with and without variations.
export function sampleCatalog(r = rng(3)) {
  const p = (name, priceCents, variations = []) => ({
    id: uuid(r), name, priceCents,
    variations: variations.map(([vn, vc]) => ({ id: uuid(r), name: vn, priceCents: vc })),
  });
  return [
    p('Conta Premium', 1990, [['30 dias', 1990], ['90 dias', 4990]]),
    p('Gift Card Steam', 5000),
    p('Licença Office', 8990),
    p('Passe de Batalha', 2490, [['Temporada 1', 2490]]),
    p('Açaí Digital', 990),
  ];
}

export function sampleBuyers(n = 12, r = rng(5)) {
  const names = ['comprador', 'Maria_Silva', 'joão.pedro', 'NightOwl', 'ana-beatriz', 'Zé',
    'lucas_gamer', 'FERNANDA', 'otávio', 'KiraX', 'bruno99', 'Íris'];
  return Array.from({ length: n }, (_, i) => ({ id: snowflake(r), name: names[i % names.length] + (i >= names.length ? i : '') }));
}

// count orders of one instance spread over the statuses, buyers, products and `days` days
// before `now`; a few share a millisecond (ties sort by id). coupons: [{id, code, type, value}].
export function makeOrders({ instanceId, count, buyers, products, coupons = [], now = Date.now(), days = 60, seed = 1 }) {
  const r = rng(seed);
  const out = [];
  for (let i = 0; i < count; i++) {
    const status = ORDER_STATUSES[i % ORDER_STATUSES.length];
    const product = r.pick(products);
    const variation = product.variations.length ? r.pick(product.variations) : null;
    const items = [{ product, variation, quantity: 1 + (r() < 0.2 ? 1 : 0) }];
    if (r() < 0.15) {
      const other = r.pick(products);
      items.push({ product: other, variation: other.variations[0] || null, quantity: 1 });
    }
    const createdAt = i > 0 && i % 17 === 0 ? out[i - 1].createdAt
      : now - Math.floor(r() * days * 86400000);
    out.push(orderRecord({
      r, instanceId, status, buyer: r.pick(buyers), items, createdAt,
      coupon: coupons.length && r() < 0.3 ? r.pick(coupons) : null,
    }));
  }
  return out;
}

function writeColl(dataDir, file, key, records) {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const p = path.join(dataDir, file);
  const doc = fs.existsSync(p) ? JSON.parse(fs.readFileSync(p, 'utf8')) : { version: 1, seq: 0 };
  doc[key] = doc[key] || {};
  for (const rec of records) doc[key][rec.id] = rec;
  fs.writeFileSync(p, JSON.stringify(doc), { mode: 0o600 });
}

export const seedOrders = (dataDir, orders) => writeColl(dataDir, 'orders.json', 'orders', orders);
export const seedCustomers = (dataDir, customers) => writeColl(dataDir, 'customers.json', 'customers', customers);

// What the portal shows of an order and a customer (docs/api-portal.md), for comparisons.
export function orderView(o) {
  return {
    id: o.id, code: o.code, status: o.status, buyerId: o.buyerId, buyerName: o.buyerName,
    items: o.items.map((l) => ({ productId: l.productId, variationId: l.variationId,
      productName: l.productName, variationName: l.variationName, quantity: l.quantity, unitCents: l.unitCents })),
    subtotalCents: o.subtotalCents, discountCents: o.discountCents, totalCents: o.totalCents,
    currency: o.currency, coupon: o.coupon,
    payment: o.payment ? { provider: o.payment.provider, id: o.payment.id, status: o.payment.status } : null,
    createdAt: o.createdAt, paidAt: o.paidAt, deliveredAt: o.deliveredAt,
    timeline: o.timeline.map((t) => ({ at: t.at, status: t.status, ...(t.detail ? { detail: t.detail } : {}) })),
    // seeded orders have no outbox entry nor delivery record
    delivery: null,
  };
}

export function customerView(c) {
  return { id: c.id, discordId: c.discordId, username: c.username, firstPurchaseAt: c.firstPurchaseAt,
    lastPurchaseAt: c.lastPurchaseAt, orderCount: c.orderCount, totalSpentCents: c.totalSpentCents };
}

// The portal's order: createdAt, then id, both descending (customers: lastPurchaseAt).
export const newestFirst = (field) => (a, b) =>
  (b[field] - a[field]) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

// The portal's q: a substring in any ASCII case (other characters compare exactly).
const fold = (s) => String(s ?? '').replace(/[A-Z]/g, (c) => c.toLowerCase());
export const icontains = (hay, q) => fold(hay).includes(fold(q));
export function orderMatches(o, { status, q, from, to } = {}) {
  if (status && o.status !== status) return false;
  if (from !== undefined && o.createdAt < from) return false;
  if (to !== undefined && o.createdAt > to) return false;
  if (q && ![o.code, o.buyerName, o.buyerId, ...o.items.map((l) => l.productName)].some((h) => icontains(h, q))) return false;
  return true;
}
