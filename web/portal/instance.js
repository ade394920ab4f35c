// One instance: header with name and status, the tabs, and the tab's content. The status is
// refreshed every 5 s; the overview re-renders with it, forms are left alone.
import { t } from '/shared/i18n.js';
import { get } from '/shared/api.js';
import { h, notice } from './dom.js';
import { statusBadge } from './status.js';
import { renderOverview } from './overview.js';
import { renderSettings } from './settings.js';
import { renderProducts } from './products.js';
import { renderStock } from './stock.js';
import { renderCoupons } from './coupons.js';
import { renderOrders } from './orders.js';
import { renderCustomers } from './customers.js';

const REFRESH_MS = 5000;
const TABS = ['overview', 'settings', 'products', 'stock', 'coupons', 'orders', 'customers'];

// The tabs drawn once from the first instance fetch; `sub` is the URL's next part (a product,
// coupon, order or customer id, or "new").
const VIEWS = {
  settings: renderSettings, products: renderProducts, stock: renderStock,
  coupons: renderCoupons, orders: renderOrders, customers: renderCustomers,
};

export function renderInstance(root, id, tab, { navigate, sub = null }) {
  if (!TABS.includes(tab)) tab = 'overview';
  const base = `/dashboard/instances/${encodeURIComponent(id)}`;
  const title = h('h1', {}, t('common.loading'));
  const badge = h('span', {});
  const body = h('div', { class: 'tab-body' });
  const note = notice();
  const tabs = h('nav', { class: 'tabs', 'aria-label': t('tab.nav') },
    TABS.map((k) => h('a', {
      href: k === 'overview' ? base : `${base}/${k}`, 'data-link': true, 'data-tab': k,
      'aria-current': k === tab ? 'page' : false,
    }, t(`tab.${k}`))));
  root.replaceChildren(
    h('a', { href: '/dashboard', 'data-link': true }, t('dash.back')),
    h('div', { class: 'inst-head' }, title, badge),
    tabs, note, body);

  let stopped = false, timer = null, inst = null, first = true;
  const cleanups = [];
  const ctx = {
    busy: false,
    sub,
    base,
    // A view's timers and pending work, stopped when the page changes.
    onCleanup(fn) { cleanups.push(fn); },
    get inst() { return inst; },
    // Every view that gets a fresh instance from the API passes it here.
    update(next) {
      inst = next;
      title.textContent = inst.name;
      document.title = `Astra — ${inst.name}`;
      badge.replaceChildren(statusBadge(inst));
      if (tab === 'overview') body.replaceChildren(renderOverview(inst, ctx));
    },
    navigate,
  };

  async function load() {
    try {
      const next = await get(`/api/instances/${encodeURIComponent(id)}`);
      if (stopped) return;
      note.clear();
      if (first) {
        first = false;
        inst = next;
        if (VIEWS[tab]) body.replaceChildren(VIEWS[tab](next, ctx));
      }
      if (!ctx.busy || first) ctx.update(next);
    } catch (e) {
      if (stopped) return;
      if (e.status === 404) {
        stopped = true;
        title.textContent = t('common.not_found');
        tabs.hidden = true;
        body.replaceChildren(h('p', {}, h('a', { href: '/dashboard', 'data-link': true }, t('common.back_home'))));
        return;
      }
      note.show(e.message);
    }
    if (!stopped) timer = setTimeout(load, REFRESH_MS);
  }
  body.append(h('p', { class: 'spinner' }, t('common.loading')));
  load();
  return () => { stopped = true; clearTimeout(timer); cleanups.forEach((fn) => fn()); };
}
