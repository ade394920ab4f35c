// The "Clientes" tab: buyers with a search by name or Discord id, and one buyer's page with
// their totals and their orders in this instance. Read-only.
import { t } from '/shared/i18n.js';
import { get } from '/shared/api.js';
import { h, field } from './dom.js';
import { money, when, table, pager, loading, empty, apiBase, appBase, qs, tn } from './ui.js';
import { ordersTable } from './orders.js';

export function renderCustomers(inst, ctx) {
  return ctx.sub ? customerPage(inst, ctx.sub) : customerList(inst, ctx);
}

function customerList(inst, ctx) {
  const api = apiBase(inst.id);
  const base = appBase(inst.id);
  const q0 = new URLSearchParams(location.search).get('q') || '';
  const q = field({ id: 'customer-q', label: t('cust.search'), type: 'search', value: q0, attrs: { autocomplete: 'off', placeholder: t('cust.search_hint') } });
  const search = h('form', { class: 'card filters', role: 'search', novalidate: true },
    h('div', { class: 'row search-row' }, q.wrap, h('button', { type: 'submit' }, t('ui.search'))));
  search.addEventListener('submit', (ev) => {
    ev.preventDefault();
    ctx.navigate(`${base}/customers${qs({ q: q.input.value.trim() })}`);
  });

  const count = h('p', { class: 'hint', id: 'customer-count' });
  const body = h('div', {}, loading());
  let tbody = null;
  const cols = [
    { label: t('cust.name'), cell: (c) => h('a', { href: `${base}/customers/${encodeURIComponent(c.id)}`, 'data-link': true }, c.username || c.discordId) },
    { label: t('cust.discord_id'), cell: (c) => h('code', {}, c.discordId || '') },
    { label: t('cust.orders'), cell: (c) => String(c.orderCount ?? 0) },
    { label: t('cust.spent'), cell: (c) => money(c.totalSpentCents ?? 0) },
    { label: t('cust.last'), cell: (c) => when(c.lastPurchaseAt) },
  ];
  const p = pager(async (cursor) => {
    const r = await get(`${api}/customers${qs({ q: q0, limit: 50, cursor })}`);
    count.textContent = tn('cust.count', r.total ?? r.customers.length);
    return { rows: r.customers, next: r.nextCursor };
  }, (rows, first) => {
    if (first) {
      if (!rows.length) { body.replaceChildren(empty(q0 ? t('cust.none_match') : t('cust.empty'))); tbody = null; return; }
      const tb = table(cols, rows, { caption: t('tab.customers'), rowAttrs: (c) => ({ 'data-id': c.id }) });
      tbody = tb.querySelector('tbody');
      body.replaceChildren(tb);
    } else if (tbody) {
      tbody.append(...table(cols, rows, { rowAttrs: (c) => ({ 'data-id': c.id }) }).querySelector('tbody').children);
    }
  });
  p.reload();
  return h('div', { 'data-tab': 'customers' }, search,
    h('section', { class: 'card' }, h('h2', {}, t('tab.customers')), count, body, p.el));
}

function customerPage(inst, cid) {
  const root = h('div', { 'data-tab': 'customers' },
    h('a', { href: `${appBase(inst.id)}/customers`, 'data-link': true, class: 'back' }, t('cust.back')), loading());
  get(`${apiBase(inst.id)}/customers/${encodeURIComponent(cid)}`).then(({ customer: c, orders }) => {
    const row = (label, value) => [h('dt', {}, label), h('dd', {}, value)];
    root.lastChild.replaceWith(h('div', {},
      h('section', { class: 'card', 'data-section': 'customer' },
        h('h2', {}, c.username || c.discordId),
        h('dl', {},
          row(t('cust.discord_id'), h('code', {}, c.discordId || '')),
          row(t('cust.orders'), String(c.orderCount ?? orders.length)),
          row(t('cust.spent'), money(c.totalSpentCents ?? 0)),
          row(t('cust.first'), when(c.firstPurchaseAt)),
          row(t('cust.last'), when(c.lastPurchaseAt)))),
      h('section', { class: 'card', 'data-section': 'orders' },
        h('h2', {}, t('cust.their_orders')),
        orders.length ? ordersTable(inst, orders, { buyer: false }) : empty(t('order.empty')))));
  }, (e) => root.lastChild.replaceWith(h('p', { class: 'notice err' }, e.status === 404 ? t('cust.not_found') : e.message)));
  return root;
}
