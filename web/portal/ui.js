// Helpers shared by the catalog, stock, coupons, orders and customers tabs: money in integer
// cents, dates for <input type="datetime-local">, responsive tables, "Carregar mais"
// pagination, a confirmation dialog and small form pieces.
import { t, has, locale } from '/shared/i18n.js';
import { h, notice } from './dom.js';

// t() with a count: "<key>_one" when n is 1 and the catalogue has it ("1 pedido").
export const tn = (key, n, vars = {}) => t(n === 1 && has(`${key}_one`) ? `${key}_one` : key, { n, ...vars });

// ---- money ----

// 1990 → "R$ 19,90" (pt-BR) or "R$ 19.90" (en). Integer arithmetic only.
export function money(cents) {
  if (cents === null || cents === undefined || !Number.isFinite(cents)) return '—';
  const en = locale() === 'en';
  const neg = cents < 0;
  const n = Math.abs(Math.trunc(cents));
  const int = String(Math.floor(n / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, en ? ',' : '.');
  const frac = String(n % 100).padStart(2, '0');
  return `${neg ? '-' : ''}R$ ${int}${en ? '.' : ','}${frac}`;
}

// The value for a price input: 1990 → "19,90" (or "19.90" in English).
export function centsToInput(cents) {
  if (cents === null || cents === undefined) return '';
  const frac = String(cents % 100).padStart(2, '0');
  return `${Math.floor(cents / 100)}${locale() === 'en' ? '.' : ','}${frac}`;
}

// What a seller types as reais → integer cents, or null when it is not a price.
// "19,90", "19,9", "19", "1.234,56", "R$ 19,90" and "19.90" are all understood; the string is
// split into digits, never parsed as a float, so 19,90 is exactly 1990 (not 1989.9999).
export function parseMoney(text) {
  let s = String(text ?? '').replace(/R\$/i, '').replace(/[\s\u00a0]/g, '');
  if (!s) return null;
  let int, frac = '';
  if (s.includes(',')) {
    // pt-BR: dots group thousands, the one comma is the decimal mark
    const parts = s.split(',');
    if (parts.length !== 2) return null;
    [int, frac] = parts;
    if (!/^\d{1,3}(\.\d{3})*$|^\d+$/.test(int)) return null;
    int = int.replace(/\./g, '');
  } else if (/^\d+\.\d{1,2}$/.test(s)) {
    [int, frac] = s.split('.'); // "19.90": a decimal point
  } else if (/^\d{1,3}(\.\d{3})+$|^\d+$/.test(s)) {
    int = s.replace(/\./g, ''); // "1.234": thousands
  } else {
    return null;
  }
  if (!/^\d*$/.test(frac) || frac.length > 2 || !/^\d+$/.test(int)) return null;
  const cents = Number(int) * 100 + Number(frac.padEnd(2, '0') || '0');
  return Number.isSafeInteger(cents) ? cents : null;
}

// ---- dates ----

export function when(ms) {
  if (!ms) return '—';
  return new Date(ms).toLocaleString(locale(), { dateStyle: 'short', timeStyle: 'short' });
}

const pad = (n) => String(n).padStart(2, '0');

// ms → "2026-11-22T14:30" in local time, for datetime-local inputs.
export function toLocalInput(ms) {
  if (!ms) return '';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// "2026-11-22T14:30" (local) → ms, or null when empty or invalid.
export function fromLocalInput(v) {
  if (!v) return null;
  const ms = new Date(v).getTime();
  return Number.isFinite(ms) ? ms : null;
}

// "2026-11-22" (a date input) → the first or last millisecond of that local day.
export function dayStart(v) { return v ? new Date(`${v}T00:00:00`).getTime() : null; }
export function dayEnd(v) { return v ? new Date(`${v}T23:59:59.999`).getTime() : null; }

// ---- views ----

// A table that turns into stacked cards on a phone: each cell carries its column name in
// data-label, which the narrow layout prints before the value (CSS, no inline styles).
// cols: [{label, cell: (row) => node|string, cls?}]
export function table(cols, rows, { caption, rowAttrs } = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'data' },
      caption ? h('caption', { class: 'sr-only' }, caption) : null,
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', class: c.cls || null }, c.label)))),
      h('tbody', {}, rows.map((r) => h('tr', rowAttrs ? rowAttrs(r) : {},
        cols.map((c) => h('td', { 'data-label': c.label, class: c.cls || null }, c.cell(r))))))));
}

// A list that pages with a cursor: fetchPage(cursor) → {rows, next}; render(rows) appends.
// Returns {el, reload}; the "Carregar mais" button shows while there is a next page.
export function pager(fetchPage, renderRows) {
  const more = h('button', { type: 'button', class: 'secondary', hidden: true, 'data-action': 'more' }, t('ui.more'));
  const note = notice();
  const el = h('div', { class: 'actions pager' }, more, note);
  let cursor = null, token = 0;
  async function load(first) {
    const mine = ++token;
    note.clear();
    more.disabled = true;
    try {
      const { rows, next } = await fetchPage(first ? null : cursor);
      if (mine !== token) return; // a newer reload started meanwhile
      cursor = next || null;
      renderRows(rows, first);
      more.hidden = !cursor;
    } catch (e) {
      if (mine !== token) return;
      if (first) renderRows([], true);
      note.show(e.message);
    } finally {
      if (mine === token) more.disabled = false;
    }
  }
  more.addEventListener('click', () => load(false));
  return { el, reload: () => load(true) };
}

// A modal question; resolves true when confirmed. Uses <dialog> so focus is trapped and Esc
// cancels.
export function confirmDialog(message, { ok = t('ui.confirm'), danger = false, detail } = {}) {
  return new Promise((resolve) => {
    const yes = h('button', { type: 'submit', value: 'ok', class: danger ? 'danger' : '', 'data-action': 'confirm' }, ok);
    const no = h('button', { type: 'submit', value: 'cancel', class: 'secondary', 'data-action': 'cancel' }, t('ui.cancel'));
    const dlg = h('dialog', { class: 'confirm', 'aria-label': message },
      h('form', { method: 'dialog' },
        h('p', { class: 'q' }, message),
        detail ? h('p', { class: 'hint' }, detail) : null,
        h('div', { class: 'actions' }, no, yes)));
    dlg.addEventListener('close', () => { dlg.remove(); resolve(dlg.returnValue === 'ok'); });
    document.body.append(dlg);
    dlg.showModal();
    no.focus();
  });
}

// A labelled checkbox, {wrap, input}.
export function checkbox({ id, label, checked = false }) {
  const input = h('input', { id, name: id, type: 'checkbox', class: 'check', checked });
  // setError: the API may name a checkbox's field; there is no message slot, so focus is enough.
  return { wrap: h('div', { class: 'field check-field' }, input, h('label', { for: id }, label)), input, setError: () => {} };
}

// A <textarea> field with the same {wrap, input, setError} shape as dom.js's field().
export function textArea({ id, label, value = '', hint, attrs = {} }) {
  const input = h('textarea', { id, name: id, ...attrs });
  input.value = value;
  const err = h('p', { class: 'field-error', id: `${id}-error`, hidden: true, role: 'alert' });
  input.setAttribute('aria-describedby', `${id}-error${hint ? ` ${id}-hint` : ''}`);
  const wrap = h('div', { class: 'field' }, h('label', { for: id }, label), input,
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null, err);
  const setError = (msg) => {
    err.textContent = msg || '';
    err.hidden = !msg;
    if (msg) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
  };
  input.addEventListener('input', () => setError(''));
  return { wrap, input, setError };
}

// Options for a <select>: [[value, label], ...], with `selected` chosen.
export function options(select, list, selected) {
  select.replaceChildren(...list.map(([v, l]) => h('option', { value: v, selected: v === selected }, l)));
  return select;
}

export const yesNo = (b, yes, no) => h('span', { class: `badge ${b ? 'ok' : 'off'}` }, b ? yes : no);

export const loading = () => h('p', { class: 'spinner' }, t('common.loading'));
export const empty = (text) => h('p', { class: 'empty' }, text);

// "/api/instances/<id>" and "/dashboard/instances/<id>" for an instance.
export const apiBase = (id) => `/api/instances/${encodeURIComponent(id)}`;
export const appBase = (id) => `/dashboard/instances/${encodeURIComponent(id)}`;

export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

// The order status as a badge, shared by orders and customers.
const ORDER_KIND = {
  pending: 'warn', paid: 'ok', delivered: 'ok', waiting_stock: 'warn', failed: 'err',
  expired: 'off', cancelled: 'off', refunded: 'susp', charged_back: 'err',
};
export const ORDER_STATUSES = Object.keys(ORDER_KIND);
export function orderBadge(status) {
  return h('span', { class: `badge ${ORDER_KIND[status] || 'off'}`, 'data-status': status },
    ORDER_KIND[status] ? t(`order.st.${status}`) : status);
}
