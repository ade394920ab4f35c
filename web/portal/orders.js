// The "Pedidos" tab: orders filtered by status, text and date range (kept in the URL's query
// so a reload or the back button keeps them), "Carregar mais", and one order's page with
// its items, totals, coupon, payment, delivery and timeline; a failed delivery can be retried.
import { t } from '/shared/i18n.js';
import { get, post } from '/shared/api.js';
import { h, field } from './dom.js';
import {
  money, when, table, pager, options, orderBadge, ORDER_STATUSES, dayStart, dayEnd, tn,
  loading, empty, apiBase, appBase, qs,
} from './ui.js';

// The list's query, so "← Pedidos" from an order returns to the same filtered list.
let lastQuery = '';

export function renderOrders(inst, ctx) {
  return ctx.sub ? orderPage(inst, ctx.sub) : orderList(inst, ctx);
}

function itemsText(o) {
  return (o.items || []).map((i) => `${i.quantity > 1 ? `${i.quantity}× ` : ''}${i.productName}${i.variationName ? ` (${i.variationName})` : ''}`).join(', ');
}

// The order table, shared with a customer's page.
export function ordersTable(inst, orders, { buyer = true } = {}) {
  const base = appBase(inst.id);
  return table([
    { label: t('order.code'), cell: (o) => h('a', { href: `${base}/orders/${encodeURIComponent(o.id)}`, 'data-link': true }, h('code', {}, o.code || o.id)) },
    { label: t('order.date'), cell: (o) => when(o.createdAt) },
    ...(buyer ? [{ label: t('order.buyer'), cell: (o) => o.buyerName || o.buyerId || '—' }] : []),
    { label: t('order.items'), cell: itemsText },
    { label: t('order.total'), cell: (o) => money(o.totalCents) },
    { label: t('order.status'), cell: (o) => orderBadge(o.status) },
  ], orders, { caption: t('tab.orders'), rowAttrs: (o) => ({ 'data-id': o.id }) });
}

function orderList(inst, ctx) {
  const api = apiBase(inst.id);
  const params = new URLSearchParams(location.search);
  lastQuery = location.search;
  const f = {
    status: field({ id: 'order-status', label: t('order.status'), type: 'select' }),
    q: field({ id: 'order-q', label: t('order.search'), type: 'search', value: params.get('q') || '', attrs: { autocomplete: 'off', placeholder: t('order.search_hint') } }),
    from: field({ id: 'order-from', label: t('order.from'), type: 'date', value: params.get('from') || '' }),
    to: field({ id: 'order-to', label: t('order.to'), type: 'date', value: params.get('to') || '' }),
  };
  options(f.status.input, [['', t('order.all')], ...ORDER_STATUSES.map((s) => [s, t(`order.st.${s}`)])], params.get('status') || '');
  const apply = h('button', { type: 'submit' }, t('ui.filter'));
  const clear = h('button', { type: 'button', class: 'secondary' }, t('ui.clear'));
  const filters = h('form', { class: 'card filters', role: 'search', novalidate: true },
    h('div', { class: 'filter-grid' }, f.status.wrap, f.q.wrap, f.from.wrap, f.to.wrap),
    h('div', { class: 'actions' }, apply, clear));
  const go = (query) => ctx.navigate(`${appBase(inst.id)}/orders${query}`);
  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (f.from.input.value && f.to.input.value && f.to.input.value < f.from.input.value) {
      f.to.setError(t('order.range_bad')); f.to.input.focus(); return;
    }
    go(qs({ status: f.status.input.value, q: f.q.input.value.trim(), from: f.from.input.value, to: f.to.input.value }));
  });
  clear.addEventListener('click', () => go(''));

  const count = h('p', { class: 'hint', id: 'order-count' });
  const body = h('div', {}, loading());
  let tbody = null;
  const query = {
    status: params.get('status'), q: params.get('q'),
    from: dayStart(params.get('from')), to: dayEnd(params.get('to')), limit: 50,
  };
  const p = pager(async (cursor) => {
    const r = await get(`${api}/orders${qs({ ...query, cursor })}`);
    count.textContent = tn('order.count', r.total ?? r.orders.length);
    return { rows: r.orders, next: r.nextCursor };
  }, (rows, first) => {
    if (first) {
      if (!rows.length) { body.replaceChildren(empty(location.search ? t('order.none_match') : t('order.empty'))); tbody = null; return; }
      const tb = ordersTable(inst, rows);
      tbody = tb.querySelector('tbody');
      body.replaceChildren(tb);
    } else if (tbody) {
      tbody.append(...ordersTable(inst, rows).querySelector('tbody').children);
    }
  });
  p.reload();
  return h('div', { 'data-tab': 'orders' }, filters,
    h('section', { class: 'card' }, h('h2', {}, t('tab.orders')), count, body, p.el));
}

function row(label, ...value) {
  return [h('dt', {}, label), h('dd', {}, ...value)];
}

export function orderPage(inst, oid) {
  const root = h('div', { 'data-tab': 'orders' },
    h('a', { href: `${appBase(inst.id)}/orders${lastQuery}`, 'data-link': true, class: 'back' }, t('order.back')), loading());
  get(`${apiBase(inst.id)}/orders/${encodeURIComponent(oid)}`).then((o) => {
    root.lastChild.replaceWith(orderView(o, inst));
  }, (e) => root.lastChild.replaceWith(h('p', { class: 'notice err' }, e.status === 404 ? t('order.not_found') : e.message)));
  return root;
}

// The delivery card: how the keys reached the buyer, and "Tentar novamente" on a failed one
// (POST …/orders/:oid/retry puts it back in the outbox; the page then shows the new state).
function deliveryCard(o, inst) {
  const d = o.delivery;
  if (!d) return [];
  const facts = h('dl', {},
    row(t('order.status'), t(`order.delivery_status.${d.status}`)),
    d.channel ? row(t('order.delivery_channel'), t(`order.delivery_via.${d.channel}`)) : [],
    row(t('order.delivery_attempts'), String(d.attempts ?? 0)),
    d.lastError ? row(t('order.delivery_error'), h('code', {}, d.lastError)) : []);
  const card = h('section', { class: 'card', 'data-section': 'delivery' }, h('h2', {}, t('order.delivery')), facts);
  if (d.status === 'failed' && inst) {
    const btn = h('button', { type: 'button', 'data-action': 'retry' }, t('order.retry'));
    const note = h('p', { class: 'notice', hidden: true });
    btn.addEventListener('click', () => {
      btn.disabled = true;
      post(`${apiBase(inst.id)}/orders/${encodeURIComponent(o.id)}/retry`).then((fresh) => {
        card.closest('[data-tab]')?.lastChild.replaceWith(orderView(fresh, inst));
      }, (e) => {
        btn.disabled = false;
        note.hidden = false;
        note.className = 'notice err';
        note.textContent = e.message;
      });
    });
    card.append(btn, note);
  }
  return card;
}

function orderView(o, inst) {
  const pay = o.payment;
  const facts = h('dl', {},
    row(t('order.buyer'), o.buyerName || '—', o.buyerId ? h('span', { class: 'hint' }, ` (${o.buyerId})`) : null),
    row(t('order.date'), when(o.createdAt)),
    o.paidAt ? row(t('order.paid_at'), when(o.paidAt)) : [],
    o.deliveredAt ? row(t('order.delivered_at'), when(o.deliveredAt)) : [],
    row(t('order.coupon'), o.coupon ? h('code', {}, o.coupon.code) : t('order.no_coupon')),
    row(t('order.payment'), pay ? `${pay.provider || ''} · ${pay.status || ''}${pay.id ? ` · ${pay.id}` : ''}` : t('order.no_payment')));
  const items = table([
    { label: t('order.product'), cell: (i) => [i.productName, i.variationName ? h('span', { class: 'hint' }, ` — ${i.variationName}`) : null] },
    { label: t('order.qty'), cell: (i) => String(i.quantity) },
    { label: t('order.unit'), cell: (i) => money(i.unitCents) },
    { label: t('order.line_total'), cell: (i) => money(i.unitCents * i.quantity) },
  ], o.items || [], { caption: t('order.items') });
  const totals = h('dl', { class: 'totals' },
    row(t('order.subtotal'), money(o.subtotalCents)),
    o.discountCents ? row(t('order.discount'), `− ${money(o.discountCents)}`) : [],
    row(h('strong', {}, t('order.total')), h('strong', { id: 'order-total' }, money(o.totalCents))));
  const timeline = h('ol', { class: 'timeline' }, (o.timeline || []).map((e) => h('li', {},
    h('time', {}, when(e.at)), ' ', orderBadge(e.status), e.detail ? h('span', { class: 'hint' }, ` ${e.detail}`) : null)));
  return h('div', {},
    h('section', { class: 'card', 'data-section': 'order' },
      h('div', { class: 'card-head' }, h('h2', {}, t('order.title', { code: o.code || o.id })), orderBadge(o.status)), facts),
    h('section', { class: 'card', 'data-section': 'items' }, h('h2', {}, t('order.items')), items, totals),
    deliveryCard(o, inst),
    h('section', { class: 'card', 'data-section': 'timeline' }, h('h2', {}, t('order.timeline')),
      o.timeline?.length ? timeline : h('p', { class: 'muted' }, '—')));
}
