// "Carteira": the seller's balance and the ledger behind it (sales, platform fees, refunds),
// newest first with "Carregar mais". Read-only; the balance is what the server sums.
import { t } from '/shared/i18n.js';
import { get } from '/shared/api.js';
import { h } from './dom.js';
import { money, when, table, pager, loading, empty, qs, appBase } from './ui.js';

const TYPES = ['sale', 'fee', 'refunded', 'charged_back', 'fee_reversal'];

function typeLabel(type) {
  return TYPES.includes(type) ? t(`wallet.type.${type}`) : type;
}

function entriesTable(rows) {
  return table([
    { label: t('wallet.date'), cell: (e) => when(e.createdAt) },
    { label: t('wallet.type'), cell: (e) => typeLabel(e.type) },
    { label: t('wallet.order'), cell: (e) => (e.orderId && e.instanceId
      ? h('a', { href: `${appBase(e.instanceId)}/orders/${encodeURIComponent(e.orderId)}`, 'data-link': true }, h('code', {}, e.orderId.slice(0, 8)))
      : '—') },
    { label: t('wallet.amount'), cell: (e) => h('span', { class: e.amountCents < 0 ? 'err-text' : '' }, money(e.amountCents)) },
  ], rows, { caption: t('wallet.entries'), rowAttrs: (e) => ({ 'data-id': e.id }) });
}

export function renderWallet(root) {
  const balance = h('p', { class: 'balance', id: 'wallet-balance' }, '…');
  const body = h('div', {}, loading());
  let tbody = null;
  const p = pager(async (cursor) => {
    const r = await get(`/api/wallet${qs({ limit: 50, cursor })}`);
    balance.textContent = money(r.balanceCents);
    return { rows: r.entries, next: r.nextCursor };
  }, (rows, first) => {
    if (first) {
      if (!rows.length) { body.replaceChildren(empty(t('wallet.empty'))); tbody = null; return; }
      const tb = entriesTable(rows);
      tbody = tb.querySelector('tbody');
      body.replaceChildren(tb);
    } else if (tbody) {
      tbody.append(...entriesTable(rows).querySelector('tbody').children);
    }
  });
  p.reload();
  root.replaceChildren(
    h('a', { href: '/dashboard', 'data-link': true, class: 'back' }, t('wallet.back')),
    h('h1', {}, t('wallet.title')),
    h('p', { class: 'muted' }, t('wallet.intro')),
    h('section', { class: 'card', 'data-view': 'wallet' },
      h('h2', {}, t('wallet.balance')), balance),
    h('section', { class: 'card' }, h('h2', {}, t('wallet.entries')), body, p.el));
  return () => {};
}
